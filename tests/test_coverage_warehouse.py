"""The coverage ledger of a warehouse run (`forensics investigate --profile`): computed from
hourly counts the warehouse aggregates, not from the fetched slice, and saying so.

The fast tests keep the events in DuckDB; one runs the same case on a real Spark Thrift
Server (tests/conftest.py) and requires the same coverage.csv, byte for byte."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from forensics import engine, pushdown, warehouse
from forensics.case import load_case
from forensics.coverage import counts
from forensics.errors import QueryError
from forensics.evidence import verify
from forensics.ingest import ingest
from forensics.investigation import Settings
from tests.conftest import ThriftServer
from tests.test_coverage import _at, _status, _time, done_when_case, lines, ranger, steady
from tests.test_coverage import write_case as write_coverage_case


def _warehouse(case: Path) -> warehouse.DuckDBWarehouse:
    """The case's logs parsed by the toolkit and kept in DuckDB as `events`/`quarantine`."""
    parsed = ingest(load_case(case))
    con = engine.connect()
    engine.load_arrow(con, "events", parsed.events)
    engine.load_arrow(con, "quarantine", parsed.quarantine)
    return warehouse.DuckDBWarehouse(con)


def _run(case: Path, out: Path, wh=None) -> tuple[list[dict], dict]:
    wh = wh or _warehouse(case)
    try:
        pushdown.investigate_in_warehouse(Settings.build(case, out), wh)
    finally:
        wh.close()
    with open(out / "coverage.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, json.loads((out / "manifest.json").read_text())


def test_warehouse_run_names_the_lost_hour_and_the_unaudited_policy(tmp_path: Path) -> None:
    rows, manifest = _run(done_when_case(tmp_path / "lossy", False), tmp_path / "lossy-out")
    gaps = _status(rows, "gap")
    assert [(g["start"], g["end"]) for g in gaps] == [
        ("2026-06-18T11:00:00.000Z", "2026-06-18T12:00:00.000Z")
    ]
    assert gaps[0]["source"] == "logs/ranger/a.log"  # the file set: no agentHost in `events`
    assert gaps[0]["events"] == "0"
    assert "in the hour before" in gaps[0]["reason"]
    assert ("hr.salaries", "policy 1") in {
        (r["object"], r["reason"]) for r in _status(rows, "unaudited")
    }
    assert manifest["coverage"]["basis"].startswith("warehouse: events per source file set")
    assert manifest["coverage"]["rows"]["gap"] == 1
    assert verify(tmp_path / "lossy-out", load_case(tmp_path / "lossy" / "case.yaml")) == []

    rows, manifest = _run(done_when_case(tmp_path / "whole", True), tmp_path / "whole-out")
    assert not _status(rows, "gap")
    assert not _status(rows, "unaudited")
    covered = _status(rows, "covered")
    assert sum(int(r["events"]) for r in covered) == 7 * 30 + 2  # every event, whole hours
    assert all(r["start"].endswith(":00:00.000Z") for r in rows)


def test_quiet_tables_in_a_busy_warehouse_are_no_gap(tmp_path: Path) -> None:
    """The slice of a table read twice a day has silent hours; the warehouse as a whole
    does not: the ledger rests on the counts of every event, not on the slice."""
    events = steady(6, 16, 40)  # sales.orders, busy
    events += [ranger(_at(h), "hana", "hr/salaries", n=8000 + i, policy=1) for i, h in
               enumerate((9.2, 14.7))]  # fmt: skip
    case = write_coverage_case(tmp_path / "case", {"logs/ranger/a.log": lines(events)})
    rows, _ = _run(case, tmp_path / "out")
    assert not _status(rows, "gap")
    assert sum(int(r["events"]) for r in _status(rows, "covered")) == len(events)


def test_summarized_hours_from_the_counts(tmp_path: Path) -> None:
    events = steady(8, 12, 30) + [ranger(_at(10.2), n=7000, count=12)]
    case = write_coverage_case(tmp_path / "case", {"logs/ranger/a.log": lines(events)})
    rows, _ = _run(case, tmp_path / "out")
    (summed,) = _status(rows, "summarized")
    assert (summed["start"], summed["end"]) == (
        "2026-06-18T10:00:00.000Z",
        "2026-06-18T11:00:00.000Z",
    )
    assert summed["events"] == "1" and "stand for 12 accesses" in summed["reason"]


def test_an_hour_the_warehouse_writes_otherwise_is_one_clear_error() -> None:
    assert counts.hour_ms("2026-06-18 07") == int(_time("2026-06-18T07:00:00Z").timestamp() * 1000)
    with pytest.raises(QueryError, match="is not yyyy-MM-dd HH"):
        counts.hour_ms("18/06/2026 07")


def test_the_counts_come_from_one_read_only_aggregate() -> None:
    """What the warehouse is asked is an aggregate (only counts come back) that the
    read-only guard accepts on every engine."""
    for name in ("warehouse/coverage_hours", "warehouse/coverage_policy_events"):
        sql = warehouse.queries.load(name).sql
        for dialect in ("duckdb", "hive", "trino"):
            tree = warehouse.read_only(warehouse.transpile(sql, dialect), dialect)
            assert tree.find(warehouse.exp.From) is not None


# --- on a real Spark Thrift Server ---------------------------------------------------------


def test_thrift_server_coverage_equals_the_duckdb_warehouse_run(
    thrift_server: ThriftServer, tmp_path: Path
) -> None:
    case = done_when_case(tmp_path / "lossy", False)
    parsed = ingest(load_case(case))
    thrift_server.load("coverage_lossy", "events", parsed.events)
    thrift_server.load("coverage_lossy", "quarantine", parsed.quarantine)
    wh = warehouse.HiveWarehouse(thrift_server.profile(database="coverage_lossy"))
    rows, manifest = _run(case, tmp_path / "sts", wh)
    assert len(_status(rows, "gap")) == 1
    assert manifest["events"]["engine"] == "hive"
    _run(case, tmp_path / "duckdb")
    sts = (tmp_path / "sts" / "coverage.csv").read_bytes()
    assert sts == (tmp_path / "duckdb" / "coverage.csv").read_bytes()


def test_findings_and_first_page_say_what_the_coverage_rests_on(tmp_path: Path) -> None:
    """A warehouse run's ledger rests on hourly counts, which cannot see seq_num jumps, cut
    or missing rotated files, Solr TTL or NameNode failovers: the coverage statement (shown
    whole in the first page's coverage section and in 90_findings) says so; a run over the
    log files says its own basis."""
    from forensics import findings, frontpage
    from forensics.coverage import BASIS as FILES_BASIS

    _run(done_when_case(tmp_path / "lossy", False), tmp_path / "wh-out")
    ev = findings.load_evidence(tmp_path / "wh-out")
    assert findings.coverage_basis(ev) == counts.BASIS
    text = findings.coverage_statement(ev)
    assert f"This coverage rests on the {counts.BASIS}." in text.splitlines()
    assert "NameNode failover not checked" in frontpage.coverage_html(frontpage.Answer(ev))

    from tests.test_coverage import investigate as investigate_files

    investigate_files(done_when_case(tmp_path / "files", False), tmp_path / "files-out")
    ev = findings.load_evidence(tmp_path / "files-out")
    assert f"This coverage rests on the {FILES_BASIS}." in findings.coverage_statement(ev)
    assert "not checked" not in findings.coverage_statement(ev)
    assert findings.coverage_statement(ev, "hr.salaries").count("rests on") == 0
