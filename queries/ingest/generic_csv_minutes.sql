-- name: generic_csv_minutes
-- description: Each local wall-clock minute of the fast rows of one block of a generic CSV log (times without a zone); Python gives each its UTC offset in the case timezone, as the row parser reads such a time.
SELECT DISTINCT date_trunc('minute', moment) AS minute
FROM generic_csv_rows
WHERE fast AND time_kind = 'local'
ORDER BY minute
