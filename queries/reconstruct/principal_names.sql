-- name: principal_names
-- description: Every principal name (short or raw form) that evidence would show, with its short form (NULL for the real user of a proxied access: Python's names.principal_short gives it).
SELECT DISTINCT principal AS name, principal AS short FROM classified
UNION SELECT DISTINCT principal_raw, principal FROM classified
UNION SELECT DISTINCT via_principal, NULL FROM classified WHERE via_principal IS NOT NULL
UNION SELECT DISTINCT principal, principal FROM copy_edges
UNION SELECT DISTINCT principal, principal FROM people
ORDER BY ALL
