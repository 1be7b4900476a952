-- name: agent_rows
-- description: How many Ranger agent rows (plugin host, event id, `seq_num`) the coverage stage holds: none (no Ranger audit files) means no event can show a `seq_num` jump, and the parsed events need not be read for them.
SELECT (SELECT count(*) FROM coverage_agents) + (SELECT count(*) FROM ranger_agents) AS agents
