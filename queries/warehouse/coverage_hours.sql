-- name: coverage_hours
-- description: Events the warehouse holds per source file, format and UTC hour (`yyyy-MM-dd HH`), with how many of them a Ranger plugin summarized (`event_count` > 1) and the accesses those stand for: the basis of the coverage ledger of a warehouse run (forensics.coverage.counts), an aggregate computed where the events are kept; only the counts come back. Written in HiveQL; transpiled for DuckDB and Trino.
SELECT source_format,
    source_file,
    substr(CAST(`time` AS STRING), 1, 13) AS hour,
    count(*) AS events,
    sum(CASE WHEN event_count > 1 THEN 1 ELSE 0 END) AS summarized,
    sum(CASE WHEN event_count > 1 THEN event_count ELSE 0 END) AS accesses
FROM events
GROUP BY source_format, source_file, substr(CAST(`time` AS STRING), 1, 13)
