"""The reconstruction queries on hand-made tables: deduplication, paths, views, classes."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb
import pyarrow as pa
import pytest

from forensics import engine, queries
from forensics.reconstruct import normalize_events
from forensics.schema import Event, events_table

T0 = int(datetime(2026, 6, 18, 10, 0, tzinfo=timezone.utc).timestamp() * 1000)
S = pa.string()
TS = pa.timestamp("ms")


def _event(**fields) -> Event:
    base = dict(
        event_id="e1",
        time_ms=T0,
        source_format="ranger-audit",
        source_file="a.log",
        source_line=1,
        engine="hive",
        principal="carl",
        principal_raw="carl",
        op="read",
        action="SELECT",
        object="mci.k",
        columns=None,
        path=None,
        result="allowed",
        policy_id=6,
        client_ip=None,
        session_id=None,
        query_id=None,
        query_text=None,
        event_count=1,
        dedup_key=None,
    )
    base.update(fields)
    return Event(**base)


def _engine(events: list[Event], windows: list[tuple] | None = None) -> duckdb.DuckDBPyConnection:
    con = engine.connect(threads=1)
    engine.load_arrow(con, "raw_events", events_table(events))
    engine.load_rows(
        con,
        "catalog_objects",
        [("object", S), ("type", S), ("location", S)],
        [
            ("mci.k", "table", "/w/mci.db/k"),
            ("mci.k2", "table", "/w/mci.db/k2"),
            ("mci.k_sub", "table", "/w/mci.db/k/sub"),
            ("mci.v", "view", None),
        ],
    )
    engine.load_rows(con, "view_bases", [("view", S), ("base", S)], [("mci.v", "mci.k")])
    start, end = datetime(2026, 6, 18, 9), datetime(2026, 6, 18, 13)
    engine.load_rows(
        con,
        "windows",
        [("object", S), ("start", TS), ("end", TS), ("opened_by", S), ("layer", S)],
        windows
        or [
            ("mci.k", start, end, "p", "policy"),
            ("mci.k_sub", start, end, "p", "policy"),
            ("mci.k2", start, end, "hdfs setPermission", "file"),
        ],
    )
    engine.load_rows(
        con,
        "baseline_objects",
        [("object", S), ("set_id", pa.int64())],
        [("mci.k", 0), ("mci.v", 1)],
    )
    engine.load_rows(
        con,
        "baseline_members",
        [("set_id", pa.int64()), ("principal", S)],
        [(0, "ana"), (1, "vic")],
    )
    engine.load_rows(con, "on_behalf", [("principal", S)], [("hive",)])
    engine.load_rows(
        con,
        "copies",
        [("object", S), ("created_at", TS), ("generation", pa.int64())],
        [
            ("a.copy", datetime(2026, 6, 18, 9, 30), 1),
            ("mci.k_sub", datetime(2026, 6, 18, 10, 30), 2),
        ],
    )
    normalize_events(con)
    queries.execute(con, "reconstruct/access")
    queries.execute(con, "reconstruct/exposed_access")
    queries.execute(con, "reconstruct/copy_targets")
    queries.execute(con, "reconstruct/classify")
    queries.execute(con, "reconstruct/classified")
    return con


def _classes(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.sql(
        "SELECT event_id, target, via, classification FROM classified ORDER BY ALL"
    ).fetchall()


def test_same_ranger_id_counts_once_and_first_file_wins() -> None:
    con = _engine(
        [
            _event(event_id="r1", dedup_key="r1", source_file="b.log"),
            _event(event_id="r1", dedup_key="r1", source_file="a.log", source_line=9),
        ]
    )
    assert con.sql("SELECT source_file, source_line FROM events").fetchall() == [("a.log", 9)]
    dups = queries.relation(con, "normalize/duplicates").fetchall()
    assert dups == [("b.log", 1)]


def test_repeated_keys_found_by_the_sort_drop_what_the_grouping_drops() -> None:
    """The embedded run finds the keys more than one event has by a sort
    (normalize/repeated_keys); normalize/events alone (the warehouse's way) groups them:
    both drop the same later copies: a key three times, a key twice, an event id repeated
    with no dedup key, and a dedup key equal to another event's id."""
    con = _engine(
        [
            _event(event_id="r1", dedup_key="r1", source_file="c.log", source_line=3),
            _event(event_id="r1", dedup_key="r1", source_file="a.log", source_line=2),
            _event(event_id="r1", dedup_key="r1", source_file="b.log", source_line=1),
            _event(event_id="r2", dedup_key="r2", source_file="b.log", source_line=2),
            _event(event_id="r2", dedup_key="r2", source_file="a.log", source_line=1),
            _event(event_id="r3", dedup_key="r3", source_file="a.log", source_line=4),
            _event(event_id="x", source_file="b.log", source_line=3),
            _event(event_id="x", source_file="a.log", source_line=5),
            _event(event_id="y", source_file="a.log", source_line=6),
            _event(event_id="q", dedup_key="z", source_file="a.log", source_line=7),
            _event(event_id="z", source_file="b.log", source_line=4),
        ]
    )
    later = [
        ("r1", "b.log", 1),
        ("r1", "c.log", 3),
        ("r2", "b.log", 2),
        ("x", "b.log", 3),
        ("z", "b.log", 4),
    ]
    assert con.sql("SELECT count(*) FROM repeated_keys").fetchall() == [(4,)]
    assert con.sql("SELECT * FROM dropped_events ORDER BY ALL").fetchall() == later
    con.execute("DROP TABLE repeated_keys")
    queries.execute(con, "normalize/events")
    assert con.sql("SELECT * FROM dropped_events ORDER BY ALL").fetchall() == later


def test_hdfs_open_in_both_logs_counts_once() -> None:
    common = dict(engine="hdfs", object=None, path="/w/mci.db/k/f0", principal="kim")
    con = _engine(
        [
            _event(event_id="h1", source_format="hdfs-audit", source_file="hdfs.log", **common),
            _event(event_id="r1", dedup_key="r1", time_ms=T0 + 400, **common),
            _event(
                event_id="h2",
                source_format="hdfs-audit",
                source_file="hdfs.log",
                source_line=2,
                time_ms=T0 + 1500,
                **common,
            ),
        ]
    )
    assert [r[0] for r in _classes(con)] == ["h1", "h2"]


def test_paths_resolve_to_the_longest_location_prefix() -> None:
    con = _engine(
        [
            _event(event_id="h1", engine="hdfs", object=None, path="/w/mci.db/k/ds=1/f0"),
            _event(event_id="h2", engine="hdfs", object=None, path="/w/mci.db/k/sub/f0"),
            _event(event_id="h3", engine="hdfs", object=None, path="/w/mci.db/k2/f0"),
            _event(event_id="h4", engine="hdfs", object=None, path="/w/mci.db/kk/f0"),
        ]
    )
    got = dict(con.sql("SELECT event_id, object FROM events").fetchall())
    assert got == {"h1": "mci.k", "h2": "mci.k_sub", "h3": "mci.k2", "h4": None}


def test_one_read_of_the_events_finds_the_accesses_two_reads_find() -> None:
    """`access_once` (exposed_access's one read, matching each event on its object or, with
    none, its path) gives the rows of `access_to` (a read by object, a read by path) for
    the same targets: by object, by path, through a view, a duplicate dropped, an object
    and a path both named, and a path spelled as a target's name (matched by path only)."""
    hdfs = dict(engine="hdfs", object=None, source_format="hdfs-audit", source_file="h.log")
    con = _engine(
        [
            _event(event_id="o1"),
            _event(event_id="o2", object="mci.v", principal="vic"),
            _event(event_id="o3", object="mci.k2", path="/w/mci.db/k/f0", query_text="x"),
            _event(event_id="o4", object="mci.k3"),
            _event(event_id="r1", dedup_key="r1", source_line=5),
            _event(event_id="r1", dedup_key="r1", source_line=6),
            _event(event_id="p1", path="/w/mci.db/k/ds=1/f0", **hdfs),
            _event(event_id="p2", path="/w/mci.db/k2/f0", source_line=2, **hdfs),
            _event(event_id="p3", path="/w/mci.db/kk/f0", source_line=3, **hdfs),
            _event(event_id="p4", path="mci.k", source_line=4, **hdfs),
            _event(event_id="p5", path=None, source_line=5, **hdfs),
        ]
    )
    for targets in ("exposed_targets", "copy_targets"):
        two = con.sql(f"SELECT * FROM access_to('{targets}') ORDER BY ALL").fetchall()
        one = con.sql(f"SELECT * FROM access_once('{targets}') ORDER BY ALL").fetchall()
        assert one == two
    found = con.sql("SELECT event_id, target, via FROM access_once('exposed_targets')")
    assert sorted(found.fetchall()) == [
        ("o1", "mci.k", "direct"),
        ("o2", "mci.k", "view:mci.v"),
        ("o3", "mci.k2", "direct"),
        ("p1", "mci.k", "path"),
        ("p2", "mci.k2", "path"),
        ("r1", "mci.k", "direct"),
    ]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_event(), [("e1", "mci.k", "direct", "exposure_enabled")]),
        (_event(principal="ana"), [("e1", "mci.k", "direct", "baseline")]),
        (_event(result="denied"), [("e1", "mci.k", "direct", "denied")]),
        (_event(op="metadata"), [("e1", "mci.k", "direct", "metadata")]),
        (_event(time_ms=T0 - 2 * 3600_000), [("e1", "mci.k", "direct", "outside_window")]),
        (_event(time_ms=T0 + 3 * 3600_000), [("e1", "mci.k", "direct", "outside_window")]),
        (_event(engine="trino"), [("e1", "mci.k", "trino", "exposure_enabled")]),
        (
            _event(engine="hdfs", object=None, path="/w/mci.db/k/f", principal="hive"),
            [("e1", "mci.k", "path", "on_behalf")],
        ),
        (_event(object="mci.v"), [("e1", "mci.k", "view:mci.v", "exposure_enabled")]),
        (_event(object="mci.v", principal="vic"), [("e1", "mci.k", "view:mci.v", "baseline")]),
        (_event(object="a.copy", principal="gus"), [("e1", "a.copy", "direct", "secondary")]),
        (_event(object="a.copy", op="write"), [("e1", "a.copy", "direct", "write")]),
        (_event(object="a.copy", time_ms=T0 - 3600_000), []),
        # an exposed object that later became a copy: its reads before the copy are not of it
        (_event(object="mci.k_sub"), [("e1", "mci.k_sub", "direct", "exposure_enabled")]),
        (
            _event(object="mci.k_sub", time_ms=T0 + 3600_000),
            [("e1", "mci.k_sub", "direct", "secondary")],
        ),
        (_event(object="mci.k3"), []),
        # a file-layer window lets in HDFS reads, not reads Hive's authorization decided
        (
            _event(engine="hdfs", object=None, path="/w/mci.db/k2/f"),
            [("e1", "mci.k2", "path", "exposure_enabled")],
        ),
        (_event(object="mci.k2"), [("e1", "mci.k2", "direct", "outside_window")]),
    ],
)
def test_classification(event: Event, expected: list[tuple]) -> None:
    assert _classes(_engine([event])) == expected


def test_overlapping_adjacent_and_open_windows_classify_each_access_once() -> None:
    """Windows of one object that overlap or touch count as one stretch; a gap between them
    is outside; an open window has no end; a file-layer window lets in HDFS reads only."""

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 6, 18, hour, minute)

    def ms(hour: int, minute: int = 0) -> int:
        return int(at(hour, minute).replace(tzinfo=timezone.utc).timestamp() * 1000)

    windows = [
        ("mci.k", at(9), at(10), "p", "policy"),
        ("mci.k", at(10), at(11), "p", "policy"),
        ("mci.k", at(10, 30), at(12), "p", "policy"),
        ("mci.k", at(14), None, "p", "policy"),
        ("mci.k", at(12), at(13), "hdfs setPermission", "file"),
    ]
    hdfs = dict(engine="hdfs", object=None, path="/w/mci.db/k/f0")
    con = _engine(
        [
            _event(event_id="a", time_ms=ms(9, 30)),
            _event(event_id="b", time_ms=ms(10)),
            _event(event_id="c", time_ms=ms(10, 45)),
            _event(event_id="d", time_ms=ms(12, 30)),
            _event(event_id="e", time_ms=ms(12, 30), source_format="hdfs-audit", **hdfs),
            _event(event_id="f", time_ms=ms(13, 30)),
            _event(event_id="g", time_ms=ms(15)),
        ],
        windows,
    )
    got = {e: c for e, _, _, c in _classes(con)}
    assert got == {
        "a": "exposure_enabled",
        "b": "exposure_enabled",
        "c": "exposure_enabled",
        "d": "outside_window",
        "e": "exposure_enabled",
        "f": "outside_window",
        "g": "exposure_enabled",
    }
    assert len(_classes(con)) == 7


# --- the categories of a read (reconstruct/access_details) ---------------------------------

#: Sensitivity rows: `db.mixed` has a `*` row and a column's row; `db.star` only `*` rows;
#: `db.odd` a `*` row and one whose column is missing (it applies to no read by column).
_SENSITIVITY = [
    ("db.mixed", "*", "contact"),
    ("db.mixed", "ssn", "identity"),
    ("db.star", "*", "health"),
    ("db.star", "*", "contact"),
    ("db.odd", "*", "contact"),
    ("db.odd", None, "health"),
]

#: (object read, the columns the log names, the categories of the read), written by hand.
CATEGORY_CASES = [
    ("db.mixed", "*", "contact;identity"),
    ("db.mixed", "ssn", "contact;identity"),
    ("db.mixed", "name;ssn", "contact;identity"),
    ("db.mixed", "name", "contact"),
    ("db.star", "name", "contact;health"),
    ("db.star", "*", "contact;health"),
    ("db.odd", "name", "contact"),
    ("db.odd", "*", "contact;health"),
    ("db.view", "name", "inherited"),  # no rows of its own: what it inherits
    ("db.none", "name", ""),
]


@pytest.mark.parametrize(("target", "columns", "categories"), CATEGORY_CASES)
def test_categories_of_a_read(target: str, columns: str, categories: str) -> None:
    con = engine.connect(memory_limit="256MB")
    con.execute(
        "CREATE TABLE classified AS SELECT 'e1' AS event_id, 'a.log' AS source_file, "
        "1 AS source_line, $target AS object, $target AS target, 'hive' AS engine, "
        "NULL::VARCHAR AS query_text, $columns AS log_columns, NULL::VARCHAR AS via_view, "
        "NULL::VARCHAR AS path",
        {"target": target, "columns": columns},
    )
    engine.load_rows(
        con, "sensitivity", [("object", S), ("column", S), ("category", S)], _SENSITIVITY
    )
    engine.load_rows(
        con, "object_categories", [("object", S), ("sensitivity", S)], [("db.view", "inherited")]
    )
    reads = [("query_text", S), ("database", S), ("engine", S), ("object", S)]
    engine.load_rows(con, "statement_reads", [*reads, ("columns", S), ("partitions", S)], [])
    engine.load_rows(con, "path_partitions", [("path", S), ("object", S), ("partition", S)], [])
    queries.execute(con, "reconstruct/access_details")
    rows = con.execute("SELECT columns, categories FROM access_details").fetchall()
    assert rows == [(columns, categories)]
