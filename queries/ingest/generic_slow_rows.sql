-- name: generic_slow_rows
-- description: Of one generic Parquet log (generic_rows over one file): the rows the row-by-row parser reads (odd values, other shapes, empty required fields: every row not certainly fast), and whether its fast rows already hold their objects and principals as events do (lower-case db.table, short names), so that readers of the events take those columns as they are instead of decoding them again at each scan.
SELECT coalesce(list("row" ORDER BY "row") FILTER (WHERE fast IS NOT TRUE), []) AS slow,
    coalesce(bool_and(object_name IS NOT DISTINCT FROM "object") FILTER (WHERE fast), true) AS object_plain,
    coalesce(bool_and(lower(regexp_extract(principal, '^[^/@]*')) = principal) FILTER (WHERE fast), true) AS principal_plain
FROM generic_rows
