"""The narrowed spellings of reconstruction queries give exactly what the general ones gave."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import duckdb

from forensics import engine, queries, reconstruct
from forensics.case import load_case
from forensics.catalog import load_catalog
from forensics.cli import main
from forensics.reconstruct import load_scope
from forensics.scope import derive_scope

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SMALL = dict(events=20_000, tables=240, exposed=60, principals=100, tables_per_db=20)


def _bench(name: str):
    """A module of benchmarks/ (the generator, the bench's raw_events view)."""
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _both_write_queries(seen: list[int]):
    """A stand-in for `reconstruct.write_statements` that runs the narrowed query and the
    general one on the same wanted statements and requires the same rows."""

    def writes(con: duckdb.DuckDBPyConnection) -> list[reconstruct.Statement]:
        narrowed = queries.relation(
            con, "reconstruct/write_statements_narrowed", may_write=reconstruct.MAY_WRITE
        ).fetchall()
        general = queries.relation(
            con, "reconstruct/write_statements", may_write=reconstruct.MAY_WRITE
        ).fetchall()
        assert narrowed == general
        seen.append(len(general))
        return reconstruct.statements_of(narrowed)

    return writes


def test_narrowed_write_statements_match_the_general_query_on_a_synth_incident(
    tmp_path: Path, monkeypatch
) -> None:
    """Every round of copy-following on a generated incident (no text-only records: the
    narrowed query reads only the events of the wanted texts) asks both queries."""
    synth, bench = _bench("synth"), _bench("bench_investigate")
    root = tmp_path / "incident"
    _bench("synth_events").generate(synth.Params(**SMALL), root)
    seen: list[int] = []
    monkeypatch.setattr(reconstruct, "write_statements", _both_write_queries(seen))
    case = load_case(root / "case.yaml")
    catalog = load_catalog(case)
    con = engine.connect()
    bench.raw_events_view(con, root / "events")
    named = {p for (p,) in con.sql("SELECT DISTINCT principal FROM raw_events").fetchall()}
    load_scope(con, catalog, derive_scope(case, catalog, named), case.on_behalf_services)
    reconstruct.reconstruct(con, None)
    assert len(seen) >= 2 and seen[0] > 0  # copies of copies: more than one round
    ((copies,),) = con.sql("SELECT count(*) FROM copy_edges").fetchall()
    assert copies > 0


def test_narrowed_write_statements_match_the_general_query_on_the_bundled_incident(
    incident: Path, tmp_path: Path, monkeypatch
) -> None:
    """The bundled incident has Trino, HDFS and Ranger events (and the case's other
    sources): each round's rows are the same."""
    seen: list[int] = []
    monkeypatch.setattr(reconstruct, "write_statements", _both_write_queries(seen))
    assert main(["investigate", str(incident), "--out", str(tmp_path / "o")]) == 0
    assert seen and seen[0] > 0
