"""Full pushdown: the reconstruction runs in the warehouse; only its rows come back.

With `pushdown: full` in a profile (a Spark Thrift Server), the events never leave the
warehouse. The case's scope (windows, views over exposed objects, baseline, storage
locations, on-behalf services) is sent as temporary views of the session (`CREATE
TEMPORARY VIEW forensics_... AS SELECT ... FROM VALUES`, the only statement besides
queries the read-only guard lets through, `warehouse.read_only`); the same `queries/`
files the embedded engine runs are transpiled to Spark SQL (`forensics.transpile`) and
run there, each table they make a temporary view. What comes back:

- the exposed objects' accesses with their baseline and window tests;
- the statements that may write (reconstruct/writing_candidates, the embedded run's query:
  one read of the events, those that say they may write keyed and aggregated; the few
  they do not complete asked again by principal, reconstruct/incomplete_candidates; the
  storage paths they wrote resolved here against the whole catalog,
  pushdown/written_paths, as the warehouse knows only the locations sent to it), which
  each round of copy-following asks here (reconstruct/candidate_writes, parsed here,
  `sqlrefs`: statement parsing stays local) instead of scanning the events there again;
- per round of copy-following, the new copies' accesses (pushdown/copy_access, with the
  storage paths under their locations only, sent with the round): one scan of the events
  a round.

The steps after classification (pseudonyms, categories with their `WITH RECURSIVE`, which
Spark lacks, redaction, read details, evidence) run here on those rows
(`reconstruct.complete`), so the evidence is the embedded run's, byte for byte.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from forensics import queries, warehouse
from forensics.catalog import Catalog
from forensics.engine import load_arrow, load_rows
from forensics.errors import QueryError
from forensics.reconstruct import (
    MAY_WRITE,
    complete,
    follow_copies,
    normalize_events,
    write_statements,
)
from forensics.schema import EVENT_SCHEMA
from forensics.scope import Scope
from forensics.sqlcolumns import TableSchema
from forensics.transpile import Translator, inline_ctes
from forensics.warehouse import as_schema

PREFIX = warehouse.VIEW_PREFIX
#: Rows per statement that sends rows (one string literal each).
CHUNK_ROWS = 20_000
#: Every name the query files make or read in the session, each a temporary view there
#: (`raw_events` is the warehouse's own `events` table).
SESSION_NAMES = (
    "catalog_objects", "view_bases", "windows", "baseline_objects", "baseline_members",
    "on_behalf", "ranger_seconds", "repeated_keys", "dropped_events", "path_objects",
    "kept_events", "resolved_events",
    "keyed_events", "text_statement_keys", "events", "exposed_targets", "exposed_access",
    "copies", "copy_targets", "classification", "statement_sources", "wanted_statements",
    "asked_statements", "writing_statements", "statement_candidates", "incomplete_statements",
    "copy_locations", "copy_paths", "copy_access",
)  # fmt: skip
#: Rows from which a view sent from here is cached by the server (`Session.send`).
CACHE_ROWS = 1_000
#: Tables the query files make whose rows come back (each also stays a view there): the
#: exposed objects' accesses, and the statements that may write (a few percent of the
#: events), which every round of copy-following then asks here instead of scanning the
#: events there again; and each round's copies' accesses.
FETCHED = frozenset({"exposed_access", "statement_candidates", "copy_access"})
#: Tables later queries read again, cached by the server (`CACHE TABLE` of the session's
#: temporary view, `HiveWarehouse.cache`) so that it computes them once: the events dropped
#: as duplicates (two window passes over every event) and the objects of storage paths
#: (every distinct path), which every query reading the events joins. Cached, the server
#: also knows their sizes and broadcasts the small ones to a join instead of shuffling
#: every event; and a round's storage paths under its copies and the round's accesses
#: (pushdown/copy_access): the server broadcasts those few paths to its one scan of the
#: events, and computes the accesses on every core (the rows of a query it computes one
#: partition after another, as they are fetched).
#: The HDFS reads' seconds of the Ranger HDFS plugin (normalize/events: the only events
#: that can be paired as duplicates of a NameNode line; none in the generated incidents)
#: are cached too, as the embedded run makes them a table: the server then knows there
#: are none and reads no HDFS read to pair (two reads of the events fewer in
#: dropped_events). A common table expression such a view reads twice is cached as a view
#: of its own (`Session.shared_ctes`).
CACHED = frozenset(
    {"ranger_seconds", "dropped_events", "path_objects", "copy_paths", "copy_access"}
)
#: The views normalize/events makes over every event, read only by
#: normalize/text_statement_keys in the session (the other queries read raw_events, or
#: kept_events, a view of it without the dropped events, which is always sent).
_EVENT_VIEWS = frozenset({"resolved_events", "keyed_events", "events"})
_TS = pa.timestamp("ms")
_S = pa.string()


class Session:
    """One warehouse session: the views sent and made there, and the statements run."""

    def __init__(
        self,
        wh: warehouse.HiveWarehouse,
        schema: dict[str, dict[str, str]],
        keep_literals: bool,
        stages,
    ) -> None:
        names = {name: PREFIX + name for name in SESSION_NAMES}
        names["raw_events"] = "events"
        self.wh = wh
        self.schema = schema
        self.stages = stages
        self.translator = Translator(
            target="spark",
            params={"may_write": MAY_WRITE, "keep_literals": int(keep_literals)},
            names=names,
        )
        self.inserted: dict[str, list[tuple]] = {}
        self.columns: dict[str, list[tuple[str, pa.DataType]]] = {}

    def run(self, name: str, skip: frozenset[str] = frozenset()) -> pa.Table | None:
        """The statements of `queries/<name>.sql` in the session (but those making a table
        or view in `skip`, and a DELETE or ALTER, which change a table here): a table or
        view made becomes a temporary view, rows inserted are fetched and the target sent
        again as rows (or returned, for a table in `FETCHED`: it is here), and the rows of
        a query (or of a table in `FETCHED`, read in no particular order: the engine here
        orders what it reads of it) are returned."""
        found = None
        for sql, target, kind in self.translator.statements(queries.load(name).sql, self.schema):
            if target in skip or kind in ("DELETE", "ALTER"):
                continue
            if kind == "INSERT":
                rows = self.wh.query(sql, dialect="spark")
                if target in FETCHED:
                    found = rows
                    continue
                self.inserted.setdefault(target, []).extend(_tuples(rows))
                columns = self.columns.get(target) or [(c, _S) for c in self.schema[target]]
                self.send(target, columns, self.inserted[target])
            elif target is not None:
                if kind == "TABLE" and target in self.columns:
                    self.inserted[target] = []  # CREATE TABLE t (columns): empty again
                if target in CACHED:
                    sql = self.shared_ctes(target, sql)
                self.wh.define(self._view(PREFIX + target, sql, unordered=target in FETCHED))
                if target in CACHED:
                    self.wh.cache(PREFIX + target)
                if target in FETCHED:
                    found = self.wh.query(f"SELECT * FROM {PREFIX}{target}", dialect="spark")
            else:
                found = self.wh.query(sql, dialect="spark")
        return found

    def shared_ctes(self, target: str, sql: str) -> str:
        """`sql` with each common table expression it reads more than once made a cached
        view of its own (`forensics_<target>_<name>`, read by name): the view is sent with
        its CTEs as subqueries (`_view`), each computed where it is read, where the embedded
        engine computes such a CTE once (normalize/events' `later_copies`, read by the
        events dropped and by the HDFS reads they are paired from: the events read twice
        more, and their window sort done twice)."""
        query = sqlglot.parse_one(sql, read="spark")
        with_ = query.args.get("with_")
        if with_ is None or with_.args.get("recursive"):
            return sql
        for cte in list(with_.expressions):
            reads = [
                t for t in query.find_all(exp.Table) if t.name == cte.alias and not t.args.get("db")
            ]
            if len(reads) < 2:
                continue
            name = f"{target}_{cte.alias}"
            before = with_.expressions[: with_.expressions.index(cte)]
            body = cte.this.copy()
            if before:
                body.set("with_", exp.With(expressions=[c.copy() for c in before]))
            self.wh.define(self._view(PREFIX + name, body.sql(dialect="spark")))
            self.wh.cache(PREFIX + name)
            for table in reads:
                alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(cte.alias))
                table.replace(exp.Table(this=exp.to_identifier(PREFIX + name), alias=alias))
            with_.expressions.remove(cte)
        if not with_.expressions:
            query.set("with_", None)
        return query.sql(dialect="spark")

    def send(
        self, name: str, columns: Sequence[tuple[str, pa.DataType]], rows: Iterable[Sequence]
    ) -> None:
        """Rows from here as the temporary view `forensics_<name>`, in chunks of
        `CHUNK_ROWS` (each its own view, the whole their union); every value a literal
        checked to read back as itself. A view of `CACHE_ROWS` rows or more is cached by
        the server: its JSON is decoded once, not by every query that reads it."""
        rows = list(rows)
        self.columns[name] = list(columns)
        chunks = [rows[i : i + CHUNK_ROWS] for i in range(0, len(rows), CHUNK_ROWS)] or [[]]
        if len(chunks) == 1:
            self.wh.define(values_view(PREFIX + name, columns, chunks[0]))
        else:
            self._union(name, columns, chunks)
        if len(rows) >= CACHE_ROWS:
            self.wh.cache(PREFIX + name)

    def _union(
        self, name: str, columns: Sequence[tuple[str, pa.DataType]], chunks: list[list]
    ) -> None:
        """`forensics_<name>` as the union of one view per chunk of rows."""
        parts = []
        for i, chunk in enumerate(chunks):
            part = f"{PREFIX}{name}_part{i}"
            self.wh.define(values_view(part, columns, chunk))
            parts.append(exp.select("*").from_(part))
        union = parts[0]
        for part_query in parts[1:]:
            union = exp.union(union, part_query, distinct=False)
        self.wh.define(self._view(PREFIX + name, union.sql(dialect="spark")))

    def _view(self, name: str, sql: str, unordered: bool = False) -> str:
        """`CREATE OR REPLACE TEMPORARY VIEW name AS sql`, without CTEs
        (`transpile.inline_ctes`): a view read twice keeps its CTE with an id new at each
        analysis, so a cached view over it (`exposed_access` over `exposed_targets`)
        never matched its cached rows and was computed again by every query reading it.
        `unordered`: without its outer ORDER BY (a sort of every row the server need not
        do for rows fetched into a table here)."""
        query = sqlglot.parse_one(sql, read="spark")
        if unordered and isinstance(query, exp.Select):
            query.set("order", None)
        tree = exp.Create(
            this=exp.to_table(name),
            kind="VIEW",
            replace=True,
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
            expression=inline_ctes(query),
        )
        return tree.sql(dialect="spark")


def values_view(name: str, columns: Sequence[tuple[str, pa.DataType]], rows: list) -> str:
    """`CREATE OR REPLACE TEMPORARY VIEW name AS SELECT CAST(r.c0 AS type) AS column, ...
    FROM (SELECT inline(from_json('<rows as JSON>', 'array<struct<c0:string, ...>>')))`.

    The rows travel as one string literal (JSON, each value a JSON string or null, then
    escaped as a Spark literal by sqlglot): one token for the server's parser whatever the
    number of rows (a VALUES list costs it a second per 2,000). The literal is the branch
    of `IF(spark_partition_id() >= 0, '<rows>', NULL)`, always taken: a condition the
    optimizer cannot fold keeps the rows a string until the view is read (a view of many
    rows is read once, `CACHE_ROWS`), where `from_json` of a bare literal would be folded
    into an array literal that the server writes out element by element into the plan of
    every query over the view, each time it reports the query's progress (minutes, and
    gigabytes of its heap, at 45,000 windows). Not `rand(0) >= 0`: Spark 3.4's
    `OptimizeRand` decides a comparison of `rand` with a constant, and the array came
    back (at 10,000,000 events the server rendered it in the plan of every query over
    the scope). The statement is parsed back and its literal decoded to check it holds
    exactly the values given (a quote, backslash, backtick or semicolon in a name stays
    data)."""
    aliases = [f"c{i}" for i in range(len(columns))]
    payload = [
        {
            alias: _text(value, kind)
            for alias, value, (_, kind) in zip(aliases, row, columns, strict=True)
        }
        for row in rows
    ]
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    struct = ", ".join(f"{alias}: string" for alias in aliases)
    rowset = exp.select(
        exp.func(
            "inline",
            exp.func(
                "from_json",
                exp.If(
                    this=exp.GTE(
                        this=exp.Anonymous(this="spark_partition_id"),
                        expression=exp.Literal.number(0),
                    ),
                    true=exp.Literal.string(data),
                    false=exp.Null(),
                ),
                exp.Literal.string(f"array<struct<{struct}>>"),
            ),
        )
    )
    selected = [
        exp.cast(exp.column(alias), _spark_type(kind)).as_(column)
        for alias, (column, kind) in zip(aliases, columns, strict=True)
    ]
    query = exp.select(*selected).from_(rowset.subquery("r"))
    tree = exp.Create(
        this=exp.to_table(name),
        kind="VIEW",
        replace=True,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        expression=query,
    )
    sql = tree.sql(dialect="spark")
    branch = sqlglot.parse_one(sql, read="spark").find(exp.If)
    back = branch.args.get("true") if branch is not None else None
    if not isinstance(back, exp.Literal) or json.loads(back.this) != payload:
        raise QueryError(f"pushdown: the rows of {name} do not read back as sent; nothing was sent")
    return sql


def _text(value: object, kind: pa.DataType) -> str | None:
    """One value as the text Spark casts to the column's kind; anything else is refused."""
    if value is None:
        return None
    if pa.types.is_timestamp(kind) and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if pa.types.is_integer(kind) and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if pa.types.is_boolean(kind) and isinstance(value, bool):
        return "true" if value else "false"
    if pa.types.is_string(kind) and isinstance(value, str) and "\x00" not in value:
        return value
    raise QueryError(f"pushdown: {str(value)[:60]!r} cannot be sent as a {kind} value")


def _spark_type(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP"
    if pa.types.is_integer(kind):
        return "BIGINT"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_string(kind):
        return "STRING"
    raise QueryError(f"pushdown: a column of {kind} cannot be sent to the warehouse")


def _tuples(table: pa.Table) -> list[tuple]:
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(zip(*columns, strict=True))


def local_pipeline(
    con: duckdb.DuckDBPyConnection, quarantine: pa.Table
) -> dict[str, dict[str, str]]:
    """The embedded pipeline up to the exposed accesses on no events: its tables, views
    and macros exist here with their columns (the schema the translation expands stars
    from, and the types the warehouse's rows are read back in)."""
    load_arrow(con, "raw_events", EVENT_SCHEMA.empty_table())
    load_arrow(con, "quarantine", quarantine)
    normalize_events(con)
    queries.execute(con, "reconstruct/access")
    queries.execute(con, "reconstruct/exposed_access")
    load_rows(con, "copies", _COPIES, [])
    queries.execute(con, "reconstruct/copy_targets")
    queries.execute(con, "reconstruct/classify")
    schema: dict[str, dict[str, str]] = {}
    for table, column in queries.relation(con, "pushdown/columns").fetchall():
        schema.setdefault(table, {})[column] = "string"
    return schema


_COPIES = [("object", _S), ("created_at", _TS), ("generation", pa.int64())]
_TARGETS = [("object", _S), ("target", _S), ("via_view", _S)]


def exposed_accesses(session: Session) -> pa.Table | None:
    """The exposed objects' accesses, tested (reconstruct/exposed_access), asked of the
    warehouse with their events read as `access_to` reads them, by object and by path
    (each a broadcast join), not once by a key of either as the embedded run does
    (`access_once`): in Spark that key's join is a sort-merge join that shuffles every
    event, as the paths' table is over the broadcast limit (10M events: the stage took 152
    s against about 90 s)."""
    session.run("reconstruct/access")
    session.translator.macros["access_once"] = session.translator.macros["access_to"]
    return session.run("reconstruct/exposed_access")


def reconstruct_in_warehouse(
    con: duckdb.DuckDBPyConnection,
    wh: warehouse.HiveWarehouse,
    catalog: Catalog,
    scope: Scope,
    quarantine: pa.Table,
    bases: list[tuple[str, str]],
    on_behalf: Iterable[str],
    keep_literals: bool,
    pseudonym_key: bytes | None,
    table_schema: TableSchema,
    stages,
) -> dict[str, int]:
    """The accesses in scope selected and tested in the warehouse, the statements that may
    write found there once, copies followed with their accesses fetched round by round,
    classification and the rest here; returns what was fetched.

    The warehouse scans the events: the exposed objects' accesses with their baseline and
    window tests (reconstruct/exposed_access), the statements that may write
    (reconstruct/writing_candidates and incomplete_candidates, as the embedded run finds
    them: a few percent of the events), and each round's new copies' accesses
    (reconstruct/access): one scan per round. Here, on those rows: reconstruct/classify,
    the statements each round asks about (reconstruct/candidate_writes),
    statement_sources, copy_sources and everything after, as the embedded run does."""
    schema = local_pipeline(con, quarantine)
    access_types = con.table("exposed_access").to_arrow_table().schema
    session = Session(wh, schema, keep_literals, stages)
    with stages("scope sent as temporary views", "warehouse"):
        check_utc(session)
        send_scope(session, catalog, scope, bases, on_behalf)
    with stages("exposed objects' accesses, tested", "warehouse"):
        found = session.run("normalize/text_records")
        present = found is not None and found.num_rows and found.column(0)[0].as_py()
        # the views of the events are read only to key text-only records: without any,
        # the queries here read raw_events with the dropped events and path objects
        session.run("normalize/events", skip=frozenset() if present else _EVENT_VIEWS)
        if present:
            session.run("normalize/text_statement_keys")  # as normalize_events does
        exposed = exposed_accesses(session)
        load_arrow(con, "exposed_access", as_schema(exposed, access_types, "events"))
        queries.execute(con, "pushdown/fetched_access")
    with stages("statements that may write", "warehouse"):
        session.run("reconstruct/statement_aggregate")
        candidates = _candidates(session.run("reconstruct/writing_candidates"), _CANDIDATES)
        load_arrow(con, "statement_candidates", candidates)
        incomplete_candidates(session, con)
        queries.execute(con, "pushdown/written_paths")  # against the whole catalog, here
        queries.execute(con, "reconstruct/written_path_objects")
    copy_types = con.table("fetched_access").to_arrow_table().schema
    asked: list[tuple] = []
    counts = {
        "exposed_accesses": exposed.num_rows,
        "copy_accesses": 0,
        "statement_candidates": candidates.num_rows,
    }

    def targets_asked(con: duckdb.DuckDBPyConnection) -> None:
        new = [t for t in con.table("copy_targets").fetchall() if t not in asked]
        if not new:
            return
        asked.extend(new)
        with stages(f"accesses of {len(new)} copy targets", "warehouse"):
            # the new copies' locations only, beside (not in) catalog_objects: the objects
            # of the paths under the exposed objects stay cached, never resolved again
            send_locations(session, catalog, (t[1] for t in new), "copy_locations")
            session.send("copy_targets", _TARGETS, new)
            found = as_schema(session.run("pushdown/copy_access"), copy_types, "events")
            counts["copy_accesses"] += found.num_rows
            before = con.table("fetched_access").to_arrow_table()
            load_arrow(con, "fetched_access", pa.concat_tables([before, found]))

    with stages("classification and copies", "local"):
        queries.execute(con, "reconstruct/classify")
        edges = follow_copies(con, targets_asked, write_statements)
        queries.execute(con, "reconstruct/classified")
    with stages("categories, redaction, read details, evidence rows", "local"):
        complete(con, edges, keep_literals, pseudonym_key, table_schema)
    return counts


#: What Spark's `current_timezone()` says for a session in UTC.
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z", "+00:00", "UTC+00:00"})


def check_utc(session: Session) -> None:
    """Stop unless the warehouse session's time zone is UTC: the scope's times are sent as
    text and the accesses' times come back as text, each read in the session's zone, so
    in another zone every window test and evidence time would shift."""
    found = session.run("pushdown/session_timezone")
    zone = found.column("zone")[0].as_py() if found is not None and found.num_rows else None
    if zone not in UTC_NAMES:
        name = session.wh.profile.name
        raise QueryError(
            f"profile {name}: the warehouse session's time zone is {zone}, not UTC; start "
            "the Spark Thrift Server with --conf spark.sql.session.timeZone=UTC"
        )


def send_scope(
    session: Session,
    catalog: Catalog,
    scope: Scope,
    bases: list[tuple[str, str]],
    on_behalf: Iterable[str],
) -> None:
    """The scope the warehouse's queries read, as temporary views (the columns they read)."""
    send_locations(session, catalog, scope.exposed)
    session.send("view_bases", [("view", _S), ("base", _S)], bases)
    session.send(
        "windows",
        [("object", _S), ("start", _TS), ("end", _TS), ("layer", _S)],
        [(w.object, _naive(w.start), _naive(w.end), w.layer) for w in scope.windows],
    )
    exposed = set(scope.exposed)
    objects, members = scope.baseline.classes(
        exposed | {view for view, base in bases if base in exposed}
    )
    session.send("baseline_objects", [("object", _S), ("set_id", pa.int64())], objects)
    session.send(
        "baseline_members",
        [("set_id", pa.int64()), ("principal", _S)],
        [(k, p) for k, names in sorted(members.items()) for p in names],
    )
    session.send("on_behalf", [("principal", _S)], [(p,) for p in sorted(on_behalf)])


def send_locations(
    session: Session, catalog: Catalog, targets: Iterable[str], view: str = "catalog_objects"
) -> None:
    """The catalog's storage locations the warehouse resolves paths with, as the view
    `view`: those of the targets and every location under one (a path takes the object of
    its longest location prefix, so a deeper one must be there to win; the others can
    never be a target's)."""
    located = sorted((o.location, o.object, o.type) for o in catalog.objects.values() if o.location)
    keys = [loc for loc, _, _ in located]
    roots = sorted(
        {
            catalog.objects[t].location.rstrip("/")
            for t in targets
            if t in catalog.objects and catalog.objects[t].location
        }
    )
    rows = set()
    for root in roots:
        start = bisect.bisect_left(keys, root)
        for location, name, kind in located[start:]:
            if location != root and not location.startswith(root + "/"):
                if not location.startswith(root):
                    break
                continue
            rows.add((name, kind, location))
    session.send(view, [("object", _S), ("type", _S), ("location", _S)], sorted(rows))


def _naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=None)


def incomplete_candidates(session: Session, con: duckdb.DuckDBPyConnection) -> None:
    """reconstruct/incomplete_candidates on the candidates fetched: the statements the
    events that say they may write do not complete, aggregated again in the warehouse from
    every event of their principals (its INSERT's query) and added here (there are none in
    the generated incidents: nothing is asked)."""
    found = con.table("statement_candidates").select("statement_key", "principal", "complete")
    # `complete` is NULL where a text-only record's key is NULL (NOT IN): such a row is
    # neither deleted nor asked about, as `WHERE NOT complete` leaves it there
    rows = found.fetchall()
    asked = [(key, principal) for key, principal, complete in rows if complete is False]
    queries.execute(con, "reconstruct/statement_aggregate")
    queries.execute(con, "reconstruct/incomplete_candidates", may_write=MAY_WRITE)  # no events
    if not asked:
        return
    session.send("incomplete_statements", [("statement_key", _S), ("principal", _S)], asked)
    sent = frozenset({"incomplete_statements"})
    rows = session.run("reconstruct/incomplete_candidates", skip=sent)
    kept = con.table("statement_candidates").to_arrow_table()
    added = _candidates(rows, kept.schema)
    load_arrow(con, "statement_candidates", pa.concat_tables([kept, added]))


def _candidates(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Rows of reconstruct/writing_candidates (or incomplete_candidates) as the embedded
    engine holds them (`schema`): times as times, the objects and paths written as lists
    (the server sends an array as its JSON text)."""
    table = _timed(table)
    for name in ("written", "written_paths"):
        if name not in table.column_names:
            continue
        index = table.column_names.index(name)
        values = [
            json.loads(value) if isinstance(value, str) else value
            for value in table.column(index).to_pylist()
        ]
        table = table.set_column(index, name, pa.array(values, pa.list_(_S)))
    return as_schema(table, schema, "statement_candidates")


_CANDIDATES = pa.schema(
    [
        ("statement_key", _S),
        ("principal", _S),
        ("time", _TS),
        ("query_text", _S),
        ("query_id", _S),
        ("written", pa.list_(_S)),
        ("written_paths", pa.list_(_S)),
        ("wrote", pa.bool_()),
        ("complete", pa.bool_()),
    ]
)


def _timed(table: pa.Table) -> pa.Table:
    """The `time` column as UTC milliseconds (the server sends text)."""
    index = table.column_names.index("time")
    column = table.column(index)
    if not pa.types.is_timestamp(column.type):
        column = column.cast(_TS)
    return table.set_column(index, "time", column.cast(_TS))
