"""Hive metastore audit log (`HiveMetaStore.audit`): metadata calls, never reads.

The prefix is the log4j layout's: Hive's default `%d{ISO8601} %5p [%t] %c{2}: %m%n`
(apache/hive `common/src/main/resources/hive-log4j2.properties`), older `yy/MM/dd` dates,
or the vendors' layout with the location, `%d{ISO8601} %-5p [%t]: %c{2} (%F:%M(%L)) - %m%n`
(`INFO  [main]: HiveMetaStore.audit (HiveMetaStore.java:logAuditEvent(305)) - ugi=...`).
"""

from __future__ import annotations

import re
from datetime import datetime

from forensics.ingest.base import BadLine, LineContext, NotRecord, principal_of, require
from forensics.ingest.layouts import parse_within
from forensics.ingest.reader import local_to_epoch_ms
from forensics.names import object_name
from forensics.schema import ALLOWED, OP_METADATA, OP_WRITE, Event

FORMAT = "metastore-audit"
_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d{3})?"
    r"|\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})"
    r"\s+\w+\s+(?:\[[^\]]*\]:?\s+)?(?:\S*\.)?HiveMetaStore\.audit(?::|\s+\([^)]*\)\)\s+-)\s"
    r"(?P<fields>.*)$"
)
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S,%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%y/%m/%d %H:%M:%S",
)
_CMD = re.compile(r"^(?:source:\S+\s+)?(?P<name>[A-Za-z_]+)\s*:?\s*(?P<args>.*)$")
_DB_TBL = re.compile(r"\bdb=(?P<db>[^\s]+)\s+tbl=(?P<tbl>[^\s]+)")
_QUALIFIED_TBL = re.compile(r"\btbl=(?P<name>[^\s]+)")
_TABLE_OBJECT = re.compile(r"\btableName:(?P<tbl>[^,\s)]+),\s*dbName:(?P<db>[^,\s)]+)")
_CHANGES = ("create_", "alter_", "drop_", "add_", "append_", "truncate_", "rename_")


def parse(text: str, ctx: LineContext) -> list[Event]:
    """The event of one metastore audit line (bare or behind a known layout)."""
    return parse_within(text, ctx, _parse_bare)


def _parse_bare(text: str, ctx: LineContext) -> list[Event]:
    match = _LINE.match(text)
    if not match:
        raise NotRecord("not a HiveMetaStore.audit line")
    fields = dict(_split(part) for part in match["fields"].split("\t") if "=" in part)
    ugi = str(require(fields, "ugi"))
    cmd_match = _CMD.match(str(require(fields, "cmd")).strip())
    if not cmd_match:
        raise BadLine("cmd field has no call name")
    name = cmd_match["name"]
    ip = fields.get("ip")
    return [
        Event(
            event_id=ctx.event_id("hms"),
            time_ms=local_to_epoch_ms(_time(match["ts"]), ctx.tz),
            source_format=FORMAT,
            source_file=ctx.source_file,
            source_line=ctx.line,
            engine="metastore",
            principal=principal_of(ugi.split(" ", 1)[0], "ugi"),
            principal_raw=ugi.split(" ", 1)[0],
            op=OP_WRITE if name.lower().startswith(_CHANGES) else OP_METADATA,
            action=name,
            object=_object(cmd_match["args"]),
            columns=None,
            path=None,
            result=ALLOWED,
            policy_id=None,
            client_ip=None if ip in (None, "", "unknown-ip-addr") else ip,
            session_id=None,
            query_id=None,
            query_text=None,
            event_count=1,
            dedup_key=None,
        )
    ]


def _split(part: str) -> tuple[str, str]:
    key, _, value = part.partition("=")
    return key.strip(), value.strip()


def _time(text: str) -> datetime:
    text = text.replace("T", " ")
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise BadLine(f"timestamp {text!r} is not in a known metastore layout")


def _object(args: str) -> str | None:
    """`db=d tbl=t`, `tbl=cat.db.t` / `tbl=db.t` (Hive 3 adds the catalog), or the
    `Table(tableName:t, dbName:d, ...)` that `create_table` and `alter_table` print."""
    pair = _DB_TBL.search(args) or _TABLE_OBJECT.search(args)
    if pair:
        return object_name(pair["db"], pair["tbl"])
    qualified = _QUALIFIED_TBL.search(args)
    if qualified:
        parts = qualified["name"].split(".")
        if len(parts) >= 2:
            return object_name(parts[-2], parts[-1])
    return None
