-- name: ranger_agents_forget
-- description: Take back the agent rows kept for a Ranger file the bulk reader could not read to the end (a gzip stream cut short): the line parser reads it, and the coverage stage reads its agent fields again.
-- param: source_file text  the file, relative to the case
DELETE FROM ranger_agents WHERE source_file = $source_file
