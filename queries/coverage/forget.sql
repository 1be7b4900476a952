-- name: forget
-- description: Drop the tables of the coverage stage once the ledger (`coverage`) is built: the reconstruction that follows gets their memory.
DROP TABLE IF EXISTS coverage_minutes;
DROP TABLE IF EXISTS coverage_sequenced;
DROP TABLE IF EXISTS coverage_handlers;
DROP TABLE IF EXISTS coverage_decided;
DROP TABLE IF EXISTS coverage_agents;
DROP TABLE IF EXISTS ranger_agents;
DROP TABLE IF EXISTS coverage_rows;
DROP MACRO IF EXISTS coverage_count;
