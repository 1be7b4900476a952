"""Coverage of a warehouse run: the ledger from hourly counts the warehouse computes.

A run on a warehouse (`forensics investigate --profile`) fetches a slice: the events of the
objects in scope. A slice cannot say what the logs lack (an hour without events of the
exposed tables is a quiet hour of those tables, not a loss of the log), so the ledger is
not computed from it. Instead the warehouse summarises every event it holds with one
read-only aggregate (`queries/warehouse/coverage_hours.sql`): events per source file,
format and UTC hour, and how many a plugin summarized. From these counts:

- `source` is the file set of the source file (its name without rotation number or date,
  as `sources` names it): the `events` table carries no `agentHost`;
- `gap`: an hour or more without events between hours the source's own rate makes
  implausible to be quiet, or by its weekly pattern (`rates`, as for the files), and a
  source that starts after the investigated period starts or stops before it ends while
  the other sources kept writing;
- `summarized`: hours with events of `event_count` > 1;
- `unaudited`: as for the files (policies and the plugin's configuration, `audit`).

What needs the raw records is not said: `seq_num` jumps (no `seq_num` column), files
missing from a rotated series or cut short, Solr TTL horizons, NameNode failovers. Rows are
whole UTC hours (the period is widened to them), so the `events` of each row is exact. The
manifest's `coverage.basis` names the basis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

import duckdb
import pyarrow as pa

from forensics.case import Case
from forensics.catalog import Catalog
from forensics.coverage import (
    _FAR,
    _ROW_SCHEMA,
    EXPIRED,
    GAP,
    SUMMARIZED,
    UNAUDITED,
    Row,
    Summary,
    _arrow_row,
    _covered,
    _order,
    _period,
    _summary_reason,
    _Windows,
    policy_rows,
    rates,
)
from forensics.coverage.sources import _classify
from forensics.engine import load_rows
from forensics.errors import QueryError
from forensics.scope import Window

BASIS = (
    "warehouse: events per source file set and UTC hour, counted where the events are "
    "kept (seq_num, rotated files, cut files, Solr TTL and NameNode failover not checked)"
)
_HOUR = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2})$")
_SCHEMA = [*_ROW_SCHEMA, ("events", pa.int64())]


def hour_ms(text: str) -> int:
    """Epoch ms of an hour the warehouse wrote as `yyyy-MM-dd HH` (UTC)."""
    match = _HOUR.match(str(text))
    if match is None:
        raise QueryError(
            f"warehouse coverage: hour {str(text)[:20]!r} is not yyyy-MM-dd HH; the events "
            "table's time column must be a timestamp"
        )
    y, m, d, h = (int(g) for g in match.groups())
    return int(datetime(y, m, d, h, tzinfo=timezone.utc).timestamp() * 1000)


def build_counted_coverage(
    con: duckdb.DuckDBPyConnection,
    case: Case,
    catalog: Catalog,
    windows: Sequence[Window],
    hours: Iterable[dict],
    policy_events: Iterable[tuple[str, int, int]] = (),
) -> Summary:
    """The `coverage` table from the warehouse's hourly counts (`coverage_hours` rows) and
    the Ranger events of audit-off policies (object, policy id, epoch ms)."""
    counts: dict[tuple[str, str], dict[int, int]] = {}
    summarized: dict[tuple[str, str], dict[int, tuple[int, int]]] = {}
    for row in hours:
        fmt, rel = str(row["source_format"]), str(row["source_file"])
        source = (fmt, _classify(rel, fmt, case.timezone).file_set)
        hour = hour_ms(row["hour"])
        per = counts.setdefault(source, {})
        per[hour] = per.get(hour, 0) + int(row["events"])
        if int(row["summarized"] or 0):
            both = summarized.setdefault(source, {})
            records, accesses = both.get(hour, (0, 0))
            both[hour] = (records + int(row["summarized"]), accesses + int(row["accesses"]))
    spans = [
        (fmt, src, min(per), max(per) + rates.HOUR_MS - 1, sum(per.values()), 0, 0)
        for (fmt, src), per in sorted(counts.items())
    ]
    spans_of = _Windows.of(windows)
    period = _period(case, spans_of, spans)
    if period is not None:  # whole hours: every row's count is exact
        period = (_floor(period[0]), -(-period[1] // rates.HOUR_MS) * rates.HOUR_MS)
    gaps = [g for source, per in sorted(counts.items()) for g in _silences(source, per)]
    gaps += _edges(counts, period)
    covered = _covered(spans, period, gaps)
    rows = covered + gaps
    rows += [
        Row(fmt, src, hour, hour + rates.HOUR_MS, SUMMARIZED, _summary_reason(*both))
        for (fmt, src), per in sorted(summarized.items())
        for hour, both in sorted(per.items())
    ]
    rows += policy_rows(case, catalog, period)
    rows = sorted(set(rows), key=_order)
    decided = list(policy_events)
    load_rows(
        con,
        "coverage",
        _SCHEMA,
        (_arrow_row(r, spans_of) + (_events(r, counts, summarized, decided),) for r in rows),
    )
    tally: dict[str, int] = {}
    for r in rows:
        tally[r.status] = tally.get(r.status, 0) + 1
    missing = [r for r in rows if r.status in (GAP, EXPIRED, UNAUDITED)]
    in_windows = sum(1 for r in missing if spans_of.overlapped(r))
    return Summary(period, len(spans), tally, in_windows, BASIS)


def _floor(ms: int) -> int:
    return ms // rates.HOUR_MS * rates.HOUR_MS


def _silences(source: tuple[str, str], per: dict[int, int]) -> list[Row]:
    """Runs of empty hours between two hours with events that the rate around them, or
    the source's weekly pattern, makes implausible."""
    fmt, src = source
    hours = sorted(per)
    first, last = hours[0], hours[-1] + rates.HOUR_MS - 1
    rows = []
    for before, after in zip(hours, hours[1:], strict=False):
        start, end = before + rates.HOUR_MS, after
        if end <= start:
            continue
        reason = rates.silence_gap(end - start, per[before], per[after])
        if reason is None:
            reason = rates.weekly_gap(start, end, per, first, last)
        if reason is not None:
            rows.append(Row(fmt, src, start, end, GAP, reason))
    return rows


def _edges(
    counts: dict[tuple[str, str], dict[int, int]], period: tuple[int, int] | None
) -> list[Row]:
    """A source that starts after the period starts or stops before it ends."""
    if period is None:
        return []

    def others(source: tuple[str, str], start: int, end: int) -> int:
        return sum(
            n
            for other, per in counts.items()
            if other != source
            for hour, n in per.items()
            if start <= hour < end
        )

    rows = []
    for source, per in sorted(counts.items()):
        first, last = min(per), max(per) + rates.HOUR_MS
        if first > period[0]:
            busy = others(source, period[0], first)
            reason = rates.edge_gap("starts", first - period[0], per[min(per)], busy)
            if reason is not None:
                rows.append(Row(*source, period[0], first, GAP, reason))
        if last < period[1]:
            busy = others(source, last, period[1])
            reason = rates.edge_gap("stops", period[1] - last, per[max(per)], busy)
            if reason is not None:
                rows.append(Row(*source, last, period[1], GAP, reason))
    return rows


def _events(
    row: Row,
    counts: dict[tuple[str, str], dict[int, int]],
    summarized: dict[tuple[str, str], dict[int, tuple[int, int]]],
    decided: list[tuple[str, int, int]],
) -> int:
    """The events behind a row, as `coverage/ledger_events` counts them from the files."""
    end = row.end_ms if row.end_ms is not None else _FAR
    if row.status == UNAUDITED:
        return sum(
            1
            for obj, pid, at in decided
            if obj == row.object and pid == row.policy_id and row.start_ms <= at < end
        )
    source = (row.source_format, row.source)
    if row.status == SUMMARIZED:
        per_hour = {h: both[0] for h, both in summarized.get(source, {}).items()}
    else:
        per_hour = counts.get(source, {})
    return sum(n for hour, n in per_hour.items() if row.start_ms <= hour < end)


def warehouse_coverage(
    con: duckdb.DuckDBPyConnection,
    wh,
    case: Case,
    catalog: Catalog,
    windows: Sequence[Window],
) -> Summary:
    """The `coverage` table of a warehouse run: the hourly counts and the events of the
    audit-off policies, each computed by a read-only query where the events are kept."""
    from forensics import warehouse  # the warehouse layer imports the stages, not back
    from forensics.pushdown import patterns

    hours = warehouse.run(wh, "warehouse/coverage_hours").to_pylist()
    blind = [r for r in policy_rows(case, catalog, None) if r.policy_id is not None]
    decided: list[tuple[str, int, int]] = []
    objects = sorted({r.object for r in blind if r.object is not None})
    ids = sorted({int(r.policy_id) for r in blind if r.policy_id is not None})
    if objects and ids:
        policies = "^(" + "|".join(str(i) for i in ids) + r")\z"
        for pattern in patterns(objects, exact=True):
            found = warehouse.run(
                wh, "warehouse/coverage_policy_events", objects=pattern, policies=policies
            )
            decided += [
                (str(r["object"]), int(r["policy_id"]), _epoch_ms(r["time"]))
                for r in found.to_pylist()
            ]
    return build_counted_coverage(con, case, catalog, windows, hours, decided)


def _epoch_ms(value: object) -> int:
    """Epoch ms of a time the warehouse returned (a datetime, naive = UTC, or its text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise QueryError(f"warehouse coverage: time {str(value)[:30]!r} is not a timestamp")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)
