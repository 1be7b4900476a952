-- name: generic_minutes
-- description: Each local wall-clock minute of the fast rows of a generic log whose times carry no zone; Python gives each its UTC offset in the case timezone (as the parser reads such a time, across DST changes).
SELECT DISTINCT date_trunc('minute', moment) AS minute
FROM generic_rows
WHERE fast
ORDER BY minute
