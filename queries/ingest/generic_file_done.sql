-- name: generic_file_done
-- description: Record one scanned file (generic_new_file), the rows the parser reads instead (generic_new_slow) and its per-minute offsets (generic_new_offsets, empty when one offset holds for the whole file).
INSERT INTO generic_files
SELECT (SELECT count(*) FROM generic_files), name, source_file, as_is, time_kind, offset_ms FROM generic_new_file;
INSERT INTO generic_slow SELECT source_file, "row" FROM generic_new_slow;
INSERT INTO generic_offsets SELECT source_file, minute, offset_ms FROM generic_new_offsets;
