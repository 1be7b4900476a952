"""Validity schedules: when a Ranger policy (or a tag) is in force.

A policy's `validitySchedules` restrict it to periods; the policy applies when any one of
them does (`RangerValidityScheduleEvaluator`). A schedule has an optional `startTime` and
`endTime` (`yyyy/MM/dd HH:mm:ss`, both inclusive, in the schedule's `timeZone`, GMT when
it names none) and optional `recurrences`: each a cron-like `schedule` (`minute`, `hour`,
`dayOfMonth`, `dayOfWeek` 1 = Sunday .. 7 = Saturday, `month` 1-12, `year`; each `*`, a
number, a range `a-b` or a comma-separated list of these) and an `interval` (`days`,
`hours`, `minutes`). A recurrence is in force from each instant its schedule names (day
of month OR day of week, as Ranger takes the later of the two) for the interval, ends
included; a schedule with recurrences applies inside its start and end only when one of
them is in force.

Ranger matches recurrences against the clock of the plugin's host (Java's default time
zone), not the schedule's `timeZone`; `host_zone` says which clock that was, and without
it the schedule's own time zone is taken (what an admin writing the schedule means).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from forensics.errors import PolicyError

#: Ranger's schedule fields and their bounds (`RecurrenceSchedule.ScheduleFieldSpec`).
FIELDS = {
    "minute": (0, 59),
    "hour": (0, 23),
    "dayOfMonth": (1, 31),
    "dayOfWeek": (1, 7),
    "month": (1, 12),
    "year": (2017, 2100),
}
TIME_FORMAT = "%Y/%m/%d %H:%M:%S"
#: Applicability is inclusive of an interval's last millisecond (Ranger compares ms).
TICK = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Recurrence:
    """One recurrence: the values each field allows (None: any value; for the two day
    fields, None: the field is blank and plays no part) and how long each lasts."""

    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days_of_month: frozenset[int] | None
    days_of_week: frozenset[int] | None
    months: frozenset[int] | None
    years: frozenset[int] | None
    day_of_month_blank: bool
    day_of_week_blank: bool
    days: int
    hours_long: int
    minutes_long: int

    def length(self) -> timedelta:
        """The interval as a duration (used to bound searches; wall-clock arithmetic
        decides the end of each occurrence)."""
        return timedelta(days=self.days, hours=self.hours_long, minutes=self.minutes_long)

    def _day(self, day: date) -> bool:
        if self.months is not None and day.month not in self.months:
            return False
        if self.years is not None and day.year not in self.years:
            return False
        by_month = not self.day_of_month_blank and (
            self.days_of_month is None or day.day in self.days_of_month
        )
        weekday = (day.weekday() + 1) % 7 + 1  # Java's Calendar: Sunday 1 .. Saturday 7
        by_week = not self.day_of_week_blank and (
            self.days_of_week is None or weekday in self.days_of_week
        )
        return by_month or by_week

    def _times(self) -> list[tuple[int, int]]:
        hours = sorted(self.hours) if self.hours is not None else range(24)
        minutes = sorted(self.minutes) if self.minutes is not None else range(60)
        return [(h, m) for h in hours for m in minutes]

    def starts(self, first: date, last: date, zone: ZoneInfo) -> Iterator[datetime]:
        """Every start of an occurrence on the local days `first`..`last`, ascending."""
        times = self._times()
        day = first
        while day <= last:
            if self._day(day):
                for h, m in times:
                    yield datetime.combine(day, time(h, m), tzinfo=zone)
            day += timedelta(days=1)

    def end_of(self, start: datetime) -> datetime:
        """The last instant of the occurrence starting at `start` (Calendar.add on the
        local clock: minutes, hours, then days)."""
        local = start + timedelta(minutes=self.minutes_long, hours=self.hours_long)
        return (local + timedelta(days=self.days)).astimezone(timezone.utc)

    def in_force(self, when: datetime, zone: ZoneInfo) -> bool:
        """Whether an occurrence holds `when`: the latest start at or before it, plus the
        interval, reaches it."""
        now = when.astimezone(zone)
        earliest = (now - self.length() - timedelta(days=1)).date()
        times = self._times()
        day = now.date()
        while day >= earliest:
            if self._day(day):
                for h, m in reversed(times):
                    start = datetime.combine(day, time(h, m), tzinfo=zone)
                    if start <= now:
                        return when <= self.end_of(start)
            day -= timedelta(days=1)
        return False


@dataclass(frozen=True)
class ValiditySchedule:
    """A validity schedule ready to evaluate: its bounds (aware) and recurrences."""

    start: datetime | None
    end: datetime | None
    zone: ZoneInfo
    recurrences: tuple[Recurrence, ...]
    text: str  # as evidence names it

    def applies(self, when: datetime, host_zone: ZoneInfo | None = None) -> bool:
        """Whether the schedule is in force at `when` (Ranger: start and end inclusive)."""
        if self.start is not None and when < self.start:
            return False
        if self.end is not None and when > self.end:
            return False
        clock = host_zone or self.zone
        return not self.recurrences or any(r.in_force(when, clock) for r in self.recurrences)

    def flips(
        self, after: datetime, until: datetime, host_zone: ZoneInfo | None = None
    ) -> list[datetime]:
        """The instants in `(after, until]` at which `applies` changes (an occurrence or
        the schedule starts, or the millisecond after one ends), ascending."""
        edges: set[datetime] = set()
        if self.start is not None:
            edges.add(self.start)
        if self.end is not None:
            edges.add(self.end + TICK)
        clock = host_zone or self.zone
        low = max(after, self.start) if self.start is not None else after
        high = min(until, self.end) if self.end is not None else until
        for recurrence in self.recurrences if low <= high else ():
            first = (low.astimezone(clock) - recurrence.length() - timedelta(days=1)).date()
            spans: list[list[datetime]] = []
            for start in recurrence.starts(first, high.astimezone(clock).date(), clock):
                end = recurrence.end_of(start)
                if spans and start <= spans[-1][1] + TICK:
                    spans[-1][1] = max(spans[-1][1], end)
                else:
                    spans.append([start.astimezone(timezone.utc), end])
            for begin, end in spans:
                edges.update((begin, end + TICK))
        found = sorted(e for e in edges if after < e <= until)
        state = self.applies(after, host_zone)
        flips = []
        for edge in found:  # keep the instants where the answer really changes
            now = self.applies(edge, host_zone)
            if now != state:
                flips.append(edge)
                state = now
        return flips


def parse_schedule(raw: Mapping, where: str = "validity schedule") -> ValiditySchedule:
    """A `ValiditySchedule` from a policy's schedule object; a schedule Ranger Admin would
    refuse is a `PolicyError` saying what to fix."""
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: expected an object with startTime, endTime, timeZone")
    zone = zone_named(raw.get("timeZone"), where)
    start = _moment(raw.get("startTime"), zone, where)
    end = _moment(raw.get("endTime"), zone, where)
    recurrences = tuple(_recurrence(r, where) for r in raw.get("recurrences") or [])
    if start is None and end is None and not recurrences:
        raise PolicyError(f"{where}: gives neither startTime, endTime nor recurrences")
    if start is not None and end is not None and end < start:
        raise PolicyError(f"{where}: endTime is before startTime")
    text = f"{raw.get('startTime') or '...'} - {raw.get('endTime') or '...'} {zone.key}"
    if recurrences:
        text += f" with {len(recurrences)} recurrence{'s' if len(recurrences) > 1 else ''}"
    return ValiditySchedule(start, end, zone, recurrences, text)


def zone_named(name: object, where: str) -> ZoneInfo:
    """The time zone of a schedule (`GMT` when it names none, as Ranger)."""
    try:
        return ZoneInfo(str(name).strip() if name and str(name).strip() else "GMT")
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"{where}: unknown time zone {name!r}") from None


def _moment(text: object, zone: ZoneInfo, where: str) -> datetime | None:
    if text in (None, ""):
        return None
    try:
        return datetime.strptime(str(text), TIME_FORMAT).replace(tzinfo=zone)
    except ValueError:
        raise PolicyError(f"{where}: time {text!r} is not yyyy/MM/dd HH:mm:ss") from None


def _recurrence(raw: object, where: str) -> Recurrence:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: a recurrence must be an object with schedule and interval")
    schedule, interval = raw.get("schedule"), raw.get("interval")
    if not isinstance(schedule, Mapping) or not isinstance(interval, Mapping):
        raise PolicyError(f"{where}: a recurrence needs both a schedule and an interval")
    lengths = []
    for key in ("days", "hours", "minutes"):
        value = interval.get(key) or 0
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise PolicyError(f"{where}: interval {key} must be a whole number, not {value!r}")
        lengths.append(value)
    if not any(lengths):
        raise PolicyError(f"{where}: a recurrence's interval must be longer than zero")
    dom_blank = not str(schedule.get("dayOfMonth") or "").strip()
    dow_blank = not str(schedule.get("dayOfWeek") or "").strip()
    if dom_blank and dow_blank:
        raise PolicyError(f"{where}: a recurrence needs dayOfMonth or dayOfWeek")
    fields = {name: _field(schedule.get(name), name, where) for name in FIELDS}
    return Recurrence(
        minutes=fields["minute"],
        hours=fields["hour"],
        days_of_month=fields["dayOfMonth"],
        days_of_week=fields["dayOfWeek"],
        months=fields["month"],
        years=fields["year"],
        day_of_month_blank=dom_blank,
        day_of_week_blank=dow_blank,
        days=lengths[0],
        hours_long=lengths[1],
        minutes_long=lengths[2],
    )


def _field(value: object, name: str, where: str) -> frozenset[int] | None:
    """The values a schedule field allows; None for `*` or blank (any value)."""
    text = str(value if value is not None else "").replace(" ", "")
    if text in ("", "*"):
        return None
    low, high = FIELDS[name]
    found: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.partition("-")
        if "*" in (first, last):
            return None
        try:
            a = int(first)
            b = int(last) if sep else a
        except ValueError:
            raise PolicyError(f"{where}: {name} {value!r} is not numbers, ranges and *") from None
        if not (low <= a <= high and low <= b <= high) or b < a:
            raise PolicyError(f"{where}: {name} {part!r} is outside {low}-{high}")
        found.update(range(a, b + 1))
    return frozenset(found)
