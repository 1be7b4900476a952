-- name: redactions_plain
-- description: Statement texts behind classified accesses with their literals replaced by `?`, for the texts of a plain shape that the engine redacts exactly as `forensics.redact` does; `query_redacted` is NULL for every other text (Python redacts those). With keep_literals 1, every text as it is.
-- param: keep_literals int  1: keep the texts as they are (--keep-literals), 0: redact
-- A text is plain when, outside its single-quoted strings, it holds only ASCII letters,
-- digits, spaces and the punctuation `.,()*=<>!;+`: no comment can start (`-`, `/`, `#`), no
-- double quote, backquote, backslash or bracket, no quote inside a string (''), no number
-- touching a letter or a dot (`1e5`, `1.5`, `2col`). For such a text sqlparse's lexer makes
-- each string one String.Single token and each digit run not inside a name one Number
-- token, which is what the two replacements below do; tests/test_redact.py checks that the
-- two agree on the corpus and on generated texts. A `dfs` command is never plain. chr(1) marks a string while checking.
CREATE OR REPLACE TABLE redactions_plain AS
WITH texts AS (
    SELECT DISTINCT query_text FROM classified WHERE query_text IS NOT NULL
),
marked AS (
    SELECT query_text,
        CASE WHEN NOT contains(query_text, chr(1)) AND NOT contains(query_text, '\')
            AND NOT regexp_matches(query_text, '^\s*[dD][fF][sS]\s')  -- a dfs command: redact.py
        THEN regexp_replace(query_text, '''[^'']*''', chr(1), 'g') END AS masked
    FROM texts
)
SELECT query_text,
    CASE WHEN $keep_literals = 1 THEN query_text
    WHEN masked IS NOT NULL
        AND regexp_full_match(masked, '[A-Za-z0-9_ \t\n\r.,()*=<>!;+\x01]*')
        AND NOT contains(masked, chr(1) || chr(1))
        AND NOT regexp_matches(masked, '(^|[^A-Za-z0-9_])[0-9]+[A-Za-z_.]|\.[0-9]')
    THEN trim(
        replace(regexp_replace(masked, '(^|[^A-Za-z0-9_])[0-9]+', '\1?', 'g'), chr(1), '?'),
        E' \t\n\r'
    ) END AS query_redacted
FROM marked
