-- name: ranger_audit_parsed
-- description: Every line of ranger_audit_lines with its fields read and, when it cannot be used, the reason (as forensics.ingest.ranger quarantines it). The two views below split it into normalized events and quarantined lines, so each line is counted exactly once.
-- param: source text  what evidence names as the events' source_file (the audit folder as the case names it); the warehouse keeps no line numbers, so source_line is NULL and the Ranger id identifies each event
-- param: timezone text  the zone of evtTime (the Ranger plugin JVM's local zone), e.g. America/Los_Angeles
CREATE VIEW IF NOT EXISTS ranger_audit_parsed AS
WITH fields AS (
    SELECT
        line,
        get_json_object(line, '$') AS whole,
        get_json_object(line, '$.repoType') AS repo_type,
        get_json_object(line, '$.reqUser') AS req_user,
        get_json_object(line, '$.evtTime') AS evt_time,
        coalesce(get_json_object(line, '$.access'), '') AS access,
        coalesce(get_json_object(line, '$.action'), '') AS verb,
        coalesce(get_json_object(line, '$.resource'), '') AS resource,
        coalesce(get_json_object(line, '$.resType'), '') AS res_type,
        get_json_object(line, '$.result') AS result,
        get_json_object(line, '$.policy') AS policy,
        get_json_object(line, '$.cliIP') AS cli_ip,
        get_json_object(line, '$.sess') AS sess,
        get_json_object(line, '$.reqData') AS req_data,
        get_json_object(line, '$.event_count') AS event_count,
        get_json_object(line, '$.id') AS id
    FROM ranger_audit_lines
),
timed AS (
    SELECT *,
        -- the shape is checked before any conversion: ANSI mode (Spark 4's default) fails a
        -- whole query on one bad CAST, Hive returns NULL; both quarantine the line here
        CASE
            WHEN NOT evt_time RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?Z?$' THEN NULL
            WHEN evt_time LIKE '%T%' THEN CAST(regexp_replace(regexp_replace(evt_time, 'T', ' '), 'Z$', '') AS TIMESTAMP)
            ELSE to_utc_timestamp(evt_time, $timezone)
        END AS utc_time,
        split(resource, '/') AS parts
    FROM fields
)
SELECT *,
    $source AS source_file,
    CASE
        WHEN whole IS NULL THEN 'not valid JSON'
        WHEN substr(trim(line), 1, 1) <> '{' THEN 'not a JSON object'
        WHEN repo_type IS NULL OR repo_type = '' THEN 'missing field repoType'
        WHEN NOT repo_type RLIKE '^-?[0-9]+$' THEN 'repoType must be an integer'
        WHEN repo_type NOT IN ('1', '3') THEN NULL
        WHEN req_user IS NULL OR req_user = '' THEN 'missing field reqUser'
        WHEN trim(req_user) = '' OR substr(trim(req_user), 1, 1) IN ('/', '@') THEN 'reqUser names no principal (nothing before its first ''/'' or ''@'')'
        WHEN evt_time IS NULL OR evt_time = '' THEN 'missing field evtTime'
        WHEN utc_time IS NULL THEN 'evtTime is not a time'
        WHEN result IS NULL OR result = '' THEN 'missing field result'
        WHEN result NOT IN ('0', '1') THEN 'result must be 0 or 1'
    END AS problem
FROM timed
