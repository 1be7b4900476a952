-- name: coverage_policy_events
-- description: The Ranger events of some objects that some policies decided (the audit-off policies of the coverage ledger's `unaudited` rows): when each happened, to count them per row. Few or none: a policy with auditing off leaves no event. Written in HiveQL; transpiled for DuckDB and Trino.
-- param: objects text  regular expression matching exactly the object names wanted (each quoted with \Q...\E)
-- param: policies text  regular expression matching exactly the policy ids wanted
SELECT object, policy_id, `time`
FROM events
WHERE source_format IN ('ranger-audit', 'ranger-solr')
    AND object RLIKE $objects
    AND CAST(policy_id AS STRING) RLIKE $policies
