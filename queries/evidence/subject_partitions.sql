-- name: subject_partitions
-- description: One row per (object, partition) of the owner's list that an exposure-enabled read reached: its subjects and records, the bound (`lower`: a read could have read the partition; `upper`: only its object was read), the categories, readers and the reads behind it (event ids of access_events.csv).
WITH reach AS (
    SELECT object, partition, bool_or(bound = 'lower') AS narrowed,
        list(DISTINCT event_id) FILTER (WHERE bound = 'lower') AS lower_events,
        list(DISTINCT event_id) AS events,
        list(DISTINCT principal) AS readers,
        flatten(list(string_split(categories, ';'))) AS categories
    FROM subject_reach
    GROUP BY object, partition
),
sizes AS (
    SELECT object, partition, sum(subjects) AS subjects, sum(records) AS records
    FROM subject_input GROUP BY object, partition
)
SELECT r.object, r.partition, s.subjects, s.records,
    CASE WHEN r.narrowed THEN 'lower' ELSE 'upper' END AS bound,
    array_to_string(list_sort(list_distinct(list_filter(r.categories, lambda c: c <> ''))), ';')
        AS categories,
    len(r.readers) AS readers,
    array_to_string(list_sort(CASE WHEN r.narrowed THEN r.lower_events ELSE r.events END), ';')
        AS event_ids
FROM reach r JOIN sizes s ON s.object = r.object AND s.partition = r.partition
ORDER BY ALL
