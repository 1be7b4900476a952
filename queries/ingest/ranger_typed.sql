-- name: ranger_typed
-- description: A table macro: rows of Ranger audit JSON fields (`raw`: the name of a relation with a `line` and one JSON column per field, such as a CTE of the caller) typed, checked and flagged as ranger_rows.sql and ranger_log4j_rows.sql both need them; `fast` is false for a line the line parser must read (it decides the odd cases, so both paths give the same events). One decoding of the fields, whether a line was bare JSON or behind a log4j prefix.
CREATE OR REPLACE MACRO ranger_typed(raw) AS TABLE
WITH typed AS (
    SELECT line,
        -- integers: a JSON number of digits only; strings: a JSON string (or null/absent)
        CASE WHEN regexp_full_match(repoType::VARCHAR, '-?[0-9]{1,18}') THEN repoType::VARCHAR::BIGINT END AS repo_type,
        CASE WHEN regexp_full_match(result::VARCHAR, '-?[0-9]{1,18}') THEN result::VARCHAR::BIGINT END AS result,
        CASE WHEN regexp_full_match(policy::VARCHAR, '-?[0-9]{1,18}') THEN policy::VARCHAR::BIGINT END AS policy,
        policy IS NULL OR policy::VARCHAR = 'null' OR regexp_full_match(policy::VARCHAR, '-?[0-9]{1,18}') AS policy_ok,
        CASE WHEN regexp_full_match(event_count::VARCHAR, '-?[0-9]{1,18}') THEN event_count::VARCHAR::BIGINT END AS event_count,
        event_count IS NULL OR event_count::VARCHAR = 'null' OR regexp_full_match(event_count::VARCHAR, '-?[0-9]{1,18}') AS count_ok,
        -- each string field a JSON string, null or absent (spelled out: a list of the ten
        -- built per line cost twice as much)
        ((reqUser IS NULL OR reqUser::VARCHAR = 'null' OR starts_with(reqUser::VARCHAR, '"'))
            AND (evtTime IS NULL OR evtTime::VARCHAR = 'null' OR starts_with(evtTime::VARCHAR, '"'))
            AND (access IS NULL OR access::VARCHAR = 'null' OR starts_with(access::VARCHAR, '"'))
            AND (resource IS NULL OR resource::VARCHAR = 'null' OR starts_with(resource::VARCHAR, '"'))
            AND (resType IS NULL OR resType::VARCHAR = 'null' OR starts_with(resType::VARCHAR, '"'))
            AND (action IS NULL OR action::VARCHAR = 'null' OR starts_with(action::VARCHAR, '"'))
            AND (reqData IS NULL OR reqData::VARCHAR = 'null' OR starts_with(reqData::VARCHAR, '"'))
            AND (id IS NULL OR id::VARCHAR = 'null' OR starts_with(id::VARCHAR, '"'))
            AND (cliIP IS NULL OR cliIP::VARCHAR = 'null' OR starts_with(cliIP::VARCHAR, '"'))
            AND (sess IS NULL OR sess::VARCHAR = 'null' OR starts_with(sess::VARCHAR, '"'))) AS strings_ok,
        reqUser ->> '$' AS req_user,
        evtTime ->> '$' AS evt_time,
        access ->> '$' AS access,
        resource ->> '$' AS resource,
        resType ->> '$' AS res_type,
        action ->> '$' AS action,
        reqData ->> '$' AS req_data,
        id ->> '$' AS id,
        cliIP ->> '$' AS cli_ip,
        sess ->> '$' AS sess,
        -- which plugin process wrote the line, kept for the coverage ledger (ingest/ranger_agents)
        agentHost ->> '$' AS agent_host,
        agent ->> '$' AS agent,
        CASE WHEN regexp_full_match(seq_num::VARCHAR, '[0-9]{1,18}') THEN seq_num::VARCHAR::BIGINT END AS seq_num
    FROM query_table(raw)
),
checked AS (
    SELECT *,
        try_strptime(evt_time, '%Y-%m-%d %H:%M:%S.%f') AS local_time,
        repo_type IS NOT NULL AND policy_ok AND count_ok AND strings_ok
            AND (repo_type NOT IN (1, 3) OR (
                regexp_full_match(req_user, '[!-~]+')
                AND NOT regexp_matches(req_user, '^[/@]')  -- names no principal (`@SUM(1+1)`): the line parser quarantines it
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
