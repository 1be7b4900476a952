-- name: session_timezone
-- description: The time zone of the warehouse session (Spark's `spark.sql.session.timeZone`), in which it reads the times sent as text and renders the times it sends back: full pushdown runs only when it is UTC (forensics/pushdown_full.py).
SELECT current_timezone() AS zone
