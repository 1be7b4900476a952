-- name: agent_counts
-- description: For one Ranger audit file, how many events ingest parsed with a Ranger id and how many agent rows are known for it (kept by ingest's bulk reader, `ranger_agents`, or found by the agent read): fewer means lines behind a layout (a log4j prefix, a shipper's envelope) that DuckDB's JSON reader cannot see, which the line reader then reads.
-- param: source_file text  the file, relative to the case
SELECT
    (SELECT count(*) FROM raw_events WHERE source_file = $source_file AND dedup_key IS NOT NULL) AS events,
    (SELECT count(*) FROM coverage_agents WHERE source_file = $source_file)
        + (SELECT count(*) FROM ranger_agents WHERE source_file = $source_file) AS agents
