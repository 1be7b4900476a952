-- name: ranger_log4j_rows
-- description: One block of a Ranger audit log whose lines carry a log4j prefix before the JSON (`bulk_lines`: line, text, size; see forensics/ingest/bulk_text.py), as `ranger_rows` (the same columns, with each row's line): the JSON after the prefix that forensics/ingest/layouts.py peels, decoded from `typed` on exactly as ranger_rows.sql decodes a bare line (tests/test_ingest_bulk.py checks the text is the same); `fast` is false for a line the line parser must read.
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
),
typed AS (
    SELECT line,
        -- integers: a JSON number of digits only; strings: a JSON string (or null/absent)
        CASE WHEN regexp_full_match(repoType::VARCHAR, '-?[0-9]{1,18}') THEN repoType::VARCHAR::BIGINT END AS repo_type,
        CASE WHEN regexp_full_match(result::VARCHAR, '-?[0-9]{1,18}') THEN result::VARCHAR::BIGINT END AS result,
        CASE WHEN regexp_full_match(policy::VARCHAR, '-?[0-9]{1,18}') THEN policy::VARCHAR::BIGINT END AS policy,
        policy IS NULL OR policy::VARCHAR = 'null' OR regexp_full_match(policy::VARCHAR, '-?[0-9]{1,18}') AS policy_ok,
        CASE WHEN regexp_full_match(event_count::VARCHAR, '-?[0-9]{1,18}') THEN event_count::VARCHAR::BIGINT END AS event_count,
        event_count IS NULL OR event_count::VARCHAR = 'null' OR regexp_full_match(event_count::VARCHAR, '-?[0-9]{1,18}') AS count_ok,
        list_bool_and([
            x IS NULL OR x::VARCHAR = 'null' OR starts_with(x::VARCHAR, '"')
            FOR x IN [reqUser, evtTime, access, resource, resType, action, reqData, id, cliIP, sess]
        ]) AS strings_ok,
        reqUser ->> '$' AS req_user,
        evtTime ->> '$' AS evt_time,
        access ->> '$' AS access,
        resource ->> '$' AS resource,
        resType ->> '$' AS res_type,
        action ->> '$' AS action,
        reqData ->> '$' AS req_data,
        id ->> '$' AS id,
        cliIP ->> '$' AS cli_ip,
        sess ->> '$' AS sess,
        -- which plugin process wrote the line, kept for the coverage ledger (ingest/ranger_agents)
        agentHost ->> '$' AS agent_host,
        agent ->> '$' AS agent,
        CASE WHEN regexp_full_match(seq_num::VARCHAR, '[0-9]{1,18}') THEN seq_num::VARCHAR::BIGINT END AS seq_num
    FROM raw
),
checked AS (
    SELECT *,
        try_strptime(evt_time, '%Y-%m-%d %H:%M:%S.%f') AS local_time,
        repo_type IS NOT NULL AND policy_ok AND count_ok AND strings_ok
            AND (repo_type NOT IN (1, 3) OR (
                regexp_full_match(req_user, '[!-~]+')
                AND regexp_full_match(evt_time, '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,6}')
                AND result IN (0, 1)
                AND id <> ''
                AND regexp_full_match(coalesce(access, '') || coalesce(action, '') || coalesce(res_type, ''), '[ -~]*')
                AND (repo_type = 1 OR regexp_full_match(coalesce(resource, ''), '[!-~]*'))
                AND (repo_type = 1 OR regexp_full_match(left(coalesce(req_data, ''), 64), '[\t\n\f\r -~]*'))
            )) AS plain
    FROM typed
)
SELECT * EXCLUDE (plain),
    coalesce(plain AND (repo_type NOT IN (1, 3) OR local_time IS NOT NULL), false) AS fast
FROM checked
