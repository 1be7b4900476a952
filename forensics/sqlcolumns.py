"""Which columns of which tables a statement read, and the partitions it narrowed to.

`forensics.sqlrefs` says which objects a statement read; this module says which of their
columns, the way Hive's column pruner and lineage hook see it: every column a query
references (selected, filtered, joined, grouped, ordered), traced through subqueries, CTEs
and views down to the tables, with projections nobody uses pruned away (sqlglot's
`qualify` and `pushdown_projections`). `SELECT *` expands to the catalog's columns when
the catalog lists them; otherwise the table's columns are unknown (`None`, written `*`).
A partition column counts when the statement names it, not through `*`: Hive's
authorization (`ColumnAccessAnalyzer`, whose columns Ranger logs as `@column`) lists a
scan's referenced columns and only the partition columns its predicates refer to.
A column that cannot be placed on one table (an unqualified name in a join of tables the
catalog does not describe) makes the candidate tables' columns unknown rather than
guessed.

The conjuncts of each `WHERE` that compare a partition column of a table with constants
narrow that table to partitions (`forensics.partitions`); a table read once narrowed and
once not is read whole.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.pushdown_projections import pushdown_projections
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.schema import MappingSchema

from forensics.partitions import ALL, Condition, spec_of
from forensics.sqlcolumns_scan import scan

_EXPLAIN = re.compile(r"^\s*explain(\s+(extended|formatted|dependency|vectorization))*\s+", re.I)
_COMPARE = {exp.EQ: "=", exp.GTE: ">=", exp.GT: ">", exp.LTE: "<=", exp.LT: "<"}
_FLIP = {"=": "=", ">=": "<=", ">": "<", "<=": ">=", "<": ">"}


@dataclass(frozen=True)
class TableRead:
    """What one statement read of one table: its columns (None: unknown, every column may
    have been read) and the partition specs it narrowed to (`("*",)`: all)."""

    object: str
    columns: tuple[str, ...] | None
    partitions: tuple[str, ...] = (ALL,)


@dataclass(frozen=True)
class TableSchema:
    """What the catalog says about the tables: columns and partition columns by object.
    Views are given as (database they were created in, definition)."""

    columns: Mapping[str, Sequence[str]]
    partition_columns: Mapping[str, Sequence[str]]
    views: Mapping[str, tuple[str, str]]


class ColumnReader:
    """Reads statements against one catalog, each distinct (text, database) once; with
    `remember=False` no answer is kept (for callers that ask about each text once)."""

    def __init__(self, schema: TableSchema, remember: bool = True) -> None:
        self.schema = schema
        self.mapping = _mapping_schema(schema)
        self.remember = remember
        self._cache: dict[tuple[str, str, str], dict[str, TableRead] | None] = {}

    def read(
        self, text: str, database: str = "default", dialect: str = "hive"
    ) -> dict[str, TableRead] | None:
        """The tables a statement read, each with its columns and partitions; None when
        the statement cannot be read (the caller then knows only what its log names)."""
        key = (text, database.lower(), dialect)
        if key in self._cache:
            return self._cache[key]
        found = self._scanned(text, key[1]) or self._analyze(text, key[1], dialect)
        if self.remember:
            self._cache[key] = found
        return found

    def _scanned(self, text: str, database: str) -> dict[str, TableRead] | None:
        """The scanner's answer for a plain one-table statement (not over a view)."""
        found = scan(text, database, self.schema.columns, self.schema.partition_columns)
        if found is None or found[0] in self.schema.views:
            return None
        obj, columns, specs = found
        return {obj: TableRead(obj, columns, specs)}

    def _analyze(self, text: str, database: str, dialect: str) -> dict[str, TableRead] | None:
        queries = _queries(text, dialect)
        if not queries or any(q is None for q in queries):
            return None
        reads = _Reads(self.schema)
        for query in queries:
            try:
                query = _expand_views(query, database, self.schema, depth=0)
                reads.named |= {c.name.lower() for c in query.find_all(exp.Column)}
                query = qualify(
                    query,
                    db=database,
                    schema=self.mapping,
                    dialect=dialect,
                    validate_qualify_columns=False,
                    quote_identifiers=False,
                    identify=False,
                )
                scopes = traverse_scope(_pruned(query))
            except (SqlglotError, RecursionError, KeyError, ValueError, AttributeError):
                return None
            for scope in scopes:
                reads.add_scope(scope)
        return reads.result()


def _pruned(query: exp.Expression) -> exp.Expression:
    """Projections of subqueries and views that nothing above uses, removed (Hive's column
    pruner does the same); a query with a `*` sqlglot cannot expand is kept whole."""
    try:
        return pushdown_projections(query.copy())
    except OptimizeError:
        return query


def _queries(text: str, dialect: str) -> list[exp.Query | None]:
    """The queries of a statement: the SELECT of an INSERT, CTAS or view definition, each
    branch of a multi-insert (`FROM src INSERT .. SELECT .. INSERT .. SELECT ..`) with its
    source; none when the statement is not one sqlglot reads."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        trees = sqlglot.parse(_EXPLAIN.sub("", text, count=1), read=dialect)
    except SqlglotError:
        return []
    finally:
        logger.setLevel(level)
    if len(trees) != 1 or trees[0] is None:
        return []
    tree = trees[0]
    if isinstance(tree, exp.MultitableInserts):
        return [_with_source(i.expression, tree.args.get("source")) for i in tree.expressions]
    if isinstance(tree, (exp.Insert, exp.Create)):
        tree = tree.expression
    elif isinstance(tree, exp.Alter):
        tree = next((a for a in tree.args.get("actions") or [] if isinstance(a, exp.Query)), None)
    return [tree] if isinstance(tree, exp.Query) else []


def _with_source(select: exp.Expression, source: exp.Expression | None) -> exp.Query | None:
    """A multi-insert branch as a query of its own over the shared source."""
    if not isinstance(select, exp.Select) or source is None:
        return None
    source = source.copy()
    joins = source.args.get("joins")
    source.set("joins", None)
    query = select.copy().from_(source, copy=False)
    if joins:
        query.set("joins", joins)
    return query


def _query(text: str, dialect: str) -> exp.Query | None:
    """The one query of a view definition."""
    found = _queries(text, dialect)
    return found[0] if len(found) == 1 else None


def _name(table: exp.Table, database: str) -> str:
    """`db.table` of a reference (a Trino `catalog.schema.table` drops its catalog)."""
    return f"{(table.db or database).lower()}.{table.name.lower()}"


def _expand_views(
    query: exp.Expression, database: str, schema: TableSchema, depth: int
) -> exp.Expression:
    """Each reference to a catalog view replaced by its definition (read in the view's own
    database), recursively, so that columns are traced to the tables under the view."""
    if depth > 16 or not schema.views:
        return query
    ctes = {c.alias_or_name.lower() for c in query.find_all(exp.CTE)}
    for table in list(query.find_all(exp.Table)):
        if not table.name or (not table.db and table.name.lower() in ctes):
            continue
        name = _name(table, database)
        if name not in schema.views:
            continue
        view_db, definition = schema.views[name]
        body = _query(definition, "hive")
        if body is None:
            continue
        body = _expand_views(body, view_db, schema, depth + 1)
        for inner in body.find_all(exp.Table):
            if inner.name and not inner.db:
                inner.set("db", exp.to_identifier(view_db))
        alias = table.alias_or_name
        table.replace(exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    return query


def _mapping_schema(schema: TableSchema) -> MappingSchema:
    nested: dict[str, dict[str, dict[str, str]]] = {}
    for obj, cols in schema.columns.items():
        db, table = obj.split(".", 1)
        every = list(cols) + [c for c in schema.partition_columns.get(obj, ()) if c not in cols]
        if cols:  # partition columns alone are not the table's columns
            nested.setdefault(db, {})[table] = {c: "string" for c in every}
    return MappingSchema(nested, dialect="hive", normalize=True)


class _Reads:
    """Columns and partition specs gathered scope by scope."""

    def __init__(self, schema: TableSchema) -> None:
        self.schema = schema
        self.columns: dict[str, set[str] | None] = {}
        self.partitions: dict[str, set[str]] = {}
        self.named: set[str] = set()  # column names the statement itself writes

    def add_scope(self, scope: Scope) -> None:
        tables = {
            alias: source
            for alias, source in scope.sources.items()
            if isinstance(source, exp.Table) and source.name
        }
        for source in tables.values():
            self.columns.setdefault(self._object(source), set())
        for column in scope.columns:
            if _in_exists_select(scope, column):
                continue  # Hive reads only what an EXISTS subquery's condition needs
            source = tables.get(column.table)
            if source is not None:
                found = self.columns[self._object(source)]
                if found is not None:
                    found.add(column.name.lower())
            elif not column.table or column.table not in scope.sources:
                candidates = self._candidates(column.name.lower(), tables.values())
                if len(candidates) == 1 and len(scope.sources) == 1:
                    found = self.columns[self._object(candidates[0])]
                    if found is not None:
                        found.add(column.name.lower())  # the scope's only table
                else:
                    self._unknown(candidates)
        for star in _selected_stars(scope):
            owner = star.table if isinstance(star, exp.Column) else ""
            self._unknown(s for a, s in tables.items() if not owner or a == owner)
        narrowed = _conditions(scope, tables, self.schema.partition_columns, self._object)
        for alias, source in tables.items():
            spec = narrowed.get(alias)
            self.partitions.setdefault(self._object(source), set()).add(spec or ALL)

    def _object(self, table: exp.Table) -> str:
        return f"{table.db.lower()}.{table.name.lower()}" if table.db else table.name.lower()

    def _candidates(self, column: str, sources) -> list[exp.Table]:
        """The tables an unplaced column may belong to: those the catalog does not describe
        and those it says have the column."""
        out = []
        for source in sources:
            obj = self._object(source)
            known = list(self.schema.columns.get(obj, ())) + list(
                self.schema.partition_columns.get(obj, ())
            )
            if not self.schema.columns.get(obj) or column in known:
                out.append(source)
        return out

    def _unknown(self, sources) -> None:
        for source in sources:
            self.columns[self._object(source)] = None

    def result(self) -> dict[str, TableRead]:
        out = {}
        for obj, cols in sorted(self.columns.items()):
            if cols is not None:  # a partition column counts when named, not through `*`
                hidden = set(self.schema.partition_columns.get(obj, ())) - self.named
                cols = cols - hidden
            specs = self.partitions.get(obj, {ALL})
            out[obj] = TableRead(
                obj,
                None if cols is None else tuple(sorted(cols)),
                (ALL,) if ALL in specs else tuple(sorted(specs)),
            )
        return out


def _in_exists_select(scope: Scope, column: exp.Column) -> bool:
    """Whether the column sits in the select list of an `EXISTS (...)` subquery."""
    select = scope.expression
    if not isinstance(select, exp.Select) or not isinstance(select.parent, exp.Exists):
        return False
    return any(column is e or column in e.find_all(exp.Column) for e in select.expressions)


def _selected_stars(scope: Scope) -> list[exp.Expression]:
    """`*` and `t.*` in the select list of a scope (not `count(*)`)."""
    select = scope.expression
    if not isinstance(select, exp.Select):
        return []
    return [
        e
        for e in select.expressions
        if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
    ]


def _conditions(
    scope: Scope,
    tables: Mapping[str, exp.Table],
    partition_columns: Mapping[str, Sequence[str]],
    object_of,
) -> dict[str, str]:
    """Per table alias, the partition spec the scope's WHERE narrows it to."""
    select = scope.expression
    where = select.args.get("where") if isinstance(select, exp.Select) else None
    if where is None:
        return {}
    found: dict[str, list[Condition]] = {}
    for conjunct in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        for alias, condition in _condition(conjunct):
            if not alias and len(scope.sources) == 1:
                alias = next(iter(tables), "")  # the scope's only table
            source = tables.get(alias)
            if source is None or condition.column not in partition_columns.get(
                object_of(source), ()
            ):
                continue
            found.setdefault(alias, []).append(condition)
    return {alias: spec_of(conds) for alias, conds in found.items()}


def _condition(node: exp.Expression) -> list[tuple[str, Condition]]:
    """A conjunct that compares one column with constants, as (table alias, condition)."""
    node = node.unnest()
    if isinstance(node, exp.Between):
        column, low, high = node.this, node.args.get("low"), node.args.get("high")
        if _is_column(column) and _constant(low) is not None and _constant(high) is not None:
            name = column.name.lower()
            return [
                (column.table, Condition(name, ">=", (_constant(low),))),
                (column.table, Condition(name, "<=", (_constant(high),))),
            ]
        return []
    if isinstance(node, exp.In) and _is_column(node.this) and not node.args.get("query"):
        values = [_constant(v) for v in node.expressions]
        if values and all(v is not None for v in values):
            return [
                (
                    node.this.table,
                    Condition(node.this.name.lower(), "=", tuple(sorted(set(values)))),
                )
            ]
        return []
    if isinstance(node, exp.Or):
        return _or_of_equalities(node)
    op = _COMPARE.get(type(node))
    if op is None:
        return []
    left, right = node.this, node.expression
    if _is_column(right) and _constant(left) is not None:
        left, right, op = right, left, _FLIP[op]
    if _is_column(left) and _constant(right) is not None:
        return [(left.table, Condition(left.name.lower(), op, (_constant(right),)))]
    return []


def _or_of_equalities(node: exp.Or) -> list[tuple[str, Condition]]:
    """`ds = 'a' OR ds = 'b'` as one `=` condition with two values; anything else none."""
    values, key = [], None
    for part in node.flatten():
        found = _condition(part)
        if len(found) != 1 or found[0][1].op != "=":
            return []
        alias, condition = found[0]
        if key not in (None, (alias, condition.column)):
            return []
        key = (alias, condition.column)
        values += condition.values
    return [(key[0], Condition(key[1], "=", tuple(sorted(set(values)))))] if key else []


def _is_column(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Column) and not isinstance(node.this, exp.Star)


def _constant(node: exp.Expression | None) -> str | None:
    """The text of a literal (`'2026-06-01'`, `3`), else None."""
    if isinstance(node, exp.Cast):
        node = node.this
    if isinstance(node, exp.Literal):
        return str(node.this)
    return None
