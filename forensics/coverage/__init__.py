"""Coverage: what the logs could not show, as a ledger of intervals per log source.

Every finding of absence ("nobody else read it") holds only where the logs were complete.
`build_coverage` writes the engine table `coverage` (evidence file `coverage.csv`): one row
per interval of each source with a status:

- `covered`: the source wrote events (or was quietly expected to) and nothing says any are
  missing. `covered`, `gap` and `expired` rows of a source do not overlap; they span the
  source's events and the investigated period.
- `gap`: evidence that events are missing: a `seq_num` jump within one Ranger audit handler,
  a silence the source's own rate makes implausible (`rates`), files missing from a rotated
  series or cut short (`sources`), NameNode activity in the Ranger HDFS audit that no
  NameNode audit log recorded, a source the case expects (`coverage.sources`) that wrote
  nothing.
- `expired`: before the TTL horizon of a Solr export: Solr had deleted those audits.
- `unaudited` (per object): a policy with auditing off decided its accesses (`audit`).
- `summarized`: hours in which a Ranger plugin summarized events (`event_count` > 1); the
  events are there, their times approximate. `unaudited` and `summarized` rows overlay the
  others.

The investigated period is the case's `coverage.period`, else the span of the exposure
windows. Each row lists the exposure windows it overlaps (`start/end`, `;`-joined).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa

from forensics import queries
from forensics.case import Case
from forensics.catalog import Catalog
from forensics.coverage import rates
from forensics.coverage.audit import audit_exclusions, audit_filters, unaudited
from forensics.coverage.sources import cut_short, holes, load_agents, load_files, log_files
from forensics.engine import load_rows
from forensics.scope import Window

COVERED, GAP, EXPIRED, UNAUDITED, SUMMARIZED = (
    "covered",
    "gap",
    "expired",
    "unaudited",
    "summarized",
)
STATUSES = (COVERED, GAP, EXPIRED, UNAUDITED, SUMMARIZED)
#: Formats whose files are read line by line, so a last line without its end is a cut.
LINE_FORMATS = frozenset(
    {
        "ranger-audit",
        "hdfs-audit",
        "metastore-audit",
        "trino-event",
        "hive-lineage",
        "hiveserver2-log",
    }
)
_ROW_SCHEMA = [
    ("source_format", pa.string()),
    ("source", pa.string()),
    ("start", pa.timestamp("ms")),
    ("end", pa.timestamp("ms")),
    ("status", pa.string()),
    ("reason", pa.string()),
    ("windows_overlapped", pa.string()),
    ("object", pa.string()),
    ("policy_id", pa.int64()),
]
_FAR = 2**62
#: What the ledger of a run over the log files rests on (the manifest's `coverage.basis`).
BASIS = (
    "log files: every event with its Ranger agentHost and seq_num, the files of each "
    "rotated series, Solr TTL horizons and NameNode logs"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Row:
    """One interval of the ledger, before its events are counted."""

    source_format: str
    source: str
    start_ms: int
    end_ms: int | None
    status: str
    reason: str
    object: str | None = None
    policy_id: int | None = None


@dataclass(frozen=True)
class Summary:
    """What the manifest records of the ledger."""

    period: tuple[int, int] | None
    sources: int
    rows: dict[str, int] = field(default_factory=dict)
    gaps_in_windows: int = 0
    basis: str = ""

    def as_dict(self) -> dict[str, object]:
        """The manifest's `coverage` section."""
        period = None
        if self.period is not None:
            period = {"start": _iso(self.period[0]), "end": _iso(self.period[1])}
        return {
            "period": period,
            "sources": self.sources,
            "rows": {s: self.rows.get(s, 0) for s in STATUSES},
            "gaps_overlapping_windows": self.gaps_in_windows,
            "basis": self.basis,
        }


def build_coverage(
    con: duckdb.DuckDBPyConnection,
    case: Case,
    catalog: Catalog,
    windows: Sequence[Window],
    quarantined: Iterable[tuple[str, int, str]],
    lines: dict[str, int],
) -> Summary:
    """The `coverage` table for the case's ingested events (`raw_events`), its exposure
    windows, its quarantined lines (file, line, reason) and the line count of each file."""
    files = log_files(case)
    load_files(con, files)
    horizons = load_agents(con, case)
    queries.execute(con, "coverage/minutes")
    spans = queries.relation(con, "coverage/source_spans").fetchall()
    file_spans = {r[0]: r for r in queries.relation(con, "coverage/file_spans").fetchall()}
    spans_of = _Windows.of(windows)
    period = _period(case, spans_of, spans)

    gaps = _silences(con, spans)
    gaps += _edges(con, spans, period)
    gaps += _sequence_gaps(con)
    gaps += _rotation_gaps(files, file_spans)
    gaps += _cut_short(case, quarantined, lines, file_spans)
    gaps += _namenode_gaps(con, case, period)
    gaps += _declared_gaps(case, spans, period)
    expired = [
        Row("ranger-solr", host, period[0], h.horizon_ms, EXPIRED, _expired_reason(h))
        for h in horizons
        if period is not None and period[0] < h.horizon_ms
        for host in (h.hosts or (h.source_file,))
    ]
    covered = _covered(spans, period, gaps + expired)
    summarized = [
        Row(fmt, src, hour, hour + rates.HOUR_MS, SUMMARIZED, _summary_reason(records, accesses))
        for fmt, src, hour, records, accesses in queries.relation(
            con, "coverage/summarized"
        ).fetchall()
    ]
    blind = policy_rows(case, catalog, period)
    rows = sorted(set(covered + gaps + expired + summarized + blind), key=_order)
    load_rows(con, "coverage_rows", _ROW_SCHEMA, (_arrow_row(r, spans_of) for r in rows))
    queries.execute(con, "coverage/decided")
    queries.execute(con, "coverage/ledger_events")
    queries.execute(con, "coverage/forget")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    missing = [r for r in rows if r.status in (GAP, EXPIRED, UNAUDITED)]
    in_windows = sum(1 for r in missing if spans_of.overlapped(r))
    return Summary(period, len(spans), counts, in_windows, BASIS)


def policy_rows(case: Case, catalog: Catalog, period: tuple[int, int] | None) -> list[Row]:
    """The `unaudited` rows: audit-off policies per object over the states they were in
    force, and over the period the plugin's audit filters and excluded principals."""
    blind = [
        Row(
            "ranger-audit",
            u.service,
            _ms(u.start),
            _ms(u.end) if u.end is not None else (period[1] if period else None),
            UNAUDITED,
            f"policy {u.policy_id}" + (" (HDFS reads of its files)" if u.engine == "hdfs" else ""),
            u.object,
            u.policy_id,
        )
        for u in unaudited(case, catalog, _utc(period[1]) if period else None)
    ]
    if period is not None:
        blind += [
            Row("ranger-audit", "service_config", period[0], period[1], UNAUDITED, f.reason, obj)
            for f in audit_filters(case, catalog)
            for obj in (f.objects if f.objects is not None else (None,))
        ]
        blind += [
            Row("ranger-audit", "service_config", period[0], period[1], UNAUDITED, e.reason)
            for e in audit_exclusions(case)
        ]
    return blind


def _period(case: Case, windows: _Windows, spans: Sequence[tuple]) -> tuple[int, int] | None:
    """The investigated period in epoch ms: declared, else the span of the windows (an open
    window reaching the last event of any source)."""
    if case.coverage.period is not None:
        start, end = case.coverage.period
        return _ms(start), _ms(end)
    if not windows.all:
        return None
    start = min(a for a, _ in windows.all)
    last_event = max((s[3] for s in spans), default=start) + 1
    end = max(b if b != _FAR else last_event for _, b in windows.all)
    return (start, end) if end > start else None


def _silences(con: duckdb.DuckDBPyConnection, spans: Sequence[tuple]) -> list[Row]:
    """Silences the source's rate around them, or its weekly pattern, makes implausible."""
    silences = queries.relation(con, "coverage/silences").fetchall()
    if not silences:
        return []
    span_of = {(s[0], s[1]): (s[2], s[3]) for s in spans}
    hours: dict[tuple[str, str], dict[int, int]] = {}
    if any(last - first > rates.WEEK_MS for first, last in span_of.values()):  # other weeks
        for fmt, src, hour, events in queries.relation(con, "coverage/source_hours").fetchall():
            hours.setdefault((fmt, src), {})[hour] = events
    rows = []
    for fmt, src, start, end, before, after in silences:
        reason = rates.silence_gap(end - start, before, after)
        if reason is None and (fmt, src) in hours:
            first, last = span_of[(fmt, src)]
            reason = rates.weekly_gap(start + 1, end, hours[(fmt, src)], first, last)
        if reason is not None and _failed_over(con, fmt, src, start + 1, end):
            continue
        if reason is not None:  # from just after the last event to the next one
            rows.append(Row(fmt, src, start + 1, end, GAP, reason))
    return rows


def _failed_over(con: duckdb.DuckDBPyConnection, fmt: str, src: str, start: int, end: int) -> bool:
    """Whether another NameNode's audit log kept recording while this one was silent (an HA
    failover: the standby writes no audit), at the rate a silence is judged against."""
    if fmt != "hdfs-audit" or end <= start:
        return False
    ((events,),) = queries.relation(
        con, "coverage/other_namenodes", source=src, start=_naive(start), end=_naive(end)
    ).fetchall()
    return events * rates.HOUR_MS >= rates.MIN_BUSY * (end - start)


def _edges(
    con: duckdb.DuckDBPyConnection, spans: Sequence[tuple], period: tuple[int, int] | None
) -> list[Row]:
    """A source that starts after the period starts or stops before it ends."""
    if period is None:
        return []
    rows = []
    for fmt, src, first, last, _, first_hour, last_hour in spans:
        if first > period[0]:
            others = _others(con, fmt, src, period[0], first)
            reason = rates.edge_gap("starts", first - period[0], first_hour, others)
            if reason is not None and not _failed_over(con, fmt, src, period[0], first):
                rows.append(Row(fmt, src, period[0], first, GAP, reason))
        if last + 1 < period[1]:
            others = _others(con, fmt, src, last + 1, period[1])
            reason = rates.edge_gap("stops", period[1] - last - 1, last_hour, others)
            if reason is not None and not _failed_over(con, fmt, src, last + 1, period[1]):
                rows.append(Row(fmt, src, last + 1, period[1], GAP, reason))
    return rows


def _others(con: duckdb.DuckDBPyConnection, fmt: str, src: str, start: int, end: int) -> int:
    ((events,),) = queries.relation(
        con,
        "coverage/busy",
        source_format=fmt,
        source=src,
        start=_naive(start),
        end=_naive(end),
    ).fetchall()
    return int(events)


def _sequence_gaps(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """`seq_num` jumps within one Ranger audit handler; the events are read for them only
    when some handler logged past its first event."""
    queries.execute(con, "coverage/handlers")
    ((agents,),) = queries.relation(con, "coverage/handler_rows").fetchall()
    if not agents:
        return []
    queries.execute(con, "coverage/sequenced")
    rows = []
    for fmt, src, agent, handler, previous, seq, start, end in queries.relation(
        con, "coverage/sequence_gaps"
    ).fetchall():
        lost = seq - previous - 1
        numbers = f"{previous + 1}" if lost == 1 else f"{previous + 1}-{seq - 1}"
        reason = (
            f"seq_num {numbers} missing ({lost} event{'s' if lost > 1 else ''}) "
            f"in the {agent or 'Ranger'} audit handler {handler}"
        )
        rows.append(Row(fmt, src, start + 1, max(end, start + 1), GAP, reason))
    return rows


def _rotation_gaps(files, file_spans: dict[str, tuple]) -> list[Row]:
    """Files missing from a rotated series: between the last event of the file before the
    hole and the first of the file after it (a dated series: the dates missing, when the
    files beside them were busy)."""
    formats = {f.rel: f.format for f in files}
    rows = []
    for hole in holes(files):
        older, newer = file_spans.get(hole.older), file_spans.get(hole.newer)
        if older is None or newer is None:
            continue
        source = older[5]
        reason = f"rotated file {hole.missing} of {hole.file_set} missing"
        if hole.start_ms is None:
            start = older[2] + 1
            rows.append(Row(formats[hole.older], source, start, max(newer[1], start), GAP, reason))
            continue
        step = hole.end_ms - hole.start_ms if hole.end_ms is not None else rates.HOUR_MS
        hours = max(1, min(step, 24 * rates.HOUR_MS) // rates.HOUR_MS)
        if min(older[3], newer[3]) >= rates.MIN_BUSY * hours:
            rows.append(
                Row(
                    formats[hole.older],
                    source,
                    hole.start_ms,
                    hole.end_ms or hole.start_ms + step,
                    GAP,
                    reason,
                )
            )
    return rows


def _cut_short(
    case: Case,
    quarantined: Iterable[tuple[str, int, str]],
    lines: dict[str, int],
    file_spans: dict[str, tuple],
) -> list[Row]:
    """A file cut short: from its last event to the next event of its source in another file
    (open-ended when no later event is known)."""
    rows = []
    for rel, why in sorted(cut_short(case, quarantined, lines, LINE_FORMATS).items()):
        span = file_spans.get(rel)
        if span is None:
            continue
        _, _, last, _, fmt, source, _ = span
        later = [s[1] for f, s in file_spans.items() if f != rel and s[6] == source and s[1] > last]
        end = min(later) if later else None  # nothing after the cut: what followed is unknown
        rows.append(Row(fmt, source, last + 1, end, GAP, f"{rel} cut short: {why}"))
    return rows


def _namenode_gaps(
    con: duckdb.DuckDBPyConnection, case: Case, period: tuple[int, int] | None
) -> list[Row]:
    """NameNode activity the Ranger HDFS plugin saw and no NameNode audit log recorded,
    within the period when there is one (NameNode logs are often collected for it only)."""
    if not any(s.format == "hdfs-audit" for s in case.logs):
        return []
    runs: list[list] = []
    for host, hour, events in queries.relation(con, "coverage/namenode_unlogged").fetchall():
        if period is not None and not (hour < period[1] and hour + rates.HOUR_MS > period[0]):
            continue
        if runs and runs[-1][0] == host and runs[-1][2] == hour:
            runs[-1][2] = hour + rates.HOUR_MS
            runs[-1][3] += events
        else:
            runs.append([host, hour, hour + rates.HOUR_MS, events])
    return [
        Row(
            "hdfs-audit",
            host,
            start,
            end,
            GAP,
            f"the Ranger HDFS plugin on {host} recorded {events} file accesses that no "
            "NameNode audit log of the case recorded (a failover to a NameNode whose "
            "audit log was not collected, or a lost part of the log)",
        )
        for host, start, end, events in runs
    ]


def _declared_gaps(case: Case, spans: Sequence[tuple], period: tuple[int, int] | None) -> list[Row]:
    """Sources the case expects (`coverage.sources`) that wrote no event at all, over the
    period (without one: the span of every source's events)."""
    if period is None and spans:
        period = (min(s[2] for s in spans), max(s[3] for s in spans) + 1)
    if period is None:
        return []
    seen = [(s[0], s[1]) for s in spans]
    rows = []
    for expected in case.coverage.sources:
        if not any(
            fmt == expected.format and fnmatch.fnmatchcase(src, expected.source)
            for fmt, src in seen
        ):
            reason = "the case expects this source (coverage.sources) and it wrote no event"
            rows.append(Row(expected.format, expected.source, period[0], period[1], GAP, reason))
    return rows


def _covered(
    spans: Sequence[tuple], period: tuple[int, int] | None, missing: Sequence[Row]
) -> list[Row]:
    """Each source's span (its events and the period) minus its gaps and expired stretches."""
    rows = []
    for fmt, src, first, last, _, _, _ in spans:
        start, end = first, last + 1
        if period is not None:
            start, end = min(start, period[0]), max(end, period[1])
        holes_ = sorted(
            (r.start_ms, r.end_ms if r.end_ms is not None else _FAR)
            for r in missing
            if r.source_format == fmt and r.source == src
        )
        cursor = start
        for a, b in holes_:
            if a > cursor:
                rows.append(Row(fmt, src, cursor, min(a, end), COVERED, "", None))
            cursor = max(cursor, b)
            if cursor >= end:
                break
        if cursor < end:
            rows.append(Row(fmt, src, cursor, end, COVERED, ""))
    return [r for r in rows if r.end_ms is None or r.end_ms > r.start_ms]


def _expired_reason(h) -> str:
    days = h.ttl_ms / 86_400_000
    return (
        f"{h.source_file}: Solr keeps audits {days:g} days (_ttl_/_expire_at_); the export "
        f"holds documents up to {_iso(h.last_ms)}, so older audits had been deleted"
    )


def _summary_reason(records: int, accesses: int) -> str:
    return (
        f"{records} event{'s' if records != 1 else ''} summarized by the plugin stand for "
        f"{accesses} accesses (event_count > 1); their times are approximate"
    )


@dataclass(frozen=True)
class _Windows:
    """The exposure windows as distinct intervals in epoch ms (open end: `_FAR`), overall
    and per object: many objects share one window, so rows are matched to few intervals."""

    all: tuple[tuple[int, int], ...]
    by_object: dict[str, tuple[tuple[int, int], ...]]

    @classmethod
    def of(cls, windows: Sequence[Window]) -> _Windows:
        per: dict[str, set[tuple[int, int]]] = {}
        for w in windows:
            interval = (_ms(w.start), _ms(w.end) if w.end is not None else _FAR)
            per.setdefault(w.object, set()).add(interval)
        every = sorted({i for intervals in per.values() for i in intervals})
        return cls(tuple(every), {o: tuple(sorted(i)) for o, i in per.items()})

    def overlapped(self, row: Row) -> list[tuple[int, int]]:
        """The intervals `row` overlaps (of its object, for an object's row); a row of no
        length overlaps the intervals that contain its instant."""
        intervals = self.all if row.object is None else self.by_object.get(row.object, ())
        end = row.end_ms if row.end_ms is not None else _FAR
        return [
            (a, b)
            for a, b in intervals
            if row.start_ms < b and (end > a or (end == row.start_ms and row.start_ms >= a))
        ]


def _arrow_row(row: Row, windows: _Windows) -> tuple:
    intervals = [f"{_iso(a)}/{_iso(b) if b != _FAR else ''}" for a, b in windows.overlapped(row)]
    return (
        row.source_format,
        row.source,
        _naive(row.start_ms),
        _naive(row.end_ms) if row.end_ms is not None else None,
        row.status,
        row.reason or None,
        ";".join(sorted(intervals)) or None,
        row.object,
        row.policy_id,
    )


def _order(row: Row) -> tuple:
    return (
        row.source_format,
        row.source,
        row.start_ms,
        row.end_ms if row.end_ms is not None else _FAR,
        row.status,
        row.reason,
        row.object or "",
    )


def _ms(moment: datetime) -> int:
    return (moment.astimezone(timezone.utc) - _EPOCH) // timedelta(milliseconds=1)


def _utc(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _naive(ms: int) -> datetime:
    return (_EPOCH + timedelta(milliseconds=ms)).replace(tzinfo=None)


def _iso(ms: int) -> str:
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
