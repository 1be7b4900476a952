-- name: trino_rows
-- description: One Trino query-completed events file read by DuckDB's own JSON reader, one row per line in file order, blank lines skipped (`trino_line_numbers` maps rows to lines when there were any; the caller checks the row count, else the file takes the line-by-line parser), decoded where the fields have the plain types and shapes Trino writes; `fast` is false for a line the line parser must read (it decides the odd cases, so both paths give the same events).
-- param: path text  the log file
-- param: compression text  gzip or none (told by the file's first bytes, not its name)
CREATE OR REPLACE TEMP TABLE trino_rows AS
WITH raw AS (
    SELECT *
    FROM read_json(
        $path,
        format = 'newline_delimited',
        records = true,
        ignore_errors = true,  -- an unreadable line gives an empty row, left to the line parser
        compression = $compression,
        maximum_object_size = 67108864,
        columns = {
            -- a section that is not an object reads as all-null fields: queryId or user is missing
            metadata: 'STRUCT(queryId JSON, query JSON, updateType JSON)',
            context: 'STRUCT("user" JSON, principal JSON, remoteClientAddress JSON)',
            ioMetadata: 'JSON',
            failureInfo: 'JSON',
            createTime: 'JSON'
        }
    )
),
typed AS (
    SELECT
        list_bool_and([
            x IS NULL OR json_type(x) IN ('NULL', 'VARCHAR')
            FOR x IN [metadata.queryId, metadata.query, metadata.updateType, context.user,
                context.principal, context.remoteClientAddress, createTime]
        ]) AS strings_ok,
        metadata.queryId ->> '$' AS query_id,
        metadata.query ->> '$' AS query_text,
        metadata.updateType ->> '$' AS update_type,
        context.user ->> '$' AS user_name,
        context.principal ->> '$' AS principal,
        context.remoteClientAddress ->> '$' AS client_ip,
        -- the ISO-8601 times Python's datetime.fromisoformat reads as here (others: line parser)
        regexp_extract(
            createTime ->> '$',
            '^((?:197[1-9]|19[89][0-9]|[2-8][0-9]{3})-[0-9]{2}-[0-9]{2})[T ]((?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])(?:\.([0-9]{1,6}))?(Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?$',
            ['day', 'clock', 'fraction', 'zone']
        ) AS created,
        coalesce(json_type(ioMetadata), 'NULL') AS io_type,
        coalesce(json_type(ioMetadata, '$.inputs'), 'NULL') AS inputs_type,
        CASE WHEN json_type(ioMetadata, '$.inputs') = 'ARRAY' THEN CAST(ioMetadata -> '$.inputs' AS JSON[]) END AS inputs,
        coalesce(json_type(ioMetadata, '$.output'), 'NULL') AS output_type,
        ioMetadata -> '$.output' AS output,
        coalesce(json_type(failureInfo), 'NULL') AS failure_type,
        coalesce(json_type(failureInfo, '$.errorCode'), 'NULL') AS error_type,
        json_type(failureInfo, '$.errorCode.name') = 'VARCHAR'
            AND failureInfo ->> '$.errorCode.name' = 'PERMISSION_DENIED' AS denied
    FROM raw
),
objects AS (
    SELECT * EXCLUDE (created, inputs, output),
        try_strptime(created.day || ' ' || created.clock, '%Y-%m-%d %H:%M:%S')
            + to_microseconds(CAST(rpad(created.fraction, 6, '0') AS BIGINT)) AS local_time,
        CASE WHEN created.zone = 'Z' THEN 0
            WHEN created.zone <> '' THEN (CASE WHEN starts_with(created.zone, '-') THEN -1 ELSE 1 END)
                * (CAST(substr(created.zone, 2, 2) AS BIGINT) * 60 + CAST(substr(created.zone, 5, 2) AS BIGINT)) * 60000
        END AS zone_ms,
        -- each input: an object whose schema and table are strings (or null) and whose columns,
        -- if a list, hold names or {"column": name}; names are ASCII, so lower() is Python's
        list_transform(coalesce(inputs, []), lambda x: {
            ok: coalesce(json_type(x), 'NULL') = 'OBJECT'
                AND coalesce(json_type(x, '$.schema'), 'NULL') IN ('NULL', 'VARCHAR')
                AND coalesce(json_type(x, '$.table'), 'NULL') IN ('NULL', 'VARCHAR')
                AND regexp_full_match(coalesce(x ->> '$.schema', '') || coalesce(x ->> '$.table', ''), '[ -~]*')
                AND CASE WHEN json_type(x, '$.columns') = 'ARRAY' THEN coalesce(list_bool_and(list_transform(
                    CAST(x -> '$.columns' AS JSON[]),
                    lambda c: CASE coalesce(json_type(c), 'NULL')
                        WHEN 'NULL' THEN true
                        WHEN 'VARCHAR' THEN regexp_full_match(c ->> '$', '[ -~]*')
                        WHEN 'OBJECT' THEN coalesce(json_type(c, '$.column'), 'NULL') IN ('NULL', 'VARCHAR')
                            AND regexp_full_match(coalesce(c ->> '$.column', ''), '[ -~]*')
                        ELSE false
                    END
                )), true) ELSE true END,
            schema: x ->> '$.schema',
            "table": x ->> '$.table',
            columns: CASE WHEN json_type(x, '$.columns') = 'ARRAY' AND json_array_length(x, '$.columns') > 0
                THEN array_to_string(list_sort(list_distinct(list_filter(
                    list_transform(CAST(x -> '$.columns' AS JSON[]), lambda c:
                        lower(CASE json_type(c) WHEN 'VARCHAR' THEN c ->> '$' WHEN 'OBJECT' THEN c ->> '$.column' END)),
                    lambda n: n <> ''
                ))), ';')
            END
        }) AS inputs,
        CASE WHEN output_type = 'OBJECT' THEN {
            ok: coalesce(json_type(output, '$.schema'), 'NULL') IN ('NULL', 'VARCHAR')
                AND coalesce(json_type(output, '$.table'), 'NULL') IN ('NULL', 'VARCHAR')
                AND regexp_full_match(coalesce(output ->> '$.schema', '') || coalesce(output ->> '$.table', ''), '[ -~]*'),
            schema: output ->> '$.schema',
            "table": output ->> '$.table'
        } END AS output
    FROM typed
)
SELECT * EXCLUDE (strings_ok),
    coalesce(
        strings_ok
        AND query_id <> ''
        AND regexp_full_match(user_name, '[!-~]+')
        AND NOT regexp_matches(user_name, '^[/@]')  -- names no principal: the line parser quarantines it
        AND local_time IS NOT NULL
        AND io_type IN ('NULL', 'OBJECT')
        AND inputs_type IN ('NULL', 'ARRAY')
        AND output_type IN ('NULL', 'OBJECT')
        AND coalesce(list_bool_and([i.ok FOR i IN inputs]), true)
        AND coalesce(output.ok, true)
        AND (failure_type = 'NULL' OR (failure_type = 'OBJECT' AND error_type IN ('NULL', 'OBJECT'))),
        false
    ) AS fast
FROM objects
