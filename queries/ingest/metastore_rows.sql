-- name: metastore_rows
-- description: One block of a Hive metastore audit log (`bulk_lines`: line, text, size; see forensics/ingest/bulk_text.py) decoded line by line as forensics/ingest/metastore.py decodes it, where the line has the plain shape the metastore writes (the keys ugi, ip, cmd in this order, each once); `fast` is false for a line the line parser must read.
CREATE OR REPLACE TEMP TABLE metastore_rows AS
WITH prefixed AS (
    SELECT line, text, size,
        -- metastore.py's _LINE without its last group, (?P<fields>.*)$ (tests/test_ingest_bulk.py checks it)
        regexp_extract(text, '^(?P<ts>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d{3})?|\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})\s+\w+\s+(?:\[[^\]]*\]:?\s+)?(?:\S*\.)?HiveMetaStore\.audit(?::|\s+\([^)]*\)\)\s+-)\s', 0) AS prefix
    FROM bulk_lines
),
split AS (
    SELECT line, prefix,
        -- the fields end where the line ends, before its newline and carriage returns
        CASE WHEN prefix <> '' AND length(prefix) <= size
            THEN substr(text, length(prefix) + 1, size - length(prefix)) END AS body
    FROM prefixed
),
parted AS (
    SELECT line, prefix, string_split(body, chr(9)) AS parts,
        -- no value starts or ends with a space, so none needs the line parser's strip()
        NOT (contains(body, '= ') OR contains(body, ' ' || chr(9)) OR ends_with(body, ' ')) AS unspaced
    FROM split
),
fields AS (
    SELECT line,
        -- the time is the prefix's first 17 (yy/MM/dd), 23 (with milliseconds) or 19 characters
        CASE WHEN substr(prefix, 3, 1) = '/' THEN 17
            WHEN substr(prefix, 20, 1) IN (',', '.') THEN 23
            ELSE 19
        END AS ts_size,
        left(prefix, ts_size) AS ts,
        unspaced
            AND len(parts) - CASE WHEN parts[-1] = '' THEN 1 ELSE 0 END = 3  -- a trailing tab adds nothing
            AND starts_with(parts[1], 'ugi=') AND starts_with(parts[2], 'ip=')
            AND starts_with(parts[3], 'cmd=') AS plain,
        substr(parts[1], 5) AS ugi,
        substr(parts[2], 4) AS ip,
        substr(parts[3], 5) AS cmd
    FROM parted
),
timed AS (
    SELECT *,
        CASE ts_size
            WHEN 17 THEN CAST(CASE WHEN CAST(left(ts, 2) AS INTEGER) <= 68 THEN 2000 ELSE 1900 END + CAST(left(ts, 2) AS INTEGER) AS VARCHAR)
                || '-' || substr(ts, 4, 2) || '-' || substr(ts, 7, 2) || ' ' || substr(ts, 10, 8)
            WHEN 19 THEN replace(ts, 'T', ' ')
            ELSE replace(left(ts, 19), 'T', ' ') || '.' || right(ts, 3)
        END AS local_text,
        -- metastore.py's _CMD
        CASE WHEN plain THEN regexp_extract(cmd, '^(?:source:\S+\s+)?(?P<name>[A-Za-z_]+)\s*:?\s*(?P<args>.*)$', ['name', 'args']) END AS call
    FROM fields
),
decoded AS (
    SELECT line, plain, ugi, ip, call.name AS name,
        CASE WHEN regexp_full_match(local_text, '[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{3})?')
            THEN CASE ts_size WHEN 23 THEN try_strptime(local_text, '%Y-%m-%d %H:%M:%S.%f')
                ELSE try_strptime(local_text, '%Y-%m-%d %H:%M:%S') END
        END AS local_time,
        -- metastore.py's _DB_TBL, _TABLE_OBJECT and _QUALIFIED_TBL, tried in this order
        regexp_extract(call.args, '\bdb=(?P<db>[^\s]+)\s+tbl=(?P<tbl>[^\s]+)', ['db', 'tbl']) AS db_tbl,
        regexp_extract(call.args, '\btableName:(?P<tbl>[^,\s)]+),\s*dbName:(?P<db>[^,\s)]+)', ['tbl', 'db']) AS table_object,
        string_split(regexp_extract(call.args, '\btbl=(?P<name>[^\s]+)', 1), '.') AS qualified
    FROM timed
)
SELECT line, local_time, ugi, ip, name,
    CASE
        WHEN db_tbl.db <> '' THEN lower(trim(db_tbl.db, '`')) || '.' || lower(trim(db_tbl.tbl, '`'))
        WHEN table_object.db <> '' THEN lower(trim(table_object.db, '`')) || '.' || lower(trim(table_object.tbl, '`'))
        WHEN len(qualified) >= 2 THEN lower(trim(qualified[-2], '`')) || '.' || lower(trim(qualified[-1], '`'))
    END AS object,
    -- a user that names no principal (`@x`, `/x`: nothing before '/' or '@') is the line parser's to quarantine
    coalesce(plain AND ugi <> '' AND NOT regexp_matches(ugi, '^[/@ ]') AND name <> '' AND local_time IS NOT NULL, false) AS fast
FROM decoded
