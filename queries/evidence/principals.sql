-- name: principals
-- description: One row per principal with any exposure-enabled or secondary read.
WITH r AS (
    SELECT * FROM notable_reads WHERE classification IN ('exposure_enabled', 'secondary')
),
cats AS (
    SELECT DISTINCT r.principal, unnest(string_split(oc.sensitivity, ';')) AS category
    FROM r JOIN object_categories oc ON oc.object = r.target
),
sensitivities AS (
    SELECT principal, string_agg(category, ';' ORDER BY category) AS sensitivity
    FROM cats GROUP BY principal
),
made AS (
    SELECT principal, count(DISTINCT derived_object) AS copies FROM copy_edges GROUP BY principal
)
SELECT r.principal, coalesce(p.kind, '') AS kind, coalesce(p.org, '') AS org,
    count(DISTINCT r.target) AS objects_read,
    sum(r.event_count) AS read_events,
    strftime(min(r.time), '%Y-%m-%dT%H:%M:%S.%gZ') AS first_read,
    strftime(max(r.time), '%Y-%m-%dT%H:%M:%S.%gZ') AS last_read,
    any_value(s.sensitivity) AS sensitivity,
    coalesce(any_value(m.copies), 0) AS derived_copies_made,
    coalesce(sum(r.event_count) FILTER (WHERE r.classification = 'exposure_enabled'), 0)
        AS exposure_enabled_events,
    coalesce(sum(r.event_count) FILTER (WHERE r.classification = 'secondary'), 0) AS secondary_events
FROM r
LEFT JOIN people p ON p.principal = r.principal
LEFT JOIN sensitivities s ON s.principal = r.principal
LEFT JOIN made m ON m.principal = r.principal
GROUP BY r.principal, p.kind, p.org
ORDER BY ALL
