-- name: classified_rows
-- description: Every classified access in scope (the classification view of the last round of copy-following), fetched from the warehouse: the rows the evidence is written from.
SELECT * FROM classification
