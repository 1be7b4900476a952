-- name: exposure_enabled_reads
-- description: One row per (principal, object) with at least one exposure-enabled read.
SELECT c.principal, c.target AS object,
    strftime(min(c.time), '%Y-%m-%dT%H:%M:%S.%gZ') AS first_read,
    strftime(max(c.time), '%Y-%m-%dT%H:%M:%S.%gZ') AS last_read,
    sum(c.event_count) AS read_events,
    string_agg(DISTINCT c.via, ';' ORDER BY c.via) AS via,
    string_agg(DISTINCT c.engine, ';' ORDER BY c.engine) AS engines,
    any_value(oc.sensitivity) AS sensitivity
FROM classified c LEFT JOIN object_categories oc ON oc.object = c.target
WHERE c.classification = 'exposure_enabled'
GROUP BY c.principal, c.target
ORDER BY ALL
