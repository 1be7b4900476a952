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

At the edges of the investigated period a source has only one side. A source that starts
after the period starts (or stops before it ends) leaves a gap when its first (last) hour
was busy and either the silence is at most `MAX_SILENCE_MS`, or the other sources of the
case kept writing at `MIN_BUSY` events an hour through it (the warehouse was in use, this
log did not record it).
"""

from __future__ import annotations

HOUR_MS = 3_600_000
MIN_SILENCE_MS = HOUR_MS
MAX_SILENCE_MS = 3 * HOUR_MS
MIN_BUSY = 20


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
