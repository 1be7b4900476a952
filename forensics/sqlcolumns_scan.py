"""A strict scanner for the plain one-table statements most reads are.

`SELECT` lists of columns, `*`, `count(*)` and simple aggregates over one table (named
`db.table`, `table` or Trino's `catalog.schema.table`), a `WHERE` of `AND`-joined
comparisons of a column with constants, `GROUP BY`/`ORDER BY` columns and `LIMIT`, with
an optional `CREATE TABLE t AS` or `INSERT INTO|OVERWRITE TABLE t` in front: at warehouse
scale each object has statements of its own, and sqlglot's parse and qualify (about 2 ms
a statement) would be most of the run. The scanner answers only inside this subset
and returns None for anything else (sqlglot then reads it);
`tests/test_sqlcolumns.py` holds the two to the same answers wherever the scanner answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from forensics.partitions import ALL, Condition, spec_of

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'[^'\\]*')|(?P<number>\d+(?:\.\d+)?)(?![\w.])|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><=|>=|<>|!=|=|<|>)|(?P<punct>[(),.*;]))"
)
_KEYWORDS = frozenset(
    "select distinct from where and group by order asc desc limit as in between like is not "
    "null create table insert into overwrite or join on union with having over partition "
    "lateral view case when then else end exists cast true false current_date "
    "current_timestamp current_user interval".split()
)
_AGGREGATES = frozenset({"count", "sum", "min", "max", "avg"})
_FLIP = {"=": "=", ">=": "<=", ">": "<", "<=": ">=", "<": ">"}


class _Tokens:
    """Tokens (kind, text) with a cursor; `lower` compares keywords."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else ("end", "")

    def word(self, *words: str) -> bool:
        kind, text = self.peek()
        if kind == "name" and text.lower() in words:
            self.i += 1
            return True
        return False

    def punct(self, mark: str) -> bool:
        if self.peek() == ("punct", mark):
            self.i += 1
            return True
        return False

    def name(self) -> str | None:
        kind, text = self.peek()
        if kind == "name" and text.lower() not in _KEYWORDS:
            self.i += 1
            return text.lower()
        return None


def _tokens(text: str) -> list[tuple[str, str]] | None:
    out, pos, text = [], 0, text.strip().rstrip(";").rstrip()
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if found is None or found.end() == pos:
            return None
        kind = found.lastgroup or ""
        out.append((kind, found.group(kind)))
        pos = found.end()
    return out


def scan(
    text: str,
    database: str,
    columns: Mapping[str, Sequence[str]],
    partition_columns: Mapping[str, Sequence[str]],
) -> tuple[str, tuple[str, ...] | None, tuple[str, ...]] | None:
    """(object, columns read or None when unknown, partition specs) of a plain one-table
    statement; None when the statement is not one this scanner reads."""
    tokens = _tokens(text)
    if tokens is None:
        return None
    t = _Tokens(tokens)
    if t.word("create"):
        if not (t.word("table") and _qualified(t) and t.word("as")):
            return None
    elif t.word("insert"):
        if not (t.word("into", "overwrite") and t.word("table") and _qualified(t)):
            return None
    if not t.word("select"):
        return None
    t.word("distinct")
    star, used, aliases = False, set(), set()
    while True:
        if t.punct("*"):
            star = True
        else:
            item = _item(t)
            if item is None:
                return None
            used |= item
            if t.word("as"):
                alias = t.name()
                if alias is None:
                    return None
                aliases.add(alias)
        if not t.punct(","):
            break
    if not t.word("from"):
        return None
    parts = _qualified(t)
    if parts is None:
        return None
    obj = f"{(parts[-2] if len(parts) > 1 else database).lower()}.{parts[-1]}"
    table = parts[-1]
    alias = t.name() if not t.word("as") else t.name()
    owners = {table, alias, None} - {None} if alias else {table}
    conditions: list[Condition] = []
    if t.word("where"):
        while True:
            found = _condition(t, owners)
            if found is None:
                return None
            named, narrowing = found
            used |= named
            conditions += narrowing
            if not t.word("and"):
                break
    if t.word("group"):
        if not t.word("by"):
            return None
        found = _column_list(t, owners, aliases)
        if found is None:
            return None
        used |= found
    if t.word("order"):
        if not t.word("by"):
            return None
        found = _column_list(t, owners, aliases, directions=True)
        if found is None:
            return None
        used |= found
    if t.word("limit") and t.peek()[0] == "number":
        t.i += 1
    if t.peek()[0] != "end":
        return None
    if any(c.split(".", 1)[0] not in owners for c in used if "." in c):
        return None
    names = {c.split(".", 1)[-1] for c in used}
    listed = list(columns.get(obj, ()))
    if listed and names - set(listed) - set(partition_columns.get(obj, ())):
        return None  # a name the catalog does not list for the table: sqlglot decides
    if star:
        read = tuple(sorted(names | set(listed))) if listed else None
    else:
        read = tuple(sorted(names))
    return obj, read, _specs(obj, conditions, partition_columns)


def _qualified(t: _Tokens) -> list[str] | None:
    """`a`, `a.b` or `a.b.c` (lower case)."""
    first = t.name()
    if first is None:
        return None
    parts = [first]
    while len(parts) < 3 and t.punct("."):
        nxt = t.name()
        if nxt is None:
            return None
        parts.append(nxt)
    return parts


def _column(t: _Tokens) -> str | None:
    """`col` or `alias.col`."""
    parts = _qualified(t)
    if parts is None or len(parts) > 2:
        return None
    return ".".join(parts)


def _item(t: _Tokens) -> set[str] | None:
    """A select item: a column, or an aggregate of `*` or of a column."""
    kind, text = t.peek()
    if kind == "name" and text.lower() in _AGGREGATES and t.peek(1) == ("punct", "("):
        t.i += 2
        if t.punct("*"):
            found: set[str] = set()
        else:
            t.word("distinct")
            column = _column(t)
            if column is None:
                return None
            found = {column}
        return found if t.punct(")") else None
    column = _column(t)
    return None if column is None else {column}


def _column_list(
    t: _Tokens, owners: set[str], aliases: set[str], directions: bool = False
) -> set[str] | None:
    found = set()
    while True:
        column = _column(t)
        if column is None:
            return None
        if column not in aliases:
            found.add(column)
        if directions:
            t.word("asc", "desc")
        if not t.punct(","):
            return found


def _constant(t: _Tokens) -> str | None:
    kind, text = t.peek()
    if kind == "string":
        t.i += 1
        return text[1:-1]
    if kind == "number":
        t.i += 1
        return text
    return None


def _condition(t: _Tokens, owners: set[str]) -> tuple[set[str], list[Condition]] | None:
    """One conjunct: the columns it names and the partition conditions it may give."""
    start = t.i
    left = _constant(t)
    if left is not None:  # `'2026-06-01' <= ds`
        kind, op = t.peek()
        if kind != "op" or op not in _FLIP:
            return None
        t.i += 1
        column = _column(t)
        if column is None:
            return None
        return {column}, [Condition(column.split(".")[-1], _FLIP[op], (left,))]
    t.i = start
    column = _column(t)
    if column is None:
        return None
    name = column.split(".")[-1]
    kind, op = t.peek()
    if kind == "op":
        t.i += 1
        value = _constant(t)
        if value is None:
            return None
        return {column}, ([Condition(name, op, (value,))] if op in _FLIP else [])
    if t.word("like"):
        return ({column}, []) if _constant(t) is not None else None
    if t.word("is"):
        t.word("not")
        return ({column}, []) if t.word("null") else None
    if t.word("between"):
        low = _constant(t)
        if low is None or not t.word("and"):
            return None
        high = _constant(t)
        if high is None:
            return None
        return {column}, [Condition(name, ">=", (low,)), Condition(name, "<=", (high,))]
    if t.word("in"):
        if not t.punct("("):
            return None
        values = []
        while True:
            value = _constant(t)
            if value is None:
                return None
            values.append(value)
            if not t.punct(","):
                break
        if not t.punct(")"):
            return None
        return {column}, [Condition(name, "=", tuple(sorted(set(values))))]
    return None


def _specs(
    obj: str, conditions: list[Condition], partition_columns: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    keys = set(partition_columns.get(obj, ()))
    narrowing = [c for c in conditions if c.column in keys]
    return (spec_of(narrowing),) if narrowing else (ALL,)
