-- name: generic_csv_events
-- description: Insert the events of one block of a generic CSV log (generic_events over generic_csv_kept) into raw_events; unlike a Parquet log's, they are copied: a stage would otherwise split the lines again at each scan.
INSERT INTO raw_events BY NAME SELECT * FROM generic_events
