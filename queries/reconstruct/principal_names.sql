-- name: principal_names
-- description: Every principal name (short or raw form) that evidence would show, with its short form.
SELECT DISTINCT principal AS name, principal AS short FROM classified
UNION SELECT DISTINCT principal_raw, principal FROM classified
UNION SELECT DISTINCT principal, principal FROM copy_edges
UNION SELECT DISTINCT principal, principal FROM people
ORDER BY ALL
