"""When a silence of a log source is evidence of missing events, and when it is a quiet hour.

Warehouses are quiet at night, at weekends and between batch runs, so a stretch without
events proves nothing by itself. A silence is a `gap` only when the source's own rate on
both sides of it makes the silence implausible:

- it lasts at least an hour (`MIN_SILENCE_MS`: the issue's "an hour with no events");
- the source wrote at least `MIN_BUSY` events in the hour before it and in the hour after
  it: at that rate an hour without any event has a chance of about e^-20 if events arrive
  independently, and traffic that tapers off (an evening) or starts up slowly (a morning)
  does not qualify;
- it lasts at most `MAX_SILENCE_MS` (3 h): a longer silence between busy hours is how a
  shift pattern or a nightly pause looks, and is not judged from rates alone.

A longer silence (or one between quiet hours) is still a gap when the source's own weekly
pattern says those hours are busy: for at least one hour of the silence, the same hour of the
week in other weeks (up to four before and after, within the source's span) was seen at least
`MIN_WEEKS` times with a median of at least `MIN_BUSY` events. A night or a weekend is quiet
in every week, so it is never a gap by this rule.

At the edges of the investigated period a source has only one side. A source that starts
after the period starts (or stops before it ends) leaves a gap when its first (last) hour
was busy and either the silence is at most `MAX_SILENCE_MS`, or the other sources of the
case kept writing at `MIN_BUSY` events an hour through it (the warehouse was in use, this
log did not record it).
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import median

HOUR_MS = 3_600_000
MIN_SILENCE_MS = HOUR_MS
MAX_SILENCE_MS = 3 * HOUR_MS
MIN_BUSY = 20
WEEK_MS = 7 * 24 * HOUR_MS
MIN_WEEKS = 2


def silence_gap(length_ms: int, before: int, after: int) -> str | None:
    """Why a silence between two events of a source is a gap, or None (a quiet stretch)."""
    if length_ms < MIN_SILENCE_MS or length_ms > MAX_SILENCE_MS:
        return None
    if min(before, after) < MIN_BUSY:
        return None
    return (
        f"no event for {_hours(length_ms)} although the source wrote {before} events "
        f"in the hour before and {after} in the hour after"
    )


def weekly_gap(
    start_ms: int, end_ms: int, hours: Mapping[int, int], first_ms: int, last_ms: int
) -> str | None:
    """Why a silence `[start_ms, end_ms)` of a source is a gap by its weekly pattern, or
    None. `hours`: the source's events per hour (hour start in epoch ms, absent = none);
    `first_ms`, `last_ms`: its first and last event (weeks outside them are unknown)."""
    hour = -(-start_ms // HOUR_MS) * HOUR_MS  # the first whole hour of the silence
    while hour + HOUR_MS <= end_ms:
        refs = [
            hours.get(hour + k * WEEK_MS, 0)
            for k in (-4, -3, -2, -1, 1, 2, 3, 4)
            if first_ms <= hour + k * WEEK_MS and hour + k * WEEK_MS + HOUR_MS <= last_ms
        ]
        if len(refs) >= MIN_WEEKS and median(refs) >= MIN_BUSY:
            return (
                f"no event for {_hours(end_ms - start_ms)}; the same hour of the week in "
                f"{len(refs)} other weeks had a median of {median(refs):g} events"
            )
        hour += HOUR_MS
    return None


def edge_gap(edge: str, length_ms: int, adjacent: int, others: int) -> str | None:
    """Why the silence between the period's start and a source's first event (`edge`
    'starts') or its last event and the period's end ('stops') is a gap, or None."""
    if length_ms < MIN_SILENCE_MS or adjacent < MIN_BUSY:
        return None
    hour = "first" if edge == "starts" else "last"
    where = "after the period starts" if edge == "starts" else "before the period ends"
    if length_ms <= MAX_SILENCE_MS:
        return f"source {edge} {_hours(length_ms)} {where}; its {hour} hour had {adjacent} events"
    if others * HOUR_MS >= MIN_BUSY * length_ms:
        return (
            f"source {edge} {_hours(length_ms)} {where}; its {hour} hour had {adjacent} "
            f"events and the other sources wrote {others} events meanwhile"
        )
    return None


def _hours(length_ms: int) -> str:
    return f"{length_ms / HOUR_MS:.1f} h"
