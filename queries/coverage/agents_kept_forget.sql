-- name: agents_kept_forget
-- description: Take back the agent rows ingest kept for one file (`ranger_agents`) when they do not account for every event of the file: the file is then read again for them.
-- param: source_file text  the file, relative to the case
DELETE FROM ranger_agents WHERE source_file = $source_file
