"""Generic Parquet logs read where they lie: DuckDB scans the file, no copy of the events.

A log that is already Parquet (an export of another system's access table) should cost
what reading its columns costs, each time a stage reads them. Each file becomes a view
(`generic_file_N`): DuckDB's own Parquet scan of only the columns the case's `mapping:`
names, renamed to their event fields and cast to one typed layout (the `generic_input`
columns below), so the SQL (`queries/ingest/generic_*.sql`) is the same for every mapping
and no column name from the case ever reaches SQL text (the relation API quotes them).

At ingest one scan of each file lists the rows DuckDB cannot decode exactly as
`forensics/ingest/generic.py` would; the row parser reads those (they go into the engine's
table of parsed events). After the last file `finish_generic_views` makes `raw_events` a
view: the parsed events, and the decoded rows of every scanned file except those the
parser read. A file whose every row already holds its event's values (an export of
normalized events: lower-case names and words, no empty texts; `as_is`) is not decoded at
all: `generic_plain_events` reads its events straight from its columns, so that each
reader's filters and join keys reach the Parquet scan as they do for the engine's own
normalized events. Each stage then reads only the columns and rows it needs straight from
the Parquet (projection and filters pushed into the scan, both cores), and memory does not
grow with the log. A file whose column types the SQL does not take (times as text,
floats, nanoseconds) is left to the row parser entirely. tests/test_ingest_bulk_generic.py
holds both paths to the same events.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from forensics import queries
from forensics.engine import load_rows
from forensics.ingest.bulk import BulkRead
from forensics.ingest.generic import GenericLog, Record
from forensics.inputs import check_input, open_input

_BATCH = 65_536
#: The event fields the SQL reads as text, in `generic_input`'s column order (`bulk_csv` too).
TEXT_FIELDS = (
    "principal", "object", "database", "table", "path", "columns", "action", "op", "result",
    "engine", "client_ip", "session_id", "query_id", "query_text", "event_id",
)  # fmt: skip


def start_generic(con: duckdb.DuckDBPyConnection) -> None:
    """Empty the tables that record the scanned files (a new ingest starts)."""
    queries.execute(con, "ingest/generic_start")


def read_generic_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, tz: ZoneInfo, log: GenericLog
) -> BulkRead | None:
    """Record Parquet file `path` as a scanned file of `raw_events` (`finish_generic_views`
    makes the view); the row count and the rows left to the row parser, or None (nothing
    recorded) when the file is not Parquet or its column types are not ones the SQL
    decodes."""
    with open_input(path) as f:
        if f.read(4) != b"PAR1":
            return None
    check_input(path)
    try:
        parquet = pq.ParquetFile(path)
    except Exception:  # noqa: BLE001 - the row parser names the damage in its own error
        return None
    schema = parquet.schema_arrow
    log.check_columns(set(schema.names), rel)
    time_kind = _time_kind(schema.field(log.mapping["time"]).type, log.time_format)
    if time_kind is None or not all(_takes(schema, log, f) for f in (*TEXT_FIELDS, "event_count")):
        return None
    names = {name.lower() for name in schema.names}
    if len(names) != len(schema.names) or "file_row_number" in names:
        return None  # DuckDB binds column names without case: the parser reads the file
    typed = _typed(con, path, rel, log, time_kind, schema)
    _constants(typed, None, False, False).create_view("generic_input", replace=True)
    queries.execute(con, "ingest/generic_rows")
    ((slow, object_plain, principal_plain, as_is),) = queries.relation(
        con, "ingest/generic_slow_rows"
    ).fetchall()
    minutes: list[tuple[str, datetime, int]] = []
    offset: int | None = 0
    if time_kind == "local":
        offset, minutes = _offsets(con, rel, tz)
    name = f"generic_file_{len(queries.relation(con, 'ingest/generic_files').fetchall())}"
    _constants(typed, offset, object_plain, principal_plain).create_view(name, replace=True)
    s = pa.string()
    direct = bool(as_is and object_plain and principal_plain and offset is not None)
    load_rows(
        con,
        "generic_new_file",
        [("name", s), ("source_file", s), ("as_is", pa.bool_()), ("time_kind", s),
         ("offset_ms", pa.int64())],
        [(name, rel, direct, time_kind, offset)],
    )  # fmt: skip
    load_rows(con, "generic_new_slow", [("source_file", s), ("row", pa.int64())],
              [(rel, n) for n in slow])  # fmt: skip
    load_rows(
        con,
        "generic_new_offsets",
        [("source_file", s), ("minute", pa.timestamp("us")), ("offset_ms", pa.int64())],
        minutes,
    )
    queries.execute(con, "ingest/generic_file_done")
    return parquet.metadata.num_rows, slow


def finish_generic_views(con: duckdb.DuckDBPyConnection) -> None:
    """When files were scanned: `raw_events` becomes a view of the parsed events (the table,
    renamed `parsed_events`), the decoded rows of the scanned files, and the events of the
    files whose rows are already events, read as they lie (`generic_plain_events`: no
    decoding at each read, and the readers' filters reach the Parquet scan)."""
    files = queries.relation(con, "ingest/generic_files").fetchall()
    if not files:
        return
    queries.execute(con, "ingest/generic_plain_events")
    direct = [
        con.table_function("generic_plain_events", [name, kind, offset])
        for name, as_is, kind, offset in files
        if as_is
    ]
    decoded = [con.view(name) for name, as_is, _, _ in files if not as_is]
    first = files[0][0]  # each view made even when no file needs it (empty, its columns)
    none_direct = [con.table_function("generic_plain_events", [first, "utc", 0])]
    _union(direct or none_direct, empty=not direct).create_view("generic_direct", replace=True)
    _union(decoded or [con.view(first)], empty=not decoded).create_view(
        "generic_input", replace=True
    )
    queries.execute(con, "ingest/generic_rows")
    ((exceptions,),) = queries.relation(con, "ingest/generic_exceptions").fetchall()
    queries.execute(con, "ingest/generic_kept" if exceptions else "ingest/generic_kept_all")
    queries.execute(con, "ingest/generic_decode")
    queries.execute(con, "ingest/generic_events")


def _union(relations: list[duckdb.DuckDBPyRelation], empty: bool) -> duckdb.DuckDBPyRelation:
    """The rows of all `relations` (none of them when `empty`: the first one's columns)."""
    union = relations[0]
    for relation in relations[1:]:
        union = union.union(relation)
    return union.limit(0) if empty else union


def _offsets(
    con: duckdb.DuckDBPyConnection, rel: str, tz: ZoneInfo
) -> tuple[int | None, list[tuple[str, datetime, int]]]:
    """The UTC offset (ms) of every local time of the file when it is one (most files: a
    zone without a change inside the file's span); else None and the offset of each
    minute, as the parser reads a time (`fold=0`: an ambiguous time is its first
    occurrence, a time in a gap reads with the offset before)."""
    minutes = [m for (m,) in queries.relation(con, "ingest/generic_minutes").fetchall()]
    offsets = [_offset_ms(m, tz) for m in minutes]
    if len(set(offsets)) <= 1:
        return (offsets[0] if offsets else 0), []
    return None, [(rel, m, o) for m, o in zip(minutes, offsets, strict=True)]


def _constants(
    typed: duckdb.DuckDBPyRelation, offset: int | None, object_plain: bool, principal_plain: bool
) -> duckdb.DuckDBPyRelation:
    """`typed` with what holds for the whole file: its UTC offset in ms (None: per minute,
    from generic_offsets), and whether its objects and principals need no decoding."""
    constant, kind = duckdb.ConstantExpression, duckdb.sqltype
    return typed.select(
        duckdb.StarExpression(),
        constant(offset).cast(kind("BIGINT")).alias("offset_ms"),
        constant(object_plain).cast(kind("BOOLEAN")).alias("object_plain"),
        constant(principal_plain).cast(kind("BOOLEAN")).alias("principal_plain"),
    )


def _offset_ms(minute: datetime, tz: ZoneInfo) -> int:
    offset = minute.replace(tzinfo=tz).utcoffset() or timedelta(0)
    return offset // timedelta(milliseconds=1)


def slow_records(path: Path, log: GenericLog, rows: list[int]) -> Iterator[tuple[int, Record]]:
    """The rows `rows` (1-based, ascending) of Parquet file `path`, as the row parser's
    records (only the mapped columns: the parser reads no others)."""
    if not rows:
        return
    wanted = np.asarray(rows, dtype=np.int64)
    columns = sorted(set(log.mapping.values()))
    first = 1
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH, columns=columns):
        lo, hi = np.searchsorted(wanted, [first, first + batch.num_rows])
        for number in wanted[lo:hi].tolist():
            yield number, batch.slice(number - first, 1).to_pylist()[0]
        first += batch.num_rows
        if hi == len(wanted):
            return


def _time_kind(kind: pa.DataType, time_format: str | None) -> str | None:
    """How the SQL reads the time column, or None when only the row parser can: a
    timestamp is read as the parser reads a datetime (whatever `time_format` says); whole
    numbers only as epoch_ms or epoch_s."""
    if pa.types.is_timestamp(kind):
        if kind.unit == "ns":
            return None  # Python's datetime has no nanoseconds: the parser decides
        return "utc" if kind.tz is not None else "local"
    if _whole(kind) and time_format in ("epoch_ms", "epoch_s"):
        return time_format
    return None


def _takes(schema: pa.Schema, log: GenericLog, field: str) -> bool:
    """Whether the SQL decodes the mapped column of `field` as the parser would: text as
    text; `event_count` as a whole number; `result` also as a boolean or a whole number
    (the parser reads their text: True, 1)."""
    column = log.mapping.get(field)
    if column is None:
        return True
    kind = schema.field(column).type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if field == "event_count":
        return _whole(kind)
    if field == "result" and (pa.types.is_boolean(kind) or _whole(kind)):
        return True
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _whole(kind: pa.DataType) -> bool:
    """A whole number the engine holds as BIGINT (an unsigned 64-bit one may not fit)."""
    return pa.types.is_integer(kind) and kind != pa.uint64()


def _typed(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    rel: str,
    log: GenericLog,
    time_kind: str,
    schema: pa.Schema,
) -> duckdb.DuckDBPyRelation:
    """DuckDB's scan of `path`: the mapped columns under their event field names (unmapped
    fields null), each row numbered from 1, with the file's name and time kind."""
    column, constant = duckdb.ColumnExpression, duckdb.ConstantExpression

    def typed(expression, kind: str):
        return expression.cast(duckdb.sqltype(kind))

    def null(kind: str):
        return typed(constant(None), kind)

    time = column(log.mapping["time"])
    timestamp = time_kind in ("local", "utc")
    fields = [
        (column("file_row_number") + constant(1)).alias("row"),
        (typed(time, "TIMESTAMP") if timestamp else null("TIMESTAMP")).alias("time_ts"),
        (null("BIGINT") if timestamp else typed(time, "BIGINT")).alias("time_epoch"),
    ]
    for field in (*TEXT_FIELDS, "event_count"):
        name = log.mapping.get(field)
        kind = "BIGINT" if field == "event_count" else "VARCHAR"
        if name is None:
            fields.append(null(kind).alias(field))
        elif field == "result" and pa.types.is_boolean(_value_type(schema.field(name).type)):
            # the parser reads a boolean as Python's text of it (True)
            fields.append(
                duckdb.CaseExpression(column(name), constant("True"))
                .when(~column(name), constant("False"))
                .alias(field)
            )
        else:
            fields.append(typed(column(name), kind).alias(field))
    fields.append(constant(rel).alias("source_file"))
    fields.append(constant(time_kind).alias("time_kind"))
    scan = con.read_parquet(str(path), file_row_number=True)
    return scan.select(*fields)


def _value_type(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind
