-- name: agent_lines
-- description: The Ranger fields that say which plugin process wrote each line of one Ranger audit file (`agentHost`, `agent`, `id`, `seq_num`: AuthzAuditEvent), read by DuckDB's JSON reader; an unreadable line gives no row (it is quarantined by ingest). Appended to `coverage_agents`.
-- param: path text  the log file
-- param: compression text  gzip or none
-- param: source_file text  the file, relative to the case
INSERT INTO coverage_agents
SELECT $source_file AS source_file,
    id ->> '$' AS id,
    agentHost ->> '$' AS agent_host,
    agent ->> '$' AS agent,
    CASE WHEN regexp_full_match(seq_num::VARCHAR, '[0-9]{1,18}') THEN seq_num::VARCHAR::BIGINT END AS seq_num
FROM read_json(
    $path,
    format = 'newline_delimited',
    records = true,
    ignore_errors = true,
    compression = $compression,
    maximum_object_size = 67108864,
    columns = {id: 'JSON', agentHost: 'JSON', agent: 'JSON', seq_num: 'JSON'}
)
WHERE id IS NOT NULL AND starts_with(id::VARCHAR, '"')
