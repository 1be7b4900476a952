-- name: subject_reach
-- description: Per exposure-enabled read and each partition the owner lists for the object it read: `lower` when the read could have read that partition (read_partitions, matched by forensics/subjects.py), `upper` when only its object was read; with the read's categories.
CREATE OR REPLACE TABLE subject_reach AS
WITH reads AS (
    SELECT event_id, source_file, source_line, principal, time, target AS object,
        partitions, categories
    FROM notable_reads
    WHERE classification = 'exposure_enabled'
),
parts AS (SELECT DISTINCT object, partition FROM subject_input)
SELECT r.event_id, r.source_file, r.source_line, r.principal, r.time, r.object, p.partition,
    CASE WHEN rp.partition IS NOT NULL THEN 'lower' ELSE 'upper' END AS bound,
    r.categories
FROM reads r
JOIN parts p ON p.object = r.object
LEFT JOIN read_partitions rp
    ON rp.object = r.object AND rp.partitions = r.partitions AND rp.partition = p.partition
