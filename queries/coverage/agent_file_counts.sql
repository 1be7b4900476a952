-- name: agent_file_counts
-- description: For every file, in one pass over the events, how many events ingest parsed with a Ranger id and how many agent rows ingest kept for it (`ranger_agents`): `agent_counts` for all files at once, before any is read again.
WITH events AS (
    SELECT source_file, count(*) AS events FROM raw_events
    WHERE dedup_key IS NOT NULL
    GROUP BY source_file
),
agents AS (
    SELECT source_file, count(*) AS agents
    FROM (SELECT source_file FROM coverage_agents UNION ALL SELECT source_file FROM ranger_agents)
    GROUP BY source_file
)
SELECT coalesce(e.source_file, a.source_file) AS source_file, coalesce(e.events, 0) AS events,
    coalesce(a.agents, 0) AS agents
FROM events e FULL JOIN agents a ON a.source_file = e.source_file
