"""HiveServer2 logs: executed statements with their session user, text-only (never reads)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from forensics.cli import main
from forensics.ingest.base import LineContext
from forensics.ingest.hiveserver2 import parse, records
from tests.conftest import INCIDENT

FIXTURE = Path(__file__).parent / "data" / "hiveserver2" / "hiveserver2.log"
TZ = ZoneInfo("America/Los_Angeles")
CUT = "2026-06-18T03:41:07,1"  # the server was still writing this line
SID = "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011"
OPEN = [  # layout %d{ISO8601} %5p [%t] %c{2}: %m%n
    "2026-06-18T02:00:00,001  INFO [HiveServer2-Handler-Pool: Thread-5] "
    f"service.CompositeService: Session opened, SessionHandle [{SID}], current sessions:1",
    "2026-06-18T02:00:00,002  INFO [HiveServer2-Handler-Pool: Thread-5] "
    "thrift.ThriftCLIService: Login attempt is successful for user : mike",
]
ON = f"[{SID} HiveServer2-Handler-Pool: Thread-5]"
CUT_STATEMENT = "SELECT * FROM hr.sal"


def _events(tmp_path: Path, text: str) -> tuple[list, list]:
    """(events as (line, principal, op, object, time ms), quarantined (line, reason))."""
    log = tmp_path / "hiveserver2.log"
    log.write_text(text)
    events, quarantined = [], []
    for number, payload, problem in records(log, "hs2.log"):
        if payload is None:
            quarantined.append((number, problem))
            continue
        for e in parse(payload, LineContext("hs2.log", number, TZ)):
            events.append((e.source_line, e.principal, e.op, e.object, e.time_ms))
    return events, quarantined


# 2026-06-18 02:05:00.500 in Los Angeles (UTC-7)
T = 1781773500500
LOGS = [
    (
        "compiled on the session's handler thread, executed in the background",
        OPEN
        + [
            f"2026-06-18T02:05:00,500  INFO {ON} ql.Driver: Compiling command(queryId=hive_1): "
            "SELECT * FROM hr.salaries",
            "2026-06-18T02:05:01,000  INFO [HiveServer2-Background-Pool: Thread-9] ql.Driver: "
            "Executing command(queryId=hive_1): SELECT * FROM hr.salaries",
        ],
        [(4, "mike", "read", "hr.salaries", T)],
        [],
    ),
    (
        "Hive 2 layout with location; a user announced before the session opened",
        [
            "2026-06-18 02:00:00,001 INFO  [HiveServer2-Handler-Pool: Thread-5]: "
            "thrift.ThriftCLIService (ThriftCLIService.java:getSessionHandle(552)) - "
            "Creating Hive session handle for user [nina@CORP.EXAMPLE.COM] from IP 10.1.2.3",
            "2026-06-18 02:00:00,002 INFO  [HiveServer2-Handler-Pool: Thread-5]: "
            "service.CompositeService (SessionManager.java:createSession(470)) - "
            f"Session opened, SessionHandle [{SID}], current sessions:1",
            f"2026-06-18 02:05:00,500 INFO  {ON}: ql.Driver (Driver.java:execute(1700)) - "
            "Executing command(queryId=hive_2): INSERT INTO TABLE t2 SELECT * FROM hr.salaries",
        ],
        [(3, "nina", "read", "hr.salaries", T), (3, "nina", "write", "default.t2", T)],
        [],
    ),
    (
        "use changes the database of the session's later statements",
        OPEN
        + [
            f"2026-06-18T02:04:00,000  INFO {ON} ql.Driver: Executing command(queryId=hive_3): "
            "USE Scratch",
            f"2026-06-18T02:05:00,500  INFO {ON} ql.Driver: Executing command(queryId=hive_4): "
            "CREATE TABLE c AS",
            "SELECT * FROM hr.salaries",
        ],
        [
            (3, "mike", "other", None, T - 60500),
            (4, "mike", "read", "hr.salaries", T),
            (4, "mike", "write", "scratch.c", T),
        ],
        [],
    ),
    (
        "a session opened before the file: its statement is quarantined, text and all",
        [
            f"2026-06-18T02:05:00,500  INFO {ON} ql.Driver: Executing command(queryId=hive_5): "
            "SELECT *",
            "FROM hr.salaries",
        ],
        [],
        [
            (1, f"no session user for thread '{ON[1:-1]}': session {SID} was not opened "),
            (2, "continues the statement quarantined on line 1"),
        ],
    ),
    (
        "a background thread without a compilation line names no session",
        OPEN
        + [
            "2026-06-18T02:05:00,500  INFO [HiveServer2-Background-Pool: Thread-9] ql.Driver: "
            "Executing command(queryId=hive_6): SELECT * FROM hr.salaries",
        ],
        [],
        [(3, "no session user for thread 'HiveServer2-Background-Pool: Thread-9': it names no")],
    ),
    (
        "'null' (the raw request field under Kerberos or LDAP) names nobody",
        [
            "2026-06-18T02:00:00,001  INFO [HiveServer2-Handler-Pool: Thread-5] thrift."
            "ThriftCLIService: Creating Hive session handle for user [null] from IP 10.1.2.3",
            OPEN[0],
            f"2026-06-18T02:05:00,500  INFO {ON} ql.Driver: Executing command(queryId=hive_7): "
            "SELECT * FROM hr.salaries",
        ],
        [],
        [(3, "no session user for thread")],
    ),
    (
        "the statement's last line was cut: the statement is incomplete",
        OPEN
        + [
            f"2026-06-18T02:05:00,500  INFO {ON} ql.Driver: Executing command(queryId=hive_8): "
            "CREATE TABLE x AS",
            CUT_STATEMENT,
        ],
        [],
        [
            (3, "statement cut short at the end of the file (line 4 has no line end)"),
            (4, "continues the statement quarantined on line 3"),
        ],
    ),
    (
        "an unreadable line may hold the rest of the statement",
        OPEN
        + [
            f"2026-06-18T02:05:00,500  INFO {ON} ql.Driver: Executing command(queryId=hive_9): "
            "SELECT *",
            "\x00\x00\x00",
            "2026-06-18T02:05:01,000  INFO [main] server.HiveServer2: noise",
        ],
        [],
        [
            (3, "statement may go on past unreadable line 4"),
            (4, "line contains NUL bytes"),
        ],
    ),
    (
        "other loggers and orphan text: parsed without events, or quarantined",
        [
            "text before any record",
            "2026-06-18T02:05:00,500  INFO [main] server.HiveServer2: Starting HiveServer2",
            "",
            "\tat org.apache.hive.Something.run(Something.java:1)",
        ],
        [],
        [(1, "no log record starts before this line")],
    ),
]


@pytest.mark.parametrize(
    ("lines", "expected", "bad"), [c[1:] for c in LOGS], ids=[c[0] for c in LOGS]
)
def test_statements_and_their_users(tmp_path: Path, lines: list, expected: list, bad: list) -> None:
    text = "\n".join(lines) + "\n"
    if lines[-1] == CUT_STATEMENT:
        text = text[:-1]  # the file ends inside the statement
    events, quarantined = _events(tmp_path, text)
    assert sorted(events, key=lambda e: (e[0], e[2])) == expected
    assert len(quarantined) == len(bad)
    for (number, reason), (want_line, want_reason) in zip(quarantined, bad, strict=True):
        assert number == want_line
        assert reason.startswith(want_reason)


def test_fixture_lines_statements_and_quarantine(tmp_path: Path) -> None:
    log = tmp_path / "hiveserver2.log"
    log.write_text(FIXTURE.read_text() + CUT)
    seen = list(records(log, "hs2.log"))
    assert [n for n, _, _ in seen] == list(range(1, 48))  # every line once, in order
    quarantined = {n: p for n, payload, p in seen if payload is None}
    assert sorted(quarantined) == [6, 7, 47]
    assert quarantined[6].startswith(
        "no session user for thread 'HiveServer2-Background-Pool: Thread-95': "
        "session 5e2f8c71-0a3b-4d69-8e14-c7b2a9f0d358 was not opened in this file"
    )
    assert quarantined[7] == "continues the statement quarantined on line 6"
    assert quarantined[47].startswith("last line cut short")
    events = [
        e
        for n, payload, _ in seen
        if payload is not None
        for e in parse(payload, LineContext("hs2.log", n, TZ))
    ]
    assert [(e.source_line, e.principal, e.principal_raw, e.op, e.object) for e in events] == [
        (17, "carl", "carl@CORP.EXAMPLE.COM", "read", "mci.keystrokes"),
        (25, "carl", "carl@CORP.EXAMPLE.COM", "other", None),
        (31, "carl", "carl@CORP.EXAMPLE.COM", "read", "mci.keystrokes"),
        (31, "carl", "carl@CORP.EXAMPLE.COM", "write", "scratch.carl_keys"),
        (43, "fiona", "fiona", "read", "mci.keystrokes"),
        (43, "fiona", "fiona", "write", "analytics.kc_copy"),
        (45, "fiona", "fiona", "read", "mci.private_conversations"),
    ]
    carl_copy = events[2]
    assert carl_copy.query_text == (
        "CREATE TABLE carl_keys AS\n\nSELECT user_name, key_text\nFROM mci.keystrokes\n"
        "WHERE ds = '2026-06-17'"
    )
    assert carl_copy.session_id == "7d3c1a52-8e0b-4f7a-9c61-2b5e4d8f1a07"
    assert carl_copy.query_id == "hive_20260618025000_2d8b4c6e-1f93-4a7d-8c05-b7e2f4a9d610"
    # the compilation's start, 02:50:00.250 in Los Angeles, not the execution's
    assert carl_copy.time_ms == 1781776200250
    # neither the scratch directory (/tmp/hive/hive/...) nor the query id names a user
    assert "hive" not in {e.principal for e in events}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


CARL_CTAS = (
    "CREATE TABLE carl_keys AS\n\nSELECT user_name, key_text\nFROM mci.keystrokes\n"
    "WHERE ds = '2026-06-17'"
)


def _investigate(case_dir: Path, lineage: bool) -> Path:
    """The bundled incident plus the HiveServer2 log (cut short) and, with `lineage`, the
    lineage record of carl's CTAS (the same run), investigated."""
    shutil.copytree(INCIDENT, case_dir)
    (case_dir / "logs" / "hs2").mkdir()
    (case_dir / "logs" / "hs2" / "hiveserver2.log").write_text(FIXTURE.read_text() + CUT)
    case = yaml.safe_load((case_dir / "case.yaml").read_text())
    case["logs"].append({"format": "hiveserver2-log", "path": "logs/hs2/hiveserver2.log"})
    if lineage:
        record = {
            "version": "1.0",
            "user": "carl",
            "timestamp": 1781776200,  # 09:50:00Z, whole seconds
            "duration": 71133,
            "jobIds": ["job_1781770000000_0042"],
            "engine": "mr",
            "database": "scratch",
            "hash": "5f2c",
            "queryText": CARL_CTAS,
            "edges": [],
            "vertices": [],
        }
        (case_dir / "logs" / "hive").mkdir()
        (case_dir / "logs" / "hive" / "lineage.log").write_text(json.dumps(record) + "\n")
        case["logs"].append({"format": "hive-lineage", "path": "logs/hive/lineage.log"})
    (case_dir / "case.yaml").write_text(yaml.safe_dump(case, sort_keys=False))
    out = case_dir.parent / "evidence"
    assert main(["investigate", str(case_dir / "case.yaml"), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def with_hs2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _investigate(tmp_path_factory.mktemp("hs2") / "case", lineage=False)


def _copies(evidence: Path) -> list[tuple[str, ...]]:
    return sorted(
        (
            r["source_object"],
            r["derived_object"],
            r["principal"],
            r["time"],
            r["statement_kind"],
            r["generation"],
            r["source_file"],
            r["source_line"],
        )
        for r in _rows(evidence / "derived_copies.csv")
    )


def test_hs2_follows_a_copy_only_it_saw_and_lists_each_copy_once(with_hs2: Path) -> None:
    copies = _copies(with_hs2)
    ranger = "logs/ranger/hive_ranger_audit.20260618-09.log"
    assert copies == [
        # fiona's CTAS is in the Ranger audit too: one copy, named by the audited event
        ("analytics.kc_copy", "sandbox.kc_copy2", "ivy", "2026-06-18T11:00:00.000Z", "ctas", "2")
        + (ranger, "12"),
        ("mci.keystrokes", "analytics.kc_copy", "fiona", "2026-06-18T10:30:00.000Z", "ctas", "1")
        + (ranger, "10"),
        # carl's CTAS only HiveServer2 saw (in the database of his `use scratch`); the
        # unattributed INSERT into scratch.night_keys is no copy of anyone's
        ("mci.keystrokes", "scratch.carl_keys", "carl", "2026-06-18T09:50:00.250Z", "ctas", "1")
        + ("logs/hs2/hiveserver2.log", "31"),
        (
            "mci.private_conversations",
            "/tmp/dora_export",
            "dora",
            "2026-06-18T09:30:00.000Z",
            "insert_directory",
            "1",
            ranger,
            "3",
        ),
    ]


def test_hs2_adds_no_read_events(with_hs2: Path) -> None:
    expected = _rows(INCIDENT / "expected" / "exposure_enabled_reads.csv")
    actual = _rows(with_hs2 / "exposure_enabled_reads.csv")
    key = ("principal", "object", "read_events", "first_read", "last_read")
    assert sorted(tuple(r[k] for k in key) for r in actual) == sorted(
        tuple(r[k] for k in key) for r in expected
    )
    assert not any(
        r["source_file"].startswith(("logs/hs2/", "logs/hive/"))
        for r in _rows(with_hs2 / "access_events.csv")
    )


def test_hs2_lines_reconcile(with_hs2: Path) -> None:
    manifest = json.loads((with_hs2 / "manifest.json").read_text())
    log = {f["path"]: f for f in manifest["inputs"]}["logs/hs2/hiveserver2.log"]
    assert (log["format"], log["lines"], log["parsed"], log["quarantined"]) == (
        "hiveserver2-log",
        47,
        44,
        3,
    )
    quarantine = [
        (q["source_line"], q["format"], q["reason"][:40])
        for q in _rows(with_hs2 / "quarantine.csv")
        if q["source_file"] == "logs/hs2/hiveserver2.log"
    ]
    assert quarantine == [
        ("6", "hiveserver2-log", "no session user for thread 'HiveServer2-"),
        ("7", "hiveserver2-log", "continues the statement quarantined on l"),
        ("47", "hiveserver2-log", "last line cut short (no line end: the fi"),
    ]


def test_a_lineage_record_of_a_hs2_statement_is_the_same_statement(tmp_path: Path) -> None:
    both = _copies(_investigate(tmp_path / "case", lineage=True))
    carl = [c for c in both if c[2] == "carl"]
    # one copy, not one per text-only source; the earliest record (lineage, whole seconds)
    # dates it
    assert carl == [
        ("mci.keystrokes", "scratch.carl_keys", "carl", "2026-06-18T09:50:00.000Z", "ctas", "1")
        + ("logs/hive/lineage.log", "1")
    ]
