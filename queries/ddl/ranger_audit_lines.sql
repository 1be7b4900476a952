-- name: ranger_audit_lines
-- description: Raw Ranger audit files (one JSON object per line, as the plugins' HDFS and log4j destinations write them) exposed as an EXTERNAL table of one text column: dropping it never deletes the audits. A text table rather than a JSON SerDe because Spark ships no JSON SerDe (hive-hcatalog-core is not in its jars; Hive 2 has none in hive-serde) and because a SerDe fails the whole query on one malformed line, where every line must be parsed or quarantined with a reason.
-- param: location text  the folder holding the audit files, e.g. hdfs:///ranger/audit/hiveServer2/20260618
CREATE EXTERNAL TABLE IF NOT EXISTS ranger_audit_lines (line STRING)
STORED AS TEXTFILE
LOCATION $location
