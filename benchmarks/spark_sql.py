"""The toolkit's `queries/` files as Spark SQL, for the benchmark's Spark comparison.

The reconstruction is written in DuckDB's dialect: macros (`statement_key_of`, the table
macro `access_to`), `* EXCLUDE`/`* REPLACE`, `strftime` layouts and `$name` parameters.
sqlglot transpiles the dialect; what it cannot, this module rewrites first, on the
syntax tree, the way DuckDB itself would expand it:

- a macro definition is remembered, and each call is replaced by the macro's body with
  the arguments in place of the parameters (a table macro becomes a subquery, with
  `query_table(name)` the table named);
- stars with EXCLUDE or REPLACE are expanded into columns from the tables' schemas
  (sqlglot's own star expansion, given the schema of every table Spark holds);
- the timestamp layouts the queries use are given in Spark's pattern letters;
- a parameter becomes the literal the toolkit binds (the benchmark's own constants).

Nothing here is used by the toolkit; it lets Spark run the same SQL files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.optimizer.qualify import qualify

#: DuckDB strftime layouts in the queries -> Spark date_format patterns.
LAYOUTS = {
    "%Y-%m-%dT%H:%M:%S.%gZ": "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
    "%Y-%m-%dT%H:%M:%S.%g": "yyyy-MM-dd'T'HH:mm:ss.SSS",
}


@dataclass
class Macro:
    """A DuckDB macro: its parameters and body (an expression, or a query for AS TABLE)."""

    params: list[str]
    body: exp.Expression


@dataclass
class Translator:
    """Turns query files into Spark statements; remembers macros across files."""

    params: Mapping[str, object] = field(default_factory=dict)
    macros: dict[str, Macro] = field(default_factory=dict)

    def statements(
        self, sql: str, schema: Mapping[str, Mapping[str, str]]
    ) -> list[tuple[str, str | None, str | None]]:
        """(Spark SQL, name it makes or None, kind TABLE/VIEW/INSERT or None) per statement;
        macro definitions are taken in and yield nothing. `schema`: table -> column -> type
        (Spark type names) of every table and view the statements may read."""
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
            if isinstance(tree, exp.Insert):  # INSERT INTO t q: q's rows appended to t
                target, kind, tree = tree.this.name, "INSERT", tree.expression
            elif isinstance(tree, exp.Create):
                kind = tree.args.get("kind")
                if tree.expression is None:  # CREATE TABLE t (columns): an empty table
                    target = tree.this.this.name
                    out.append((_empty_select(tree.this), target, "TABLE"))
                    continue
                target, tree = tree.this.name, tree.expression
            tree = self.expand(tree)
            if _has_special_star(tree):
                tree = qualify(
                    tree,
                    schema={k: dict(v) for k, v in schema.items()},
                    dialect="spark",
                    quote_identifiers=False,
                    validate_qualify_columns=False,
                    identify=False,
                )
            out.append(
                (tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE), target, kind)
            )
        return out

    def expand(self, tree: exp.Expression) -> exp.Expression:
        """Macro calls replaced by their bodies, parameters by literals, layouts by Spark's."""
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
            value = self.params[node.name]
            node.replace(
                exp.Literal.number(value)
                if isinstance(value, int)
                else exp.Literal.string(str(value))
            )
        return tree.transform(_spark_form)


def _spark_form(node: exp.Expression) -> exp.Expression:
    """One DuckDB construct in the form Spark takes with the same meaning (or an error
    saying Spark has none)."""
    if isinstance(node, exp.With) and node.args.get("recursive"):
        raise ValueError("WITH RECURSIVE: Spark 4.0 has no recursive common table expressions")
    if isinstance(node, exp.TimeToStr):
        layout = node.args.get("format")
        if isinstance(layout, exp.Literal) and layout.this in LAYOUTS:
            return exp.Anonymous(
                this="date_format",
                expressions=[node.this, exp.Literal.string(LAYOUTS[layout.this])],
            )
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Filter):
        # agg(x) FILTER (WHERE c) OVER w  ->  agg(CASE WHEN c THEN x END) OVER w
        agg, cond = node.this.this, node.this.expression.this
        arg = agg.this
        value = exp.Literal.number(1) if isinstance(arg, exp.Star) else arg
        agg = agg.copy()
        agg.set("this", exp.Case(ifs=[exp.If(this=cond, true=value)]))
        node = node.copy()
        node.set("this", agg)
        return node
    if isinstance(node, exp.GroupConcat) and isinstance(node.this, exp.Order):
        # string_agg(DISTINCT x, sep ORDER BY x)  ->  array_join(array_sort(collect_set(x)), sep)
        order, sep = node.this, node.args.get("separator")
        inner = order.this
        keys = [o.this for o in order.expressions]
        if isinstance(inner, exp.Distinct) and keys == inner.expressions:
            (value,) = inner.expressions
            ordered = exp.Anonymous(
                this="array_sort",
                expressions=[exp.Anonymous(this="collect_set", expressions=[value])],
            )
            return exp.Anonymous(this="array_join", expressions=[ordered, sep])
    if isinstance(node, exp.RegexpFullMatch):
        pattern = node.expression
        if isinstance(pattern, exp.Literal):
            return exp.RegexpLike(
                this=node.this, expression=exp.Literal.string(f"^(?:{pattern.this})$")
            )
    if isinstance(node, exp.RegexpReplace):
        replacement = node.args.get("replacement")
        if isinstance(replacement, exp.Literal):
            node = node.copy()
            node.set("replacement", exp.Literal.string(re.sub(r"\\(\d)", r"$\1", replacement.this)))
            return node
    if isinstance(node, exp.Length) and isinstance(node.this, exp.Split):
        return exp.ArraySize(this=node.this)  # DuckDB's len() of a list
    if isinstance(node, exp.Anonymous) and node.name.lower() == "list_slice":
        # DuckDB list_slice(l, begin, end): 1-based, inclusive; Spark slice(l, start, length)
        items, begin, end = node.expressions
        length = exp.Add(
            this=exp.Sub(this=end.copy(), expression=begin.copy()), expression=exp.Literal.number(1)
        )
        return exp.Anonymous(this="slice", expressions=[items, begin, exp.Paren(this=length)])
    if (
        isinstance(node, exp.Cast)
        and isinstance(node.this, exp.Literal)
        and node.this.this == "infinity"
        and node.to.is_type("timestamp", "timestampntz")
    ):
        return exp.Cast(this=exp.Literal.string("9999-12-31 23:59:59.999"), to=node.to.copy())
    return node


def _scalar_body(body: exp.Expression, args: Mapping[str, exp.Expression]) -> exp.Expression:
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in args:
            return args[node.name].copy()
        return node

    return body.transform(swap)


def _table_body(body: exp.Expression, args: Mapping[str, exp.Expression]) -> exp.Expression:
    for table in list(body.find_all(exp.Table)):
        call = table.this
        if isinstance(call, exp.Anonymous) and call.name.lower() == "query_table":
            (arg,) = call.expressions
            name = args[arg.name].name
            table.set("this", exp.to_identifier(name))
    return body


def _has_special_star(tree: exp.Expression) -> bool:
    return any(
        star.args.get("except_") or star.args.get("except") or star.args.get("replace")
        for star in tree.find_all(exp.Star)
    )


def _empty_select(schema: exp.Schema) -> str:
    columns = ", ".join(
        f"CAST(NULL AS {c.args['kind'].sql(dialect='spark')}) AS {c.name}"
        for c in schema.expressions
    )
    return f"SELECT {columns} WHERE 1 = 0"
