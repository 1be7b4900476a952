-- name: agents_forget
-- description: Take back the agent rows the JSON reader found in one file, before the line reader reads it whole.
-- param: source_file text  the file, relative to the case
DELETE FROM coverage_agents WHERE source_file = $source_file
