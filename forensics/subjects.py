"""Data subjects: whose rows the exposure-enabled reads may have returned.

A breach notification states the categories and approximate number of data subjects and
of records concerned (GDPR Art. 33(3)(a)), and the people concerned must be told (Art.
34). The logs say which objects, columns and partitions each exposure-enabled read could
have returned; the data owner says who is in them (`subjects:` in the case), either as
counts per partition (`object,partition,subjects,records`) or as an index of subject ids
per partition (`object,partition,subject_id[,records]`), produced with the read-only
queries `forensics subjects query CASE` prints.

Two bounds, by category (the categories of the columns each read touched):

- **upper**: every partition of every object read (as if nothing narrowed the reads);
- **lower**: only the partitions the reads could have read (a file's partition folder,
  the statement's partition predicates; a read nothing narrows reads them all).

With an index both are exact counts of distinct subjects. With counts the subjects of
different partitions may be the same people, so the lower bound is the largest partition
count reached and the upper bound the sum over the partitions (records are disjoint per
partition and add up). Reads of derived copies are not counted here: the owner's list
names the exposed objects, not the copies.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pyarrow as pa
from sqlglot import exp

from forensics import queries
from forensics.case import Case
from forensics.catalog import Catalog, load_catalog
from forensics.engine import load_rows
from forensics.errors import InputError
from forensics.evidence import Output, write_evidence
from forensics.inputs import open_input_text
from forensics.names import is_object_name
from forensics.partitions import any_matches, escape
from forensics.privacy import subject_pseudonym

COLUMNS = {
    "counts": ("object", "partition", "subjects", "records"),
    "index": ("object", "partition", "subject_id"),
}
#: Evidence files written from a `subjects:` input (after the contract's files).
SUBJECT_FILES = ("affected_subjects", "subjects_concerned", "subject_partitions")
_IDENTIFIER = re.compile(r"^[a-z0-9_$]{1,128}$")
_INPUT = [
    ("object", pa.string()),
    ("partition", pa.string()),
    ("subject", pa.string()),
    ("subjects", pa.int64()),
    ("records", pa.int64()),
]


@dataclass(frozen=True)
class Subjects:
    """The owner's list, one row per (object, partition[, subject]): `subject` is None for
    counts; `records` None when an index does not say."""

    kind: str  # counts | index
    rows: tuple[tuple[str, str, str | None, int, int | None], ...]

    @property
    def exact(self) -> bool:
        """Whether subjects are named (an index): distinct counts are then exact."""
        return self.kind == "index"


def load_subjects(case: Case, catalog: Catalog | None = None) -> Subjects | None:
    """The case's `subjects:` file, checked row by row; None without one. With the
    catalog, each object must be one of its tables and each partition name the table's
    partition columns (a typo would otherwise match no read, or every one)."""
    if case.subjects is None:
        return None
    kind, path = case.subjects.kind, case.subjects.path
    rel = case.relpath(path)
    rows = []
    try:
        with open_input_text(path, newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in COLUMNS[kind] if c not in header]
            if missing:
                raise InputError(
                    f"{rel}: missing column(s) {', '.join(missing)}; subjects.{kind} needs "
                    f"{','.join(COLUMNS[kind])}"
                )
            for row in reader:
                found = _row(kind, row, rel, reader.line_num, "records" in header)
                if catalog is not None:
                    _in_catalog(catalog, found[0], found[1], rel, reader.line_num)
                rows.append(found)
    except UnicodeDecodeError:
        raise InputError(f"{rel}: not UTF-8; re-save the file as UTF-8") from None
    return Subjects(kind, tuple(sorted(set(rows), key=lambda r: tuple(map(str, r)))))


def _row(kind: str, row: Mapping, rel: str, line: int, has_records: bool) -> tuple:
    if None in row or any(row.get(c) is None for c in COLUMNS[kind]):
        raise InputError(f"{rel} line {line}: wrong number of fields")
    obj = row["object"].strip().strip("`").lower()
    if not is_object_name(obj):
        raise InputError(f"{rel} line {line}: object {row['object'][:60]!r} is not a db.table name")
    partition = partition_name(row["partition"], rel, line)
    if kind == "counts":
        subjects = _count(row["subjects"], "subjects", rel, line)
        return (obj, partition, None, subjects, _count(row["records"], "records", rel, line))
    subject = row["subject_id"].strip()
    if not subject:
        raise InputError(f"{rel} line {line}: subject_id is empty")
    records = _count(row["records"], "records", rel, line) if has_records else None
    return (obj, partition, subject, 1, records)


def _in_catalog(catalog: Catalog, obj: str, partition: str, rel: str, line: int) -> None:
    known = catalog.objects.get(obj)
    if known is None or known.type != "table":
        raise InputError(f"{rel} line {line}: {obj} is not a table of the catalog's tables.csv")
    keys = tuple(p.split("=", 1)[0] for p in partition.split("/")) if partition else ()
    listed = catalog.partition_columns.get(obj, ())
    if listed and keys != listed:
        raise InputError(
            f"{rel} line {line}: the partition of {obj} must name {'/'.join(listed)} "
            f"(the catalog's partition_columns), not {'/'.join(keys) or 'none'}"
        )


def partition_name(text: str, rel: str = "?", line: int = 0) -> str:
    """A partition as Hive names it (`ds=2026-06-01/hr=03`, values escaped); `` = the
    table has no partitions. Escaped and unescaped values give the same name."""
    text = text.strip().strip("/")
    if not text:
        return ""
    parts = []
    for part in text.split("/"):
        key, sep, value = part.partition("=")
        key = unquote(key).strip().lower()
        if not sep or not _IDENTIFIER.match(key):
            raise InputError(
                f"{rel} line {line}: partition {text[:60]!r} is not a partition name such as "
                "ds=2026-06-01 (leave it empty for a table without partitions)"
            )
        parts.append(f"{key}={escape(unquote(value))}")
    return "/".join(parts)


def _count(text: str | None, column: str, rel: str, line: int) -> int:
    value = (text or "").strip()
    if not value.isdigit():
        raise InputError(f"{rel} line {line}: {column} {value[:20]!r} is not a whole number >= 0")
    return int(value)


def load_subject_reach(
    con: duckdb.DuckDBPyConnection, subjects: Subjects, key: bytes | None
) -> None:
    """The `subject_reach` table: per exposure-enabled read and partition of the object it
    read that the owner lists, whether the read could have read it (`lower`) or only its
    object (`upper`). Subject ids are pseudonymized here when a key is given, so that no
    evidence file can hold them."""
    rows = [
        (o, p, subject_pseudonym(key, s) if key is not None and s is not None else s, n, r)
        for o, p, s, n, r in subjects.rows
    ]
    load_rows(con, "subject_input", _INPUT, rows)
    partitions: dict[str, set[str]] = {}
    for obj, partition, *_ in subjects.rows:
        partitions.setdefault(obj, set()).add(partition)
    matched = []
    for obj, specs in queries.relation(con, "reconstruct/subject_reads").fetchall():
        for partition in sorted(partitions.get(obj, ())):
            if any_matches(specs.split(";"), partition):
                matched.append((obj, specs, partition))
    s = pa.string()
    load_rows(con, "read_partitions", [("object", s), ("partitions", s), ("partition", s)], matched)
    queries.execute(con, "reconstruct/subject_reach")


def write_subject_evidence(
    con: duckdb.DuckDBPyConnection, stage: Path, subjects: Subjects, key: bytes | None
) -> list[Output]:
    """Reach the owner's list from the reads and write the subject files into `stage`."""
    load_subject_reach(con, subjects, key)
    return write_evidence(con, stage, SUBJECT_FILES, {"exact": int(subjects.exact)})


def owner_queries(case: Case, index: bool = False, subject_column: str | None = None) -> list[str]:
    """The queries for the owner of the case's exposed tables (exposed by the policies
    alone: the file layer's windows need the HDFS logs, and a table they open is named
    by the investigation's objects.csv, whose objects can be given to `subject_queries`)."""
    from forensics.scope import derive_scope

    catalog = load_catalog(case)
    scope = derive_scope(case, catalog, ())
    tables = [o for o in scope.exposed if catalog.objects[o].type == "table"]
    return subject_queries(catalog, tables, index, subject_column)


def subject_queries(
    catalog: Catalog,
    objects: Iterable[str],
    index: bool = False,
    subject_column: str | None = None,
) -> list[str]:
    """One read-only HiveQL per object for its owner: distinct subjects and records per
    partition (`index`: one row per subject and partition), giving the `subjects:` file.

    The subject column is the catalog's `subject_column` for the object, else
    `subject_column`; names are checked and quoted by sqlglot, never pasted."""
    out = []
    for obj in sorted(set(objects)):
        column = catalog.subject_columns.get(obj) or subject_column
        if not column or not _IDENTIFIER.match(column.lower()):
            raise InputError(
                f"{obj}: no subject column; list it as subject_column in the catalog's "
                "tables.csv or pass --subject-column"
            )
        out.append(_subject_query(obj, catalog.partition_columns.get(obj, ()), column, index))
    return out


def _subject_query(obj: str, partition_columns: tuple[str, ...], column: str, index: bool) -> str:
    db, table = obj.split(".", 1)
    keys = [exp.column(c, quoted=True) for c in partition_columns]
    if keys:
        parts: list[exp.Expression] = []
        for i, key in enumerate(keys):
            parts += [exp.Literal.string(("/" if i else "") + f"{partition_columns[i]}="), key]
        partition: exp.Expression = exp.func("concat", *parts)
    else:
        partition = exp.Literal.string("")
    subject = exp.column(column.lower(), quoted=True)
    selects = [_named(exp.Literal.string(obj), "object"), _named(partition, "partition")]
    if index:
        selects += [_named(subject, "subject_id"), _named(exp.Count(this=exp.Star()), "records")]
        groups = [*keys, subject]
    else:
        distinct = exp.Count(this=exp.Distinct(expressions=[subject]))
        selects += [_named(distinct, "subjects"), _named(exp.Count(this=exp.Star()), "records")]
        groups = list(keys)
    query = exp.select(*selects).from_(exp.table_(table, db=db, quoted=True))
    if groups:
        query = query.group_by(*groups)
    return query.sql(dialect="hive", pretty=True) + ";"


def _named(expression: exp.Expression, name: str) -> exp.Expression:
    """The expression under a quoted alias (`partition` is a reserved word in Hive)."""
    return exp.alias_(expression, name, quoted=True)
