"""Pushdown: the investigation run where the events are kept gives the same evidence.

The acceptance test of the warehouse path loads the bundled incident's normalized events
into a real Spark Thrift Server (tests/conftest.py), runs `forensics investigate
--profile` against it, and requires every evidence CSV byte-identical to the embedded run
over the log files. Faster checks run the same code against DuckDB holding the events.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from forensics import engine, pushdown, queries, warehouse
from forensics.case import load_case
from forensics.cli import main
from forensics.errors import InputError, QueryError
from forensics.evidence import EVIDENCE_FILES, verify
from forensics.ingest import IngestResult, ingest
from forensics.ingest.sniff import WAREHOUSE_CHECK
from forensics.investigation import Settings, investigate
from forensics.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from tests.conftest import INCIDENT, ThriftServer

CASE = INCIDENT / "case.yaml"
CSV_FILES = [f"{name}.csv" for name in EVIDENCE_FILES]


@pytest.fixture(scope="module")
def parsed() -> IngestResult:
    """The bundled incident's logs parsed by the toolkit: what a warehouse would keep."""
    return ingest(load_case(CASE))


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Evidence of the embedded run over the log files (`forensics investigate`)."""
    out = tmp_path_factory.mktemp("embedded") / "evidence"
    assert main(["investigate", str(CASE), "--out", str(out)]) == 0
    return out


def _duckdb_warehouse(events: pa.Table, quarantine: pa.Table) -> warehouse.DuckDBWarehouse:
    con = engine.connect()
    engine.load_arrow(con, "events", events)
    engine.load_arrow(con, "quarantine", quarantine)
    return warehouse.DuckDBWarehouse(con)


def _same_csvs(left: Path, right: Path) -> None:
    for name in CSV_FILES:
        assert (left / name).read_bytes() == (right / name).read_bytes(), name


NEAR_MISSES = ["mci.keystrokesx", "mciXkeystrokes", "other.t"]


def _noise(count: int) -> pa.Table:
    """Events of objects and paths the case never asks about (a busy warehouse's rest)."""
    rows = []
    for i in range(count):
        rows.append(
            {
                "event_id": f"noise-{i}",
                "time": datetime(2026, 6, 18, 10, i % 60),
                "source_format": "ranger-audit",
                "source_file": "logs/elsewhere.log",
                "source_line": i + 1,
                "engine": "hive" if i % 2 else "hdfs",
                "principal": f"user{i % 7}",
                "principal_raw": f"user{i % 7}",
                "op": "read",
                "action": "SELECT" if i % 2 else "open",
                # near misses: same prefix, regex metacharacters, a sibling location
                "object": ["mci.keystrokesx", "mciXkeystrokes", "other.t"][i % 3]
                if i % 2
                else None,
                "columns": None,
                "path": None
                if i % 2
                else "/warehouse/tablespace/managed/hive/mci.db/keystrokes_old/000000_0",
                "result": "allowed",
                "policy_id": 1,
                "client_ip": None,
                "session_id": f"noise-s{i}",
                "query_id": None,
                "query_text": "SELECT * FROM other.t" if i % 2 else None,
                "event_count": 1,
                "dedup_key": f"noise-{i}",
            }
        )
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def _pseudonym_key(folder: Path, byte: bytes) -> Path:
    """A 32-byte pseudonym key, private as the CLI requires."""
    key = folder / "key"
    key.write_bytes(byte * 32)
    key.chmod(0o600)
    return key


# --- against DuckDB holding the events (fast) -------------------------------------------


def test_duckdb_pushdown_equals_the_embedded_run(
    parsed: IngestResult, embedded: Path, tmp_path: Path
) -> None:
    wh = _duckdb_warehouse(parsed.events, parsed.quarantine)
    out = pushdown.investigate_in_warehouse(Settings.build(CASE, tmp_path / "ev"), wh)
    _same_csvs(embedded, out)
    assert verify(out, load_case(CASE)) == []


def test_only_the_slice_comes_back(parsed: IngestResult, embedded: Path, tmp_path: Path) -> None:
    noisy = pa.concat_tables([parsed.events, _noise(600)])
    wh = _duckdb_warehouse(noisy, parsed.quarantine)
    out = pushdown.investigate_in_warehouse(Settings.build(CASE, tmp_path / "ev"), wh)
    _same_csvs(embedded, out)
    fetched = json.loads((out / "manifest.json").read_text())["events"]["fetched"]
    # the noise never leaves the warehouse; neither do events of unexposed objects
    assert fetched["events"] < parsed.events.num_rows
    assert fetched["rounds"] == 3  # exposed objects, then kc_copy and the export, then kc_copy2
    assert "sandbox.kc_copy2" in fetched["objects"]
    assert "mci.conversation_summary" in fetched["objects"]  # a view over an exposed table
    stages = json.loads((out / "manifest.json").read_text())["events"]["stages"]
    slices = [s for s in stages if s["stage"].startswith("event slice")]
    assert [s["where"] for s in slices] == ["warehouse"] * 3
    assert sum(s["rows_fetched"] for s in slices) >= fetched["events"]
    assert all(s["rows_fetched"] == 0 for s in stages if s["where"] == "local")


def test_pseudonyms_and_literals_match_too(
    parsed: IngestResult, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    key = _pseudonym_key(tmp_path, b"k")
    options = ["--pseudonymize", str(key), "--keep-literals"]
    local = tmp_path / "local"
    assert main(["investigate", str(CASE), "--out", str(local), *options]) == 0
    wh = _duckdb_warehouse(parsed.events, parsed.quarantine)
    settings = Settings.build(CASE, tmp_path / "wh", keep_literals=True, pseudonymize=key)
    out = pushdown.investigate_in_warehouse(settings, wh)
    _same_csvs(local, out)
    assert "carl" not in (out / "principals.csv").read_text()


def test_manifest_says_where_the_events_came_from(parsed: IngestResult, tmp_path: Path) -> None:
    wh = _duckdb_warehouse(parsed.events, parsed.quarantine)
    out = pushdown.investigate_in_warehouse(Settings.build(CASE, tmp_path / "ev"), wh)
    manifest = json.loads((out / "manifest.json").read_text())
    source = manifest["events"]
    assert source["parsed"].startswith("elsewhere")
    assert source["engine"] == "duckdb"
    per_file = {f["source_file"]: f for f in source["warehouse_files"]}
    events = parsed.events.column("source_file").to_pylist()
    for counts in parsed.files:  # the warehouse's account agrees with the parse
        entry = per_file[counts.source_file]
        assert entry["quarantined"] == counts.quarantined
        assert entry["events"] == events.count(counts.source_file)
        assert entry["format"] == counts.format
    logs = [i for i in manifest["inputs"] if i["path"].startswith("logs/")]
    assert logs and all(i.get("parsed_elsewhere") is True and "lines" not in i for i in logs)
    others = [i for i in manifest["inputs"] if not i["path"].startswith("logs/")]
    assert others and not any("parsed_elsewhere" in i for i in others)


def test_a_warehouse_source_nearly_all_quarantined_stops_the_run(
    parsed: IngestResult, tmp_path: Path
) -> None:
    # the format check of an embedded run (`ingest.sniff`) on the warehouse's counts: a
    # source file whose lines were nearly all quarantined where the logs were normalized
    wrong = pa.table(
        {
            "source_file": ["logs/ranger/wrong.log"] * 40,
            "source_line": list(range(1, 41)),
            "format": ["ranger-audit"] * 40,
            "reason": ["not a JSON object"] * 40,
        },
        schema=QUARANTINE_SCHEMA,
    )
    quarantine = pa.concat_tables([parsed.quarantine, wrong])
    wh = _duckdb_warehouse(parsed.events, quarantine)
    with pytest.raises(InputError, match=r"logs/ranger/wrong.log .*40 lines quarantined"):
        pushdown.investigate_in_warehouse(Settings.build(CASE, tmp_path / "no"), wh)
    assert not (tmp_path / "no").exists()
    settings = Settings.build(CASE, tmp_path / "ev", allow_quarantine=True)
    out = pushdown.investigate_in_warehouse(settings, _duckdb_warehouse(parsed.events, quarantine))
    manifest = json.loads((out / "manifest.json").read_text())
    assert [w for w in manifest["warnings"] if "wrong.log" in w]
    assert manifest["events"]["format_check"] == WAREHOUSE_CHECK  # says what was not checked


def test_a_warehouse_table_without_a_needed_column_is_one_clear_error(
    parsed: IngestResult, tmp_path: Path
) -> None:
    wh = _duckdb_warehouse(parsed.events.drop_columns(["dedup_key"]), parsed.quarantine)
    with pytest.raises(QueryError, match="dedup_key"):
        pushdown.investigate_in_warehouse(Settings.build(CASE, tmp_path / "ev"), wh)
    assert not (tmp_path / "ev").exists()


PATTERN_CASES = [
    # (names, exact, value, matches)
    (["mci.keystrokes"], True, "mci.keystrokes", True),
    (["mci.keystrokes"], True, "mciXkeystrokes", False),  # '.' is not a wildcard
    (["mci.keystrokes"], True, "mci.keystrokes2", False),
    (["mci.keystrokes"], True, "xmci.keystrokes", False),
    (["a.b", "c.d"], True, "c.d", True),
    (["/w/mci.db/k"], False, "/w/mci.db/k", True),
    (["/w/mci.db/k"], False, "/w/mci.db/k/ds=1/000000_0", True),
    (["/w/mci.db/k"], False, "/w/mci.db/k_old/000000_0", False),  # a sibling, not under
    (["/w/a+b (1)"], False, "/w/a+b (1)/f", True),
    (["/w/a+b (1)"], False, "/w/aab (1)/f", False),
]


@pytest.mark.parametrize(("names", "exact", "value", "matches"), PATTERN_CASES)
def test_patterns_match_names_literally_on_duckdb(
    names: list[str], exact: bool, value: str, matches: bool
) -> None:
    (pattern,) = pushdown.patterns(names, exact)
    wh = warehouse.DuckDBWarehouse(engine.connect())
    found = wh.query("SELECT regexp_matches($v, $p) AS m", {"v": value, "p": pattern})
    assert found.to_pylist() == [{"m": matches}]


def test_long_name_lists_are_split_and_unsafe_names_refused() -> None:
    names = [f"db{i:04d}.table_{i:04d}" for i in range(1000)]
    chunks = pushdown.patterns(names, exact=True)
    assert len(chunks) > 1 and all(len(c) <= pushdown.PATTERN_LIMIT for c in chunks)
    assert sum(c.count("\\Q") for c in chunks) == 1000
    with pytest.raises(QueryError, match="cannot be matched safely"):
        pushdown.patterns(["/tmp/evil\\E|.*"], exact=False)


def test_no_profile_means_the_embedded_engine(embedded: Path, tmp_path: Path) -> None:
    out = pushdown.investigate_where_kept(Settings.build(CASE, tmp_path / "ev"))
    _same_csvs(embedded, out)
    assert "events" not in json.loads((out / "manifest.json").read_text())


def test_an_unknown_profile_is_one_line_naming_it(tmp_path: Path, capsys) -> None:
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text("profiles:\n  lab: {engine: hive, host: 127.0.0.1, port: 1}\n")
    args = ["investigate", str(CASE), "--out", str(tmp_path / "ev"), "--profiles", str(profiles)]
    assert main([*args, "--profile", "prod"]) != 0
    err = capsys.readouterr().err
    assert "profile prod: not in the profiles file (known: lab)" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "ev").exists()


# --- against a real Spark Thrift Server (the acceptance test of the warehouse path) -----


@pytest.fixture(scope="module")
def incident_in_warehouse(thrift_server: ThriftServer, parsed: IngestResult) -> ThriftServer:
    """The incident's normalized events and quarantined lines as tables of `incident`."""
    thrift_server.load("incident", "events", parsed.events)
    thrift_server.load("incident", "quarantine", parsed.quarantine)
    return thrift_server


def _sts_profiles(
    server: ThriftServer, folder: Path, database: str = "incident", pushdown: str | None = None
) -> Path:
    """A profiles file naming the test server's `database` as `sts` (with `pushdown`)."""
    profiles = folder / "profiles.yaml"
    mode = f", pushdown: {pushdown}" if pushdown is not None else ""
    profiles.write_text(
        "profiles:\n"
        f"  sts: {{engine: hive, host: 127.0.0.1, port: {server.port}, "
        f"auth: NOSASL, user: investigator, database: {database}{mode}}}\n"
    )
    return profiles


def _full_pushdown_of(server: ThriftServer, case: Path, database: str, folder: Path) -> Path:
    """The case's parsed events and quarantine as tables of `database`, investigated there
    with `pushdown: full`; the evidence folder."""
    parsed = ingest(load_case(case))
    server.load(database, "events", parsed.events)
    server.load(database, "quarantine", parsed.quarantine)
    profiles = _sts_profiles(server, folder, database, "full")
    out = folder / "full"
    args = ["investigate", str(case), "--out", str(out)]
    assert main([*args, "--profile", "sts", "--profiles", str(profiles)]) == 0
    return out


def test_thrift_server_run_is_byte_identical_to_the_embedded_run(
    incident_in_warehouse: ThriftServer, embedded: Path, tmp_path: Path
) -> None:
    profiles = _sts_profiles(incident_in_warehouse, tmp_path)
    out = tmp_path / "warehouse"
    args = ["investigate", str(CASE), "--out", str(out)]
    assert main([*args, "--profile", "sts", "--profiles", str(profiles)]) == 0
    _same_csvs(embedded, out)
    assert verify(out, load_case(CASE)) == []
    source = json.loads((out / "manifest.json").read_text())["events"]
    assert (source["profile"], source["engine"], source["database"]) == ("sts", "hive", "incident")
    assert source["driver"]["name"] == "PyHive"
    assert source["fetched"]["rounds"] == 3


def test_report_from_the_thrift_server(
    incident_in_warehouse: ThriftServer, embedded: Path, tmp_path: Path
) -> None:
    """`forensics report --profile`: the evidence read where it is kept, and the notebooks
    rendered beside it."""
    profiles = _sts_profiles(incident_in_warehouse, tmp_path)
    out = tmp_path / "report"
    args = ["report", str(CASE), "--out", str(out), "--top", "0"]
    assert main([*args, "--profile", "sts", "--profiles", str(profiles)]) == 0
    _same_csvs(embedded, out)
    assert json.loads((out / "manifest.json").read_text())["events"]["engine"] == "hive"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="report/00_scope.html"' in index
    page = (out / "report" / "00_scope.html").read_text(encoding="utf-8")
    assert "mci.keystrokes" in page


def test_thrift_server_run_with_pseudonyms(
    incident_in_warehouse: ThriftServer, tmp_path: Path
) -> None:
    key = _pseudonym_key(tmp_path, b"p")
    local = investigate(Settings.build(CASE, tmp_path / "local", pseudonymize=key))
    wh = warehouse.HiveWarehouse(incident_in_warehouse.profile(database="incident"))
    try:
        settings = Settings.build(CASE, tmp_path / "wh", pseudonymize=key)
        out = pushdown.investigate_in_warehouse(settings, wh)
    finally:
        wh.close()
    _same_csvs(local, out)


@pytest.mark.parametrize(("names", "exact", "value", "matches"), PATTERN_CASES)
def test_patterns_match_the_same_on_the_thrift_server(
    incident_in_warehouse: ThriftServer, names: list[str], exact: bool, value: str, matches: bool
) -> None:
    (pattern,) = pushdown.patterns(names, exact)
    wh = warehouse.HiveWarehouse(incident_in_warehouse.profile())
    try:
        found = wh.query("SELECT $v RLIKE $p AS m", {"v": value, "p": pattern})
    finally:
        wh.close()
    assert found.to_pylist() == [{"m": matches}]


def test_a_missing_warehouse_table_is_one_clear_error(
    incident_in_warehouse: ThriftServer, tmp_path: Path
) -> None:
    wh = warehouse.HiveWarehouse(incident_in_warehouse.profile(database="default"))
    try:
        with pytest.raises(QueryError, match="profile sts: the warehouse ended the query"):
            pushdown.investigate_in_warehouse(Settings.build(CASE, tmp_path / "ev"), wh)
    finally:
        wh.close()
    assert not (tmp_path / "ev").exists()


# --- full pushdown: the reconstruction itself runs in the Spark Thrift Server ------------

HOSTILE = [
    "mci.it's",
    "db.`x`; DROP TABLE events; --",
    "a\\'; SELECT 1; --",
    "back\\slash\\",
    "semi;colon",
    "/w/mci.db/new\nline",
    "percent %s %(x)s $1",
    "uni\u2028code\u00e9",
]


def test_scope_values_become_literals_that_read_back_as_sent() -> None:
    from forensics import pushdown_full

    columns = [("object", pa.string()), ("n", pa.int64()), ("at", pa.timestamp("ms"))]
    rows = [(name, i, datetime(2026, 6, 17, 10, i)) for i, name in enumerate(HOSTILE)]
    sql = pushdown_full.values_view("forensics_hostile", columns, rows)
    warehouse.read_only(sql, "spark", views=True)  # one statement, a temporary view
    with pytest.raises(QueryError, match="cannot be sent"):
        pushdown_full.values_view("forensics_x", columns, [("a\x00b", 1, None)])
    with pytest.raises(QueryError, match="cannot be sent"):
        pushdown_full.values_view("forensics_x", columns, [("a", "1; DROP TABLE t", None)])


class _Recorder:
    """A warehouse that keeps the statements sent to it and answers none."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.cached: list[str] = []

    def define(self, sql: str) -> None:
        self.sent.append(sql)

    def query(self, sql: str, dialect: str) -> None:
        self.sent.append(sql)

    def cache(self, name: str) -> None:
        self.cached.append(name)


def _recording_session() -> tuple:
    """A full-pushdown session of the bundled incident's scope over a `_Recorder`: what
    it would send to the warehouse, kept as text (the session, the recorder)."""
    import duckdb

    from forensics import pushdown_full
    from forensics.catalog import load_catalog
    from forensics.reconstruct import load_scope
    from forensics.scope import derive_scope

    case = load_case(INCIDENT / "case.yaml")
    catalog = load_catalog(case)
    con = duckdb.connect()
    load_scope(con, catalog, derive_scope(case, catalog, [], []), case.on_behalf_services)
    schema = pushdown_full.local_pipeline(con, QUARANTINE_SCHEMA.empty_table())
    recorder = _Recorder()
    return pushdown_full.Session(recorder, schema, False, None), recorder  # type: ignore[arg-type]


def test_the_warehouse_reads_the_exposed_objects_events_by_object_and_by_path() -> None:
    """The embedded run reads the events once for the exposed objects (`access_once`); in
    Spark that join shuffles every event, so the warehouse is sent `access_to`'s two
    reads (by object, and by path for the events naming no object)."""
    import re

    from forensics import pushdown_full

    session, recorder = _recording_session()
    pushdown_full.exposed_accesses(session)
    (view,) = [s for s in recorder.sent if "VIEW forensics_exposed_access " in s]
    reads = re.findall(r"(?:FROM|JOIN) events\b", view)
    assert len(reads) == 2, view[:3000]  # with access_once it is 1
    # the embedded run's macro reads them once (the engine's own plan of the same file)
    sql = re.sub(r"\s+", " ", queries.load("reconstruct/exposed_access").sql)
    assert "access_once('exposed_targets')" in sql


def test_the_warehouse_finds_the_statements_that_may_write_in_one_read_of_the_events() -> None:
    """The statements that may write are found in the warehouse as the embedded run finds
    them (reconstruct/writing_candidates, transpiled): the events read once, the regular
    expression tested as they are read, then the aggregate (reconstruct/statement_aggregate,
    expanded with its pattern). Before, the writers' principals were found by one read of
    every event and their events keyed by a second."""
    import re

    from forensics.reconstruct import MAY_WRITE
    from forensics.transpile import literal

    session, recorder = _recording_session()
    session.run("reconstruct/statement_aggregate")
    session.run("reconstruct/writing_candidates")
    (view,) = [s for s in recorder.sent if "VIEW forensics_statement_candidates " in s]
    # the events are read through kept_events (normalize/events: the events less those
    # dropped as duplicates, one read of them), once, and never directly
    assert len(re.findall(r"(?:FROM|JOIN) forensics_kept_events\b", view)) == 1, view[:3000]
    assert not re.findall(r"(?:FROM|JOIN) events\b", view), view[:3000]
    kept = queries.load("normalize/events").sql
    kept = kept[kept.index("VIEW kept_events") : kept.index("VIEW resolved_events")]
    assert len(re.findall(r"(?:FROM|JOIN) raw_events\b", kept)) == 1
    pattern = literal(MAY_WRITE).sql(dialect="spark")
    assert view.count(f"RLIKE {pattern}") == 3  # the read's filter, `completes`, `may_write`
    assert "pattern" not in view  # the macro's parameter replaced by its argument


def test_the_duplicates_are_found_in_the_warehouse_with_each_step_computed_once() -> None:
    """normalize/events' events dropped as duplicates, as the embedded engine computes
    them: the later copies (a CTE read twice, by the events dropped and by the HDFS reads
    paired) computed once, a cached view of their own; the Ranger HDFS plugin's seconds a
    cached view (a table in the engine, which then knows there are none). Before, the
    server's plan read the events six times (the later copies twice, inlined, each with
    the repeated keys' grouping)."""
    import re

    from forensics import pushdown_full

    session, recorder = _recording_session()
    session.run("normalize/events", skip=pushdown_full._EVENT_VIEWS)

    def view(name: str) -> str:
        (found,) = [s for s in recorder.sent if f"VIEW forensics_{name} " in s]
        return found

    def reads(sql: str) -> int:
        return len(re.findall(r"(?:FROM|JOIN) events\b", sql))

    later = view("dropped_events_later_copies")
    assert reads(later) == 1  # their copies ranked (the keys seen twice: repeated_keys)
    assert "forensics_repeated_keys" in later
    dropped = view("dropped_events")
    assert reads(dropped) == 1, dropped[:3000]  # the HDFS reads only
    assert dropped.count("forensics_dropped_events_later_copies") == 2
    assert reads(view("ranger_seconds")) == 1
    for name in ("ranger_seconds", "dropped_events_later_copies", "dropped_events"):
        assert f"forensics_{name}" in recorder.cached
    # a view sent whole (without the cut) reads the events three times, the repeated keys
    # twice, and the Ranger seconds' view once when that is not cached (the server's plan)
    (sql,) = [
        s.sql
        for s in session.translator.statements(queries.load("normalize/events").sql, session.schema)
        if s.target == "dropped_events"
    ]
    whole = session._view("forensics_x", sql)
    assert reads(whole) == 3
    assert whole.count("forensics_repeated_keys") == 2


def test_full_pushdown_is_byte_identical_to_the_embedded_run(
    incident_in_warehouse: ThriftServer, embedded: Path, parsed: IngestResult, tmp_path: Path
) -> None:
    profiles = _sts_profiles(incident_in_warehouse, tmp_path, pushdown="full")
    out = tmp_path / "full"
    args = ["investigate", str(CASE), "--out", str(out)]
    assert main([*args, "--profile", "sts", "--profiles", str(profiles)]) == 0
    _same_csvs(embedded, out)
    assert verify(out, load_case(CASE)) == []
    # the coverage ledger of a warehouse run (from its hourly counts, without the checks
    # only the log files allow, so not the embedded run's): as DuckDB holding the same
    # events computes it
    wh = _duckdb_warehouse(parsed.events, parsed.quarantine)
    kept = pushdown.investigate_in_warehouse(Settings.build(CASE, tmp_path / "duckdb"), wh)
    assert (out / "coverage.csv").read_bytes() == (kept / "coverage.csv").read_bytes()
    source = json.loads((out / "manifest.json").read_text())["events"]
    assert source["pushdown"] == "full"
    fetched = source["fetched"]
    accesses = fetched["exposed_accesses"] + fetched["copy_accesses"]
    evidence = len((out / "access_events.csv").read_text().splitlines()) - 1
    assert evidence <= accesses <= 1.1 * evidence  # the accesses behind the evidence only
    where = {s["stage"]: s["where"] for s in source["stages"]}
    assert where["exposed objects' accesses, tested"] == "warehouse"
    assert where["classification and copies"] == "local"
    assert where["categories, redaction, read details, evidence rows"] == "local"
    scope_queries = ("principals and permission changes", "quarantine and source files", "coverage")
    rows = sum(s["rows_fetched"] for s in source["stages"] if s["stage"] not in scope_queries)
    # besides the accesses: the statements that may write (fetched once, asked here in
    # every round of copies), one row saying whether there are text-only records and one
    # the session's time zone (the events dropped as duplicates stay in the server's
    # cache, never fetched)
    assert "dropped_events" not in fetched
    assert rows == accesses + fetched["statement_candidates"] + 2


#: A Spark job of pat's (another system's log, read as `generic`): a read of an exposed table
#: and a write logged by its path only, into a partition folder of public_data.holidays, a
#: table neither exposed nor yet a copy.
PATH_WRITE = (
    "INSERT OVERWRITE DIRECTORY "
    "'/warehouse/tablespace/managed/hive/public_data.db/holidays/ds=2026-06-18' "
    "SELECT * FROM mci.keystrokes"
)
PATH_WRITE_MAPPING = {
    "time": "ts", "principal": "user_name", "object": "object_name", "path": "path",
    "action": "operation", "engine": "engine", "session_id": "session", "query_text": "sql",
    "event_id": "event_uuid",
}  # fmt: skip


def _path_write_case(root: Path) -> Path:
    """The bundled incident with pat's `PATH_WRITE` logged as two events of a generic log."""
    shutil.copytree(INCIDENT, root / "case")
    (root / "case" / "logs" / "spark").mkdir()
    rows = [
        ["ts", "user_name", "object_name", "path", "operation", "engine", "session", "sql",
         "event_uuid"],
        ["2026-06-18T10:50:00Z", "pat", "mci.keystrokes", "", "SELECT", "spark", "job-7",
         PATH_WRITE, "pw-1"],
        ["2026-06-18T10:50:01Z", "pat", "", PATH_WRITE.split("'")[1], "WRITE", "spark", "job-7",
         PATH_WRITE, "pw-2"],
    ]  # fmt: skip
    with (root / "case" / "logs" / "spark" / "jobs.csv").open("w", newline="") as log:
        csv.writer(log).writerows(rows)
    case = yaml.safe_load((root / "case" / "case.yaml").read_text())
    entry = {"format": "generic", "path": "logs/spark/*.csv", "mapping": PATH_WRITE_MAPPING}
    case["logs"].append(entry)
    (root / "case" / "case.yaml").write_text(yaml.safe_dump(case, sort_keys=False))
    return root / "case" / "case.yaml"


def test_full_pushdown_resolves_a_path_written_against_the_whole_catalog(
    thrift_server: ThriftServer, tmp_path: Path
) -> None:
    """A write logged only by its path, into the folder of a table that is not yet a
    target: the embedded run resolves the path against every location of the catalog, so
    the table becomes a copy; the warehouse knows only the locations sent to it (the
    exposed objects' and the copies'), so the path is resolved here, after the statements
    that may write are fetched, and the evidence is the embedded run's."""
    case = _path_write_case(tmp_path)
    embedded = tmp_path / "embedded"
    assert main(["investigate", str(case), "--out", str(embedded)]) == 0
    copies = (embedded / "derived_copies.csv").read_text(encoding="utf-8")
    assert "mci.keystrokes,public_data.holidays,pat" in copies
    _same_csvs(embedded, _full_pushdown_of(thrift_server, case, "pathwrite", tmp_path))


def test_full_pushdown_asks_again_for_statements_the_writing_events_do_not_complete(
    thrift_server: ThriftServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled incident with a HiveServer2 log and a lineage record (text-only records
    that take the keys of the runs they describe): their statements are not complete from
    the events that say they may write, so the warehouse is asked again for every event of
    their principals (reconstruct/incomplete_candidates' INSERT, run there), and the
    evidence is the embedded run's."""
    import tests.test_hiveserver2 as hs2
    from forensics import pushdown_full

    embedded = hs2._investigate(tmp_path / "case", lineage=True)
    case = tmp_path / "case" / "case.yaml"
    sent: dict[str, int] = {}
    send = pushdown_full.Session.send

    def counted(self, name, columns, rows):
        rows = list(rows)
        sent[name] = len(rows)
        send(self, name, columns, rows)

    monkeypatch.setattr(pushdown_full.Session, "send", counted)
    out = _full_pushdown_of(thrift_server, case, "textonly", tmp_path)
    assert sent.get("incomplete_statements", 0) > 0  # asked again, by principal
    _same_csvs(embedded, out)


def test_full_pushdown_with_pseudonyms_and_literals_is_byte_identical(
    incident_in_warehouse: ThriftServer, embedded: Path, tmp_path: Path
) -> None:
    """--pseudonymize and --keep-literals change what the warehouse is asked (the literal
    redaction's parameter) and what is done here: both as the embedded run does them."""
    key = _pseudonym_key(tmp_path, b"f")
    options = ["--pseudonymize", str(key), "--keep-literals"]
    local = tmp_path / "local"
    assert main(["investigate", str(CASE), "--out", str(local), *options]) == 0
    for name in ("access_events.csv", "principals.csv"):  # the options change these
        assert (local / name).read_bytes() != (embedded / name).read_bytes(), name
    profiles = _sts_profiles(incident_in_warehouse, tmp_path, pushdown="full")
    out = tmp_path / "full"
    args = ["investigate", str(CASE), "--out", str(out), *options]
    assert main([*args, "--profile", "sts", "--profiles", str(profiles)]) == 0
    _same_csvs(local, out)
    assert json.loads((out / "manifest.json").read_text())["events"]["pushdown"] == "full"


def test_scope_sent_in_chunks_and_cached_is_byte_identical(
    incident_in_warehouse: ThriftServer, embedded: Path, tmp_path: Path, monkeypatch
) -> None:
    """The bundled incident's scope is small: with a chunk of 2 rows and every view of
    1 row or more cached, each view sent is a union of parts, cached by the server (and
    released at the end), and the evidence is still the embedded run's."""
    from forensics import pushdown_full

    monkeypatch.setattr(pushdown_full, "CHUNK_ROWS", 2)
    monkeypatch.setattr(pushdown_full, "CACHE_ROWS", 1)
    cached: list[str] = []
    cache = warehouse.HiveWarehouse.cache

    def counted(self: warehouse.HiveWarehouse, name: str) -> None:
        cached.append(name)
        cache(self, name)

    monkeypatch.setattr(warehouse.HiveWarehouse, "cache", counted)
    profiles = _sts_profiles(incident_in_warehouse, tmp_path, pushdown="full")
    out = tmp_path / "full"
    args = ["investigate", str(CASE), "--out", str(out)]
    assert main([*args, "--profile", "sts", "--profiles", str(profiles)]) == 0
    _same_csvs(embedded, out)
    assert {"forensics_windows", "forensics_baseline_members", "forensics_view_bases"} <= set(
        cached
    )


def test_ctrl_c_during_a_full_pushdown_run_is_one_line_and_exit_130(
    incident_in_warehouse: ThriftServer, tmp_path: Path, monkeypatch, capsys
) -> None:
    """Ctrl-C as the exposed accesses are about to come back (the server holding the
    session's cached views, the events dropped as duplicates among them): one line, exit
    code 130 (a shell's for SIGINT), no evidence folder, and the cached views released as
    the session closed."""
    cached_then: list[list[str]] = []
    cached_after: list[list[str]] = []
    run, close = warehouse.HiveWarehouse._run, warehouse.HiveWarehouse.close

    def interrupted(self: warehouse.HiveWarehouse, sql: str, params) -> pa.Table:
        if sql.startswith("SELECT * FROM forensics_exposed_access"):
            cached_then.append(list(self.cached))
            raise KeyboardInterrupt
        return run(self, sql, params)

    def closed(self: warehouse.HiveWarehouse) -> None:
        close(self)
        cached_after.append(list(self.cached))

    monkeypatch.setattr(warehouse.HiveWarehouse, "_run", interrupted)
    monkeypatch.setattr(warehouse.HiveWarehouse, "close", closed)
    profiles = _sts_profiles(incident_in_warehouse, tmp_path, pushdown="full")
    out = tmp_path / "full"
    args = ["investigate", str(CASE), "--out", str(out)]
    assert main([*args, "--profile", "sts", "--profiles", str(profiles)]) == 130
    assert capsys.readouterr().err == "forensics: interrupted; nothing was written\n"
    assert not out.exists()
    assert "forensics_dropped_events" in cached_then[0]
    assert cached_after == [[]]


def test_hostile_names_reach_the_thrift_server_as_themselves(
    incident_in_warehouse: ThriftServer,
) -> None:
    from forensics import pushdown_full

    columns = [("object", pa.string()), ("n", pa.int64())]
    rows = [(name, i) for i, name in enumerate(HOSTILE)]
    wh = warehouse.HiveWarehouse(incident_in_warehouse.profile(database="incident"))
    try:
        wh.define(pushdown_full.values_view("forensics_hostile", columns, rows))
        back = wh.query("SELECT object, n FROM forensics_hostile ORDER BY n", dialect="spark")
        assert [tuple(r.values()) for r in back.to_pylist()] == rows
        assert wh.query("SELECT count(*) AS n FROM events").column("n")[0].as_py() > 0
    finally:
        wh.close()


def test_only_the_sessions_own_views_are_cached_and_released(
    incident_in_warehouse: ThriftServer,
) -> None:
    from forensics import pushdown_full

    wh = warehouse.HiveWarehouse(incident_in_warehouse.profile(database="incident"))
    try:
        for name in ("events", "forensics_never_defined"):
            with pytest.raises(QueryError, match="not a temporary view of this session"):
                wh.cache(name)
        with pytest.raises(QueryError, match="refused"):
            wh.define("CACHE TABLE forensics_x")  # define() makes views only
        columns = [("object", pa.string()), ("n", pa.int64())]
        wh.define(pushdown_full.values_view("forensics_kept", columns, [("a", 1), ("b", 2)]))
        wh.cache("forensics_kept")
        assert wh.cached == ["forensics_kept"]
        back = wh.query("SELECT object, n FROM forensics_kept ORDER BY n", dialect="spark")
        assert back.to_pylist() == [{"object": "a", "n": 1}, {"object": "b", "n": 2}]
    finally:
        wh.close()
    assert wh.cached == []  # UNCACHE TABLE sent before the session closed


def test_rows_sent_stay_one_string_in_the_servers_optimized_plan(
    incident_in_warehouse: ThriftServer,
) -> None:
    """The rows of a view sent from here stay the JSON text `from_json` decodes when the
    view is read: the server's optimizer does not fold them into an array literal, which
    it would write out row by row into the plan of every query over the view (Spark's
    `OptimizeRand` decides `rand(0) >= 0`, the condition used before)."""
    from forensics import pushdown_full

    columns = [("object", pa.string()), ("n", pa.int64())]
    rows = [(f"db.t{i}", i) for i in range(pushdown_full.CACHE_ROWS)]
    wh = warehouse.HiveWarehouse(incident_in_warehouse.profile(database="incident"))
    try:
        wh.define(pushdown_full.values_view("forensics_many", columns, rows))
        wh.cache("forensics_many")
        cursor = wh.con.cursor()
        cursor.execute("EXPLAIN EXTENDED SELECT object FROM forensics_many WHERE n > 5")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.close()
        optimized = plan.split("== Optimized Logical Plan ==")[1]
        assert '[{"c0":"db.t0","c1":"0"},{"c0":"db.t1","c1":"1"}' in optimized, optimized[:2000]
        assert "[[db.t0,0],[db.t1,1]" not in optimized, optimized[:2000]
        back = wh.query("SELECT count(*) AS n FROM forensics_many WHERE n > 5", dialect="spark")
        assert back.column("n")[0].as_py() == len(rows) - 6
    finally:
        wh.close()


def test_a_cached_view_over_a_view_with_a_cte_read_twice_is_read_from_the_cache(
    incident_in_warehouse: ThriftServer,
) -> None:
    """A view whose CTE is read twice (reconstruct/exposed_access's `exposed_targets`) is
    sent without it: Spark gives such a CTE a new id at each analysis, so a cached view
    over it never matched its cached rows and every query reading it computed it again
    (the exposed accesses were scanned twice at 10,000,000 events). The server's own
    plan says the cached rows are read."""
    from forensics import pushdown_full

    wh = warehouse.HiveWarehouse(incident_in_warehouse.profile(database="incident"))
    try:
        session = pushdown_full.Session(wh, {}, False, None)
        wh.define(
            session._view(
                "forensics_twice",
                "WITH o AS (SELECT DISTINCT object FROM events WHERE object IS NOT NULL) "
                "SELECT object FROM o UNION ALL SELECT object FROM o",
            )
        )
        wh.define(session._view("forensics_over", "SELECT object FROM forensics_twice"))
        wh.cache("forensics_over")
        cursor = wh.con.cursor()
        cursor.execute("EXPLAIN SELECT * FROM forensics_over")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.close()
        assert "Scan In-memory table forensics_over" in plan, plan[:2000]
        assert "FileScan" not in plan.split("InMemoryRelation")[0], plan[:2000]
    finally:
        wh.close()


def test_full_pushdown_runs_only_in_a_utc_session(incident_in_warehouse: ThriftServer) -> None:
    """The session's time zone asked of the real server: UTC (as tests/spark_server.py
    starts it) passes; a session opened in New York time stops with what to set."""
    from pyhive import hive

    from forensics import pushdown_full

    wh = warehouse.HiveWarehouse(incident_in_warehouse.profile(database="incident"))
    try:
        pushdown_full.check_utc(pushdown_full.Session(wh, {}, False, None))
        wh.con.close()
        wh.con = hive.connect(  # the same server, a session in another zone
            host="127.0.0.1",
            port=incident_in_warehouse.port,
            auth="NOSASL",
            username="tester",
            configuration={"set:hiveconf:spark.sql.session.timeZone": "America/New_York"},
        )
        session = pushdown_full.Session(wh, {}, False, None)
        with pytest.raises(QueryError, match="time zone is America/New_York, not UTC; start"):
            pushdown_full.check_utc(session)
    finally:
        wh.close()
