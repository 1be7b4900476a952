"""`make bench`: the whole investigation from normalized events, beside the alternatives.

For each incident size (1M, 10M, 100M events by default; written by
`benchmarks/synth_events.py` as normalized events in Parquet, cached under
`$FORENSICS_BENCH_DIR` or `~/.cache/forensics-bench`), each measurement runs in a fresh
subprocess, stopped past `--timeout` seconds or `--max-rss-gb`:

- ours: what `forensics investigate` does after ingest (`forensics.investigation`), from
  the Parquet exposed to the engine as `raw_events` (a view) to a complete evidence folder:
  case and catalog, `normalize/log_principals`, `derive_scope`, `load_scope`,
  `reconstruct` and `write_evidence` + `write_manifest`, each timed; inside them every
  `queries/` file (`forensics.queries.execute`/`relation` wrapped here), statement
  parsing (`extract_objects` calls, to show the share of statements parsed), redaction
  and the Python-to-engine loads. The evidence is checked against the planted answer.
- pandas: `benchmarks/pandas_reference.py`, the classification as a notebook would do it
  (given the scope; it does not evaluate policies), checked against ours.
- duckdb: DuckDB's raw scan of the same Parquet (`count(*)`, `count(DISTINCT principal)`),
  the floor.
- floor: `../shared/bench/floor.py` (d), the least work the two main evidence files need
  in plain DuckDB, given the scope the generator wrote: the yardstick `ours / floor`.
- cli: `forensics investigate` on the incident's own `case.yaml` (the Parquet named as a
  `generic` log), which is what a user whose logs are already Parquet runs (e).
- spark: PySpark `local[2]` running the same `queries/` files, transpiled from DuckDB's
  dialect by sqlglot after `spark_sql.py` expands what sqlglot cannot (macros, starred
  EXCLUDE/REPLACE, layouts; errors raised, never silently dropped). Spark starts from the
  tables of ours' whole run (exported to Parquet after ours is timed; Python's tables such
  as the copies come from there) and makes each query's table or view itself before the
  next query reads it, so one query Spark rejects does not hide the others; rejected
  queries are listed with Spark's reason, and each evidence file's rows are compared.

Peak RSS: `VmHWM` of the child (ours, pandas, duckdb), or the polled sum over the child's
process tree (spark: the JVM). The load average is recorded with each result, since the
machine may be shared. Prints a Markdown table and writes it to
`benchmarks/results/investigate.md` and to the "Whole investigation (make bench)" section
of `docs/performance.md`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_ingest  # noqa: E402  (cache folder, toolkit tree, RSS helpers)
import synth  # noqa: E402
import synth_events  # noqa: E402

SIZES = (1_000_000, 10_000_000, 100_000_000)
TOOLS = ("ours", "cli", "floor", "pandas", "duckdb", "spark")
#: The floor script of the shared material (d); the benchmark runs it, the package never does.
FLOOR = HERE.parent.parent / "shared" / "bench" / "floor.py"
#: The floor script's own default memory limit (its --memory-limit).
FLOOR_DEFAULT_LIMIT = "4GB"
RESULTS = HERE / "results" / "investigate.md"
QUICK = synth.Params(events=100_000, tables=3_000, exposed=450, principals=500, tables_per_db=50)
DOCS = HERE.parent / "docs" / "performance.md"
SECTION = "## Whole investigation (`make bench`)"
#: The queries Spark runs, in the order `reconstruct` and `write_evidence` run them, with
#: the table each creates (None: a SELECT whose rows are fetched or written as CSV).
SPARK_QUERIES = (
    ("normalize/events", "events"),
    ("normalize/duplicates", None),
    ("reconstruct/access", None),
    ("reconstruct/exposed_access", "exposed_access"),
    ("reconstruct/copy_targets", "copy_targets"),
    ("reconstruct/classify", "classification"),
    ("reconstruct/statement_sources", None),
    ("reconstruct/statement_aggregate", None),
    ("reconstruct/write_statements", None),
    ("reconstruct/copy_sources", None),
    ("reconstruct/classified", "classified_all"),
    ("reconstruct/object_categories", "object_categories"),
    ("reconstruct/redactions_plain", "redactions_plain"),
    ("reconstruct/redactions", "redactions"),
    ("reconstruct/statement_texts", None),
    ("reconstruct/access_details", "classified_details"),
    ("reconstruct/access_rows", "access_rows"),
    ("reconstruct/notable_reads", "notable_reads"),
    *((f"evidence/{name}", None) for name in (
        "exposure_enabled_reads", "access_events", "objects", "principals", "derived_copies",
        "unexplained_reads", "quarantine", "unparsed_statements", "exposure_windows",
    )),
)  # fmt: skip


def incident(params: synth.Params, cache: Path) -> tuple[Path, float]:
    """The folder of a generated incident (generated now if absent) and the seconds its
    generation took. Keyed by the parameters, the generators' source and DuckDB's version
    (the generator's random draws are DuckDB hashes)."""
    import duckdb

    source = b"".join((HERE / f).read_bytes() for f in ("synth.py", "synth_events.py"))
    key = json.dumps(asdict(params), sort_keys=True).encode() + source + duckdb.__version__.encode()
    root = cache / f"events-{params.events}-{hashlib.sha256(key).hexdigest()[:12]}"
    timing = root / "bench-generation.json"
    if not (root / "expected" / "summary.json").is_file() or not timing.is_file():
        started = time.perf_counter()
        synth_events.generate(params, root)
        seconds = time.perf_counter() - started
        timing.write_text(json.dumps({"seconds": seconds}) + "\n", encoding="utf-8")
    return root, json.loads(timing.read_text(encoding="utf-8"))["seconds"]


# ---------------------------------------------------------------------------------------------
# Timing inside a child: nested labels; each label's own (exclusive) seconds and calls.


class Timer:
    """Inclusive and exclusive seconds per label, for nested `with timer(label)` blocks, and
    exclusive CPU seconds (this process, every thread: the engine's too): on a shared
    machine the CPU seconds say what a step costs, the wall seconds what it waited."""

    def __init__(self) -> None:
        self.own: dict[str, float] = defaultdict(float)
        self.own_cpu: dict[str, float] = defaultdict(float)
        self.total: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.stack: list[list] = []

    @contextlib.contextmanager
    def __call__(self, label: str):
        frame = [label, 0.0, 0.0]  # label, seconds and CPU seconds of nested blocks
        self.stack.append(frame)
        started, cpu = time.perf_counter(), time.process_time()
        loud = not label.startswith(("parse ", "redact "))
        if loud:  # progress on stderr: which step a stopped run was in
            print(f"{label}: start, RSS {bench_ingest._rss(os.getpid()) / 2**30:.2f} GB",
                  file=sys.stderr, flush=True)  # fmt: skip
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            used = time.process_time() - cpu
            if loud:
                print(f"{label}: {elapsed:.2f} s", file=sys.stderr, flush=True)
            self.stack.pop()
            self.total[label] += elapsed
            self.own[label] += elapsed - frame[1]
            self.own_cpu[label] += used - frame[2]
            self.calls[label] += 1
            if self.stack:
                self.stack[-1][1] += elapsed
                self.stack[-1][2] += used

    def inside(self, label: str) -> bool:
        return any(frame[0] == label for frame in self.stack)


class TimedRelation:
    """A DuckDB relation whose executions (fetchall, write_csv, shape, ...) are timed
    under the query's label."""

    def __init__(self, relation, label: str, timer: Timer) -> None:
        self._relation, self._label, self._timer = relation, label, timer

    def __getattr__(self, name: str):
        with self._timer(self._label):
            value = getattr(self._relation, name)
        if not callable(value):
            return value

        def timed(*args, **kwargs):
            with self._timer(self._label):
                return value(*args, **kwargs)

        return timed


def instrument(timer: Timer, texts: dict[str, set], calls: dict[str, int]) -> None:
    """Wrap the toolkit's query runner, statement parser, redaction and loads (module
    attributes only: nothing in forensics/ changes)."""
    from forensics import evidence, queries, reconstruct

    execute, relation = queries.execute, queries.relation

    def timed_execute(con, name, **values):
        with timer(f"query {name}"):
            return execute(con, name, **values)

    def timed_relation(con, name, **values):
        with timer(f"query {name}"):
            found = relation(con, name, **values)
        return TimedRelation(found, f"query {name}", timer)

    queries.execute, queries.relation = timed_execute, timed_relation

    def wrap(module, name: str, label: str, note=None) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            if note is not None:
                note(*args)
            with timer(label):
                return original(*args, **kwargs)

        setattr(module, name, timed)

    def count(text, *rest) -> None:  # by the function that asked for the parse
        caller = next((f[0][3:] for f in reversed(timer.stack) if f[0].startswith("py ")), "?")
        texts.setdefault(caller, set()).add(text)
        calls[caller] = calls.get(caller, 0) + 1

    wrap(reconstruct, "extract_objects", "parse statements (sqlrefs.extract_objects)", count)
    wrap(reconstruct, "redact", "redact statements")
    wrap(reconstruct, "load_rows", "load Python rows into the engine")
    wrap(reconstruct, "write_statements", "py write_statements")
    wrap(reconstruct, "unparsed_statements", "py unparsed_statements")
    wrap(reconstruct, "view_bases", "py view_bases")
    wrap(reconstruct, "follow_copies", "py follow_copies")
    wrap(evidence, "sha256_file", "sha256 of inputs and outputs")


def raw_events_view(con, folder: Path) -> None:
    """`raw_events` as a view over the Parquet, in the measured toolkit's EVENT_SCHEMA
    (a column the files lack, such as one added after they were generated, is NULL)."""
    import duckdb

    from forensics.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA

    relation = con.read_parquet(str(folder / "*.parquet"))
    have = set(relation.columns)
    kinds = {"string": "VARCHAR", "int64": "BIGINT", "timestamp[ms]": "TIMESTAMP_MS"}
    columns = [
        (duckdb.ColumnExpression(f.name) if f.name in have else duckdb.ConstantExpression(None))
        .cast(duckdb.sqltype(kinds[str(f.type)]))
        .alias(f.name)
        for f in EVENT_SCHEMA
    ]
    relation.select(*columns).create_view("raw_events")
    from forensics.engine import load_arrow
    from forensics.schema import arrow_table

    load_arrow(con, "quarantine", arrow_table([], QUARANTINE_SCHEMA))


def child_ours(root: str, out: str, memory_limit: str) -> dict:
    """The investigation from normalized events to a sealed-off evidence folder, timed."""
    from datetime import datetime, timezone

    from forensics import engine, queries
    from forensics.case import load_case
    from forensics.catalog import load_catalog
    from forensics.evidence import staged_output, write_evidence, write_manifest
    from forensics.reconstruct import load_scope, reconstruct
    from forensics.scope import derive_scope

    timer, texts, calls = Timer(), {}, {}
    instrument(timer, texts, calls)
    folder = Path(root)
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    with timer("stage case and catalog"):
        case = load_case(folder / "case.yaml")
        catalog = load_catalog(case)
    con = engine.connect(memory_limit=memory_limit)
    with timer("stage raw_events view"):
        raw_events_view(con, folder / "events")
    with timer("stage log principals"):
        named = queries.relation(con, "normalize/log_principals").fetchall()
        changes = permission_changes(con)
    with timer("stage derive_scope"):
        scope = derive_scope(case, catalog, {p for (p,) in named}, *changes)
    with timer("stage load_scope"):
        load_scope(con, catalog, scope, case.on_behalf_services)
        if memory_limit == "auto" and hasattr(engine, "fit_memory"):
            engine.fit_memory(con)  # as forensics.investigation does with the default
    with timer("stage reconstruct"):
        duplicates = reconstruct(con, None, False, None, *schema(catalog))
    with timer("stage write_evidence"):
        with staged_output(Path(out)) as stage:
            outputs = write_evidence(con, stage)
            write_manifest(stage, case, (), duplicates, outputs, {}, started)
    seconds = time.perf_counter() - t0
    peak = bench_ingest._peak_rss()
    con.execute("SET memory_limit = '8GB'")  # the counts below are the benchmark's, not ours
    ((statements, distinct_texts, events),) = con.sql(
        "SELECT count(DISTINCT statement_key), count(DISTINCT query_text), count(*) FROM events"
    ).fetchall()
    result = {
        "seconds": seconds,
        "peak_rss": peak,
        "stages": {k[6:]: v for k, v in timer.total.items() if k.startswith("stage ")},
        "own": dict(timer.own),
        "own_cpu": dict(timer.own_cpu),
        "calls": dict(timer.calls),
        "events": events,
        "duplicates": sum(duplicates.values()),
        "distinct_statements": statements,
        "distinct_texts": distinct_texts,
        "parsed": {k: {"calls": calls[k], "texts": len(v)} for k, v in texts.items()},
        "outputs": {o.name: o.rows for o in outputs},
        "windows": len(scope.windows),
        "baseline_sets": len(scope.baseline.classes(scope.exposed)[1]),
    }
    con.close()
    return result


def permission_changes(con) -> tuple:
    """The permission changes the logs record, as `forensics investigate` passes them to
    `derive_scope` (nothing for a toolkit version that predates them)."""
    try:
        from forensics.policy.posix import changes_from_rows
    except ImportError:
        return ()
    from forensics import queries

    rows = queries.relation(con, "normalize/permission_changes").to_arrow_table().to_pylist()
    return (changes_from_rows(rows),)


def schema(catalog) -> tuple:
    """The catalog's columns and views, as `forensics investigate` passes them to
    `reconstruct` for the columns and partitions each read read (nothing for a toolkit
    version that predates them): without them the `columns` cells hold only what the logs
    name, and the run skips the statement reading a user's run does."""
    try:
        from forensics.reads import table_schema
    except ImportError:
        return ()
    return (table_schema(catalog),)


def child_prep(root: str, export: str) -> dict:
    """Spark's inputs: ours' whole reconstruction, every engine table written to Parquet
    (views are not: Spark makes its own from the query files). Not measured. The tables
    Python fills (copies, copy edges, wanted statements, redactions of odd texts) are the
    ones Spark reads; each table a query makes, Spark makes again before it is read."""
    from forensics import engine, queries
    from forensics.case import load_case
    from forensics.catalog import load_catalog
    from forensics.reconstruct import load_scope, reconstruct
    from forensics.scope import derive_scope

    case = load_case(Path(root) / "case.yaml")
    catalog = load_catalog(case)
    con = engine.connect()
    raw_events_view(con, Path(root) / "events")
    named = {p for (p,) in queries.relation(con, "normalize/log_principals").fetchall()}
    scope = derive_scope(case, catalog, named, *permission_changes(con))
    load_scope(con, catalog, scope, case.on_behalf_services)
    reconstruct(con, None, False, None, *schema(catalog))
    con.execute("DELETE FROM asked_statements")  # Spark asks about every statement at once
    tables = [name for (name,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()]
    for name in tables:
        con.table(name).write_parquet(str(Path(export) / f"{name}.parquet"))
    return {"tables": tables, "peak_rss": bench_ingest._peak_rss()}


def child_pandas(root: str, out: str) -> dict:
    """The pandas reference on the same incident; its answer written for comparison."""
    import pandas_reference

    t0 = time.perf_counter()
    scope, edges = pandas_reference.classify(pandas_reference.load(Path(root)))
    pairs = pandas_reference.exposure_enabled(scope)
    seconds = time.perf_counter() - t0
    Path(out).mkdir(parents=True, exist_ok=True)
    pairs.to_csv(Path(out) / "exposure_enabled_reads.csv", index=False)
    counts = scope["classification"].value_counts().to_dict()
    return {
        "seconds": seconds,
        "peak_rss": bench_ingest._peak_rss(),
        "classes": {k: int(v) for k, v in counts.items()},
        "copies": len(edges),
    }


def child_duckdb(root: str) -> dict:
    """The floor: DuckDB scans the same Parquet once."""
    import duckdb

    con = duckdb.connect(":memory:")
    t0 = time.perf_counter()
    ((rows, principals),) = con.sql(
        "SELECT count(*), count(DISTINCT principal) FROM read_parquet($files)",
        params={"files": str(Path(root) / "events" / "*.parquet")},
    ).fetchall()
    return {
        "seconds": time.perf_counter() - t0,
        "peak_rss": bench_ingest._peak_rss(),
        "rows": rows,
        "principals": principals,
    }


def child_floor(root: str, out: str, memory_limit: str) -> dict:
    """(d) the floor script, run in this fresh interpreter so its peak RSS is its own."""
    import runpy

    saved = sys.argv
    sys.argv = [str(FLOOR), root, out, "--memory-limit", memory_limit]
    t0 = time.perf_counter()
    try:
        runpy.run_path(str(FLOOR), run_name="__main__")
    finally:
        sys.argv = saved
    return {"seconds": time.perf_counter() - t0, "peak_rss": bench_ingest._peak_rss()}


def child_cli(root: str, out: str) -> dict:
    """(e) `forensics investigate CASE --out OUT` as a user runs it, with its defaults."""
    from forensics.cli import main as forensics

    t0 = time.perf_counter()
    code = forensics(["investigate", str(Path(root) / "case.yaml"), "--out", out])
    if code != 0:
        raise SystemExit(f"forensics investigate exited {code}")
    return {"seconds": time.perf_counter() - t0, "peak_rss": bench_ingest._peak_rss()}


# ---------------------------------------------------------------------------------------------
# Spark: the same query files, transpiled by sqlglot, on the tables ours computed.


def child_spark(root: str, tables: str, out: str, limit: str) -> dict:
    """Each query of SPARK_QUERIES in Spark local[2], on ours' tables; seconds or reason."""
    from pyspark.sql import SparkSession
    from spark_sql import Translator

    from forensics import queries
    from forensics.reconstruct import MAY_WRITE

    work = Path(out)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("forensics-bench")
        .config("spark.driver.memory", "8g")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.local.dir", str(work / "spark-local"))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    startup = time.perf_counter() - t0
    events = spark.read.parquet(str(Path(root) / "events"))
    events.createOrReplaceTempView("raw_events")
    for path in sorted(Path(tables).glob("*.parquet")):
        spark.read.parquet(str(path)).createOrReplaceTempView(path.stem)
    translator = Translator(params={"may_write": MAY_WRITE, "keep_literals": 0})
    results = []
    # every table's columns (for star expansion), kept up to date as the queries make tables
    schema = {t.name: dict(spark.table(t.name).dtypes) for t in spark.catalog.listTables()}
    for name, _ in SPARK_QUERIES:
        entry = {"query": name}
        started = time.perf_counter()
        cancel = threading.Timer(float(limit), spark.sparkContext.cancelAllJobs)
        cancel.start()
        try:
            for sql, target, kind in translator.statements(queries.load(name).sql, schema):
                frame = spark.sql(sql)
                if kind == "VIEW":
                    frame.createOrReplaceTempView(target)
                    schema[target] = dict(frame.dtypes)
                elif kind == "INSERT":
                    frame = spark.table(target).unionByName(frame)
                    path = str(work / "tables" / f"{target}-{len(results)}")
                    frame.write.mode("overwrite").parquet(path)
                    spark.read.parquet(path).createOrReplaceTempView(target)
                elif target is not None:
                    path = str(work / "tables" / target)
                    frame.write.mode("overwrite").parquet(path)
                    spark.read.parquet(path).createOrReplaceTempView(target)
                    schema[target] = dict(frame.dtypes)
                elif name.startswith("evidence/"):
                    frame.coalesce(1).write.mode("overwrite").csv(str(work / name), header=True)
                else:
                    frame.collect()
            entry["seconds"] = time.perf_counter() - started
            if name.startswith("evidence/"):  # counted after the timing, for the check
                entry["rows"] = spark.read.csv(str(work / name), header=True).count()
        except Exception as exc:  # a finding to report, not a reason to stop
            entry["seconds"] = time.perf_counter() - started
            entry["error"] = _first_line(exc)
            if entry["seconds"] >= float(limit):
                entry["error"] = f"cancelled after {float(limit):.0f} s"
        finally:
            cancel.cancel()
        results.append(entry)
    check = {}
    with contextlib.suppress(Exception):
        rows = spark.sql(
            "SELECT classification, count(*) FROM classified_all GROUP BY classification"
        ).collect()
        check = {r[0]: r[1] for r in rows}
    with contextlib.suppress(Exception):
        spark.stop()
    return {"startup": startup, "queries": results, "classes": check}


def _first_line(exc: BaseException) -> str:
    text = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    text = [ln for ln in text if not ln.startswith("An error occurred while calling")]
    message = next(iter(text), type(exc).__name__).lstrip(": ")
    return re.sub(r"\s+", " ", message)[:240]


# ---------------------------------------------------------------------------------------------
# The parent: children with limits, and the table.


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Spark's JVM included)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += bench_ingest._rss(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as f:
                    todo += [int(c) for c in f.read().split()]
    return total


def run_child(args: list[str], limits: bench_ingest.Limits, log: Path) -> dict:
    """One measurement in a fresh interpreter, stopped when it overruns time or memory."""
    command = [sys.executable, __file__, "--child", *args]
    env = dict(os.environ, FORENSICS_PROGRESS="0")
    if limits.tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(limits.tree), env.get("PYTHONPATH")]))
    load = os.getloadavg()[0]
    with open(log, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        started, peak = time.perf_counter(), 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            elapsed = time.perf_counter() - started
            if peak > limits.max_rss or elapsed > limits.timeout:
                why = f"RSS over {limits.max_rss / 2**30:.0f} GB" if peak > limits.max_rss else (
                    f"timeout after {limits.timeout:.0f} s")  # fmt: skip
                proc.kill()
                proc.wait()
                _reap(proc.pid)
                where = open_steps(log)
                why += f" in {where}" if where else ""
                return {
                    "stopped": why,
                    "finished_steps": finished_steps(log),
                    "seconds": elapsed,
                    "peak_rss": peak,
                    "load": [load, os.getloadavg()[0]],
                }
            time.sleep(0.2)
        out = proc.stdout.read()
    if proc.returncode != 0:
        lines = log.read_text(encoding="utf-8").strip().splitlines() or ["no message"]
        return {"stopped": f"failed ({lines[-1][:200]}; see {log})",
                "seconds": time.perf_counter() - started, "peak_rss": peak,
                "load": [load, os.getloadavg()[0]]}  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    result["polled_rss"] = peak
    result["load"] = [load, os.getloadavg()[0]]
    return result


def finished_steps(log: Path) -> dict[str, float]:
    """Seconds of the stages and queries a stopped child had finished."""
    done: dict[str, float] = defaultdict(float)
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        label, _, rest = line.rpartition(": ")
        if label.startswith(("stage ", "query ")) and re.fullmatch(r"[0-9.]+ s", rest):
            done[label] += float(rest[:-2])
    return dict(done)


def open_steps(log: Path) -> str:
    """The steps a stopped child was inside, from the progress lines it wrote."""
    stack: list[str] = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        label, _, rest = line.rpartition(": ")
        if ": start, RSS " in line:
            stack.append(line.split(": start, RSS ")[0])
        elif rest.endswith(" s") and stack and stack[-1] == label:
            stack.pop()
    return " > ".join(stack)


def _reap(pid: int) -> None:
    """Spark's JVM outlives a killed Python child; stop the ones it started."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError), open(f"/proc/{entry}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if fields and int(fields[1]) == pid:
            with contextlib.suppress(OSError):
                os.kill(int(entry), 9)


def measure(
    params: synth.Params,
    tools: list[str],
    limits: bench_ingest.Limits,
    cache: Path,
    spark_limit: float = 300.0,
    memory_limit: str = bench_ingest.ENGINE_MEMORY_DEFAULT,
) -> dict:
    """Every tool on the incident of `params.events` events."""
    n = params.events
    root, generated = incident(params, cache)
    # beside the incident, not inside it: `forensics investigate` refuses an --out within
    # the case folder (the case file run (e) writes its evidence under here)
    runs = root.with_name(f"{root.name}-runs")
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()
    results: dict = {
        "events": n,
        "generated_s": generated,
        "root": str(root),
        "memory_limit": memory_limit,
    }
    summary = json.loads((root / "expected" / "summary.json").read_text(encoding="utf-8"))
    results["rows"] = summary["rows"]
    exported = runs / "tables"
    if "ours" in tools:
        args = ["ours", str(root), str(runs / "evidence"), memory_limit]
        results["ours"] = run_child(args, limits, runs / "ours.stderr")
        if "stopped" not in results["ours"]:
            results["ours"]["answer"] = check_answer(root, runs / "evidence")
            results["ours"]["classes"] = evidence_classes(runs / "evidence")
    if "cli" in tools:
        args = ["cli", str(root), str(runs / "cli")]
        results["cli"] = run_child(args, limits, runs / "cli.stderr")
        if "stopped" not in results["cli"]:
            results["cli"]["answer"] = check_answer(root, runs / "cli")
        shutil.rmtree(runs / "cli", ignore_errors=True)
    if "floor" in tools:
        if FLOOR.is_file():
            # the floor script takes a size; with ours' automatic limit it keeps its default
            limit = FLOOR_DEFAULT_LIMIT if memory_limit == "auto" else memory_limit
            args = ["floor", str(root), str(runs / "floor"), limit]
            results["floor"] = run_child(args, limits, runs / "floor.stderr")
        else:
            results["floor"] = {"stopped": f"not run: {FLOOR} is absent", "seconds": 0,
                                "peak_rss": 0}  # fmt: skip
        shutil.rmtree(runs / "floor", ignore_errors=True)
    if "pandas" in tools:
        results["pandas"] = run_child(
            ["pandas", str(root), str(runs / "pandas")], limits, runs / "pandas.stderr"
        )
        if "stopped" not in results["pandas"]:
            results["pandas"]["answer"] = check_answer(root, runs / "pandas")
            if "classes" in results.get("ours", {}):
                same = results["pandas"]["classes"] == results["ours"]["classes"]
                same_pairs = _pairs(runs / "pandas") == _pairs(runs / "evidence")
                results["pandas"]["same_as_ours"] = same and same_pairs
    if "duckdb" in tools:
        results["duckdb"] = run_child(["duckdb", str(root)], limits, runs / "duckdb.stderr")
    if "spark" in tools:
        exported.mkdir()
        prep = run_child(["prep", str(root), str(exported)], limits, runs / "prep.stderr")
        if "stopped" in prep:
            why = f"not run: its input tables were not made ({prep['stopped']})"
            results["spark"] = {"stopped": why, "seconds": 0, "peak_rss": 0}
        else:
            results["spark"] = run_child(
                ["spark", str(root), str(exported), str(runs / "spark"), str(spark_limit)], limits,
                runs / "spark.stderr",
            )  # fmt: skip
    shutil.rmtree(exported, ignore_errors=True)
    shutil.rmtree(runs / "spark", ignore_errors=True)
    return results


def _pairs(folder: Path) -> list[tuple]:
    import duckdb

    return duckdb.sql(
        "SELECT principal, object, read_events::BIGINT FROM read_csv($f, all_varchar = true) "
        "ORDER BY ALL",
        params={"f": str(folder / "exposure_enabled_reads.csv")},
    ).fetchall()


def check_answer(root: Path, folder: Path) -> str:
    """Whether exposure_enabled_reads.csv names exactly the planted (principal, object)
    pairs with their read events."""
    import duckdb

    planted = duckdb.sql(
        "SELECT principal, object, read_events::BIGINT FROM read_parquet($f) ORDER BY ALL",
        params={"f": str(root / "expected" / "exposure_enabled_reads.parquet")},
    ).fetchall()
    found = _pairs(folder)
    if found == planted:
        return f"all {len(planted):,} planted pairs"
    missing, extra = len(set(planted) - set(found)), len(set(found) - set(planted))
    return f"differs: {missing:,} planted pairs missing, {extra:,} not planted"


def evidence_classes(folder: Path) -> dict[str, int]:
    """Rows per classification in access_events.csv."""
    import duckdb

    rows = duckdb.sql(
        "SELECT classification, count(*) FROM read_csv($f, all_varchar = true) GROUP BY ALL",
        params={"f": str(folder / "access_events.csv")},
    ).fetchall()
    return {k: int(v) for k, v in rows}


# ---------------------------------------------------------------------------------------------
# Reporting.


def _gb(n: float) -> str:
    return f"{n / 2**30:.2f}"


def table(all_results: list[dict]) -> list[str]:
    """The main table: one row per (size, tool)."""
    lines = [
        "| events | tool | seconds | CPU s | peak RSS GB | s / ours | RSS / ours | s / floor (d) "
        "| CPU / floor | load | answer |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in all_results:
        ours, floor = r.get("ours", {}), r.get("floor", {})
        for tool in TOOLS:
            m = r.get(tool)
            if m is None:
                continue
            seconds, rss = _seconds(tool, m), _rss_of(tool, m)
            cpu = _cpu(tool, m)
            if "stopped" in m:
                cells = f"did not finish: {m['stopped']} | - | > {_gb(m['peak_rss'])} | - | - | -"
                cells += " | -"
            else:
                cells = f"{seconds:.2f} | {_num(cpu)} | {_gb(rss)}"
                cells += f" | {_ratio(seconds, _seconds('ours', ours))}"
                cells += f" | {_ratio(rss, _rss_of('ours', ours))}"
                cells += f" | {_ratio(seconds, _seconds('floor', floor))}"
                cells += f" | {_ratio(cpu, _cpu('floor', floor))}"
            load = "/".join(f"{x:.1f}" for x in m.get("load", []))
            label = LABELS[tool]
            if tool == "ours":
                limit = r.get("memory_limit", bench_ingest.ENGINE_MEMORY_DEFAULT)
                label = f"{label[:-1]}, `--memory-limit {limit}`)"
            lines.append(f"| {r['events']:,} | {label} | {cells} | {load} "
                         f"| {_answer(tool, m)} |")  # fmt: skip
    return lines


LABELS = {
    "ours": "ours (forensics, whole investigation)",
    "cli": "(e) `forensics investigate` on the case file",
    "floor": "(d) floor (`shared/bench/floor.py`)",
    "pandas": "(a) pandas reference",
    "duckdb": "(b) DuckDB raw scan",
    "spark": "(c) PySpark local[2], same queries/",
}


def _seconds(tool: str, m: dict) -> float | None:
    if not m or "stopped" in m:
        return None
    if tool == "spark":
        return sum(q["seconds"] for q in m["queries"] if "error" not in q)
    return m["seconds"]


def _cpu(tool: str, m: dict) -> float | None:
    if not m or "stopped" in m or tool == "spark":
        return None
    return m.get("cpu")


def _rss_of(tool: str, m: dict) -> float | None:
    if not m or "stopped" in m:
        return None
    return m.get("polled_rss", 0) if tool == "spark" else m["peak_rss"]


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def _answer(tool: str, m: dict) -> str:
    if "stopped" in m:
        return "-"
    if tool in ("ours", "cli"):
        return m.get("answer", "-")
    if tool == "floor":
        return "-"
    if tool == "pandas":
        same = {True: "same as ours", False: "DIFFERS from ours"}.get(m.get("same_as_ours"), "")
        return f"{m.get('answer', '-')}; {same}".strip("; ")
    if tool == "duckdb":
        return f"{m['rows']:,} rows, {m['principals']:,} principals"
    ran = [q for q in m["queries"] if "error" not in q]
    return f"{len(ran)} of {len(m['queries'])} queries ran (Spark startup {m['startup']:.1f} s)"


def breakdown(r: dict) -> list[str]:
    """Ours per stage, and the biggest items inside (queries, parsing, loads) by own time."""
    m = r.get("ours", {})
    if m and "stopped" in m:
        lines = [f"\nOurs at {r['events']:,} events was stopped ({m['stopped']}); what it had "
                 "finished (seconds):\n", "| step | seconds |", "| --- | ---: |"]  # fmt: skip
        for label, s in m.get("finished_steps", {}).items():
            lines.append(f"| {label} | {s:.2f} |")
        return lines
    if not m:
        return []
    lines = [f"\nOurs at {r['events']:,} events, per stage (seconds, inclusive):\n",
             "| stage | seconds | share |", "| --- | ---: | ---: |"]  # fmt: skip
    for stage, s in m["stages"].items():
        lines.append(f"| {stage} | {s:.2f} | {s / m['seconds']:.0%} |")
    lines += [f"\nOurs at {r['events']:,} events, the items inside (own seconds, own CPU "
              "seconds of the process, calls):\n",
              "| item | seconds | CPU s | calls |", "| --- | ---: | ---: | ---: |"]  # fmt: skip
    cpu = m.get("own_cpu", {})
    items = sorted(
        ((k, v) for k, v in m["own"].items() if not k.startswith("stage ")), key=lambda kv: -kv[1]
    )
    for label, s in items:
        used = f"{cpu[label]:.2f}" if label in cpu else "-"
        lines.append(f"| {label} | {s:.2f} | {used} | {m['calls'][label]} |")
    stage_own = sum(v for k, v in m["own"].items() if k.startswith("stage "))
    stage_cpu = sum(v for k, v in cpu.items() if k.startswith("stage "))
    lines.append(
        f"| (Python and engine work between them) | {stage_own:.2f} | "
        f"{f'{stage_cpu:.2f}' if cpu else '-'} | |"
    )
    p = {k: v for k, v in m["parsed"].items() if k != "view_bases"}  # catalog, not events
    calls = sum(v["calls"] for v in p.values())
    detail = ", ".join(
        f"{k}: {v['calls']:,} calls on {v['texts']:,} texts" for k, v in sorted(p.items())
    )
    lines.append(
        f"\nStatements parsed at {r['events']:,} events: {calls:,} `extract_objects` calls "
        f"({detail or 'none'}), for {m['distinct_statements']:,} distinct statements "
        f"({m['distinct_texts']:,} distinct texts) in {m['events']:,} events: "
        f"{calls / max(1, m['distinct_statements']):.1%} of statements "
        f"({calls / max(1, m['distinct_texts']):.1%} of distinct texts)."
    )
    return lines


def spark_table(all_results: list[dict]) -> list[str]:
    """Per query: ours (DuckDB) beside Spark on the same input tables."""
    lines = []
    for r in all_results:
        s, o = r.get("spark", {}), r.get("ours", {})
        if not s or "stopped" in s or "own" not in o:  # no run of ours to set beside it
            continue
        lines += [f"\nSpark per query at {r['events']:,} events (same input tables):\n",
                  "| query | ours s | spark s | spark / ours | evidence rows spark / ours "
                  "| Spark's reason if rejected |",
                  "| --- | ---: | ---: | ---: | --- | --- |"]  # fmt: skip
        outputs = {k.removesuffix(".csv"): v for k, v in o.get("outputs", {}).items()}
        for q in s["queries"]:
            ours = o["own"].get(f"query {q['query']}")
            missing = re.match(
                r"\[TABLE_OR_VIEW_NOT_FOUND\] The table or view `(\w+)`", q.get("error", "")
            )
            rows = ""
            if "rows" in q:
                mine = outputs.get(q["query"].removeprefix("evidence/"))
                rows = f"{q['rows']:,} / {mine:,}" if mine is not None else f"{q['rows']:,} / -"
                rows += "" if q["rows"] == mine else " DIFFER"
            if missing:
                why = f"not run: reads `{missing[1]}`, made by a query Spark rejected"
                lines.append(f"| {q['query']} | {_num(ours)} | - | - | | {why} |")
            elif "error" in q:
                lines.append(f"| {q['query']} | {_num(ours)} | - | - | | {q['error']} |")
            else:
                lines.append(f"| {q['query']} | {_num(ours)} | {q['seconds']:.2f} "
                             f"| {_ratio(q['seconds'], ours)} | {rows} | |")  # fmt: skip
        if s.get("classes"):
            same = s["classes"] == {
                k: v for k, v in _classes_all(o).items()
            }  # classified_all includes text-only rows; none are generated
            lines.append(f"\nSpark's classify gives {'the same' if same else 'DIFFERENT'} "
                         f"counts per classification as ours: {s['classes']}")  # fmt: skip
    return lines


def _classes_all(o: dict) -> dict:
    return o.get("classes", {})


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def targets(all_results: list[dict]) -> list[str]:
    """The issue's targets, each met or not, from the measurements."""
    by = {r["events"]: r for r in all_results}
    notes = []

    def finished(n: int, tool: str) -> dict | None:
        m = by.get(n, {}).get(tool)
        return None if not m or "stopped" in m else m

    def ours(n: int) -> dict | None:
        return finished(n, "ours")

    for n, r in sorted(by.items()):
        stopped = r.get("ours", {}).get("stopped")
        if stopped:
            notes.append(f"{n:,} events: ours did not finish ({stopped})")

    for n in (10_000_000, 100_000_000):
        floor = finished(n, "floor")
        for tool, limit in (("ours", 1.5), ("cli", 2.0)):
            m = finished(n, tool)
            if not (m and floor):
                continue
            ratio = m["seconds"] / floor["seconds"]
            cpu = _ratio(_cpu(tool, m), _cpu("floor", floor))
            where = ""
            if "stages" in m:
                worst = max(m["stages"].items(), key=lambda kv: kv[1])
                where = f"; largest stage {worst[0]} {worst[1]:.1f} s"
            notes.append(
                f"{n:,} events, {tool} / floor <= {limit}: "
                f"{'met' if ratio <= limit else 'missed'} ({ratio:.2f}x: {m['seconds']:.1f} s "
                f"against {floor['seconds']:.1f} s; CPU {cpu}{where})"
            )
    for tool in ("ours", "cli"):
        m = finished(100_000_000, tool)
        if m:
            limit = by[100_000_000].get("memory_limit", bench_ingest.ENGINE_MEMORY_DEFAULT)
            limit = "the default" if tool == "cli" else f"memory limit {limit}"
            notes.append(
                f"100M peak RSS <= 2 GB, {tool} ({limit}): "
                f"{'met' if m['peak_rss'] <= 2 * 2**30 else 'missed'} ({_gb(m['peak_rss'])} GB)"
            )
    for n in (10_000_000, 100_000_000):
        m, p = ours(n), by.get(n, {}).get("pandas")
        if m and p:
            if "stopped" in p:
                notes.append(f"{n:,}: pandas did not finish ({p['stopped']}); ours did")
            else:
                fast, mem = p["seconds"] / m["seconds"], p["peak_rss"] / m["peak_rss"]
                notes.append(
                    f"{n:,} vs pandas: {fast:.1f}x faster (target 10x: "
                    f"{'met' if fast >= 10 else 'missed'}), {mem:.1f}x less memory (target 5x: "
                    f"{'met' if mem >= 5 else 'missed'})"
                )
    done = [(n, ours(n)) for n in sorted(by) if ours(n)]
    if len(done) >= 2:
        per = ", ".join(f"{n / 1e6:,.0f}M: {m['seconds'] / (n / 1e6):.2f} s" for n, m in done)
        notes.append(f"cost per million events (linear growth keeps it flat): {per}")
    return notes


def machine() -> list[str]:
    """The machine, as the issue asks: cores, memory, CPU model, load average now."""
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                     model)  # fmt: skip
    free = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.strip()
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    import duckdb

    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"Machine: `nproc` {cores}, CPU {model}, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}; load average {load} (1/5/15 min) when the table "
        "was written. `free -g`:",
        "",
        "```",
        free,
        "```",
    ]


def report(all_results: list[dict], version: str) -> str:
    """The whole Markdown text."""
    lines = [
        "Written by `benchmarks/bench_investigate.py` (`make bench`); each cell one run in a "
        "fresh subprocess, the toolkit measured is " + version + ". Incidents by "
        "`benchmarks/synth_events.py`: 300,000 objects of which 45,000 exposed, 50,000 "
        "principals, 3 days, a 4-hour window, events already normalized (Parquet). "
        "`ours` = everything `forensics investigate` does after ingest, from the Parquet "
        "(a `raw_events` view) to a complete evidence folder, policy evaluation included "
        "(`derive_scope`: every policy state for every object and principal); "
        "`(a)` is given the scope and classifies only; `(c)` is the sum of the queries "
        "Spark ran (startup excluded), each on the tables Spark made before it, starting from "
        "the tables of ours' whole run (a separate, unmeasured run exports them: the ones "
        "Python fills, such as the copies, Spark reads from there). "
        "`load` = load average (1 min) at start/end of the run.",
        "",
        *machine(),
        "",
        *table(all_results),
        "",
        "Targets:",
        "",
        *[f"- {note}" for note in targets(all_results)],
    ]
    for r in all_results:
        lines += breakdown(r)
    lines += spark_table(all_results)
    for r in all_results:
        earlier = " (measured in an earlier run: --previous)" if r.get("earlier") else ""
        lines.append(
            f"\n- synth_events.py wrote the {r['events']:,}-record incident "
            f"({r['rows']:,} rows) in {r['generated_s']:.1f} s{earlier}"
        )
    return "\n".join(lines) + "\n"


def write_docs(text: str, path: Path = DOCS) -> None:
    """Replace (or append) the section of docs/performance.md this benchmark owns."""
    replace_section(path, SECTION, text)


def replace_section(path: Path, section: str, text: str) -> None:
    """The Markdown section titled `section` (its `## ` line, up to the next `## `) of
    the file at `path` replaced by `text` under that title, or appended the first time;
    the other sections are left as they are. Every benchmark that writes its own section
    of docs/performance.md writes it with this."""
    doc = path.read_text(encoding="utf-8")
    body = f"{section}\n\n{text.strip()}\n"
    start = doc.find(section)
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + body
    else:
        end = doc.find("\n## ", start + len(section))
        doc = doc[:start] + body + (doc[end:] if end >= 0 else "")
    path.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="events per incident")
    parser.add_argument("--quick", action="store_true", help="one small incident, no docs")
    parser.add_argument("--tools", default=",".join(TOOLS), help="which of " + ",".join(TOOLS))
    parser.add_argument("--cache", type=Path, default=None, help="where incidents are kept")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per measurement")
    parser.add_argument("--max-rss-gb", type=float, default=20.0, help="RSS cap per measurement")
    parser.add_argument(
        "--spark-query-timeout", type=float, default=300.0, help="seconds per Spark query"
    )
    parser.add_argument(
        "--memory-limit",
        default=bench_ingest.ENGINE_MEMORY_DEFAULT,
        help="ours' engine memory limit (forensics --memory-limit)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="Markdown file to write")
    parser.add_argument("--json", type=Path, default=None, help="also keep the raw results")
    parser.add_argument(
        "--previous",
        type=Path,
        default=None,
        help="raw results (--json) of an earlier run: sizes not measured now are taken from it",
    )
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md")
    parser.add_argument(
        "--rev", default="HEAD", help="commit of the toolkit to measure, or 'worktree'"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        import resource

        used = resource.getrusage(resource.RUSAGE_SELF)
        if kind == "ours":
            result = child_ours(*rest)
        elif kind == "pandas":
            result = child_pandas(*rest)
        elif kind == "duckdb":
            result = child_duckdb(*rest)
        elif kind == "floor":
            result = child_floor(*rest)
        elif kind == "cli":
            result = child_cli(*rest)
        elif kind == "prep":
            result = child_prep(*rest)
        else:
            result = child_spark(*rest)
        now = resource.getrusage(resource.RUSAGE_SELF)
        # CPU seconds of this process, all its threads (Spark's JVM, a process of its own, is
        # not counted): on a shared machine a better guide than wall time
        result["cpu"] = now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime
        print(json.dumps(result))
        return 0
    cache = args.cache or bench_ingest.cache_root()
    cache.mkdir(parents=True, exist_ok=True)
    tree, version = bench_ingest.source_tree(args.rev, cache)
    limits = bench_ingest.Limits(tree, args.timeout, int(args.max_rss_gb * 2**30))
    tools = [t for t in args.tools.split(",") if t]
    results = []
    plans = (
        [QUICK]
        if args.quick
        else [synth.Params(events=int(n)) for n in args.sizes.split(",") if n.strip()]
    )
    for params in plans:
        results.append(
            measure(params, tools, limits, cache, args.spark_query_timeout, args.memory_limit)
        )
        print("\n".join(table(results)), flush=True)
    if args.previous is not None:
        measured = {r["events"] for r in results}
        earlier = json.loads(args.previous.read_text(encoding="utf-8"))
        results = sorted(
            results + [dict(r, earlier=True) for r in earlier if r["events"] not in measured],
            key=lambda r: r["events"],
        )
    text = report(results, version)
    print(text)
    if args.quick:
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("# Whole investigation, measured (`make bench`)\n\n" + text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    if not args.no_docs:
        write_docs(text)
    print(f"wrote {args.out}" + ("" if args.no_docs else f" and {DOCS}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
