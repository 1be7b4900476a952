"""Warehouse connections: the embedded DuckDB engine, or a HiveServer2 / Trino server.

Where the access logs are billions of rows kept as warehouse tables, the heavy query runs
on the warehouse and only the result comes back. Every connection here is read-only by
construction: each statement is parsed (sqlglot) before anything is sent, and anything but
a single query (`SELECT`, `WITH ... SELECT`, set operations) is refused.

Queries for the warehouse live in `queries/warehouse/` written once in HiveQL, with
parameters written `$name` like every query file; they are transpiled with sqlglot for the
engine that runs them. DuckDB binds parameters itself. HiveServer2's protocol has no
server-side parameters, so for Hive the values are checked against their declared kind
first and then quoted by the driver's own escaper, never formatted into the text by us;
Trino binds them on the server (`EXECUTE ... USING`).

Connection profiles live outside the case folder and the repository, in YAML:

    profiles:
      prod-hive: {engine: hive, host: hs2.corp.example.com, port: 10000,
                  auth: KERBEROS, kerberos_service_name: hive, database: audit}
      lab-sts:   {engine: hive, host: 127.0.0.1, port: 10000, auth: NOSASL, user: me}

A password is never stored there: `password_env: NAME` names the environment variable
that holds it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import sqlglot
import yaml
from sqlglot import exp

from forensics import queries
from forensics.errors import CaseError, QueryError
from forensics.thrift_rows import fetch_arrow

ENGINES = ("duckdb", "hive", "trino")
DIALECTS = {"duckdb": "duckdb", "hive": "hive", "trino": "trino"}
AUTH_MODES = ("NONE", "NOSASL", "LDAP", "KERBEROS", "CUSTOM")
PROFILE_KEYS = frozenset(
    {
        "engine",
        "host",
        "port",
        "auth",
        "user",
        "database",
        "password_env",
        "kerberos_service_name",
        "pushdown",
    }
)
#: How much of the investigation runs in the warehouse: `slice` (it selects the events the
#: reconstruction needs, which run here) or `full` (the reconstruction runs there, on a
#: Spark Thrift Server; only the classified accesses come back).
PUSHDOWN = ("slice", "full")
DEFAULT_PROFILES = Path("~/.config/forensics/profiles.yaml")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
_PLACEHOLDER = re.compile(r"\$([a-z_][a-z0-9_]*)")
_WRITES = (
    exp.Insert,
    exp.Create,
    exp.Drop,
    exp.Delete,
    exp.Update,
    exp.Merge,
    exp.Alter,
    exp.Command,
    exp.Set,
    exp.Use,
    exp.LoadData,
    exp.TruncateTable,
    exp.Copy,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.Grant,
)


#: A table name a query may read: a plain identifier (not a path, URL or file name).
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
#: Functions that read files, URLs, the environment or settings, or run code.
_OUTSIDE = re.compile(
    r"^(read_\w+|glob|getenv|current_setting|query|query_table|sniff_csv|\w+_scan|"
    r"parquet_\w+|duckdb_\w+|pragma_\w+|reflect2?|java_method|in_file)$",
    re.IGNORECASE,
)
#: Table functions that make rows up and read nothing.
_GENERATORS = frozenset({"range", "generate_series", "unnest", "explode", "posexplode", "stack"})
#: The prefix of every temporary view the toolkit defines in a warehouse session: a view
#: never takes the name of a warehouse table (it would hide it from later queries).
VIEW_PREFIX = "forensics_"
_VIEW_NAME = re.compile(rf"^{VIEW_PREFIX}[a-z0-9_]{{1,100}}$")
#: What a comment must not hold: a statement end, or a comment's start or end.
_HIDING = re.compile(r";|/\*|\*/")


@dataclass(frozen=True)
class Profile:
    """How to reach one warehouse; holds no secret, only where to find it."""

    name: str
    engine: str
    host: str | None = None
    port: int | None = None
    auth: str = "NONE"
    user: str | None = None
    database: str | None = None
    password_env: str | None = None
    kerberos_service_name: str | None = None
    pushdown: str = "slice"

    def password(self) -> str | None:
        """The password from the environment variable the profile names, if any."""
        if self.password_env is None:
            return None
        value = os.environ.get(self.password_env)
        if not value:
            raise CaseError(
                f"profile {self.name}: environment variable {self.password_env} is not set; "
                "export it before connecting"
            )
        return value


def load_profiles(path: str | os.PathLike[str] | None = None) -> dict[str, Profile]:
    """Profiles from `path`, `$FORENSICS_PROFILES`, or `~/.config/forensics/profiles.yaml`."""
    where = Path(path or os.environ.get("FORENSICS_PROFILES") or DEFAULT_PROFILES).expanduser()
    try:
        raw = yaml.safe_load(where.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CaseError(f"profiles {where}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError:
        raise CaseError(f"profiles {where}: not valid YAML; fix the syntax") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("profiles"), Mapping):
        raise CaseError(f"profiles {where}: expected a mapping 'profiles:' of named profiles")
    return {str(name): _profile(str(name), spec) for name, spec in raw["profiles"].items()}


def _profile(name: str, spec: Any) -> Profile:
    """One profile, checked key by key; a stored secret is refused."""
    key = f"profile {name}"
    if not _NAME.match(name):
        raise CaseError(f"{key}: names use letters, digits, '_', '.', '-'")
    if not isinstance(spec, Mapping):
        raise CaseError(f"{key}: must be a mapping of engine, host, port, ...")
    if "password" in spec or "secret" in spec or "token" in spec:
        raise CaseError(
            f"{key}: secrets are never stored in a profile; "
            "set password_env: VARIABLE and export VARIABLE"
        )
    unknown = sorted(set(spec) - PROFILE_KEYS)
    if unknown:
        raise CaseError(f"{key}.{unknown[0]}: unknown key; use {', '.join(sorted(PROFILE_KEYS))}")
    engine = spec.get("engine")
    if engine not in ENGINES:
        raise CaseError(f"{key}.engine: must be one of {', '.join(ENGINES)}")
    host = spec.get("host")
    if engine != "duckdb" and (not isinstance(host, str) or not _HOST.match(host)):
        raise CaseError(f"{key}.host: a host name or address is required for {engine}")
    port = spec.get("port")
    if port is not None and (not isinstance(port, int) or not 0 < port < 65536):
        raise CaseError(f"{key}.port: must be a TCP port number")
    auth = str(spec.get("auth", "NONE")).upper()
    if auth not in AUTH_MODES:
        raise CaseError(f"{key}.auth: must be one of {', '.join(AUTH_MODES)}")
    env = spec.get("password_env")
    if env is not None and (not isinstance(env, str) or not _ENV.match(env)):
        raise CaseError(f"{key}.password_env: must name an environment variable, e.g. HS2_PASS")
    for text_key in ("user", "database", "kerberos_service_name"):
        value = spec.get(text_key)
        if value is not None and (not isinstance(value, str) or not _NAME.match(value)):
            raise CaseError(f"{key}.{text_key}: letters, digits, '_', '.', '-' only")
    pushdown = spec.get("pushdown", "slice")
    if pushdown not in PUSHDOWN:
        raise CaseError(f"{key}.pushdown: must be one of {', '.join(PUSHDOWN)}")
    if pushdown == "full" and engine != "hive":
        raise CaseError(
            f"{key}.pushdown: full needs a Spark Thrift Server (engine: hive); "
            f"use pushdown: slice with {engine}"
        )
    return Profile(
        name=name,
        engine=engine,
        host=host,
        port=port,
        auth=auth,
        user=spec.get("user"),
        database=spec.get("database"),
        password_env=env,
        kerberos_service_name=spec.get("kerberos_service_name"),
        pushdown=pushdown,
    )


def read_only(sql: str, dialect: str, views: bool = False) -> exp.Expression:
    """The parsed statement if it is exactly one query; otherwise `QueryError`, nothing sent.

    With `views`, one more form passes: `CREATE [OR REPLACE] TEMPORARY VIEW name AS` a
    query or `VALUES`, where the name is a plain one starting with `VIEW_PREFIX` (so that
    it never hides a warehouse table) and the query passes every check a query does. A
    temporary view lives in the session only and writes nothing; anything else that
    creates (a table, a global or permanent view, a view over files, a function) is
    refused as before."""
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "falling back to Command" is our refusal, not a warning
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except sqlglot.errors.ParseError as exc:
        first = str(exc).splitlines()[0][:120]
        raise QueryError(
            f"refused: the statement cannot be parsed as {dialect} ({first})"
        ) from None
    finally:
        quiet.setLevel(level)
    if len(statements) != 1:
        raise QueryError(f"refused: exactly one statement is allowed, got {len(statements)}")
    tree = statements[0]
    if views and isinstance(tree, (exp.Cache, exp.Uncache)):
        _cached_view(tree)
        return tree
    body = _temporary_view_body(tree) if views and isinstance(tree, exp.Create) else tree
    if not isinstance(body, exp.Query) and not (body is not tree and isinstance(body, exp.Values)):
        raise QueryError(f"refused: only queries (SELECT/WITH) are allowed, not {tree.key.upper()}")
    for node in body.walk():
        if isinstance(node, _WRITES):
            raise QueryError(f"refused: the query contains {node.key.upper()}; queries only read")
        _only_tables_and_plain_functions(node)
        for comment in node.comments or ():
            if _HIDING.search(comment):
                raise QueryError(
                    "refused: a comment holds ';', '/*' or '*/' (a server that reads comments "
                    "otherwise would see another statement); remove the comment"
                )
    return tree


def _temporary_view_body(tree: exp.Create) -> exp.Expression:
    """The query of `CREATE [OR REPLACE] TEMPORARY VIEW <prefixed name> AS <query>`, or
    `QueryError` naming what makes it something else."""
    properties = tree.args.get("properties")
    kinds = [type(p) for p in (properties.expressions if properties else [])]
    name = tree.this
    if tree.args.get("kind") != "VIEW" or kinds != [exp.TemporaryProperty]:
        raise QueryError(
            "refused: only CREATE TEMPORARY VIEW ... AS SELECT/VALUES is allowed besides "
            f"queries, not CREATE {' '.join(p.__name__ for p in kinds)} {tree.args.get('kind')}"
        )
    if (
        not isinstance(name, exp.Table)
        or name.args.get("db") is not None
        or not _VIEW_NAME.match(name.name)
        or not isinstance(name.this, exp.Identifier)
    ):
        raise QueryError(
            f"refused: a temporary view is named {VIEW_PREFIX}<letters, digits, _>, "
            f"not {name.sql()[:60]}"
        )
    body = tree.expression
    if not isinstance(body, (exp.Query, exp.Values)):
        raise QueryError("refused: a temporary view is defined AS SELECT or AS VALUES only")
    return body


def _cached_view(tree: exp.Cache | exp.Uncache) -> None:
    """`CACHE [LAZY] TABLE <prefixed name>` or `UNCACHE TABLE [IF EXISTS] <prefixed name>`
    and nothing more (no `AS SELECT`, no `OPTIONS`), or `QueryError`: the server keeps the
    rows of one of the session's own temporary views in its memory (spilled to its local
    disk when short), so that later queries read them instead of computing them again.
    No table or file is written; `HiveWarehouse.cache` also checks the view is the
    session's."""
    name = tree.this
    extra = [key for key in ("expression", "options") if tree.args.get(key)]
    if (
        extra
        or not isinstance(name, exp.Table)
        or name.args.get("db") is not None
        or not isinstance(name.this, exp.Identifier)
        or not _VIEW_NAME.match(name.name)
    ):
        raise QueryError(
            f"refused: only CACHE TABLE {VIEW_PREFIX}<name> (a temporary view of the session, "
            f"no AS or OPTIONS) is allowed, not {tree.sql()[:60]}"
        )


def _generator(node: exp.Expression) -> bool:
    """`range(n)` and the like in FROM: rows made up, nothing read."""
    return isinstance(node, (exp.GenerateSeries, exp.Unnest, exp.Explode)) or (
        isinstance(node, exp.Anonymous) and node.name.lower() in _GENERATORS
    )


def _only_tables_and_plain_functions(node: exp.Expression) -> None:
    """Refuse what reads outside the warehouse's tables although it is a SELECT: a table
    function or a file path in FROM (DuckDB reads `FROM read_csv('/etc/passwd')` and
    `FROM '/etc/passwd'` from the local disk), and functions that read files, the
    environment or settings, or run code (Hive's `reflect`, `java_method`, `in_file`)."""
    if isinstance(node, exp.Table) and not _generator(node.this):
        name = node.this
        if (
            not isinstance(name, exp.Identifier)
            or not _TABLE_NAME.match(name.name)
            or _OUTSIDE.match(name.name)
        ):
            shown = node.sql()[:60]
            raise QueryError(
                f"refused: FROM {shown} is not a table name; queries read tables only, "
                "never files or table functions"
            )
    if isinstance(node, (exp.ReadCSV, exp.ReadParquet)) or (
        isinstance(node, exp.Func) and _OUTSIDE.match(node.name or node.sql_name())
    ):
        raise QueryError(
            f"refused: the query calls {(node.name or node.sql_name()).lower()}, which reads "
            "outside the warehouse's tables or runs code"
        )


#: Rows asked of a HiveServer2 server per fetch (pyhive's default is 1,000: a round trip
#: per thousand rows).
FETCH_ROWS = 10_000


@dataclass
class Fetched:
    """What came back from a server: result rows, and bytes read from its socket."""

    rows: int = 0
    bytes: int = 0


def _count_bytes_read(con: Any, fetched: Fetched) -> None:
    """Count the bytes pyhive reads from the server's socket (plain or SASL transport)."""
    transport = getattr(con, "_transport", None)
    sock = getattr(transport, "_TBufferedTransport__trans", None) or getattr(
        transport, "_trans", None
    )
    if sock is None or not hasattr(sock, "read"):
        return
    read = sock.read

    def counted(size: int) -> bytes:
        data = read(size)
        fetched.bytes += len(data)
        return data

    sock.read = counted


class Warehouse(Protocol):
    """What the toolkit needs from an engine: run one read-only query, get Arrow back."""

    dialect: str
    profile: Profile | None
    fetched: Fetched

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> pa.Table: ...

    def close(self) -> None: ...


class DuckDBWarehouse:
    """The embedded engine (the default): parameters bound by DuckDB itself."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, profile: Profile | None = None) -> None:
        self.con = con
        self.profile = profile
        self.fetched = Fetched()

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> pa.Table:
        read_only(sql, self.dialect)
        try:
            found = self.con.sql(sql, params=dict(params) if params else None).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(
                f"the embedded engine could not run the query ({_first_line(str(exc))})"
            ) from None
        self.fetched.rows += found.num_rows
        return found

    def close(self) -> None:
        self.con.close()


class HiveWarehouse:
    """A HiveServer2-protocol server (Hive, Spark Thrift Server) through pyhive."""

    dialect = "hive"

    def __init__(
        self,
        profile: Profile,
        progress: Callable[[str], None] | None = None,
        poll_seconds: float = 0.5,
    ) -> None:
        from pyhive import hive

        self.profile = profile
        self.progress = progress
        self.poll_seconds = poll_seconds
        self.fetched = Fetched()
        try:
            self.con = hive.connect(
                host=profile.host,
                port=profile.port or 10000,
                username=profile.user,
                database=profile.database or "default",
                auth=profile.auth,
                password=profile.password(),
                kerberos_service_name=profile.kerberos_service_name,
            )
        except Exception as exc:  # the driver raises thrift/socket errors of many kinds
            raise QueryError(
                f"profile {profile.name}: cannot connect to {profile.host}:{profile.port} "
                f"({type(exc).__name__}); check host, port and auth"
            ) from None
        _count_bytes_read(self.con, self.fetched)
        self.views: set[str] = set()
        self.cached: list[str] = []

    def query(
        self, sql: str, params: Mapping[str, object] | None = None, dialect: str | None = None
    ) -> pa.Table:
        """Run the query asynchronously, report its state while it runs, fetch the rows in
        batches of `FETCH_ROWS` as Arrow columns (`thrift_rows`, reporting the count),
        cancel on Ctrl-C. `dialect`: the
        one the text is written in, if not Hive's (Spark SQL for a Spark Thrift Server)."""
        read_only(sql, dialect or self.dialect)
        return self._run(sql, params)

    def define(self, sql: str) -> None:
        """Define a temporary view of this session (Spark SQL): `CREATE [OR REPLACE]
        TEMPORARY VIEW forensics_... AS SELECT/VALUES` and nothing else (`read_only`)."""
        tree = read_only(sql, "spark", views=True)
        if not isinstance(tree, exp.Create):
            raise QueryError("refused: define() creates temporary views only")
        self._run(sql, None)
        self.views.add(tree.this.name)

    def cache(self, name: str) -> None:
        """`CACHE TABLE name` for a temporary view this session defined (never a warehouse
        table): its rows are computed once and kept by the server for the later queries
        that read it; `close` releases them (`UNCACHE TABLE`)."""
        if name not in self.views:
            raise QueryError(f"refused: {name[:60]} is not a temporary view of this session")
        sql = exp.Cache(this=exp.to_table(name), lazy=False).sql(dialect="spark")
        read_only(sql, "spark", views=True)
        self._run(sql, None)
        self.cached.append(name)

    def uncache(self) -> None:
        """The rows the server keeps for this session's cached views released."""
        while self.cached:
            name = self.cached.pop()
            sql = exp.Uncache(this=exp.to_table(name), exists=True).sql(dialect="spark")
            read_only(sql, "spark", views=True)
            self._run(sql, None)

    def _run(self, sql: str, params: Mapping[str, object] | None) -> pa.Table:
        text, values = _pyformat(sql, params or {})
        cursor = self.con.cursor(arraysize=FETCH_ROWS)

        def fetched(rows: int) -> None:
            if self.progress is not None and rows >= FETCH_ROWS:
                self.progress(f"fetched {rows:,} rows")

        try:
            with _cancel_on_interrupt(cursor), _lost_connection(self.profile):
                cursor.execute(text, values or None, async_=True)
                self._wait(cursor)
                found = fetch_arrow(cursor, FETCH_ROWS, fetched)
        finally:
            cursor.close()
        self.fetched.rows += found.num_rows
        return found

    def _wait(self, cursor: Any) -> None:
        from TCLIService.ttypes import TOperationState

        running = (TOperationState.INITIALIZED_STATE, TOperationState.RUNNING_STATE)
        started = time.monotonic()
        while True:
            status = cursor.poll()
            state = status.operationState
            if state not in running:
                break
            if self.progress is not None:
                self.progress(f"running for {time.monotonic() - started:.0f} s")
            time.sleep(self.poll_seconds)
        if state != TOperationState.FINISHED_STATE:
            name = TOperationState._VALUES_TO_NAMES.get(state, str(state))
            reason = _first_line(status.errorMessage or "")
            raise QueryError(
                f"profile {self.profile.name}: the warehouse ended the query in state {name}"
                + (f" ({reason})" if reason else "")
            )

    def close(self) -> None:
        """The session closed, the rows it cached released first (the server's cache
        outlives a session's temporary views). When the connection is already lost or
        interrupted, the release is skipped, not raised over the error that ended the run:
        the server evicts cached rows itself when it needs the memory."""
        try:
            if self.cached:
                self.uncache()
        except Exception:  # noqa: BLE001 (any driver error: the first error is the one to see)
            self.cached.clear()
        finally:
            with contextlib.suppress(Exception):
                self.con.close()


class TrinoWarehouse:
    """A Trino (or Presto) coordinator through the `trino` client.

    Trino has server-side parameters: `$name` becomes `?` and the values are sent with
    the statement (`EXECUTE ... USING`), bound by the server. The profile's `database` is
    `catalog.schema` (e.g. `hive.audit`)."""

    dialect = "trino"

    def __init__(
        self,
        profile: Profile,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        import trino

        catalog, _, schema = (profile.database or "").partition(".")
        if not catalog or not schema:
            raise CaseError(f"profile {profile.name}.database: give catalog.schema for trino")
        if profile.auth not in ("NONE", "LDAP"):
            raise CaseError(f"profile {profile.name}.auth: trino profiles use NONE or LDAP")
        auth = None
        if profile.auth == "LDAP":
            auth = trino.auth.BasicAuthentication(profile.user or "", profile.password() or "")
        self.profile = profile
        self.progress = progress
        self.fetched = Fetched()
        self.con = trino.dbapi.connect(
            host=profile.host,
            port=profile.port or (8443 if auth else 8080),
            user=profile.user or "forensics",
            catalog=catalog,
            schema=schema,
            http_scheme="https" if auth else "http",
            auth=auth,
            source="forensics",
        )

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> pa.Table:
        """Run the query, report the coordinator's progress while rows come, cancel on
        Ctrl-C."""
        import trino

        read_only(sql, self.dialect)
        text, values = _qmark(sql, params or {})
        cursor = self.con.cursor()
        rows: list[Any] = []
        try:
            with _cancel_on_interrupt(cursor):
                cursor.execute(text, values or None)
                while batch := cursor.fetchmany(10_000):
                    rows += batch
                    if self.progress is not None:
                        stats = cursor.stats or {}
                        self.progress(f"{stats.get('state', '')} {len(rows)} rows")
                names = [d[0] for d in cursor.description or []]
        except (trino.exceptions.TrinoConnectionError, OSError):
            raise QueryError(
                f"profile {self.profile.name}: cannot connect to {self.profile.host}:"
                f"{self.con.port}; check host, port and auth"
            ) from None
        except trino.exceptions.Error as exc:
            raise QueryError(
                f"profile {self.profile.name}: the warehouse ended the query "
                f"({_first_line(str(exc)) or type(exc).__name__})"
            ) from None
        finally:
            cursor.close()
        self.fetched.rows += len(rows)
        return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})

    def close(self) -> None:
        self.con.close()


def _qmark(sql: str, params: Mapping[str, object]) -> tuple[str, list[object]]:
    """`$name` placeholders as `?`, with the values in the order they appear."""
    _check_scalars(params)
    values: list[object] = []

    def placeholder(match: re.Match[str]) -> str:
        values.append(params[match.group(1)])
        return "?"

    return _PLACEHOLDER.sub(placeholder, sql), values


def _first_line(message: str) -> str:
    """The first line of a server's error message, cut short (never the whole statement)."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= 200 else line[:197] + "..."


@contextmanager
def _lost_connection(profile: Profile) -> Iterator[None]:
    """A connection lost mid-query (the server stopped, a network error) is one line."""
    from thrift.transport.TTransport import TTransportException

    try:
        yield
    except (TTransportException, OSError) as exc:
        raise QueryError(
            f"profile {profile.name}: the connection to {profile.host}:{profile.port} was lost "
            f"({type(exc).__name__}: {_first_line(str(exc)) or 'no reason given'}); "
            "check that the server is running and rerun"
        ) from None


@contextmanager
def _cancel_on_interrupt(cursor: Any) -> Iterator[None]:
    """Ctrl-C cancels the remote operation instead of leaving it running on the cluster."""
    try:
        yield
    except KeyboardInterrupt:
        try:
            cursor.cancel()
        finally:
            raise


def _check_scalars(params: Mapping[str, object]) -> None:
    """Only plain scalars are sent to a server."""
    for name, value in params.items():
        if not isinstance(value, (str, int, float, bool, datetime)) or (
            isinstance(value, str) and "\x00" in value
        ):
            raise QueryError(f"parameter {name}: a {type(value).__name__} cannot be sent")


def _pyformat(sql: str, params: Mapping[str, object]) -> tuple[str, dict[str, object]]:
    """`$name` placeholders as pyhive's `%(name)s`, values checked to be plain scalars."""
    _check_scalars(params)
    if not params:
        return sql, {}
    text = sql.replace("%", "%%")
    text = _PLACEHOLDER.sub(lambda m: f"%({m.group(1)})s", text)
    values = {k: (v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v)
              for k, v in params.items()}  # fmt: skip
    return text, values


def profile_named(name: str, path: str | os.PathLike[str] | None = None) -> Profile:
    """The profile `name` from the profiles file, or `CaseError` listing the known names."""
    profiles = load_profiles(path)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise CaseError(f"profile {name}: not in the profiles file (known: {known}); add it there")
    return profiles[name]


def connect(
    profile: Profile | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    progress: Callable[[str], None] | None = None,
):
    """The warehouse a profile names; without one, the embedded DuckDB engine.

    `progress`, if given, is told how long a warehouse query has been running."""
    if profile is None or profile.engine == "duckdb":
        from forensics.engine import connect as embedded

        return DuckDBWarehouse(con or embedded(), profile)
    if profile.engine == "hive":
        return HiveWarehouse(profile, progress=progress)
    return TrinoWarehouse(profile, progress=progress)


def run(warehouse: Warehouse, name: str, **values: object) -> pa.Table:
    """Run the HiveQL query file `queries/<name>.sql` on `warehouse`, transpiled for it."""
    query = queries.load(name)
    bound = queries.bind(query, values)
    sql = transpile(query.sql, warehouse.dialect)
    return warehouse.query(sql, bound)


#: The DDL of `queries/ddl/` in the order it runs: raw Ranger audit files as a table, the
#: views that normalize them, and the `events`/`quarantine` names the toolkit reads.
RANGER_DDL = (
    "ranger_audit_lines",
    "ranger_audit_parsed",
    "ranger_audit_events",
    "ranger_audit_quarantine",
    "events",
    "quarantine",
)


def ddl(name: str, **values: object) -> str:
    """The statement of `queries/ddl/<name>.sql`, parameters checked and quoted for Hive.

    For a warehouse team to review and run with its own (writable) connection, e.g. with
    beeline; the toolkit itself never sends DDL (every connection here is read-only).
    """
    from pyhive.hive import HiveParamEscaper

    query = queries.load(f"ddl/{name}")
    text, params = _pyformat(_strip_comments(query.sql).strip(), queries.bind(query, values))
    return text % HiveParamEscaper().escape_args(params) if params else text


def ddl_script(location: str, source: str, timezone: str) -> str:
    """Every statement of `RANGER_DDL`, `;`-terminated, ready for `beeline -f`."""
    given = {"location": location, "source": source, "timezone": timezone}
    statements = []
    for name in RANGER_DDL:
        wanted = queries.load(f"ddl/{name}").params
        statements.append(ddl(name, **{k: v for k, v in given.items() if k in wanted}) + ";\n")
    return "\n".join(statements)


def transpile(sql: str, dialect: str) -> str:
    """HiveQL text as `dialect` writes it (comments dropped, `$name` parameters kept)."""
    if dialect == "hive":
        return _strip_comments(sql)
    (out,) = sqlglot.transpile(sql, read="hive", write=DIALECTS[dialect], comments=False)
    return out


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def as_schema(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """The warehouse's answer as `schema` (times in UTC milliseconds), or a clear error."""
    columns = []
    for field in schema:
        if field.name not in table.column_names:
            if table.num_rows == 0 and not table.column_names:
                columns.append(pa.nulls(0, field.type))
                continue
            raise QueryError(
                f"warehouse table {what}: has no column {field.name}; it needs the columns "
                f"{', '.join(schema.names)}"
            )
        column = table.column(field.name)
        try:
            if pa.types.is_timestamp(field.type) and pa.types.is_timestamp(column.type):
                column = column.cast(pa.timestamp(column.type.unit)).cast(field.type, safe=False)
            columns.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise QueryError(
                f"warehouse table {what}: column {field.name} is {column.type}, "
                f"expected {field.type}"
            ) from None
    return pa.Table.from_arrays(columns, schema=schema)
