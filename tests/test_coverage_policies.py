"""`unaudited` rows as Ranger would leave accesses unaudited: only while a validity schedule
has an audit-off policy in force, for HDFS-service policies (reads of the table's files),
and with the plugin's audit filters applied in their order (the first that matches
decides, so an earlier filter that audits wins over a later one that does not)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.test_coverage import (
    AUDIT_FILTERS,
    BASELINE,
    PERIOD,
    _at,
    _status,
    _time,
    investigate,
    lines,
    policy,
    ranger,
    steady,
    write_case,
)


def _with_service_config(case: Path, filters: str) -> Path:
    config = {"configs": {"ranger.plugin.super.users": "admin", AUDIT_FILTERS: filters}}
    (case.parent / "service.json").write_text(json.dumps(config))
    raw = yaml.safe_load(case.read_text())
    raw["service_config"] = "service.json"
    case.write_text(yaml.safe_dump(raw))
    return case


def hdfs_policy(pid: int, path: str, audit: bool, groups: list[str]) -> dict:
    return {
        "id": pid,
        "name": f"hdfs policy {pid}",
        "service": "cm_hdfs",
        "isEnabled": True,
        "isAuditEnabled": audit,
        "policyType": 0,
        "resources": {"path": {"values": [path], "isRecursive": True}},
        "policyItems": [{"accesses": [{"type": "read", "isAllowed": True}], "groups": groups}],
    }


def test_a_scheduled_audit_off_policy_is_unaudited_only_while_in_force(tmp_path: Path) -> None:
    exposing = policy(1, "hr", ["hr", "public"], audit=False, version=2)
    exposing["validitySchedules"] = [
        {"startTime": "2026/06/18 10:00:00", "endTime": "2026/06/18 11:00:00", "timeZone": "UTC"}
    ]
    case = write_case(
        tmp_path / "case",
        {"logs/ranger/a.log": lines(steady(8, 15, 30))},
        changes=[[exposing, BASELINE[1]], BASELINE],
    )
    rows = _status(investigate(case, tmp_path / "out"), "unaudited")
    assert [r["object"] for r in rows] == ["hr.salaries", "hr.staff"]
    for row in rows:
        assert row["start"] == "2026-06-18T10:00:00.000Z"
        assert _at(11) <= _time(row["end"]) <= _at(11.001)  # Ranger's end is inclusive
        assert row["reason"] == "policy 1"


def test_an_audit_off_hdfs_policy_leaves_reads_of_the_files_unaudited(tmp_path: Path) -> None:
    silent = hdfs_policy(7, "/w/hr.db", audit=False, groups=["public"])
    case = write_case(
        tmp_path / "case",
        {"logs/ranger/a.log": lines(steady(8, 15, 30))},
        changes=[[*BASELINE, silent], BASELINE],
    )
    rows = _status(investigate(case, tmp_path / "out"), "unaudited")
    assert [(r["object"], r["source"], r["reason"]) for r in rows] == [
        ("hr.salaries", "cm_hdfs", "policy 7 (HDFS reads of its files)"),
        ("hr.staff", "cm_hdfs", "policy 7 (HDFS reads of its files)"),
    ]
    assert (rows[0]["start"], rows[0]["end"]) == (
        "2026-06-18T09:00:00.000Z",
        "2026-06-18T13:00:00.000Z",
    )


def test_an_audited_hdfs_policy_on_the_same_files_keeps_them_audited(tmp_path: Path) -> None:
    silent = hdfs_policy(7, "/w/hr.db", audit=False, groups=["public"])
    audited = hdfs_policy(8, "/w", audit=True, groups=["admins"])
    case = write_case(
        tmp_path / "case",
        {"logs/ranger/a.log": lines(steady(8, 15, 30))},
        changes=[[*BASELINE, silent, audited], BASELINE],
    )
    assert not _status(investigate(case, tmp_path / "out"), "unaudited")


def test_an_earlier_filter_that_audits_wins_over_a_later_one(tmp_path: Path) -> None:
    filters = (
        "[{'resources': {'database': {'values': ['hr']}, 'table': {'values': ['*']}},"
        " 'isAudited': true}, {'isAudited': false}]"
    )
    case = write_case(
        tmp_path / "case", {"logs/ranger/a.log": lines([ranger(_at(10))])}, coverage=PERIOD
    )
    rows = _status(investigate(_with_service_config(case, filters), tmp_path / "out"), "unaudited")
    assert [(r["object"], r["reason"]) for r in rows] == [
        ("sales.orders", "audit filter 2 of service_config (ranger.plugin.audit.filters): "
         "reads by everyone not audited"),
    ]  # fmt: skip


def test_a_later_filter_that_audits_does_not_undo_an_earlier_one(tmp_path: Path) -> None:
    filters = (
        "[{'isAudited': false},"
        " {'resources': {'database': {'values': ['hr']}, 'table': {'values': ['*']}},"
        " 'isAudited': true}]"
    )
    case = write_case(
        tmp_path / "case", {"logs/ranger/a.log": lines([ranger(_at(10))])}, coverage=PERIOD
    )
    rows = _status(investigate(_with_service_config(case, filters), tmp_path / "out"), "unaudited")
    assert [(r["object"], r["reason"][:14]) for r in rows] == [("", "audit filter 1")]


def test_a_filter_that_audits_overrides_an_audit_off_policy(tmp_path: Path) -> None:
    """Ranger applies audit filters after the policies: an access policy with auditing off
    is audited where a filter says so."""
    exposing = [policy(1, "hr", ["hr", "public"], audit=False, version=2), BASELINE[1]]
    filters = (
        "[{'resources': {'database': {'values': ['hr']}, 'table': {'values': ['salaries']}},"
        " 'isAudited': true}]"
    )
    case = write_case(
        tmp_path / "case",
        {"logs/ranger/a.log": lines([ranger(_at(10))])},
        changes=[exposing, BASELINE],
    )
    rows = _status(investigate(_with_service_config(case, filters), tmp_path / "out"), "unaudited")
    assert [(r["object"], r["reason"]) for r in rows] == [("hr.staff", "policy 1")]
