-- name: ranger_rows
-- description: One Ranger audit file read by DuckDB's own JSON reader, one row per line in file order, blank lines skipped (`ranger_line_numbers` maps rows to lines when there were any; the caller checks the row count, else the file takes the line-by-line parser), decoded (by the table macro ingest/ranger_typed) where the fields have the plain types and shapes a Ranger plugin writes; `fast` is false for a line the line parser must read (it decides the odd cases, so both paths give the same events).
-- param: path text  the log file
-- param: compression text  gzip or none (told by the file's first bytes, not its name)
CREATE OR REPLACE TEMP TABLE ranger_rows AS
WITH raw AS (
    SELECT NULL::BIGINT AS line, *  -- rows map to lines through ranger_line_numbers
    FROM read_json(
        $path,
        format = 'newline_delimited',
        records = true,
        ignore_errors = true,  -- an unreadable line gives an empty row, left to the line parser
        compression = $compression,
        maximum_object_size = 67108864,
        columns = {
            repoType: 'JSON', reqUser: 'JSON', evtTime: 'JSON', access: 'JSON',
            resource: 'JSON', resType: 'JSON', action: 'JSON', result: 'JSON', reqData: 'JSON',
            id: 'JSON', policy: 'JSON', cliIP: 'JSON', sess: 'JSON', event_count: 'JSON',
            agentHost: 'JSON', agent: 'JSON', seq_num: 'JSON'
        }
    )
)
SELECT * FROM ranger_typed('raw')
