"""Tag-based policies, from Ranger's documented semantics: tags found on the resource or
above it, tag policies evaluated first (a tag deny wins), resource policies overriding by
priority, component access types, tag attributes and validity periods."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from forensics.errors import PolicyError
from forensics.policy import AccessRequest, PolicyEngine, load_service_def
from forensics.policy.tags import service_tags_from_dict

HIVE = load_service_def("hive")
UTC = timezone.utc


def _item(accesses, users=(), groups=(), **extra) -> dict:
    return {"accesses": [{"type": a} for a in accesses], "users": list(users),
            "groups": list(groups), **extra}  # fmt: skip


def _tag_policy(pid: int, tag: str, **extra) -> dict:
    return {"id": pid, "name": f"t{pid}", "resources": {"tag": {"values": [tag]}}, **extra}


def _policy(pid: int, db: str = "*", **extra) -> dict:
    return {
        "id": pid,
        "name": f"p{pid}",
        "resources": {
            "database": {"values": [db]},
            "table": {"values": ["*"]},
            "column": {"values": ["*"]},
        },
        **extra,
    }


SERVICE_TAGS = {
    "serviceResources": [
        {"id": 1, "resourceElements": {"database": {"values": ["hr"]}}},
        {
            "id": 2,
            "resourceElements": {
                "database": {"values": ["sales"]},
                "table": {"values": ["customers"]},
                "column": {"values": ["ssn"]},
            },
        },
        {
            "id": 3,
            "resourceElements": {"database": {"values": ["ops"]}, "table": {"values": ["t*"]}},
        },
    ],
    "tags": {
        "10": {"type": "PII", "attributes": {"level": "high"}},
        "11": {"type": "PII", "attributes": {"level": "low"}},
        "12": {
            "type": "EMBARGO",
            "validityPeriods": [
                {"startTime": "2026/06/01 00:00:00", "endTime": "2026/06/30 00:00:00"}
            ],
        },
    },
    "resourceToTagIds": {"1": [10], "2": [10], "3": [11, 12]},
}


def _engine(policies, tag_policies, **extra) -> PolicyEngine:
    return PolicyEngine(
        policies,
        HIVE,
        tag_policies=tag_policies,
        service_tags=service_tags_from_dict(SERVICE_TAGS, HIVE, "tags"),
        **extra,
    )


def _ask(engine, user, db, table, access="select", when=None):
    when = when or datetime(2026, 6, 15, tzinfo=UTC)
    return engine.evaluate(AccessRequest({"database": db, "table": table}, access, user, time=when))


def test_a_tag_on_the_database_reaches_its_tables_and_a_tag_deny_wins() -> None:
    everyone = _policy(1, policyItems=[_item(["select"], groups=["public"])])
    deny_pii = _tag_policy(50, "PII", denyPolicyItems=[_item(["hive:select"], ["ann"])])
    engine = _engine([everyone], [deny_pii])
    decision = _ask(engine, "ann", "hr", "salaries")
    assert (decision.allowed, decision.policy_id) == (False, 50)
    assert "tag policy 50 (tag PII)" in decision.reason
    assert _ask(engine, "bob", "hr", "salaries").policy_id == 1
    assert _ask(engine, "ann", "finance", "x").policy_id == 1  # untagged


def test_a_column_tag_does_not_decide_a_table_request() -> None:
    deny_pii = _tag_policy(50, "PII", denyPolicyItems=[_item(["hive:select"], ["ann"])])
    engine = _engine([_policy(1, policyItems=[_item(["select"], ["ann"])])], [deny_pii])
    assert _ask(engine, "ann", "sales", "customers").allowed
    column = AccessRequest(
        {"database": "sales", "table": "customers", "column": "ssn"},
        "select",
        "ann",
        time=datetime(2026, 6, 15, tzinfo=UTC),
    )
    assert engine.evaluate(column).policy_id == 50


def test_a_tag_policy_alone_grants_access() -> None:
    engine = _engine([], [_tag_policy(51, "PII", policyItems=[_item(["hive:select"], ["ann"])])])
    assert _ask(engine, "ann", "hr", "t").policy_id == 51
    assert not _ask(engine, "ann", "hr", "t", access="update").allowed


def test_only_the_components_accesses_count() -> None:
    engine = _engine(
        [], [_tag_policy(52, "PII", policyItems=[_item(["hdfs:read", "hive:update"], ["ann"])])]
    )
    assert not _ask(engine, "ann", "hr", "t").allowed
    assert _ask(engine, "ann", "hr", "t", access="update").policy_id == 52


def test_resource_policies_override_by_priority() -> None:
    tag_allow = _tag_policy(53, "PII", policyItems=[_item(["hive:select"], ["ann"])])
    same_deny = _policy(2, "hr", denyPolicyItems=[_item(["select"], ["ann"])])
    assert _ask(_engine([same_deny], [tag_allow]), "ann", "hr", "t").policy_id == 2
    tag_deny = _tag_policy(54, "PII", denyPolicyItems=[_item(["hive:select"], ["ann"])])
    override = _policy(3, "hr", policyItems=[_item(["select"], ["ann"])], policyPriority=1)
    assert _ask(_engine([override], [tag_deny]), "ann", "hr", "t").policy_id == 3
    normal = _policy(4, "hr", policyItems=[_item(["select"], ["ann"])])
    assert _ask(_engine([normal], [tag_deny]), "ann", "hr", "t").policy_id == 54


def test_conditions_read_the_tags_attributes() -> None:
    high = {"type": "expression", "values": ["TAG.level == 'high'"]}
    deny = _tag_policy(
        55, "PII", denyPolicyItems=[_item(["hive:select"], ["ann"], conditions=[high])]
    )
    engine = _engine([_policy(1, policyItems=[_item(["select"], ["ann"])])], [deny])
    assert not _ask(engine, "ann", "hr", "t").allowed  # PII level high
    assert _ask(engine, "ann", "ops", "t1").allowed  # PII level low


def test_a_tag_outside_its_validity_period_is_ignored() -> None:
    deny = _tag_policy(56, "EMBARGO", denyPolicyItems=[_item(["hive:select"], ["ann"])])
    engine = _engine([_policy(1, policyItems=[_item(["select"], ["ann"])])], [deny])
    assert not _ask(engine, "ann", "ops", "t1", when=datetime(2026, 6, 15, tzinfo=UTC)).allowed
    assert _ask(engine, "ann", "ops", "t1", when=datetime(2026, 7, 15, tzinfo=UTC)).allowed


def test_a_service_tags_export_that_names_a_missing_tag_is_refused() -> None:
    broken = dict(SERVICE_TAGS, resourceToTagIds={"1": [99]})
    with pytest.raises(PolicyError, match="names tag 99"):
        service_tags_from_dict(broken, HIVE, "tags.json")


def _tagged_case(case_file, tag_snapshots, tag_policies) -> None:
    """The bundled incident with tags and tag policies added to its case file."""
    import json

    import yaml

    root = case_file.parent
    case = yaml.safe_load(case_file.read_text())
    for key, snapshots in (("tags", tag_snapshots), ("tag_policies", tag_policies)):
        listed = []
        for n, (at, content) in enumerate(snapshots):
            path = root / f"{key}-{n}.json"
            path.write_text(json.dumps(content))
            listed.append({"at": at, "path": path.name})
        if listed:
            case[key] = listed
    case_file.write_text(yaml.safe_dump(case))


HR_PII = {
    "serviceResources": [{"id": 1, "resourceElements": {"database": {"values": ["hr"]}}}],
    "tags": {"1": {"type": "PII"}},
    "resourceToTagIds": {"1": [1]},
}
PUBLIC_PII = {
    "policies": [_tag_policy(900, "PII", policyItems=[_item(["hive:select"], groups=["public"])])]
}


def test_a_tag_snapshot_opens_a_window_and_names_it(incident) -> None:
    """hr is tagged PII from 11:00 to 12:00 while a tag policy opens PII to everyone:
    hr's tables are exposed then, by tag policy 900, and the windows name the exports."""
    import yaml

    from forensics.case import load_case
    from forensics.catalog import load_catalog
    from forensics.scope import derive_scope

    raw = yaml.safe_load(incident.read_text())
    raw["policies"] = raw["policies"][:1]
    raw["window"] = {"start": "2026-06-18T00:00:00Z", "end": "2026-06-19T00:00:00Z"}
    incident.write_text(yaml.safe_dump(raw))
    untagged = {"serviceResources": [], "tags": {}, "resourceToTagIds": {}}
    _tagged_case(
        incident,
        [
            ("2026-06-01T00:00:00Z", untagged),
            ("2026-06-18T11:00:00Z", HR_PII),
            ("2026-06-18T12:00:00Z", untagged),
        ],
        [("2026-06-01T00:00:00Z", PUBLIC_PII)],
    )
    case = load_case(incident)
    scope = derive_scope(case, load_catalog(case), [])
    assert scope.windows and {w.object.split(".")[0] for w in scope.windows} == {"hr"}
    for window in scope.windows:
        assert (window.start.hour, window.end.hour) == (11, 12)
        assert (window.opened_by, window.closed_by) == ("tags-1.json", "tags-2.json")
        assert window.policy_ids == (900,)


def test_who_can_names_the_tag_policy(incident, capsys) -> None:
    from forensics.cli import main

    _tagged_case(
        incident, [("2026-06-01T00:00:00Z", HR_PII)], [("2026-06-01T00:00:00Z", PUBLIC_PII)]
    )
    args = ["policy", "who-can", str(incident), "--object", "hr.salaries", "--at"]
    assert main([*args, "2026-06-10T00:00:00Z"]) == 0
    lines = dict(line.split("\t", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["carl"] == "tag policy 900 (tag PII)\tpolicies/baseline.json"
    assert sum("tag policy 900" in v for v in lines.values()) > 20
    # svc_crawler's resource policy allows too: the tag policy, which allowed first, stays
    # named (Ranger's updateAccessResult names an allowing policy only when not yet allowed)
    assert lines["svc_crawler"].startswith("tag policy 900")


def test_policy_check_takes_tags_tag_policies_and_conditions(tmp_path, capsys) -> None:
    import json

    from forensics.cli import main

    ip_only = _policy(
        1,
        "hr",
        policyItems=[
            _item(["select"], ["bob"], conditions=[{"type": "ip-range", "values": ["10.*"]}])
        ],
    )
    (tmp_path / "policies.json").write_text(json.dumps({"policies": [ip_only]}))
    (tmp_path / "tag-policies.json").write_text(json.dumps(PUBLIC_PII))
    (tmp_path / "tags.json").write_text(json.dumps(HR_PII))
    requests = tmp_path / "requests.jsonl"
    hr_t = {"database": "hr", "table": "t"}
    lines = [
        {"id": "tagged", "user": "ann", "access": "select", "resource": hr_t},
        {"id": "ip", "user": "bob", "access": "select", "resource": hr_t, "client_ip": "10.0.0.7"},
        {
            "id": "other-ip",
            "user": "bob",
            "access": "select",
            "resource": hr_t,
            "client_ip": "11.1.1.1",
        },
    ]
    requests.write_text("\n".join(json.dumps(line) for line in lines))
    args = ["policy", "check", str(tmp_path / "policies.json"), str(requests)]
    tagged = [*args, "--tag-policies", str(tmp_path / "tag-policies.json")]
    assert main([*tagged, "--tags", str(tmp_path / "tags.json")]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[0]["policy_id"] == 900 and "tag policy 900" in out[0]["reason"]
    # bob from 10.x is allowed by policy 1 too, but the tag policy allowed first and stays
    # named (Ranger's updateAccessResult); from 11.x only the tag policy allows
    assert (out[1]["policy_id"], out[2]["policy_id"]) == (900, 900)
    assert out[1]["allowed"] and out[2]["allowed"]
    assert not any("undecidable" in o for o in out)
    assert main(args) == 0
    plain = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert not plain[0]["allowed"]


def test_policy_check_reports_an_undecidable_condition(tmp_path, capsys) -> None:
    import json

    from forensics.cli import main

    policy = _policy(
        1,
        "hr",
        policyItems=[
            _item(["select"], ["bob"], conditions=[{"type": "ip-range", "values": ["10.*"]}])
        ],
    )
    (tmp_path / "p.json").write_text(json.dumps([policy]))
    base = ["policy", "check", str(tmp_path / "p.json"), "--user", "bob", "--resource", "hr/t"]
    assert main(base) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["allowed"] is False and "client address is not known" in out["undecidable"][0]


def test_a_tags_validity_period_opens_and_closes_a_window(incident) -> None:
    import yaml

    from forensics.case import load_case
    from forensics.catalog import load_catalog
    from forensics.policy.schedule import TICK
    from forensics.scope import derive_scope

    raw = yaml.safe_load(incident.read_text())
    raw["policies"] = raw["policies"][:1]
    raw["window"] = {"start": "2026-06-18T00:00:00Z", "end": "2026-06-19T00:00:00Z"}
    incident.write_text(yaml.safe_dump(raw))
    period = {"startTime": "2026/06/18 10:00:00", "endTime": "2026/06/18 11:00:00"}
    timed = dict(HR_PII, tags={"1": {"type": "PII", "validityPeriods": [period]}})
    _tagged_case(
        incident, [("2026-06-01T00:00:00Z", timed)], [("2026-06-01T00:00:00Z", PUBLIC_PII)]
    )
    case = load_case(incident)
    windows = derive_scope(case, load_catalog(case), []).windows
    assert windows and {w.object.split(".")[0] for w in windows} == {"hr"}
    for window in windows:
        assert window.start == datetime(2026, 6, 18, 10, tzinfo=UTC)
        assert window.end == datetime(2026, 6, 18, 11, tzinfo=UTC) + TICK
        assert window.opened_by.startswith("validity period of tag PII starts")
        assert window.closed_by.startswith("validity period of tag PII ends")


def test_case_file_tags_keys_say_what_to_fix(incident) -> None:
    import yaml

    from forensics.case import ALWAYS, load_case
    from forensics.errors import CaseError

    raw = yaml.safe_load(incident.read_text())
    (incident.parent / "tp.json").write_text('{"policies": []}')
    raw["tags"] = "tags.json"
    incident.write_text(yaml.safe_dump(raw))
    with pytest.raises(CaseError, match=r"tags: must be a list of \{at, path\}"):
        load_case(incident)
    raw.pop("tags")
    raw["tag_policies"] = "tp.json"  # one export: in force throughout
    incident.write_text(yaml.safe_dump(raw))
    assert load_case(incident).tag_policies[0].at == ALWAYS


def test_tags_below_a_prefix_count_under_the_prefix_scope() -> None:
    """An S3-style "may the user read something under this prefix" (`SELF_OR_PREFIX`):
    Ranger's tag enricher matches tagged resources with the request's element scopes, so
    a tag on `/vendor/pii` decides a request for the prefix `/vendor`."""
    hdfs = load_service_def("hdfs")
    tags = service_tags_from_dict(
        {
            "serviceResources": [
                {"id": 1, "resourceElements": {"path": {"values": ["/vendor/pii"],
                                                         "isRecursive": True}}},
            ],
            "tags": {"1": {"type": "PII-VENDOR"}},
            "resourceToTagIds": {"1": [1]},
        },
        hdfs,
        "tags",
    )  # fmt: skip
    engine = PolicyEngine(
        [],
        hdfs,
        tag_policies=[_tag_policy(5, "PII-VENDOR", policyItems=[_item(["hdfs:read"], ["ann"])])],
        service_tags=tags,
    )

    def ask(path: str, scopes: dict) -> bool:
        return engine.evaluate(AccessRequest({"path": path}, "read", "ann",
                                             element_scopes=scopes)).allowed  # fmt: skip

    assert ask("/vendor", {"path": "SELF_OR_PREFIX"})
    assert not ask("/vendor", {})
    assert not ask("/other", {"path": "SELF_OR_PREFIX"})


def test_a_tag_on_a_database_with_stars_below_covers_its_tables() -> None:
    """A tagged resource `db2/*/*` covers `db2` and every table in it as the resource
    itself (Ranger's SELF_AND_ALL_DESCENDANTS), not only as something below: a tag policy
    on it decides a `select` of a table and "any access" (`_any`) to the database."""
    tags = service_tags_from_dict(
        {
            "serviceResources": [
                {"id": 5, "resourceElements": {"database": {"values": ["db2"]},
                                               "table": {"values": ["*"]},
                                               "column": {"values": ["*"]}}},
            ],
            "tags": {"5": {"type": "SENSITIVE"}},
            "resourceToTagIds": {"5": [5]},
        },
        HIVE,
        "tags",
    )  # fmt: skip
    engine = PolicyEngine(
        [],
        HIVE,
        tag_policies=[_tag_policy(1, "SENSITIVE", policyItems=[_item(["hive:select"], ["ann"])])],
        service_tags=tags,
    )
    table = engine.evaluate(AccessRequest({"database": "db2", "table": "t"}, "select", "ann"))
    assert (table.allowed, table.policy_id) == (True, 1)
    assert engine.evaluate(AccessRequest({"database": "db2"}, "_any", "ann")).allowed
    assert not engine.evaluate(AccessRequest({"database": "db3"}, "_any", "ann")).allowed


def test_a_deny_below_counts_when_descendant_denies_are_not_ignored() -> None:
    """Ranger's `isDescendantDenyIgnored=false`: a tag deny on a column decides a
    SELF_OR_DESCENDANTS request for its table and "any access" to its database (each
    access type must then be allowed); by default (true) such a deny is ignored."""
    deny = _tag_policy(5, "PII", denyPolicyItems=[_item(["hive:select"], groups=["public"])])
    allow = _policy(101, policyItems=[_item(["all"], ["ann"])])
    engine = _engine([allow], [deny])
    table = {"database": "sales", "table": "customers"}
    below = AccessRequest(table, "select", "ann", scope="SELF_OR_DESCENDANTS")
    assert engine.evaluate(below).allowed
    strict = engine.evaluate(replace(below, ignore_descendant_deny=False))
    assert (strict.allowed, strict.policy_id) == (False, 5)
    use = AccessRequest({"database": "sales"}, "", "ann")
    assert engine.evaluate(use).allowed
    assert not engine.evaluate(replace(use, ignore_descendant_deny=False)).allowed


def test_tag_exports_are_inputs_the_manifest_hashes_and_verify_checks(incident, tmp_path) -> None:
    """The tags and tag policy exports decide who was exposed as much as the resource
    policies do: they are listed among the case's inputs, hashed into the manifest, and a
    changed byte in either makes `verify --case` fail."""
    import json

    from forensics.case import load_case
    from forensics.cli import main

    untagged = {"serviceResources": [], "tags": {}, "resourceToTagIds": {}}
    _tagged_case(
        incident, [("2026-06-01T00:00:00Z", untagged)], [("2026-06-01T00:00:00Z", PUBLIC_PII)]
    )
    case = load_case(incident)
    names = {case.relpath(p) for p in case.input_files()}
    assert {"tags-0.json", "tag_policies-0.json"} <= names
    out = tmp_path / "evidence"
    assert main(["investigate", str(incident), "--out", str(out), "--no-cache"]) == 0
    inputs = json.loads((out / "manifest.json").read_text())["inputs"]
    listed = json.dumps(inputs)
    assert "tags-0.json" in listed and "tag_policies-0.json" in listed
    assert main(["verify", str(out), "--case", str(incident)]) == 0
    for name in ("tags-0.json", "tag_policies-0.json"):
        path = incident.parent / name
        original = path.read_bytes()
        path.write_bytes(original + b" ")
        assert main(["verify", str(out), "--case", str(incident)]) != 0, name
        path.write_bytes(original)
