"""The coverage stage of `forensics investigate`, timed on a case (e.g. a synth incident).

    python benchmarks/synth.py /tmp/m1 --events 1000000 --tables 30000 --exposed 4500 \\
        --principals 5000
    python benchmarks/bench_coverage.py /tmp/m1/case.yaml

Ingest and scope run first (ingest timed alone), then `build_coverage` with the time spent
reading the Ranger files again for their agent fields (`load_agents`) and in each
`queries/coverage/` file shown apart. Prints seconds; the machine's load average first,
since it may be shared.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict

import forensics.coverage as coverage
from forensics import engine, queries
from forensics.case import load_case
from forensics.catalog import load_catalog
from forensics.ingest import ingest_into
from forensics.policy.posix import changes_from_rows
from forensics.reconstruct import load_scope
from forensics.scope import derive_scope

spent: dict[str, float] = defaultdict(float)


def _timed(name: str, call, *args, **kwargs):
    start = time.perf_counter()
    try:
        return call(*args, **kwargs)
    finally:
        spent[name] += time.perf_counter() - start


class _Fetched:
    """A query's rows, fetched (and timed) when the query was asked for."""

    def __init__(self, rows: list) -> None:
        self.rows = rows

    def fetchall(self) -> list:
        return self.rows


def main(argv: list[str]) -> int:
    """Time one case's coverage stage."""
    case = load_case(argv[0])
    catalog = load_catalog(case)
    con = engine.connect()
    print(f"load average {os.getloadavg()[0]:.1f}")
    files = _timed("ingest", ingest_into, con, case)
    named = queries.relation(con, "normalize/log_principals").fetchall()
    changed = queries.relation(con, "normalize/permission_changes").to_arrow_table()
    changes = changes_from_rows(changed.to_pylist())
    scope = derive_scope(case, catalog, {p for (p,) in named}, changes)
    load_scope(con, catalog, scope, case.on_behalf_services)
    quarantined = con.table("quarantine").select("source_file, source_line, reason").fetchall()
    load_agents, execute, relation = coverage.load_agents, queries.execute, queries.relation
    coverage.load_agents = lambda *a, **k: _timed("load_agents", load_agents, *a, **k)
    queries.execute = lambda c, name, **k: _timed(name, execute, c, name, **k)
    queries.relation = lambda c, name, **k: _Fetched(
        _timed(name, lambda: relation(c, name, **k).fetchall())
    )
    try:
        lines = {c.source_file: c.lines for c in files}
        args = (con, case, catalog, scope.windows, quarantined, lines)
        summary = _timed("coverage", coverage.build_coverage, *args)
    finally:
        coverage.load_agents, queries.execute, queries.relation = load_agents, execute, relation
    print(f"ingest {spent.pop('ingest'):.1f} s")
    print(f"coverage {spent.pop('coverage'):.1f} s (rows {summary.rows})")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name} {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
