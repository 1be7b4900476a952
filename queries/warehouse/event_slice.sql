-- name: event_slice
-- description: The normalized events an investigation needs, selected where they are kept: events naming the objects (exposed objects, views over them, derived copies), storage-path events under their locations, every event of a statement that touched them, and every copy of an event delivered twice. Written in HiveQL; transpiled for DuckDB and Trino. The local reconstruction then runs on this slice alone.
-- param: objects text  regular expression matching exactly the object names wanted (built from checked names, each quoted with \Q...\E)
-- param: locations text  regular expression matching a path equal to or under one of the storage locations wanted
-- The three closures keep the slice exact: deduplication needs every copy of a kept
-- event (same Ranger id), a statement's principal, time and targets need all its events,
-- and a Trino query's events share its query id.
WITH hit AS (
    SELECT *
    FROM events
    WHERE object RLIKE $objects
        OR path RLIKE $locations
),
hit_keys AS (
    SELECT DISTINCT coalesce(dedup_key, event_id) AS k
    FROM hit
),
hit_statements AS (
    SELECT DISTINCT principal, coalesce(session_id, '') AS session_id, query_text
    FROM hit
    WHERE query_text IS NOT NULL
),
hit_queries AS (
    SELECT DISTINCT query_id
    FROM hit
    WHERE engine = 'trino' AND query_id IS NOT NULL
)
SELECT * FROM hit
UNION
SELECT e.*
FROM events e
JOIN hit_keys k ON coalesce(e.dedup_key, e.event_id) = k.k
UNION
SELECT e.*
FROM events e
JOIN hit_statements s
    ON e.principal = s.principal
    AND coalesce(e.session_id, '') = s.session_id
    AND e.query_text = s.query_text
UNION
SELECT e.*
FROM events e
JOIN hit_queries q ON e.engine = 'trino' AND e.query_id = q.query_id
