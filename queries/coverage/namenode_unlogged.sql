-- name: namenode_unlogged
-- description: Hours in which the Ranger HDFS plugin of a NameNode recorded file reads or writes but no NameNode audit log (`hdfs-audit`) of the case recorded any event: a failover to a NameNode whose audit log was not collected, or a lost stretch of the log.
WITH plugin AS (
    SELECT source AS host, hour, sum(file_ops) AS events
    FROM coverage_minutes
    WHERE source_format IN ('ranger-audit', 'ranger-solr') AND file_ops > 0
    GROUP BY ALL
),
namenode AS (
    SELECT DISTINCT hour
    FROM coverage_minutes
    WHERE source_format = 'hdfs-audit'
)
SELECT p.host, p.hour AS hour_ms, CAST(p.events AS BIGINT) AS events
FROM plugin p ANTI JOIN namenode n ON n.hour = p.hour
ORDER BY p.host, hour_ms
