"""Rows streamed out of the engine and loaded back batch by batch (engine.stream_rows,
engine.load_batches): the same rows in the same order as loading them whole, also while
the source query is still streaming on the same connection."""

from __future__ import annotations

import pyarrow as pa

from forensics import engine
from forensics.sqlcolumns import ColumnReader, TableSchema

SCHEMA = [("n", pa.int64()), ("text", pa.string())]


def test_streamed_rows_come_in_order_in_bounded_batches() -> None:
    con = engine.connect(memory_limit="256MB")
    relation = con.sql("SELECT range AS n, 'row ' || range AS text FROM range(10) ORDER BY n")
    batches = list(engine.stream_rows(relation, size=4))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert [row for batch in batches for row in batch] == [(i, f"row {i}") for i in range(10)]


def test_batches_computed_from_a_live_stream_load_like_the_whole() -> None:
    con = engine.connect(memory_limit="256MB")
    con.sql("CREATE TABLE source AS SELECT range AS n FROM range(100000)")
    stream = engine.stream_rows(con.sql("SELECT n FROM source ORDER BY n DESC"), size=1000)
    doubled = ([(n * 2, str(n)) for (n,) in batch] for batch in stream)
    engine.load_batches(con, "loaded", SCHEMA, doubled)
    whole = con.sql("SELECT n * 2, CAST(n AS VARCHAR) FROM source ORDER BY n DESC").fetchall()
    assert con.sql("SELECT * FROM loaded").fetchall() == whole
    engine.load_batches(con, "loaded", SCHEMA, [])  # replaced, empty, with its columns
    assert con.sql("SELECT count(*) FROM loaded").fetchall() == [(0,)]
    assert [c for c, *_ in con.sql("DESCRIBE loaded").fetchall()] == ["n", "text"]


def test_a_reader_that_does_not_remember_gives_the_same_answers() -> None:
    schema = TableSchema({"db.t": ["a", "b"]}, {}, {})
    text = "SELECT a FROM db.t"
    remembering, forgetting = ColumnReader(schema), ColumnReader(schema, remember=False)
    assert forgetting.read(text, "db") == remembering.read(text, "db") is not None
    assert forgetting.read(text, "db") == remembering.read(text, "db")
    assert not forgetting._cache and remembering._cache
