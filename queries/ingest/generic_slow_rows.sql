-- name: generic_slow_rows
-- description: Rows of a generic Parquet log the row-by-row parser reads (odd values, other shapes, empty required fields).
SELECT "row" FROM generic_rows WHERE NOT fast ORDER BY "row"
