"""The statements that may write, found once for every round of copy-following
(reconstruct/writing_candidates and incomplete_candidates, which the warehouse path runs
transpiled, the storage paths written resolved here), are the ones the per-round query finds
(reconstruct/write_statements, which reads every event of the principals asked about):
asked about every statement, on the bundled incident, on it with HiveServer2 and lineage
records (text-only records take the keys of the runs they describe), and on a synth one;
and those that wrote are the statements with a write event (reconstruct/statement_texts)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

import tests.test_hiveserver2 as hs2
from forensics import engine, queries
from forensics.case import load_case
from forensics.catalog import load_catalog
from forensics.ingest import ingest_into
from forensics.reconstruct import MAY_WRITE, load_scope, reconstruct, statement_candidates
from forensics.schema import Event
from forensics.scope import derive_scope
from tests.conftest import INCIDENT
from tests.test_classify import T0, _engine, _event

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _reconstructed(case_file: Path, events: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An engine after `reconstruct` on the case (its logs ingested, or `events` Parquet)."""
    case = load_case(case_file)
    catalog = load_catalog(case)
    con = engine.connect(threads=1)
    if events is None:
        ingest_into(con, case)
    else:
        sys.path.insert(0, str(BENCHMARKS))
        try:
            import bench_investigate
        finally:
            sys.path.remove(str(BENCHMARKS))
        bench_investigate.raw_events_view(con, events)
    named = {p for (p,) in queries.relation(con, "normalize/log_principals").fetchall()}
    load_scope(con, catalog, derive_scope(case, catalog, named), case.on_behalf_services)
    reconstruct(con, None)
    return con


def _hs2_case(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled incident with the HiveServer2 log and a lineage record of one run, as
    tests/test_hiveserver2.py builds it (its investigation left out)."""
    monkeypatch.setattr(hs2, "main", lambda argv: 0)
    hs2._investigate(root / "case", lineage=True)
    return root / "case" / "case.yaml"


def _synth_case(root: Path) -> Path:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import synth
        import synth_events
    finally:
        sys.path.remove(str(BENCHMARKS))
    small = dict(events=5_000, tables=120, exposed=30, principals=100, tables_per_db=20)
    synth_events.generate(synth.Params(**small), root / "incident")
    return root / "incident" / "case.yaml"


def _naive_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).replace(tzinfo=None)


def _hand_made(*more: Event) -> duckdb.DuckDBPyConnection:
    """ana's CTAS logged only as its read (its text says it writes, no write event), and
    bob's TRUNCATE logged as a write and as a read (no writing keyword), beside reads; dan's
    two events of one key (`dan|s4|load|select 1`), only the later one's text writing (a
    session holding `|` splits that string elsewhere); eve's INSERT logged by the file it
    wrote (its object found from the path); a writing event that names no principal (a
    statement is asked about with its principal: none such is ever a candidate)."""
    ctas = "CREATE TABLE scratch.k AS SELECT * FROM mci.k"
    events = [
        _event(event_id="r1", principal="ana", session_id="s1", query_text=ctas),
        _event(event_id="r2", principal="ana", session_id="s1", query_text="SELECT 1 FROM mci.k"),
        _event(event_id="r3", principal="bob", session_id="s2", query_text="TRUNCATE TABLE mci.k",
               op="write", source_line=2),
        _event(event_id="r4", principal="bob", session_id="s2", query_text="TRUNCATE TABLE mci.k",
               source_line=3, time_ms=T0 - 1000),
        _event(event_id="r5", principal="carl", session_id="s3", query_text="SELECT * FROM mci.k"),
        _event(event_id="r6", principal="dan", session_id="s4", query_text="load|select 1",
               source_line=4),
        _event(event_id="r7", principal="dan", session_id="s4|load", query_text="select 1",
               source_line=5, time_ms=T0 - 2000),
        _event(event_id="r8", principal="eve", session_id="s5", op="write", object=None,
               query_text="INSERT INTO mci.k2 SELECT 1", path="/w/mci.db/k2/000000_0",
               source_line=6),
        _event(event_id="r9", principal=None, session_id="s6", op="write",
               query_text="INSERT INTO mci.k3 SELECT 1", source_line=7),
    ]  # fmt: skip
    con = _engine(events + list(more))
    statement_candidates(con)
    return con


def _engine_of(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: Event
) -> duckdb.DuckDBPyConnection:
    """The engine after reconstruct for one kind of case: the hand-made events (and
    `extra` ones), the bundled incident, HiveServer2 logs with lineage, or a small synth."""
    if kind == "hand-made":
        return _hand_made(*extra)
    if kind == "bundled":
        return _reconstructed(INCIDENT / "case.yaml")
    if kind == "hs2 and lineage":
        return _reconstructed(_hs2_case(tmp_path, monkeypatch))
    case_file = _synth_case(tmp_path)
    return _reconstructed(case_file, case_file.parent / "events")


@pytest.mark.parametrize("kind", ["hand-made", "bundled", "hs2 and lineage", "synth"])
def test_candidates_are_what_every_statement_asked_about_finds(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = _engine_of(kind, tmp_path, monkeypatch)
    con.execute(
        "CREATE OR REPLACE TABLE wanted_statements AS SELECT DISTINCT statement_key, principal "
        "FROM events WHERE statement_key IS NOT NULL"
    )
    every = queries.relation(con, "reconstruct/write_statements", may_write=MAY_WRITE).fetchall()
    rows = (
        "SELECT statement_key, principal, time, query_text, query_id, written "
        "FROM statement_candidates ORDER BY statement_key"
    )
    once = con.sql(rows).fetchall()
    assert every == once
    wrote = "SELECT statement_key FROM statement_candidates WHERE wrote ORDER BY ALL"
    by_events = (
        "SELECT DISTINCT statement_key FROM events "
        "WHERE op = 'write' AND statement_key IS NOT NULL AND principal IS NOT NULL "
        "ORDER BY ALL"
    )  # what reconstruct/statement_texts read before, keying every event (a statement is
    # asked about with its principal, so one that names none never is)
    assert con.sql(wrote).fetchall() == con.sql(by_events).fetchall()
    # as the warehouse path makes the table: the same rows (the paths written resolved after
    # the rows are fetched, here against the whole catalog: pushdown/written_paths replaces
    # `path_objects` with the paths written only)
    queries.execute(con, "reconstruct/writing_candidates", may_write=MAY_WRITE)
    queries.execute(con, "reconstruct/incomplete_candidates", may_write=MAY_WRITE)
    queries.execute(con, "pushdown/written_paths")
    queries.execute(con, "reconstruct/written_path_objects")
    assert con.sql(rows).fetchall() == once
    assert con.sql(wrote).fetchall() == con.sql(by_events).fetchall()
    assert any(row[5] for row in once)  # some wrote, by their events
    if kind == "hand-made":  # ana's CTAS by its text, bob's TRUNCATE by its write event
        assert sorted((r[1], r[3]) for r in once) == [
            ("ana", "CREATE TABLE scratch.k AS SELECT * FROM mci.k"),
            ("bob", "TRUNCATE TABLE mci.k"),
            ("dan", "load|select 1"),
            ("eve", "INSERT INTO mci.k2 SELECT 1"),
        ]
        times = {r[1]: r[2] for r in once}
        assert times["bob"] == _naive_ms(T0 - 1000)  # its read came first
        assert times["dan"] == _naive_ms(T0 - 2000)  # the event whose text does not write
        assert {r[1]: r[5] for r in once}["eve"] == ["mci.k2"]
    if kind == "hs2 and lineage":  # a text-only record's statement is among them
        assert any(key.startswith(("hs2:", "lineage:")) or text == hs2.CARL_CTAS
                   for key, _, _, text, _, _ in once)  # fmt: skip
    con.close()


#: What reconstruct/statement_texts selected before it took the texts that write from the
#: candidates: the regular expression over every access's text.
_EVERY_TEXT = """
SELECT query_text,
    arg_min(principal, (time, source_file, source_line)) AS principal,
    min(time) AS time,
    arg_min(source_file, (time, source_file, source_line)) AS source_file,
    arg_min(source_line, (time, source_file, source_line)) AS source_line,
    count(DISTINCT event_id) AS events
FROM classified
WHERE query_text IS NOT NULL
    AND (statement_key IN (SELECT statement_key FROM statement_candidates WHERE wrote)
        OR regexp_matches(query_text, $may_write))
GROUP BY query_text
ORDER BY query_text
"""


@pytest.mark.parametrize("kind", ["hand-made", "bundled", "hs2 and lineage", "synth"])
def test_statement_texts_are_the_texts_every_access_tested_finds(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """reconstruct/statement_texts tests a text only where it can write (the candidates'
    accesses, those with no statement key or no principal): the same texts as the test of
    every access's text. Among them dan's writing text but not the other text of its key, a
    Trino INSERT with no query id (no key), a writing text naming no principal (its
    statement is no candidate), and both texts of a Trino query whose first event names no
    principal (a candidate by its second)."""
    trino = dict(engine="trino", source_format="trino-event", source_file="t.log")
    con = _engine_of(
        kind, tmp_path, monkeypatch,
        _event(event_id="t1", query_text="INSERT INTO x.y SELECT 1", **trino),
        _event(event_id="t2", query_text="SELECT 2", source_line=2, **trino),
        _event(event_id="t3", query_id="q9", principal=None, time_ms=T0 - 5000,
               query_text="INSERT INTO x.z SELECT 9", source_line=3, **trino),
        _event(event_id="t4", query_id="q9", principal="fay",
               query_text="INSERT INTO x.w SELECT 9", source_line=4, **trino),
    )  # fmt: skip
    found = queries.relation(con, "reconstruct/statement_texts", may_write=MAY_WRITE).fetchall()
    assert found == con.execute(_EVERY_TEXT, {"may_write": MAY_WRITE}).fetchall()
    assert found  # some text writes
    if kind == "hand-made":
        assert [row[0] for row in found] == [
            "CREATE TABLE scratch.k AS SELECT * FROM mci.k",
            "INSERT INTO mci.k2 SELECT 1",
            "INSERT INTO mci.k3 SELECT 1",
            "INSERT INTO x.w SELECT 9",
            "INSERT INTO x.y SELECT 1",
            "INSERT INTO x.z SELECT 9",
            "TRUNCATE TABLE mci.k",
            "load|select 1",
        ]
    con.close()
