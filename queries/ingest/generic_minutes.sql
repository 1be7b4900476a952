-- name: generic_minutes
-- description: Each local wall-clock minute of a generic log whose times carry no zone (read from its time column alone: those of rows the parser reads too, which only adds minutes); Python gives each its UTC offset in the case timezone (as the parser reads such a time, across DST changes).
SELECT DISTINCT date_trunc('minute', moment) AS minute
FROM generic_rows
WHERE time_ok AND moment IS NOT NULL
ORDER BY minute
