-- name: subjects_concerned
-- description: The numbers a breach notification states, per sensitivity category and for all reads together (`(all)`): data subjects and records concerned, each as a lower bound (the partitions the exposure-enabled reads could have read) and an upper bound (the whole objects they read), with the objects and the reads behind them (event ids of access_events.csv).
-- param: exact int  1: the owner's list names subjects (an index: distinct counts); 0: counts per partition
-- With counts (exact 0), the same people may be in several partitions: the lower bound is
-- the largest partition count reached, the upper bound the sum over partitions. Records
-- are disjoint per partition and add up either way (blank when an index does not say).
WITH reach AS (
    SELECT r.*, unnest(list_append(
        CASE WHEN r.categories = '' THEN []::VARCHAR[] ELSE string_split(r.categories, ';') END,
        '(all)')) AS category
    FROM subject_reach r
),
cells AS (
    SELECT category, object, partition, bool_or(bound = 'lower') AS narrowed,
        list(DISTINCT event_id) AS events
    FROM reach GROUP BY category, object, partition
),
rows AS (
    SELECT c.category, c.object, c.partition, c.narrowed, c.events,
        i.subject, i.subjects, i.records
    FROM cells c JOIN subject_input i ON i.object = c.object AND i.partition = c.partition
),
exact AS (
    SELECT category, count(DISTINCT subject) FILTER (WHERE narrowed) AS lower,
        count(DISTINCT subject) AS upper
    FROM rows GROUP BY category
),
reads AS (
    SELECT category, array_to_string(list_sort(list_distinct(flatten(list(events)))), ';')
        AS event_ids
    FROM cells GROUP BY category
),
parts AS (
    SELECT category, object, partition, any_value(narrowed) AS narrowed,
        sum(subjects) AS subjects, sum(records) AS records,
        count(records) = count(*) AS records_known
    FROM rows GROUP BY category, object, partition
),
totals AS (
    SELECT category,
        coalesce(max(subjects) FILTER (WHERE narrowed), 0) AS lower,
        sum(subjects) AS upper,
        CASE WHEN bool_and(records_known)
            THEN coalesce(sum(records) FILTER (WHERE narrowed), 0) END AS records_lower,
        CASE WHEN bool_and(records_known) THEN sum(records) END AS records_upper,
        string_agg(DISTINCT object, ';' ORDER BY object) AS objects
    FROM parts GROUP BY category
)
SELECT t.category,
    CASE WHEN $exact = 1 THEN x.lower ELSE t.lower END AS subjects_lower,
    CASE WHEN $exact = 1 THEN x.upper ELSE t.upper END AS subjects_upper,
    t.records_lower, t.records_upper,
    CASE WHEN $exact = 1 THEN 'index' ELSE 'counts' END AS basis,
    t.objects, r.event_ids
FROM totals t
JOIN exact x ON x.category = t.category
JOIN reads r ON r.category = t.category
ORDER BY t.category
