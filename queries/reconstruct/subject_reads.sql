-- name: subject_reads
-- description: Each distinct (object, partition specs) an exposure-enabled read read: forensics/subjects.py matches the specs with the owner's partitions of the object.
SELECT DISTINCT c.target AS object, d.partitions
FROM classified c
JOIN access_details d
    ON d.event_id = c.event_id AND d.source_file = c.source_file
    AND d.source_line = c.source_line AND d.target = c.target
WHERE c.classification = 'exposure_enabled'
ORDER BY ALL
