"""Hive `LineageLogger` records: one JSON object per statement, in a log of its own.

Hive's post-execution hook writes, for each query, CTAS and CREATE/ALTER VIEW that ran:
`version`, `user`, `timestamp` (query start, epoch seconds), `duration` (ms), `jobIds`,
`engine`, `database`, `hash`, `queryText`, `edges` (column lineage: source and target
vertex ids) and `vertices` (`{"id", "vertexType": COLUMN|TABLE, "vertexId": label}`; a
table is `db.table`, a column `db.table.column`; targets of a plain query are bare result
column names). The log4j layout may put a prefix before the JSON.

This is a text-only source (evidence contract): its events carry the statement text and
the objects it read and wrote, so that copies can be followed, but they are never counted
as read events. Vertices name the tables Hive itself resolved; when a record has none
(lineage is only computed for the final SELECT), the statement text is parsed instead.
"""

from __future__ import annotations

from forensics.ingest.base import BadLine, LineContext, json_object, require
from forensics.names import object_name, principal_short
from forensics.schema import ALLOWED, OP_READ, OP_WRITE, Event
from forensics.sqlrefs import extract_objects

FORMAT = "hive-lineage"
ACTION = "LINEAGE"


def parse(text: str, ctx: LineContext) -> list[Event]:
    """The events of one lineage record: one per object read, one per object written."""
    start = text.find("{")
    if start < 0:
        raise BadLine("no lineage record on this line (expected a JSON object)")
    record = json_object(text[start:])
    user = str(require(record, "user"))
    query = str(require(record, "queryText")).strip()
    time_ms = _epoch_ms(require(record, "timestamp"))
    reads, writes = _objects(record)
    if not reads and not writes:
        found = extract_objects(query, database=str(record.get("database") or "default"))
        reads = {name: None for name in found.reads}
        writes = {name: None for name in found.writes}
    principal = principal_short(user)
    touched = [(OP_READ, o, reads[o]) for o in sorted(reads)]
    touched += [(OP_WRITE, o, writes[o]) for o in sorted(writes)]
    key = f"lineage:{principal}:{time_ms}:{record.get('hash') or ''}"
    return [
        Event(
            event_id=ctx.event_id("lineage", i),
            time_ms=time_ms,
            source_format=FORMAT,
            source_file=ctx.source_file,
            source_line=ctx.line,
            engine="hive",
            principal=principal,
            principal_raw=user,
            op=op,
            action=ACTION,
            object=obj,
            columns=columns,
            path=None,
            result=ALLOWED,
            policy_id=None,
            client_ip=None,
            session_id=None,
            query_id=_query_id(record),
            query_text=query,
            event_count=1,
            dedup_key=f"{key}:{op}:{obj or ''}",
        )
        for i, (op, obj, columns) in enumerate(touched)
    ]


def _objects(record: dict) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """Objects read (edge sources) and written (edge targets naming a table), each with its
    `;`-joined columns when the vertices name them."""
    vertices = record.get("vertices") or []
    edges = record.get("edges") or []
    if not isinstance(vertices, list) or not isinstance(edges, list):
        raise BadLine("vertices and edges must be lists")
    labels: dict[int, tuple[str, str]] = {}
    for vertex in vertices:
        if not isinstance(vertex, dict) or "id" not in vertex or "vertexId" not in vertex:
            raise BadLine("a vertex needs id and vertexId")
        labels[_int(vertex["id"], "vertex id")] = (
            str(vertex["vertexId"]),
            str(vertex.get("vertexType") or "COLUMN").upper(),
        )
    sources: set[int] = set()
    targets: set[int] = set()
    for edge in edges:
        if not isinstance(edge, dict):
            raise BadLine("an edge must be a JSON object")
        sources.update(_int(v, "edge source") for v in edge.get("sources") or [])
        targets.update(_int(v, "edge target") for v in edge.get("targets") or [])
    unknown = (sources | targets) - labels.keys()
    if unknown:
        raise BadLine(f"an edge names vertex {min(unknown)}, which is not in vertices")
    return _tables(labels, sources, sources=True), _tables(labels, targets, sources=False)


def _tables(
    labels: dict[int, tuple[str, str]], ids: set[int], sources: bool
) -> dict[str, str | None]:
    """`db.table` -> its columns, for the vertices `ids` that name a table.

    A target of a plain query is a bare result column (`_c0`, `name`): no table is written;
    a source always names its table."""
    columns: dict[str, set[str]] = {}
    for vertex in ids:
        label, kind = labels[vertex]
        parts = label.split(".")
        if kind == "TABLE" and len(parts) >= 2:
            columns.setdefault(object_name(parts[0], ".".join(parts[1:])), set())
        elif len(parts) >= 3:
            obj = object_name(parts[0], parts[1])
            columns.setdefault(obj, set()).add(".".join(parts[2:]).lower())
        elif sources:
            raise BadLine(f"source vertex {label[:60]!r} names no database")
    return {o: ";".join(sorted(c)) or None for o, c in columns.items()}


def _epoch_ms(value: object) -> int:
    """`timestamp` is whole seconds since the epoch (UTC)."""
    seconds = _int(value, "timestamp")
    if not 0 < seconds < 32503680000:  # before the year 3000
        raise BadLine(f"timestamp {seconds} is not epoch seconds")
    return seconds * 1000


def _query_id(record: dict) -> str | None:
    """The first job id names the run (the record has no query id of its own)."""
    jobs = record.get("jobIds")
    return str(jobs[0]) if isinstance(jobs, list) and jobs else None


def _int(value: object, field: str) -> int:
    if isinstance(value, bool):
        raise BadLine(f"{field} must be an integer")
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadLine(f"{field} must be an integer") from None
