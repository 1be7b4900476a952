"""The coverage ledger counts events from minute buckets (`queries/coverage/minutes.sql`),
not from a copy of every event: the counts of any interval, the silences between a source's
events and its spans must be what counting the events one by one gives, also when an
interval cuts a minute between two of its events."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pytest

from forensics import queries
from forensics.engine import load_rows

EPOCH = datetime(1970, 1, 1)
HOUR = 3_600_000
_EVENTS = [
    ("source_format", pa.string()),
    ("source_file", pa.string()),
    ("time", pa.timestamp("ms")),
    ("event_count", pa.int64()),
    ("engine", pa.string()),
    ("op", pa.string()),
    ("event_id", pa.string()),
]
_FILES = [("source_file", pa.string()), ("source_format", pa.string()), ("file_set", pa.string())]
_AGENTS = [
    ("source_file", pa.string()),
    ("id", pa.string()),
    ("agent_host", pa.string()),
    ("agent", pa.string()),
    ("seq_num", pa.int64()),
]
START = int((datetime(2026, 6, 18, tzinfo=timezone.utc).timestamp()) * 1000)


def _naive(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


@pytest.fixture(scope="module")
def events() -> tuple[duckdb.DuckDBPyConnection, list[tuple[str, str, int]]]:
    """Events of two file sources, clustered so that many minutes hold several events and
    one source falls silent for hours; returned with (format, source, ms) of each."""
    rng = random.Random(21)
    rows, plain = [], []
    for n in range(3_000):
        fmt, fset, rel = rng.choice(
            [("hdfs-audit", "nn1", "nn1/hdfs-audit.log"), ("trino-event", "trino", "t.log")]
        )
        ms = START + rng.randrange(0, 6 * HOUR)
        if fmt == "trino-event" and START + 2 * HOUR <= ms < START + 9 * HOUR // 2:
            continue  # a silence of two hours and a half
        ms = ms - ms % 20_000 + rng.choice([0, 1, 7, 19_999]) if n % 3 else ms  # same minutes
        count = 3 if n % 50 == 0 else 1
        rows.append((fmt, rel, _naive(ms), count, "hdfs", "read", f"e{n}"))
        plain.append((fmt, fset, ms))
    con = duckdb.connect()
    load_rows(con, "raw_events", _EVENTS, rows)
    files = [("nn1/hdfs-audit.log", "hdfs-audit", "nn1"), ("t.log", "trino-event", "trino")]
    load_rows(con, "coverage_files", _FILES, files)
    load_rows(con, "coverage_agents", _AGENTS, [])
    queries.execute(con, "ingest/ranger_agents_table")
    queries.execute(con, "coverage/minutes")
    return con, plain


def _count(plain, fmt, src, lo, hi, other=False) -> int:
    return sum(
        1
        for f, s, ms in plain
        if lo <= ms < hi and (((f, s) != (fmt, src)) if other else ((f, s) == (fmt, src)))
    )


def test_no_copy_of_every_event(events) -> None:
    con, plain = events
    ((buckets, total),) = con.sql("SELECT count(*), sum(events) FROM coverage_minutes").fetchall()
    assert total == len(plain)
    assert buckets < len(plain) / 2  # minutes, not events


def test_any_interval_counts_exactly(events) -> None:
    """`busy` (every other source in [start, end)) against the events one by one, at
    boundaries that cut minutes, fall on an event or just after it."""
    con, plain = events
    rng = random.Random(5)
    instants = [ms for _, _, ms in plain]
    for _ in range(60):
        lo = rng.choice(instants) + rng.choice([0, 1, -1, 10_000])
        hi = lo + rng.choice([1, 2, 59_999, 60_000, HOUR, 5 * HOUR])
        ((got,),) = queries.relation(
            con,
            "coverage/busy",
            source_format="trino-event",
            source="trino",
            start=_naive(lo),
            end=_naive(hi),
        ).fetchall()
        assert got == _count(plain, "trino-event", "trino", lo, hi, other=True)


def test_silences_and_spans_as_counted_one_by_one(events) -> None:
    con, plain = events
    silences = queries.relation(con, "coverage/silences").fetchall()
    trino = sorted(ms for f, _, ms in plain if f == "trino-event")
    gaps = [(a, b) for a, b in zip(trino, trino[1:], strict=False) if b - a >= HOUR]
    assert [(s[2], s[3]) for s in silences if s[0] == "trino-event"] == gaps and gaps
    for fmt, src, start, end, before, after in silences:
        assert before == _count(plain, fmt, src, start - HOUR + 1, start + 1)
        assert after == _count(plain, fmt, src, end, end + HOUR)
    for fmt, src, first, last, total, first_hour, last_hour in queries.relation(
        con, "coverage/source_spans"
    ).fetchall():
        mine = [ms for f, s, ms in plain if (f, s) == (fmt, src)]
        assert (first, last, total) == (min(mine), max(mine), len(mine))
        assert first_hour == _count(plain, fmt, src, first, first + HOUR)
        assert last_hour == _count(plain, fmt, src, last - HOUR + 1, last + 1)
