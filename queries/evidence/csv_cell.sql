-- name: csv_cell
-- description: A macro: a text cell as the evidence CSVs write it, neutralized against formula injection.
-- A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a
-- formula (OWASP, "CSV Injection"); principals, objects, statement texts and paths come
-- from logs anyone can write to. Such a cell is prefixed with a single quote, and so is a
-- cell that already starts with one, so that the rule can be undone exactly: a cell that
-- starts with a quote loses that one quote (forensics.evidence.csv_value).
-- Each of these characters is one byte in UTF-8 (tab 9, CR 13, ' 39, + 43, - 45, = 61,
-- @ 64), so the first byte decides. Most cells start with a letter, a digit or a byte of a
-- multi-byte character: one range test passes them as they are (text compares bytewise,
-- so `x >= 'A'` is a first byte of 65 or more, `x >= '.' AND x < '='` one of 46 to 60); only
-- the rest get the OR of byte-prefix tests (the same cells as the regular expression
-- '^[=+\-@\t\r'']'). At 10M events the seven tests on every text cell of
-- access_events.csv cost 3 to 4 of its 15 to 16.5 CPU seconds; with the range test first,
-- 12.3 to 12.8, as with no csv_cell at all (12.4). Not an IN list: DuckDB rewrites an IN list of more than a few
-- constants into a MARK join, and a join over the sorted rows made COPY write them out of
-- order (blocks of 2,048 rows swapped; tests/test_evidence.py checks the plan stays a
-- projection).
CREATE OR REPLACE MACRO csv_cell(x) AS
    CASE WHEN x >= 'A' OR (x >= '.' AND x < '=') THEN x
        WHEN starts_with(x, '=') OR starts_with(x, '+') OR starts_with(x, '-')
        OR starts_with(x, '@') OR starts_with(x, chr(9)) OR starts_with(x, chr(13))
        OR starts_with(x, '''')
    THEN '''' || x ELSE x END
