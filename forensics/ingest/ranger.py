"""Apache Ranger audit events, one JSON object per line (Hive plugin and HDFS plugin).

Field names follow Ranger's `AuthzAuditEvent`; `evtTime` carries no zone (the plugin JVM's
local time) in file destinations and is ISO-8601 UTC in Solr documents. The log4j
destination and the Kafka appender put a log4j prefix before the JSON, log shippers an
envelope around it (`forensics.ingest.layouts`).
"""

from __future__ import annotations

import re
from datetime import datetime

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
from forensics.names import object_name
from forensics.schema import (
    ALLOWED,
    DENIED,
    OP_METADATA,
    OP_OTHER,
    OP_READ,
    OP_WRITE,
    Event,
)

FORMAT = "ranger-audit"
REPO_HDFS = 1
REPO_HIVE = 3
_HIVE_WRITE = frozenset({"UPDATE", "CREATE", "WRITE", "INSERT"})
_HIVE_METADATA = frozenset({"USE", "_ANY", "ANY", "SHOW", "DESCRIBE", "READ_METADATA"})
_METADATA_STATEMENT = re.compile(r"^\s*(desc|describe|show|explain)\b", re.IGNORECASE)
_HDFS_READ = frozenset({"open", "read"})
_HDFS_WRITE = frozenset(
    {"write", "create", "append", "delete", "rename", "mkdirs", "truncate", "concat"}
)


#: Keys that make a JSON object a Ranger audit event rather than a shipper's envelope.
RECORD_KEYS = frozenset({"repoType", "reqUser", "evtTime", "access", "resource"})


def parse(text: str, ctx: LineContext) -> list[Event]:
    """The events of one Ranger audit line (bare or behind a known layout); other
    services' events are parsed, not kept."""
    return parse_within(text, ctx, _parse_bare, RECORD_KEYS)


def _parse_bare(text: str, ctx: LineContext) -> list[Event]:
    if not text.lstrip().startswith("{"):
        raise NotRecord("not a JSON object")
    return parse_record(json_object(text), ctx)


def parse_record(record: dict, ctx: LineContext) -> list[Event]:
    """Events of one Ranger audit document (a file line or a Solr document)."""
    repo_type = _int(require(record, "repoType"), "repoType")
    if repo_type not in (REPO_HIVE, REPO_HDFS):
        return []  # a plugin we do not investigate (Kafka, HBase, ...): parsed, nothing to keep
    user = str(require(record, "reqUser"))
    time_ms = _evt_time(str(require(record, "evtTime")), ctx)
    access = str(record.get("access") or "")
    resource = str(record.get("resource") or "")
    result = _int(require(record, "result"), "result")
    if result not in (0, 1):
        raise BadLine(f"result must be 0 or 1, got {result}")
    statement = record.get("reqData") if repo_type == REPO_HIVE else None
    if repo_type == REPO_HIVE:
        obj, columns, op = _hive_target(record, resource, access, statement)
        engine, path = "hive", None
    else:
        obj, columns, engine, path = None, None, "hdfs", resource or None
        op = _hdfs_op(access, str(record.get("action") or ""))
    event_id = str(record.get("id") or "") or ctx.event_id("ranger")
    return [
        Event(
            event_id=event_id,
            time_ms=time_ms,
            source_format=FORMAT,
            source_file=ctx.source_file,
            source_line=ctx.line,
            engine=engine,
            principal=principal_of(user, "reqUser"),
            principal_raw=user,
            op=op,
            action=access,
            object=obj,
            columns=columns,
            path=path,
            result=ALLOWED if result == 1 else DENIED,
            policy_id=_optional_int(record.get("policy")),
            client_ip=record.get("cliIP") or None,
            session_id=record.get("sess") or None,
            query_id=None,
            query_text=statement or None,
            event_count=max(1, _optional_int(record.get("event_count")) or 1),
            dedup_key=record.get("id") or None,
        )
    ]


def _hive_target(
    record: dict, resource: str, access: str, statement: str | None
) -> tuple[str | None, str | None, str]:
    """The object, columns and kind of operation of a Hive-plugin event."""
    res_type = str(record.get("resType") or "")
    parts = resource.split("/", 2)
    upper = access.upper()
    if upper in _HIVE_WRITE:
        op = OP_WRITE
    elif upper == "SELECT":
        op = OP_METADATA if statement and _METADATA_STATEMENT.match(statement) else OP_READ
    elif upper in _HIVE_METADATA:
        op = OP_METADATA
    else:
        op = OP_OTHER
    if res_type in ("@table", "@column", "") and len(parts) >= 2 and parts[0] and parts[1]:
        columns = None
        if len(parts) == 3 and parts[2]:
            columns = ";".join(sorted(c.strip().lower() for c in parts[2].split(",") if c))
        return object_name(parts[0], parts[1]), columns, op
    return None, None, OP_METADATA if op == OP_READ else op


def _hdfs_op(access: str, action: str) -> str:
    verb = access.lower()
    if verb in _HDFS_READ:
        return OP_READ
    if verb in _HDFS_WRITE or action.lower() == "write":
        return OP_WRITE
    if verb in ("read_execute", "execute", "liststatus", "getfileinfo", "contentsummary"):
        return OP_METADATA
    return OP_READ if action.lower() == "read" else OP_OTHER


def _evt_time(text: str, ctx: LineContext) -> int:
    """Epoch ms of `evtTime`: local `yyyy-MM-dd HH:mm:ss.SSS`, or ISO-8601 with zone."""
    try:
        if "T" in text:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f")
    except ValueError:
        raise BadLine(f"evtTime {text[:40]!r} is not a time") from None
    return local_to_epoch_ms(moment, ctx.tz)


def _int(value: object, field: str) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadLine(f"{field} must be an integer") from None


def _optional_int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
