"""Trino query-completed events (`QueryCompletedEvent` as JSON, one per line).

One line gives one read event per input table and one write event for the output table.
Input columns are objects with `column` in current Trino and plain strings in older ones.
The Kafka event listener wraps the event: `{"eventPayload": <event>, "eventMetadata": {...}}`
(trinodb/trino `plugin/trino-kafka-event-listener`, `QueryCompletedEventWrapper`); log
shippers may add an envelope around the line (`forensics.ingest.layouts`).
"""

from __future__ import annotations

from datetime import datetime, timezone

from forensics.ingest.base import (
    BadLine,
    LineContext,
    NotRecord,
    json_object,
    principal_of,
    require,
)
from forensics.ingest.layouts import parse_within
from forensics.ingest.reader import local_to_epoch_ms
from forensics.names import trino_object
from forensics.schema import ALLOWED, DENIED, OP_READ, OP_WRITE, Event

FORMAT = "trino-event"


#: Keys that make a JSON object a Trino event rather than a shipper's envelope.
RECORD_KEYS = frozenset({"metadata", "context", "ioMetadata", "createTime", "eventPayload"})


def parse(text: str, ctx: LineContext) -> list[Event]:
    """The events of one query-completed event (bare or behind a known layout)."""
    return parse_within(text, ctx, _parse_bare, RECORD_KEYS)


def _parse_bare(text: str, ctx: LineContext) -> list[Event]:
    if not text.lstrip().startswith("{"):
        raise NotRecord("not a JSON object")
    record = json_object(text)
    payload = record.get("eventPayload")
    if isinstance(payload, dict) and "metadata" not in record:
        record = payload  # the Kafka event listener's wrapper
    metadata = _section(record, "metadata")
    context = _section(record, "context")
    io = record.get("ioMetadata") or {}
    if not isinstance(io, dict):
        raise BadLine("ioMetadata must be an object")
    user = str(require(context, "user"))
    query_id = str(require(metadata, "queryId"))
    time_ms = _time(require(record, "createTime"), ctx)
    failure = record.get("failureInfo") or {}
    error = (
        ((failure.get("errorCode") or {}).get("name") or "") if isinstance(failure, dict) else ""
    )
    result = DENIED if error == "PERMISSION_DENIED" else ALLOWED
    common = dict(
        time_ms=time_ms,
        source_format=FORMAT,
        source_file=ctx.source_file,
        source_line=ctx.line,
        engine="trino",
        principal=principal_of(user, "user"),
        principal_raw=str(context.get("principal") or user),
        path=None,
        result=result,
        policy_id=None,
        client_ip=context.get("remoteClientAddress") or None,
        session_id=None,
        query_id=query_id,
        query_text=metadata.get("query") or None,
        event_count=1,
        dedup_key=f"trino:{query_id}",
    )
    events = []
    inputs = io.get("inputs") or []
    if not isinstance(inputs, list):
        raise BadLine("ioMetadata.inputs must be a list")
    for i, item in enumerate(inputs):
        if not isinstance(item, dict):
            raise BadLine(f"ioMetadata.inputs[{i}] must be an object")
        events.append(
            Event(
                event_id=f"{query_id}#in{i}",
                op=OP_READ,
                action="SELECT",
                object=trino_object(item.get("catalogName"), item.get("schema"), item.get("table")),
                columns=_columns(item.get("columns")),
                **common,
            )
        )
    output = io.get("output")
    if isinstance(output, dict):
        events.append(
            Event(
                event_id=f"{query_id}#out",
                op=OP_WRITE,
                action=str(metadata.get("updateType") or "INSERT"),
                object=trino_object(
                    output.get("catalogName"), output.get("schema"), output.get("table")
                ),
                columns=None,
                **common,
            )
        )
    for i, event in enumerate(events):
        events[i] = event._replace(dedup_key=f"trino:{event.event_id}")
    return events


def _section(record: dict, key: str) -> dict:
    value = record.get(key)
    if not isinstance(value, dict):
        raise BadLine(f"missing field {key}")
    return value


def _time(value: object, ctx: LineContext) -> int:
    """`createTime`: ISO-8601 with zone, or epoch seconds as Jackson writes an Instant."""
    if isinstance(value, (int, float)):
        return local_to_epoch_ms(datetime.fromtimestamp(float(value), tz=timezone.utc), ctx.tz)
    try:
        return local_to_epoch_ms(datetime.fromisoformat(str(value).replace("Z", "+00:00")), ctx.tz)
    except ValueError:
        raise BadLine(f"createTime {str(value)[:40]!r} is not a time") from None


def _columns(value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return None
    names = [c.get("column") if isinstance(c, dict) else c for c in value]
    return ";".join(sorted({str(n).lower() for n in names if n}))
