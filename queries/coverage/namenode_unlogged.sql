-- name: namenode_unlogged
-- description: Hours in which the Ranger HDFS plugin of a NameNode recorded file reads or writes but no NameNode audit log (`hdfs-audit`) of the case recorded any event: a failover to a NameNode whose audit log was not collected, or a lost stretch of the log.
WITH plugin AS (
    SELECT source AS host, date_trunc('hour', time) AS hour, count(*) AS events
    FROM coverage_records
    WHERE source_format IN ('ranger-audit', 'ranger-solr') AND engine = 'hdfs' AND op IN ('read', 'write')
    GROUP BY ALL
),
namenode AS (
    SELECT DISTINCT date_trunc('hour', time) AS hour
    FROM coverage_records
    WHERE source_format = 'hdfs-audit'
)
SELECT p.host, epoch_ms(p.hour) AS hour_ms, p.events
FROM plugin p ANTI JOIN namenode n ON n.hour = p.hour
ORDER BY p.host, hour_ms
