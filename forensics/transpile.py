"""Transpile: the toolkit's `queries/` files (DuckDB's dialect) as Spark SQL or Trino SQL.

sqlglot transpiles the dialect; what it gets wrong (each case has a test showing sqlglot's
own output and why it is wrong, tests/test_transpile.py), this module rewrites first, on
the syntax tree, the way DuckDB itself would expand it:

- a macro definition is remembered, and each call is replaced by the macro's body with
  the arguments in place of the parameters (a table macro becomes a subquery, with
  `query_table(name)` the table named);
- stars with EXCLUDE or REPLACE are expanded into columns from the tables' schemas
  (sqlglot's own star expansion, given the schema of every table the statements read);
- the timestamp layouts the queries use are given in the target's own pattern language;
- DuckDB constructs the target lacks or reads otherwise (`regexp_full_match`, `len` of a
  list, `list_slice`, `string_agg(DISTINCT .. ORDER BY ..)`, `FILTER` inside a window,
  `'infinity'` timestamps, Java's `$1` group references) take the target's equivalent;
- a parameter becomes a literal, written by sqlglot's generator for the target (the
  values are the toolkit's own constants, checked to be plain scalars);
- table names are mapped (`names`): the session's temporary views carry a prefix, and
  `raw_events` is the warehouse's `events` table.

`WITH RECURSIVE` has no Spark equivalent: it raises `Untranslatable`, and the caller runs
that step locally.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.optimizer.qualify import qualify

from forensics.errors import QueryError

TARGETS = ("spark", "trino")
#: DuckDB strftime layouts in the queries -> the target's date_format patterns.
LAYOUTS = {
    "spark": {
        "%Y-%m-%dT%H:%M:%S.%gZ": "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
        "%Y-%m-%dT%H:%M:%S.%g": "yyyy-MM-dd'T'HH:mm:ss.SSS",
    },
    "trino": {  # Joda-Time patterns of Trino's format_datetime
        "%Y-%m-%dT%H:%M:%S.%gZ": "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
        "%Y-%m-%dT%H:%M:%S.%g": "yyyy-MM-dd'T'HH:mm:ss.SSS",
    },
}
#: The latest timestamp both targets hold, for DuckDB's 'infinity' (an open end).
FOREVER = "9999-12-31 23:59:59.999"


class Untranslatable(QueryError):
    """A construct the target has no equivalent of (the step runs locally instead)."""


@dataclass
class Macro:
    """A DuckDB macro: its parameters and body (an expression, or a query for AS TABLE)."""

    params: list[str]
    body: exp.Expression


class Statement(NamedTuple):
    """One statement for the target: its SQL, the name it makes (or None) and how: TABLE,
    VIEW, INSERT (rows added to `target`), DELETE or ALTER (of `target`, a table of the
    engine's: the caller runs those where the table is) or None (a query whose rows are
    read)."""

    sql: str
    target: str | None
    kind: str | None


@dataclass
class Translator:
    """Turns query files into statements of `target`; remembers macros across files."""

    target: str = "spark"
    params: Mapping[str, object] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    macros: dict[str, Macro] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise QueryError(f"transpile: target {self.target!r} is not one of {TARGETS}")

    def statements(
        self, sql: str, schema: Mapping[str, Mapping[str, str]] | None = None
    ) -> list[Statement]:
        """The statements of a query file; macro definitions are taken in and yield none.
        `schema`: table -> column -> type of every table the statements read (needed only
        where a star has EXCLUDE or REPLACE)."""
        out = []
        for tree in sqlglot.parse(sql, read="duckdb"):
            if tree is None:
                continue
            if isinstance(tree, exp.Create) and tree.args.get("kind") in ("MACRO", "FUNCTION"):
                udf = tree.this
                params = [p.name for p in udf.expressions]
                self.macros[udf.this.name.lower()] = Macro(params, tree.expression)
                continue
            target, kind = None, None
            if isinstance(tree, (exp.Delete, exp.Alter)):  # a change to a table of the engine's
                changed, kind = tree.this.name, type(tree).__name__.upper()
                out.append(Statement(self.sql(self.rename(tree)), changed, kind))
                continue
            if isinstance(tree, exp.Insert):  # INSERT INTO t q: q's rows added to t
                target, kind, tree = tree.this.name, "INSERT", tree.expression
            elif isinstance(tree, exp.Create):
                kind = str(tree.args.get("kind"))
                if tree.expression is None:  # CREATE TABLE t (columns): an empty table
                    target = tree.this.this.name
                    out.append(Statement(self.empty(tree.this), target, "TABLE"))
                    continue
                target, tree = tree.this.name, tree.expression
            tree = self.expand(tree)
            if _has_special_star(tree):
                tree = qualify(
                    tree,
                    schema={k: dict(v) for k, v in (schema or {}).items()},
                    dialect=self.target,
                    quote_identifiers=False,
                    validate_qualify_columns=False,
                    identify=False,
                )
            tree = self.rename(tree)
            out.append(Statement(self.sql(tree), target, kind))
        return out

    def sql(self, tree: exp.Expression) -> str:
        """The tree as the target writes it; what the target cannot say raises."""
        try:
            return tree.sql(dialect=self.target, unsupported_level=ErrorLevel.RAISE, comments=False)
        except sqlglot.errors.UnsupportedError as exc:
            raise Untranslatable(f"transpile to {self.target}: {exc}") from None

    def expand(self, tree: exp.Expression) -> exp.Expression:
        """Macro calls replaced by their bodies, parameters by literals, and DuckDB's
        constructs by the target's."""
        for _ in range(10):  # macros may call macros
            changed = False
            for node in list(tree.find_all(exp.Anonymous)):
                macro = self.macros.get(node.name.lower())
                if macro is None:
                    continue
                args = dict(zip(macro.params, node.expressions, strict=True))
                parent = node.parent
                if isinstance(parent, exp.Table) and parent.this is node:
                    body = _table_body(macro.body.copy(), args)
                    alias = parent.args.get("alias")
                    parent.replace(exp.Subquery(this=body, alias=alias))
                else:
                    node.replace(exp.Paren(this=_scalar_body(macro.body.copy(), args)))
                changed = True
            if not changed:
                break
        for node in list(tree.find_all(exp.Placeholder)):
            node.replace(literal(self.params[node.name]))
        form = _spark_form if self.target == "spark" else _trino_form
        return tree.transform(form)

    def rename(self, tree: exp.Expression) -> exp.Expression:
        """Table names mapped through `names` (CTE names are left alone)."""
        if not self.names:
            return tree
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            name = table.name
            if name in self.names and name not in ctes and not table.args.get("db"):
                alias = table.args.get("alias")
                table.set("this", exp.to_identifier(self.names[name]))
                if alias is None:  # columns qualified by the old name still resolve
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
        return tree

    def empty(self, schema: exp.Schema) -> str:
        """`CREATE TABLE t (columns)` as a query of no rows with those columns."""
        columns = ", ".join(
            f"CAST(NULL AS {c.args['kind'].sql(dialect=self.target)}) AS {c.name}"
            for c in schema.expressions
        )
        return f"SELECT {columns} WHERE 1 = 0"


def literal(value: object) -> exp.Expression:
    """A plain scalar as a literal (sqlglot's generator escapes it for the target)."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, str) and "\x00" not in value:
        return exp.Literal.string(value)
    raise QueryError(f"transpile: a {type(value).__name__} cannot be written as a literal")


def _spark_form(node: exp.Expression) -> exp.Expression:
    """One DuckDB construct in the form Spark takes with the same meaning."""
    if isinstance(node, exp.With) and node.args.get("recursive"):
        raise Untranslatable("WITH RECURSIVE: Spark has no recursive common table expressions")
    if isinstance(node, exp.TimeToStr):
        layout = node.args.get("format")
        if isinstance(layout, exp.Literal) and layout.this in LAYOUTS["spark"]:
            return exp.Anonymous(
                this="date_format",
                expressions=[node.this, exp.Literal.string(LAYOUTS["spark"][layout.this])],
            )
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Filter):
        return _window_filter_as_case(node)
    if isinstance(node, exp.GroupConcat) and isinstance(node.this, exp.Order):
        # string_agg(DISTINCT x, sep ORDER BY x)  ->  array_join(array_sort(collect_set(x)), sep)
        found = _distinct_sorted(node, "collect_set")
        if found is not None:
            return found
    if isinstance(node, exp.RegexpFullMatch):
        return _anchored(node)
    if isinstance(node, exp.RegexpReplace):
        return _java_groups(node)
    if isinstance(node, exp.Length) and isinstance(node.this, exp.Split):
        return exp.ArraySize(this=node.this)  # DuckDB's len() of a list
    if isinstance(node, exp.Anonymous) and node.name.lower() == "list_slice":
        return _slice(node)
    if _is_infinity(node):
        return exp.Cast(this=exp.Literal.string(FOREVER), to=node.to.copy())
    return node


def _trino_form(node: exp.Expression) -> exp.Expression:
    """One DuckDB construct in the form Trino takes with the same meaning."""
    if isinstance(node, exp.TimeToStr):
        layout = node.args.get("format")
        if isinstance(layout, exp.Literal) and layout.this in LAYOUTS["trino"]:
            return exp.Anonymous(
                this="format_datetime",
                expressions=[node.this, exp.Literal.string(LAYOUTS["trino"][layout.this])],
            )
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Filter):
        return _window_filter_as_case(node)
    if isinstance(node, exp.GroupConcat) and isinstance(node.this, exp.Order):
        found = _distinct_sorted(node, "array_agg", distinct=True)
        if found is not None:
            return found
    if isinstance(node, exp.RegexpFullMatch):
        return _anchored(node)
    if isinstance(node, exp.RegexpReplace):
        return _java_groups(node, keep_modifiers=False)
    if isinstance(node, exp.Length) and isinstance(node.this, exp.Split):
        return exp.Anonymous(this="cardinality", expressions=[node.this])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "list_slice":
        return _slice(node)
    if _is_infinity(node):
        return exp.Cast(this=exp.Literal.string(FOREVER), to=node.to.copy())
    if isinstance(node, exp.Contains):  # DuckDB's contains(text, part); Trino's is arrays'
        return exp.GT(
            this=exp.Anonymous(this="strpos", expressions=[node.this, node.expression]),
            expression=exp.Literal.number(0),
        )
    return node


def _window_filter_as_case(node: exp.Window) -> exp.Window:
    """agg(x) FILTER (WHERE c) OVER w  ->  agg(CASE WHEN c THEN x END) OVER w."""
    agg, cond = node.this.this, node.this.expression.this
    arg = agg.this
    value = exp.Literal.number(1) if isinstance(arg, exp.Star) else arg
    agg = agg.copy()
    agg.set("this", exp.Case(ifs=[exp.If(this=cond, true=value)]))
    node = node.copy()
    node.set("this", agg)
    return node


def _distinct_sorted(node: exp.GroupConcat, collect: str, distinct: bool = False):
    """string_agg(DISTINCT x, sep ORDER BY x) as a sorted array of the distinct values
    joined by sep (sqlglot writes LISTAGG, which neither target has in that form)."""
    order, sep = node.this, node.args.get("separator")
    inner = order.this
    keys = [o.this for o in order.expressions]
    if not (isinstance(inner, exp.Distinct) and keys == inner.expressions):
        return None
    (value,) = inner.expressions
    argument = exp.Distinct(expressions=[value]) if distinct else value
    ordered = exp.Anonymous(
        this="array_sort", expressions=[exp.Anonymous(this=collect, expressions=[argument])]
    )
    return exp.Anonymous(this="array_join", expressions=[ordered, sep])


def _anchored(node: exp.RegexpFullMatch) -> exp.Expression:
    """DuckDB's full match as a find of the anchored pattern (RLIKE/regexp_like find)."""
    pattern = node.expression
    if not isinstance(pattern, exp.Literal):
        raise Untranslatable("regexp_full_match: the pattern must be a literal")
    return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{pattern.this})$"))


def _java_groups(node: exp.RegexpReplace, keep_modifiers: bool = True) -> exp.Expression:
    r"""A replacement's group references `\1` as Java's and Trino's `$1`; every match is
    replaced (DuckDB's 'g'), which both targets do without a flag."""
    replacement = node.args.get("replacement")
    node = node.copy()
    if isinstance(replacement, exp.Literal):  # an expression (chr(1)) holds no reference
        node.set("replacement", exp.Literal.string(re.sub(r"\\(\d)", r"$\1", replacement.this)))
    modifiers = node.args.get("modifiers")
    if modifiers is not None and (not keep_modifiers or modifiers.name == "g"):
        node.set("modifiers", None)
    return node


def _slice(node: exp.Anonymous) -> exp.Expression:
    """DuckDB list_slice(l, begin, end): 1-based, inclusive; slice(l, start, length)."""
    items, begin, end = node.expressions
    length = exp.Add(
        this=exp.Sub(this=end.copy(), expression=begin.copy()), expression=exp.Literal.number(1)
    )
    return exp.Anonymous(this="slice", expressions=[items, begin, exp.Paren(this=length)])


def _is_infinity(node: exp.Expression) -> bool:
    return (
        isinstance(node, exp.Cast)
        and isinstance(node.this, exp.Literal)
        and node.this.this == "infinity"
        and node.to.is_type("timestamp", "timestampntz")
    )


def _scalar_body(body: exp.Expression, args: Mapping[str, exp.Expression]) -> exp.Expression:
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in args:
            return args[node.name].copy()
        return node

    return body.transform(swap)


def _table_body(body: exp.Expression, args: Mapping[str, exp.Expression]) -> exp.Expression:
    """A table macro's body: `query_table(param)` as the table its argument names, and
    every other parameter (a value, `statement_aggregate`'s pattern) as its argument."""
    tables = set()
    for table in list(body.find_all(exp.Table)):
        call = table.this
        if isinstance(call, exp.Anonymous) and call.name.lower() == "query_table":
            (arg,) = call.expressions
            tables.add(arg.name)
            name = args[arg.name].name
            table.set("this", exp.to_identifier(name))
    values = {name: value for name, value in args.items() if name not in tables}
    return _scalar_body(body, values) if values else body


def _has_special_star(tree: exp.Expression) -> bool:
    return any(
        star.args.get("except_") or star.args.get("except") or star.args.get("replace")
        for star in tree.find_all(exp.Star)
    )


def inline_ctes(tree: exp.Expression) -> exp.Expression:
    """The query with every common table expression (`WITH name AS (...)`) replaced by a
    subquery where it is read, innermost first; the meaning is unchanged (a CTE read twice
    is computed twice).

    For a view the server is asked to cache: Spark (4.0) finds a cached view inside a
    later query by comparing plans, and a view whose CTE is read more than once keeps it
    as a CTE whose id is new at each analysis, so the cached rows were never used and the
    view was computed again in every query that read it."""
    tree = tree.copy()
    while holders := [q for q in tree.find_all(exp.Query) if q.args.get("with_")]:
        query = holders[-1]  # breadth-first order: the last one holds no other
        with_ = query.args["with_"]
        if with_.args.get("recursive"):
            raise Untranslatable("WITH RECURSIVE cannot be written as subqueries")
        query.set("with_", None)
        bodies: dict[str, exp.Expression] = {}
        for cte in with_.expressions:
            bodies[cte.alias] = _read_ctes(cte.this.copy(), bodies)
        replaced = _read_ctes(query, bodies)
        if query is tree:
            tree = replaced
    return tree


def _read_ctes(node: exp.Expression, bodies: Mapping[str, exp.Expression]) -> exp.Expression:
    """Each read of a CTE in `bodies` (a table of that name, no database) as a subquery
    under the name it was read by."""

    def swap(found: exp.Expression) -> exp.Expression:
        if isinstance(found, exp.Table) and not found.args.get("db") and found.name in bodies:
            alias = exp.TableAlias(this=exp.to_identifier(found.alias_or_name))
            return exp.Subquery(this=bodies[found.name].copy(), alias=alias)
        return found

    return node.transform(swap, copy=False)
