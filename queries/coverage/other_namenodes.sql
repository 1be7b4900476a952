-- name: other_namenodes
-- description: How many events the other NameNode audit logs of the case wrote between two instants: a NameNode's log is silent while the other NameNode of an HA pair is active, so its silence then is a failover, not a loss.
-- param: source text  the silent NameNode log (its file set)
-- param: start timestamp  start of the silence
-- param: end timestamp  end of the silence
SELECT count(*) AS events
FROM coverage_records
WHERE time >= $start AND time < $end AND source_format = 'hdfs-audit' AND source <> $source
