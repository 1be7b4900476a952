-- name: notable_reads
-- description: The exposure-enabled and secondary reads, in the columns that exposure_enabled_reads, principals and objects aggregate, with their details (reconstruct/access_details), kept once; the data-subject queries (reconstruct/subject_reads, subject_reach) read the exposure-enabled ones here too.
-- A table of the few rows those files need: each of them read the classified accesses
-- (views over exposed_access, every access to an exposed object) and classified them all
-- again for its own classes. At 10M events these are 189,216 of the 2.4M accesses. Only the
-- columns its readers read: the engine holds it beside exposed_access within its memory
-- limit, and at 10M events a table with the columns of unexplained_reads too (statement
-- texts, clients, raw principals: 20 columns) made writing access_events.csv after it 1 to
-- 2 CPU s slower; unexplained_reads reads access_rows.
CREATE OR REPLACE TABLE notable_reads AS
SELECT event_id, time, source_file, source_line, engine, principal, target, via,
    classification, event_count, columns, categories, partitions
FROM classified_details
WHERE classification IN ('exposure_enabled', 'secondary')
