"""Which log source wrote each event, and what the files themselves say about what is missing.

A source is what `coverage.csv` names in its `source` column: the host of the Ranger plugin
that wrote an event (`agentHost`), or, for logs that do not name their writer (the
NameNode and metastore audit logs, Trino event files, HiveServer2 logs), the *file set*:
the file's path relative to the case without its rotation suffix (`logs/hdfs/hdfs-audit.log`
for `hdfs-audit.log`, `.1`, `.2.gz`), or with its date written as `{date}`
(`logs/ranger/hive_ranger_audit.{date}.log` for `...20260618-08.log`).

The files of one set are a rotated series. A numbered series (log4j's
`RollingFileAppender`: `.1` is the newest rotated file) always numbers its files without a
hole, so `.1` and `.3` without `.2` prove a file missing. A dated series (hourly or daily
names) skips a period in which nothing was written, so a missing date is evidence only where
the files on both sides of it were busy (`rates.MIN_BUSY` events an hour).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from forensics import queries
from forensics.case import Case
from forensics.engine import load_rows
from forensics.errors import InputError
from forensics.ingest import solr
from forensics.ingest.base import BadLine, LineContext, NotRecord, json_object
from forensics.ingest.bulk import compression_of
from forensics.ingest.layouts import parse_within
from forensics.ingest.ranger import RECORD_KEYS
from forensics.ingest.reader import read_lines
from forensics.inputs import open_input

RANGER_FORMATS = ("ranger-audit", "ranger-solr")
_UTC = ZoneInfo("UTC")
_NUMBERED = re.compile(r"^(?P<base>.+?)\.(?P<n>[0-9]{1,4})(?:\.gz)?$")
_DATED = re.compile(
    r"(?P<y>(?:19|20)[0-9]{2})-?(?P<m>[01][0-9])-?(?P<d>[0-3][0-9])"
    r"(?:[-_T.](?P<h>[0-2][0-9])(?![0-9]))?"
)
_AGENT_SCHEMA = [
    ("source_file", pa.string()),
    ("id", pa.string()),
    ("agent_host", pa.string()),
    ("agent", pa.string()),
    ("seq_num", pa.int64()),
]
_FILE_SCHEMA = [
    ("source_file", pa.string()),
    ("source_format", pa.string()),
    ("file_set", pa.string()),
]
_TTL = re.compile(r"^\+?([0-9]{1,6})(SECOND|MINUTE|HOUR|DAY|WEEK|MONTH|YEAR)S?$", re.IGNORECASE)
_TTL_UNIT_MS = {
    "SECOND": 1_000,
    "MINUTE": 60_000,
    "HOUR": 3_600_000,
    "DAY": 86_400_000,
    "WEEK": 7 * 86_400_000,
    "MONTH": 30 * 86_400_000,  # Solr date math months vary; the shortest TTL is not assumed
    "YEAR": 365 * 86_400_000,
}


@dataclass(frozen=True)
class LogFile:
    """One input log file and the rotated series it belongs to."""

    rel: str  # relative to the case
    format: str
    file_set: str  # the series' name, as coverage.csv names a source without a host
    number: int | None = None  # position in a numbered series (0: the current file)
    dated: datetime | None = None  # UTC start of the period a dated file holds
    hourly: bool = False


@dataclass(frozen=True)
class Hole:
    """Files missing from a series, between the two files that surround them."""

    file_set: str
    newer: str  # the file after the hole (relative path)
    older: str  # the file before it
    missing: str  # which files: `.2` or `2026-06-18T10`
    start_ms: int | None = None  # the period the missing files held, when the names say
    end_ms: int | None = None


@dataclass(frozen=True)
class SolrHorizon:
    """What a Solr export says of the audits Solr had already deleted (`_ttl_`)."""

    source_file: str
    hosts: tuple[str, ...]
    ttl_ms: int
    first_ms: int  # the oldest document held
    last_ms: int  # the newest document held: the export was made after it

    @property
    def horizon_ms(self) -> int:
        """Before this instant every audit had expired when the export was made (the export
        was made after its newest document), and no document of the export is older."""
        return min(self.last_ms - self.ttl_ms, self.first_ms)


def log_files(case: Case) -> list[LogFile]:
    """Every log file of the case with its file set, sorted by path."""
    found = []
    for source in case.logs:
        for path in source.files:
            found.append(_classify(case.relpath(path), source.format, case.timezone))
    return sorted(found, key=lambda f: f.rel)


def _classify(rel: str, fmt: str, tz: ZoneInfo) -> LogFile:
    folder, _, name = rel.rpartition("/")
    prefix = f"{folder}/" if folder else ""
    numbered = _NUMBERED.match(name)
    if numbered:
        return LogFile(rel, fmt, prefix + numbered.group("base"), number=int(numbered.group("n")))
    dated = _DATED.search(name)
    if dated:
        hour = dated.group("h")
        try:
            local = datetime(
                int(dated.group("y")),
                int(dated.group("m")),
                int(dated.group("d")),
                int(hour) if hour else 0,
            )
        except ValueError:
            local = None
        if local is not None:
            start = local.replace(tzinfo=tz).astimezone(timezone.utc)
            set_name = prefix + name[: dated.start()] + "{date}" + name[dated.end() :]
            return LogFile(rel, fmt, set_name, dated=start, hourly=hour is not None)
    base = name[:-3] if name.endswith(".gz") else name
    return LogFile(rel, fmt, prefix + base, number=0)  # the current file of its series


def load_files(con: duckdb.DuckDBPyConnection, files: Sequence[LogFile]) -> None:
    """Table `coverage_files`: each file's format and file set."""
    load_rows(con, "coverage_files", _FILE_SCHEMA, [(f.rel, f.format, f.file_set) for f in files])


def load_agents(con: duckdb.DuckDBPyConnection, case: Case) -> list[SolrHorizon]:
    """Table `coverage_agents`: the plugin host, agent, event id and `seq_num` of every
    Ranger event that ingest did not keep in `ranger_agents` (the normalized events do not
    carry them), read again from its file; and the TTL horizon of every Solr export."""
    load_rows(con, "coverage_agents", _AGENT_SCHEMA, [])
    queries.execute(con, "ingest/ranger_agents_table")  # what ingest kept (none: empty)
    horizons = []
    counts: dict[str, tuple[int, int]] = {}
    if any(source.format == "ranger-audit" for source in case.logs):  # else: no events read
        rows = queries.relation(con, "coverage/agent_file_counts").fetchall()
        counts = {rel: (events, agents) for rel, events, agents in rows}
    for source in case.logs:
        for path in source.files:
            rel = case.relpath(path)
            if source.format == "ranger-audit":
                _ranger_file(con, path, rel, counts.get(rel, (0, 0)))
            elif source.format == "ranger-solr":
                rows, horizon = _solr_file(path, rel)
                _append(con, rows)
                if horizon is not None:
                    horizons.append(horizon)
    return horizons


def _ranger_file(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, counted: tuple[int, int]
) -> None:
    """The agent fields of one Ranger file: those ingest kept when it read the file in bulk
    (`ranger_agents`), else by DuckDB's JSON reader, or line by line (each record found
    behind its layout, as ingest finds it) when DuckDB cannot read the file or misses events
    ingest parsed. `counted`: the file's events with a Ranger id and the agent rows ingest
    kept for it (`coverage/agent_file_counts`)."""
    events, agents = counted
    if agents >= events:  # ingest kept them all (or there is nothing to find)
        return
    queries.execute(con, "coverage/agents_kept_forget", source_file=rel)
    try:
        queries.execute(
            con,
            "coverage/agent_lines",
            path=str(path),
            compression=compression_of(path),
            source_file=rel,
        )
        ((events, agents),) = queries.relation(
            con, "coverage/agent_counts", source_file=rel
        ).fetchall()
        if agents >= events:
            return
        queries.execute(con, "coverage/agents_forget", source_file=rel)
    except duckdb.Error:
        pass
    _append(con, _agent_rows(rel, _json_lines(path, rel)))


def _json_lines(path: Path, rel: str) -> Iterator[dict]:
    """The Ranger records of a file, bare or behind a known layout; other lines skipped."""
    for line in read_lines(path):
        if line.text is None:
            continue
        try:
            record = parse_within(
                line.text, LineContext(rel, line.number, _UTC), _record, RECORD_KEYS
            )
        except BadLine:
            continue
        yield record


def _record(text: str, ctx: LineContext) -> dict:  # noqa: ARG001 - parse_within's signature
    if not text.lstrip().startswith("{"):
        raise NotRecord("not a JSON object")
    return json_object(text)


def _agent_rows(rel: str, records: Iterable[dict]) -> list[tuple]:
    rows = []
    for record in records:
        event_id = record.get("id")
        if not isinstance(event_id, str) or not event_id:
            continue
        seq = record.get("seq_num")
        rows.append(
            (
                rel,
                event_id,
                _text(record.get("agentHost")),
                _text(record.get("agent")),
                seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else None,
            )
        )
    return rows


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _append(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    if rows:
        schema = pa.schema(_AGENT_SCHEMA)
        columns = list(zip(*rows, strict=True))
        arrays = [pa.array(list(c), type=f.type) for c, f in zip(columns, schema, strict=True)]
        con.from_arrow(pa.Table.from_arrays(arrays, schema=schema)).insert_into("coverage_agents")


def _solr_file(path: Path, rel: str) -> tuple[list[tuple], SolrHorizon | None]:
    """The agent rows of a Solr export, and its TTL horizon when its documents carry a
    TTL (`_ttl_`, or `_expire_at_` beside `evtTime`)."""
    docs = []
    try:
        for _, doc, _ in solr.documents(path, rel):
            if isinstance(doc, dict):
                docs.append(doc)
    except (InputError, OSError):  # ingest has already reported this export's problem
        return [], None
    ttls, times, hosts = [], [], set()
    for doc in docs:
        evt = _instant(doc.get("evtTime"))
        if evt is None:
            continue
        times.append(evt)
        if isinstance(doc.get("agentHost"), str) and doc["agentHost"]:
            hosts.add(doc["agentHost"])
        ttl = _ttl_ms(doc.get("_ttl_"))
        expire = _instant(doc.get("_expire_at_"))
        if ttl is None and expire is not None and expire > evt:
            ttl = expire - evt
        if ttl is not None:
            ttls.append(ttl)
    horizon = None
    if ttls and times:
        horizon = SolrHorizon(rel, tuple(sorted(hosts)), max(ttls), min(times), max(times))
    return _agent_rows(rel, docs), horizon


def _ttl_ms(value: object) -> int | None:
    """Milliseconds of a Solr TTL in date-math form (`+90DAYS`)."""
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, str):
        return None
    match = _TTL.match(value.strip())
    if not match:
        return None
    return int(match.group(1)) * _TTL_UNIT_MS[match.group(2).upper()]


def _instant(value: object) -> int | None:
    """Epoch ms of a Solr ISO-8601 date."""
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def holes(files: Sequence[LogFile]) -> list[Hole]:
    """Files missing from each rotated series, oldest first."""
    found: list[Hole] = []
    by_set: dict[tuple[str, str], list[LogFile]] = {}
    for f in files:
        by_set.setdefault((f.format, f.file_set), []).append(f)
    for (_, name), members in sorted(by_set.items()):
        numbered = sorted((f for f in members if f.number is not None), key=lambda f: f.number)
        for newer, older in zip(numbered, numbered[1:], strict=False):
            assert newer.number is not None and older.number is not None
            if older.number - newer.number > 1:
                gap = range(newer.number + 1, older.number)
                missing = ", ".join(f".{n}" for n in gap)
                found.append(Hole(name, newer.rel, older.rel, missing))
        found.extend(_dated_holes(name, [f for f in members if f.dated is not None]))
    return found


def _dated_holes(name: str, members: list[LogFile]) -> list[Hole]:
    if len(members) < 2 or len({f.hourly for f in members}) != 1:
        return []
    step = timedelta(hours=1) if members[0].hourly else timedelta(days=1)
    ordered = sorted(members, key=lambda f: f.dated)  # type: ignore[arg-type, return-value]
    found = []
    for older, newer in zip(ordered, ordered[1:], strict=False):
        assert older.dated is not None and newer.dated is not None
        if newer.dated - older.dated > step:
            first = older.dated + step
            label = "%Y-%m-%dT%H" if older.hourly else "%Y-%m-%d"
            last = newer.dated - step
            missing = first.strftime(label) + ("" if first == last else "/" + last.strftime(label))
            found.append(
                Hole(
                    name,
                    newer.rel,
                    older.rel,
                    missing,
                    _ms(first),
                    _ms(newer.dated),
                )
            )
    return found


def cut_short(
    case: Case,
    quarantined: Iterable[tuple[str, int, str]],
    lines: dict[str, int],
    line_formats: frozenset[str],
) -> dict[str, str]:
    """Files cut short, with why: a compressed stream or Solr export that ends early, or a
    last line quarantined that has no line end (the writer was stopped mid-line, or the file
    was copied while being written)."""
    found: dict[str, str] = {}
    last_bad: set[str] = set()
    for rel, line, reason in quarantined:
        text = reason.lower()
        if any(
            k in text for k in ("ends early", "cut short", "ends inside", "rest cannot be read")
        ):
            found.setdefault(rel, reason)
        if lines.get(rel) == line:
            last_bad.add(rel)
    line_files = {f for s in case.logs if s.format in line_formats for f in s.files}
    for path in sorted(line_files):
        rel = case.relpath(path)
        if rel in last_bad and rel not in found and not _ends_with_newline(path):
            found[rel] = "last line cut short (no line end, not parseable)"
    return found


def _ends_with_newline(path: Path) -> bool:
    """Whether a plain file ends with a line end (a compressed one is read to its end by
    ingest, which reports a stream cut short)."""
    size = path.stat().st_size
    if size == 0 or compression_of(path) != "none":
        return True
    with open_input(path) as f:
        f.seek(size - 1)
        return f.read(1) == b"\n"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
