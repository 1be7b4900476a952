-- name: generic_csv_slow
-- description: The lines of one block of a generic CSV log the row parser reads: every line whose row the engine did not decode (not one whole plain record, other field counts, odd values), in order.
SELECT b.line
FROM bulk_lines b
ANTI JOIN (SELECT "row" FROM generic_csv_rows WHERE fast) r ON r."row" = b.line
ORDER BY b.line
