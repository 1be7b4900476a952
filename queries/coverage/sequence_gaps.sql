-- name: sequence_gaps
-- description: Jumps in Ranger's `seq_num` within one plugin audit handler (same host, agent and event-id prefix): RangerDefaultAuditHandler numbers every event it creates and logs, so a number skipped between two logged events is an event that was logged and then lost. Handlers with summarized events (`event_count` > 1) are left out: summarizing merges numbered events. Only handlers whose numbers leave a hole are ordered (a Ranger handler lives for one authorization call, so most hold one event).
WITH several AS (  -- handlers that logged more than one event: one has a counter above 0
    SELECT DISTINCT source_format, source, agent, handler
    FROM coverage_sequenced
    WHERE NOT opening
),
numbered AS (
    SELECT r.source_format, r.source, r.agent, r.handler, r.seq_num, r.time, r.event_count
    FROM coverage_sequenced r SEMI JOIN several s
        ON s.source_format = r.source_format AND s.source = r.source AND s.agent = r.agent
        AND s.handler = r.handler
    WHERE r.seq_num IS NOT NULL
),
holed AS (
    SELECT source_format, source, agent, handler
    FROM numbered
    GROUP BY source_format, source, agent, handler
    HAVING count(*) > 1 AND max(event_count) <= 1
        AND max(seq_num) - min(seq_num) + 1 > count(DISTINCT seq_num)
),
ordered AS (
    SELECT DISTINCT n.source_format, n.source, n.agent, n.handler, n.seq_num, n.time
    FROM numbered n SEMI JOIN holed h
        ON h.source_format = n.source_format AND h.source = n.source AND h.agent = n.agent
        AND h.handler = n.handler
),
lagged AS (
    SELECT o.*,
        lag(seq_num) OVER w AS previous_seq,
        lag(time) OVER w AS previous_time
    FROM ordered o
    WINDOW w AS (PARTITION BY source_format, source, agent, handler ORDER BY seq_num, time)
)
SELECT source_format, source, agent, handler, previous_seq, seq_num,
    epoch_ms(previous_time) AS start_ms, epoch_ms(time) AS end_ms
FROM lagged
WHERE seq_num - previous_seq > 1
ORDER BY source_format, source, start_ms, handler, previous_seq
