"""`make bench-rerun`: reruns of `forensics investigate` with the ingest cache.

On the raw-format incident of `benchmarks/synth.py` (1M events by default, generated and
kept as `make bench-ingest` keeps it), in a working copy of hard links, each run a fresh
`forensics investigate` process (wall seconds, peak RSS from `wait4`):

1. first: no cache, every log file read (the time a rerun is compared with);
2. cold: the same with an empty cache (what filling it costs);
3. warm: unchanged inputs: every input hashed, the evidence copied from the cache
   (`forensics/stage_cache.py`; target: at most 20% of 1);
4. new day: the cache filled by a run without the last day's log files (those whose names
   carry its date), then a run with them: the other files' events and, when the day names
   nobody new, the scope from the cache (target: at most the first run's time for those
   files plus the investigation, i.e. 1 minus the ingest of all files plus the ingest of
   the day's files alone, both measured by `forensics.ingest.ingest_into` in a child).

Every run's evidence must be byte-identical (the manifests' output digests are compared);
the benchmark stops otherwise. The machine's 1-minute load average is noted before and
after: other jobs on the cores slow every run. Writes `benchmarks/results/rerun.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_ingest  # noqa: E402  (beside this script: the incident cache)
import synth  # noqa: E402

RESULTS = HERE / "results" / "rerun.md"


def linked_copy(source: Path, target: Path) -> Path:
    """`source` (a generated incident) as hard links under `target`; its case file."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, copy_function=os.link)
    return target / "case.yaml"


def day_files(case: Path, params: synth.Params) -> list[Path]:
    """The log files of the incident's last day: those whose names carry its date."""
    day = synth.START + timedelta(days=params.days - 1)
    stamps = (day.strftime("%Y%m%d"), day.strftime("%Y-%m-%d"))
    logs = sorted(p for p in (case.parent / "logs").rglob("*") if p.is_file())
    return [p for p in logs if any(s in p.name for s in stamps)]


def only_files(case: Path, files: list[Path]) -> Path:
    """A case file beside `case` whose logs are `files` (same formats)."""
    raw = yaml.safe_load(case.read_text(encoding="utf-8"))
    kept = []
    for log in raw["logs"]:
        matched = [f for f in files if f.match(str(case.parent / log["path"]))]
        kept += [{**log, "path": f.relative_to(case.parent).as_posix()} for f in matched]
    raw["logs"] = kept
    path = case.with_name("bench-day.yaml")
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


#: The toolkit measured (a folder of `git archive` of the commit `--rev`, first on the
#: children's PYTHONPATH, so that edits in the working tree meanwhile change nothing: the
#: cache's key holds a digest of the code) and the folder the children run in.
TREE: list[Path] = []


def run(command: list[str]) -> dict:
    """One child process: its wall seconds and peak RSS; stops the benchmark if it fails."""
    env = dict(os.environ, FORENSICS_PROGRESS="0")
    if TREE[0] != HERE.parent:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TREE[0]), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    proc = subprocess.Popen(  # run from the cache folder: `-m` puts the cwd first on sys.path
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=TREE[1]
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if status != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed: {err.strip()[-500:]}")
    return {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,  # both cores' work: less swayed by others' load
        "rss_gb": usage.ru_maxrss / 2**20,
        "stdout": out,
        "stderr": err,
    }


def investigate(case: Path, out: Path, cache: Path | None) -> dict:
    """`forensics investigate` in a child; with its manifest's cache section."""
    flags = ["--cache", str(cache)] if cache is not None else ["--no-cache"]
    result = run([sys.executable, "-m", "forensics.cli", "investigate", str(case)]
                 + ["--out", str(out), *flags])  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    result["outputs"] = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    result["inputs"] = manifest["inputs"]
    result["cache"] = manifest["run"].get("cache", {})
    return result


def ingest_seconds(case: Path) -> dict:
    """`ingest_into` alone (no cache) on the case's logs, in a child: wall and CPU seconds."""
    child = run([sys.executable, __file__, "--child-ingest", str(case)])
    return json.loads(child["stdout"])


def child_ingest(case_path: str) -> None:
    import resource

    from forensics import engine
    from forensics.case import load_case
    from forensics.ingest import ingest_into

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    case = load_case(case_path)
    con = engine.connect()
    started, cpu_started = time.perf_counter(), cpu()
    ingest_into(con, case)
    print(json.dumps({"seconds": time.perf_counter() - started, "cpu": cpu() - cpu_started}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--rev", default="HEAD", help="commit of the toolkit to measure, or 'worktree'"
    )
    parser.add_argument("--child-ingest", metavar="CASE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_ingest:
        child_ingest(args.child_ingest)
        return 0
    tree, version = bench_ingest.source_tree(args.rev, bench_ingest.cache_root())
    work = bench_ingest.cache_root() / f"rerun-{args.events}"
    work.mkdir(parents=True, exist_ok=True)
    TREE[:] = [tree if tree is not None else HERE.parent, work]
    params = synth.Params(events=args.events)
    source, _ = bench_ingest.incident(params, bench_ingest.cache_root())
    for stale in ("cache", "day-cache"):  # every cache starts empty
        shutil.rmtree(work / stale, ignore_errors=True)
    case = linked_copy(source.parent, work / "incident")
    day = day_files(case, params)
    load = [os.getloadavg()[0]]
    runs = {}
    runs["first"] = investigate(case, work / "first", None)
    runs["cold"] = investigate(case, work / "cold", work / "cache")
    runs["warm"] = investigate(case, work / "warm", work / "cache")
    held = work / "held"
    held.mkdir(exist_ok=True)
    for path in day:
        os.rename(path, held / path.name)
    investigate(case, work / "before", work / "day-cache")
    for path in day:
        os.rename(held / path.name, path)
    runs["day"] = investigate(case, work / "day", work / "day-cache")
    ingest_all = ingest_seconds(case)
    ingest_day = ingest_seconds(only_files(case, day))
    load.append(os.getloadavg()[0])
    for name, result in runs.items():
        if result["outputs"] != runs["first"]["outputs"]:
            raise SystemExit(f"the {name} run's evidence differs from the first run's")
        if result["inputs"] != runs["first"]["inputs"]:
            raise SystemExit(f"the {name} run's input counts differ from the first run's")
    logs = sorted(i["path"] for i in runs["first"]["inputs"] if "lines" in i)
    assert runs["warm"]["cache"]["stages_from_cache"] == ["evidence"], "the warm run redid work"
    assert logs, "the incident has no log file"
    assert sorted(runs["day"]["cache"]["stored"]) == sorted(
        p.relative_to(case.parent).as_posix() for p in day
    )
    report = f"The toolkit measured: {version}.\n" + render(
        params, runs, ingest_all, ingest_day, day, case, load
    )
    print(report)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    return 0


def reused(cache: dict) -> str:
    """What a run's manifest says came from the cache: stages, and how many log files."""
    parts = list(cache.get("stages_from_cache", []))
    if cache.get("from_cache"):
        parts.append(f"{len(cache['from_cache'])} log files")
    return ", ".join(parts) or "nothing"


def render(
    params: synth.Params,
    runs: dict[str, dict],
    ingest_all: dict,
    ingest_day: dict,
    day: list[Path],
    case: Path,
    load: list[float],
) -> str:
    """The Markdown table: wall and CPU seconds, each run against its target in both."""
    size = sum(p.stat().st_size for p in day) / 1e6
    total = sum(p.stat().st_size for p in (case.parent / "logs").rglob("*") if p.is_file()) / 1e6
    lines = [
        f"Incident: `benchmarks/synth.py` raw formats, {params.events:,} events, "
        f"{total:,.0f} MB of logs; the new day: {len(day)} files, {size:,.0f} MB "
        f"({', '.join(p.name for p in day)}).",
        f"Ingest alone (`ingest_into`, no cache), wall / CPU: all files "
        f"{ingest_all['seconds']:.1f} / {ingest_all['cpu']:.1f} s, the day's files "
        f"{ingest_day['seconds']:.1f} / {ingest_day['cpu']:.1f} s.",
        f"Load average (1 min) before / after: {load[0]:.1f} / {load[1]:.1f}; "
        "evidence byte-identical in every run (manifest digests compared). CPU seconds are "
        "both cores' work (user + system, from `wait4`): on a shared machine they move far "
        "less with the others' load than wall seconds.",
        "",
        "| run | wall s | CPU s | peak RSS GB | from the cache | target (wall / CPU) "
        "| wall | CPU |",
        "| --- | ---: | ---: | ---: | --- | --- | ---: | ---: |",
    ]
    first = runs["first"]
    targets = {
        "warm": {k: 0.2 * first[k] for k in ("seconds", "cpu")},
        "day": {
            k: first[k] - ingest_all[k] + ingest_day[k] for k in ("seconds", "cpu")
        },  # the first run's investigation beyond ingest, plus the day's files' ingest
    }
    labels = {
        "first": "first run, no cache",
        "cold": "first run, filling an empty cache",
        "warm": "rerun, unchanged inputs (target 20% of the first)",
        "day": "rerun, one new day of logs (target: first - ingest + the day's ingest)",
    }
    for name, label in labels.items():
        result, target = runs[name], targets.get(name)
        cells = [f"{result['seconds']:.1f}", f"{result['cpu']:.1f}", f"{result['rss_gb']:.2f}"]
        cells.append(reused(result.get("cache", {})))
        if target is None:
            ratio = [f"{result[k] / first[k]:.0%} of the first" for k in ("seconds", "cpu")]
            cells += ["", *ratio]
        else:
            cells += [f"{target['seconds']:.1f} / {target['cpu']:.1f} s"]
            cells += [f"{result[k] / target[k]:.0%} of it" for k in ("seconds", "cpu")]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
