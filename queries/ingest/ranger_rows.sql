-- name: ranger_rows
-- description: The lines of `ranger_lines` whose fields have the plain shapes a Ranger plugin writes, decoded; `fast` is false for a line the line-by-line parser must read (it decides the odd cases, so both paths give the same events).
CREATE OR REPLACE TEMP TABLE ranger_rows AS
WITH typed AS (
    SELECT rowid + 1 AS source_line,
        CASE WHEN json_type(repoType) IN ('UBIGINT', 'BIGINT') THEN CAST(repoType AS VARCHAR)::BIGINT END AS repo_type,
        json_type(repoType) IN ('UBIGINT', 'BIGINT') AS repo_ok,
        CASE WHEN json_type(result) IN ('UBIGINT', 'BIGINT') THEN CAST(result AS VARCHAR)::BIGINT END AS result,
        CASE WHEN json_type(policy) IN ('UBIGINT', 'BIGINT') THEN CAST(policy AS VARCHAR)::BIGINT END AS policy,
        coalesce(json_type(policy), 'NULL') IN ('NULL', 'UBIGINT', 'BIGINT') AS policy_ok,
        CASE WHEN json_type(event_count) IN ('UBIGINT', 'BIGINT') THEN CAST(event_count AS VARCHAR)::BIGINT END AS event_count,
        coalesce(json_type(event_count), 'NULL') IN ('NULL', 'UBIGINT', 'BIGINT') AS count_ok,
        json_extract_string(reqUser, '$') AS req_user,
        json_extract_string(evtTime, '$') AS evt_time,
        json_extract_string(access, '$') AS access,
        json_extract_string(resource, '$') AS resource,
        json_extract_string(resType, '$') AS res_type,
        json_extract_string(action, '$') AS action,
        json_extract_string(reqData, '$') AS req_data,
        json_extract_string(id, '$') AS id,
        json_extract_string(cliIP, '$') AS cli_ip,
        json_extract_string(sess, '$') AS sess,
        list_bool_and([
            coalesce(json_type(x), 'NULL') IN ('NULL', 'VARCHAR')
            FOR x IN [reqUser, evtTime, access, resource, resType, action, reqData, id, cliIP, sess]
        ]) AS strings_ok
    FROM ranger_lines
),
checked AS (
    SELECT *,
        try_strptime(evt_time, '%Y-%m-%d %H:%M:%S.%f') AS local_time,
        repo_ok AND policy_ok AND count_ok AND strings_ok
            AND (repo_type NOT IN (1, 3) OR (
                regexp_full_match(req_user, '[!-~]+')
                AND regexp_full_match(evt_time, '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,6}')
                AND result IN (0, 1)
                AND id <> ''
                AND regexp_full_match(coalesce(access, '') || coalesce(action, '') || coalesce(res_type, ''), '[ -~]*')
                AND (repo_type = 1 OR regexp_full_match(coalesce(resource, ''), '[!-~]*'))
                AND (repo_type = 1 OR regexp_full_match(left(coalesce(req_data, ''), 64), '[\t\n\f\r -~]*'))
            )) AS plain
    FROM typed
)
SELECT * EXCLUDE (plain),
    coalesce(plain AND (repo_type NOT IN (1, 3) OR local_time IS NOT NULL), false) AS fast
FROM checked
