"""The query registry: every file loads; parameters are declared, checked and bound."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from forensics import queries
from forensics.errors import QueryError

ALL = sorted(
    p.relative_to(queries.QUERIES_DIR).with_suffix("").as_posix()
    for p in queries.QUERIES_DIR.rglob("*.sql")
    if "ddl" not in p.parts
)


@pytest.mark.parametrize("name", ALL)
def test_every_query_file_loads_with_a_header(name: str) -> None:
    query = queries.load(name)
    assert query.description, f"{name} needs a '-- description:' line"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("principal", "alice'; DROP TABLE events; --"),
        ("principal", "../../etc/passwd"),
        ("object", "mci.keystrokes; DELETE"),
        ("object", "mci"),
        ("int", "1 OR 1=1"),
        ("int", True),
        ("text", "a\x00b"),
        ("timestamp", "2026-06-18"),
    ],
)
def test_bad_parameter_values_are_refused(kind: str, value: object) -> None:
    query = queries.Query("q", "", {"p": kind}, "SELECT $p")
    with pytest.raises(QueryError, match="parameter p must be a valid"):
        queries.bind(query, {"p": value})


def test_unknown_and_missing_parameters_are_refused() -> None:
    query = queries.Query("q", "", {"p": "int"}, "SELECT $p")
    with pytest.raises(QueryError, match="unknown"):
        queries.bind(query, {"p": 1, "q": 2})
    with pytest.raises(QueryError, match="missing"):
        queries.bind(query, {})


def test_values_are_bound_not_pasted() -> None:
    con = duckdb.connect()
    query = queries.Query("q", "", {"p": "text", "t": "timestamp"}, "SELECT $p, $t")
    hostile = "x'); DROP TABLE t; --"
    row = con.sql(query.sql, params=queries.bind(query, {"p": hostile, "t": datetime(2026, 1, 1)}))
    assert row.fetchall() == [(hostile, datetime(2026, 1, 1))]


@pytest.mark.parametrize("name", ["../secrets", "Evidence/x", "a b", ""])
def test_query_names_are_checked(name: str) -> None:
    with pytest.raises(QueryError):
        queries.load(name)
