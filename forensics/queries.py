"""The registry of SQL files in `queries/`: loaded by name, parameters declared and bound.

Each file starts with a comment header:

    -- name: exposure_enabled_reads
    -- description: one row per (principal, object) with an exposure-enabled read
    -- param: principal object   (a parameter, its kind, and what it means)

Values are checked against their declared kind and bound by DuckDB (`$name`); nothing a
user typed is ever pasted into SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb

from forensics.errors import QueryError
from forensics.names import is_object_name

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
_HEADER = re.compile(r"^--\s*(name|description|param):\s*(.*)$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)*$")
_PRINCIPAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.$@/-]{0,255}$")
KINDS = ("int", "text", "principal", "object", "timestamp")


@dataclass(frozen=True)
class Query:
    """One SQL file: its name, declared parameters (name -> kind) and text."""

    name: str
    description: str
    params: Mapping[str, str]
    sql: str


@cache
def load(name: str) -> Query:
    """The query `queries/<name>.sql`, with its header parsed and checked."""
    if not _NAME.match(name):
        raise QueryError(f"query name {name!r} is not a queries/ file name")
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise QueryError(f"query {name}: no file queries/{name}.sql; is the checkout complete?")
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    params: dict[str, str] = {}
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if not match:
            if line.strip() and not line.strip().startswith("--"):
                break
            continue
        key, value = match.groups()
        if key == "param":
            pname, _, rest = value.partition(" ")
            kind = rest.split()[0] if rest.split() else ""
            if kind not in KINDS:
                raise QueryError(f"queries/{name}.sql: param {pname} has unknown kind {kind!r}")
            params[pname] = kind
        else:
            header[key] = value.strip()
    if header.get("name") != name.rsplit("/", 1)[-1]:
        raise QueryError(
            f"queries/{name}.sql: header must say '-- name: {name.rsplit('/', 1)[-1]}'"
        )
    for pname in params:
        if f"${pname}" not in text:
            raise QueryError(f"queries/{name}.sql: declared param {pname} is never used")
    return Query(name=name, description=header.get("description", ""), params=params, sql=text)


def bind(query: Query, values: Mapping[str, object]) -> dict[str, object]:
    """Check `values` against the declared parameters; the dict DuckDB binds."""
    unknown = set(values) - set(query.params)
    missing = set(query.params) - set(values)
    if unknown or missing:
        raise QueryError(
            f"query {query.name}: parameters {sorted(query.params)} expected; "
            f"unknown {sorted(unknown)}, missing {sorted(missing)}"
        )
    return {k: _check(query.name, k, query.params[k], v) for k, v in values.items()}


def relation(
    con: duckdb.DuckDBPyConnection, name: str, **values: object
) -> duckdb.DuckDBPyRelation:
    """Run a query file (a single SELECT) and return its result as a DuckDB relation."""
    query = load(name)
    return con.sql(query.sql, params=bind(query, values) or None)


def execute(con: duckdb.DuckDBPyConnection, name: str, **values: object) -> None:
    """Run a query file that creates or replaces a table."""
    query = load(name)
    con.sql(query.sql, params=bind(query, values) or None)


def _check(query: str, name: str, kind: str, value: object) -> object:
    ok = {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**62,
        "text": lambda v: isinstance(v, str) and len(v) <= 10_000 and "\x00" not in v,
        "principal": lambda v: isinstance(v, str) and bool(_PRINCIPAL.match(v)),
        "object": lambda v: isinstance(v, str) and is_object_name(v),
        "timestamp": lambda v: isinstance(v, datetime),
    }[kind](value)
    if not ok:
        raise QueryError(
            f"query {query}: parameter {name} must be a valid {kind}, got {value!r:.80}"
        )
    return value
