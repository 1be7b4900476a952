-- name: csv_cell
-- description: A macro: a text cell as the evidence CSVs write it, neutralized against formula injection.
-- A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a
-- formula (OWASP, "CSV Injection"); principals, objects, statement texts and paths come
-- from logs anyone can write to. Such a cell is prefixed with a single quote, and so is a
-- cell that already starts with one, so that the rule can be undone exactly: a cell that
-- starts with a quote loses that one quote (forensics.evidence.csv_value).
CREATE OR REPLACE MACRO csv_cell(x) AS
    CASE WHEN regexp_matches(x, '^[=+\-@\t\r'']') THEN '''' || x ELSE x END
