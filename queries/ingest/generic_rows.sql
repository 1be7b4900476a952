-- name: generic_rows
-- description: The rows of generic Parquet logs (`generic_input`: DuckDB's scan of the mapped columns under their event field names, typed by forensics/ingest/bulk_generic.py, with their 1-based row number, file, time kind and UTC offset), as a view: each field decoded as forensics/ingest/generic.py decodes it, and `fast` set where that decoding is certain to be the line parser's (plain text without surrounding whitespace, ASCII names and verbs, known results, times in range); every other row is left to the parser, which parses or quarantines it with its own reason.
-- The time kind says how the time column is written: local (a timestamp without zone, read in
-- the case timezone), utc (a timestamp with a zone), epoch_ms or epoch_s (whole numbers).
CREATE OR REPLACE MACRO generic_plain(v) AS
    -- Python's str.strip() would change nothing: no whitespace (as str.isspace) at either end.
    -- First and last characters both printable ASCII other than the space ('!' to '~',
    -- compared as bytes) settle nearly every value without a pattern: CASE evaluates the
    -- patterns only for the rows that test leaves (an OR evaluated both for every row).
    -- Two anchored patterns: the engine matches each at its end of the text only (one
    -- pattern with both alternatives searched the whole text).
    CASE WHEN v IS NULL THEN true
        WHEN v[1] BETWEEN '!' AND '~' AND v[-1] BETWEEN '!' AND '~' THEN true
        ELSE NOT (regexp_matches(v, '^[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]') OR regexp_matches(v, '[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]$')) END;
CREATE OR REPLACE MACRO generic_ascii(v) AS v IS NULL OR regexp_full_match(v, '[\x20-\x7e]*');
CREATE OR REPLACE TEMP VIEW generic_rows AS
WITH typed AS (
    SELECT "row", source_file, time_kind, offset_ms, object_plain, principal_plain,
        CASE time_kind
            WHEN 'epoch_ms' THEN epoch_ms(time_epoch)
            WHEN 'epoch_s' THEN epoch_ms(time_epoch * 1000)
            ELSE time_ts
        END AS moment,
        CASE WHEN time_kind IN ('epoch_ms', 'epoch_s')
            THEN time_epoch >= 0 AND time_epoch < CASE time_kind WHEN 'epoch_ms' THEN 253402300800000 ELSE 253402300800 END
            ELSE time_ts >= TIMESTAMP '1970-01-02' AND time_ts < TIMESTAMP '9999-12-30'
        END AS time_ok,
        nullif(principal, '') AS principal, nullif("object", '') AS "object",
        nullif("database", '') AS "database", nullif("table", '') AS "table",
        nullif(path, '') AS path, nullif("columns", '') AS "columns", nullif(action, '') AS action,
        lower(nullif(op, '')) AS op, lower(nullif(result, '')) AS result,
        nullif(engine, '') AS engine, nullif(client_ip, '') AS client_ip,
        nullif(session_id, '') AS session_id, nullif(query_id, '') AS query_id,
        nullif(query_text, '') AS query_text, nullif(event_id, '') AS event_id, event_count,
        generic_plain(principal) AND generic_plain("object") AND generic_plain("database")
            AND generic_plain("table") AND generic_plain(path) AND generic_plain("columns")
            AND generic_plain(action) AND generic_plain(op) AND generic_plain(result)
            AND generic_plain(engine) AND generic_plain(client_ip) AND generic_plain(session_id)
            AND generic_plain(query_id) AND generic_plain(query_text) AND generic_plain(event_id)
            AND generic_ascii(principal) AND generic_ascii(action) AND generic_ascii(op)
            AND generic_ascii(result) AND generic_ascii(engine) AS plain,
        -- Every field of the row already its event's value, as written (no empty text, a
        -- lower-case engine, an op and a result of the events' own words, a count, no
        -- columns), on the raw values: generic_slow_rows tells a file of such rows, whose
        -- events generic_plain_events reads straight from its columns.
        coalesce((generic_input."object" IS NULL OR generic_input."object" <> '')
            AND (generic_input.path IS NULL OR generic_input.path <> '')
            AND generic_input."columns" IS NULL
            AND (generic_input.client_ip IS NULL OR generic_input.client_ip <> '')
            AND (generic_input.session_id IS NULL OR generic_input.session_id <> '')
            AND (generic_input.query_id IS NULL OR generic_input.query_id <> '')
            AND (generic_input.query_text IS NULL OR generic_input.query_text <> '')
            AND generic_input.event_id <> '' AND generic_input.action <> ''
            AND generic_input.engine <> '' AND generic_input.engine = lower(generic_input.engine)
            AND generic_input.op IN ('read', 'write', 'metadata', 'other')
            AND generic_input.result IN ('allowed', 'denied')
            AND generic_input.event_count IS NOT NULL, false) AS as_is
    FROM generic_input
)
SELECT *,
    CASE
        WHEN "object" IS NOT NULL THEN lower(regexp_extract("object", '[A-Za-z0-9_]+\.[A-Za-z0-9_]+$'))
        WHEN "database" IS NOT NULL AND "table" IS NOT NULL THEN lower("database" || '.' || "table")
    END AS object_name,
    plain AND time_ok AND moment IS NOT NULL AND principal IS NOT NULL
        AND CASE
            WHEN "object" IS NOT NULL THEN regexp_full_match("object", '[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+')
            WHEN "database" IS NOT NULL AND "table" IS NOT NULL
                THEN regexp_full_match("database", '[A-Za-z0-9_]+') AND regexp_full_match("table", '[A-Za-z0-9_]+')
            ELSE path IS NOT NULL
        END
        AND ("columns" IS NULL OR regexp_full_match("columns", '[A-Za-z0-9_ ,;]*'))
        AND (op IS NULL OR op IN ('read', 'write', 'metadata', 'other'))
        AND (result IS NULL OR result IN ('allowed', 'allow', '1', 'true', 'success', 'succeeded', 'ok', 'granted',
            'denied', 'deny', '0', 'false', 'failure', 'failed', 'error', 'rejected'))
        AND (event_count IS NULL OR (event_count >= 1 AND event_count <= 4611686018427387904)) AS fast
FROM typed
