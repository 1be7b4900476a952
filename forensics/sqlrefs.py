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
- A CTE is not an object. A reference names a CTE when a query around it (or a sibling
  CTE) defines that name, the innermost definition winning; a CTE does not see itself,
  and one defined inside a subquery does not hide a real table outside it. So a CTE
  shadows a real table of the same unqualified name. Tables inside a CTE are read only
  when the CTE is used, directly or through other used CTEs.
- `INSERT INTO/OVERWRITE TABLE t` and CTAS write `t`; `INSERT OVERWRITE [LOCAL]
  DIRECTORY 'p'` and `EXPORT TABLE t TO 'p'` write a path (a copy outside the warehouse);
  `LOAD DATA ... INTO TABLE t` writes `t`; `UPDATE`, `DELETE`, `MERGE` (its target) and
  `ANALYZE TABLE t COMPUTE STATISTICS` read and write `t`; `CREATE VIEW v AS q` writes
  `v` and reads what `q` reads; `IMPORT TABLE t FROM 'p'` writes `t`.
- `EXPLAIN` in front changes nothing (the hooks still see the objects).

Plain `SELECT`/`INSERT`/`FROM ...` statements over named tables and subqueries (about
85% of the corpus statements) are read by a strict token scanner (`_scan`): the objects are then
exactly the names after FROM, JOIN, a comma in a FROM list and INSERT ... [TABLE]. It
answers only inside the subset it fully understands and hands anything else (CTEs,
LATERAL VIEW, TRANSFORM, directories, table functions, FROM inside a function call, ...)
to sqlglot; on Hive's own corpus it agrees with the sqlglot path on every statement it
answers. This is what makes the cold path fast: sqlglot's pure-Python parse alone costs
more than the budget of 5,000 distinct statements/s. Results are cached by the statement
with its literals replaced by `?` (exact text when literals are paths), the database and
the view catalog's version, so a dashboard's query repeated with other values is free.

Otherwise sqlglot's Hive dialect parses the statement. Hive syntax it does not know is
rewritten first where the rewrite cannot change which objects are named: `DISTRIBUTE BY`/
`SORT BY` inside window specifications, script clauses (`SELECT TRANSFORM(..) USING ..`,
`MAP ../REDUCE .. USING ..`, with or without `ROW FORMAT`) as `SELECT 1`, partitioned
table functions (`noop(ON t ..)`) as their input, `UNIQUEJOIN` as a plain join, and
`PARTITION (..) IF NOT EXISTS` without its condition. When sqlglot still fails, a
tokenizer-level fallback reads the names after FROM/JOIN/INTO/TABLE and marks the result
`fallback` (less certain). A statement that yields nothing trustworthy (`dfs`, `IMPORT`
without a table name, an unexpected tree) is `unparsed` with the reason, never an empty
answer that looks like "read nothing"; `SET`/`RESET`/`SHOW` read and write nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
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
# session commands with no data access; `dfs`/`ADD FILE` are not among them (they read files)
_SESSION = re.compile(r"^\s*(?:set|reset|show)\b", re.IGNORECASE)
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
# string and number literals, for the cache key. Every branch starts with one of `'"0-9`,
# so the regex engine skips quickly to candidates; the lookbehinds say which branch it is
# and keep digits inside names (`src1`) out.
_LITERALS = re.compile(
    r"['\"0-9](?:(?<=')[^'\\]*(?:\\.[^'\\]*)*'|(?<=\")[^\"\\]*(?:\\.[^\"\\]*)*\""
    r"|(?<=[0-9])(?<!\w[0-9])[0-9]*(?:\.[0-9]+)?\b)",
    re.DOTALL,
)
# the same, scanning comments and backquoted names as units so their contents stay intact
# (the lookahead lets the engine skip to the characters a branch can start with)
_CAREFUL_LITERALS = re.compile(
    r"(?=[-/`'\"0-9])(?:--[^\n]*|/\*.*?(?:\*/|$)|`[^`]*(?:``[^`]*)*`"
    r"|'[^'\\]*(?:\\.[^'\\]*)*'|\"[^\"\\]*(?:\\.[^\"\\]*)*\"|(?<!\w)[0-9]+(?:\.[0-9]+)?\b)",
    re.DOTALL,
)
_NAME_AFTER = re.compile(
    r"\b(?:from|join|into|table|update)\s+((?:`[^`]+`|\w+)(?:\.(?:`[^`]+`|\w+))?)",
    re.IGNORECASE,
)
# statements whose literals are paths (written or read) are cached by their exact text
_PATH_WORDS = ("directory", "inpath", "export", "import")
_NOT_NAMES = frozenset({"select", "values", "(", "lateral", "unnest", "table", "directory"})


class _LazyFingerprint:
    """Data descriptor behind `Extraction.fingerprint`: a field (default "") that, when left
    empty, is computed from the statement text on first read. Redaction tokenizes with
    sqlparse and costs as much as the whole extraction, so the cold path must not pay it
    for callers that never look at the fingerprint."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_lazy_" + name

    def __get__(self, obj: object, objtype: type | None = None) -> str:
        if obj is None:
            return ""
        value = obj.__dict__.get(self.slot, "")
        if not value and getattr(obj, "text", ""):
            value = obj.__dict__[self.slot] = fingerprint(obj.text)
        return value

    def __set__(self, obj: object, value: object) -> None:
        obj.__dict__[self.slot] = value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Extraction:
    """What one statement (or text of several) read and wrote, and how sure we are."""

    reads: tuple[str, ...]
    writes: tuple[str, ...]
    path_writes: tuple[str, ...] = ()
    kind: str = "query"
    status: str = "parsed"
    reason: str | None = None
    fingerprint: str = field(default=_LazyFingerprint(), compare=False)  # type: ignore[assignment]
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
        """(database it was created in, definition) of view `name` (`db.view`), or None."""
        return self.views.get(name)


EMPTY_CATALOG = ViewCatalog({})


def extract_objects(
    text: str, database: str | None = "default", views: ViewCatalog | None = None
) -> Extraction:
    """The objects `text` read and wrote (all its statements), with the current database."""
    catalog = views or EMPTY_CATALOG
    return _extract_cached(text, (database or "default").lower(), catalog)


_RESULTS: dict[tuple[str, str, int], Extraction] = {}


def _shape(text: str) -> str:
    """The cache key of a statement: its text with string and number literals as `?`.
    Equal shapes must name the same objects, so literals that are paths (directories,
    LOAD/EXPORT/IMPORT) keep the exact text, and where comments or backquoted names could
    hide quotes or digits (`-- don't`, `` `sales 2024` ``) they are kept verbatim."""
    lowered = text.lower()
    if any(word in lowered for word in _PATH_WORDS):
        return text
    if "`" in text or "--" in text or "/*" in text:
        return _CAREFUL_LITERALS.sub(_literal_or_kept, text)
    return _LITERALS.sub("?", text)


def _literal_or_kept(match: re.Match) -> str:
    """`?` for a literal; comments and backquoted names unchanged."""
    token = match.group()
    return token if token[0] in "`-/" else "?"


def _extract_cached(text: str, database: str, catalog: ViewCatalog) -> Extraction:
    """Results cached by statement shape: a dashboard's query repeated with other literals
    is parsed once. Statements whose literals name paths are keyed by their exact text."""
    cache_key = (_shape(text), database, catalog.version)
    found = _RESULTS.get(cache_key)
    if found is None:
        if len(_RESULTS) > 200_000:
            _RESULTS.clear()
        found = _RESULTS[cache_key] = _extract(text, database, catalog)
    return found


#: Which statement of a script names the script's kind: one that moves data first, then
#: one that only changes objects, then a plain query.
_KIND_RANK = {
    kind: rank
    for rank, group in enumerate(
        (
            ("ctas", "insert", "export", "merge", "update", "delete", "load", "import"),
            ("create_view",),
            ("ddl", "drop", "alter", "truncate"),
            ("query",),
            ("other",),
        )
    )
    for kind in group
}


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
        one = _statement_safely(statement, database, catalog)
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
    kind = min(kinds, key=lambda k: _KIND_RANK.get(k, len(_KIND_RANK)), default="other")
    return Extraction(
        reads=tuple(sorted(reads)),
        writes=tuple(sorted(writes)),
        path_writes=tuple(sorted(paths)),
        kind=kind,
        status=status,
        reason="; ".join(reasons) or None,
        text=text,
    )


def _statement_safely(text: str, database: str, catalog: ViewCatalog) -> Extraction:
    """`_statement`, but a tree shape this module does not expect (an exception from
    sqlglot or from walking its tree) becomes `unparsed` with the reason, never a crash
    in the middle of a log and never an empty answer that looks like "read nothing"."""
    try:
        return _with_view_problems(_statement(text, database, catalog), catalog)
    except (
        sqlglot.errors.SqlglotError,
        AttributeError,
        TypeError,
        ValueError,
        RecursionError,
    ) as exc:
        reason = f"extraction failed ({type(exc).__name__}: {str(exc)[:120]})"
        return Extraction((), (), kind="other", status="unparsed", reason=reason)


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
    scanned = _scan(text, database)
    if scanned is not None:
        reads, writes, kind = scanned
        return Extraction(_expand(reads, catalog), tuple(sorted(writes)), kind=kind)
    tree, problem = _parse(text)
    if tree is None:
        return _fallback(text, database, catalog, problem or "not parsed")
    return _from_tree(tree, text, database, catalog)


def _special(text: str, database: str, catalog: ViewCatalog) -> Extraction | None:
    """Statements read by pattern: LOAD, EXPORT, IMPORT, ANALYZE, CREATE/ALTER VIEW, and
    session commands (SET, RESET, SHOW) that touch no table's data. Commands that touch
    files (`dfs`, `ADD FILE`, ...) are left unparsed: they read data we cannot name."""
    if _SESSION.match(text):
        return Extraction((), (), kind="other")
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
    text = _script_clauses(text)
    text = _PARTITION_IF_NOT_EXISTS.sub(")", text)
    return _window_specs(text)


_OVER = re.compile(r"\bover\s*\(", re.IGNORECASE)


def _window_specs(text: str) -> str:
    """`OVER (DISTRIBUTE BY a SORT BY b)` as `OVER (PARTITION BY a ORDER BY b)`: Hive's
    synonyms inside window specifications only (at the top level sqlglot knows them)."""
    out, last = [], 0
    for match in _OVER.finditer(text):
        if match.start() < last:
            continue
        depth, i = 1, match.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        spec = _WINDOW_DISTRIBUTE.sub("PARTITION BY", text[match.end() : i])
        out += [text[last : match.end()], _WINDOW_SORT.sub("ORDER BY", spec)]
        last = i
    out.append(text[last:])
    return "".join(out)


# `INSERT OVERWRITE TABLE t PARTITION (..) IF NOT EXISTS`: a condition, names nothing
_PARTITION_IF_NOT_EXISTS = re.compile(r"\)\s*if\s+not\s+exists\b", re.IGNORECASE)
_SCRIPT_STARTS = frozenset({"transform", "map", "reduce"})
_SCRIPT_ENDS = frozenset(
    {"from", "where", "group", "having", "order", "sort", "distribute", "cluster", "limit"}
    | {"union", "insert", "select", "window", "lateral", ";"}
)


def _script_clauses(text: str) -> str:
    """Hive's script clauses, `SELECT TRANSFORM(..) USING 'x' AS .. [ROW FORMAT ..]` and
    `MAP ../REDUCE .. USING 'x' AS ..`, replaced by a plain `SELECT 1`: their arguments
    and output schema are columns, never objects, and sqlglot knows neither form with a
    SerDe or without parentheses. Token spans keep quotes and nesting right."""
    spans = [(m.group().lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    out, last, k = [], 0, 0
    while k < len(spans):
        word = spans[k][0]
        after_select = k > 0 and spans[k - 1][0] in ("select", "distinct", "all")
        if word not in _SCRIPT_STARTS or (word == "transform" and not after_select):
            k += 1
            continue
        using = _script_using(spans, k + 1)
        if using is None:
            k += 1
            continue
        end = _script_end(spans, using + 2)
        stop = spans[end][1] if end < len(spans) else len(text)
        out.append(text[last : spans[k][1]])
        out.append("1 " if after_select else "SELECT 1 ")
        last, k = stop, end
    out.append(text[last:])
    return "".join(out)


def _same_depth(spans: list[tuple[str, int, int]], k: int) -> Iterator[tuple[int, str]]:
    """(index, word) of the tokens from `k` on at the starting bracket depth, ending with
    the closing bracket that leaves that depth, if one comes."""
    depth = 0
    while k < len(spans):
        word = spans[k][0]
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
            if depth < 0:
                yield k, word
                return
        elif depth == 0:
            yield k, word
        k += 1


def _script_using(spans: list[tuple[str, int, int]], k: int) -> int | None:
    """Index of the `USING 'script'` that ends the script arguments starting at `k`, at
    the same nesting depth; None when a clause keyword or a closing bracket comes first
    (then `map` was the function, not the clause)."""
    for i, word in _same_depth(spans, k):
        if word == "using":
            nxt = spans[i + 1][0] if i + 1 < len(spans) else ""
            return i if nxt[:1] in ("'", '"') else None
        if word == ")" or word in _SCRIPT_ENDS:
            return None
    return None


def _script_end(spans: list[tuple[str, int, int]], k: int) -> int:
    """Index of the first token after a script's output clause (`AS ..`, `ROW FORMAT ..`,
    `RECORDREADER ..`): the next clause keyword or closing bracket at the same depth."""
    for i, word in _same_depth(spans, k):
        if word == ")" or word in _SCRIPT_ENDS:
            return i
    return max(k, len(spans))


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


# statements that touch no table's data (metadata, session, privileges, transactions)
_NO_DATA = tuple(
    getattr(exp, name)
    for name in ("Set", "Use", "Describe", "Grant", "Revoke", "Comment", "Commit", "Rollback")
    + ("Transaction", "Show", "Pragma")
    if isinstance(getattr(exp, name, None), type)
)


def _from_tree(tree: exp.Expression, text: str, database: str, catalog: ViewCatalog) -> Extraction:
    """Reads and writes from sqlglot's tree."""
    writes: set[str] = set()
    paths: set[str] = set()
    kind = "query"
    targets: set[int] = set()
    for insert in tree.find_all(exp.Insert):
        target = insert.this
        if target is None:
            continue  # MERGE's `WHEN NOT MATCHED THEN INSERT`: its target is the MERGE's
        kind = "insert"
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
        return _ddl_writes(tree, database, catalog)
    elif isinstance(tree, _NO_DATA):
        return Extraction((), (), kind="other")
    elif not isinstance(tree, (exp.Query, exp.Insert, exp.MultitableInserts)):
        reason = f"not a statement: parsed as a bare {type(tree).__name__} expression"
        return Extraction((), (), kind="other", status="unparsed", reason=reason)
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


def _ddl_writes(tree: exp.Expression, database: str, catalog: ViewCatalog) -> Extraction:
    """DROP, ALTER and TRUNCATE change the objects they name (Hive lists them as outputs)
    but copy no data; ALTER VIEW ... AS SELECT also reads its query's tables."""
    if isinstance(tree, exp.Drop) and str(tree.args.get("kind") or "").upper() == "DATABASE":
        return Extraction((), (), kind="drop")
    if isinstance(tree, exp.Alter):
        named = [tree.this] + [
            a.this for a in tree.args.get("actions") or [] if isinstance(a, exp.AlterRename)
        ]
        query = next((a for a in tree.args.get("actions") or [] if isinstance(a, exp.Query)), None)
        writes = {_table_name(t, database) for t in named if isinstance(t, exp.Table)}
        if query is not None:
            reads = _reads(query, database, set())
            return Extraction(_expand(reads, catalog), tuple(sorted(writes)), kind="create_view")
        return Extraction((), tuple(sorted(writes)), kind="alter")
    tables = tree.args.get("tables") if isinstance(tree, exp.Drop) else tree.expressions
    kind = "drop" if isinstance(tree, exp.Drop) else "truncate"
    writes = {_table_name(t, database) for t in tables or [] if isinstance(t, exp.Table)}
    return Extraction((), tuple(sorted(writes)), kind=kind)


def _reads(tree: exp.Expression, database: str, targets: set[int]) -> set[str]:
    """Tables the statement reads: every table reference that is not a write target and
    does not name a CTE in scope, and that Hive actually runs (a reference inside a CTE
    counts only when that CTE is used, directly or through other used CTEs)."""
    refs = []  # (table, the CTE it names or None, the CTEs it sits in)
    for table in tree.find_all(exp.Table):
        if id(table) in targets or not table.name:
            continue
        if isinstance(table.parent, exp.Lateral) or not isinstance(table.this, exp.Identifier):
            continue
        refs.append((table, *_cte_scope(table)))
    if not any(cte is not None or inside for _, cte, inside in refs):
        return {_table_name(table, database) for table, _, _ in refs}
    used: set[int] = set()
    changed = True
    while changed:  # a CTE is used when a reference that runs names it
        changed = False
        for _, cte, inside in refs:
            if cte is not None and id(cte) not in used and all(id(c) in used for c in inside):
                used.add(id(cte))
                changed = True
    return {
        _table_name(table, database)
        for table, cte, inside in refs
        if cte is None and all(id(c) in used for c in inside)
    }


def _cte_scope(table: exp.Table) -> tuple[exp.CTE | None, list[exp.CTE]]:
    """(the CTE an unqualified reference names, or None for a real table; the CTEs whose
    bodies contain the reference). A CTE is visible in the query that defines it, nested
    queries included, and in its sibling CTEs, but not in its own body; the innermost
    definition of a name wins, so a CTE shadows a real table of the same name."""
    name = None if table.db else table.name.lower()
    found = None
    inside: list[exp.CTE] = []
    node: exp.Expression | None = table.parent
    while node is not None:
        if isinstance(node, exp.CTE):
            inside.append(node)
        elif name is not None and found is None:
            with_ = node.args.get("with_") or node.args.get("with")
            if isinstance(with_, exp.With):
                for cte in with_.expressions:
                    if cte.alias_or_name.lower() == name and cte not in inside:
                        found = cte
                        break
        node = node.parent
    return found, inside


def _expand(reads: Iterable[str], catalog: ViewCatalog) -> tuple[str, ...]:
    """Reads with every view replaced by itself plus the objects under it, recursively
    (each view expanded once, so shared or even circular definitions terminate)."""
    result = set(reads)
    if not catalog.views:
        return tuple(sorted(result))
    pending = list(result)
    expanded: set[str] = set()
    while pending:
        name = pending.pop()
        view = catalog.get(name)
        if view is None or name in expanded:
            continue
        expanded.add(name)
        db, definition = view
        query = _view_query(definition)
        for inner in _view_reads(query, db, catalog):
            if inner not in result:
                result.add(inner)
                pending.append(inner)
    return tuple(sorted(result))


def _view_query(definition: str) -> str:
    """The query of a view definition: the text after `AS` of a CREATE VIEW, or as given."""
    body = _VIEW_BODY.search(definition)
    return definition[body.start(1) :] if _CREATE_VIEW.match(definition) and body else definition


@lru_cache(maxsize=8192)
def _view_reads_cached(query: str, db: str) -> tuple[str, ...]:
    """The objects a view's query names directly, resolved in the view's own database.
    Independent of the catalog (nesting is `_expand`'s job), so cached across catalogs."""
    parts = split_statements(query)
    scanned = _scan(parts[0], db) if len(parts) == 1 else None
    if scanned is not None:
        return tuple(sorted(scanned[0]))
    tree, problem = _parse(query)
    if tree is None:
        _VIEW_PROBLEMS[(query, db)] = problem or "not parsed"
        return tuple(sorted(_fallback_names(query, db)))
    return tuple(sorted(_reads(tree, db, set())))


# view bodies sqlglot could not parse (their reads came from the token fallback)
_VIEW_PROBLEMS: dict[tuple[str, str], str] = {}


def _with_view_problems(found: Extraction, catalog: ViewCatalog) -> Extraction:
    """`found` marked `fallback` when a view it expanded had to be read from tokens: the
    statement itself parsed, but what lies under that view is less certain."""
    if not catalog.views or not _VIEW_PROBLEMS or found.status != "parsed":
        return found
    for name in found.reads:
        view = catalog.get(name)
        if view is None:
            continue
        db, definition = view
        query = _view_query(definition)
        problem = _VIEW_PROBLEMS.get((query, db))
        if problem:
            reason = f"view {name} not parsed ({problem}); its objects read from the tokens"
            return replace(found, status="fallback", reason=reason)
    return found


def _view_reads(query: str, db: str, catalog: ViewCatalog) -> tuple[str, ...]:
    """Direct reads of a view body (`catalog` kept for callers; the result does not
    depend on it)."""
    return _view_reads_cached(query, db)


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
    """Names after FROM/JOIN/INTO/TABLE/UPDATE, less anything defined as a CTE."""
    ctes = {m.group(1).lower() for m in re.finditer(r"\b(\w+)\s+as\s*\(", text, re.IGNORECASE)}
    names = set()
    for match in _NAME_AFTER.finditer(text):
        raw = match.group(1)
        if raw.lower() in _NOT_NAMES or raw.lower() in ctes:
            continue
        names.add(_name(raw, database))
    return names


def _table_name(table: exp.Table, database: str) -> str:
    """sqlglot's table node as `db.table`, lower case, in the current database if bare."""
    db = table.db or database
    return f"{db.lower()}.{table.name.lower()}"


def _name(raw: str, database: str) -> str:
    """`db.t`, `` `db`.`t` `` or `t` as `db.t` (backquoted parts may contain anything)."""
    parts = [p.strip("`").lower() for p in re.findall(r"`[^`]+`|[^.`]+", raw)]
    return f"{parts[-2]}.{parts[-1]}" if len(parts) >= 2 else f"{database}.{parts[-1]}"


def _path(node: exp.Expression) -> str:
    """A directory literal's text without its quotes."""
    return node.name if isinstance(node, exp.Literal) else node.sql().strip("'\"")


# --- the fast path: a strict scanner for the common subset ------------------------------
#
# sqlglot's pure-Python parse costs ~0.3 ms a statement, more than the whole budget of
# 5,000 statements/s. Most statements in practice are plain SELECT/INSERT ... FROM/JOIN
# over named tables and subqueries, where the objects are exactly the names right after
# FROM, JOIN and a comma in a FROM list, and after INSERT ... [TABLE]. `_scan` reads those
# from a regex token stream and gives up (returns None, so sqlglot decides) at anything
# outside that subset: CTEs, LATERAL VIEW, TRANSFORM, directories, table functions, FROM
# inside a function call, a comma after a join condition, an unterminated quote, ...
# The corpus test checks that it agrees with Hive wherever it answers.

_TOKEN = re.compile(
    r"'[^'\\]*(?:\\.[^'\\]*)*'|\"[^\"\\]*(?:\\.[^\"\\]*)*\"|`[^`]*(?:``[^`]*)*`"
    r"|[^\W\d][\w$]*|\d[\w.]*|\S",
    re.DOTALL,
)
_SCAN_STARTS = frozenset({"select", "insert", "from"})
_SCAN_BAIL = frozenset(
    {
        "with",
        "lateral",
        "transform",
        "map",
        "reduce",
        "using",
        "uniquejoin",
        "directory",
        "local",
        "'",
        '"',
        "`",
        ";",
        "explain",
        "view",
        "unnest",
    }
)
_CLAUSE_ENDS = frozenset(
    {
        "where",
        "group",
        "having",
        "order",
        "sort",
        "distribute",
        "cluster",
        "limit",
        "union",
        "select",
        "insert",
        "window",
        "intersect",
        "except",
        "minus",
    }
)
_NOT_TABLE = _CLAUSE_ENDS | _SCAN_BAIL | {"from", "join", "on", "as", "values", "tablesample"}


def _scan(text: str, database: str) -> tuple[set[str], set[str], str] | None:
    """(reads, writes, kind) of a plain SELECT/INSERT statement, or None when the text
    leaves the subset this scanner fully understands (then sqlglot parses it)."""
    tokens = _TOKEN.findall(text)
    if not tokens:
        return None
    low = [t.lower() for t in tokens]
    if low[0] not in _SCAN_STARTS or not _SCAN_BAIL.isdisjoint(low):
        return None
    low += ["", ""]  # sentinels: lookahead past the end is always the empty token
    reads: set[str] = set()
    writes: set[str] = set()
    frames: list[list] = [["query", False, False]]  # kind, in FROM list, after ON
    i, n = 0, len(tokens)
    while i < n:
        word = low[i]
        frame = frames[-1]
        if word == "(":
            kind = "query" if low[i + 1] in ("select", "from") else "expr"
            if low[i + 1] == "on":
                return None  # a table function: noop(ON t PARTITION BY ...)
            frames.append([kind, False, False])
        elif word == ")":
            if len(frames) == 1:
                return None
            frames.pop()
        elif frame[0] == "expr":
            if word in ("from", "join", "select"):
                return None  # EXTRACT(x FROM y), TRIM(... FROM ...): leave to sqlglot
        elif word in ("from", "join"):
            if word == "from" and i and low[i - 1] == "distinct":
                return None  # IS DISTINCT FROM
            i = _scan_source(tokens, low, i + 1, database, reads)
            if i < 0:
                return None
            frame[1], frame[2] = True, False
            continue
        elif word == "," and frame[1]:
            if frame[2]:
                return None  # a comma after a join condition: ambiguous, leave it
            i = _scan_source(tokens, low, i + 1, database, reads)
            if i < 0:
                return None
            continue
        elif word == "on" and frame[1]:
            frame[2] = True
        elif word == "table":
            return None  # TABLE anywhere but after INSERT: leave it to sqlglot
        elif word in _CLAUSE_ENDS:
            frame[1] = frame[2] = False
            if word == "insert":
                i = _scan_target(tokens, low, i + 1, database, writes)
                if i < 0:
                    return None
                continue
        i += 1
    if len(frames) != 1:
        return None
    return reads, writes, "insert" if writes else "query"


def _scan_name(tokens: list[str], low: list[str], i: int) -> tuple[str, str | None, int] | None:
    """The (possibly db-qualified) object name starting at token `i`: (name, db, next i)."""
    parts = []
    while True:
        token = tokens[i] if i < len(tokens) else ""
        if token.startswith("`") and len(token) > 1:
            if "." in token:
                return None  # `db.t` in one pair of backquotes: leave it to sqlglot
            parts.append(token[1:-1].replace("``", "`"))
        elif token[:1].isalpha() or token[:1] == "_":
            if low[i] in _NOT_TABLE:
                return None
            parts.append(token)
        else:
            return None
        i += 1
        if low[i] != ".":
            break
        i += 1
    if len(parts) > 2 or low[i] == "(":
        return None
    return parts[-1].lower(), (parts[0].lower() if len(parts) == 2 else None), i


def _scan_source(tokens: list[str], low: list[str], i: int, database: str, reads: set) -> int:
    """After FROM/JOIN/comma: a subquery (left to the main loop) or a table, which is read.
    Returns where to go on, or -1 when the source is something the scanner does not know."""
    if low[i] == "(":
        return i if low[i + 1] in ("select", "from") else -1
    found = _scan_name(tokens, low, i)
    if found is None:
        return -1
    name, db, i = found
    reads.add(f"{db or database}.{name}")
    if low[i] == "tablesample":
        if low[i + 1] != "(":
            return -1
        depth, i = 1, i + 2
        while i < len(tokens) and depth:
            depth += {"(": 1, ")": -1}.get(low[i], 0)
            i += 1
    return i


def _scan_target(tokens: list[str], low: list[str], i: int, database: str, writes: set) -> int:
    """After INSERT: `OVERWRITE|INTO [TABLE] name`, which is written; -1 for anything else
    (directories, which write a path, are left to sqlglot)."""
    if low[i] not in ("overwrite", "into"):
        return -1
    i += 2 if low[i + 1] == "table" else 1
    found = _scan_name(tokens, low, i)
    if found is None:
        return -1
    name, db, i = found
    writes.add(f"{db or database}.{name}")
    return i


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
        if not isinstance(record["query"], str):
            raise InputError(f"line {number}: query must be a string (the statement text)")
        database = record.get("database")
        if database is not None and not isinstance(database, str):
            raise InputError(f'line {number}: database must be a string such as "default"')
        views = record.get("views") or {}
        try:
            catalog = ViewCatalog.from_corpus(views) if views else EMPTY_CATALOG
        except (KeyError, TypeError, AttributeError, ValueError):
            raise InputError(
                f"line {number}: views must map db.view to {{database, statement}}"
            ) from None
        found = extract_objects(record["query"], database, catalog)
        yield {"id": record["id"], **found.as_record()}
