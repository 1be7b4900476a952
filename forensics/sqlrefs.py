"""Which objects a HiveQL statement read and wrote, the way Hive's own hooks see it.

Several sources give only statement text (HiveServer2 logs, Hive's lineage hook), and
Ranger names only the object a user typed (a view, never the tables under it), so the
toolkit must know, for any statement, the tables and views it read and wrote. A missed
base table is a missed exposed read; an extra one is a false accusation.

Hive's conventions, learned from its hook outputs (`../shared/corpus/`, see its README):

- Names are `db.table`, lower case, backquotes removed; an unqualified name is in the
  current database, which `USE db` changes for the statements after it.
- A query on a view reads the view and, recursively, every object under it, each view
  resolved in the database it was created in.
- A CTE is not an object; a CTE that is never referenced reads nothing; a CTE name
  shadows a real table of the same unqualified name.
- `INSERT INTO/OVERWRITE TABLE t` and CTAS write `t`; `INSERT OVERWRITE [LOCAL]
  DIRECTORY 'p'` and `EXPORT TABLE t TO 'p'` write a path (a copy outside the warehouse);
  `LOAD DATA ... INTO TABLE t` writes `t`; `UPDATE`, `DELETE`, `MERGE` (its target) and
  `ANALYZE TABLE t COMPUTE STATISTICS` read and write `t`; `CREATE VIEW v AS q` writes
  `v` and reads what `q` reads; `IMPORT TABLE t FROM 'p'` writes `t`.
- `EXPLAIN` in front changes nothing (the hooks still see the objects).

sqlglot's Hive dialect parses the statement. Hive syntax it does not know is rewritten
first where the rewrite cannot change which objects are named (`DISTRIBUTE BY`/`SORT BY`
inside window specifications, `TRANSFORM ... USING` clauses). When sqlglot still fails,
a tokenizer-level fallback reads the names after FROM/JOIN/INTO/TABLE and marks the
result `fallback` (less certain). A statement that yields nothing trustworthy is
`unparsed` with the reason, never an empty answer that looks like "read nothing".
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot
from sqlglot import exp

from forensics.errors import InputError
from forensics.redact import fingerprint

KINDS = (
    "query",
    "insert",
    "ctas",
    "create_view",
    "load",
    "export",
    "import",
    "update",
    "delete",
    "merge",
    "ddl",
    "other",
)
_EXPLAIN = re.compile(
    r"^\s*explain(\s+(extended|formatted|dependency|authorization|vectorization|"
    r"vectorized|ast|cbo|logical|analyze|detail|only|summary|operator|expression|"
    r"rewrite|locks|joincost|cost|debug))*\s+",
    re.IGNORECASE,
)
_USE = re.compile(r"^\s*use\s+`?([\w]+)`?\s*$", re.IGNORECASE)
_LOAD = re.compile(
    r"^\s*load\s+data\s+(?:local\s+)?inpath\s+('[^']*'|\"[^\"]*\")\s+(?:overwrite\s+)?"
    r"into\s+table\s+((?:`[^`]+`|\w+)(?:\.(?:`[^`]+`|\w+))?)",
    re.IGNORECASE,
)
_EXPORT = re.compile(
    r"^\s*export\s+table\s+((?:`[^`]+`|\w+)(?:\.(?:`[^`]+`|\w+))?)(?:\s+partition\s*\([^)]*\))?\s+to\s+('[^']*'|\"[^\"]*\")",
    re.IGNORECASE,
)
_IMPORT = re.compile(
    r"^\s*import(?:\s+external)?(?:\s+table\s+((?:`[^`]+`|\w+)(?:\.(?:`[^`]+`|\w+))?)(?:\s+partition\s*\([^)]*\))?)?"
    r"\s+from\s+('[^']*'|\"[^\"]*\")",
    re.IGNORECASE,
)
_ANALYZE = re.compile(
    r"^\s*analyze\s+table\s+((?:`[^`]+`|\w+)(?:\.(?:`[^`]+`|\w+))?)", re.IGNORECASE
)
_DIRECTORY = re.compile(
    r"insert\s+overwrite\s+(?:local\s+)?directory\s+('[^']*'|\"[^\"]*\")", re.IGNORECASE
)
_CREATE_VIEW = re.compile(
    r"^\s*(?:create\s+(?:or\s+replace\s+)?(?:materialized\s+)?view|alter\s+view)\s+"
    r"(?:if\s+not\s+exists\s+)?([`\w.]+)",
    re.IGNORECASE,
)
_VIEW_BODY = re.compile(r"\bas\s+(select|with|from)\b", re.IGNORECASE)
_WINDOW_DISTRIBUTE = re.compile(r"\bdistribute\s+by\b", re.IGNORECASE)
_WINDOW_SORT = re.compile(r"\bsort\s+by\b", re.IGNORECASE)
_TRANSFORM = re.compile(
    r"\b(?:transform|map|reduce)\s*\((?P<cols>[^()]*(?:\([^()]*\)[^()]*)*)\)\s*"
    r"(?:row\s+format\s+.*?\s+)?using\s+('[^']*'|\"[^\"]*\")"
    r"(?:\s+as\s+(?:\([^)]*\)|[\w\s,]+?))?(?:\s+row\s+format\s+\w+(?:\s+\w+)*?)?"
    r"(?=\s+from\b|\s*\)|\s*$)",
    re.IGNORECASE | re.DOTALL,
)
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\b\d+(?:\.\d+)?\b")
_NAME_AFTER = re.compile(
    r"\b(?:from|join|into|table|update)\s+((?:`[^`]+`|\w+)(?:\.(?:`[^`]+`|\w+))?)",
    re.IGNORECASE,
)
_PATH_LITERALS = re.compile(r"\b(?:directory|inpath|export|import)\b", re.IGNORECASE)
_NOT_NAMES = frozenset({"select", "values", "(", "lateral", "unnest", "table", "directory"})


@dataclass(frozen=True)
class Extraction:
    """What one statement (or text of several) read and wrote, and how sure we are."""

    reads: tuple[str, ...]
    writes: tuple[str, ...]
    path_writes: tuple[str, ...] = ()
    kind: str = "query"
    status: str = "parsed"
    reason: str | None = None
    text: str = field(default="", repr=False, compare=False)

    def as_record(self) -> dict:
        """The JSON fields `forensics sql objects` prints (reason only when there is one)."""
        record = {
            "reads": list(self.reads),
            "writes": list(self.writes),
            "kind": self.kind,
            "status": self.status,
        }
        if self.reason:
            record["reason"] = self.reason
        return record

    @property
    def fingerprint(self) -> str:
        """The literal-free statement (as `query_redacted`, whitespace collapsed); computed
        on demand, because tokenizing for it costs as much as the parse itself."""
        return fingerprint(self.text)


class ViewCatalog:
    """View definitions by name (`db.view`), each with the database it was created in."""

    def __init__(self, views: Mapping[str, tuple[str, str]]) -> None:
        self.views = {name.lower(): (db.lower(), text) for name, (db, text) in views.items()}
        self.version = hash(tuple(sorted(self.views.items())))

    @classmethod
    def from_definitions(cls, definitions: Mapping[str, str]) -> ViewCatalog:
        """From `{"db.view": "SELECT ..."}` (the case's views CSV): each view in its own db."""
        return cls({name: (name.split(".", 1)[0], text) for name, text in definitions.items()})

    @classmethod
    def from_corpus(cls, views: Mapping[str, Mapping[str, str]]) -> ViewCatalog:
        """From the corpus `views` field: `{"db.v": {"database": .., "statement": CREATE ..}}`."""
        return cls({name: (v["database"], v["statement"]) for name, v in views.items()})

    def get(self, name: str) -> tuple[str, str] | None:
        return self.views.get(name)


EMPTY_CATALOG = ViewCatalog({})


def extract_objects(
    text: str, database: str | None = "default", views: ViewCatalog | None = None
) -> Extraction:
    """The objects `text` read and wrote (all its statements), with the current database."""
    catalog = views or EMPTY_CATALOG
    return _extract_cached(text, (database or "default").lower(), catalog)


_RESULTS: dict[tuple[str, str, int], Extraction] = {}


def _extract_cached(text: str, database: str, catalog: ViewCatalog) -> Extraction:
    """Results cached by statement shape: a dashboard's query repeated with other literals
    is parsed once. Statements whose literals name paths are keyed by their exact text."""
    shape = text if _PATH_LITERALS.search(text) else _LITERALS.sub("?", text)
    cache_key = (shape, database, catalog.version)
    found = _RESULTS.get(cache_key)
    if found is None:
        if len(_RESULTS) > 200_000:
            _RESULTS.clear()
        found = _RESULTS[cache_key] = _extract(text, database, catalog)
    return found


def _extract(text: str, database: str, catalog: ViewCatalog) -> Extraction:
    """All statements of `text`, in order; `USE` changes the database of those after it."""
    reads: set[str] = set()
    writes: set[str] = set()
    paths: set[str] = set()
    kinds: list[str] = []
    statuses: list[str] = []
    reasons: list[str] = []
    for statement in split_statements(text):
        use = _USE.match(statement)
        if use:
            database = use.group(1).lower()
            continue
        one = _statement(statement, database, catalog)
        reads |= set(one.reads)
        writes |= set(one.writes)
        paths |= set(one.path_writes)
        kinds.append(one.kind)
        statuses.append(one.status)
        if one.reason:
            reasons.append(one.reason)
    status = (
        "unparsed"
        if "unparsed" in statuses or not statuses
        else "fallback"
        if "fallback" in statuses
        else "parsed"
    )
    if not statuses:
        reasons.append("no statement in the text")
    kind = next((k for k in kinds if k not in ("query", "other")), kinds[0] if kinds else "other")
    return Extraction(
        reads=tuple(sorted(reads)),
        writes=tuple(sorted(writes)),
        path_writes=tuple(sorted(paths)),
        kind=kind,
        status=status,
        reason="; ".join(reasons) or None,
        text=text,
    )


def split_statements(text: str) -> list[str]:
    """Statements separated by `;` outside quotes and comments, comments removed."""
    out, current, i, n = [], [], 0, len(text)
    quote = None
    while i < n:
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == "\\" and i + 1 < n:
                current.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
            current.append(ch)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            current.append(" ")
            continue
        elif ch == ";":
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    out.append("".join(current))
    return [s.strip() for s in out if s.strip()]


def _statement(text: str, database: str, catalog: ViewCatalog) -> Extraction:
    """One statement (no `;`, no comments)."""
    text = _EXPLAIN.sub("", text, count=1).strip()
    special = _special(text, database, catalog)
    if special is not None:
        return special
    tree, problem = _parse(text)
    if tree is None:
        return _fallback(text, database, catalog, problem or "not parsed")
    return _from_tree(tree, text, database, catalog)


def _special(text: str, database: str, catalog: ViewCatalog) -> Extraction | None:
    """Statements read by pattern: LOAD, EXPORT, IMPORT, ANALYZE, CREATE/ALTER VIEW."""
    load = _LOAD.match(text)
    if load:
        return Extraction((), (_name(load.group(2), database),), kind="load")
    export = _EXPORT.match(text)
    if export:
        target = _name(export.group(1), database)
        return Extraction(
            _expand({target}, catalog),
            (),
            path_writes=(export.group(2)[1:-1],),
            kind="export",
        )
    imported = _IMPORT.match(text)
    if imported:
        if imported.group(1):
            return Extraction((), (_name(imported.group(1), database),), kind="import")
        return Extraction(
            (),
            (),
            kind="import",
            status="unparsed",
            reason="IMPORT without a table name: the target is named in the export's metadata",
        )
    analyze = _ANALYZE.match(text)
    if analyze:
        target = _name(analyze.group(1), database)
        # column statistics only read the table; table statistics also write its metadata
        columns = re.search(r"\bfor\s+columns\b", text, re.IGNORECASE)
        return Extraction((target,), () if columns else (target,), kind="other")
    view = _CREATE_VIEW.match(text)
    if view:
        body = _VIEW_BODY.search(text, view.end())
        if body is None:
            return None
        inner = _extract(text[body.start(1) :], database, catalog)
        target = _name(view.group(1), database)
        return Extraction(
            inner.reads,
            (target,),
            kind="create_view",
            status=inner.status,
            reason=inner.reason,
        )
    return None


def _parse(text: str) -> tuple[exp.Expression | None, str | None]:
    """sqlglot's tree for the statement, after the Hive-only rewrites; or the problem."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        for candidate in (text, _rewrite(text)):
            try:
                trees = [t for t in sqlglot.parse(candidate, read="hive") if t is not None]
            except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
                problem = str(exc).splitlines()[0][:160]
                continue
            if len(trees) == 1 and not isinstance(trees[0], exp.Command):
                return trees[0], None
            problem = "not a statement sqlglot understands"
        return None, problem
    finally:
        logger.setLevel(level)


def _rewrite(text: str) -> str:
    """Hive-only syntax replaced by equivalents that name the same objects."""
    text = _table_functions(text)
    text = _UNIQUEJOIN.sub(_plain_join, text)
    text = _TRANSFORM.sub(lambda m: f"struct({m.group('cols')})", text)
    text = _WINDOW_DISTRIBUTE.sub("PARTITION BY", text)
    text = _WINDOW_SORT.sub("ORDER BY", text)
    return text


_UNIQUEJOIN = re.compile(r"\buniquejoin\b(.*?)(?=\bselect\b)", re.IGNORECASE | re.DOTALL)


def _plain_join(match: re.Match) -> str:
    """`UNIQUEJOIN [PRESERVE] t1 a (k), t2 b (k)` as `t1 a, t2 b` (the same inputs)."""
    body = re.sub(r"\bpreserve\b", "", match.group(1), flags=re.IGNORECASE)
    while re.search(r"\([^()]*\)", body):
        body = re.sub(r"\([^()]*\)", "", body)
    return body + " "


_PTF = re.compile(r"\b\w+\s*\(\s*on\s+", re.IGNORECASE)


def _table_functions(text: str) -> str:
    """Hive's partitioned table functions, `noop(on part partition by a order by b)`,
    replaced by their input (a table or a subquery): the function reads only its input."""
    while True:
        match = _PTF.search(text)
        if match is None:
            return text
        depth, i = 1, match.end()
        start = i
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        inner = text[start : i - 1]
        source = _ptf_source(inner)
        text = text[: match.start()] + source + text[i:]


def _ptf_source(inner: str) -> str:
    """The input of a table function: a subquery in parentheses, or a (nested) name."""
    inner = inner.strip()
    if inner.startswith("("):
        depth = 0
        for j, ch in enumerate(inner):
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 0:
                return inner[: j + 1]
    if _PTF.match(inner):
        inner = _table_functions(inner).strip()
        if inner.startswith("("):
            return _ptf_source(inner)
    return re.split(r"\s", inner, maxsplit=1)[0]


def _from_tree(tree: exp.Expression, text: str, database: str, catalog: ViewCatalog) -> Extraction:
    """Reads and writes from sqlglot's tree."""
    writes: set[str] = set()
    paths: set[str] = set()
    kind = "query"
    targets: set[int] = set()
    for insert in tree.find_all(exp.Insert):
        kind = "insert"
        target = insert.this
        if isinstance(target, exp.Directory):
            paths.add(_path(target.this))
            continue
        table = target if isinstance(target, exp.Table) else target.find(exp.Table)
        if table is not None:
            writes.add(_table_name(table, database))
            targets.add(id(table))
    if isinstance(tree, exp.Create):
        target = tree.this.find(exp.Table) if not isinstance(tree.this, exp.Table) else tree.this
        if target is not None:
            targets.add(id(target))
            writes.add(_table_name(target, database))
        kind = "ctas" if tree.expression is not None else "ddl"
        if kind == "ddl":
            return Extraction((), tuple(sorted(writes)), kind="ddl")
    elif isinstance(tree, (exp.Update, exp.Delete, exp.Merge)):
        table = tree.this if isinstance(tree.this, exp.Table) else tree.find(exp.Table)
        if table is not None:
            name = _table_name(table, database)
            writes.add(name)
        kind = type(tree).__name__.lower()
    elif isinstance(tree, (exp.Drop, exp.Alter, exp.TruncateTable)):
        return Extraction((), (), kind="ddl")
    elif not isinstance(tree, (exp.Query, exp.Insert, exp.MultitableInserts)):
        return Extraction((), (), kind="other")
    reads = _reads(tree, database, targets)
    if kind in ("update", "delete", "merge"):
        reads |= writes if kind != "merge" else set()
    for match in _DIRECTORY.finditer(text):
        paths.add(match.group(1)[1:-1])
    return Extraction(
        _expand(reads, catalog),
        tuple(sorted(writes)),
        path_writes=tuple(sorted(paths)),
        kind=kind,
    )


def _reads(tree: exp.Expression, database: str, targets: set[int]) -> set[str]:
    """Tables the statement reads: every table reference that is not a write target or a
    CTE in scope; CTEs never referenced from the main statement are left out."""
    ctes: dict[str, exp.CTE] = {}
    for cte in tree.find_all(exp.CTE):
        ctes.setdefault(cte.alias_or_name.lower(), cte)
    used = _used_ctes(tree, ctes)
    found = set()
    for table in tree.find_all(exp.Table):
        if id(table) in targets or not table.name:
            continue
        if _inside_unused_cte(table, ctes, used):
            continue
        if not table.db and table.name.lower() in ctes and _cte_visible(table, ctes):
            continue
        if isinstance(table.parent, (exp.Lateral,)) or table.this is None:
            continue
        if not isinstance(table.this, exp.Identifier):
            continue
        found.add(_table_name(table, database))
    return found


def _used_ctes(tree: exp.Expression, ctes: dict[str, exp.CTE]) -> set[str]:
    """CTE names reachable from the statement outside the CTE definitions."""
    used: set[str] = set()
    frontier = [
        t.name.lower()
        for t in tree.find_all(exp.Table)
        if not t.db and t.name.lower() in ctes and t.find_ancestor(exp.CTE) is None
    ]
    while frontier:
        name = frontier.pop()
        if name in used:
            continue
        used.add(name)
        for t in ctes[name].find_all(exp.Table):
            if not t.db and t.name.lower() in ctes:
                frontier.append(t.name.lower())
    return used


def _inside_unused_cte(table: exp.Table, ctes: dict[str, exp.CTE], used: set[str]) -> bool:
    cte = table.find_ancestor(exp.CTE)
    while cte is not None:
        if cte.alias_or_name.lower() not in used:
            return True
        cte = cte.find_ancestor(exp.CTE)
    return False


def _cte_visible(table: exp.Table, ctes: dict[str, exp.CTE]) -> bool:
    """Whether a CTE of this name is in scope (a CTE does not see itself in its body)."""
    own = table.find_ancestor(exp.CTE)
    return own is None or own.alias_or_name.lower() != table.name.lower()


def _expand(reads: Iterable[str], catalog: ViewCatalog, depth: int = 0) -> tuple[str, ...]:
    """Reads with every view replaced by itself plus the objects under it, recursively."""
    result = set(reads)
    if depth > 32:
        return tuple(sorted(result))
    for name in list(result):
        view = catalog.get(name)
        if view is None:
            continue
        db, definition = view
        body = _VIEW_BODY.search(definition)
        query = (
            definition[body.start(1) :] if _CREATE_VIEW.match(definition) and body else definition
        )
        inner = _view_reads(query, db, catalog)
        result |= set(_expand(inner, catalog, depth + 1))
    return tuple(sorted(result))


@lru_cache(maxsize=4096)
def _view_reads_cached(query: str, db: str, version: int) -> tuple[str, ...]:
    tree, _ = _parse(query)
    if tree is None:
        return tuple(sorted(_fallback_names(query, db)))
    return tuple(sorted(_reads(tree, db, set())))


def _view_reads(query: str, db: str, catalog: ViewCatalog) -> tuple[str, ...]:
    return _view_reads_cached(query, db, catalog.version)


def _fallback(text: str, database: str, catalog: ViewCatalog, problem: str) -> Extraction:
    """Names after FROM/JOIN/INTO/TABLE when the parser fails: marked less certain."""
    names = _fallback_names(text, database)
    if not names:
        return Extraction((), (), kind="other", status="unparsed", reason=problem)
    writes = {
        _name(m.group(1), database)
        for m in re.finditer(
            r"\b(?:into|overwrite)\s+table\s+((?:`[^`]+`|\w+)(?:\.(?:`[^`]+`|\w+))?)",
            text,
            re.IGNORECASE,
        )
    }
    ctas = re.match(r"^\s*create\s+(?:temporary\s+)?table\s+([`\w.]+)", text, re.IGNORECASE)
    if ctas:
        writes.add(_name(ctas.group(1), database))
    paths = {m.group(1)[1:-1] for m in _DIRECTORY.finditer(text)}
    return Extraction(
        _expand(names - writes, catalog),
        tuple(sorted(writes)),
        path_writes=tuple(sorted(paths)),
        kind="ctas" if ctas else "insert" if writes or paths else "query",
        status="fallback",
        reason=f"parser failed ({problem}); names read from the tokens",
    )


def _fallback_names(text: str, database: str) -> set[str]:
    ctes = {m.group(1).lower() for m in re.finditer(r"\b(\w+)\s+as\s*\(", text, re.IGNORECASE)}
    names = set()
    for match in _NAME_AFTER.finditer(text):
        raw = match.group(1)
        if raw.lower() in _NOT_NAMES or raw.lower() in ctes:
            continue
        names.add(_name(raw, database))
    return names


def _table_name(table: exp.Table, database: str) -> str:
    db = table.db or database
    return f"{db.lower()}.{table.name.lower()}"


def _name(raw: str, database: str) -> str:
    """`db.t`, `` `db`.`t` `` or `t` as `db.t` (backquoted parts may contain anything)."""
    parts = [p.strip("`").lower() for p in re.findall(r"`[^`]+`|[^.`]+", raw)]
    return f"{parts[-2]}.{parts[-1]}" if len(parts) >= 2 else f"{database}.{parts[-1]}"


def _path(node: exp.Expression) -> str:
    return node.name if isinstance(node, exp.Literal) else node.sql().strip("'\"")


def objects_jsonl(lines: Iterable[str]) -> Iterator[dict]:
    """`forensics sql objects`: one result per input line (the corpus format), in order."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"line {number}: not valid JSON ({exc.msg}); one object per line"
            ) from None
        if not isinstance(record, dict) or "query" not in record:
            raise InputError(f"line {number}: missing field query (and id, database, views)")
        if "id" not in record:
            raise InputError(f"line {number}: missing field id")
        views = record.get("views") or {}
        try:
            catalog = ViewCatalog.from_corpus(views) if views else EMPTY_CATALOG
        except (KeyError, TypeError, AttributeError):
            raise InputError(
                f"line {number}: views must map db.view to {{database, statement}}"
            ) from None
        found = extract_objects(str(record["query"]), record.get("database"), catalog)
        yield {"id": record["id"], **found.as_record()}
