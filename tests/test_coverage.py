"""The coverage ledger: each status from a small case built here, no false gap on the
fixtures, and the done-when incident (an hour of Ranger audit lost inside the window and an
exposing policy with auditing off)."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from forensics import findings
from forensics.case import load_case
from forensics.cli import main
from forensics.coverage import rates
from forensics.coverage.audit import AUDIT_FILTERS
from forensics.errors import CaseError
from forensics.evidence import verify

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
DAY = datetime(2026, 6, 18, tzinfo=timezone.utc)
TABLES = [
    ("hr.salaries", "table", "/w/hr.db/salaries"),
    ("hr.staff", "table", "/w/hr.db/staff"),
    ("sales.orders", "table", "/w/sales.db/orders"),
]
GROUPS = [("hana", "hr"), ("henry", "hr"), ("sam", "sales"), ("mallory", "it")]


def _at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _uuid(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-{n:012x}"


def ranger(
    moment: datetime,
    user: str = "sam",
    table: str = "sales/orders",
    *,
    n: int = 0,
    seq: int | None = None,
    handler: int | None = None,
    host: str = "hs2-01.corp.example.com",
    count: int = 1,
    policy: int = 3,
    repo_type: int = 3,
    access: str = "SELECT",
) -> dict:
    """One Ranger audit event as the plugin writes it: a handler of its own per request
    (`<uuid>-0`, seq_num 1: numbered when created and again when logged) unless `handler`
    and `seq` say otherwise (then the id's counter is `seq` too)."""
    handler = n if handler is None else handler
    counter = 0 if seq is None else seq
    seq = 1 if seq is None else seq
    return {
        "repoType": repo_type,
        "repo": "cm_hive" if repo_type == 3 else "cm_hdfs",
        "reqUser": user,
        "evtTime": _local(moment),
        "access": access,
        "resource": table,
        "resType": "@table" if repo_type == 3 else "path",
        "action": "select" if repo_type == 3 else "read",
        "result": 1,
        "agent": "hiveServer2" if repo_type == 3 else "hdfs",
        "policy": policy,
        "enforcer": "ranger-acl",
        "cliIP": "10.0.0.1",
        "agentHost": host,
        "logType": "RangerAudit",
        "id": f"{_uuid(handler)}-{counter}",
        "seq_num": seq,
        "event_count": count,
        "event_dur_ms": 0,
    }


def steady(start: float, end: float, per_hour: int, first_n: int = 0, **kw) -> list[dict]:
    """Events at a steady rate from hour `start` to hour `end` (each its own request)."""
    step = 60 / per_hour
    events, minute, n = [], start * 60, first_n
    while minute < end * 60:
        events.append(ranger(_at(minute / 60), n=n, **kw))
        minute += step
        n += 1
    return events


def policy(pid: int, db: str, groups: list[str], audit: bool = True, version: int = 1) -> dict:
    return {
        "id": pid,
        "name": f"policy {pid}",
        "service": "cm_hive",
        "version": version,
        "isEnabled": True,
        "isAuditEnabled": audit,
        "policyType": 0,
        "resources": {
            "database": {"values": [db]},
            "table": {"values": ["*"]},
            "column": {"values": ["*"]},
        },
        "policyItems": [{"accesses": [{"type": "select", "isAllowed": True}], "groups": groups}],
    }


BASELINE = [policy(1, "hr", ["hr"]), policy(3, "sales", ["sales", "public"])]


def write_case(
    folder: Path,
    logs: dict[str, list[str] | bytes],
    changes: list[list[dict]] | None = None,
    coverage: dict | None = None,
    formats: dict[str, str] | None = None,
) -> Path:
    """A case folder: the catalog and directory above, policy snapshots (the baseline, then
    `changes` at 09:00 and 13:00) and the log files given (path -> lines or raw bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tables.csv").write_text(
        "object,type,location\n" + "".join(f"{o},{t},{loc}\n" for o, t, loc in TABLES)
    )
    (folder / "groups.csv").write_text(
        "principal,group\n" + "".join(f"{p},{g}\n" for p, g in GROUPS)
    )
    snapshots = [BASELINE] + (changes or [])
    policies = []
    for i, state in enumerate(snapshots):
        (folder / f"policies-{i}.json").write_text(json.dumps({"policies": state}))
        at = "2026-06-01T00:00:00Z" if i == 0 else f"2026-06-18T{9 + 4 * (i - 1):02d}:00:00Z"
        policies.append({"at": at, "path": f"policies-{i}.json"})
    entries = []
    for rel, content in logs.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text("".join(line + "\n" for line in content))
    for pattern, fmt in (formats or {"logs/ranger/*": "ranger-audit"}).items():
        entries.append({"format": fmt, "path": pattern})
    case = {
        "case": "coverage-test",
        "timezone": "UTC",
        "policies": policies,
        "directory": {"groups": "groups.csv"},
        "catalog": {"tables": "tables.csv"},
        "logs": entries,
    }
    if len(snapshots) == 1:
        case["window"] = {"start": "2026-06-18T09:00:00Z", "end": "2026-06-18T13:00:00Z"}
    if coverage is not None:
        case["coverage"] = coverage
    (folder / "case.yaml").write_text(yaml.safe_dump(case, sort_keys=False))
    return folder / "case.yaml"


def lines(events: list[dict]) -> list[str]:
    return [json.dumps(e) for e in events]


def investigate(case: Path, out: Path) -> list[dict]:
    assert main(["investigate", str(case), "--out", str(out)]) == 0
    with open(out / "coverage.csv", newline="") as f:
        return list(csv.DictReader(f))


def _status(rows: list[dict], status: str) -> list[dict]:
    return [r for r in rows if r["status"] == status]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


PERIOD = {"period": {"start": "2026-06-18T06:00:00Z", "end": "2026-06-18T16:00:00Z"}}


# --- the rate model -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "before", "after", "gap"),
    [
        (1.0, 30, 30, True),  # an hour silent between busy hours
        (2.5, 20, 25, True),
        (0.9, 100, 100, False),  # shorter than an hour: bursts and pauses
        (1.0, 30, 19, False),  # the morning starts slowly: quiet, not missing
        (1.0, 3, 40, False),  # an evening tapers off
        (8.0, 60, 60, False),  # a night between busy days: not judged from rates alone
    ],
)
def test_a_silence_is_a_gap_only_between_busy_hours(hours, before, after, gap) -> None:
    reason = rates.silence_gap(int(hours * rates.HOUR_MS), before, after)
    assert (reason is not None) == gap


@pytest.mark.parametrize(
    ("hours", "adjacent", "others", "gap"),
    [
        (2.0, 40, 0, True),
        (2.0, 5, 0, False),  # the source was quiet when it started: nothing says it missed any
        (10.0, 40, 0, False),  # the rest of the period may be night
        (10.0, 40, 400, True),  # the other logs kept recording meanwhile
        (10.0, 40, 100, False),
    ],
)
def test_a_source_starting_late_or_stopping_early(hours, adjacent, others, gap) -> None:
    reason = rates.edge_gap("stops", int(hours * rates.HOUR_MS), adjacent, others)
    assert (reason is not None) == gap


def test_weekly_pattern_makes_a_long_silence_a_gap_never_a_night() -> None:
    week, hour = rates.WEEK_MS, rates.HOUR_MS
    busy = {w * week + h * hour: 40 for w in range(3) for h in range(9, 17)}  # 09-17 daily
    span = (9 * hour, 2 * week + 17 * hour)
    outage = (2 * week + 10 * hour, 2 * week + 16 * hour)  # the third week, 10:00-16:00
    quiet = {k: v for k, v in busy.items() if not outage[0] <= k < outage[1]}
    reason = rates.weekly_gap(*outage, quiet, *span)
    assert reason is not None and "2 other weeks had a median of 40 events" in reason
    night = (1 * week + 17 * hour, 1 * week + 33 * hour)  # 17:00 to 09:00 next day
    assert rates.weekly_gap(*night, quiet, *span) is None
    assert rates.weekly_gap(*outage, quiet, 2 * week, span[1]) is None  # no other week known


# --- each status from its own small case ----------------------------------------------------


@pytest.mark.parametrize("lost", [11.0, 11.5])  # a clock hour, or any hour
def test_missing_hour_is_a_gap_quiet_hours_are_not(tmp_path: Path, lost: float) -> None:
    busy = steady(8, lost, 30) + steady(lost + 1, 15, 30, first_n=1000)
    night = [ranger(_at(h), n=5000 + i) for i, h in enumerate((0.5, 2.2, 5.9, 20.0, 23.5))]
    case = write_case(tmp_path / "case", {"logs/ranger/a.log": lines(night + busy)})
    rows = investigate(case, tmp_path / "out")
    gaps = _status(rows, "gap")
    assert len(gaps) == 1, gaps
    assert _at(lost - 0.05) <= _time(gaps[0]["start"]) <= _at(lost)
    assert _at(lost + 1) <= _time(gaps[0]["end"]) <= _at(lost + 1.05)
    assert gaps[0]["events"] == "0"
    assert gaps[0]["windows_overlapped"] == "2026-06-18T09:00:00.000Z/2026-06-18T13:00:00.000Z"
    assert "30 events in the hour before" in gaps[0]["reason"]
    covered = _status(rows, "covered")
    assert sum(int(r["events"]) for r in covered) == len(busy) + len(night)


def test_a_working_day_lost_in_the_third_week_is_a_gap(tmp_path: Path) -> None:
    """Three weeks of 09:00-17:00 traffic, two quiet days a week; on day 16 the audit of
    10:30-15:30 is lost: five hours, too long for the rate rule, busy in the other weeks."""
    events = []
    for day in range(21):
        if day % 7 in (5, 6):
            continue  # the two quiet days of each week: never gaps
        for e in steady(24 * day + 9, 24 * day + 17, 30, first_n=1000 * day):
            hours = (_time(e["evtTime"].replace(" ", "T") + "Z") - DAY).total_seconds() / 3600
            if day != 16 or not 24 * day + 10.5 <= hours < 24 * day + 15.5:
                events.append(e)
    case = write_case(tmp_path / "case", {"logs/ranger/a.log": lines(events)})
    gaps = _status(investigate(case, tmp_path / "out"), "gap")
    assert [(g["start"][:16], g["end"][:16]) for g in gaps] == [
        ("2026-07-04T10:28", "2026-07-04T15:30")
    ]
    assert "other weeks had a median of 30 events" in gaps[0]["reason"]


@pytest.mark.parametrize("layout", ["", "2026-06-18 10:00:00,000 INFO  xaaudit - "])
def test_seq_num_jump_within_one_handler_is_a_gap(tmp_path: Path, layout: str) -> None:
    events = [
        ranger(_at(10), handler=7, seq=0),
        ranger(_at(10.001), handler=7, seq=1),
        ranger(_at(10.002), handler=7, seq=4),  # 2 and 3 lost
        ranger(_at(10.5), handler=8, seq=5),  # another handler: its own numbering
        ranger(_at(11), handler=9, seq=0),
    ]
    written = [layout + line for line in lines(events)]  # bare, or behind a log4j prefix
    case = write_case(tmp_path / "case", {"logs/ranger/a.log": written})
    gaps = _status(investigate(case, tmp_path / "out"), "gap")
    reason = f"seq_num 2-3 missing (2 events) in the hiveServer2 audit handler {_uuid(7)}"
    assert [(g["source"], g["reason"]) for g in gaps] == [("hs2-01.corp.example.com", reason)]
    assert gaps[0]["start"] == "2026-06-18T10:00:03.601Z"
    assert gaps[0]["end"] == "2026-06-18T10:00:07.200Z"


def test_missing_rotation_is_a_gap(tmp_path: Path) -> None:
    logs = {
        "logs/hdfs/hdfs-audit.log.3": [hdfs_line(_at(8 + i / 60)) for i in range(5)],
        "logs/hdfs/hdfs-audit.log.1": [hdfs_line(_at(12 + i / 60)) for i in range(5)],
        "logs/hdfs/hdfs-audit.log": [hdfs_line(_at(13 + i / 60)) for i in range(5)],
    }
    case = write_case(tmp_path / "case", logs, formats={"logs/hdfs/*": "hdfs-audit"})
    gaps = _status(investigate(case, tmp_path / "out"), "gap")
    assert [(g["source"], g["reason"]) for g in gaps] == [
        ("logs/hdfs/hdfs-audit.log", "rotated file .2 of logs/hdfs/hdfs-audit.log missing")
    ]
    assert (gaps[0]["start"], gaps[0]["end"]) == (
        "2026-06-18T08:04:00.001Z",
        "2026-06-18T12:00:00.000Z",
    )


def test_a_file_cut_short_is_a_gap(tmp_path: Path) -> None:
    events = lines(steady(9, 10, 10))
    data = gzip.compress("".join(e + "\n" for e in events).encode())[:-30]
    later = lines(steady(11, 12, 10, first_n=100))
    logs = {"logs/ranger/a.log.1.gz": data, "logs/ranger/a.log": later}
    case = write_case(tmp_path / "case", logs)
    gaps = _status(investigate(case, tmp_path / "out"), "gap")
    assert len(gaps) == 1 and "logs/ranger/a.log.1.gz cut short" in gaps[0]["reason"]
    assert gaps[0]["end"] == "2026-06-18T11:00:00.000Z"


def test_expired_solr_range(tmp_path: Path) -> None:
    docs = []
    for i, e in enumerate(steady(0, 24, 2)):
        evt = _time(e["evtTime"].replace(" ", "T") + "Z") + timedelta(days=89)
        docs.append(
            {**e, "evtTime": evt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", "_ttl_": "+90DAYS"}
        )
        docs[-1]["_expire_at_"] = (evt + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
        docs[-1]["id"] = f"{_uuid(i)}-0"
    export = {"response": {"numFound": len(docs), "start": 0, "docs": docs}}
    coverage = {"period": {"start": "2026-06-01T00:00:00Z", "end": "2026-09-20T00:00:00Z"}}
    case = write_case(
        tmp_path / "case",
        {"logs/solr/export.json": [json.dumps(export)]},
        coverage=coverage,
        formats={"logs/solr/*.json": "ranger-solr"},
    )
    rows = investigate(case, tmp_path / "out")
    expired = _status(rows, "expired")
    assert len(expired) == 1
    row = expired[0]
    assert (row["source_format"], row["source"]) == ("ranger-solr", "hs2-01.corp.example.com")
    # the export holds documents up to 2026-09-15 23:30 and was made after that; kept 90
    # days, every audit before 2026-06-17 23:30 had been deleted by then
    assert row["start"] == "2026-06-01T00:00:00.000Z"
    assert row["end"] == "2026-06-17T23:30:00.000Z"
    assert "90 days" in row["reason"]
    assert not _status(rows, "gap")


def test_audit_disabled_policy_is_unaudited_for_the_objects_it_decides(tmp_path: Path) -> None:
    exposing = [policy(1, "hr", ["hr", "public"], audit=False, version=2), BASELINE[1]]
    case = write_case(
        tmp_path / "case",
        {"logs/ranger/a.log": lines([ranger(_at(10))])},
        changes=[exposing, BASELINE],
    )
    rows = _status(investigate(case, tmp_path / "out"), "unaudited")
    assert [(r["object"], r["reason"], r["start"], r["end"]) for r in rows] == [
        ("hr.salaries", "policy 1", "2026-06-18T09:00:00.000Z", "2026-06-18T13:00:00.000Z"),
        ("hr.staff", "policy 1", "2026-06-18T09:00:00.000Z", "2026-06-18T13:00:00.000Z"),
    ]
    assert rows[0]["windows_overlapped"] == "2026-06-18T09:00:00.000Z/2026-06-18T13:00:00.000Z"


def test_an_audited_policy_matching_the_object_keeps_it_audited(tmp_path: Path) -> None:
    broad = policy(9, "*", ["admins"])  # Ranger's default "all - database, table" policy
    exposing = [policy(1, "hr", ["hr", "public"], audit=False), BASELINE[1], broad]
    case = write_case(
        tmp_path / "case",
        {"logs/ranger/a.log": lines([ranger(_at(10))])},
        changes=[exposing, BASELINE],
    )
    assert not _status(investigate(case, tmp_path / "out"), "unaudited")


def test_users_excluded_by_the_plugins_audit_filters(tmp_path: Path) -> None:
    filters = (
        "[{'accessResult': 'DENIED', 'isAudited': true},"
        " {'users': ['hana'], 'resources': {'database': {'values': ['hr']}}, 'isAudited': false},"
        " {'users': ['sam'], 'actions': ['listStatus'], 'isAudited': false}]"
    )
    config = {
        "configs": {
            "ranger.plugin.super.users": "admin",
            AUDIT_FILTERS: filters,
            "ranger.plugin.audit.exclude.users": "hana, svc_backup",
        }
    }
    case = write_case(
        tmp_path / "case",
        {"logs/ranger/a.log": lines([ranger(_at(10))])},
        coverage=PERIOD,
    )
    (case.parent / "service.json").write_text(json.dumps(config))
    raw = yaml.safe_load(case.read_text())
    raw["service_config"] = "service.json"
    case.write_text(yaml.safe_dump(raw))
    rows = _status(investigate(case, tmp_path / "out"), "unaudited")
    assert [(r["object"], r["start"], r["end"]) for r in rows] == [
        ("hr.salaries", "2026-06-18T06:00:00.000Z", "2026-06-18T16:00:00.000Z"),
        ("hr.staff", "2026-06-18T06:00:00.000Z", "2026-06-18T16:00:00.000Z"),
        ("", "2026-06-18T06:00:00.000Z", "2026-06-18T16:00:00.000Z"),  # every object
    ]
    assert all(r["reason"].startswith("audit filter 2 of service_config") for r in rows[:2])
    assert rows[2]["reason"] == (
        "ranger.plugin.audit.exclude.users in service_config excludes 2 principal(s) from audit"
    )
    assert "not complete" in findings.coverage_statement(findings.load_evidence(tmp_path / "out"))
    assert "hana" not in (tmp_path / "out" / "coverage.csv").read_text()


def test_summarized_events(tmp_path: Path) -> None:
    events = [ranger(_at(10.2), count=5), ranger(_at(10.4), n=1)]
    case = write_case(tmp_path / "case", {"logs/ranger/a.log": lines(events)})
    rows = _status(investigate(case, tmp_path / "out"), "summarized")
    text = findings.coverage_statement(findings.load_evidence(tmp_path / "out"))
    assert text.startswith("Coverage of the exposure windows: complete.")  # counted, not lost
    assert "in 1 hour(s) of the windows a Ranger plugin summarized events" in text
    assert [(r["start"], r["end"], r["events"]) for r in rows] == [
        ("2026-06-18T10:00:00.000Z", "2026-06-18T11:00:00.000Z", "1")
    ]
    assert "stand for 5 accesses" in rows[0]["reason"]


def test_expected_source_that_wrote_nothing_is_a_gap(tmp_path: Path) -> None:
    coverage = {
        **PERIOD,
        "sources": [
            {"format": "ranger-audit", "source": "hs2-0*.corp.example.com"},
            {"format": "ranger-audit", "source": "hs2-02.corp.example.com"},
        ],
    }
    case = write_case(
        tmp_path / "case", {"logs/ranger/a.log": lines([ranger(_at(10))])}, coverage=coverage
    )
    gaps = _status(investigate(case, tmp_path / "out"), "gap")
    assert [(g["source"], g["start"], g["end"]) for g in gaps] == [
        ("hs2-02.corp.example.com", "2026-06-18T06:00:00.000Z", "2026-06-18T16:00:00.000Z")
    ]


def test_namenode_activity_no_namenode_log_recorded_is_a_gap(tmp_path: Path) -> None:
    hdfs_line = (
        "2026-06-18 10:00:00,000 INFO FSNamesystem.audit: allowed=true\tugi=sam (auth:KERBEROS)"
        "\tip=/10.0.0.1\tcmd=open\tsrc=/w/sales.db/orders/f\tdst=null\tperm=null\tproto=rpc"
    )
    plugin = [
        ranger(_at(10), repo_type=1, table="/w/sales.db/orders/f", access="read", host="nn1"),
        ranger(
            _at(11.5), n=1, repo_type=1, table="/w/sales.db/orders/f", access="read", host="nn2"
        ),
    ]
    case = write_case(
        tmp_path / "case",
        {"logs/ranger/a.log": lines(plugin), "logs/hdfs/hdfs-audit.log": [hdfs_line]},
        formats={"logs/ranger/*": "ranger-audit", "logs/hdfs/*": "hdfs-audit"},
    )
    gaps = _status(investigate(case, tmp_path / "out"), "gap")
    assert [(g["source_format"], g["source"], g["start"], g["end"]) for g in gaps] == [
        ("hdfs-audit", "nn2", "2026-06-18T11:00:00.000Z", "2026-06-18T12:00:00.000Z")
    ]
    assert "failover" in gaps[0]["reason"]


def hdfs_line(moment: datetime) -> str:
    return (
        f"{moment.strftime('%Y-%m-%d %H:%M:%S')},000 INFO FSNamesystem.audit: allowed=true\t"
        "ugi=sam (auth:KERBEROS)\tip=/10.0.0.1\tcmd=open\tsrc=/w/sales.db/orders/f\t"
        "dst=null\tperm=null\tproto=rpc"
    )


def _namenode(start: float, end: float) -> list[str]:
    return [hdfs_line(_at(start + i / 30)) for i in range(int((end - start) * 30))]


@pytest.mark.parametrize("standby_collected", [True, False])
def test_failover_between_namenode_logs(tmp_path: Path, standby_collected: bool) -> None:
    logs = {"logs/nn1/hdfs-audit.log": _namenode(8, 10) + _namenode(12, 15)}
    if standby_collected:  # nn2 was active 10:00-12:00 and its log is in the case
        logs["logs/nn2/hdfs-audit.log"] = _namenode(10, 12)
    case = write_case(tmp_path / "case", logs, formats={"logs/nn*/*": "hdfs-audit"})
    gaps = _status(investigate(case, tmp_path / "out"), "gap")
    if standby_collected:
        assert gaps == []
    else:
        assert [(g["source"], g["start"][:16], g["end"][:16]) for g in gaps] == [
            ("logs/nn1/hdfs-audit.log", "2026-06-18T09:58", "2026-06-18T12:00")
        ]


# --- the case file ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coverage", "message"),
    [
        ({"sources": "hs2"}, "coverage.sources: must be a list"),
        ({"period": {"start": "2026-06-18T10:00:00Z"}}, "coverage.period: must have exactly"),
        (
            {"period": {"start": "2026-06-18T10:00:00Z", "end": "2026-06-18T09:00:00Z"}},
            "coverage.period.end: must be after",
        ),
        ({"sources": [{"format": "syslog", "source": "a"}]}, "coverage.sources[0].format"),
        ({"sources": [{"format": "hdfs-audit"}]}, "coverage.sources[0]: must have exactly"),
        ({"sources": [{"format": "hdfs-audit", "source": ""}]}, "coverage.sources[0].source"),
        ({"expected": []}, "coverage.'expected': unknown key"),
        ([], "coverage: must be a mapping"),
    ],
)
def test_coverage_key_errors_name_the_key(tmp_path: Path, coverage, message) -> None:
    case = write_case(tmp_path / "case", {"logs/ranger/a.log": lines([ranger(_at(10))])})
    raw = yaml.safe_load(case.read_text())
    raw["coverage"] = coverage
    case.write_text(yaml.safe_dump(raw))
    with pytest.raises(CaseError) as err:
        load_case(case)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_coverage_key_is_read(tmp_path: Path) -> None:
    coverage = {**PERIOD, "sources": [{"format": "hdfs-audit", "source": "logs/hdfs/x.log"}]}
    case = write_case(
        tmp_path / "case", {"logs/ranger/a.log": lines([ranger(_at(10))])}, coverage=coverage
    )
    loaded = load_case(case).coverage
    assert loaded.period == (_at(6), _at(16))
    assert [(s.format, s.source) for s in loaded.sources] == [("hdfs-audit", "logs/hdfs/x.log")]


# --- the fixtures: no false gap -------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        "incident-small/case.yaml",
        "policy-history/case.yaml",
        "policy-history/case-versions.yaml",
        "policy-history/case-audit.yaml",
    ],
)
def test_fixtures_have_no_false_gap(tmp_path: Path, case: str) -> None:
    rows = investigate(FIXTURES / case, tmp_path / "out")
    gaps = _status(rows, "gap")
    # the bundled incident's second Ranger file ends in a line cut short (its story): a
    # real gap, after the last event and outside every window; nothing else is missing
    if case.startswith("incident-small"):
        assert [(g["source"], g["start"], g["end"], g["windows_overlapped"]) for g in gaps] == [
            ("hs2-01.corp.example.com", "2026-06-18T14:00:00.001Z", "", "")
        ]
    else:
        assert gaps == []
    assert _status(rows, "covered")
    assert not _status(rows, "expired")


def test_manifest_records_coverage_and_verify_covers_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    investigate(FIXTURES / "incident-small" / "case.yaml", out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["coverage"]["rows"]["gap"] == 1
    assert manifest["coverage"]["gaps_overlapping_windows"] == 0
    assert "coverage.csv" in {o["path"] for o in manifest["outputs"]}
    assert verify(out) == []
    with open(out / "coverage.csv", "a") as f:
        f.write("ranger-audit,x,,,covered,,0,,\n")
    assert verify(out) == ["coverage.csv: sha256 differs from the manifest (file changed)"]


# --- done when --------------------------------------------------------------------------------


def done_when_case(folder: Path, complete: bool) -> Path:
    """Busy Ranger audit 08:00-15:00 while policy 1 (changed at 09:00, undone at 13:00) lets
    everyone read hr. Complete: mallory's reads of hr.salaries at 10:30 and 12:30 are
    audited. Incomplete: the change also turned policy 1's auditing off (mallory's reads
    left no event) and the audit of 11:00-12:00 was lost."""
    events = steady(8, 15, 30)
    if complete:
        events += [
            ranger(_at(10.5), "mallory", "hr/salaries", n=9001, policy=1),
            ranger(_at(12.5), "mallory", "hr/salaries", n=9002, policy=1),
        ]
    else:
        events = [e for e in events if not e["evtTime"].startswith("2026-06-18 11:")]
    exposing = [policy(1, "hr", ["hr", "public"], audit=complete, version=2), BASELINE[1]]
    return write_case(folder, {"logs/ranger/a.log": lines(events)}, changes=[exposing, BASELINE])


def test_done_when_coverage_names_the_lost_hour_and_the_unaudited_policy(tmp_path: Path) -> None:
    rows = investigate(done_when_case(tmp_path / "lossy", False), tmp_path / "lossy-out")
    gaps = _status(rows, "gap")
    assert len(gaps) == 1
    assert _at(10.95) <= _time(gaps[0]["start"]) <= _at(11)
    assert _at(12) <= _time(gaps[0]["end"]) <= _at(12.05)
    unaudited = {(r["object"], r["reason"]) for r in _status(rows, "unaudited")}
    assert ("hr.salaries", "policy 1") in unaudited

    rows = investigate(done_when_case(tmp_path / "whole", True), tmp_path / "whole-out")
    assert not _status(rows, "gap")
    assert not _status(rows, "unaudited")


def test_done_when_findings_say_what_the_logs_could_not_show(tmp_path: Path) -> None:
    out = tmp_path / "lossy-out"
    investigate(done_when_case(tmp_path / "lossy", False), out)
    ev = findings.load_evidence(out)
    text = findings.coverage_statement(ev)
    assert "not complete" in text
    assert "2026-06-18T10:5" in text and "2026-06-18T12:0" in text  # the lost hour
    assert "policy 1" in text and "hr.salaries" in text
    table = findings.headline(ev)
    assert "coverage" in table.columns
    reads = table[table["measure"] == "exposure-enabled read events"].iloc[0]
    assert reads["value"] == 0 and "not complete" in reads["coverage"]

    whole = tmp_path / "whole-out"
    investigate(done_when_case(tmp_path / "whole", True), whole)
    ev = findings.load_evidence(whole)
    text = findings.coverage_statement(ev)
    assert "complete" in text and "not complete" not in text
    assert "policy 1" not in text
    table = findings.headline(ev)
    reads = table[table["measure"] == "exposure-enabled read events"].iloc[0]
    assert reads["value"] == 2 and reads["coverage"].startswith("complete")


def test_the_first_report_page_says_what_the_logs_could_not_show(tmp_path: Path) -> None:
    from forensics.report import MAIN_NOTEBOOK, render_notebook

    out = tmp_path / "lossy-out"
    investigate(done_when_case(tmp_path / "lossy", False), out)
    page = tmp_path / "page"
    page.mkdir()
    render_notebook(MAIN_NOTEBOOK, page, {"evidence_dir": str(out), "case_path": "unused"})
    html = (page / "report.html").read_text()
    first = html.index("What the logs could not show")
    assert first < html.index("Exposure-enabled reads over time")
    assert "Coverage of the exposure windows: not complete" in html
    assert "policy 1 decided its accesses with auditing off" in html
    assert "from 2026-06-18T10:58:00.001Z to 2026-06-18T12:00:00.000Z" in html


def test_timeline_hatches_gaps_apart_from_windows(tmp_path: Path) -> None:
    from forensics import plots

    labels = {}
    for complete in (False, True):
        out = tmp_path / f"out-{complete}"
        investigate(done_when_case(tmp_path / f"case-{complete}", complete), out)
        ax = plots.timeline(findings.load_evidence(out))
        labels[complete] = set(ax.get_legend_handles_labels()[1])
        hatched = [p for p in ax.patches + ax.collections if getattr(p, "get_hatch", None)]
        hatches = {p.get_hatch() for p in hatched if p.get_hatch()}
        assert hatches == (set() if complete else {"//", "xx"})
    assert {"gap in the logs", "unaudited (audit off)", "exposure window"} <= labels[False]
    assert "gap in the logs" not in labels[True]


def test_object_page_shows_its_coverage(tmp_path: Path) -> None:
    out = tmp_path / "out"
    investigate(done_when_case(tmp_path / "case", False), out)
    ev = findings.load_evidence(out)
    text = findings.coverage_statement(ev, "hr.salaries")
    assert text.startswith("Coverage of the exposure windows of hr.salaries: not complete.")
    assert "unaudited: hr.salaries" in text and "unaudited: hr.staff" not in text
    rows = findings.object_coverage(ev, "hr.salaries")
    assert set(rows["status"]) == {"covered", "gap", "unaudited"}
    assert set(rows.loc[rows["status"] == "unaudited", "object"]) == {"hr.salaries"}
