"""HDFS NameNode audit log (`FSNamesystem.audit`): tab-separated key=value after a log4j prefix.

`ugi` is Hadoop's `UserGroupInformation.toString()`: `user (auth:METHOD)`, and for a proxied
access `EFFECTIVE (auth:PROXY) via REAL (auth:METHOD)`: the access is the effective user's,
made through the real user's service (kept as `via_principal`). `cmd` is the operation's
name, with the options of a `rename2` call appended by `FSNamesystem`: `rename
(options=[TO_TRASH])`, `rename (options=[OVERWRITE])`; the verb before ` (` decides the
kind of operation, and a rename, with options or without, writes its destination, as a
`concat` does (its `src` is the list of the files appended).
"""

from __future__ import annotations

import re

from forensics.ingest.base import BadLine, LineContext, NotRecord, principal_of, require
from forensics.ingest.layouts import parse_within
from forensics.ingest.reader import parse_local_time
from forensics.schema import ALLOWED, DENIED, OP_METADATA, OP_OTHER, OP_READ, OP_WRITE, Event

FORMAT = "hdfs-audit"
_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2},\d{3})\s+\w+\s+"
    r"(?:\[[^\]]*\]\s+)?(?:\S*\.)?(?:FSNamesystem\.audit|audit):\s(?P<fields>.*)$"
)
_READ = frozenset({"open"})
#: Operations that write their `dst` (FSNamesystem logs `concat` with `src` the list of
#: sources, `Arrays.toString(srcs)`, and `dst` the target they are appended to).
_TO_DESTINATION = frozenset({"rename", "concat"})
_METADATA = frozenset(
    {
        "getfileinfo",
        "liststatus",
        "contentsummary",
        "getaclstatus",
        "getxattrs",
        "listxattrs",
        "checkaccess",
        "getstoragepolicy",
        "listcachedirectives",
        "listencryptionzones",
        "getEZForPath".lower(),
        "listSnapshottableDirectory".lower(),
    }
)
_WRITE = frozenset(
    {
        "create",
        "append",
        "rename",
        "delete",
        "mkdirs",
        "setpermission",
        "setowner",
        "setacl",
        "modifyaclentries",
        "removeaclentries",
        "removedefaultacl",
        "removeacl",
        "setreplication",
        "settimes",
        "truncate",
        "concat",
        "setxattr",
        "removexattr",
        "createsymlink",
    }
)


def parse(text: str, ctx: LineContext) -> list[Event]:
    """The event of one NameNode audit line (bare or behind a known layout)."""
    return parse_within(text, ctx, _parse_bare)


def _parse_bare(text: str, ctx: LineContext) -> list[Event]:
    match = _LINE.match(text)
    if not match:
        raise NotRecord("not an FSNamesystem.audit line")
    fields = _fields(match["fields"])
    ugi = str(require(fields, "ugi"))
    cmd = str(require(fields, "cmd"))
    allowed = str(require(fields, "allowed")).lower()
    if allowed not in ("true", "false"):
        raise BadLine(f"allowed must be true or false, got {allowed[:20]!r}")
    time_ms = parse_local_time(match["ts"].replace("T", " "), ctx.tz, "%Y-%m-%d %H:%M:%S,%f")
    raw_user = ugi.split(" ", 1)[0]
    src = _null(fields.get("src"))
    dst = _null(fields.get("dst"))
    verb = command_verb(cmd)
    return [
        Event(
            event_id=ctx.event_id("hdfs"),
            time_ms=time_ms,
            source_format=FORMAT,
            source_file=ctx.source_file,
            source_line=ctx.line,
            engine="hdfs",
            principal=principal_of(raw_user, "ugi"),
            principal_raw=raw_user,
            op=_op(verb),
            action=cmd,
            object=None,
            columns=None,
            path=dst if verb in _TO_DESTINATION and dst else src,
            result=ALLOWED if allowed == "true" else DENIED,
            policy_id=None,
            client_ip=(_null(fields.get("ip")) or "").lstrip("/") or None,
            session_id=None,
            query_id=_null(fields.get("callerContext")),
            query_text=None,
            event_count=1,
            dedup_key=None,
            perm=_null(fields.get("perm")),
            via_principal=via_principal(ugi),
        )
    ]


def _fields(body: str) -> dict[str, str]:
    fields = {}
    for part in body.split("\t"):
        key, sep, value = part.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _null(value: str | None) -> str | None:
    return None if value in (None, "", "null") else value


def command_verb(cmd: str) -> str:
    """The operation of a `cmd` value, lower case, without the options some carry
    (`rename (options=[TO_TRASH])` is a `rename`)."""
    return cmd.partition(" (")[0].lower()


def via_principal(ugi: str) -> str | None:
    """The real user of a proxied access (`bob (auth:PROXY) via hue/h@R (auth:KERBEROS)`
    gives `hue/h@R`), None when the access was not proxied."""
    _, via, real = ugi.partition(" via ")
    return (real.split(" ", 1)[0] or None) if via else None


def _op(verb: str) -> str:
    if verb in _READ:
        return OP_READ
    if verb in _METADATA:
        return OP_METADATA
    if verb in _WRITE:
        return OP_WRITE
    return OP_OTHER
