-- name: sequenced
-- description: The Ranger events that can show a `seq_num` jump (those of `coverage_handlers`), matched with the parsed events, with the plugin process that wrote them (host, agent, handler) and their time.
CREATE OR REPLACE TEMP TABLE coverage_sequenced AS
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
JOIN coverage_handlers a ON a.source_file = r.source_file AND a.id = r.event_id
