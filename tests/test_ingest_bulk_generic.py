"""Generic Parquet logs: the bulk reader (forensics/ingest/bulk_generic.py) gives exactly the
events and quarantine of the row parser (forensics/ingest/generic.py), row for row.

The rows are drawn from values at the edges of each rule (whitespace Python strips, names
with realms and backquotes, non-ASCII verbs, results in and out of the known words, times
in DST gaps and folds, summarized and invalid counts); the parser is the referee, run by
disabling the bulk reader.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics import ingest as ingest_module
from forensics.case import load_case
from forensics.ingest import ingest
from tests.generic_cases import bulk_and_parser, generic_case

PRINCIPALS = ["alice", "Alice@CORP.EXAMPLE.COM", "svc_etl/host.example.com@R", " bob", "bob\t",
              "bob\u00a0", "j\u00fcrgen", "@x", "", None]  # fmt: skip
OBJECTS = ["mci.keystrokes", "MCI.Screens", "hive.mci.chats", "a.", "a..b", "`mci`.`k`",
           "mci.k ", "mci", "x.y-z", "", None]  # fmt: skip
DATABASES = ["mci", "MCI", "m-c", None]
TABLES = ["k", "K2", "t t", None]
PATHS = ["/warehouse/mci.db/k/ds=1/0", " /p", None]
ACTIONS = ["SELECT", "select * from", "getObject", "get_object", "DESCRIBE", "drop",
           "select_x", "\u017felect", "insert", "", None]  # fmt: skip
OPS = ["READ", "metadata", "peek", "", None]
RESULTS = ["Allowed", "DENIED", "1", "0", "maybe", "ok", "", None]
COLUMNS = ["a, B;c", ",,", "x y", "\u00e9", "msg_text", None]
TEXTS = ["q1", " q2", "SELECT 1\n", "s\u00e9lect", "", None]
IDS = ["e1", "e2", " e3", None]
COUNTS = [1, 3, 0, -1, None]
TIMES = [
    datetime(2026, 6, 18, 10, 45, 1, 123456),
    datetime(2026, 3, 8, 2, 30),  # in the spring-forward gap of America/Los_Angeles
    datetime(2026, 11, 1, 1, 30),  # in the fall-back fold
    datetime(1969, 12, 31, 23, 0),
    None,
]
EPOCHS = [1781779500123, 0, -5, None]

POOLS = {
    "who": PRINCIPALS, "obj": OBJECTS, "db": DATABASES, "tbl": TABLES, "path": PATHS,
    "verb": ACTIONS, "kind": OPS, "status": RESULTS, "cols": COLUMNS, "sql": TEXTS, "id": IDS,
    "n": COUNTS, "ts": TIMES, "ms": EPOCHS, "engine": ["Hive", "spark", "H\u0130VE", "", None],
    "ip": ["10.0.0.1", " 10.0.0.2", None],
}  # fmt: skip
#: A row the bulk reader decodes itself (each pool's first value is plain).
PLAIN = {name: pool[0] for name, pool in POOLS.items()}
#: Rows drawn anywhere in the pools, or plain rows with one or two fields varied (so that
#: both the engine's decoding and the hand-over to the parser are exercised in one file).
row = st.one_of(
    st.fixed_dictionaries({name: st.sampled_from(pool) for name, pool in POOLS.items()}),
    st.dictionaries(
        st.sampled_from(sorted(POOLS)), st.integers(0, 9), max_size=2
    ).map(lambda picks: {n: POOLS[n][i % len(POOLS[n])] if n in picks else PLAIN[n]
                         for n in POOLS for i in [picks.get(n, 0)]}),
)  # fmt: skip
MAPPING = {
    "principal": "who", "object": "obj", "database": "db", "table": "tbl", "path": "path",
    "action": "verb", "op": "kind", "result": "status", "columns": "cols", "query_text": "sql",
    "event_id": "id", "event_count": "n", "engine": "engine", "client_ip": "ip",
}  # fmt: skip


def _case(folder: Path, table: pa.Table, mapping: dict, tz: str, time_format: str | None) -> Path:
    def write(path: Path) -> None:
        pq.write_table(table, path, row_group_size=7)

    return generic_case(folder, "access.parquet", write, mapping, tz, time_format, "bulk-generic")


def _both(case: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple, tuple]:
    """(events, quarantine, counts) by the bulk reader and by the row parser."""
    return bulk_and_parser(case, monkeypatch, "read_generic_parquet")


def _table(rows: list[dict], time_type: pa.DataType, time_key: str) -> pa.Table:
    columns = {name: [r[name] for r in rows] for name in rows[0] if name not in ("ts", "ms")}
    table = pa.table({k: pa.array(v, pa.int64() if k == "n" else pa.string())
                      for k, v in columns.items()})  # fmt: skip
    times = [r[time_key] for r in rows]
    if time_key == "ts" and getattr(time_type, "tz", None):
        times = [t and t.replace(tzinfo=timezone.utc) for t in times]
    return table.append_column("t", pa.array(times, time_type))


@pytest.mark.parametrize(
    ("time_type", "time_key", "time_format"),
    [
        (pa.timestamp("us"), "ts", None),
        (pa.timestamp("ms", tz="UTC"), "ts", "epoch_ms"),  # a timestamp's format is its own
        (pa.int64(), "ms", "epoch_ms"),
        (pa.int64(), "ms", "epoch_s"),
    ],
    ids=["naive", "aware", "epoch_ms", "epoch_s"],
)
@pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles"])
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(row, min_size=1, max_size=40))
def test_bulk_reader_and_row_parser_agree(
    rows, tz, time_type, time_key, time_format, tmp_path_factory, monkeypatch
) -> None:
    folder = tmp_path_factory.mktemp("generic")
    table = _table(rows, time_type, time_key)
    case = _case(folder, table, dict(MAPPING, time="t"), tz, time_format)
    bulk, parser = _both(case, monkeypatch)
    assert bulk == parser


def _rows_asked_of_the_parser(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row numbers the row parser is asked for (`slow_records`), filled as it runs."""
    asked: list[int] = []
    real = ingest_module.slow_records

    def spy(path, log, rows):
        asked.extend(rows)
        return real(path, log, rows)

    monkeypatch.setattr(ingest_module, "slow_records", spy)
    return asked


def test_plain_rows_are_read_by_the_engine_and_odd_ones_by_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk reader really reads: of a plain row and an odd one (a principal with a
    trailing space), the parser is asked only for the odd one."""
    plain = {"who": "alice", "obj": "mci.k", "ts": datetime(2026, 6, 18, 10, 0)}
    odd = dict(plain, who="bob ")
    table = pa.table({
        "who": [plain["who"], odd["who"]], "obj": ["mci.k", "mci.k"],
        "t": pa.array([plain["ts"], odd["ts"]], pa.timestamp("us")),
    })  # fmt: skip
    case = _case(tmp_path, table, {"time": "t", "principal": "who", "object": "obj"}, "UTC", None)
    asked = _rows_asked_of_the_parser(monkeypatch)
    result = ingest(load_case(case))
    assert asked == [2]
    assert [e["principal"] for e in result.events.to_pylist()] == ["alice", "bob"]
    assert result.files[0].lines == 2 and result.files[0].parsed == 2


#: Every character Python's str.strip() removes, and characters beside the printable ASCII
#: range the engine's first test takes without a pattern ('!' to '~'): controls that are
#: not whitespace, DEL, the space, non-ASCII letters and marks.
STRIPPED = [chr(c) for c in range(0x110000) if chr(c).isspace()]
EDGES = ["\x01", "\x1b", "\x7f", "\x80", "!", "~", "\u00e9", "\u0301", "\u200b", "\ufeff"]


def test_text_edges_are_stripped_as_the_parser_strips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts beginning or ending with each character Python strips, or with a character
    at the edge of the engine's printable-ASCII test, give the row parser's events; the
    stripped ones are handed to the parser, the others decoded by the engine."""
    values = [v for c in STRIPPED + EDGES for v in (f"{c}q1", f"q1{c}", f"{c}", f"{c}q{c}")]
    table = pa.table({
        "who": ["alice"] * len(values), "obj": ["mci.k"] * len(values), "sql": values,
        "t": pa.array([datetime(2026, 6, 18, 10, 0)] * len(values), pa.timestamp("us")),
    })  # fmt: skip
    mapping = {"time": "t", "principal": "who", "object": "obj", "query_text": "sql"}
    case = _case(tmp_path, table, mapping, "UTC", None)
    asked = _rows_asked_of_the_parser(monkeypatch)
    bulk, parser = _both(case, monkeypatch)
    assert bulk == parser and len(bulk[0]) == len(values)
    assert asked == [n for n, v in enumerate(values, 1) if v != v.strip()]


def test_text_times_are_left_to_the_parser(tmp_path: Path, monkeypatch) -> None:
    """Times written as text (ISO-8601 or a strftime layout) are the parser's alone."""
    table = pa.table({"t": ["2026-06-18T10:00:00Z"], "who": ["alice"], "obj": ["mci.k"]})
    case = _case(tmp_path, table, {"time": "t", "principal": "who", "object": "obj"}, "UTC", None)
    bulk, parser = _both(case, monkeypatch)
    assert bulk == parser and len(bulk[0]) == 1


def test_a_plain_parquet_log_is_scanned_not_copied(tmp_path: Path) -> None:
    """The engine holds no copy of a Parquet log it decodes: `raw_events` is a view over
    the file (and the parsed events, none here), read again by each stage."""
    from forensics import engine
    from forensics.ingest import ingest_into

    table = pa.table({
        "who": ["alice", "Bob@CORP"], "obj": ["mci.k", "Hive.MCI.K"],
        "t": pa.array([datetime(2026, 6, 18, 10, 0), datetime(2026, 6, 18, 11, 0)],
                      pa.timestamp("us")),
    })  # fmt: skip
    case = _case(tmp_path, table, {"time": "t", "principal": "who", "object": "obj"}, "UTC", None)
    con = engine.connect()
    try:
        (counts,) = ingest_into(con, load_case(case))
        found = con.sql(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_name IN ('raw_events', 'parsed_events')"
        )
        kinds = dict(found.fetchall())
        assert kinds == {"raw_events": "VIEW", "parsed_events": "BASE TABLE"}
        assert con.sql("SELECT count(*) FROM parsed_events").fetchall() == [(0,)]
        rows = con.sql(
            "SELECT principal, object, source_line FROM raw_events ORDER BY 3"
        ).fetchall()
        assert rows == [("alice", "mci.k", 1), ("bob", "mci.k", 2)]
        assert (counts.lines, counts.parsed, counts.quarantined) == (2, 2, 0)
    finally:
        con.close()


#: A row whose every field is already its event's value (`generic_plain_events` reads such a
#: file as it lies), and one field at a time set to a value that is not (the file is then
#: decoded): each gives the row parser's events either way.
AS_IS = {"who": "alice", "obj": "mci.k", "path": "/w/k/0", "verb": "SELECT", "kind": "read",
         "status": "denied", "sql": "q1", "id": "e1", "n": 2, "engine": "hive",
         "ip": "10.0.0.1", "sess": "s1", "qid": "q-1"}  # fmt: skip
NOT_AS_IS = [("obj", ""), ("path", ""), ("cols", "a"), ("ip", ""), ("sess", ""), ("qid", ""),
             ("sql", ""), ("id", None), ("id", ""), ("verb", ""), ("verb", None),
             ("engine", "Hive"), ("engine", ""), ("kind", "READ"), ("kind", None),
             ("status", "Allowed"), ("status", "1"), ("n", None), ("who", "Bob@X"),
             ("obj", "Hive.MCI.K"), ("who", " bob")]  # fmt: skip
AS_IS_MAPPING = {
    "principal": "who", "object": "obj", "path": "path", "action": "verb", "op": "kind",
    "result": "status", "query_text": "sql", "event_id": "id", "event_count": "n",
    "engine": "engine", "client_ip": "ip", "session_id": "sess", "query_id": "qid",
    "columns": "cols",
}  # fmt: skip


@pytest.mark.parametrize(
    ("time_type", "time_format", "tz"),
    [
        (pa.timestamp("us"), None, "America/Los_Angeles"),
        (pa.timestamp("ms", tz="UTC"), None, "UTC"),
        (pa.int64(), "epoch_ms", "UTC"),
        (pa.int64(), "epoch_s", "Europe/Paris"),
    ],
    ids=["local", "aware", "epoch_ms", "epoch_s"],
)
@pytest.mark.parametrize("change", [None, *NOT_AS_IS], ids=lambda c: repr(c))
def test_a_log_already_of_events_is_read_as_it_lies(
    change, time_type, time_format, tz, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose rows all hold their events' values is read straight from its columns
    (generic_files.as_is), any other decoded; both give the parser's events, the row with
    the change among plain rows."""
    from forensics import engine
    from forensics.ingest import ingest_into

    rows = [dict(AS_IS, id=f"e{i}", cols=None) for i in range(3)]
    if change is not None:
        rows[1][change[0]] = change[1]
    moment = datetime(2026, 6, 18, 10, 45, 1, 123456)
    if pa.types.is_integer(time_type):
        stamp = moment.replace(tzinfo=timezone.utc).timestamp()
        times = [int(stamp * 1000) if time_format == "epoch_ms" else int(stamp)] * 3
    else:
        times = [moment.replace(tzinfo=timezone.utc) if time_type.tz else moment] * 3
    table = pa.table({k: pa.array([r[k] for r in rows], pa.int64() if k == "n" else pa.string())
                      for k in rows[0]})  # fmt: skip
    table = table.append_column("t", pa.array(times, time_type))
    case = _case(tmp_path, table, dict(AS_IS_MAPPING, time="t"), tz, time_format)
    con = engine.connect()
    try:
        ingest_into(con, load_case(case))
        ((as_is,),) = con.sql("SELECT as_is FROM generic_files").fetchall()
    finally:
        con.close()
    assert as_is is (change is None)
    bulk, parser = _both(case, monkeypatch)
    assert bulk == parser and len(bulk[0]) == 3 - (change in (("who", ""),))


@pytest.mark.parametrize(
    ("times", "one_offset"),
    [
        ([datetime(2026, 3, 8, 1, 30), datetime(2026, 3, 8, 3, 30)], False),  # spring forward
        ([datetime(2026, 11, 1, 1, 59), datetime(2026, 11, 1, 2, 0)], False),  # fall back
        ([datetime(2026, 3, 8, 3, 0), datetime(2026, 4, 7, 3, 0)], True),  # a month, one offset
        ([datetime(2026, 1, 1), datetime(2026, 6, 1)], False),  # longer than a month: scanned
    ],
)
def test_local_times_across_an_offset_change_take_each_minute_s_offset(
    times, one_offset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose local times all share one UTC offset is read with it (as it lies,
    being otherwise as_is); one whose minutes cross a change (or span more than a month)
    is read with each minute's; both give the parser's events."""
    from forensics import engine
    from forensics.ingest import ingest_into

    n = len(times)
    rows = [dict(AS_IS, id=f"e{i}", cols=None) for i in range(n)]
    table = pa.table({k: pa.array([r[k] for r in rows], pa.int64() if k == "n" else pa.string())
                      for k in rows[0]})  # fmt: skip
    table = table.append_column("t", pa.array(times, pa.timestamp("us")))
    case = _case(tmp_path, table, dict(AS_IS_MAPPING, time="t"), "America/Los_Angeles", None)
    con = engine.connect()
    try:
        ingest_into(con, load_case(case))
        ((as_is, offset),) = con.sql("SELECT as_is, offset_ms FROM generic_files").fetchall()
    finally:
        con.close()
    assert as_is is one_offset and (offset is not None) is one_offset
    bulk, parser = _both(case, monkeypatch)
    assert bulk == parser and len(bulk[0]) == n
