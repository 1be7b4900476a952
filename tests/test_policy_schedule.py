"""Validity schedules: Ranger's own scheduler cases, recurrence semantics, and the exposure
windows a schedule opens and closes by itself."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from forensics.case import load_case
from forensics.catalog import load_catalog
from forensics.errors import CaseError, PolicyError
from forensics.policy import AccessRequest, PolicyEngine, load_service_def
from forensics.policy.schedule import TICK, parse_schedule
from forensics.scope import derive_scope
from tests.test_policy_conformance import DATA, access_time

#: Ranger's TestPolicyEngine.runValiditySchedulerTests sets the JVM's zone to PST.
PST = ZoneInfo("America/Los_Angeles")
UTC = timezone.utc
HIVE = load_service_def("hive")


def _scheduler_cases() -> list:
    cases = []
    for name in ("valid-and-applicable", "valid", "invalid"):
        for case in json.loads((DATA / f"test-validity-schedules-{name}.json").read_text()):
            cases.append(pytest.param(case, id=f"{name}: {case['name'][:60]}"))
    return cases


@pytest.mark.parametrize("case", _scheduler_cases())
def test_rangers_validity_scheduler_cases(case: dict) -> None:
    """Valid or refused, and applicable or not, as Ranger's own scheduler tests say."""
    try:
        schedules = [parse_schedule(s) for s in case["validitySchedules"]]
        valid = bool(schedules)
    except PolicyError:
        schedules, valid = [], False
    when = access_time(case["accessTime"])
    applicable = valid and any(s.applies(when, PST) for s in schedules)
    assert (valid, applicable) == (case["result"]["isValid"], case["result"]["isApplicable"])


def _weekday_office_hours(zone: str) -> dict:
    return {
        "startTime": "2026/06/01 00:00:00",
        "endTime": "2026/06/30 23:59:59",
        "timeZone": zone,
        "recurrences": [
            {
                "schedule": {
                    "minute": "0",
                    "hour": "9",
                    "dayOfMonth": "",
                    "dayOfWeek": "2-6",  # Monday..Friday (Sunday is 1)
                    "month": "*",
                    "year": "*",
                },
                "interval": {"hours": 8},
            }
        ],
    }


def test_recurrence_follows_the_schedules_time_zone() -> None:
    """Without a host zone the recurrence is read on the schedule's own clock: 09:00-17:00
    Kolkata on weekdays, ends included."""
    schedule = parse_schedule(_weekday_office_hours("Asia/Kolkata"))
    monday = datetime(2026, 6, 15, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert schedule.applies(monday.replace(hour=9))
    assert schedule.applies(monday.replace(hour=17))  # the end is inclusive
    assert not schedule.applies(monday.replace(hour=17, second=1))
    assert not schedule.applies(monday.replace(hour=8, minute=59))
    assert not schedule.applies((monday - timedelta(days=1)).replace(hour=12))  # Sunday
    # the same instant on a host clock in UTC: 09:00 UTC is 14:30 in Kolkata
    assert schedule.applies(datetime(2026, 6, 15, 9, 30, tzinfo=UTC), host_zone=ZoneInfo("UTC"))
    assert not schedule.applies(datetime(2026, 6, 15, 4, tzinfo=UTC), host_zone=ZoneInfo("UTC"))


def test_flips_are_the_instants_the_answer_changes() -> None:
    schedule = parse_schedule(_weekday_office_hours("UTC"))
    friday = datetime(2026, 6, 19, tzinfo=UTC)
    flips = schedule.flips(friday, friday + timedelta(days=3, hours=12))  # Fri .. Mon noon
    assert flips == [
        friday.replace(hour=9),
        friday.replace(hour=17) + TICK,
        friday.replace(day=22, hour=9),
    ]
    for at in flips:
        assert schedule.applies(at) != schedule.applies(at - TICK)


def test_day_of_month_or_day_of_week() -> None:
    """Both day fields given: either one starts an occurrence (Ranger takes the later)."""
    raw = {
        "recurrences": [
            {
                "schedule": {"minute": "0", "hour": "0", "dayOfMonth": "1", "dayOfWeek": "1"},
                "interval": {"days": 1},
            }
        ],
        "timeZone": "UTC",
    }
    schedule = parse_schedule(raw)
    assert schedule.applies(datetime(2026, 7, 1, 12, tzinfo=UTC))  # the 1st, a Wednesday
    assert schedule.applies(datetime(2026, 7, 5, 12, tzinfo=UTC))  # a Sunday
    assert not schedule.applies(datetime(2026, 7, 6, 12, tzinfo=UTC))


def _policy(pid: int, schedules: list[dict], user: str = "ann") -> dict:
    return {
        "id": pid,
        "name": f"p{pid}",
        "resources": {
            "database": {"values": ["mci"]},
            "table": {"values": ["*"]},
            "column": {"values": ["*"]},
        },
        "policyItems": [{"accesses": [{"type": "select"}], "users": [user]}],
        "validitySchedules": schedules,
    }


def test_a_policy_outside_its_recurring_schedule_does_not_apply() -> None:
    engine = PolicyEngine([_policy(1, [_weekday_office_hours("UTC")])], HIVE)

    def ask(when: datetime) -> bool:
        request = AccessRequest({"database": "mci", "table": "k"}, "select", "ann", time=when)
        return engine.evaluate(request).allowed

    assert ask(datetime(2026, 6, 16, 10, tzinfo=UTC))
    assert not ask(datetime(2026, 6, 16, 18, tzinfo=UTC))
    assert not ask(datetime(2026, 6, 20, 10, tzinfo=UTC))  # Saturday
    assert not ask(datetime(2026, 7, 1, 10, tzinfo=UTC))  # after endTime


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"startTime": "2026-06-01"}, "yyyy/MM/dd HH:mm:ss"),
        ({"startTime": "2026/06/01 00:00:00", "timeZone": "Mars/Base"}, "unknown time zone"),
        ({"recurrences": [{"schedule": {"dayOfWeek": "9"}, "interval": {"hours": 1}}]}, "1-7"),
    ],
)
def test_a_bad_schedule_says_what_to_fix(bad: dict, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        PolicyEngine([_policy(1, [bad])], HIVE)


def _scheduled_case(case_file: Path, schedules: list[dict]) -> Path:
    """The bundled incident with policy 6 (public on mci and hr, change-1.json) under
    `schedules`, and no change-2 closing it: only the schedule can close the window."""
    export = case_file.parent / "policies" / "change-1.json"
    raw = json.loads(export.read_text())
    for policy in raw["policies"]:
        if policy["id"] == 6:
            policy["validitySchedules"] = schedules
    export.write_text(json.dumps(raw))
    case = yaml.safe_load(case_file.read_text())
    case["policies"] = case["policies"][:2]
    case["window"] = {"start": "2026-06-18T00:00:00Z", "end": "2026-06-21T00:00:00Z"}
    case_file.write_text(yaml.safe_dump(case))
    return case_file


def _windows(case_file: Path, obj: str) -> list:
    case = load_case(case_file)
    scope = derive_scope(case, load_catalog(case), [])
    return [w for w in scope.windows if w.object == obj]


def test_a_one_time_schedule_opens_and_closes_a_window(incident: Path) -> None:
    schedule = {
        "startTime": "2026/06/18 09:30:00",
        "endTime": "2026/06/18 11:00:00",
        "timeZone": "UTC",
    }
    (window,) = _windows(_scheduled_case(incident, [schedule]), "mci.keystrokes")
    assert window.start == datetime(2026, 6, 18, 9, 30, tzinfo=UTC)
    assert window.end == datetime(2026, 6, 18, 11, tzinfo=UTC) + TICK
    assert window.opened_by.startswith("validity schedule of policy 6 starts (2026/06/18 09:30")
    assert window.closed_by.startswith("validity schedule of policy 6 ends")
    assert window.policy_ids == (6,)


def test_a_recurring_schedule_opens_a_window_per_occurrence(incident: Path) -> None:
    """Daily 10:00-10:30 UTC from the change on: three windows up to the case's end."""
    schedule = {
        "timeZone": "UTC",
        "recurrences": [
            {
                "schedule": {"minute": "0", "hour": "10", "dayOfMonth": "*", "dayOfWeek": ""},
                "interval": {"minutes": 30},
            }
        ],
    }
    windows = _windows(_scheduled_case(incident, [schedule]), "hr.salaries")
    assert [(w.start, w.end) for w in windows] == [
        (
            datetime(2026, 6, d, 10, tzinfo=UTC),
            datetime(2026, 6, d, 10, 30, tzinfo=UTC) + TICK,
        )
        for d in (18, 19, 20)
    ]
    assert all("validity schedule of policy 6" in w.opened_by for w in windows)


def test_the_case_says_on_whose_clock_recurrences_are_matched(incident: Path) -> None:
    """Ranger matches recurrences on the plugin host's clock (Java's default zone), not the
    schedule's `timeZone`: with `ranger_timezone: America/New_York` (UTC-4 in June) the
    daily 10:00 occurrence is 14:00 UTC."""
    schedule = {
        "timeZone": "UTC",
        "recurrences": [
            {
                "schedule": {"minute": "0", "hour": "10", "dayOfMonth": "*", "dayOfWeek": ""},
                "interval": {"minutes": 30},
            }
        ],
    }
    case_file = _scheduled_case(incident, [schedule])
    case = yaml.safe_load(case_file.read_text())
    case["ranger_timezone"] = "America/New_York"
    case_file.write_text(yaml.safe_dump(case))
    windows = _windows(case_file, "hr.salaries")
    assert [w.start for w in windows] == [
        datetime(2026, 6, d, 14, tzinfo=UTC) for d in (18, 19, 20)
    ]
    case["ranger_timezone"] = "Mars/Olympus"
    case_file.write_text(yaml.safe_dump(case))
    with pytest.raises(CaseError, match="ranger_timezone: unknown zone"):
        load_case(case_file)
