-- name: access_details
-- description: Each classified access (event and object) with the columns it read (`;`-joined, `*` when unknown), the partitions it could have read (`*`: all) and the sensitivity categories of those columns.
-- Columns: what the log names (Ranger `@column`, Trino input columns) for a read of the
-- object itself; else what its statement read of that object (`statement_reads`, filled
-- by forensics/reads.py; a read through a view has only the view's columns in the log,
-- so the statement says which of the table's); else `*`. Partitions: the folder of an HDFS
-- file (`path_partitions`), else the statement's partition predicates, else `*`.
-- Categories: a `*` row of the sensitivity list applies to every read of the object, a
-- column's row to reads of that column (every read whose columns are unknown). An object
-- with no rows of its own (a view, a derived copy) has the categories it inherits. A read
-- that every row of its object applies to (all `*` rows, or columns unknown) has the
-- object's categories, joined once per object: the list filter per access is only for the
-- others (at 10M events it was 4.7 of access_rows' 13 seconds, every access through it).
-- Views, not tables: each reader (access_rows, exposure_enabled_reads, the data-subject
-- queries) reads the classified accesses once with their details beside them. A table of
-- the details, joined back to every classified access on (event, file, line, object), was
-- a copy and a join of 2.4M rows at 10M events, most of it spilled under the default memory
-- limit. The lookups below are small tables (statement reads, path partitions, categories).
CREATE OR REPLACE VIEW classified_details AS
WITH sens AS (
    SELECT object, list({col: "column", category: category}) AS items,
        bool_and("column" IS NOT DISTINCT FROM '*') AS every_read,
        array_to_string(list_sort(list_distinct(list(category))), ';') AS every_category
    FROM sensitivity GROUP BY object
),
-- One row per object with categories: its own sensitivity rows (`sens`, when it has any) and
-- what it inherits (object_categories); both are one row per object, so one lookup per
-- access instead of two joins of every access on the same key.
cats AS (
    SELECT coalesce(s.object, oc.object) AS object, s.object AS own, s.items, s.every_read,
        s.every_category, oc.sensitivity
    FROM sens s FULL JOIN object_categories oc ON oc.object = s.object
),
d AS (
    SELECT c.*,
        CASE
            WHEN c.log_columns IS NOT NULL AND c.via_view IS NULL THEN c.log_columns
            WHEN s.object IS NOT NULL THEN coalesce(s.columns, '*')
            ELSE '*'
        END AS columns,
        CASE
            WHEN c.engine = 'hdfs' THEN coalesce(pp.partition, '*')
            ELSE coalesce(s.partitions, '*')
        END AS partitions
    FROM classified c
    LEFT JOIN statement_reads s
        ON s.query_text = c.query_text AND s.database = split_part(c.object, '.', 1)
        AND s.engine = c.engine AND s.object = c.target
    LEFT JOIN path_partitions pp ON pp.path = c.path AND pp.object = c.target
)
SELECT d.*,
    CASE
        WHEN k.own IS NULL THEN coalesce(k.sensitivity, '')
        -- every row of the object passes the filter below: its categories, computed once
        WHEN k.every_read OR d.columns = '*' THEN k.every_category
        ELSE array_to_string(list_sort(list_distinct(list_transform(
            list_filter(k.items, lambda x: x.col = '*' OR d.columns = '*'
                OR list_contains(string_split(d.columns, ';'), x.col)),
            lambda x: x.category))), ';')
    END AS categories
FROM d
LEFT JOIN cats k ON k.object = d.target;

CREATE OR REPLACE VIEW access_details AS
SELECT event_id, source_file, source_line, target, columns, partitions, categories
FROM classified_details
