-- name: ranger_lines
-- description: One Ranger audit file read by DuckDB's own JSON reader, one row per line in file order (the caller checks that rows = physical lines, else the file takes the line-by-line parser). Fields stay raw JSON so the next step can check their types.
-- param: path text  the log file
-- param: compression text  gzip or none (told by the file's first bytes, not its name)
CREATE OR REPLACE TEMP TABLE ranger_lines AS
SELECT *
FROM read_json(
    $path,
    format = 'newline_delimited',
    compression = $compression,
    maximum_object_size = 67108864,
    columns = {
        repoType: 'JSON', reqUser: 'JSON', evtTime: 'JSON', access: 'JSON',
        resource: 'JSON', resType: 'JSON', action: 'JSON', result: 'JSON', reqData: 'JSON',
        id: 'JSON', policy: 'JSON', cliIP: 'JSON', sess: 'JSON', event_count: 'JSON'
    }
)
