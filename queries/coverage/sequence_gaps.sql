-- name: sequence_gaps
-- description: Jumps in Ranger's `seq_num` within one plugin audit handler (same host, agent and event-id prefix): RangerDefaultAuditHandler numbers every event it logs, so a number skipped is an event that was logged and then lost. Handlers with summarized events (`event_count` > 1) are left out: summarizing merges numbered events.
WITH numbered AS (
    SELECT DISTINCT source_format, source, agent, handler, seq_num, time, event_count
    FROM coverage_records
    WHERE handler <> '' AND seq_num IS NOT NULL
),
summarized AS (
    SELECT source_format, source, agent, handler
    FROM numbered
    GROUP BY source_format, source, agent, handler
    HAVING max(event_count) > 1
),
ordered AS (
    SELECT n.*,
        lag(seq_num) OVER w AS previous_seq,
        lag(time) OVER w AS previous_time
    FROM numbered n ANTI JOIN summarized s
        ON s.source_format = n.source_format AND s.source = n.source AND s.agent = n.agent
        AND s.handler = n.handler
    WINDOW w AS (PARTITION BY n.source_format, n.source, n.agent, n.handler ORDER BY n.seq_num, n.time)
)
SELECT source_format, source, agent, handler, previous_seq, seq_num,
    epoch_ms(previous_time) AS start_ms, epoch_ms(time) AS end_ms
FROM ordered
WHERE seq_num - previous_seq > 1
ORDER BY source_format, source, start_ms, handler, previous_seq
