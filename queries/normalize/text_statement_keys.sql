-- name: text_statement_keys
-- description: The statement key each text-only record (Hive lineage, HiveServer2 log) takes from the audited run it describes.
-- A text-only record and the audit events of the same run are one statement: same principal
-- and text, the audit checked at or after the query started (lineage has whole seconds)
-- and within ten minutes of it; the nearest run wins. A lineage record with no audited run
-- may join a HiveServer2 statement the same way (an audited run first). Text-only records
-- are few: their keys are found apart (only when there are any) and joined in by the
-- `events` view.
INSERT INTO text_statement_keys
WITH text_runs AS (
    SELECT l.event_id, o.statement_key,
        row_number() OVER (
            PARTITION BY l.event_id
            ORDER BY o.source_format = 'hiveserver2-log',
                abs(date_diff('millisecond', l.time, o.time)), o.statement_key
        ) AS nearness
    FROM keyed_events l JOIN keyed_events o
        ON o.principal = l.principal AND trim(o.query_text) = l.query_text
        AND (o.source_format NOT IN ('hive-lineage', 'hiveserver2-log')
            OR (l.source_format = 'hive-lineage' AND o.source_format = 'hiveserver2-log'))
        AND o.time >= l.time - INTERVAL 1 SECOND AND o.time < l.time + INTERVAL 10 MINUTE
    WHERE l.source_format IN ('hive-lineage', 'hiveserver2-log')
),
-- The audited run a HiveServer2 statement joined, for the lineage records that joined it.
hs2_runs AS (
    SELECT r.statement_key AS own, min(m.statement_key) AS audited
    FROM keyed_events r JOIN text_runs m ON m.event_id = r.event_id AND m.nearness = 1
    WHERE r.source_format = 'hiveserver2-log'
    GROUP BY r.statement_key
)
SELECT m.event_id, coalesce(h.audited, m.statement_key) AS statement_key
FROM text_runs m LEFT JOIN hs2_runs h ON h.own = m.statement_key
WHERE m.nearness = 1;
