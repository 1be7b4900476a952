-- name: ranger_agents_table
-- description: The table `ingest/ranger_agents` appends to: per Ranger line read in bulk, its file, `id`, `agentHost`, `agent` and `seq_num` (for the coverage ledger).
CREATE TABLE IF NOT EXISTS ranger_agents (
    source_file VARCHAR, id VARCHAR, agent_host VARCHAR, agent VARCHAR, seq_num BIGINT
)
