"""The layers real collections put around a log line, as functions of the bare line.

Each is shaped like the upstream writer's output (source noted); names, hosts and times are
invented. tests/test_layouts.py checks each gives the events of the bare line;
tests/test_ingest_bulk.py mixes them into the files the bulk readers and the line parser
must read alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable


def log4j_xaaudit(line: str) -> str:
    """Ranger's log4j audit destination through a plain `%d{ISO8601} %-5p %c - %m%n`
    layout (apache/ranger agents-audit/dest-log4j: the message is the event's JSON)."""
    return f"2026-06-18 09:15:02,130 INFO  xaaudit - {line}"


def log4j_kafka_appender(line: str) -> str:
    """Ranger's documented Kafka appender layout `%d{ISO8601} %-5p [%t]: %c{2}
    (%F:%M(%L)) - %m%n` (Ranger wiki, "Configuring Kafka log4j appender with Apache Ranger
    Audits"; logger com.xasecure.audit.provider.Log4jAuditProvider)."""
    return (
        "2026-06-18 09:15:02,130 INFO  [HiveServer2-Handler-Pool: Thread-58]: "
        f"provider.Log4jAuditProvider (Log4jAuditProvider.java:log(49)) - {line}"
    )


def filebeat(line: str) -> str:
    """Filebeat's event: the line in `message`, its file and offset in `log` (ECS)."""
    return json.dumps(
        {
            "@timestamp": "2026-06-18T16:15:03.001Z",
            "log": {"offset": 18734, "file": {"path": "/var/log/hive/audit/ranger.log"}},
            "message": line,
            "input": {"type": "filestream"},
            "host": {"name": "hs2-01"},
            "agent": {"type": "filebeat", "version": "8.13.4"},
            "ecs": {"version": "8.0.0"},
        }
    )


def logstash(line: str) -> str:
    """Logstash's file input with the json_lines output: `message`, `@version`, `path`."""
    return json.dumps(
        {
            "message": line,
            "@version": "1",
            "@timestamp": "2026-06-18T16:15:03.001Z",
            "host": "hs2-01",
            "path": "/var/log/hive/audit/ranger.log",
        }
    )


def fluentd_out_file(line: str) -> str:
    """Fluentd's in_tail (`format none`: the line in `message`) written by out_file's
    default format, `<time>\\t<tag>\\t<record JSON>`."""
    return "2026-06-18T16:15:03+00:00\tranger.audit\t" + json.dumps({"message": line})


def docker_json(line: str) -> str:
    """Docker's json-file logging driver (Fluent Bit's tail uses `log` too): the line with
    its newline in `log`."""
    return json.dumps({"log": line + "\n", "stream": "stdout", "time": "2026-06-18T16:15:03Z"})


def syslog_5424(line: str) -> str:
    """An RFC 5424 syslog message: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`."""
    return f"<134>1 2026-06-18T16:15:03.001Z hs2-01 ranger-audit 4242 - - {line}"


def syslog_5424_sd(line: str) -> str:
    """RFC 5424 with structured data."""
    return (
        '<134>1 2026-06-18T16:15:03.001Z nn-01 hdfs - AUDIT [origin ip="10.0.0.9"]'
        f'[meta sequenceId="7"] {line}'
    )


def syslog_3164(line: str) -> str:
    """An RFC 3164 message as rsyslog forwards it: `<PRI>MMM dd HH:mm:ss HOST TAG: MSG`."""
    return f"<134>Jun 18 16:15:03 nn-01 hdfs-audit[2817]: {line}"


def rsyslog_traditional(line: str) -> str:
    """rsyslog's RSYSLOG_TraditionalFileFormat, the default of its files (no PRI; the day
    padded with a space)."""
    return f"Jun  8 16:15:03 nn-01 hdfs-audit: {line}"


def rsyslog_file_format(line: str) -> str:
    """rsyslog's RSYSLOG_FileFormat: RFC 3339 time with microseconds and offset."""
    return f"2026-06-18T16:15:03.001234+00:00 nn-01 hdfs-audit: {line}"


#: Layers any line may sit behind.
SHIPPERS: list[Callable[[str], str]] = [
    filebeat,
    logstash,
    fluentd_out_file,
    docker_json,
    syslog_5424,
    syslog_5424_sd,
    syslog_3164,
    rsyslog_traditional,
    rsyslog_file_format,
]
#: Layers a JSON record (Ranger's) may sit behind.
LOG4J_JSON: list[Callable[[str], str]] = [log4j_xaaudit, log4j_kafka_appender]
