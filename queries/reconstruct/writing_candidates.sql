-- name: writing_candidates
-- description: The `statement_candidates` table: every statement that may have written something (a write event, or text that says so), with what copy-following needs of it (reconstruct/statement_aggregate), built once before the first round of copy-following; the embedded run and the warehouse path (transpiled, one scan of the events there) both make it. Then reconstruct/incomplete_candidates.
-- param: may_write text  regular expression for a text that may write (a writing keyword)
-- Those statements are found from the few events that say so (a write event or a writing
-- text), keyed alone: keying every event of the principals who wrote read most events at
-- 100M (a few hundred principals at 10M, thousands at 100M), and its aggregate spilled.
-- A statement is `complete` from those events alone when they complete it (`completes`,
-- reconstruct/statement_aggregate: keyed from its own principal, session and text, one of
-- them saying so by its text, so they all say so; events whose principal or session holds
-- a `|` are read too) and no text-only record takes its key. The others (a TRUNCATE logged
-- as a write, an engine's query id, a text-only record; none in the synth incident) are
-- aggregated again from every event of their principals, as a statement's events all
-- have its principal (reconstruct/incomplete_candidates: the engine skips that read when
-- there are none). The storage paths written are resolved to objects there too
-- (`written_paths`), after the aggregate: joined here, the events were the hash table the
-- path objects were matched against (millions of wide rows at 100M, out of memory).
CREATE OR REPLACE TABLE statement_candidates AS
WITH said AS (
    SELECT e.*
    FROM kept_events e
    WHERE e.op = 'write' OR regexp_matches(e.query_text, $may_write)
        OR contains(e.principal, '|') OR contains(e.session_id, '|')
)
SELECT statement_key, principal, time, query_text, query_id, written, written_paths, wrote,
    completes AND statement_key NOT IN (SELECT statement_key FROM text_statement_keys)
        AS complete
FROM statement_aggregate(said, $may_write)
WHERE may_write
