"""The warehouse path measured: the generated incidents in a Spark Thrift Server.

    python benchmarks/bench_warehouse.py [--sizes 1000000,10000000] [--modes full,slice]

For each size, the incident of `benchmarks/synth_events.py` (cached like `make bench`'s, in
$FORENSICS_BENCH_DIR or ~/.cache/forensics-bench) is declared to a Spark Thrift Server
(pyspark's, local[2], on loopback, NOSASL) as an external Parquet table over the very files
the generator wrote (`CREATE TABLE ... USING parquet LOCATION`, nothing copied, no row
inserted), beside an empty `quarantine` table. Then, each in a fresh interpreter:

- embedded: what `forensics investigate` does after ingest, on the same Parquet read by the
  embedded engine as its `raw_events` (the catalog's columns and partitions used, as the
  warehouse path uses them), timed per stage;
- warehouse (one per mode): `forensics investigate CASE --profile bench` as a user runs it,
  with `pushdown: <mode>` in the profile; its stages, where each ran, the rows and bytes
  (read from the server's socket) each fetched come from the manifest (`events.stages`).

Every evidence CSV of each warehouse run is compared byte for byte with the embedded run's.
Writes benchmarks/results/warehouse.md (or `--out`) and its section of docs/performance.md
(unless `--no-docs`), and prints it. Not a test: the targets (issue 23) are checked here
and reported, never asserted in `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import bench_ingest  # noqa: E402
import bench_investigate  # noqa: E402
import synth  # noqa: E402

from tests import spark_server  # noqa: E402

SIZES = (1_000_000, 10_000_000)
#: Full pushdown only by default: the slice, with the generated incidents' 45,000 exposed
#: objects, is hundreds of queries per round and did not finish at 1,000,000 events
#: (README, "Which path to choose"); `--modes full,slice` measures it too.
MODES = ("full",)
RESULTS = HERE / "results" / "warehouse.md"
DOCS = HERE.parent / "docs" / "performance.md"
SECTION = "## The warehouse path (`make bench-warehouse`)"
DRIVER_MEMORY = "6g"
#: The server's settings besides the tests' (README's warehouse section recommends them):
#: a result sent to the client partition by partition, never collected whole in the
#: driver's heap (the exposed accesses are millions of rows at 10M events); the plans
#: and statements kept for the server's status pages cut short and few (each holds the
#: scope's rows as a JSON literal of megabytes).
SERVER_CONF = {
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.thriftServer.incrementalCollect": "true",
    "spark.sql.maxPlanStringLength": "20000",
    "spark.sql.ui.retainedExecutions": "20",
    "spark.sql.thriftserver.ui.retainedStatements": "20",
    "spark.sql.thriftserver.ui.retainedSessions": "10",
}


# --- the server ---------------------------------------------------------------------------


def start_server(
    work: Path, conf: dict[str, str] | None = None, driver_memory: str = DRIVER_MEMORY
) -> tuple[subprocess.Popen, int, float]:
    """Spark Thrift Server as the tests start it (tests/spark_server.py: local[2], UTC,
    NOSASL), with a larger driver, more shuffle partitions and `SERVER_CONF`; returns the
    process, its port and the seconds it took to listen."""
    home = spark_server.spark_home()
    if home is None:
        raise SystemExit("pyspark and a Java runtime are needed; run `make setup`")
    settings = {**SERVER_CONF, **(conf or {})}
    try:
        return spark_server.start(home, work, driver_memory, settings, timeout=300)
    except spark_server.ServerDidNotStart as error:
        raise SystemExit(str(error)) from None


def declare(port: int, database: str, events: Path, quarantine: Path) -> float:
    """`database.events` over the generator's Parquet and an empty `database.quarantine`,
    both external tables (the benchmark's own connection: the toolkit's is read-only)."""
    from pyhive import hive

    started = time.perf_counter()
    con = hive.connect(host="127.0.0.1", port=port, auth="NOSASL", username="setup")
    try:
        cursor = con.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS {database} CASCADE")
        cursor.execute(f"CREATE DATABASE {database}")
        cursor.execute(f"CREATE TABLE {database}.events USING parquet LOCATION '{events}'")
        cursor.execute(f"CREATE TABLE {database}.quarantine USING parquet LOCATION '{quarantine}'")
        cursor.execute(f"SELECT count(*) FROM {database}.events")
        cursor.fetchall()
    finally:
        con.close()
    return time.perf_counter() - started


def empty_quarantine(folder: Path) -> Path:
    """A Parquet file of no quarantined line (the generator's events are all parsed)."""
    import pyarrow.parquet as pq

    from forensics.schema import QUARANTINE_SCHEMA, arrow_table

    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(arrow_table([], QUARANTINE_SCHEMA), folder / "part-0.parquet")
    return folder


# --- the children -------------------------------------------------------------------------


def child_embedded(root: str, out: str) -> dict:
    """`forensics investigate` after ingest, on the Parquet as the engine's raw_events."""
    from datetime import datetime, timezone

    from forensics import engine, queries
    from forensics.case import load_case
    from forensics.catalog import load_catalog
    from forensics.evidence import staged_output, write_evidence, write_manifest
    from forensics.policy.posix import changes_from_rows
    from forensics.reads import table_schema
    from forensics.reconstruct import load_scope, reconstruct
    from forensics.scope import derive_scope

    stages: list[dict] = []

    def stage(name: str, started: float) -> float:
        now = time.perf_counter()
        stages.append({"stage": name, "where": "local", "seconds": now - started})
        return now

    folder = Path(root)
    begun = datetime.now(timezone.utc)
    t0 = t = time.perf_counter()
    case = load_case(folder / "case.yaml")
    catalog = load_catalog(case)
    t = stage("case and catalog", t)
    con = engine.connect()
    bench_investigate.raw_events_view(con, folder / "events")
    named = {p for (p,) in queries.relation(con, "normalize/log_principals").fetchall()}
    changed = queries.relation(con, "normalize/permission_changes").to_arrow_table()
    changes = changes_from_rows(changed.to_pylist())
    t = stage("principals and permission changes", t)
    scope = derive_scope(case, catalog, named, changes)
    t = stage("scope", t)
    load_scope(con, catalog, scope, case.on_behalf_services)
    t = stage("load scope", t)
    reconstruct(con, None, False, None, table_schema(catalog))
    t = stage("reconstruct", t)
    with staged_output(Path(out)) as staged:
        outputs = write_evidence(con, staged)
        write_manifest(staged, case, (), {}, outputs, {}, begun)
    stage("evidence", t)
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time(),
        "peak_rss": bench_ingest._peak_rss(),
        "stages": stages,
    }


def child_warehouse(root: str, out: str, profiles: str) -> dict:
    """`forensics investigate CASE --profile bench` as a user runs it."""
    from forensics.cli import main

    t0 = time.perf_counter()
    args = ["investigate", str(Path(root) / "case.yaml"), "--out", out]
    code = main([*args, "--profile", "bench", "--profiles", profiles])
    if code != 0:
        raise SystemExit(f"forensics investigate --profile exited {code}")
    seconds = time.perf_counter() - t0
    source = json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8"))["events"]
    return {
        "seconds": seconds,
        "cpu": time.process_time(),
        "peak_rss": bench_ingest._peak_rss(),
        "stages": source["stages"],
    }


def server_usage(group: int) -> tuple[float, int]:
    """The CPU seconds the server's processes (its process group) have used so far, and
    the largest peak resident size among them (`VmHWM`), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu, peak = 0.0, 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text(encoding="ascii")
            fields = text[text.rindex(")") + 2 :].split()
            if int(fields[2]) != group:  # pgrp
                continue
            cpu += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            for line in (stat.parent / "status").read_text(encoding="ascii").splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except (OSError, ValueError):
            continue  # a process that ended meanwhile
    return cpu, peak


def run_child(args: list[str], log: Path, timeout: float, server: int | None = None) -> dict:
    """One measurement in a fresh interpreter (its JSON answer on stdout), stopped after
    `timeout` seconds (the warehouse's progress, in the log, says where it was); with the
    CPU seconds the server (process group `server`) used meanwhile."""
    command = [sys.executable, __file__, "--child", *args]
    env = dict(os.environ, FORENSICS_PROGRESS="1")
    load = os.getloadavg()[0]
    before = server_usage(server)[0] if server is not None else 0.0
    with open(log, "w", encoding="utf-8") as err:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        try:
            out, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            last = log.read_text(encoding="utf-8", errors="replace").split("\r")[-1].strip()
            return {"failed": f"stopped after {timeout:.0f} s ({last[-120:]})"}
    done = subprocess.CompletedProcess(command, child.returncode, out)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        return {"failed": " / ".join(tail)[-400:]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load"] = [load, os.getloadavg()[0]]
    if server is not None:
        result["server_cpu"], result["server_peak_rss"] = server_usage(server)
        result["server_cpu"] -= before
    return result


# --- the comparison -----------------------------------------------------------------------


def compare(left: Path, right: Path) -> dict:
    """Each evidence CSV: identical bytes or not, and its rows (header excluded)."""
    from forensics.evidence import EVIDENCE_FILES

    found = {}
    for name in EVIDENCE_FILES:
        a, b = left / f"{name}.csv", right / f"{name}.csv"
        same = a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()
        rows = _rows(a)
        found[name] = {"identical": same, "rows": rows}
    return found


def _rows(path: Path) -> int:
    import pyarrow.csv as pc

    return pc.read_csv(path).num_rows if path.is_file() else 0


def measure(n: int, port: int, modes: list[str], cache: Path, timeout: float, server: int) -> dict:
    """The embedded run and one warehouse run per mode on the incident of `n` events
    (`server`: the server's process group, whose CPU seconds each run adds)."""
    root, _ = bench_investigate.incident(synth.Params(events=n), cache)
    runs = root.parent / f"{root.name}-bench-warehouse"  # evidence outside the case folder
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()
    database = f"bench{n}"
    quarantine = empty_quarantine(runs / "quarantine")
    result: dict = {"events": n, "root": str(root)}
    result["declare_s"] = declare(port, database, root / "events", quarantine)
    embedded = ["embedded", str(root), str(runs / "embedded")]
    result["embedded"] = run_child(embedded, runs / "embedded.log", timeout)
    evidence_rows = None
    if "failed" not in result["embedded"]:
        rows = compare(runs / "embedded", runs / "embedded")
        evidence_rows = sum(v["rows"] for v in rows.values())
    result["evidence_rows"] = evidence_rows
    for mode in modes:
        profiles = runs / f"profiles-{mode}.yaml"
        profiles.write_text(
            "profiles:\n"
            f"  bench: {{engine: hive, host: 127.0.0.1, port: {port}, auth: NOSASL, "
            f"user: investigator, database: {database}"
            + (f", pushdown: {mode}" if mode != "slice" else "")
            + "}\n",
            encoding="utf-8",
        )
        out = runs / mode
        args = ["warehouse", str(root), str(out), str(profiles)]
        found = run_child(args, runs / f"{mode}.log", timeout, server)
        if "failed" not in found and "failed" not in result["embedded"]:
            found["compare"] = compare(runs / "embedded", out)
        result[mode] = found
    return result


# --- the report ---------------------------------------------------------------------------


def _fetch(stages: list[dict]) -> tuple[int, int, float]:
    rows = sum(s.get("rows_fetched", 0) for s in stages)
    size = sum(s.get("bytes_fetched", 0) or 0 for s in stages)
    seconds = sum(s["seconds"] for s in stages if s.get("rows_fetched"))
    return rows, size, seconds


def _cpu(run: dict) -> str:
    """`here + server` CPU seconds of a run (the embedded one has no server)."""
    here = run.get("cpu")
    if here is None:
        return ""
    server = run.get("server_cpu")
    return f"{here:.1f}" if server is None else f"{here:.1f} + {server:.1f}"


def _rss(run: dict) -> str:
    """Peak resident GiB here, and of the server since it started."""
    here = f"{run['peak_rss'] / 2**30:.2f} GiB" if "peak_rss" in run else ""
    server = run.get("server_peak_rss")
    return here if server is None else f"{here}, {server / 2**30:.2f} GiB"


def _load(run: dict) -> str:
    """The 1-minute load average when the run started and when it ended."""
    load = run.get("load")
    return f"{load[0]:.1f} -> {load[1]:.1f}" if load else ""


def report(
    results: list[dict], server_start: float, modes: list[str], memory: str = DRIVER_MEMORY
) -> str:
    """The table of docs/performance.md's warehouse section, and the stages per run."""
    load = os.getloadavg()
    lines = [
        "# The warehouse path, measured (`make bench-warehouse`)\n",
        "Written by `benchmarks/bench_warehouse.py`. Incidents by `benchmarks/synth_events.py` "
        "(300,000 objects, 45,000 exposed, 50,000 principals) declared to a Spark Thrift "
        f"Server (pyspark, local[2], driver {memory}, on the same machine; it took "
        f"{server_start:.0f} s to listen) as an external Parquet table. `embedded` = the "
        "investigation after ingest on the same Parquet by the embedded engine; the others "
        "= `forensics investigate --profile` with the profile's `pushdown` mode. Rows and "
        "bytes fetched: result rows read back from the server, bytes read from its socket. "
        f"Machine: `nproc` {os.cpu_count()}, load average {load[0]:.2f}/{load[1]:.2f}/"
        f"{load[2]:.2f} when written.\n",
        "| events | run | seconds | s / embedded | CPU s here + server | peak RSS here, server "
        "| rows fetched | fetched / evidence rows | MB fetched "
        "| rows/s (MB/s) of the stages that fetched, queries included "
        "| evidence byte-identical | load average |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for r in results:
        base = r["embedded"]
        ev = r.get("evidence_rows")
        if "failed" in base:
            lines.append(
                f"| {r['events']:,} | embedded | failed: {base['failed']} | | | | | | | | | |"
            )
        else:
            lines.append(
                f"| {r['events']:,} | embedded | {base['seconds']:.1f} | 1.00x "
                f"| {_cpu(base)} | {_rss(base)} | 0 | 0.00x | 0 | | ({ev:,} evidence rows) "
                f"| {_load(base)} |"
            )
        for mode in modes:
            m = r.get(mode, {})
            if "failed" in m or not m:
                why = m.get("failed", "not run")
                lines.append(f"| {r['events']:,} | {mode} | failed: {why} | | | | | | | | | |")
                continue
            rows, size, secs = _fetch(m["stages"])
            same = m.get("compare", {})
            identical = all(v["identical"] for v in same.values()) if same else False
            differ = [k for k, v in same.items() if not v["identical"]]
            ratio = f"{m['seconds'] / base['seconds']:.2f}x" if "seconds" in base else ""
            per = f"{rows / ev:.2f}x" if ev else ""
            rate = f"{rows / secs:,.0f} ({size / 2**20 / secs:.1f})" if secs else ""
            lines.append(
                f"| {r['events']:,} | {mode} | {m['seconds']:.1f} | {ratio} | {_cpu(m)} "
                f"| {_rss(m)} | {rows:,} | {per} | {size / 2**20:.1f} | {rate} | "
                + ("yes, all 9 CSVs" if identical else f"NO: {', '.join(differ)}")
                + f" | {_load(m)} |"
            )
    lines += ["", "Targets (issue 23, full pushdown):", ""]
    for r in results:
        m, base, ev = r.get("full", {}), r["embedded"], r.get("evidence_rows")
        if "stages" not in m or "seconds" not in base or not ev:
            lines.append(f"- {r['events']:,} events: not measured ({m.get('failed', 'no run')})")
            continue
        accesses = sum(
            s["rows_fetched"]
            for s in m["stages"]
            if s["stage"].startswith(("exposed objects", "accesses of"))
        )
        access_rows = m.get("compare", {}).get("access_events", {}).get("rows", 0)
        same = all(v["identical"] for v in m.get("compare", {}).values())
        ratio = m["seconds"] / base["seconds"]
        lines += [
            f"- {r['events']:,} events: evidence byte-identical: {'yes' if same else 'NO'}; "
            f"accesses fetched {accesses:,} for {access_rows:,} access_events rows "
            f"({accesses / max(access_rows, 1):.2f}x; target <= 1.1x: "
            f"{'met' if accesses <= 1.1 * access_rows else 'missed'}); time {ratio:.2f}x "
            f"the embedded run (target <= 2x: {'met' if ratio <= 2 else 'missed'})",
        ]
    for r in results:
        for run in ("embedded", *modes):
            m = r.get(run, {})
            if "stages" not in m:
                continue
            lines += [
                f"\n{run} at {r['events']:,} events, per stage:\n",
                "| stage | where | seconds | rows fetched | MB fetched |",
                "| --- | --- | ---: | ---: | ---: |",
            ]
            for s in m["stages"]:
                size = s.get("bytes_fetched")
                lines.append(
                    f"| {s['stage']} | {s['where']} | {s['seconds']:.2f} "
                    f"| {s.get('rows_fetched', 0):,} | "
                    + (f"{size / 2**20:.1f}" if size is not None else "")
                    + " |"
                )
    return "\n".join(lines) + "\n"


def write_docs(text: str, path: Path = DOCS) -> None:
    """This benchmark's section of docs/performance.md replaced (appended the first time),
    the results file's title dropped; the other sections are left as they are."""
    bench_investigate.replace_section(path, SECTION, text.split("\n", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(n) for n in SIZES))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="Markdown file to write (a probe: elsewhere)"
    )
    parser.add_argument(
        "--driver-memory",
        default=DRIVER_MEMORY,
        help="the server's heap (check `free -g` first: the kernel kills it when short)",
    )
    parser.add_argument("--child", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        found = child_embedded(*rest) if kind == "embedded" else child_warehouse(*rest)
        print(json.dumps(found))
        return
    cache = Path(os.environ.get("FORENSICS_BENCH_DIR") or "~/.cache/forensics-bench").expanduser()
    modes = [m for m in args.modes.split(",") if m]
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    work = cache / "thrift-server"
    shutil.rmtree(work, ignore_errors=True)
    server, port, startup = start_server(work, driver_memory=args.driver_memory)
    results = []
    try:
        for n in sizes:
            print(f"{n:,} events ...", file=sys.stderr, flush=True)
            results.append(measure(n, port, modes, cache, args.timeout, server.pid))
            text = report(results, startup, modes, args.driver_memory)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text, encoding="utf-8")
            if not args.no_docs:
                write_docs(text)
            print(text, flush=True)
    finally:
        spark_server.stop(server)


if __name__ == "__main__":
    main()
