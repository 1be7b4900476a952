"""`make bench`'s pieces agree: the normalized-event generator (benchmarks/synth_events.py),
the pandas reference (benchmarks/pandas_reference.py) and the toolkit, on a small incident.

The planted answer comes from the generator's own bookkeeping; the pandas reference is
written independently of the toolkit's queries. All three must name the same
exposure-enabled (principal, object) pairs with the same read events, and the two
classifiers must give the same count per classification and the same copies.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from forensics import engine
from forensics.case import load_case
from forensics.catalog import load_catalog
from forensics.evidence import staged_output, write_evidence
from forensics.policy import AccessRequest
from forensics.reconstruct import load_scope, reconstruct
from forensics.scope import derive_scope

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SMALL = dict(events=20_000, tables=240, exposed=60, principals=100, tables_per_db=20)


def _module(name: str):
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def incident(tmp_path_factory) -> Path:
    synth = _module("synth")
    root = tmp_path_factory.mktemp("events") / "incident"
    _module("synth_events").generate(synth.Params(**SMALL), root)
    return root


@pytest.fixture(scope="module")
def toolkit(incident: Path, tmp_path_factory) -> dict:
    """The evidence of the toolkit's investigation of the normalized events."""
    bench = _module("bench_investigate")
    case = load_case(incident / "case.yaml")
    catalog = load_catalog(case)
    con = engine.connect()
    bench.raw_events_view(con, incident / "events")
    named = {p for (p,) in con.sql("SELECT DISTINCT principal FROM raw_events").fetchall()}
    scope = derive_scope(case, catalog, named)
    load_scope(con, catalog, scope, case.on_behalf_services)
    reconstruct(con, None)
    out = tmp_path_factory.mktemp("evidence") / "evidence"
    with staged_output(out) as stage:
        write_evidence(con, stage)
    con.close()

    def rows(name: str) -> list[dict]:
        with open(out / f"{name}.csv", encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    access = rows("access_events")
    return {
        "scope": scope,
        "named": named,
        "pairs": {
            (r["principal"], r["object"], int(r["read_events"]))
            for r in rows("exposure_enabled_reads")
        },  # fmt: skip
        "classes": Counter(r["classification"] for r in access),
        "copies": {(r["source_object"], r["derived_object"]) for r in rows("derived_copies")},
    }


@pytest.fixture(scope="module")
def pandas_answer(incident: Path) -> dict:
    reference = _module("pandas_reference")
    scope, edges = reference.classify(reference.load(incident))
    pairs = reference.exposure_enabled(scope)
    return {
        "pairs": set(pairs.itertuples(index=False, name=None)),
        "classes": Counter(scope["classification"].tolist()),
        "copies": set(zip(edges["target"], edges["target_w"], strict=True)),
    }


def test_generator_is_deterministic_and_plants_readers(incident: Path, tmp_path) -> None:
    synth = _module("synth")
    again = tmp_path / "again"
    _module("synth_events").generate(synth.Params(**SMALL), again)
    for name in ("events/part-000.parquet", "expected/exposure_enabled_reads.parquet"):
        assert (incident / name).read_bytes() == (again / name).read_bytes(), name
    summary = json.loads((incident / "expected" / "summary.json").read_text())
    assert summary["exposure_enabled"]["pairs"] > 100
    assert summary["derived_copies"] >= 10


def test_toolkit_finds_the_planted_readers(incident: Path, toolkit: dict) -> None:
    import pyarrow.parquet as pq

    planted = pq.read_table(incident / "expected" / "exposure_enabled_reads.parquet")
    assert toolkit["pairs"] == set(zip(*planted.to_pydict().values(), strict=True))


def test_the_case_file_as_a_user_runs_it_finds_the_planted_readers(
    incident: Path, toolkit: dict, tmp_path: Path
) -> None:
    """`forensics investigate` on the incident's own case.yaml (its Parquet read through
    `generic`) gives the same pairs as the engine reading the Parquet directly: the case
    file describes the events' times as they are written (UTC)."""
    from forensics.cli import main

    out = tmp_path / "evidence"
    assert main(["investigate", str(incident / "case.yaml"), "--out", str(out)]) == 0
    with open(out / "exposure_enabled_reads.csv", encoding="utf-8", newline="") as f:
        pairs = {(r["principal"], r["object"], int(r["read_events"])) for r in csv.DictReader(f)}
    assert pairs == toolkit["pairs"]


def test_pandas_reference_gives_the_toolkit_answer(toolkit: dict, pandas_answer: dict) -> None:
    assert pandas_answer["pairs"] == toolkit["pairs"]
    assert pandas_answer["classes"] == toolkit["classes"]
    assert pandas_answer["copies"] == toolkit["copies"]
    for kind in ("exposure_enabled", "baseline", "denied", "secondary", "on_behalf", "metadata"):
        assert toolkit["classes"][kind] > 0, kind


def _windows_pair_by_pair(case, catalog, named) -> list[tuple]:
    """Windows as the scope defines them, from every (object, principal) decision of every
    policy state, materialized: what `derive_scope` must give without materializing."""
    from forensics import scope as toolkit
    from forensics.policy import allowed_sets

    members = {p: catalog.groups.get(p, frozenset()) for p in sorted(catalog.principals() | named)}
    members[toolkit.ANYONE] = frozenset()
    objects = sorted(catalog.objects)
    states = toolkit.policy_states(case)
    authority = toolkit.load_authority(case)
    allowed = [allowed_sets(authority.engine(s.policies), objects, members, s.at) for s in states]
    found = []
    for obj in objects:
        base = allowed[0].principals_of(obj)
        if toolkit.ANYONE in base:
            continue
        opened, policies = None, set()
        for i in range(1, len(states)):
            extra = {pid for p, pid in allowed[i].principals_of(obj).items() if p not in base}
            if extra:
                opened = i if opened is None else opened
                policies |= {pid for pid in extra if pid is not None and pid >= 0}
            elif opened is not None:
                found.append((obj, states[opened].at, states[i].at, tuple(sorted(policies))))
                opened, policies = None, set()
        if opened is not None:
            found.append((obj, states[opened].at, None, tuple(sorted(policies))))
    return found


def test_scope_equals_the_pair_by_pair_definition(incident: Path, toolkit: dict) -> None:
    """derive_scope works per class of objects on bitsets; its windows and baseline are
    those of the decisions for every (object, principal) pair."""
    case = load_case(incident / "case.yaml")
    catalog = load_catalog(case)
    scope = toolkit["scope"]
    got = [(w.object, w.start, w.end, w.policy_ids) for w in scope.windows]
    assert got == _windows_pair_by_pair(case, catalog, toolkit["named"])
    assert len(scope.exposed) == SMALL["exposed"]
    engine_, at = baseline_engine(case)
    for obj in scope.exposed[:5]:
        db, table = obj.split(".")
        expected = {
            p
            for p in sorted(catalog.principals() | toolkit["named"])
            if engine_.evaluate(
                AccessRequest(
                    resource={"database": db, "table": table},
                    access_type="select",
                    user=p,
                    groups=catalog.groups.get(p, frozenset()),
                    time=at,
                )
            ).allowed
        }
        assert scope.baseline.principals(obj) == expected
        assert scope.baseline_count(obj) == len(expected)


def baseline_engine(case):
    """Ranger's engine for the case's baseline policies (the first state), and its time."""
    from forensics import scope as toolkit

    first = toolkit.policy_states(case)[0]
    return toolkit.load_authority(case).engine(first.policies), first.at
