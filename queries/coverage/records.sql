-- name: records
-- description: Every parsed event with the log source that wrote it: the Ranger plugin's host (`agentHost`) for Ranger events that carry one, else the file set of its file (`coverage_files`); the Ranger plugin process (`handler`: the `<uuid>` of an `<uuid>-<n>` event id, one per RangerDefaultAuditHandler instance) and `seq_num` where known.
CREATE OR REPLACE TEMP TABLE coverage_records AS
WITH agents AS (
    SELECT source_file, id, any_value(agent_host) AS agent_host, any_value(agent) AS agent,
        any_value(seq_num) AS seq_num
    FROM (SELECT * FROM coverage_agents UNION ALL SELECT * FROM ranger_agents)
    GROUP BY source_file, id
)
SELECT r.source_format,
    -- a host name as Ranger writes it; anything else in agentHost names no source
    CASE WHEN regexp_full_match(coalesce(a.agent_host, ''), '[A-Za-z0-9][A-Za-z0-9._:-]{0,254}')
        THEN a.agent_host ELSE f.file_set END AS source,
    CAST(r.time AS TIMESTAMP) AS time,
    r.event_count,
    r.engine,
    r.op,
    r.object,
    r.policy_id,
    r.source_file,
    coalesce(a.agent, '') AS agent,
    regexp_extract(coalesce(a.id, ''), '^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-[0-9]{1,10}$', 1) AS handler,
    a.seq_num,
    -- the handler's first event (`<uuid>-0`): a handler none of whose events is later than
    -- its first logged one event only, and can show no jump
    ends_with(coalesce(a.id, ''), '-0') AS opening
FROM raw_events r
JOIN coverage_files f ON f.source_file = r.source_file
LEFT JOIN agents a ON a.source_file = r.source_file AND a.id = r.event_id
