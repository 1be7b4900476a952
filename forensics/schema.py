"""The normalized event schema, declared once and used by every stage.

One normalized event is one access of one object (or one storage path) by one principal,
as one log line recorded it. A Trino query that read three tables gives three events from
the same line; a Ranger CTAS gives one event for the source and one for the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import pyarrow as pa

#: What an event did, independent of the engine's own verb.
OP_READ = "read"  # returned data of the object
OP_WRITE = "write"  # created or changed the object or its files
OP_METADATA = "metadata"  # looked at metadata only (get_table, listStatus, SHOW, ...)
OP_OTHER = "other"  # anything else the engine checked (DROP, ALTER, admin)
OPS = (OP_READ, OP_WRITE, OP_METADATA, OP_OTHER)

ALLOWED = "allowed"
DENIED = "denied"


class Event(NamedTuple):
    """One normalized event; field order is the column order of `EVENT_SCHEMA`."""

    event_id: str
    time_ms: int  # UTC, milliseconds since the epoch
    source_format: str
    source_file: str  # relative to the case file
    source_line: int  # 1-based
    engine: str  # hive | hdfs | trino | metastore
    principal: str  # short, lower-case
    principal_raw: str
    op: str  # one of OPS
    action: str  # the engine's own verb: SELECT, open, get_table, ...
    object: str | None  # db.table, lower-case, when the log names one
    columns: str | None  # ';'-joined, when the log names columns
    path: str | None  # storage path, when the log names one
    result: str  # allowed | denied
    policy_id: int | None
    client_ip: str | None
    session_id: str | None
    query_id: str | None
    query_text: str | None  # raw statement; evidence only ever carries its redacted form
    event_count: int  # >1 when the source summarized repeated events
    dedup_key: str | None  # same key = same event delivered twice (Ranger id)
    perm: str | None = None  # owner:group:mode a permission change left (HDFS audit)
    via_principal: str | None = None  # the real user a proxied access went through (HDFS)


EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("time", pa.timestamp("ms")),
        ("source_format", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("engine", pa.string()),
        ("principal", pa.string()),
        ("principal_raw", pa.string()),
        ("op", pa.string()),
        ("action", pa.string()),
        ("object", pa.string()),
        ("columns", pa.string()),
        ("path", pa.string()),
        ("result", pa.string()),
        ("policy_id", pa.int64()),
        ("client_ip", pa.string()),
        ("session_id", pa.string()),
        ("query_id", pa.string()),
        ("query_text", pa.string()),
        ("event_count", pa.int64()),
        ("dedup_key", pa.string()),
        ("perm", pa.string()),
        ("via_principal", pa.string()),
    ]
)


class Quarantined(NamedTuple):
    """An input line that could not be parsed, and why."""

    source_file: str
    source_line: int
    format: str
    reason: str


QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("format", pa.string()),
        ("reason", pa.string()),
    ]
)


def arrow_table(rows: Sequence[Sequence[object]], schema: pa.Schema) -> pa.Table:
    """Columnar form of row tuples laid out as `schema` (empty when there are no rows)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    arrays = [pa.array(list(c), type=f.type) for c, f in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def events_table(rows: Sequence[Event]) -> pa.Table:
    """Parsed events in the schema every later stage reads."""
    return arrow_table(rows, EVENT_SCHEMA)


def quarantine_table(rows: Sequence[Quarantined]) -> pa.Table:
    """Quarantined lines in their schema."""
    return arrow_table(rows, QUARANTINE_SCHEMA)
