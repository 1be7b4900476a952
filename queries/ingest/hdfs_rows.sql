-- name: hdfs_rows
-- description: One block of an HDFS NameNode audit log (`bulk_lines`: line, text, size; see forensics/ingest/bulk_text.py) decoded line by line as forensics/ingest/hdfs.py decodes it, where the line has the plain shape the NameNode writes (the keys allowed, ugi, ip, cmd, src, dst, perm in this order, then proto and callerContext if any, each once); `fast` is false for a line the line parser must read.
CREATE OR REPLACE TEMP TABLE hdfs_rows AS
WITH prefixed AS (
    SELECT line, text, size,
        -- hdfs.py's _LINE without its last group, (?P<fields>.*)$ (tests/test_ingest_bulk.py checks it)
        regexp_extract(text, '^(?P<ts>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2},\d{3})\s+\w+\s+(?:\[[^\]]*\]\s+)?(?:\S*\.)?(?:FSNamesystem\.audit|audit):\s', 0) AS prefix
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
shaped AS (
    SELECT line, prefix, parts, unspaced,
        len(parts) - CASE WHEN parts[-1] = '' THEN 1 ELSE 0 END AS n  -- a trailing tab adds nothing
    FROM parted
),
fields AS (
    SELECT line,
        replace(left(prefix, 23), 'T', ' ') AS ts,
        unspaced AND starts_with(parts[1], 'allowed=') AND starts_with(parts[2], 'ugi=')
            AND starts_with(parts[3], 'ip=') AND starts_with(parts[4], 'cmd=')
            AND starts_with(parts[5], 'src=') AND starts_with(parts[6], 'dst=')
            AND starts_with(parts[7], 'perm=')
            AND (n = 7
                OR (n = 8 AND (starts_with(parts[8], 'proto=') OR starts_with(parts[8], 'callerContext=')))
                OR (n = 9 AND starts_with(parts[8], 'proto=') AND starts_with(parts[9], 'callerContext=')))
            AS plain,
        substr(parts[1], 9) AS allowed,
        substr(parts[2], 5) AS ugi,
        substr(parts[3], 4) AS ip,
        substr(parts[4], 5) AS cmd,
        substr(parts[5], 5) AS src,
        substr(parts[6], 5) AS dst,
        substr(parts[7], 6) AS perm,
        CASE WHEN n >= 8 AND starts_with(parts[n], 'callerContext=') THEN substr(parts[n], 15) END AS caller
    FROM shaped
),
decoded AS (
    SELECT *,
        CASE WHEN regexp_full_match(ts, '[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9],[0-9]{3}')
            THEN try_strptime(ts, '%Y-%m-%d %H:%M:%S,%f') END AS local_time
    FROM fields
)
SELECT line, local_time, allowed, ugi, ip, cmd, src, dst, perm, caller,
    -- a user that names no principal (`@x`, `/x`: nothing before '/' or '@') is the line parser's to quarantine
    coalesce(plain AND ugi <> '' AND NOT regexp_matches(ugi, '^[/@ ]') AND cmd <> '' AND lower(allowed) IN ('true', 'false')
        AND local_time IS NOT NULL, false) AS fast
FROM decoded
