"""Generic Parquet logs read in bulk: Arrow reads only the mapped columns, DuckDB decodes.

A log that is already Parquet (an export of another system's access table) should cost
what reading its columns costs. Arrow reads the file a row group at a time, only the
columns the case's `mapping:` names, renamed to their event fields and cast to one typed
layout (`generic_input`), so the SQL (`queries/ingest/generic_*.sql`) is the same for
every mapping and no column name from the case ever reaches SQL text. DuckDB decodes the
rows it can decode exactly as `forensics/ingest/generic.py` would and hands the others
to it by row number; a file whose column types the SQL does not take (times as text,
floats, nanoseconds) is left to the row parser entirely. tests/test_ingest_bulk_generic.py
holds both paths to the same events.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from forensics import queries
from forensics.ingest.bulk import BulkRead, load_offsets
from forensics.ingest.generic import GenericLog, Record
from forensics.inputs import check_input, open_input

_BATCH = 65_536
#: The event fields the SQL reads as text, in `generic_input`'s column order.
_TEXT = (
    "principal", "object", "database", "table", "path", "columns", "action", "op", "result",
    "engine", "client_ip", "session_id", "query_id", "query_text", "event_id",
)  # fmt: skip
_INPUT = pa.schema(
    [
        ("row", pa.int64()),
        ("time_ts", pa.timestamp("us")),
        ("time_epoch", pa.int64()),
        *((name, pa.string()) for name in _TEXT),
        ("event_count", pa.int64()),
    ]
)


def read_generic_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, tz: ZoneInfo, log: GenericLog
) -> BulkRead | None:
    """Insert the events of the plain rows of Parquet file `path` into `raw_events`; the
    row count and the rows left to the row parser, or None (nothing inserted) when the
    file is not Parquet or its column types are not ones the SQL decodes."""
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
    if time_kind is None or not all(_takes(schema, log, f) for f in (*_TEXT, "event_count")):
        return None
    batches = pa.RecordBatchReader.from_batches(_INPUT, _typed(parquet, log))
    con.register("generic_input", batches)
    try:
        queries.execute(con, "ingest/generic_rows", time_kind=time_kind)
    finally:
        con.unregister("generic_input")
    if time_kind == "local":
        load_offsets(con, "ingest/generic_minutes", "generic_offsets", tz)
    else:
        con.sql("CREATE OR REPLACE TEMP TABLE generic_offsets (minute TIMESTAMP, offset_ms BIGINT)")
    queries.execute(con, "ingest/generic_events", source_file=rel, time_kind=time_kind)
    slow = [n for (n,) in queries.relation(con, "ingest/generic_slow_rows").fetchall()]
    return parquet.metadata.num_rows, slow


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
    if pa.types.is_integer(kind) and time_format in ("epoch_ms", "epoch_s"):
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
        return pa.types.is_integer(kind)
    if field == "result" and (pa.types.is_boolean(kind) or pa.types.is_integer(kind)):
        return True
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _typed(parquet: pq.ParquetFile, log: GenericLog) -> Iterator[pa.RecordBatch]:
    """The mapped columns, batch by batch in file order, under their event field names in
    `_INPUT`'s layout (unmapped fields null), each row numbered from 1."""
    columns = sorted(set(log.mapping.values()))
    first = 1
    for batch in parquet.iter_batches(batch_size=_BATCH, columns=columns):
        n = batch.num_rows
        arrays = [pa.array(np.arange(first, first + n, dtype=np.int64))]
        time = batch.column(log.mapping["time"])
        timestamp = pa.types.is_timestamp(time.type)
        arrays.append(
            _cast(time, pa.timestamp("us")) if timestamp else pa.nulls(n, pa.timestamp("us"))
        )
        arrays.append(pa.nulls(n, pa.int64()) if timestamp else time.cast(pa.int64()))
        for field in (*_TEXT, "event_count"):
            kind = _INPUT.field(field).type
            column = log.mapping.get(field)
            arrays.append(
                pa.nulls(n, kind) if column is None else _cast(batch.column(column), kind)
            )
        yield pa.RecordBatch.from_arrays(arrays, schema=_INPUT)
        first += n


def _cast(values: pa.Array, kind: pa.DataType) -> pa.Array:
    """`values` as `kind`: booleans as the parser's text of them (`True`), timestamps with
    a zone as their UTC wall clock."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_boolean(values.type) and pa.types.is_string(kind):
        return pc.if_else(values, "True", "False")
    if pa.types.is_timestamp(values.type) and values.type.tz is not None:
        values = values.cast(pa.timestamp(values.type.unit))  # the UTC wall clock
    return values.cast(kind)
