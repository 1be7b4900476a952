-- name: ranger_log4j_rows
-- description: One block of a Ranger audit log whose lines carry a log4j prefix before the JSON (`bulk_lines`: line, text, size; see forensics/ingest/bulk_text.py), as `ranger_rows` (the same columns, with each row's line): the JSON after the prefix that forensics/ingest/layouts.py peels, decoded by the same table macro as a bare line (ingest/ranger_typed); `fast` is false for a line the line parser must read.
CREATE OR REPLACE TEMP TABLE ranger_rows AS
WITH prefixed AS (
    SELECT line, text, size,
        -- layouts.py's LOG4J_JSON, its look-ahead for the brace made a match of it
        regexp_extract(text, '^(?:\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d{3})?|\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})\s+(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s.*?(?: - |: )\{', 0) AS prefix
    FROM bulk_lines
),
bodies AS (
    SELECT line,
        -- the JSON runs to the line's end (a tab, which JSON strings cannot hold raw, leaves
        -- the line to the line parser)
        CASE WHEN prefix <> '' AND length(prefix) <= size AND NOT contains(text, chr(9))
            THEN try(json(substr(text, length(prefix), size - length(prefix) + 1)))
        END AS body
    FROM prefixed
),
raw AS (
    SELECT line,
        body -> '$.repoType' AS repoType,
        body -> '$.reqUser' AS reqUser,
        body -> '$.evtTime' AS evtTime,
        body -> '$.access' AS access,
        body -> '$.resource' AS resource,
        body -> '$.resType' AS resType,
        body -> '$.action' AS action,
        body -> '$.result' AS result,
        body -> '$.reqData' AS reqData,
        body -> '$.id' AS id,
        body -> '$.policy' AS policy,
        body -> '$.cliIP' AS cliIP,
        body -> '$.sess' AS sess,
        body -> '$.event_count' AS event_count,
        body -> '$.agentHost' AS agentHost,
        body -> '$.agent' AS agent,
        body -> '$.seq_num' AS seq_num
    FROM bodies
)
SELECT * FROM ranger_typed('raw')
