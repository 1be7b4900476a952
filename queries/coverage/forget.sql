-- name: forget
-- description: Drop the per-event tables of the coverage stage once the ledger (`coverage`) is built: the reconstruction that follows gets their memory.
DROP TABLE IF EXISTS coverage_records;
DROP TABLE IF EXISTS coverage_agents;
DROP TABLE IF EXISTS ranger_agents;
DROP TABLE IF EXISTS coverage_rows;
