-- name: generic_csv_rows
-- description: generic_rows of one block of a generic CSV log, kept as a table: its minutes, events and leftover lines are read from it without splitting the lines again.
CREATE OR REPLACE TEMP TABLE generic_csv_rows AS SELECT * EXCLUDE (as_is) FROM generic_rows
