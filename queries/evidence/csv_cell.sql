-- name: csv_cell
-- description: A macro: a text cell as the evidence CSVs write it, neutralized against formula injection.
-- A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a
-- formula (OWASP, "CSV Injection"); principals, objects, statement texts and paths come
-- from logs anyone can write to. Such a cell is prefixed with a single quote, and so is a
-- cell that already starts with one, so that the rule can be undone exactly: a cell that
-- starts with a quote loses that one quote (forensics.evidence.csv_value).
-- An OR of byte-prefix tests: the same cells as the regular expression '^[=+\-@\t\r'']'
-- (each of these characters is one byte in UTF-8) at a fifth of its cost (1.4 of about 16
-- CPU seconds of writing access_events.csv at 10M events). Not an IN list: DuckDB rewrites
-- an IN list of more than a few constants into a MARK join, and a join over the sorted
-- rows made COPY write them out of order (blocks of 2,048 rows swapped; tests/test_evidence.py
-- checks the plan stays a projection).
CREATE OR REPLACE MACRO csv_cell(x) AS
    CASE WHEN starts_with(x, '=') OR starts_with(x, '+') OR starts_with(x, '-')
        OR starts_with(x, '@') OR starts_with(x, chr(9)) OR starts_with(x, chr(13))
        OR starts_with(x, '''')
    THEN '''' || x ELSE x END
