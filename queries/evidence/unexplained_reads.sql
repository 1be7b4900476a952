-- name: unexplained_reads
-- description: Allowed reads of an exposed object outside its windows by a principal not baseline-authorized: evidence that a window is wrong.
SELECT * FROM access_rows WHERE classification = 'outside_window' ORDER BY ALL
