-- name: ledger_events
-- description: The coverage ledger with the events behind each row: for a source's row, the events that source wrote in the interval; for an `unaudited` row, the Ranger events of that object the named policy decided in the interval (none, when its audit was off).
CREATE OR REPLACE TEMP TABLE coverage AS
SELECT l.*,
    CASE WHEN l.status = 'unaudited' THEN (
        SELECT count(*) FROM coverage_records r
        WHERE r.object = l.object AND r.policy_id = l.policy_id
            AND r.source_format IN ('ranger-audit', 'ranger-solr')
            AND r.time >= l.start AND (l."end" IS NULL OR r.time < l."end"))
    WHEN l.status = 'summarized' THEN (
        SELECT count(*) FROM coverage_records r
        WHERE r.source_format = l.source_format AND r.source = l.source AND r.event_count > 1
            AND r.time >= l.start AND r.time < l."end")
    ELSE (
        SELECT count(*) FROM coverage_records r
        WHERE r.source_format = l.source_format AND r.source = l.source
            AND r.time >= l.start AND (l."end" IS NULL OR r.time < l."end"))
    END AS events
FROM coverage_rows l
