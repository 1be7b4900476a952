-- name: handlers
-- description: The Ranger agent rows of the audit handlers that can show a `seq_num` jump (the `<uuid>` of an `<uuid>-<n>` event id, one per RangerDefaultAuditHandler instance): those that logged an event after their first (`<uuid>-0`). A handler that logged only its first event can show no jump, and most log one (a Ranger handler lives for one authorization call), so the rows are narrowed on the id's first 36 characters (the `<uuid>`) before any is decoded.
CREATE OR REPLACE TEMP TABLE coverage_handlers AS
WITH kept AS (
    SELECT * FROM coverage_agents UNION ALL SELECT * FROM ranger_agents
),
past_first AS (  -- a superset of the handlers below: every id of theirs starts so
    SELECT DISTINCT left(id, 36) AS prefix FROM kept
    WHERE id IS NOT NULL AND seq_num IS NOT NULL AND NOT ends_with(id, '-0')
),
agents AS (
    SELECT source_file, id, any_value(agent_host) AS agent_host, any_value(agent) AS agent,
        any_value(seq_num) AS seq_num,
        regexp_extract(id, '^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-[0-9]{1,10}$', 1) AS handler
    FROM kept k SEMI JOIN past_first p ON p.prefix = left(k.id, 36)
    GROUP BY source_file, id
),
later AS (  -- handlers with an agent row past their first: the only ones with a counter above 0
    SELECT DISTINCT handler FROM agents
    WHERE handler <> '' AND seq_num IS NOT NULL AND NOT ends_with(id, '-0')
)
SELECT a.* FROM agents a SEMI JOIN later h ON h.handler = a.handler
WHERE a.seq_num IS NOT NULL
