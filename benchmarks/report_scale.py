"""`forensics report` at scale: its time beside the investigation's, and every page checked.

    python benchmarks/report_scale.py [--events 1000000] [--out DIR] [--top 5] [--write-docs]
    python benchmarks/report_scale.py --check-only EVIDENCE_DIR

On a generated incident (`benchmarks/synth_events.py`, kept under `$FORENSICS_BENCH_DIR`
or `~/.cache/forensics-bench`), one after the other in the same run and each in a fresh
process: `forensics investigate` (the evidence only), then `forensics report` (the
evidence again, then every notebook executed and rendered), with the load average (1 min)
at the start and end of each, since the machine may be shared. The report's own process
times each page (the time from one page's start to the next).

Then every page of the report is read back: its size in bytes, its tables (rows of the
largest), its lists (items of the longest) and its inline images, and whether a table or
list is longer than a person reads (`--max-rows`) or a page larger than `--max-bytes`.
With `--write-docs` the result replaces the "Report at scale" section of
`docs/performance.md` (and only that section).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

#: A table or list longer than this is not read by a person (the CSV is for the rest);
#: the pages cut their tables at 500 rows (`webpage.ROW_LIMIT`).
MAX_ROWS = 500
#: A page larger than this is slow to open and to print.
MAX_BYTES = 8_000_000
SECTION = "## Report at scale"

_TABLE = re.compile(r"<table\b.*?</table>", re.S)
_ROW = re.compile(r"<tr\b")
_LIST = re.compile(r"<(ol|ul)\b.*?</\1>", re.S)
_ITEM = re.compile(r"<li\b")
_IMAGE = re.compile(r'<img\b[^>]*src="data:image/[a-z]+;base64,([A-Za-z0-9+/=]*)"')
#: The sentence under a cut table, to the end of its paragraph (the index links the CSV).
_NOTE = re.compile(r"The first [\d,]+ of [\d,]+ rows.*?</p>", re.S)
_NAMED = re.compile(r"[\w.-]+\.csv")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class PageCheck:
    """What one rendered page holds, as the check reads it back."""

    page: str
    bytes: int
    tables: int
    largest_table_rows: int
    lists: int
    longest_list_items: int
    images: int
    image_bytes: int
    cut_notes: int  # sentences saying a table shows its first rows of more
    cut_unnamed: int  # of those, the ones naming no CSV that holds every row


def check_page(path: Path, root: Path) -> PageCheck:
    """Read one HTML page: size, tables and their rows, lists, inline images."""
    text = path.read_text(encoding="utf-8")
    tables = [len(_ROW.findall(t)) - 1 for t in _TABLE.findall(text)]  # minus the header
    lists = [len(_ITEM.findall(m.group(0))) for m in _LIST.finditer(text)]
    images = _IMAGE.findall(text)
    notes = _NOTE.findall(text)
    return PageCheck(
        page=str(path.relative_to(root)),
        bytes=path.stat().st_size,
        tables=len(tables),
        largest_table_rows=max(tables, default=0),
        lists=len(lists),
        longest_list_items=max(lists, default=0),
        images=len(images),
        image_bytes=sum(len(i) * 3 // 4 for i in images),
        cut_notes=len(notes),
        cut_unnamed=sum(not _NAMED.search(_TAG.sub("", note)) for note in notes),
    )


def check_report(folder: Path) -> list[PageCheck]:
    """Every page of the report in `folder` (index, one-page report, `report/*.html`)."""
    pages = [folder / "index.html", folder / "report.html", *sorted(folder.glob("report/*.html"))]
    return [check_page(p, folder) for p in pages if p.is_file()]


def problems(checks: list[PageCheck], max_rows: int, max_bytes: int) -> list[str]:
    """The pages a person could not read: a table or list too long, a page too large, a
    table cut without naming the CSV that holds all its rows."""
    out = []
    for c in checks:
        if c.largest_table_rows > max_rows:
            out.append(f"{c.page}: a table of {c.largest_table_rows:,} rows (> {max_rows:,})")
        if c.longest_list_items > max_rows:
            out.append(f"{c.page}: a list of {c.longest_list_items:,} items (> {max_rows:,})")
        if c.bytes > max_bytes:
            out.append(f"{c.page}: {c.bytes:,} bytes (> {max_bytes:,})")
        if c.cut_unnamed:
            out.append(f"{c.page}: {c.cut_unnamed} cut table(s) name no CSV with every row")
    return out


def _run(command: list[str], log: Path) -> dict[str, float]:
    """Run `command` (a fresh process): its wall seconds, its CPU seconds (user + system,
    with every process it started and waited for: kernels, DuckDB's threads) and the load
    average around it."""
    load_start = os.getloadavg()[0]
    start = time.monotonic()
    with log.open("w") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}); see {log}")
    return {
        "seconds": seconds,
        "cpu": usage.ru_utime + usage.ru_stime,
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
    }


def _child_report(case: str, out: str, top: int, timings: str) -> None:
    """`forensics report` as the CLI runs it, timing each page from its start to its end
    (pages render in several kernels at once, so these overlap) and the investigation
    before the first (run in a fresh process)."""
    import threading

    from forensics import report
    from forensics.investigation import Settings

    pages: list[dict] = []
    real = report.render_notebook
    first: list[float] = []
    start = time.monotonic()

    def timed(notebook, folder, parameters, stem="report", title=None, kernel=None):
        began = time.monotonic()
        first.append(began)
        page = real(notebook, folder, parameters, stem, title, kernel=kernel)
        pages.append(
            {
                "page": title or stem,
                "kernel": threading.current_thread().name,
                "start": round(began - start, 2),
                "seconds": round(time.monotonic() - began, 2),
            }
        )
        return page

    report.render_notebook = timed
    report.run_report(Settings.build(case, out), top)
    end = time.monotonic()
    before = (min(first) - start) if first else end - start
    Path(timings).write_text(
        json.dumps(
            {
                "before_pages": round(before, 2),
                "pages_and_index": round(end - start - before, 2),
                "kernels": report.kernels(Path(out)),
                "pages": sorted(pages, key=lambda p: p["start"]),
            },
            indent=1,
        )
    )


def markdown(
    events: int,
    runs: dict[str, dict[str, float]],
    pages: dict,
    checks: list[PageCheck],
    found: list[str],
    max_rows: int,
) -> str:
    """The section of docs/performance.md."""
    inv, rep = runs["investigate"], runs["report"]
    lines = [
        SECTION,
        "",
        f"Written by `benchmarks/report_scale.py --events {events} --write-docs` on the "
        f"incident of `benchmarks/synth_events.py` ({events:,} events; 45,000 exposed objects, "
        "50,000 principals), each command one run in a fresh process, one after the other. "
        f"Machine: `nproc` {os.cpu_count()}, shared: load average (1 min) at start/end of "
        "each run beside it, and CPU seconds (user + system of the process and every process "
        "it waited for), which the load disturbs less than the wall time.",
        "",
        "| command | seconds | CPU seconds | load | ratio to investigate (wall) | ratio (CPU) |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
        f"| `forensics investigate` | {inv['seconds']:.1f} | {inv['cpu']:.1f} | "
        f"{inv['load_start']:.1f}/{inv['load_end']:.1f} | 1.00x | 1.00x |",
        f"| `forensics report` (investigation + pages) | {rep['seconds']:.1f} | "
        f"{rep['cpu']:.1f} | {rep['load_start']:.1f}/{rep['load_end']:.1f} | "
        f"{rep['seconds'] / inv['seconds']:.2f}x | {rep['cpu'] / inv['cpu']:.2f}x |",
        "",
        f"Inside the report's run: the investigation {pages['before_pages']:.1f} s, then the "
        f"pages and the index {pages['pages_and_index']:.1f} s, the pages in "
        f"{pages['kernels']} kernel(s) at once (each page from its start in its kernel to its "
        "HTML written; the index and the timeline drawn once are made beside them):",
        "",
        "| page | kernel | started (s) | seconds |",
        "| --- | --- | ---: | ---: |",
        *[
            f"| {p['page']} | {p['kernel'].rsplit('-', 1)[-1]} | {p['start']:.1f} | "
            f"{p['seconds']:.1f} |"
            for p in pages["pages"]
        ],
        "",
        f"Every page read back (tables: rows of the largest; a person reads at most {max_rows:,};"
        " cut: sentences saying a table shows its first rows; unnamed: of those, the ones that"
        " name no CSV holding every row):",
        "",
        "| page | bytes | tables | largest table rows | lists | longest list | images | "
        "image bytes | cut | unnamed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {c.page} | {c.bytes:,} | {c.tables} | {c.largest_table_rows:,} | {c.lists} | "
            f"{c.longest_list_items:,} | {c.images} | {c.image_bytes:,} | {c.cut_notes} | "
            f"{c.cut_unnamed} |"
            for c in checks
        ],
        "",
        (
            "Pages a person could not read: " + "; ".join(found)
            if found
            else f"No page has a table or list longer than {max_rows:,} rows or is larger than "
            f"{MAX_BYTES / 1e6:.0f} MB, and every cut table names the CSV with all its rows."
        ),
        "",
    ]
    return "\n".join(lines)


def write_docs(text: str) -> None:
    """Replace (or append) the "Report at scale" section of docs/performance.md."""
    doc = ROOT / "docs" / "performance.md"
    current = doc.read_text(encoding="utf-8")
    start = current.find(SECTION + "\n")
    if start < 0:
        current = current.rstrip("\n") + "\n\n" + text
    else:
        nxt = current.find("\n## ", start + len(SECTION))
        rest = "" if nxt < 0 else "\n" + current[nxt:].lstrip("\n")
        current = current[:start] + text.rstrip("\n") + "\n" + rest
    doc.write_text(current if current.endswith("\n") else current + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--incident", type=Path, help="an incident folder (default: generate)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/forensics-report-scale"))
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--max-rows", type=int, default=MAX_ROWS)
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES)
    parser.add_argument("--check-only", type=Path, help="only check the report in this folder")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--child-report", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_report:
        case, out, top, timings = args.child_report
        _child_report(case, out, int(top), timings)
        return 0
    if args.check_only:
        checks = check_report(args.check_only)
        for c in checks:
            print(json.dumps(asdict(c)))
        found = problems(checks, args.max_rows, args.max_bytes)
        print("\n".join(found) or "every page readable")
        return 1 if found else 0
    incident = args.incident or _incident(args.events)
    args.out.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    forensics = [python, "-m", "forensics.cli"]
    runs = {
        "investigate": _run(
            [*forensics, "investigate", str(incident / "case.yaml"), "--out", str(args.out / "ev")],
            args.out / "investigate.log",
        )
    }
    timings = args.out / "pages.json"
    runs["report"] = _run(
        [
            python,
            str(Path(__file__).resolve()),
            "--child-report",
            str(incident / "case.yaml"),
            str(args.out / "report"),
            str(args.top),
            str(timings),
        ],
        args.out / "report.log",
    )
    pages = json.loads(timings.read_text())
    checks = check_report(args.out / "report")
    found = problems(checks, args.max_rows, args.max_bytes)
    text = markdown(args.events, runs, pages, checks, found, args.max_rows)
    print(text)
    if args.write_docs:
        write_docs(text)
    return 1 if found else 0


def _incident(events: int) -> Path:
    """The generated incident of `events` events (written once, then reused)."""
    import bench_ingest
    import synth

    params = synth.Params(events=events)
    import bench_investigate

    cache = bench_ingest.cache_root()
    cache.mkdir(parents=True, exist_ok=True)
    root, _ = bench_investigate.incident(params, cache)
    return root


if __name__ == "__main__":
    sys.exit(main())
