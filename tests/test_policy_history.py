"""Exposure windows from Ranger Admin's policy history, with roles and super users.

The answers in `fixtures/policy-history/expected/` are written by hand from the story in
`fixtures/make_policy_history.py`; the bad histories below are small hand-made files.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from forensics.case import load_case
from forensics.catalog import load_catalog
from forensics.cli import main
from forensics.errors import PolicyError
from forensics.policy.history import (
    ADMIN_AUDIT,
    POLICY_VERSIONS,
    apply_changes,
    load_history,
)
from forensics.scope import derive_scope, load_super_users, who_can
from tests.conftest import INCIDENT, ROOT

HISTORY = ROOT / "fixtures" / "policy-history"
EXPECTED = HISTORY / "expected"
VERSIONS = sorted((HISTORY / "history" / "versions").glob("*.json"))
AUDIT = [HISTORY / "history" / "admin-audit.json"]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@pytest.mark.parametrize(
    ("case", "windows", "reads"),
    [
        ("case.yaml", "windows-both.csv", "reads.csv"),
        ("case-history-only.yaml", "windows-both.csv", "reads.csv"),
        ("case-versions.yaml", "windows-versions.csv", "reads.csv"),
        ("case-audit.yaml", "windows-audit.csv", "reads.csv"),
        ("case-no-authority.yaml", "windows-no-authority.csv", "reads-no-authority.csv"),
    ],
)
def test_investigate_from_policy_history(tmp_path: Path, case: str, windows: str, reads: str):
    out = tmp_path / "evidence"
    assert main(["investigate", str(HISTORY / case), "--out", str(out)]) == 0
    assert _rows(out / "exposure_windows.csv") == _rows(EXPECTED / windows)
    expected = _rows(EXPECTED / reads)
    columns = list(expected[0])
    actual = [{c: r[c] for c in columns} for r in _rows(out / "exposure_enabled_reads.csv")]
    assert actual == expected
    manifest = json.loads((out / "manifest.json").read_text())
    assert "exposure_windows.csv" in {o["path"] for o in manifest["outputs"]}
    inputs = {i["path"] for i in manifest["inputs"]}
    assert ("history/admin-audit.json" in inputs) == ("audit" in case or "versions" not in case)


def test_manifest_accounts_for_every_history_entry(tmp_path: Path) -> None:
    """Each history file's entries in the manifest: the audit's rows (those about other
    objects counted apart), grouped into one change per transaction."""
    out = tmp_path / "evidence"
    assert main(["investigate", str(HISTORY / "case.yaml"), "--out", str(out)]) == 0
    inputs = {i["path"]: i for i in json.loads((out / "manifest.json").read_text())["inputs"]}
    rows = json.loads((HISTORY / "history" / "admin-audit.json").read_text())["vXTrxLogs"]
    policy_rows = [r for r in rows if r["objectClassType"] == 1020]
    audit = inputs["history/admin-audit.json"]
    assert audit["format"] == "ranger-admin-audit"
    assert audit["entries"] == len(rows)
    assert audit["other_objects"] == len(rows) - len(policy_rows) > 0
    assert audit["policy_changes"] == len({r["transactionId"] for r in policy_rows})
    versions = [i for p, i in inputs.items() if p.startswith("history/versions/")]
    assert versions and all(i["format"] == "ranger-policy-versions" for i in versions)
    assert all(i["entries"] >= i["policy_changes"] and i["other_objects"] == 0 for i in versions)
    assert sum(i["policy_changes"] for i in versions) > 0


def test_snapshot_windows_name_their_exports(tmp_path: Path) -> None:
    """The bundled incident: policy 6 (version 1) of change-1.json opens, change-2.json
    closes (its story in fixtures/make_incident_small.py)."""
    out = tmp_path / "evidence"
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]) == 0
    rows = _rows(out / "exposure_windows.csv")
    assert {r["object"] for r in rows} >= {"mci.keystrokes", "hr.salaries"}
    for row in rows:
        assert row["start"] == "2026-06-18T09:00:00.000Z"
        assert row["end"] == "2026-06-18T13:00:00.000Z"
        assert (row["opened_by"], row["closed_by"]) == (
            "policies/change-1.json",
            "policies/change-2.json",
        )
        assert (row["source"], row["policy_ids"], row["policy_versions"]) == (
            "policy_snapshots",
            "6",
            "6:1",
        )


def test_policy_versions_alone() -> None:
    history = load_history([(POLICY_VERSIONS, VERSIONS)], lambda p: p.name)
    assert history.entries == 10  # 7 versions, 3 version lists
    summary = [(c.time, c.policy_id, c.version, c.action, c.user) for c in history.changes[-4:]]
    assert summary == [
        (_at("2026-07-02T10:00:00.250Z"), 1, 3, "update", "mallory"),
        (_at("2026-07-02T11:00:00.250Z"), 2, 2, "update", "carol"),
        (_at("2026-07-02T12:00:00.250Z"), 3, 1, "create", "bob"),
        (_at("2026-07-02T15:30:00.250Z"), 1, 4, "update", "mallory"),
    ]


def test_admin_audit_alone() -> None:
    history = load_history([(ADMIN_AUDIT, AUDIT)], lambda p: p.name)
    assert history.other_objects == 1  # a user's role change is not a policy change
    summary = [(c.time, c.policy_id, c.action, c.user) for c in history.changes]
    assert summary[-3:] == [
        (_at("2026-07-02T12:00:00Z"), 3, "create", "bob"),
        (_at("2026-07-02T15:30:00Z"), 1, "update", "mallory"),
        (_at("2026-07-03T09:00:00Z"), 3, "delete", "bob"),
    ]
    state: dict[int, dict] = {}
    applied = [a for c in history.changes for a in apply_changes(state, [c])]
    assert [a.version for a in applied] == [1, 1, 2, 3, 2, 1, 4, 1]
    assert sorted(state) == [1, 2]  # policy 3 deleted
    assert state[1]["policyItems"][0]["roles"] == ["auditors"]


def test_both_records_give_one_change_each() -> None:
    both = load_history([(POLICY_VERSIONS, VERSIONS), (ADMIN_AUDIT, AUDIT)], lambda p: p.name)
    assert [(c.policy_id, c.action) for c in both.changes[-2:]] == [(1, "update"), (3, "delete")]
    assert len(both.changes) == 8  # 7 versions and the deletion only the audit shows


def test_roles_and_super_users_change_the_baseline() -> None:
    with_authority = load_case(HISTORY / "case.yaml")
    without = load_case(HISTORY / "case-no-authority.yaml")
    scopes = {
        name: derive_scope(case, load_catalog(case), [])
        for name, case in (("with", with_authority), ("without", without))
    }
    salaries_with = scopes["with"].baseline.principals("hr.salaries")
    salaries_without = scopes["without"].baseline.principals("hr.salaries")
    assert salaries_with == {"ana", "bea", "ivan", "olga", "svc_etl"}
    assert salaries_without == {"ana", "bea"}
    assert scopes["with"].exposed == ["hr.reviews", "hr.salaries"]
    assert scopes["without"].exposed == ["hr.reviews", "hr.salaries", "sales.orders"]


def test_who_can_follows_the_history() -> None:
    case = load_case(HISTORY / "case.yaml")
    catalog = load_catalog(case)
    during = {
        g.principal: g for g in who_can(case, catalog, "hr.reviews", _at("2026-07-02T16:00Z"))
    }
    assert (during["eve"].policy_id, during["eve"].version) == (3, 1)
    assert during["svc_etl"].policy_id == -1  # super user
    assert during["ivan"].policy_id == 1  # role auditors
    after = {g.principal for g in who_can(case, catalog, "hr.reviews", _at("2026-07-03T10:00Z"))}
    assert after == {"ana", "bea", "ivan", "olga", "svc_etl"}
    with pytest.raises(PolicyError, match="no policy state is in force"):
        who_can(case, catalog, "hr.reviews", _at("2026-05-01T00:00Z"))


@pytest.mark.parametrize(
    ("name", "text", "users", "groups"),
    [
        ("flat.json", '{"ranger.plugin.super.users": "a, b", "x": "1"}', {"a", "b"}, set()),
        (
            "service.json",
            '{"name": "cm_hive", "configs": {"ranger.plugin.super.groups": "dba"}}',
            set(),
            {"dba"},
        ),
        (
            "ranger-hive-security.xml",
            "<configuration><property><name>ranger.plugin.hive.super.users</name>"
            "<value>hive,etl</value></property></configuration>",
            {"hive", "etl"},
            set(),
        ),
    ],
)
def test_service_config_forms(tmp_path: Path, name: str, text: str, users, groups) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert load_super_users(path, name) == (frozenset(users), frozenset(groups))


def test_service_config_without_super_keys(tmp_path: Path) -> None:
    path = tmp_path / "service.json"
    path.write_text('{"configs": {"username": "hive"}}')
    with pytest.raises(PolicyError, match="service_config service.json: names neither"):
        load_super_users(path, "service.json")


def _version(pid: int, version: int, update_time, user: str = "mallory") -> dict:
    policy = {
        "id": pid,
        "version": version,
        "name": f"p{pid}",
        "updatedBy": user,
        "resources": {"database": {"values": ["hr"]}, "table": {"values": ["*"]}},
        "policyItems": [],
    }
    if update_time is not None:
        policy["updateTime"] = update_time
    return policy


def _audit_row(pid: int, action: str, when: str, user: str = "bob", **extra) -> dict:
    row = {"createDate": when, "owner": user, "objectClassType": 1020, "objectId": pid}
    row.update(action=action, objectName=f"p{pid}", **extra)
    return row


def _write(tmp_path: Path, name: str, value) -> Path:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


BAD_VERSIONS = [
    ("no-time.json", [_version(7, 2, None)], r"no-time.json policy #1: version 2 .* no updateTime"),
    (
        "order.json",
        [_version(7, 1, 1783000000000), _version(7, 2, 1782000000000)],
        r"order.json policy #2: version 2 of policy 7 is dated before version 1",
    ),
    ("broken.json", "{not json", r"broken.json: not valid JSON \(line 1\)"),
    ("no-id.json", {"version": 1, "updateTime": 1}, r"no-id.json: no policy id"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_VERSIONS)
def test_bad_policy_versions(tmp_path: Path, name: str, content, message: str) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(PolicyError, match=message):
        load_history([(POLICY_VERSIONS, [path])], lambda p: p.name)


def test_version_list_names_a_missing_version(tmp_path: Path) -> None:
    files = [
        _write(tmp_path, "policy-7-v1.json", _version(7, 1, 1782000000000)),
        _write(tmp_path, "policy-7-versionList.json", {"value": "1,2"}),
    ]
    with pytest.raises(PolicyError, match="policy-7-versionList.json: policy 7 lists version 2"):
        load_history([(POLICY_VERSIONS, files)], lambda p: p.name)


def test_version_gap_found_when_applied(tmp_path: Path) -> None:
    files = [
        _write(tmp_path, "a.json", _version(7, 1, 1782000000000)),
        _write(tmp_path, "b.json", _version(7, 3, 1783000000000)),
    ]
    history = load_history([(POLICY_VERSIONS, files)], lambda p: p.name)
    with pytest.raises(PolicyError, match="b.json: policy 7 goes from version 1 to 3"):
        apply_changes({}, history.changes)


BAD_AUDITS = [
    (
        {"vXTrxLogs": [_audit_row(9, "update", "2026-07-02T10:00:00Z", attributeName="x")]},
        r"audit.json vXTrxLogs\[0\]: policy 9 is updated but the history never created it",
    ),
    (
        {"vXTrxLogs": [_audit_row(9, "delete", "2026-07-02T10:00:00Z")]},
        r"audit.json vXTrxLogs\[0\]: policy 9 is deleted but was never created",
    ),
    (
        {"vXTrxLogs": [_audit_row(9, "update", "")]},
        r"audit.json vXTrxLogs\[0\]: no createDate",
    ),
    (
        {"vXTrxLogs": [_audit_row(9, "rename", "2026-07-02T10:00:00Z")]},
        r"audit.json vXTrxLogs\[0\]: action 'rename' is not a policy",
    ),
    (
        {
            "vXTrxLogs": [
                _audit_row(
                    9, "create", "2026-07-02T10:00:00Z", attributeName="Policy Name", newValue="p9"
                )
            ]
        },
        r"policy 9 is created without Policy Resources",
    ),
    (
        {
            "vXTrxLogs": [
                _audit_row(
                    9,
                    "create",
                    "2026-07-02T10:00:00Z",
                    attributeName="Policy Resources",
                    newValue="{oops",
                )
            ]
        },
        r"audit.json vXTrxLogs\[0\]: Policy Resources newValue is not valid JSON",
    ),
    ({"rows": []}, r"audit.json: expected Ranger's \{\"vXTrxLogs\": \[...\]\}"),
]


@pytest.mark.parametrize(("content", "message"), BAD_AUDITS)
def test_bad_admin_audit(tmp_path: Path, content, message: str) -> None:
    path = _write(tmp_path, "audit.json", content)
    with pytest.raises(PolicyError, match=message):
        history = load_history([(ADMIN_AUDIT, [path])], lambda p: p.name)
        apply_changes({}, history.changes)


def test_audit_and_versions_must_agree(tmp_path: Path) -> None:
    version = _write(tmp_path, "v.json", _version(7, 1, 1782993600000, user="mallory"))
    who = _audit_row(7, "create", "2026-07-02T12:00:00Z", user="bob", attributeName="x")
    when = _audit_row(7, "update", "2026-07-02T13:00:00Z", user="mallory", attributeName="x")
    for row, message in (
        (who, r"the audit says bob changed policy 7 .* its version 1 says mallory"),
        (when, r"the audit records a update of policy 7 at 2026-07-02T13:00:00.000Z"),
    ):
        audit = _write(tmp_path, "audit.json", {"vXTrxLogs": [row]})
        with pytest.raises(PolicyError, match=message):
            load_history([(POLICY_VERSIONS, [version]), (ADMIN_AUDIT, [audit])], lambda p: p.name)


def test_bad_history_stops_investigate_with_one_line(tmp_path: Path, capsys) -> None:
    case = tmp_path / "case"
    shutil.copytree(HISTORY, case)
    (case / "history" / "versions" / "policy-1-v3.json").unlink()
    out = tmp_path / "evidence"
    assert main(["investigate", str(case / "case-versions.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "history/versions/policy-1-versionList.json: policy 1 lists version 3" in err[0]
    assert not out.exists()


def test_audit_v2_change_info(tmp_path: Path) -> None:
    """Ranger's x_trx_log_v2 rows carry every attribute of a change in changeInfo."""
    resources = json.dumps({"database": {"values": ["hr"]}, "table": {"values": ["*"]}})
    items = json.dumps([{"accesses": [{"type": "select"}], "groups": ["public"]}])
    row = {
        "createDate": "2026-07-02T10:00:00Z",
        "createdBy": "mallory",
        "objectClassType": 1020,
        "objectId": 5,
        "objectName": "open",
        "action": "create",
        "changeInfo": {
            "attributes": [
                {"attributeName": "Policy Resources", "oldValue": None, "newValue": resources},
                {"attributeName": "Policy Items", "oldValue": None, "newValue": items},
                {"attributeName": "Policy Status", "oldValue": None, "newValue": "true"},
            ]
        },
    }
    path = _write(tmp_path, "audit-v2.json", {"vXTrxLogs": [row]})
    history = load_history([(ADMIN_AUDIT, [path])], lambda p: p.name)
    state: dict[int, dict] = {}
    (applied,) = apply_changes(state, history.changes)
    assert applied.label() == "policy 5 v1 create by mallory"
    assert state[5]["policyItems"][0]["groups"] == ["public"]
    assert state[5]["isEnabled"] is True
