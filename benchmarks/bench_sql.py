"""`make bench-sql`: the SQL stage on Hive's own hook outputs, beside two plain baselines.

Measures, in one run on this machine: exact-set accuracy (overall, per statement type,
reads only, writes only) and throughput of `forensics.sqlrefs` cold (every cache
cleared, each distinct statement once) and warm (a dashboard-like mix: a few hundred
statement shapes repeated with other literals), and the same accuracy and cold
throughput for plain sqlglot (tables in the tree minus CTE names) and plain sqlparse
(names after FROM/JOIN/INTO/TABLE). Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import json
import logging
import random
import re
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import sqlglot
import sqlparse
from sqlglot import exp

from forensics import sqlrefs

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "hive_statements.jsonl"


def ours(row: dict) -> tuple[list[str], list[str]]:
    views = sqlrefs.ViewCatalog.from_corpus(row["views"]) if row["views"] else None
    found = sqlrefs.extract_objects(row["query"], row["database"], views)
    return sorted(found.reads), sorted(found.writes)


def _name(table: exp.Table, db: str) -> str:
    return f"{(table.db or db).lower()}.{table.name.lower()}"


def plain_sqlglot(row: dict) -> tuple[list[str], list[str]]:
    """Tables in sqlglot's tree minus CTE names; INSERT/CREATE targets as writes; views
    expanded through the corpus definitions (one level)."""
    db = row["database"]
    try:
        trees = [t for t in sqlglot.parse(row["query"], read="hive") if t is not None]
    except Exception:
        return [], []
    reads, writes = set(), set()
    for tree in trees:
        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        targets = set()
        for node in tree.find_all(exp.Insert, exp.Create):
            table = node.this if isinstance(node.this, exp.Table) else node.this.find(exp.Table)
            if table is not None:
                targets.add(id(table))
                writes.add(_name(table, db))
        for table in tree.find_all(exp.Table):
            if id(table) not in targets and table.name and table.name.lower() not in ctes:
                reads.add(_name(table, db))
    for view in list(reads):
        spec = row["views"].get(view)
        if spec:
            try:
                inner = sqlglot.parse_one(spec["statement"], read="hive")
                reads |= {_name(t, spec["database"]) for t in inner.find_all(exp.Table)}
            except Exception:
                pass
    return sorted(reads - writes), sorted(writes)


_AFTER = re.compile(r"^(from|join|.* join|into|table|update)$", re.IGNORECASE)


def plain_sqlparse(row: dict) -> tuple[list[str], list[str]]:
    """Identifiers right after FROM/JOIN/INTO/TABLE keywords; after INTO/TABLE: writes."""
    db = row["database"]
    reads, writes = set(), set()
    for statement in sqlparse.parse(row["query"]):
        previous = None
        for token in statement.flatten():
            if token.is_whitespace:
                continue
            if previous is not None and token.ttype in (sqlparse.tokens.Name, None):
                name = token.value.strip("`").lower()
                full = name if "." in name else f"{db}.{name}"
                (writes if previous in ("INTO", "TABLE") else reads).add(full)
            keyword = token.normalized.upper() if token.is_keyword else None
            previous = keyword if keyword and _AFTER.match(keyword) else None
    return sorted(reads - writes), sorted(writes)


def score(rows: list[dict], extract) -> dict:
    """Exact-set accuracy of `extract` and its throughput over the distinct statements."""
    right = reads_right = writes_right = 0
    by_type, wrong_type = Counter(), Counter()
    started = time.perf_counter()
    answers = [extract(row) for row in rows]
    seconds = time.perf_counter() - started
    for row, (reads, writes) in zip(rows, answers, strict=True):
        r, w = reads == row["reads"], writes == row["writes"]
        reads_right += r
        writes_right += w
        right += r and w
        by_type[row["type"]] += 1
        wrong_type[row["type"]] += not (r and w)
    n = len(rows)
    return {
        "exact": right / n,
        "reads": reads_right / n,
        "writes": writes_right / n,
        "per_type": {t: (by_type[t] - wrong_type[t], by_type[t]) for t in sorted(by_type)},
        "per_second": n / seconds,
    }


def clear_caches() -> None:
    sqlrefs._RESULTS.clear()
    sqlrefs._view_reads_cached.cache_clear()


def warm_mix(rows: list[dict], calls: int = 200_000, shapes: int = 300) -> float:
    """Statements per second on a dashboard-like mix: `shapes` queries, other literals."""
    rng = random.Random(7)
    with_numbers = [r for r in rows if re.search(r"\b\d+\b", r["query"]) and not r["views"]]
    pool = rng.sample(with_numbers, min(shapes, len(with_numbers)))
    texts = [
        (re.sub(r"\b\d+\b", lambda _: str(rng.randint(1, 10**6)), r["query"]), r["database"])
        for r in (rng.choice(pool) for _ in range(calls))
    ]
    started = time.perf_counter()
    for text, db in texts:
        sqlrefs.extract_objects(text, db)
    return calls / (time.perf_counter() - started)


def main() -> int:
    if not CORPUS.is_file():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in CORPUS.open()]
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # the baselines' fallback notices
    clear_caches()
    results = {"forensics.sqlrefs": score(rows, ours)}
    warm = warm_mix(rows)
    results["plain sqlglot"] = score(rows, plain_sqlglot)
    results["plain sqlparse"] = score(rows, plain_sqlparse)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{len(rows)} statements of the shared corpus, one core\n")
    print("| extractor | exact | reads | writes | statements/s (cold) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        print(
            f"| {name} | {r['exact']:.2%} | {r['reads']:.2%} | {r['writes']:.2%} "
            f"| {r['per_second']:,.0f} |"
        )
    print(f"\nwarm (300 shapes repeated with other literals): {warm:,.0f} statements/s")
    print(f"peak RSS of the whole run: {rss:,.0f} MB")
    ours_types = results["forensics.sqlrefs"]["per_type"]
    print("per type: " + ", ".join(f"{t} {a}/{b}" for t, (a, b) in ours_types.items()))
    print("targets: exact >= 99.5%, cold >= 5,000/s, warm >= 200,000/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
