-- name: generic_slow_rows
-- description: Of one generic Parquet log (generic_rows over one file): the rows the row-by-row parser reads (odd values, other shapes, empty required fields: every row not certainly fast), and whether its fast rows already hold their objects and principals as events do (lower-case db.table, short names), so that readers of the events take those columns as they are instead of decoding them again at each scan; and whether every row is fast and already its event's values (as_is: generic_plain_events reads the file's events straight from its columns).
SELECT coalesce(list("row" ORDER BY "row") FILTER (WHERE fast IS NOT TRUE), []) AS slow,
    -- On a fast row, object_name is "object" exactly when that is one lower-case dot name
    -- (or both are absent), and the short principal is the principal when that is lower
    -- case without realm or host: the same tests without a regular expression per row.
    coalesce(bool_and(CASE WHEN "object" IS NULL THEN "database" IS NULL OR "table" IS NULL
        ELSE "object" = lower("object") AND length("object") - length(replace("object", '.', '')) = 1 END)
        FILTER (WHERE fast), true) AS object_plain,
    coalesce(bool_and(principal = lower(principal) AND NOT contains(principal, '/')
        AND NOT contains(principal, '@')) FILTER (WHERE fast), true) AS principal_plain,
    -- Every row fast and already its event's values (generic_rows' as_is).
    coalesce(bool_and(fast IS TRUE AND as_is), true) AS as_is
FROM generic_rows
