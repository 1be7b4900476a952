-- name: notable_reads
-- description: The classified reads that the evidence files beside access_events.csv count (exposure-enabled, secondary and outside the window), with their details (reconstruct/access_details), kept once: exposure_enabled_reads, principals, objects and unexplained_reads read them here, and the data-subject queries (reconstruct/subject_reads, subject_reach) the exposure-enabled ones.
-- A table of the few rows those files need: each of them read the classified accesses
-- (views over exposed_access, every access to an exposed object) and classified them all
-- again for its own classes. At 10M events these are 189,216 of the 2.4M accesses.
CREATE OR REPLACE TABLE notable_reads AS
SELECT * FROM classified_details
WHERE classification IN ('exposure_enabled', 'secondary', 'outside_window')
