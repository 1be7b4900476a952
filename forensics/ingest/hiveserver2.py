"""HiveServer2's own log (`hiveserver2.log`): the statements it executed, and by whom.

What HiveServer2 writes, as read in apache/hive (file: log message):

- `common/src/main/resources/hive-log4j2.properties`: the layout `%d{ISO8601} %5p [%t]
  %c{2}: %m%n`, e.g. `2026-06-18T02:15:00,412  INFO [HiveServer2-Handler-Pool: Thread-61]
  ql.Driver: ...`, in the server's local time. The layout of Hive 2 and of many
  distributions, `%d{ISO8601} %-5p [%t] %c{2} (%F:%M(%L)) - %m%n`, is read too.
- `ql/.../Compiler.java` (Hive 4; `Driver.compile` before it), logger `ql.Driver`:
  `Compiling command(queryId=<id>): <statement>`; `ql/.../Executor.java` (`Driver.execute`):
  `Executing command(queryId=<id>): <statement>` and later `Completed executing
  command(queryId=<id>); Time taken: <s> seconds` (or `... has been interrupted after`).
  The statement is written as the user sent it, after variable substitution and
  `hive.query.redaction.rules`, newlines included: a statement of several lines is one
  log record spanning several physical lines (log4j writes a record whole, so no other
  thread's line comes between them). The query id starts with the name of the user the
  server process runs as (`QueryPlan.makeQueryId`: `user.name`), never the session user.
- `service/.../SessionManager.java` `createSession` (its logger is named after
  `CompositeService`): `Session opened, SessionHandle [<sessionId>], current
  sessions:<n>`; then `service/.../thrift/ThriftCLIService.java`
  `OpenSession`, on the same handler thread: `Login attempt is successful for user :
  <user>` (the effective user: Kerberos or LDAP name, or the proxied end user). Newer
  versions also log `Creating Hive session handle for user [<user>] from IP <ip>` in
  `getSessionHandle`, before the session opens (`[null]` under Kerberos/LDAP before
  HIVE-29778, so `null` names nobody).
- `service/.../session/HiveSessionImpl.java` `acquireAfterOpLock` calls
  `SessionState.updateThreadName` (`ql/.../session/SessionState.java`: `Updating thread
  name to <sessionId> <thread>`): while a session's operation runs on a handler thread,
  the thread is named `<sessionId> HiveServer2-Handler-Pool: Thread-<n>`. Compilation runs
  there; an asynchronous execution runs on `HiveServer2-Background-Pool: Thread-<n>`
  (`service/.../operation/SQLOperation.java` `BackgroundWork`), which names no session:
  its statement is tied to its session by the query id of its compilation.
- Not used, on purpose: `SessionState.createSessionDirs` logs `Created HDFS directory:
  /tmp/hive/<user>/<sessionId>` with the server's login user (`Utils.getUGI`), which is the
  end user only with impersonation on (`hive` otherwise); the query id prefix (above);
  the MDC keys (`sessionId`, `queryId`) that the default layout does not print.

One event per object an executed statement names (the `Executing command` record), for
statements whose session user the log itself established; the event time is the start of
the statement's compilation when the file has it (Ranger checks the statement while it
compiles), else the execution line's. Unqualified names are read in the session's database
as far as the log shows it (`use <db>` statements it executed), else `default`: a database
given in the JDBC URL is not logged. This is a text-only source (evidence contract): its
events follow copies, they never count as reads.

Every physical line is accounted for: a record's continuation lines count as parsed with
it, or are quarantined with it; lines of other loggers are parsed and give no event; an
executed statement whose user is not established, and one cut short by the end of the file
or by an unreadable line, is quarantined with the reason. Each file is read on its own: a
session opened in an earlier file leaves its statements here without a user.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from forensics.ingest.base import LineContext
from forensics.ingest.reader import Line, parse_local_time, read_lines
from forensics.inputs import open_input
from forensics.names import principal_short
from forensics.schema import ALLOWED, OP_OTHER, OP_READ, OP_WRITE, Event
from forensics.sqlrefs import extract_objects

FORMAT = "hiveserver2-log"
ACTION = "EXECUTE"

_RECORD = re.compile(
    r"(?P<time>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}[,.]\d{3})\s+"
    r"(?P<level>TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+"
    r"\[(?P<thread>[^\]]*)\]:?\s+"
    r"(?P<logger>[\w.$]+)(?:\s+\(\S*\))?(?::|\s+-)\s?(?P<message>.*)"
)
_STARTS_LIKE_RECORD = re.compile(r"\d{4}-\d{2}-\d{2}")
_COMPILING = re.compile(r"Compiling command\(queryId=(?P<qid>[^)\s]+)\): (?P<text>.*)", re.S)
_EXECUTING = re.compile(r"Executing command\(queryId=(?P<qid>[^)\s]+)\): (?P<text>.*)", re.S)
_OPENED = re.compile(r"Session opened, SessionHandle \[(?P<sid>[^\]\s]+)\]")
_LOGIN = re.compile(r"Login attempt is successful for user : (?P<user>\S+)\s*")
_CREATING = re.compile(r"Creating Hive session handle for user \[(?P<user>[^\]\s]*)\] from IP")
_THREAD_SESSION = re.compile(r"(?P<sid>[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}) ")
_CUT = "last line cut short (no line end: the file was truncated or is still being written)"
_USE = re.compile(r"\s*use\s+`?(?P<db>\w+)`?\s*;?\s*", re.I)


@dataclass(frozen=True)
class Statement:
    """An executed statement whose session user the log established."""

    user: str
    session_id: str
    query_id: str
    text: str
    time: str  # local time of its compilation (or execution), as the log wrote it
    database: str


#: The payload of a line that is parsed and gives no event (None would mean quarantined).
NO_EVENT: tuple = ()


def parse(record: Statement | tuple, ctx: LineContext) -> list[Event]:
    """The events of one executed statement: one per object it read or wrote, or one
    without object when it names none; nothing for other lines."""
    if not isinstance(record, Statement):
        return []
    found = extract_objects(record.text, database=record.database)
    touched = [(OP_READ, o) for o in sorted(set(found.reads))]
    touched += [(OP_WRITE, o) for o in sorted(set(found.writes))]
    if not touched:
        touched = [(OP_OTHER, None)]
    stamp = record.time.replace("T", " ").replace(",", ".")
    time_ms = parse_local_time(stamp, ctx.tz, "%Y-%m-%d %H:%M:%S.%f")
    principal = principal_short(record.user)
    return [
        Event(
            event_id=ctx.event_id("hs2", i),
            time_ms=time_ms,
            source_format=FORMAT,
            source_file=ctx.source_file,
            source_line=ctx.line,
            engine="hive",
            principal=principal,
            principal_raw=record.user,
            op=op,
            action=ACTION,
            object=obj,
            columns=None,
            path=None,
            result=ALLOWED,
            policy_id=None,
            client_ip=None,
            session_id=record.session_id,
            query_id=record.query_id,
            query_text=record.text,
            event_count=1,
            dedup_key=f"hs2:{record.query_id}:{op}:{obj or ''}",
        )
        for i, (op, obj) in enumerate(touched)
    ]


@dataclass
class _Sessions:
    """What the log has said so far about sessions, threads and queries."""

    users: dict[str, str] = field(default_factory=dict)  # session id -> user
    databases: dict[str, str] = field(default_factory=dict)  # session id -> current db
    opened: dict[str, str] = field(default_factory=dict)  # thread -> session it opened
    announced: dict[str, str] = field(default_factory=dict)  # thread -> user before opening
    compiled: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # qid -> (sid, time)

    def note(self, thread: str, logger: str, message: str, time: str) -> None:
        """Learn from a record that is not an executed statement."""
        leaf = logger.rsplit(".", 1)[-1]
        if leaf in ("CompositeService", "SessionManager") and (m := _OPENED.match(message)):
            sid = m.group("sid")
            self.opened[thread] = sid
            user = self.announced.pop(thread, None)
            if user:
                self.users[sid] = user
        elif leaf.endswith("CLIService") and (m := _LOGIN.fullmatch(message)):
            sid = self.opened.pop(thread, None)
            if sid is not None and m.group("user") != "null":
                self.users[sid] = m.group("user")
        elif leaf.endswith("CLIService") and (m := _CREATING.match(message)):
            if m.group("user") not in ("", "null"):
                self.announced[thread] = m.group("user")
        elif leaf == "Driver" and (m := _COMPILING.match(message)):
            self.compiled[m.group("qid")] = (_thread_session(thread), time)

    def statement(self, thread: str, qid: str, text: str, time: str) -> Statement | str:
        """The executed statement with its user, or why its user is not established."""
        sid, compiled_at = self.compiled.get(qid, (None, time))
        sid = _thread_session(thread) or sid
        if sid is None:
            return f"no session user for thread {thread!r}: it names no session (query {qid})"
        user = self.users.get(sid)
        if user is None:
            return (
                f"no session user for thread {thread!r}: session {sid} was not opened "
                f"in this file (query {qid})"
            )
        database = self.databases.get(sid, "default")
        use = _USE.fullmatch(text)
        if use:
            self.databases[sid] = use.group("db").lower()
        return Statement(user, sid, qid, text.strip(), compiled_at, database)


def _thread_session(thread: str) -> str | None:
    """The session a handler thread is named after while it serves one, if any."""
    m = _THREAD_SESSION.match(thread)
    return m.group("sid").lower() if m else None


def records(path: Path, rel: str) -> Iterator[tuple[int, Statement | tuple | None, str | None]]:
    """(line, payload, why it is quarantined) for every physical line of one HiveServer2
    log: a statement's first line carries it, every other parsed line carries nothing."""
    state = _Sessions()
    cut = _cut_short(path)
    group: list[Line] = []
    lines = read_lines(path)
    line = next(lines, None)
    while line is not None:
        following = next(lines, None)
        last_cut = cut and following is None
        if line.text is not None and (
            _RECORD.match(line.text) or (last_cut and _STARTS_LIKE_RECORD.match(line.text))
        ):
            yield from _record(state, group)
            group = [line]
        elif line.text is not None or (line.problem == "empty line" and group):
            if group:
                group.append(line)
            else:
                yield line.number, None, "no log record starts before this line"
        else:
            yield from _record(state, group, broken=line)
            group = []
            yield line.number, None, line.problem
        if last_cut:
            yield from _record(state, group, broken=group[-1] if group else None)
            group = []
        line = following
    yield from _record(state, group)


def _record(
    state: _Sessions, group: list[Line], broken: Line | None = None
) -> Iterator[tuple[int, Statement | tuple | None, str | None]]:
    """The lines of one log record; `broken` is the unreadable or cut line that ended it."""
    if not group:
        return
    first = group[0]
    cut_line = broken if broken is not None and broken in group else None
    match = _RECORD.match(first.text or "")
    if match is None:  # the cut last line, too short to read
        for line in group:
            yield line.number, None, _CUT
        return
    message = "\n".join([match.group("message"), *(line.text or "" for line in group[1:])])
    thread, logger, time = match.group("thread"), match.group("logger"), match.group("time")
    executed = _EXECUTING.match(message) if logger.rsplit(".", 1)[-1] == "Driver" else None
    if executed is None:
        if cut_line is None:
            state.note(thread, logger, message, time)
        for line in group:
            if line is cut_line:
                yield line.number, None, _CUT
            else:
                yield line.number, NO_EVENT, None
        return
    qid = executed.group("qid")
    if broken is not None:
        reason = (
            f"statement cut short at the end of the file (line {broken.number} has no line end)"
            if cut_line is not None
            else f"statement may go on past unreadable line {broken.number}"
        )
        found: Statement | str = f"{reason} (query {qid})"
    else:
        found = state.statement(thread, qid, executed.group("text"), time)
    if isinstance(found, str):
        yield first.number, None, found
        for line in group[1:]:
            yield line.number, None, f"continues the statement quarantined on line {first.number}"
        return
    yield first.number, found, None
    for line in group[1:]:
        yield line.number, NO_EVENT, None


def _cut_short(path: Path) -> bool:
    """Whether a plain file's last line lacks its line end (log4j ends every record with
    one). A compressed file cut short is reported by the reader itself."""
    with open_input(path) as f:
        if f.read(2) == b"\x1f\x8b":
            return False
        f.seek(0, 2)
        if f.tell() == 0:
            return False
        f.seek(-1, 2)
        return f.read(1) != b"\n"
