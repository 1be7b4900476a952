-- name: decided
-- description: The Ranger events of the objects and policies of the ledger's `unaudited` rows (`coverage_rows`), with their instants: what `ledger_events` counts for such a row. Only those objects' events are read; none when no audit-off policy names an object.
CREATE OR REPLACE TEMP TABLE coverage_decided AS
SELECT r.object, r.policy_id, epoch_ms(CAST(r.time AS TIMESTAMP)) AS ms
FROM raw_events r
SEMI JOIN coverage_files f ON f.source_file = r.source_file
SEMI JOIN (SELECT DISTINCT object, policy_id FROM coverage_rows WHERE status = 'unaudited') u
    ON u.object = r.object AND u.policy_id = r.policy_id
WHERE r.source_format IN ('ranger-audit', 'ranger-solr')
