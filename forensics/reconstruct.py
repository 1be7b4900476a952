"""Reconstruct: from normalized events to classified accesses and derived copies.

The engine holds the tables; this module loads the case's scope into it, runs the
`queries/normalize` and `queries/reconstruct` files in order, and follows copies made from
exposed data generation by generation (copies of copies too).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

import duckdb
import pyarrow as pa

from forensics import queries
from forensics.catalog import Catalog
from forensics.engine import load_arrow, load_rows
from forensics.errors import InputError
from forensics.ingest import IngestResult
from forensics.names import principal_short
from forensics.privacy import NAME_REWRITER, NameRewriter, pseudonym
from forensics.reads import load_read_details
from forensics.redact import redact
from forensics.scope import Scope, Window
from forensics.sqlcolumns import TableSchema
from forensics.sqlrefs import ViewCatalog, extract_objects

MAX_GENERATIONS = 64
_TS = pa.timestamp("ms")
_COPIES_SCHEMA = [("object", pa.string()), ("created_at", _TS), ("generation", pa.int64())]
_COPY_EDGE_SCHEMA = [
    ("source_object", pa.string()),
    ("derived_object", pa.string()),
    ("principal", pa.string()),
    ("time", _TS),
    ("statement_kind", pa.string()),
    ("generation", pa.int64()),
    ("query_id", pa.string()),
    ("source_file", pa.string()),
    ("source_line", pa.int64()),
]
_UNPARSED_SCHEMA = [
    ("query_text", pa.string()),
    ("principal", pa.string()),
    ("time", _TS),
    ("source_file", pa.string()),
    ("source_line", pa.int64()),
    ("events", pa.int64()),
    ("reason", pa.string()),
]
_QUOTED = re.compile(r"'.*?'|\".*?\"|`.*?`")  # parser messages may quote the statement
_KINDS = {
    "ctas": "ctas",
    "insert": "insert",
    "export": "export",
    "merge": "insert",
    "update": "insert",
}
_NO_COPY = frozenset({"ddl", "drop", "alter", "truncate"})
#: A statement text that may write something names one of these (HiveQL writes through
#: INSERT, CTAS/CREATE VIEW, EXPORT, LOAD, IMPORT, MERGE, UPDATE, DELETE; `dfs` commands
#: copy files). Only such texts, and statements with a write event, are parsed.
MAY_WRITE = r"(?i)\b(insert|create|export|load|import|merge|update|delete|dfs)\b"


@dataclass(frozen=True)
class Statement:
    """A statement that may have written something, and the objects it wrote."""

    key: str
    principal: str
    time: datetime
    query_id: str | None
    kind: str
    targets: tuple[str, ...]


def load_scope(
    con: duckdb.DuckDBPyConnection, catalog: Catalog, scope: Scope, on_behalf: Iterable[str]
) -> None:
    """Put the catalog, windows, baseline and directory into the engine. The baseline is
    loaded for the exposed objects and the views over them (what classification asks),
    as sets shared by the objects decided alike (`scope.Baseline.classes`)."""
    s = pa.string()
    bases = view_bases(catalog)
    load_arrow(con, "catalog_objects", catalog.objects_table())
    load_rows(
        con,
        "view_bases",
        [("view", s), ("base", s)],
        bases,
    )
    load_rows(
        con,
        "sensitivity",
        [("object", s), ("column", s), ("category", s)],
        catalog.sensitivity,
    )
    load_rows(
        con,
        "people",
        [("principal", s), ("kind", s), ("org", s)],
        [(p, kind, org) for p, (kind, org) in sorted(catalog.people.items())],
    )
    load_arrow(con, "windows", windows_table(scope.windows))
    exposed_list = scope.exposed
    exposed = set(exposed_list)
    objects, members = scope.baseline.classes(
        exposed | {view for view, base in bases if base in exposed}
    )
    load_rows(con, "baseline_objects", [("object", s), ("set_id", pa.int64())], objects)
    load_rows(
        con,
        "baseline_members",
        [("set_id", pa.int64()), ("principal", s)],
        [(k, p) for k, names in sorted(members.items()) for p in names],
    )
    load_rows(
        con,
        "exposed_objects",
        [("object", s), ("baseline_principals", pa.int64())],
        list(
            zip(exposed_list, scope.baseline.counts(exposed_list, len(scope.universe)), strict=True)
        ),
    )
    load_rows(con, "on_behalf", [("principal", s)], [(p,) for p in sorted(on_behalf)])


def windows_table(windows: Sequence[Window]) -> pa.Table:
    """The windows as the engine's `windows` table, made column by column (an exposure
    of 45,000 objects is 45,000 windows, most of them alike but for the object)."""
    s = pa.string()
    times = {w.start for w in windows} | {w.end for w in windows}
    naive = {t: _naive(t) for t in times}

    def column(name: str, kind: pa.DataType) -> pa.Array:
        values = list(map(attrgetter(name), windows))
        if kind == _TS:
            values = [naive[v] for v in values]
        return pa.array(values, kind)  # a tuple is taken as a list

    return pa.table(
        {
            name: column(name, kind)
            for name, kind in (
                ("object", s),
                ("start", _TS),
                ("end", _TS),
                ("opened_by", s),
                ("closed_by", s),
                ("source", s),
                ("opened_by_users", pa.list_(s)),
                ("closed_by_users", pa.list_(s)),
                ("policy_ids", pa.list_(pa.int64())),
                ("policy_versions", pa.list_(s)),
                ("layer", s),
            )
        }
    )


def view_bases(catalog: Catalog) -> list[tuple[str, str]]:
    """Every (view, object under it), nested views included, from the view definitions."""
    views = ViewCatalog.from_definitions(catalog.view_definitions)
    pairs = []
    for view, definition in sorted(catalog.view_definitions.items()):
        found = extract_objects(definition, database=view.split(".", 1)[0], views=views)
        if found.status == "unparsed":
            raise InputError(
                f"catalog views: the definition of {view} cannot be parsed ({found.reason}); "
                "correct it in the views CSV"
            )
        pairs += [(view, base) for base in found.reads if base != view]
    return sorted(set(pairs))


def reconstruct(
    con: duckdb.DuckDBPyConnection,
    ingested: IngestResult | None,
    keep_literals: bool = False,
    pseudonym_key: bytes | None = None,
    schema: TableSchema | None = None,
) -> dict[str, int]:
    """Run every reconstruction step; returns duplicates dropped per input file.

    `schema`: the catalog's columns, partition columns and views, for the columns and
    partitions each read read (`forensics.reads`); without it, only what logs name.

    `ingested` None: the engine already holds `raw_events` and `quarantine`
    (`forensics.ingest.ingest_into`)."""
    if ingested is not None:
        load_arrow(con, "raw_events", ingested.events)
        load_arrow(con, "quarantine", ingested.quarantine)
    normalize_events(con)
    duplicates = dict(queries.relation(con, "normalize/duplicates").fetchall())
    queries.execute(con, "reconstruct/access")
    queries.execute(con, "reconstruct/exposed_access")
    load_rows(con, "copies", _COPIES_SCHEMA, [])
    queries.execute(con, "reconstruct/copy_targets")
    queries.execute(con, "reconstruct/classify")
    edges = follow_copies(con)
    queries.execute(con, "reconstruct/classified")
    complete(con, edges, keep_literals, pseudonym_key, schema)
    return duplicates


def complete(
    con: duckdb.DuckDBPyConnection,
    edges: list[tuple],
    keep_literals: bool = False,
    pseudonym_key: bytes | None = None,
    schema: TableSchema | None = None,
) -> None:
    """The steps after classification, on `classified_all` and the copy edges: pseudonyms,
    categories, redactions, read details, evidence rows, the reads the smaller evidence
    files count and unparsed statements. (The full pushdown classifies in the warehouse
    and runs these here.)"""
    load_rows(con, "copy_edges", _COPY_EDGE_SCHEMA, edges)
    if pseudonym_key is not None:
        pseudonymize(con, pseudonym_key)
    queries.execute(con, "reconstruct/object_categories")
    redact_texts(con, keep_literals)
    load_read_details(con, schema or TableSchema({}, {}, {}))
    queries.execute(con, "reconstruct/access_rows")
    queries.execute(con, "reconstruct/notable_reads")
    load_rows(con, "unparsed", _UNPARSED_SCHEMA, unparsed_statements(con))


def normalize_events(con: duckdb.DuckDBPyConnection) -> None:
    """The `events` view: raw events deduplicated, paths resolved to objects, and text-only
    records keyed to the runs they describe (that join is skipped when there are none: it
    reads every event's text). The keys more than one event has are found first by a sort
    (`normalize/repeated_keys`), which normalize/events then uses instead of its grouping
    (the warehouse's)."""
    queries.execute(con, "normalize/repeated_keys")
    queries.execute(con, "normalize/events")
    ((present,),) = queries.relation(con, "normalize/text_records").fetchall()
    if present:
        queries.execute(con, "normalize/text_statement_keys")


def redact_texts(con: duckdb.DuckDBPyConnection, keep_literals: bool) -> None:
    """The `redactions` table: every statement text behind a classified access and its
    redacted form. The engine redacts texts of a plain shape (most of them, at the speed
    of a scan); Python's `redact` the others, each distinct text once."""
    queries.execute(con, "reconstruct/redactions_plain", keep_literals=int(keep_literals))
    rest = con.table("redactions_plain").filter("query_redacted IS NULL").select("query_text")
    load_rows(
        con,
        "redactions_other",
        [("query_text", pa.string()), ("query_redacted", pa.string())],
        [(t, redact(t)) for (t,) in sorted(rest.fetchall())],
    )
    queries.execute(con, "reconstruct/redactions")


def unparsed_statements(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Statements behind accesses in scope that may have written something and that the
    SQL stage could not read at all."""
    rows = []
    for text, principal, time, source_file, source_line, events in queries.relation(
        con, "reconstruct/statement_texts", may_write=MAY_WRITE
    ).fetchall():
        found = extract_objects(text)
        if found.status == "unparsed":
            reason = _QUOTED.sub("", found.reason or "not parsed")[:200]
            rows.append((text, principal, time, source_file, source_line, events, reason))
    return rows


def pseudonymize(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Replace principals by keyed pseudonyms in every table evidence is written from, and
    register `pseudonymize_names`, which the evidence writer passes every text cell through
    (`forensics.evidence`): the names inside paths and identifiers get the same pseudonyms."""
    names = queries.relation(con, "reconstruct/principal_names").fetchall()
    shorts = {
        name: short if short is not None else principal_short(name)
        for name, short in names
        if name is not None
    }
    pseudonyms = {name: pseudonym(key, short) for name, short in shorts.items()}
    register_name_rewriter(con, key, set(shorts.values()))
    load_rows(
        con,
        "pseudonyms",
        [("name", pa.string()), ("pseudonym", pa.string())],
        sorted(pseudonyms.items()),
    )
    queries.execute(con, "reconstruct/pseudonymize")


def register_name_rewriter(
    con: duckdb.DuckDBPyConnection, key: bytes, principals: set[str]
) -> None:
    """Register `NAME_REWRITER` on `con` for these principals, the directory's and the users
    who changed a policy (`reconstruct/names_in_texts`), but not the directory's service
    accounts."""
    found = queries.relation(con, "reconstruct/names_in_texts").fetchall()
    services = {name for role, name in found if role == "service"}
    named = principals | {name for role, name in found if role == "name"}
    rewriter = NameRewriter(key, {n for n in named if n} - services)

    def rewrite(column: pa.Array) -> pa.Array:
        return pa.array([rewriter(v) for v in column.to_pylist()], type=pa.string())

    with contextlib.suppress(duckdb.InvalidInputException, duckdb.CatalogException):
        con.remove_function(NAME_REWRITER)  # a former round's (pushdown reconstructs again)
    text = duckdb.sqltype("VARCHAR")
    con.create_function(NAME_REWRITER, rewrite, [text], text, type="arrow")


def follow_copies(
    con: duckdb.DuckDBPyConnection,
    targets_asked: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    writes: Callable[[duckdb.DuckDBPyConnection], list[Statement]] | None = None,
) -> list[tuple]:
    """Derived copies, generation by generation, until no statement adds a new one.

    Generation 1: objects written by a statement that made an exposure-enabled read.
    Generation n+1: objects written by a statement that read a generation-n copy after
    it was made. Each round re-classifies, because reads of new copies become secondary.
    Only the statements that made such reads are parsed, each once. The reads of each
    round stay in the engine (`statement_sources`): only those of statements that wrote
    something come to Python. The exposed objects' reads are grouped once, before any copy
    is known (`exposed_sources`); a round groups again only the accesses of its copies.

    The full pushdown (`forensics.pushdown_full`) passes `targets_asked`, called once a
    round's `copy_targets` is made (it fetches their accesses from the warehouse), and
    `writes`, which asks the warehouse instead of `write_statements`. Without it, the
    statements that may write are found once (`statement_candidates`) for every round.
    """
    statements: dict[str, Statement] = {}  # the statements asked about that wrote something
    copies: dict[str, tuple[datetime, int]] = {}
    edges: dict[tuple[str, str, str], tuple] = {}
    load_rows(con, "asked_statements", [("statement_key", pa.string())], [])
    if writes is None:
        statement_candidates(con)
    load_rows(con, "copies", _COPIES_SCHEMA, [])
    queries.execute(con, "reconstruct/copy_targets")
    queries.execute(con, "reconstruct/exposed_sources")
    for _ in range(MAX_GENERATIONS):
        load_rows(
            con, "copies", _COPIES_SCHEMA, [(o, t, g) for o, (t, g) in sorted(copies.items())]
        )
        queries.execute(con, "reconstruct/copy_targets")
        if targets_asked is not None:
            targets_asked(con)
        queries.execute(con, "reconstruct/statement_sources")
        statements |= {s.key: s for s in (writes or write_statements)(con)}
        load_rows(
            con, "writing_statements", [("statement_key", pa.string())], [(k,) for k in statements]
        )
        sources = queries.relation(con, "reconstruct/copy_sources").fetchall()
        edges, found = copies_found(sources, statements, copies)
        if found == copies:
            break
        copies = found
    return sorted_edges(edges)


def statement_candidates(con: duckdb.DuckDBPyConnection) -> None:
    """The `statement_candidates` table: every statement that may have written something,
    aggregated from the events that say so, then the few that those events do not complete
    from every event of their principals, with the objects of the storage paths they wrote
    (reconstruct/writing_candidates and incomplete_candidates, which the warehouse path
    runs there too; their aggregate is reconstruct/statement_aggregate, a macro every
    query of statements shares)."""
    queries.execute(con, "reconstruct/statement_aggregate")
    queries.execute(con, "reconstruct/writing_candidates", may_write=MAY_WRITE)
    queries.execute(con, "reconstruct/incomplete_candidates", may_write=MAY_WRITE)
    queries.execute(con, "reconstruct/written_path_objects")


def copies_found(
    sources: Iterable[tuple],
    statements: dict[str, Statement],
    copies: dict[str, tuple[datetime, int]],
) -> tuple[dict[tuple[str, str, str], tuple], dict[str, tuple[datetime, int]]]:
    """A round's copy edges (source, target, statement) from the rows of
    reconstruct/copy_sources, and each copy's first time and lowest generation."""
    edges: dict[tuple[str, str, str], tuple] = {}
    for key, source, classification, _principal, _time, source_file, source_line in sources:
        statement = statements[key]
        generation = 1 if classification == "exposure_enabled" else copies[source][1] + 1
        for target in statement.targets:
            if target == source:
                continue
            edge = (source, target, key)
            row = (
                source,
                target,
                statement.principal,
                statement.time,
                statement.kind,
                generation,
                statement.query_id,
                source_file,
                source_line,
            )
            if edge not in edges or edges[edge][5] > generation:
                edges[edge] = row
    found: dict[str, tuple[datetime, int]] = {}
    for row in edges.values():
        target, time, generation = row[1], row[3], row[5]
        old = found.get(target)
        found[target] = (min(time, old[0]), min(generation, old[1])) if old else (time, generation)
    return edges, found


def sorted_edges(edges: dict[tuple[str, str, str], tuple]) -> list[tuple]:
    """The copy edges in the order they are loaded (and written)."""
    return sorted(edges.values(), key=lambda r: tuple("" if v is None else str(v) for v in r))


def write_statements(con: duckdb.DuckDBPyConnection) -> list[Statement]:
    """Of the statements in the engine's `wanted_statements` (key, principal), those that
    wrote something, with their targets from the log and from the text, taken from the
    `statement_candidates` that `follow_copies` built before its first round."""
    return statements_of(queries.relation(con, "reconstruct/candidate_writes").fetchall())


def statements_of(rows: Iterable[tuple]) -> list[Statement]:
    """The statements that wrote something, from rows of reconstruct/candidate_writes or
    reconstruct/write_statements (key, principal, time, text, query id, objects the log
    says were written)."""
    result = []
    for key, principal, time, text, query_id, written in rows:
        found = extract_objects(text) if text else None
        if found is not None and found.kind in _NO_COPY:
            continue  # TRUNCATE, DROP, ALTER: Ranger may log a write, but nothing is copied
        kind = _KINDS.get(found.kind, found.kind) if found else "unknown"
        targets = set(written or ())
        if found is not None and found.status != "unparsed":
            if not targets:
                targets |= set(found.writes)
            if found.path_writes:
                targets |= set(found.path_writes)
                kind = "insert_directory" if found.kind in ("insert", "query") else kind
        if targets:
            result.append(Statement(key, principal, time, query_id, kind, tuple(sorted(targets))))
    return result


def _naive(moment: datetime | None) -> datetime | None:
    """UTC wall time without zone, as the engine stores every timestamp."""
    return None if moment is None else moment.replace(tzinfo=None)
