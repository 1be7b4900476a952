-- name: principals
-- description: Every principal the warehouse's events name: the policy snapshots are evaluated for each (a group such as public counts them), as the embedded run does with the parsed logs.
SELECT DISTINCT principal
FROM events
WHERE principal IS NOT NULL
ORDER BY principal
