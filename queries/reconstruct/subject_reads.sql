-- name: subject_reads
-- description: Each distinct (object, partition specs) an exposure-enabled read read: forensics/subjects.py matches the specs with the owner's partitions of the object.
SELECT DISTINCT target AS object, partitions
FROM notable_reads
WHERE classification = 'exposure_enabled'
ORDER BY ALL
