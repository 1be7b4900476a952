-- name: names_in_texts
-- description: Principals' names (short forms) to look for inside paths, identifiers and texts under --pseudonymize (forensics.privacy.NameRewriter), beside principal_names: the directory's principals and the users who opened or closed a window by changing a policy; with the directory's service accounts, whose names are software's (`hive` in /warehouse/tablespace/managed/hive/, the engine `trino`) and are not looked for inside texts.
SELECT 'name' AS role, principal AS name FROM people WHERE principal IS NOT NULL
UNION SELECT 'name', unnest(opened_by_users) FROM windows
UNION SELECT 'name', unnest(closed_by_users) FROM windows
UNION SELECT 'service', principal FROM people WHERE kind = 'service' AND principal IS NOT NULL
ORDER BY ALL
