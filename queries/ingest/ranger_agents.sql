-- name: ranger_agents
-- description: The Ranger fields that say which plugin process wrote each line of the Ranger file just read in bulk (`agentHost`, `agent`, `id`, `seq_num`: AuthzAuditEvent), kept in `ranger_agents` for the coverage ledger so that it does not read the file again (forensics/coverage/sources.py). Rows of lines whose `id` is a JSON string; the line parser's lines are there too when DuckDB could read them.
-- param: source_file text  the file, relative to the case
INSERT INTO ranger_agents
SELECT $source_file, id, agent_host, agent, seq_num
FROM ranger_rows
WHERE id IS NOT NULL AND id <> '' AND strings_ok
