"""Warehouse connections: read-only guard, profiles, and a real HiveServer2-protocol server.

The server is Spark's Thrift Server from PyPI's pyspark, started once per session by the
`thrift_server` fixture of tests/conftest.py on 127.0.0.1 in local mode with a temporary
warehouse, and stopped by its process group at the end whatever happens.
The same query file runs on it and on the embedded DuckDB.
"""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from forensics import queries, warehouse
from forensics.case import load_case
from forensics.engine import connect, load_arrow
from forensics.errors import CaseError, QueryError
from forensics.ingest import ingest
from tests.conftest import INCIDENT, ROOT, ThriftServer

ACCEPTED = [
    "SELECT 1",
    "select principal from events where object = 'mci.keystrokes'",
    "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
    "SELECT 1 UNION ALL SELECT 2",
    "SELECT * FROM (SELECT principal FROM events) t",
]
REFUSED = [
    "SELECT 1; SELECT 2",
    "SELECT 1; DROP TABLE events",
    "INSERT INTO t SELECT 1",
    "WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a",
    "CREATE TABLE t AS SELECT * FROM events",
    "DROP TABLE events",
    "DELETE FROM events",
    "SET hive.exec.dynamic.partition=true",
    "USE other",
    "LOAD DATA INPATH '/x' INTO TABLE events",
    "ADD JAR /tmp/evil.jar",
    "MSCK REPAIR TABLE events",
    "EXPLAIN SELECT 1",
    "TRUNCATE TABLE events",
    "",
    "SELECT FROM WHERE (",
    # issue 19 (the red team's list; all but the comment, reflect and in_file lines held)
    "FROM events INSERT OVERWRITE TABLE t SELECT *",
    "FROM events INSERT INTO TABLE a SELECT principal INSERT INTO TABLE b SELECT object",
    "WITH a AS (SELECT 1) INSERT OVERWRITE TABLE t SELECT * FROM a",
    "SELECT 1 FROM events; SET hive.exec.dynamic.partition=true",
    "SELECT 1 -- a comment\n; DROP TABLE events",
    "SELECT 1 /* ; DROP TABLE events */ FROM events",  # fixed: a comment hiding a statement
    "SELECT 1 /* /* */ DROP TABLE events */",  # fixed: nested, as Spark reads it, not Hive
    "SELECT reflect('java.lang.Runtime', 'getRuntime')",  # fixed: runs Java on the server
    "SELECT java_method('java.lang.System', 'exit', 1)",  # fixed
    "SELECT in_file('x', '/etc/passwd')",  # fixed: reads a file on the server
]

#: SELECTs the embedded DuckDB engine would run against the local disk or its settings
#: (all fixed: the guard passed every one of them), and what it refused already.
REFUSED_DUCKDB = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM 'https://example.com/x.csv'",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM sqlite_scan('/tmp/x.db', 't')",
    "SELECT * FROM query('DROP TABLE events')",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM pragma_database_list",
    "SELECT getenv('HOME')",
    "SELECT current_setting('home_directory')",
    "SELECT e.* FROM events e JOIN read_parquet('/tmp/x.parquet') p USING (event_id)",
    "ATTACH '/tmp/other.db' AS other",  # held
    "COPY (SELECT 1) TO '/tmp/x.csv'",  # held
    "INSTALL httpfs",  # held
    "LOAD httpfs",  # held
]


@pytest.mark.parametrize("sql", ACCEPTED)
def test_queries_pass_the_read_only_guard(sql: str) -> None:
    assert warehouse.read_only(sql, "hive") is not None
    assert warehouse.read_only(sql, "duckdb") is not None


@pytest.mark.parametrize("sql", REFUSED)
def test_everything_else_is_refused_before_it_is_sent(sql: str) -> None:
    with pytest.raises(QueryError, match="refused"):
        warehouse.read_only(sql, "hive")


#: What the full-pushdown session may send besides queries: temporary views of its own.
VIEWS_ACCEPTED = [
    "CREATE TEMPORARY VIEW forensics_w AS SELECT * FROM VALUES ('a', 1), ('b', 2) AS t(o, n)",
    "CREATE TEMPORARY VIEW forensics_w AS VALUES ('a', 1)",
    "CREATE OR REPLACE TEMPORARY VIEW forensics_copies AS SELECT object FROM forensics_w",
    "CREATE TEMPORARY VIEW forensics_e AS SELECT e.principal FROM events e "
    "LEFT ANTI JOIN forensics_d d ON d.event_id = e.event_id",
    # the rows of one of the session's views kept by the server, and released
    "CACHE TABLE forensics_exposed_access",
    "CACHE LAZY TABLE forensics_x",
    "UNCACHE TABLE IF EXISTS forensics_exposed_access",
    "UNCACHE TABLE forensics_x",
]
VIEWS_REFUSED = [
    # a second statement after an allowed one
    "CREATE TEMPORARY VIEW forensics_x AS SELECT 1; DROP TABLE y",
    "CREATE TEMPORARY VIEW forensics_x AS SELECT 1; INSERT INTO events SELECT * FROM events",
    # a view over a warehouse table's name would hide it from the session's queries
    "CREATE OR REPLACE TEMPORARY VIEW events AS SELECT 1 AS x",
    "CREATE TEMPORARY VIEW quarantine AS SELECT 1 AS x",
    "CREATE TEMPORARY VIEW incident.forensics_x AS SELECT 1",
    "CREATE TEMPORARY VIEW `forensics_x; DROP TABLE y` AS SELECT 1",
    # anything else that creates, caches, writes or loads code
    "CREATE VIEW forensics_x AS SELECT 1",
    "CREATE GLOBAL TEMPORARY VIEW forensics_x AS SELECT 1",
    "CREATE TEMPORARY VIEW forensics_x USING parquet OPTIONS (path '/etc')",
    "CREATE TEMPORARY TABLE forensics_x AS SELECT 1",
    "CREATE TABLE forensics_x AS SELECT 1",
    "CREATE TEMPORARY FUNCTION forensics_f AS 'org.example.Evil'",
    "CACHE TABLE forensics_x AS SELECT 1",
    "CACHE TABLE forensics_x AS SELECT * FROM events",
    "CACHE TABLE forensics_x OPTIONS ('storageLevel' 'DISK_ONLY')",
    "CACHE TABLE events",
    "CACHE LAZY TABLE incident.forensics_x",
    "CACHE TABLE `forensics_x; DROP TABLE y`",
    "CACHE TABLE forensics_x; DROP TABLE y",
    "UNCACHE TABLE events",
    "UNCACHE TABLE IF EXISTS incident.events",
    "CLEAR CACHE",
    "INSERT OVERWRITE DIRECTORY '/tmp/x' SELECT * FROM events",
    "INSERT OVERWRITE LOCAL DIRECTORY '/tmp/x' SELECT * FROM events",
    "ADD JAR /tmp/evil.jar",
    "ADD FILE /tmp/evil.py",
    "DROP VIEW forensics_x",
    "SET spark.sql.shuffle.partitions=1",
    # the view's query is checked like any query
    "CREATE TEMPORARY VIEW forensics_x AS SELECT reflect('java.lang.Runtime', 'getRuntime')",
    "CREATE TEMPORARY VIEW forensics_x AS SELECT * FROM parquet.`/etc/passwd`",
    "CREATE TEMPORARY VIEW forensics_x AS SELECT 1 /* ; DROP TABLE events */",
]


@pytest.mark.parametrize("sql", VIEWS_ACCEPTED)
def test_temporary_views_of_the_toolkits_own_pass_only_when_asked_for(sql: str) -> None:
    assert warehouse.read_only(sql, "spark", views=True) is not None
    with pytest.raises(QueryError, match="refused"):
        warehouse.read_only(sql, "spark")  # a plain query connection still refuses them


@pytest.mark.parametrize("sql", VIEWS_REFUSED)
def test_every_other_write_or_ddl_is_still_refused_with_views_allowed(sql: str) -> None:
    with pytest.raises(QueryError, match="refused"):
        warehouse.read_only(sql, "spark", views=True)


@pytest.mark.parametrize("sql", REFUSED)
def test_the_query_refusals_hold_with_views_allowed(sql: str) -> None:
    with pytest.raises(QueryError, match="refused"):
        warehouse.read_only(sql, "spark", views=True)


@pytest.mark.parametrize("sql", REFUSED_DUCKDB)
def test_the_embedded_engine_refuses_reads_outside_its_tables(sql: str, tmp_path: Path) -> None:
    """Refused before anything runs: the file the statement names is never read or made."""
    from forensics import engine

    target = tmp_path / "x.csv"
    wh = warehouse.DuckDBWarehouse(engine.connect())
    with pytest.raises(QueryError, match="refused"):
        wh.query(sql.replace("/tmp/x.csv", str(target)))
    assert not target.exists()
    wh.close()


# --- Trino: no Trino server can be started here (it is on neither PyPI nor Debian), so
# these check what can be checked without one: the SQL it would get, the guard, and the
# errors a user sees. The query path itself is untested against a live coordinator.

WAREHOUSE_QUERIES = sorted(p.stem for p in (ROOT / "queries" / "warehouse").glob("*.sql"))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is


def _trino(port: int, database: str = "hive.audit") -> warehouse.Profile:
    return warehouse.Profile(
        name="tr", engine="trino", host="127.0.0.1", port=port, database=database
    )


@pytest.mark.parametrize("name", WAREHOUSE_QUERIES)
def test_every_warehouse_query_transpiles_to_one_trino_query(name: str) -> None:
    query = queries.load(f"warehouse/{name}")
    sql = warehouse.transpile(query.sql, "trino")
    warehouse.read_only(sql, "trino")
    text, values = warehouse._qmark(sql, {p: f"v-{p}" for p in query.params})
    assert "$" not in text.replace("'$", "")  # every parameter became a placeholder
    assert text.count("?") == len(values) == sum(sql.count(f"${p}") for p in query.params)
    assert "RLIKE" not in text.upper()  # Hive's operator becomes Trino's REGEXP_LIKE


def test_trino_refuses_writes_before_connecting() -> None:
    wh = warehouse.connect(_trino(_closed_port()))
    with pytest.raises(QueryError, match="refused"):
        wh.query("DELETE FROM events")  # refused by the guard; a sent query would fail to connect


def test_an_unreachable_trino_is_one_clear_error() -> None:
    port = _closed_port()
    wh = warehouse.connect(_trino(port))
    with pytest.raises(QueryError, match=f"profile tr: cannot connect to 127.0.0.1:{port}"):
        wh.query("SELECT principal FROM events WHERE object = $o", {"o": "mci.keystrokes"})


@pytest.mark.parametrize("database", ["audit", "", "hive."])
def test_a_trino_profile_names_catalog_and_schema(database: str) -> None:
    with pytest.raises(CaseError, match="give catalog.schema"):
        warehouse.connect(_trino(8080, database))


def _profiles(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "profiles.yaml"
    path.write_text(body)
    return path


def test_profiles_load(tmp_path: Path) -> None:
    path = _profiles(
        tmp_path,
        "profiles:\n  lab: {engine: hive, host: 127.0.0.1, port: 10000, auth: nosasl, user: me}\n"
        "  local: {engine: duckdb}\n",
    )
    profiles = warehouse.load_profiles(path)
    assert profiles["lab"] == warehouse.Profile(
        name="lab", engine="hive", host="127.0.0.1", port=10000, auth="NOSASL", user="me"
    )
    assert profiles["local"].engine == "duckdb"
    assert profiles["lab"].pushdown == "slice"  # the default: the slice comes here


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{engine: hive, host: h, password: hunter2}", "secrets are never stored"),
        ("{engine: oracle, host: h}", "engine: must be one of"),
        ("{engine: hive}", "host: a host name"),
        ("{engine: hive, host: 'h; rm -rf /'}", "host: a host name"),
        ("{engine: hive, host: h, port: 99999}", "port: must be a TCP port"),
        ("{engine: hive, host: h, colour: red}", "colour: unknown key"),
        ("{engine: hive, host: h, password_env: 'x y'}", "password_env: must name"),
        ("{engine: hive, host: h, auth: MAGIC}", "auth: must be one of"),
        ("{engine: hive, host: h, pushdown: most}", "pushdown: must be one of slice, full"),
        ("{engine: trino, host: h, pushdown: full}", "pushdown: full needs a Spark Thrift"),
    ],
)
def test_bad_profiles_say_what_to_fix(tmp_path: Path, spec: str, message: str) -> None:
    path = _profiles(tmp_path, f"profiles:\n  p: {spec}\n")
    with pytest.raises(CaseError, match=message) as err:
        warehouse.load_profiles(path)
    assert "hunter2" not in str(err.value)


def test_password_comes_from_the_environment(monkeypatch) -> None:
    profile = warehouse.Profile(name="p", engine="hive", host="h", password_env="HS2_TEST_PASS")
    monkeypatch.delenv("HS2_TEST_PASS", raising=False)
    with pytest.raises(CaseError, match="HS2_TEST_PASS is not set"):
        profile.password()
    monkeypatch.setenv("HS2_TEST_PASS", "s3cret")
    assert profile.password() == "s3cret"


@pytest.fixture(scope="module")
def events() -> pa.Table:
    """The bundled incident's normalized events (the columns a warehouse would keep)."""
    table = ingest(load_case(INCIDENT / "case.yaml")).events
    keep = ["time", "principal", "object", "op", "result", "event_count"]
    return table.select(keep).filter(pa.compute.is_valid(table["object"]))


WINDOW = {
    "object": "mci.keystrokes",
    "start": datetime(2026, 6, 18, 9, 0),
    "until": datetime(2026, 6, 18, 13, 0),
}


def _expected(events: pa.Table) -> list[tuple]:
    """The same summary computed in Python from the events, independently of SQL."""
    found: dict[str, list] = {}
    for row in events.to_pylist():
        t = row["time"]
        if (
            row["object"] == WINDOW["object"]
            and row["op"] == "read"
            and row["result"] == "allowed"
            and WINDOW["start"] <= t < WINDOW["until"]
        ):
            entry = found.setdefault(row["principal"], [0, t, t])
            entry[0] += row["event_count"]
            entry[1], entry[2] = min(entry[1], t), max(entry[2], t)
    return sorted((p, n, a, b) for p, (n, a, b) in found.items())


def _rows(table: pa.Table) -> list[tuple]:
    return [tuple(r.values()) for r in table.to_pylist()]


def test_query_file_runs_on_duckdb(events: pa.Table) -> None:
    con = connect()
    load_arrow(con, "events", events)
    result = warehouse.run(warehouse.DuckDBWarehouse(con), "warehouse/reads_between", **WINDOW)
    assert _rows(result) == _expected(events)
    assert [p for p, *_ in _rows(result)] == ["carl", "fiona", "svc_crawler"]  # ana: 08:50


def test_duckdb_parameters_are_checked_and_bound(events: pa.Table) -> None:
    con = connect()
    load_arrow(con, "events", events)
    wh = warehouse.DuckDBWarehouse(con)
    with pytest.raises(QueryError, match="parameter object"):
        warehouse.run(wh, "warehouse/reads_between", **{**WINDOW, "object": "x' OR '1'='1"})
    with pytest.raises(QueryError, match="refused"):
        wh.query("DROP TABLE events")
    assert con.sql("SELECT count(*) FROM events").fetchall() == [(len(events),)]


# --- a real HiveServer2-protocol server (tests/conftest.py starts one per session) --------


@pytest.fixture(scope="module")
def hive_events(thrift_server: ThriftServer, events: pa.Table) -> warehouse.Profile:
    """The events loaded into the server by test setup (which may write), in `reads`."""
    thrift_server.load("reads", "events", events)
    return thrift_server.profile(database="reads")


def test_same_query_same_answer_on_the_thrift_server(
    hive_events: warehouse.Profile, events: pa.Table
) -> None:
    states: list[str] = []
    wh = warehouse.HiveWarehouse(hive_events, progress=states.append, poll_seconds=0.05)
    try:
        remote = _rows(warehouse.run(wh, "warehouse/reads_between", **WINDOW))
    finally:
        wh.close()
    con = connect()
    load_arrow(con, "events", events)
    local = _rows(
        warehouse.run(warehouse.DuckDBWarehouse(con), "warehouse/reads_between", **WINDOW)
    )
    assert remote == local == _expected(events)


def test_thrift_server_gets_nothing_but_queries(hive_events: warehouse.Profile) -> None:
    wh = warehouse.HiveWarehouse(hive_events)
    try:
        for sql in ("DROP TABLE events", "INSERT INTO events SELECT * FROM events"):
            with pytest.raises(QueryError, match="refused"):
                wh.query(sql)
        quoted = wh.query(
            "SELECT count(*) AS n FROM events WHERE principal = $p", {"p": "carl' OR '1'='1"}
        )
        assert quoted.to_pylist() == [{"n": 0}]
        total = wh.query("SELECT count(*) AS n FROM events").to_pylist()[0]["n"]
        assert total > 0
    finally:
        wh.close()


def test_unreachable_server_is_one_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens on it once closed
    profile = warehouse.Profile(name="gone", engine="hive", host="127.0.0.1", port=port)
    with pytest.raises(QueryError, match="cannot connect to 127.0.0.1"):
        warehouse.HiveWarehouse(profile)


# --- queries/ddl: raw Ranger audit files exposed and normalized by the warehouse --------

RANGER_LOGS = INCIDENT / "logs" / "ranger"
COMPARED = [
    "event_id",
    "time",
    "engine",
    "principal",
    "principal_raw",
    "op",
    "action",
    "object",
    "columns",
    "path",
    "result",
    "policy_id",
    "client_ip",
    "session_id",
    "query_id",
    "query_text",
    "event_count",
    "dedup_key",
    "perm",
]


@pytest.fixture(scope="module")
def ranger_views(thrift_server: ThriftServer) -> warehouse.Profile:
    """queries/ddl run by test setup (a plain, writable pyhive cursor) over the raw files."""
    script = warehouse.ddl_script(
        location=RANGER_LOGS.as_uri(), source="logs/ranger", timezone="America/Los_Angeles"
    )
    con = thrift_server.setup_cursor()
    try:
        cursor = con.cursor()
        cursor.execute("CREATE DATABASE IF NOT EXISTS ranger_raw")
        cursor.execute("USE ranger_raw")
        for statement in script.split(";\n"):
            if statement.strip():
                cursor.execute(statement)
    finally:
        con.close()
    return thrift_server.profile(database="ranger_raw")


def _ranger_parsed() -> tuple[list[dict], list[dict]]:
    """What forensics.ingest makes of the same files: events once per Ranger id, quarantine."""
    result = ingest(load_case(INCIDENT / "case.yaml"))
    kept: dict[str, dict] = {}
    for row in result.events.to_pylist():
        if row["source_format"] == "ranger-audit":
            kept.setdefault(row["dedup_key"] or row["event_id"], row)
    bad = [r for r in result.quarantine.to_pylist() if r["format"] == "ranger-audit"]
    return [{k: r[k] for k in COMPARED} for r in kept.values()], bad


def _key(row: dict) -> tuple:
    return tuple("" if v is None else str(v) for v in row.values())


def test_ddl_views_normalize_ranger_audits_as_ingest_does(ranger_views: warehouse.Profile) -> None:
    expected, bad = _ranger_parsed()
    wh = warehouse.HiveWarehouse(ranger_views)
    try:
        events = wh.query("SELECT * FROM events").to_pylist()
        quarantined = wh.query("SELECT * FROM quarantine").to_pylist()
    finally:
        wh.close()
    got = [{k: r[k] for k in COMPARED} for r in events]
    assert sorted(got, key=_key) == sorted(expected, key=_key)
    assert {r["principal"] for r in got} >= {"carl", "dora", "fiona", "ivy"}
    assert {r["source_file"] for r in events} == {"logs/ranger"}
    # every line is an event, a duplicate, another plugin's, or quarantined with a reason
    assert len(quarantined) == len(bad) == 1
    assert bad[0]["reason"].startswith(quarantined[0]["reason"])


def test_ddl_never_passes_the_read_only_guard() -> None:
    script = warehouse.ddl_script(location="hdfs:///a", source="a", timezone="UTC")
    statements = [s for s in script.split(";\n") if s.strip()]
    assert len(statements) == len(warehouse.RANGER_DDL)
    for statement in statements:
        with pytest.raises(QueryError, match="refused"):
            warehouse.read_only(statement, "hive")


def test_ddl_parameters_are_checked_and_quoted() -> None:
    text = warehouse.ddl("ranger_audit_lines", location="hdfs:///audit/it's")
    assert "LOCATION 'hdfs:///audit/it\\'s'" in text
    with pytest.raises(QueryError, match="parameters"):
        warehouse.ddl("ranger_audit_lines", location="x", extra="y")
    with pytest.raises(QueryError, match="parameter location"):
        warehouse.ddl("ranger_audit_lines", location="nul\x00")


def test_ctrl_c_cancels_the_query_on_the_server(thrift_server: ThriftServer) -> None:
    """Ctrl-C while a query runs cancels it on the server (the server reports the
    operation cancelled), and the interrupt still reaches the caller."""
    from TCLIService.ttypes import TOperationState

    interrupted: list[str] = []

    def interrupt(state: str) -> None:
        # Ctrl-C once the query has run for 2 s, once: an earlier cancel can reach Spark
        # before its job starts ("Cannot find active jobs"), and the job then runs on.
        if not interrupted and int(state.split()[-2]) >= 2:
            interrupted.append(state)
            raise KeyboardInterrupt

    wh = warehouse.HiveWarehouse(thrift_server.profile(), progress=interrupt, poll_seconds=0.05)
    states: list[int] = []
    make_cursor = wh.con.cursor

    def cursor(**options):  # the real cursor; after its cancel, ask the server for the state
        real = make_cursor(**options)
        cancel = real.cancel

        def cancel_then_poll() -> None:
            cancel()
            states.append(real.poll().operationState)

        real.cancel = cancel_then_poll
        return real

    wh.con.cursor = cursor
    try:
        with pytest.raises(KeyboardInterrupt):
            # long enough to be interrupted (4e10 pairs), short enough to end by itself if
            # a cancel were lost, and no overflow (a sum of products overflowed a long)
            wh.query(
                "SELECT count(*) AS n FROM range(200000) a CROSS JOIN range(200000) b "
                "WHERE (a.id * 7 + b.id) % 1000003 = 1"
            )
        assert states == [TOperationState.CANCELED_STATE]
        assert wh.query("SELECT 1 AS one").num_rows == 1  # the session is still usable
    finally:
        wh.close()


def test_a_connection_lost_mid_query_is_one_line_naming_the_server() -> None:
    """A server that stops (or a network that drops) mid-query: no internal error."""
    from thrift.transport.TTransport import TTransportException

    class Dropped:
        def execute(self, *args, **kwargs):
            raise TTransportException(message="TSocket read 0 bytes")

        def close(self) -> None:
            pass

    class Connection:
        def cursor(self, **options):
            return Dropped()

    wh = object.__new__(warehouse.HiveWarehouse)
    wh.profile = warehouse.Profile(name="sts", engine="hive", host="127.0.0.1", port=10000)
    wh.con, wh.progress, wh.fetched = Connection(), None, warehouse.Fetched()
    with pytest.raises(QueryError, match="connection to 127.0.0.1:10000 was lost") as err:
        wh.query("SELECT 1")
    assert "TSocket read 0 bytes" in str(err.value) and "\n" not in str(err.value)
