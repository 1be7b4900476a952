"""Every layout real systems write gives the events of the bare record (formats.md section 8).

Samples are shaped like the upstream lines (sources noted beside each); names, hosts and
times are invented.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from forensics.ingest import hdfs, metastore, ranger, trino
from forensics.ingest.base import BadLine, NotRecord
from forensics.ingest.layouts import peel
from tests import layout_wrappers as w
from tests.test_ingest import (
    CTX,
    HDFS_OPEN,
    HDFS_PROXY,
    METASTORE_ISO,
    RANGER_HIVE,
    TRINO_NEW,
    TRINO_OLD_CTAS,
)

RANGER_HDFS = (
    '{"repoType":1,"repo":"cm_hdfs","reqUser":"kim","evtTime":"2026-06-18 04:30:05.500",'
    '"access":"open","resource":"/warehouse/mci.db/k/f0","resType":"path","action":"read",'
    '"result":1,"policy":-1,"enforcer":"hadoop-acl","id":"u-1"}'
)

# (parser, the bare record, the same record as a real collection holds it)
LAYOUTS = [
    *[(ranger.parse, RANGER_HIVE, wrap(RANGER_HIVE)) for wrap in w.LOG4J_JSON + w.SHIPPERS],
    (ranger.parse, RANGER_HDFS, w.log4j_kafka_appender(RANGER_HDFS)),
    # a log4j line, shipped: Filebeat around the Kafka appender's layout
    (ranger.parse, RANGER_HIVE, w.filebeat(w.log4j_kafka_appender(RANGER_HIVE))),
    (ranger.parse, RANGER_HIVE, w.syslog_5424(w.log4j_xaaudit(RANGER_HIVE))),
    *[(hdfs.parse, HDFS_OPEN, wrap(HDFS_OPEN)) for wrap in w.SHIPPERS],
    (hdfs.parse, HDFS_PROXY, w.syslog_3164(HDFS_PROXY)),
    *[(metastore.parse, METASTORE_ISO, wrap(METASTORE_ISO)) for wrap in w.SHIPPERS],
    *[(trino.parse, TRINO_NEW, wrap(TRINO_NEW)) for wrap in w.SHIPPERS],
    # trinodb/trino plugin/trino-kafka-event-listener: KafkaRecordBuilder writes
    # QueryCompletedEventWrapper(eventPayload, eventMetadata) as JSON
    (
        trino.parse,
        TRINO_NEW,
        json.dumps({"eventPayload": json.loads(TRINO_NEW), "eventMetadata": {"env": "prod"}}),
    ),
    (
        trino.parse,
        TRINO_OLD_CTAS,
        w.filebeat(json.dumps({"eventPayload": json.loads(TRINO_OLD_CTAS), "eventMetadata": {}})),
    ),
]


@pytest.mark.parametrize(("parse", "bare", "wrapped"), LAYOUTS)
def test_layout_gives_the_events_of_the_bare_record(
    parse: Callable, bare: str, wrapped: str
) -> None:
    expected = parse(bare, CTX)
    assert expected, "the bare sample must give events"
    assert parse(wrapped, CTX) == expected  # same ids, times, fields, file and line


# Hive 3 metastore lines in the log4j2 layout with the location: the vendors'
# `%d{ISO8601} %-5p [%t]: %c{2} (%F:%M(%L)) - %m%n` (and without `:` after the thread, as
# Hive's test runs log; without a thread, as Hive 1/2 did). Shapes of public lines.
METASTORE_LOG4J2 = [
    "2026-06-18 02:50:11,204 INFO  [pool-6-thread-181]: HiveMetaStore.audit "
    "(HiveMetaStore.java:logAuditEvent(305)) - ugi=dora\tip=10.255.0.137\t"
    "cmd=get_table : tbl=hive.mci.keystrokes\t",
    "2026-06-18T02:50:11,204 INFO  [778c135c-019f-4eef-9e9d-715460a5f645 main] "
    "HiveMetaStore.audit (HiveMetaStore.java:logAuditEvent(349)) - ugi=dora\t"
    "ip=10.255.0.137\tcmd=get_table : tbl=hive.mci.keystrokes",
    "2026-06-18 02:50:11,204 INFO  HiveMetaStore.audit (HiveMetaStore.java:logAuditEvent(388))"
    " - ugi=dora\tip=10.255.0.137\tcmd=get_table : db=mci tbl=keystrokes\t",
]


@pytest.mark.parametrize("line", METASTORE_LOG4J2)
def test_metastore_log4j2_layout_parses_as_the_default_one(line: str) -> None:
    (event,) = metastore.parse(line, CTX)
    (bare,) = metastore.parse(METASTORE_ISO, CTX)
    assert event == bare._replace(client_ip="10.255.0.137")
    assert (event.principal, event.object, event.op) == ("dora", "mci.keystrokes", "metadata")


HDFS_CDP = (  # the shape of a CDP 7 NameNode line: a Hue user proxied by Hive, to the trash
    "2026-06-18 04:13:25,273 INFO FSNamesystem.audit: allowed=true\t"
    "ugi=hue/cdp-11.corp.example.com@CORP.EXAMPLE.COM (auth:PROXY) via "
    "hive/cdp-11.corp.example.com@CORP.EXAMPLE.COM (auth:KERBEROS)\tip=/10.46.88.114\t"
    "cmd=rename (options=[TO_TRASH])\tsrc=/warehouse/mci.db/k/000000_0\t"
    "dst=/user/hue/.Trash/Current/warehouse/mci.db/k/000000_0\tperm=hue:hue:rw-r--r--\t"
    "proto=rpc"
)


# Hadoop's FSNamesystem.renameTo logs `"rename (options=" + Arrays.toString(options) + ")"`
# for rename2 (Options.Rename: NONE, OVERWRITE, TO_TRASH); plain rename logs `rename`.
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            HDFS_CDP,
            dict(
                op="write",
                action="rename (options=[TO_TRASH])",
                path="/user/hue/.Trash/Current/warehouse/mci.db/k/000000_0",
                principal="hue",
                principal_raw="hue/cdp-11.corp.example.com@CORP.EXAMPLE.COM",
                via_principal="hive/cdp-11.corp.example.com@CORP.EXAMPLE.COM",
            ),
        ),
        (
            HDFS_CDP.replace("rename (options=[TO_TRASH])", "rename (options=[OVERWRITE])"),
            dict(op="write", path="/user/hue/.Trash/Current/warehouse/mci.db/k/000000_0"),
        ),
        (
            HDFS_CDP.replace("rename (options=[TO_TRASH])", "rename (options=[])"),
            dict(op="write", path="/user/hue/.Trash/Current/warehouse/mci.db/k/000000_0"),
        ),
        (
            HDFS_CDP.replace("rename (options=[TO_TRASH])", "rename"),
            dict(op="write", path="/user/hue/.Trash/Current/warehouse/mci.db/k/000000_0"),
        ),
        (
            HDFS_CDP.replace("rename (options=[TO_TRASH])", "delete"),
            dict(op="write", path="/warehouse/mci.db/k/000000_0"),
        ),
        (  # FSNamesystem.concat: src is Arrays.toString(srcs), dst the target
            HDFS_CDP.replace("rename (options=[TO_TRASH])", "concat")
            .replace("src=/warehouse/mci.db/k/000000_0", "src=[/w/k/a, /w/k/b]")
            .replace("dst=/user/hue/.Trash/Current/warehouse/mci.db/k/000000_0", "dst=/w/k/c"),
            dict(op="write", path="/w/k/c"),
        ),
        (HDFS_OPEN, dict(op="read", via_principal=None)),
        (HDFS_PROXY, dict(principal="bob", via_principal="hive/hs2@CORP")),
    ],
)
def test_hdfs_commands_with_options_and_proxies(line: str, expected: dict) -> None:
    (event,) = hdfs.parse(line, CTX)
    assert {k: getattr(event, k) for k in expected} == expected


# Lines a layout was found around but whose record is not there, and lines without any:
# the reason says what was expected and which layers were found.
@pytest.mark.parametrize(
    ("parse", "line", "reason"),
    [
        (ranger.parse, HDFS_OPEN, r"^not a JSON object, nor one behind a known layout \(log4j"),
        (
            ranger.parse,
            w.log4j_xaaudit(RANGER_HIVE[:60]),
            r"^not valid JSON .* \(inside: log4j prefix\)$",
        ),
        (
            ranger.parse,
            w.filebeat("hello"),
            r"^not a JSON object.* \(inside: JSON envelope field message\)$",
        ),
        (
            ranger.parse,
            w.syslog_3164(w.log4j_xaaudit(RANGER_HIVE.replace('"reqUser":"alice",', ""))),
            r"^missing field reqUser \(inside: syslog \(RFC 3164\) header, log4j prefix\)$",
        ),
        (ranger.parse, RANGER_HIVE.replace('"reqUser":"alice",', ""), r"^missing field reqUser$"),
        (ranger.parse, '{"@timestamp": "x", "host": "h"}', r"^missing field repoType$"),
        (hdfs.parse, RANGER_HIVE, r"^not an FSNamesystem.audit line, nor one behind"),
        (
            hdfs.parse,
            w.docker_json(HDFS_OPEN.replace("allowed=true", "allowed=maybe")),
            r"^allowed must be true or false, got 'maybe' \(inside: JSON envelope field log\)$",
        ),
        (metastore.parse, HDFS_OPEN, r"^not a HiveMetaStore.audit line, nor one behind"),
        (trino.parse, RANGER_HIVE, r"^missing field metadata$"),
        (trino.parse, '{"eventPayload": {"metadata": {}}}', r"^missing field context$"),
    ],
)
def test_unrecognised_layout_reason(parse: Callable, line: str, reason: str) -> None:
    with pytest.raises(BadLine, match=reason):
        parse(line, CTX)


def test_a_record_with_a_message_field_is_not_unwrapped() -> None:
    # a Ranger event is never taken for an envelope, whatever other keys it has
    line = RANGER_HIVE.replace('"repo":', '"message":"x","repo":')
    assert ranger.parse(line, CTX)[0].principal == "alice"
    assert peel(line, ranger.RECORD_KEYS) is None


def test_layers_are_peeled_a_bounded_number_of_times() -> None:
    line = HDFS_OPEN
    for _ in range(10):
        line = w.logstash(line)
    with pytest.raises(BadLine, match="inside: JSON envelope field message"):
        hdfs.parse(line, CTX)
    assert isinstance(NotRecord("x"), BadLine)
