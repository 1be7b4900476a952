"""Hive LineageLogger records: parsed as text-only statements that follow copies, never reads."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from forensics.cli import main
from forensics.ingest.base import BadLine, LineContext
from forensics.ingest.lineage import parse
from tests.conftest import INCIDENT

CTX = LineContext("logs/hive/lineage.log", 7, ZoneInfo("America/Los_Angeles"))
PREFIX = "2026-06-18 03:30:05,204 INFO  [HiveServer2-Background-Pool: Thread-88]: "
PREFIX += "hooks.LineageLogger (LineageLogger.java:run(215)) - "


def _column(i: int, label: str) -> dict:
    return {"id": i, "vertexType": "COLUMN", "vertexId": label}


def record(
    user: str,
    epoch: int,
    query: str,
    targets: list[str] | None = None,
    sources: list[str] | None = None,
    database: str = "default",
) -> dict:
    """A lineage record as Hive 2/3 writes it: targets first in the vertex ids, then sources."""
    targets = targets or []
    sources = sources or []
    vertices = [_column(i, v) for i, v in enumerate(targets + sources)]
    edges = []
    if targets or sources:
        edges.append(
            {
                "sources": list(range(len(targets), len(targets) + len(sources))),
                "targets": list(range(len(targets))),
                "edgeType": "PROJECTION",
            }
        )
    return {
        "version": "1.0",
        "user": user,
        "timestamp": epoch,
        "duration": 4211,
        "jobIds": [f"job_1781770000000_{epoch % 10000:04d}"],
        "engine": "tez",
        "database": database,
        "hash": f"{abs(hash(query)) % 10**32:032x}",
        "queryText": query,
        "edges": edges,
        "vertices": vertices,
    }


CTAS = "CREATE TABLE analytics.kc_copy AS SELECT * FROM mci.keystrokes WHERE ds >= '2026-06-01'"
PARSED = [
    (
        "CTAS: reads the sources, writes the target table",
        record(
            "fiona@CORP.EXAMPLE.COM",
            1781778600,
            CTAS,
            ["analytics.kc_copy.user_id", "analytics.kc_copy.keys"],
            ["mci.keystrokes.user_id", "mci.keystrokes.keys"],
        ),
        [
            ("read", "mci.keystrokes", "keys;user_id"),
            ("write", "analytics.kc_copy", "keys;user_id"),
        ],
    ),
    (
        "plain query: its targets are result columns, nothing is written",
        record(
            "carl", 1781776200, "SELECT keys FROM mci.keystrokes", ["keys"], ["mci.keystrokes.keys"]
        ),
        [("read", "mci.keystrokes", "keys")],
    ),
    (
        "no vertices: the statement text is parsed in the record's database",
        record(
            "nora",
            1781780400,
            "INSERT INTO t2 SELECT * FROM mci.screen_snapshots",
            database="scratch",
        ),
        [("read", "mci.screen_snapshots", None), ("write", "scratch.t2", None)],
    ),
    (
        "table vertex (count(*)): the table without columns",
        {
            **record("ana", 1781776800, "SELECT count(*) FROM hr.salaries", ["_c0"]),
            "vertices": [
                _column(0, "_c0"),
                {"id": 1, "vertexType": "TABLE", "vertexId": "hr.salaries"},
            ],
            "edges": [
                {"sources": [1], "targets": [0], "expression": "count(*)", "edgeType": "PROJECTION"}
            ],
        },
        [("read", "hr.salaries", None)],
    ),
]


@pytest.mark.parametrize(
    ("record", "expected"), [c[1:] for c in PARSED], ids=[c[0] for c in PARSED]
)
@pytest.mark.parametrize("prefix", ["", PREFIX], ids=["bare", "log4j"])
def test_lineage_record_gives_reads_and_writes(prefix: str, record: dict, expected: list) -> None:
    events = parse(prefix + json.dumps(record), CTX)
    assert [(e.op, e.object, e.columns) for e in events] == expected
    assert {e.principal for e in events} == {record["user"].split("@")[0].lower()}
    assert {e.time_ms for e in events} == {record["timestamp"] * 1000}
    assert {e.query_text for e in events} == {record["queryText"]}
    assert len({e.event_id for e in events}) == len(events)


BAD = [
    ('  "version" : "1.0",', "no lineage record"),
    ('{"version": "1.0", "queryText": "SELECT 1", "timestamp": 1}', "missing field user"),
    (json.dumps({**record("a", 1781776200, "SELECT 1"), "timestamp": "soon"}), "timestamp must be"),
    (json.dumps({**record("a", 1781776200, "SELECT 1"), "timestamp": 1781776200000}), "not epoch"),
    (
        json.dumps(
            {
                **record("a", 1, "x", ["t.u.c"]),
                "timestamp": 1781776200,
                "edges": [{"sources": [9], "targets": [0]}],
            }
        ),
        "vertex 9, which is not in vertices",
    ),
    (json.dumps({**record("a", 1781776200, "x"), "vertices": {"id": 1}}), "must be lists"),
]


@pytest.mark.parametrize(("line", "reason"), BAD, ids=[r for _, r in BAD])
def test_bad_lineage_lines_are_quarantined_with_a_reason(line: str, reason: str) -> None:
    with pytest.raises(BadLine, match=reason):
        parse(line, CTX)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def with_lineage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled incident plus a lineage log, investigated."""
    case_dir = tmp_path_factory.mktemp("lineage") / "case"
    shutil.copytree(INCIDENT, case_dir)
    lines = [
        # fiona's CTAS, also in the Ranger audit: one statement, no new copy
        record(
            "fiona",
            1781778600,
            CTAS,
            ["analytics.kc_copy.user_id"],
            ["mci.keystrokes.user_id"],
        ),
        # carl copies keystrokes; only lineage saw it
        record(
            "carl",
            1781776200,
            "INSERT OVERWRITE TABLE scratch.carl_keys SELECT user_id, keys FROM mci.keystrokes",
            ["scratch.carl_keys.user_id", "scratch.carl_keys.keys"],
            ["mci.keystrokes.user_id", "mci.keystrokes.keys"],
        ),
        # ana may read keystrokes anyway: her copy is not a copy of exposed data
        record(
            "ana",
            1781776800,
            "CREATE TABLE scratch.ana_keys AS SELECT * FROM mci.keystrokes",
            ["scratch.ana_keys.user_id"],
            ["mci.keystrokes.user_id"],
        ),
        # lena's read exists only in lineage: text-only sources add no read events
        record(
            "lena",
            1781777400,
            "SELECT msg_text FROM mci.private_conversations",
            ["msg_text"],
            ["mci.private_conversations.msg_text"],
        ),
        # nora, no vertices: the text says what was read and written
        record(
            "nora",
            1781780400,
            "INSERT INTO t2 SELECT * FROM mci.screen_snapshots",
            database="scratch",
        ),
    ]
    text = [PREFIX + json.dumps(r) for r in lines]
    text.insert(2, '  "version" : "1.0",')  # a pretty-printed fragment (Hive 1.x)
    (case_dir / "logs" / "hive").mkdir()
    (case_dir / "logs" / "hive" / "lineage.log").write_text("\n".join(text) + "\n")
    # the rotated copy repeats carl's record: it counts once
    (case_dir / "logs" / "hive" / "lineage.log.1").write_text(text[1] + "\n")
    case = yaml.safe_load((case_dir / "case.yaml").read_text())
    case["logs"].append({"format": "hive-lineage", "path": "logs/hive/lineage.log*"})
    (case_dir / "case.yaml").write_text(yaml.safe_dump(case, sort_keys=False))
    out = case_dir.parent / "evidence"
    assert main(["investigate", str(case_dir / "case.yaml"), "--out", str(out)]) == 0
    return out


def test_lineage_follows_copies_only_lineage_saw(with_lineage: Path) -> None:
    copies = {
        (
            r["source_object"],
            r["derived_object"],
            r["principal"],
            r["time"],
            r["statement_kind"],
            r["generation"],
            r["source_file"],
        )
        for r in _rows(with_lineage / "derived_copies.csv")
    }
    ranger = "logs/ranger/hive_ranger_audit.20260618-09.log"
    assert copies == {
        (
            "mci.keystrokes",
            "analytics.kc_copy",
            "fiona",
            "2026-06-18T10:30:00.000Z",
            "ctas",
            "1",
            ranger,
        ),
        (
            "analytics.kc_copy",
            "sandbox.kc_copy2",
            "ivy",
            "2026-06-18T11:00:00.000Z",
            "ctas",
            "2",
            ranger,
        ),
        (
            "mci.private_conversations",
            "/tmp/dora_export",
            "dora",
            "2026-06-18T09:30:00.000Z",
            "insert_directory",
            "1",
            ranger,
        ),
        (
            "mci.keystrokes",
            "scratch.carl_keys",
            "carl",
            "2026-06-18T09:50:00.000Z",
            "insert",
            "1",
            "logs/hive/lineage.log",
        ),
        (
            "mci.screen_snapshots",
            "scratch.t2",
            "nora",
            "2026-06-18T11:00:00.000Z",
            "insert",
            "1",
            "logs/hive/lineage.log",
        ),
    }


def test_lineage_adds_no_read_events(with_lineage: Path) -> None:
    expected = _rows(INCIDENT / "expected" / "exposure_enabled_reads.csv")
    actual = _rows(with_lineage / "exposure_enabled_reads.csv")
    key = ("principal", "object", "read_events", "first_read", "last_read")
    assert sorted(tuple(r[k] for k in key) for r in actual) == sorted(
        tuple(r[k] for k in key) for r in expected
    )
    assert not any(
        r["source_file"].startswith("logs/hive/") for r in _rows(with_lineage / "access_events.csv")
    )


def test_lineage_lines_reconcile(with_lineage: Path) -> None:
    manifest = json.loads((with_lineage / "manifest.json").read_text())
    files = {f["path"]: f for f in manifest["inputs"]}
    log = files["logs/hive/lineage.log"]
    assert (log["lines"], log["parsed"], log["quarantined"]) == (6, 5, 1)
    assert files["logs/hive/lineage.log.1"]["duplicates"] == 2  # carl's read and write events
    quarantine = _rows(with_lineage / "quarantine.csv")
    assert [
        (q["source_file"], q["source_line"], q["format"])
        for q in quarantine
        if q["source_file"].startswith("logs/hive/")
    ] == [("logs/hive/lineage.log", "3", "hive-lineage")]
