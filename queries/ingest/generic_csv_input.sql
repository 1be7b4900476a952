-- name: generic_csv_input
-- description: One block of a generic CSV log (`bulk_lines`: line, text, size, text null on a line that is not one whole plain record; forensics/ingest/bulk_csv.py) as the generic_input columns generic_rows decodes: each line with exactly the header's field count split into its fields as Python's csv.reader splits it (on commas when it has no quote; with quotes only when every field is unquoted without a quote or wholly quoted with "" for a quote), the mapped fields taken by their position (0: not mapped, null). Times: whole epoch numbers of at most 15 digits, or ISO-8601 of one shape (date, T or space, hh:mm:ss, up to 6 decimals, Z or no zone); any other text leaves the time null and the line to the row parser, as an event_count that is not whole digits (0 here, never fast). A line longer than csv's default field limit (128 KiB) is left to the parser too.
-- param: fields int  how many fields the header has
-- param: time int  position of the time column (1-based)
-- param: principal int  position of the principal column, 0 when not mapped (as every field below)
-- param: object int  position of the object column
-- param: database int  position of the database column
-- param: table int  position of the table column
-- param: path int  position of the path column
-- param: columns int  position of the columns column
-- param: action int  position of the action column
-- param: op int  position of the op column
-- param: result int  position of the result column
-- param: engine int  position of the engine column
-- param: client_ip int  position of the client_ip column
-- param: session_id int  position of the session_id column
-- param: query_id int  position of the query_id column
-- param: query_text int  position of the query_text column
-- param: event_id int  position of the event_id column
-- param: event_count int  position of the event_count column
-- param: time_kind text  epoch_ms, epoch_s or iso (the case's time_format)
-- param: source_file text  the file, relative to the case
CREATE OR REPLACE MACRO generic_csv_unquoted(v) AS
    CASE WHEN starts_with(v, '"') THEN replace(v[2:-2], '""', '"') ELSE v END;
WITH bodies AS (
    SELECT line, left(text, size) AS body
    FROM bulk_lines
    WHERE text IS NOT NULL AND size <= 131072 AND NOT regexp_full_match(left(text, size), '[ \t]*')
),
split AS MATERIALIZED (  -- split once, not once a field
    SELECT line,
        CASE
            WHEN NOT contains(body, '"') THEN string_split(body, ',')
            -- every field plain or wholly quoted: between the line's quotes, the pieces outside
            -- quoted fields are the odd ones (an escaped "" leaves an empty one between two
            -- inside ones); their commas part the fields, written chr(1) (never in a plain line)
            WHEN regexp_full_match(body, '("([^"]|"")*"|[^",]*)(,("([^"]|"")*"|[^",]*))*')
                THEN list_transform(string_split(array_to_string(list_transform(string_split(body, '"'),
                    lambda piece, i: CASE WHEN i % 2 = 1 THEN replace(piece, ',', chr(1)) ELSE piece END), '"'), chr(1)),
                    lambda v: generic_csv_unquoted(v))
        END AS f
    FROM bodies
),
fields AS (
    SELECT line, f, f[$time] AS t, f[$event_count] AS ec FROM split WHERE len(f) = $fields
)
SELECT line AS "row",
    CASE WHEN $time_kind = 'iso' AND regexp_full_match(t, '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?Z?')
        THEN try_cast(rtrim(t, 'Z') AS TIMESTAMP) END AS time_ts,
    CASE WHEN $time_kind <> 'iso' AND regexp_full_match(t, '[0-9]{1,15}') THEN CAST(t AS BIGINT) END AS time_epoch,
    f[$principal] AS principal, f[$object] AS "object", f[$database] AS "database", f[$table] AS "table",
    f[$path] AS path, f[$columns] AS "columns", f[$action] AS action, f[$op] AS op, f[$result] AS result,
    f[$engine] AS engine, f[$client_ip] AS client_ip, f[$session_id] AS session_id,
    f[$query_id] AS query_id, f[$query_text] AS query_text, f[$event_id] AS event_id,
    CASE WHEN ec IS NULL OR ec = '' THEN NULL WHEN regexp_full_match(ec, '[0-9]{1,15}') THEN CAST(ec AS BIGINT) ELSE 0 END AS event_count,
    $source_file AS source_file,
    CASE WHEN $time_kind <> 'iso' THEN $time_kind WHEN ends_with(t, 'Z') THEN 'utc' ELSE 'local' END AS time_kind,
    CAST(NULL AS BIGINT) AS offset_ms,
    false AS object_plain,
    false AS principal_plain
FROM fields
