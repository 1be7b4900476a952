"""Write `cases.jsonl`: statements of Hive's lineage tests with the columns Hive read.

Source: Apache Hive's `ql/src/test/results/clientpositive/lineage2.q.out` and
`lineage3.q.out` (golden outputs of `LineageLogger`, Apache License 2.0), with the view
definitions of `ql/src/test/queries/clientpositive/lineage3.q`, as copied in
pan3793/cdh-hive at commit 0b2c97c98fe03b5a6508b8e67c94b543e3ecbe7e (the apache/hive
snapshot is too large to fetch here; these files are Hive's own tests). Run
`python make_cases.py DIR` with DIR holding those four files.

Each lineage record names, per edge, the source columns (`db.table.column`) a result
column or predicate came from, and a TABLE vertex for a table read with no column
(`count(*)`). The columns read of a table are the union of the COLUMN sources of every
edge; a table read only through a TABLE vertex has no column. Hive's test tables are
described by their columns as the tests create them (`data/scripts/q_test_init.sql` for
src, src1, srcpart, alltypesorc; the rest from every vertex naming them).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SOURCE = (
    "pan3793/cdh-hive@0b2c97c98fe03b5a6508b8e67c94b543e3ecbe7e:"
    "ql/src/test/results/clientpositive/{name}.q.out"
)
BASE = {  # Hive's q_test_init.sql
    "default.src": ["key", "value"],
    "default.src1": ["key", "value"],
    "default.srcpart": ["key", "value", "ds", "hr"],
    "default.alltypesorc": [
        "ctinyint", "csmallint", "cint", "cbigint", "cfloat", "cdouble", "cstring1",
        "cstring2", "ctimestamp1", "ctimestamp2", "cboolean1", "cboolean2",
    ],
}  # fmt: skip
PARTITIONED = {"default.srcpart": ["ds", "hr"]}
_VIEW = re.compile(r"^(?:create|alter) view (\w+)\s*(?:\([^)]*\))?\s+as\s+(.*)$", re.I | re.S)


def main(folder: Path) -> None:
    lines = []
    for name in ("lineage2", "lineage3"):
        columns: dict[str, set[str]] = {k: set(v) for k, v in BASE.items()}
        cases: list[dict] = []
        views: dict[str, str] = {}
        in_force = {}  # statement text (spaces collapsed) -> the views defined before it ran
        for statement in (folder / f"{name}.q").read_text().split(";"):
            in_force.setdefault(_key(statement), dict(views))
            found = _VIEW.match(statement.strip())
            if found:
                views[f"default.{found.group(1).lower()}"] = found.group(2).strip()
        for line in (folder / f"{name}.q.out").read_text().splitlines():
            if not line.startswith('{"version"'):
                continue
            record = json.loads(line)
            vertices = {v["id"]: v for v in record["vertices"]}
            read: dict[str, set[str]] = {}
            for edge in record["edges"]:
                for source in edge["sources"]:
                    vertex = vertices[source]
                    parts = vertex["vertexId"].lower().split(".")
                    if vertex["vertexType"] == "TABLE":
                        read.setdefault(".".join(parts[:2]), set())
                    elif len(parts) == 3:
                        read.setdefault(".".join(parts[:2]), set()).add(parts[2])
            for vertex in record["vertices"]:
                parts = vertex["vertexId"].lower().split(".")
                if vertex["vertexType"] == "COLUMN" and len(parts) == 3:
                    columns.setdefault(".".join(parts[:2]), set()).add(parts[2])
            if read:
                cases.append(
                    {
                        "file": name,
                        "query": record["queryText"],
                        "views": in_force.get(_key(record["queryText"]), {}),
                        "columns": {t: sorted(c) for t, c in sorted(read.items())},
                    }
                )
        schema = {t: BASE.get(t, sorted(c)) for t, c in sorted(columns.items()) if t not in views}
        header = {
            "file": name,
            "source": SOURCE.format(name=name),
            "schema": schema,
            "partition_columns": PARTITIONED,
        }
        lines += [json.dumps(header, sort_keys=True)] + [
            json.dumps(c, sort_keys=True) for c in cases
        ]
    Path(__file__).with_name("cases.jsonl").write_text("\n".join(lines) + "\n")


def _key(statement: str) -> str:
    return " ".join(statement.split()).lower()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
