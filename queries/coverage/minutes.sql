-- name: minutes
-- description: The events of each log source, file and minute, in one aggregate pass over the parsed events (no copy of them): how many, the first and last instant (epoch ms), the Ranger records a plugin summarized (`event_count` > 1) and the accesses they stand for, the Ranger HDFS plugin's file reads and writes, and each event's millisecond within the minute (`offsets`), so that an interval that cuts a minute is still counted exactly (`coverage_count`). The source is the Ranger plugin's host (`agentHost`) for Ranger events that carry one, else the file set of the event's file (`coverage_files`).
CREATE OR REPLACE TEMP TABLE coverage_minutes AS
WITH files AS (
    -- each file a number: the agents' rows are matched to the events on (file number, id),
    -- not on the file's name, a key a fraction the size (8M Ranger rows at 10M events)
    SELECT source_file, file_set, row_number() OVER () AS file_no
    FROM coverage_files
),
agents AS (
    SELECT f.file_no, a.id, any_value(a.agent_host) AS agent_host
    FROM (
        SELECT source_file, id, agent_host FROM coverage_agents
        UNION ALL
        SELECT source_file, id, agent_host FROM ranger_agents
    ) a
    JOIN files f ON f.source_file = a.source_file
    GROUP BY f.file_no, a.id
),
located AS (
    SELECT r.source_format,
        -- a host name as Ranger writes it; anything else in agentHost names no source
        CASE WHEN regexp_full_match(coalesce(a.agent_host, ''), '[A-Za-z0-9][A-Za-z0-9._:-]{0,254}')
            THEN a.agent_host ELSE f.file_set END AS source,
        r.source_file,
        epoch_ms(CAST(r.time AS TIMESTAMP)) AS ms,
        epoch_ms(date_trunc('minute', CAST(r.time AS TIMESTAMP))) AS minute,
        epoch_ms(date_trunc('hour', CAST(r.time AS TIMESTAMP))) AS hour,
        r.event_count,
        r.engine = 'hdfs' AND r.op IN ('read', 'write') AS file_op
    FROM raw_events r
    JOIN files f ON f.source_file = r.source_file
    LEFT JOIN agents a ON a.file_no = f.file_no AND a.id = r.event_id
)
SELECT source_format, source, source_file, minute, hour,
    count(*) AS events,
    min(ms) AS first_ms,
    max(ms) AS last_ms,
    count(*) FILTER (WHERE event_count > 1) AS summarized,
    coalesce(sum(event_count) FILTER (WHERE event_count > 1), 0) AS accesses,
    count(*) FILTER (WHERE file_op) AS file_ops,
    list(CAST(ms - minute AS USMALLINT)) AS offsets
FROM located
GROUP BY source_format, source, source_file, minute, hour;

-- The events of one minute bucket (a `coverage_minutes` row) with an instant in [lo, hi)
-- (epoch ms): the whole bucket or none of it from its first and last instant, its offsets
-- read only when the interval cuts it.
CREATE OR REPLACE TEMP MACRO coverage_count(minute, events, first_ms, last_ms, offsets, lo, hi) AS
    CASE
        WHEN first_ms >= lo AND last_ms < hi THEN events
        WHEN last_ms < lo OR first_ms >= hi THEN 0
        ELSE len(list_filter(offsets, lambda x: minute + x >= lo AND minute + x < hi))
    END;
