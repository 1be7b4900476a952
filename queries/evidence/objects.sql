-- name: objects
-- description: One row per exposed object: its windows, who could read it anyway, and who read it only because of the exposure.
WITH w AS (
    SELECT object,
        string_agg(
            strftime(start, '%Y-%m-%dT%H:%M:%S.%gZ') || '/'
                || coalesce(strftime("end", '%Y-%m-%dT%H:%M:%S.%gZ'), ''),
            ';' ORDER BY start
        ) AS windows
    FROM windows GROUP BY object
),
ee AS (
    SELECT target AS object, count(DISTINCT principal) AS principals, sum(event_count) AS events,
        min(time) AS first_read, max(time) AS last_read
    FROM notable_reads WHERE classification = 'exposure_enabled' GROUP BY target
),
d AS (
    SELECT target AS object, sum(event_count) AS events
    FROM classified WHERE classification = 'denied' GROUP BY target
)
SELECT w.object, coalesce(co.type, '') AS type, w.windows, oc.sensitivity,
    eo.baseline_principals,
    coalesce(ee.principals, 0) AS exposure_enabled_principals,
    coalesce(ee.events, 0) AS exposure_enabled_events,
    coalesce(d.events, 0) AS denied_events,
    strftime(ee.first_read, '%Y-%m-%dT%H:%M:%S.%gZ') AS first_exposure_enabled_read,
    strftime(ee.last_read, '%Y-%m-%dT%H:%M:%S.%gZ') AS last_exposure_enabled_read
FROM w
LEFT JOIN catalog_objects co ON co.object = w.object
LEFT JOIN exposed_objects eo ON eo.object = w.object
LEFT JOIN object_categories oc ON oc.object = w.object
LEFT JOIN ee ON ee.object = w.object
LEFT JOIN d ON d.object = w.object
ORDER BY ALL
