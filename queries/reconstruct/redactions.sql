-- name: redactions
-- description: Every statement text behind a classified access and its redacted form: the engine's for plain texts (redactions_plain), Python's for the others (redactions_other).
CREATE OR REPLACE TABLE redactions AS
SELECT p.query_text, coalesce(p.query_redacted, o.query_redacted) AS query_redacted
FROM redactions_plain p LEFT JOIN redactions_other o ON o.query_text = p.query_text
