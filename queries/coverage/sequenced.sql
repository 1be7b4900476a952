-- name: sequenced
-- description: The Ranger events that can show a `seq_num` jump, with the plugin process that wrote them: those of audit handlers (the `<uuid>` of an `<uuid>-<n>` event id, one per RangerDefaultAuditHandler instance) that logged an event after their first (`<uuid>-0`); a handler that logged only its first event can show no jump, and most log one (a Ranger handler lives for one authorization call). The agent rows are narrowed to those handlers before they are matched with the parsed events.
CREATE OR REPLACE TEMP TABLE coverage_sequenced AS
WITH agents AS (
    SELECT source_file, id, any_value(agent_host) AS agent_host, any_value(agent) AS agent,
        any_value(seq_num) AS seq_num,
        regexp_extract(id, '^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-[0-9]{1,10}$', 1) AS handler
    FROM (SELECT * FROM coverage_agents UNION ALL SELECT * FROM ranger_agents)
    WHERE id IS NOT NULL
    GROUP BY source_file, id
),
later AS (  -- handlers with an agent row past their first: the only ones with a counter above 0
    SELECT DISTINCT handler FROM agents
    WHERE handler <> '' AND seq_num IS NOT NULL AND NOT ends_with(id, '-0')
),
candidates AS (
    SELECT a.* FROM agents a SEMI JOIN later h ON h.handler = a.handler
    WHERE a.seq_num IS NOT NULL
)
SELECT r.source_format,
    CASE WHEN regexp_full_match(coalesce(a.agent_host, ''), '[A-Za-z0-9][A-Za-z0-9._:-]{0,254}')
        THEN a.agent_host ELSE f.file_set END AS source,
    coalesce(a.agent, '') AS agent,
    a.handler,
    a.seq_num,
    CAST(r.time AS TIMESTAMP) AS time,
    r.event_count,
    ends_with(a.id, '-0') AS opening
FROM raw_events r
JOIN coverage_files f ON f.source_file = r.source_file
JOIN candidates a ON a.source_file = r.source_file AND a.id = r.event_id
