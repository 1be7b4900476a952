-- name: exposure_enabled_reads
-- description: One row per (principal, object) with at least one exposure-enabled read, with the columns its reads touched (`*` when one read's are unknown), their categories and the partitions read.
-- One aggregate per (principal, object): `via` and `engines` are the sorted distinct values
-- as `string_agg(DISTINCT x, ';' ORDER BY x)` writes them (NULL when every value is NULL),
-- computed with lists like the other columns. DuckDB runs each DISTINCT ... ORDER BY
-- aggregate as a grouping of its own over the rows fanned out from a CTE, joined back to
-- the others: at 10M events (188,790 reads, 185,885 pairs) 2.2 to 2.6 CPU s against 1.9.
WITH r AS (
    SELECT * FROM notable_reads WHERE classification = 'exposure_enabled'
)
SELECT r.principal, r.target AS object,
    strftime(min(r.time), '%Y-%m-%dT%H:%M:%S.%gZ') AS first_read,
    strftime(max(r.time), '%Y-%m-%dT%H:%M:%S.%gZ') AS last_read,
    sum(r.event_count) AS read_events,
    CASE WHEN count(r.via) > 0
        THEN array_to_string(list_sort(list_distinct(list(r.via))), ';') END AS via,
    CASE WHEN count(r.engine) > 0
        THEN array_to_string(list_sort(list_distinct(list(r.engine))), ';') END AS engines,
    any_value(oc.sensitivity) AS sensitivity,
    CASE WHEN bool_or(r.columns = '*') THEN '*' ELSE array_to_string(list_sort(list_distinct(
        flatten(list(string_split(r.columns, ';'))))), ';') END AS columns,
    array_to_string(list_sort(list_distinct(
        flatten(list(string_split(r.categories, ';'))))), ';') AS categories,
    CASE WHEN bool_or(r.partitions = '*') THEN '*' ELSE array_to_string(list_sort(list_distinct(
        flatten(list(string_split(r.partitions, ';'))))), ';') END AS partitions
FROM r LEFT JOIN object_categories oc ON oc.object = r.target
GROUP BY r.principal, r.target
ORDER BY ALL
