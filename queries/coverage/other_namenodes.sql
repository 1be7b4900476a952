-- name: other_namenodes
-- description: How many events the other NameNode audit logs of the case wrote between two instants: a NameNode's log is silent while the other NameNode of an HA pair is active, so its silence then is a failover, not a loss.
-- param: source text  the silent NameNode log (its file set)
-- param: start timestamp  start of the silence
-- param: end timestamp  end of the silence
SELECT CAST(coalesce(sum(coverage_count(minute, events, first_ms, last_ms, offsets,
        epoch_ms(CAST($start AS TIMESTAMP)), epoch_ms(CAST($end AS TIMESTAMP)))), 0) AS BIGINT) AS events
FROM coverage_minutes
WHERE last_ms >= epoch_ms(CAST($start AS TIMESTAMP)) AND first_ms < epoch_ms(CAST($end AS TIMESTAMP))
    AND source_format = 'hdfs-audit' AND source <> $source
