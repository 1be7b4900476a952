"""Ingest: real-format lines to normalized events, bad lines to quarantine with a reason."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from forensics.ingest import hdfs, metastore, ranger, trino
from forensics.ingest.base import BadLine, LineContext
from forensics.ingest.reader import read_lines

LA = ZoneInfo("America/Los_Angeles")
CTX = LineContext("logs/x.log", 7, LA)


def _utc(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


RANGER_HIVE = (
    '{"repoType":3,"repo":"cm_hive","reqUser":"alice","evtTime":"2026-06-18 02:15:02.123",'
    '"access":"SELECT","resource":"mci/private_conversations/msg_text,sender",'
    '"resType":"@column","action":"select","result":1,"agent":"hiveServer2","policy":11,'
    '"enforcer":"ranger-acl","sess":"5f0c2a9e","cliType":"HIVESERVER2","cliIP":"10.20.3.4",'
    '"reqData":"SELECT msg_text, sender FROM mci.private_conversations WHERE ds=\'2026-06-01\'",'
    '"agentHost":"hs2-01","logType":"RangerAudit","id":"0b1c9f-17","seq_num":34,'
    '"event_count":1,"event_dur_ms":0,"tags":[],"cluster_name":"cm","policy_version":4}'
)
HDFS_OPEN = (
    "2026-06-18 04:30:05,001 INFO FSNamesystem.audit: allowed=true\t"
    "ugi=kim@CORP.EXAMPLE.COM (auth:KERBEROS)\tip=/10.30.1.7\tcmd=open\t"
    "src=/warehouse/mci.db/screen_snapshots/ds=2026-06-17/000000_0\tdst=null\tperm=null\t"
    "proto=rpc\tcallerContext=CLI"
)
HDFS_PROXY = (
    "2026-06-18 04:30:05,001 INFO FSNamesystem.audit: allowed=false\t"
    "ugi=bob (auth:PROXY) via hive/hs2@CORP (auth:KERBEROS)\tip=/10.30.1.8\tcmd=listStatus\t"
    "src=/warehouse/mci.db\tdst=null\tperm=null\tproto=rpc"
)
METASTORE_ISO = (
    "2026-06-18T02:50:11,204  INFO [pool-6-thread-181] HiveMetaStore.audit: ugi=dora\t"
    "ip=10.255.0.137\tcmd=get_table : tbl=hive.mci.keystrokes"
)
METASTORE_OLD = (
    "26/06/18 02:50:11 INFO HiveMetaStore.audit: ugi=root\tip=unknown-ip-addr\t"
    "cmd=source:10.1.1.1 get_table : db=default tbl=test"
)
TRINO_NEW = (
    '{"metadata":{"queryId":"20260618_120000_00001_abcde","query":"SELECT * FROM hive.hr.perf",'
    '"queryState":"FINISHED"},"context":{"user":"jack","remoteClientAddress":"10.1.2.3",'
    '"catalog":"hive","schema":"hr"},"ioMetadata":{"inputs":[{"catalogName":"hive",'
    '"schema":"hr","table":"perf","columns":[{"column":"score"},{"column":"Name"}]}]},'
    '"createTime":"2026-06-18T12:00:00.000Z"}'
)
TRINO_OLD_CTAS = (
    '{"metadata":{"queryId":"q2","query":"CREATE TABLE hive.a.c AS SELECT * FROM hive.m.s",'
    '"queryState":"FINISHED","updateType":"CREATE TABLE"},"context":{"user":"mike"},'
    '"ioMetadata":{"inputs":[{"catalogName":"hive","schema":"m","table":"s",'
    '"columns":["x","y"]}],"output":{"catalogName":"hive","schema":"a","table":"c"}},'
    '"createTime":"2026-06-18T12:30:00+02:00"}'
)

# (parser, line, expected fields of each event)
PARSED = [
    (
        ranger.parse,
        RANGER_HIVE,
        [
            dict(
                principal="alice",
                object="mci.private_conversations",
                columns="msg_text;sender",
                op="read",
                result="allowed",
                policy_id=11,
                time_ms=_utc("2026-06-18T09:15:02.123"),
                dedup_key="0b1c9f-17",
                engine="hive",
            )
        ],
    ),
    (
        ranger.parse,
        RANGER_HIVE.replace('"access":"SELECT"', '"access":"CREATE"').replace(
            '"result":1', '"result":0'
        ),
        [dict(op="write", result="denied")],
    ),
    (
        ranger.parse,
        RANGER_HIVE.replace('"resType":"@column"', '"resType":"@database"').replace(
            "mci/private_conversations/msg_text,sender", "mci"
        ),
        [dict(object=None, op="metadata")],
    ),
    (
        ranger.parse,
        RANGER_HIVE.replace("SELECT msg_text", "DESCRIBE msg_text"),
        [dict(op="metadata")],
    ),
    (
        ranger.parse,
        '{"repoType":1,"repo":"cm_hdfs","reqUser":"kim","evtTime":"2026-06-18 04:30:05.500",'
        '"access":"open","resource":"/warehouse/mci.db/k/f0","resType":"path","action":"read",'
        '"result":1,"policy":-1,"enforcer":"hadoop-acl","id":"u-1"}',
        [dict(engine="hdfs", path="/warehouse/mci.db/k/f0", op="read", object=None, policy_id=-1)],
    ),
    (
        ranger.parse,
        '{"repoType":7,"reqUser":"x","evtTime":"2026-06-18 00:00:00.000","result":1}',
        [],
    ),
    (
        hdfs.parse,
        HDFS_OPEN,
        [
            dict(
                principal="kim",
                principal_raw="kim@CORP.EXAMPLE.COM",
                op="read",
                action="open",
                client_ip="10.30.1.7",
                time_ms=_utc("2026-06-18T11:30:05.001"),
            )
        ],
    ),
    (hdfs.parse, HDFS_PROXY, [dict(principal="bob", op="metadata", result="denied")]),
    (
        metastore.parse,
        METASTORE_ISO,
        [dict(principal="dora", object="mci.keystrokes", op="metadata", action="get_table")],
    ),
    (
        metastore.parse,
        "2026-06-18T03:30:10,000  INFO [pool-6-thread-40] HiveMetaStore.audit: ugi=fiona\t"
        "ip=10.20.3.30\tcmd=create_table: Table(tableName:kc_copy, dbName:analytics, owner:fiona)",
        [dict(principal="fiona", object="analytics.kc_copy", op="write", action="create_table")],
    ),
    (
        metastore.parse,
        METASTORE_OLD,
        [dict(object="default.test", client_ip=None, time_ms=_utc("2026-06-18T09:50:11"))],
    ),
    (
        trino.parse,
        TRINO_NEW,
        [dict(principal="jack", object="hr.perf", columns="name;score", op="read", engine="trino")],
    ),
    (
        trino.parse,
        TRINO_OLD_CTAS,
        [
            dict(object="m.s", columns="x;y", op="read", time_ms=_utc("2026-06-18T10:30:00")),
            dict(object="a.c", op="write", action="CREATE TABLE"),
        ],
    ),
]


@pytest.mark.parametrize(("parse", "line", "expected"), PARSED)
def test_line_parses_to_events(parse, line: str, expected: list[dict]) -> None:
    events = parse(line, CTX)
    assert len(events) == len(expected)
    for event, fields in zip(events, expected, strict=False):
        assert event.source_file == "logs/x.log" and event.source_line == 7
        for key, value in fields.items():
            assert getattr(event, key) == value, key


BAD = [
    (ranger.parse, RANGER_HIVE[:80], "not valid JSON"),
    (ranger.parse, "[1, 2]", "not a JSON object"),
    (ranger.parse, RANGER_HIVE.replace('"reqUser":"alice",', ""), "missing field reqUser"),
    (ranger.parse, RANGER_HIVE.replace("2026-06-18 02:15:02.123", "yesterday"), "evtTime"),
    (hdfs.parse, "java.lang.NullPointerException at org.apache", "not an FSNamesystem.audit line"),
    (hdfs.parse, HDFS_OPEN.replace("ugi=kim@CORP.EXAMPLE.COM (auth:KERBEROS)\t", ""), "ugi"),
    (metastore.parse, "2026-06-18 02:50:11,204 INFO other.Logger: hello", "not a HiveMetaStore"),
    (trino.parse, TRINO_NEW.replace('"user":"jack",', ""), "missing field user"),
    (trino.parse, TRINO_NEW.replace("2026-06-18T12:00:00.000Z", "soon"), "createTime"),
]


@pytest.mark.parametrize(("parse", "line", "reason"), BAD)
def test_bad_line_is_quarantined_with_reason(parse, line: str, reason: str) -> None:
    with pytest.raises(BadLine, match=reason):
        parse(line, CTX)


def test_reader_reports_every_line_once(tmp_path: Path) -> None:
    raw = b'{"a":1}\r\n\n\xff\xfe bad\nnul\x00here\nlast-no-newline'
    plain = tmp_path / "x.log"
    plain.write_bytes(raw)
    lines = list(read_lines(plain))
    assert [line.number for line in lines] == [1, 2, 3, 4, 5]
    assert lines[0].text == '{"a":1}'
    assert lines[1].problem == "empty line"
    assert "invalid UTF-8" in (lines[2].problem or "")
    assert "NUL" in (lines[3].problem or "")
    assert lines[4].text == "last-no-newline"


def test_reader_reads_gzip_and_reports_a_cut_stream(tmp_path: Path) -> None:
    body = b"".join(b"line %d\n" % i for i in range(2000))
    whole = tmp_path / "a.log.gz"
    whole.write_bytes(gzip.compress(body, mtime=0))
    assert [line.text for line in read_lines(whole)][-1] == "line 1999"
    cut = tmp_path / "b.log.gz"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])
    lines = list(read_lines(cut))
    assert lines[-1].text is None and "ends early" in (lines[-1].problem or "")
    assert [line.number for line in lines] == list(range(1, len(lines) + 1))


def test_progress_is_quiet_unless_asked(incident, capsys, monkeypatch) -> None:
    from forensics.case import load_case
    from forensics.ingest import ingest

    case = load_case(incident)
    monkeypatch.delenv("FORENSICS_PROGRESS", raising=False)
    ingest(case)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("FORENSICS_PROGRESS", "1")
    result = ingest(case)
    err = capsys.readouterr().err
    assert "ingest" in err and "B/s" in err
    assert sum(f.lines for f in result.files) == 45


def _solr_export(incident, num_found_extra: int = 0, cut: int = 0) -> tuple[str, int]:
    """The incident's second Ranger file as a Solr export (ISO UTC times), pretty-printed."""
    from datetime import datetime, timedelta

    ranger_file = incident.parent / "logs" / "ranger" / "hive_ranger_audit.20260618-09.log"
    docs = []
    for line in ranger_file.read_text().splitlines()[:-1]:  # the last line is cut short
        record = json.loads(line)
        local = datetime.strptime(record.pop("evtTime"), "%Y-%m-%d %H:%M:%S.%f")
        record["evtTime"] = (local + timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        record["evtTime"] += "Z"
        record["cluster"] = record.pop("cluster_name")
        docs.append(record)
    body = json.dumps(
        {
            "responseHeader": {"status": 0, "QTime": 3},
            "response": {"numFound": len(docs) + num_found_extra, "start": 0, "docs": docs},
        },
        indent=1,
    )
    folder = incident.parent / "logs" / "solr"
    folder.mkdir()
    (folder / "ranger_audits.json").write_text(body[: len(body) - cut] if cut else body)
    case = yaml.safe_load(incident.read_text())
    case["logs"].append({"format": "ranger-solr", "path": "logs/solr/*.json"})
    incident.write_text(yaml.safe_dump(case))
    return "logs/solr/ranger_audits.json", len(docs)


def test_solr_export_documents_count_once_beside_the_file_copies(incident) -> None:
    from forensics.case import load_case
    from forensics.ingest import ingest

    rel, n = _solr_export(incident)
    result = ingest(load_case(incident))
    counts = {c.source_file: c for c in result.files}[rel]
    assert (counts.lines, counts.parsed, counts.quarantined) == (n, n, 0)
    solr_events = [e for e in result.events.to_pylist() if e["source_file"] == rel]
    file_events = [
        e for e in result.events.to_pylist() if e["source_file"].endswith("20260618-09.log")
    ]
    assert sorted((e["dedup_key"], e["time"]) for e in solr_events) == sorted(
        (e["dedup_key"], e["time"]) for e in file_events
    )
    lines = {e["source_line"] for e in solr_events}
    assert len(lines) == n and min(lines) > 1  # each document's own starting line


def test_partial_solr_export_is_refused(incident, tmp_path, capsys) -> None:
    from forensics.cli import main

    _solr_export(incident, num_found_extra=500)
    out = tmp_path / "out"
    assert main(["investigate", str(incident), "--out", str(out)]) == 2
    assert "holds 17 of the 517 documents" in capsys.readouterr().err
    assert not out.exists()


def test_solr_export_cut_short_is_quarantined(incident) -> None:
    from forensics.case import load_case
    from forensics.ingest import ingest

    rel, n = _solr_export(incident, cut=300)
    result = ingest(load_case(incident))
    counts = {c.source_file: c for c in result.files}[rel]
    assert counts.quarantined == 1 and counts.parsed == n - 1
    reasons = [q["reason"] for q in result.quarantine.to_pylist() if q["source_file"] == rel]
    assert reasons and "the rest cannot be read" in reasons[0]
