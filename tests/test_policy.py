"""Policy evaluation against Apache Ranger's own policy-engine test cases, and unit tests.

Every case in every file of `../shared/ranger-policyengine/` is run; a case outside what
we support (request conditions, security zones, incremental updates) is counted and
listed with its reason, never counted as passing. Any disagreement fails the test.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from forensics.errors import PolicyError
from forensics.policy import (
    AccessRequest,
    Decision,
    PolicyEngine,
    check_requests,
    load_policies,
    load_service_def,
    service_def_from_dict,
)
from tests.ranger_cases import split, suites

CASES_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "ranger-policyengine"
ITEM_KEYS = ("policyItems", "denyPolicyItems", "allowExceptions", "denyExceptions")


def _unsupported(test: dict, engine: PolicyEngine) -> str | None:
    """Why a case is outside what we evaluate, or None."""
    request = test["request"]
    context = request.get("context") or {}
    if set(context) - {"ACCESSTYPES", "ISANYACCESS"}:
        return "request context enrichment"
    asked = _request(test)
    for policy in engine.policies:
        if engine.match_type(policy, asked) is None:
            continue
        items = policy.allow + policy.deny + policy.allow_exceptions + policy.deny_exceptions
        accesses = [asked.access_type] if asked.access_type else engine.access_types
        for item in (i for i in items if i.conditional):
            unconditional = dataclasses.replace(item, conditional=False)
            if any(unconditional.applies_to(asked, a, engine.roles_of(asked)) for a in accesses):
                return "custom (JavaScript) condition on a policy item naming the requester"
    return None


def _engine(data: dict, policies: list[dict], zones: dict | None) -> PolicyEngine:
    config = data.get("serviceConfig") or {}
    supers = set(data.get("superUsers") or []) | split(config.get("ranger.plugin.super.users"))
    groups = set(data.get("superGroups") or []) | split(config.get("ranger.plugin.super.groups"))
    roles: dict[str, set[str]] = {}
    for key in ("userRoles", "groupRoles"):
        for member, names in (data.get(key) or {}).items():
            for name in names:
                roles.setdefault(name, set()).add(member)
    return PolicyEngine(
        policies,
        service_def_from_dict(data["serviceDef"]),
        roles=roles,
        super_users=supers,
        super_groups=groups,
        zones=zones,
    )


def _request(test: dict) -> AccessRequest:
    request = test["request"]
    resource = request["resource"]
    return AccessRequest(
        resource=dict(resource.get("elements") or {}),
        access_type=request.get("accessType") or "",
        user=request.get("user") or "",
        groups=frozenset(request.get("userGroups") or []),
        owner=resource.get("ownerUser"),
        time=_access_time(request.get("accessTime")),
    )


def _decide(engine: PolicyEngine, test: dict) -> Decision:
    """The engine's decision for a test's request (several access types when its context
    names them)."""
    context = test["request"].get("context") or {}
    if "ACCESSTYPES" in context:
        return engine.evaluate_many(
            _request(test), context["ACCESSTYPES"], bool(context.get("ISANYACCESS"))
        )
    return engine.evaluate(_request(test))


def _access_time(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _id_dispute(data: dict, policies: list[dict], test: dict, got: Decision) -> str | None:
    """A reason when only the policy id differs and the file's id is not Ranger's current
    answer: Ranger's own suite stopped asserting access policy ids in 2019 (RANGER-2354),
    and here the file's policy decides the same way when evaluated alone, so the two
    differ only in which of two deciding policies Ranger's evaluation order tries first."""
    want = test["result"].get("policyId")
    if want is None or want == -1 or got.policy_id == -1:
        return None
    alone = [p for p in policies if p.get("id") == want]
    decision = _decide(_engine(data, alone, None), test)
    if decision.allowed == got.allowed and decision.policy_id == want:
        return (
            f"policy id not checked by Ranger since RANGER-2354; file says {want}, Ranger's "
            f"evaluation order (priority, deny-first, score, name) names {got.policy_id}"
        )
    return None


def _run_file(path: Path) -> tuple[list[str], list[str], int]:
    """(disagreements, skipped with reasons, passed) for one Ranger test file."""
    data = json.loads(path.read_text())
    skipped, wrong, passed = [], [], 0
    for label, policies, zones, tests in suites(data):
        engine = _engine(data, policies, zones)
        for test in tests:
            name = f"{path.name} [{label}] {test['name']}"
            reason = _unsupported(test, engine)
            if reason:
                skipped.append(f"{name}: {reason}")
                continue
            expected = test["result"]
            decision = _decide(engine, test)
            want_id = expected.get("policyId")
            same_id = want_id is None or decision.policy_id == want_id
            if decision.allowed == expected["isAllowed"] and same_id:
                passed += 1
                continue
            dispute = decision.allowed == expected["isAllowed"] and _id_dispute(
                data, policies, test, decision
            )
            if dispute:
                skipped.append(f"{name}: {dispute}")
                continue
            wrong.append(
                f"{name}: Ranger says allowed={expected['isAllowed']} policy={want_id}, we say "
                f"allowed={decision.allowed} policy={decision.policy_id} ({decision.reason})"
            )
    return wrong, skipped, passed


@pytest.mark.skipif(not CASES_DIR.is_dir(), reason="shared Ranger cases not present")
def test_ranger_conformance(capsys) -> None:
    """Every case of every Ranger file: agree, or skipped with a reason (never a pass)."""
    wrong, skipped, totals = [], [], []
    for path in sorted(CASES_DIR.glob("*.json")):
        w, s, p = _run_file(path)
        wrong += w
        skipped += s
        totals.append(f"  {path.name}: {p} agree, {len(w)} disagree, {len(s)} skipped")
    with capsys.disabled():
        print("\nRanger conformance (per file):")
        print("\n".join(totals))
        for line in skipped:
            print(f"  SKIPPED {line}")
        reasons = Counter(s.rsplit(": ", 1)[1] for s in skipped)
        for reason, count in sorted(reasons.items()):
            print(f"  skipped {count}: {reason}")
    assert not wrong, "\n".join(wrong)


HIVE = load_service_def("hive")


def _policy(pid, resources, allow=(), deny=(), **extra) -> dict:
    def items(specs):
        return [
            {"accesses": [{"type": a, "isAllowed": True} for a in acc], "users": u, "groups": g}
            for acc, u, g in specs
        ]

    return {
        "id": pid,
        "name": f"p{pid}",
        "isEnabled": True,
        "resources": {
            k: {"values": v if isinstance(v, list) else [v], "isExcludes": k.startswith("!")}
            for k, v in resources.items()
        },
        "policyItems": items(allow),
        "denyPolicyItems": items(deny),
        **extra,
    }


def _ask(engine, user, resource, groups=(), access="select", when=None):
    keys = ("database", "table", "column")
    return engine.evaluate(
        AccessRequest(
            resource=dict(zip(keys, resource.split("/"), strict=False)),
            access_type=access,
            user=user,
            groups=frozenset(groups),
            time=when,
        )
    )


def test_wildcards_case_and_excludes() -> None:
    policy = _policy(
        1, {"database": "mc?", "table": "*", "column": "*"}, allow=[(["select"], ["ann"], [])]
    )
    policy["resources"]["table"] = {"values": ["audit_*"], "isExcludes": True}
    engine = PolicyEngine([policy], HIVE)
    assert _ask(engine, "ann", "MCI/Keystrokes").allowed
    assert not _ask(engine, "ann", "mci/audit_config").allowed
    assert not _ask(engine, "ann", "mcxx/keystrokes").allowed
    assert not _ask(engine, "bob", "mci/keystrokes").allowed


def test_deny_beats_allow_unless_excepted_and_public_is_everyone() -> None:
    policy = _policy(
        7,
        {"database": "hr", "table": "*", "column": "*"},
        allow=[(["select"], [], ["public"])],
        deny=[(["select"], [], ["contractors"])],
        denyExceptions=[
            {"accesses": [{"type": "select", "isAllowed": True}], "users": ["cleo"], "groups": []}
        ],
    )
    engine = PolicyEngine([policy], HIVE)
    assert _ask(engine, "anyone", "hr/reviews").policy_id == 7
    assert not _ask(engine, "dan", "hr/reviews", groups=["contractors"]).allowed
    assert _ask(engine, "cleo", "hr/reviews", groups=["contractors"]).allowed


def test_database_policy_does_not_cover_tables_and_all_implies_select() -> None:
    engine = PolicyEngine([_policy(1, {"database": "mci"}, allow=[(["all"], ["ann"], [])])], HIVE)
    assert _ask(engine, "ann", "mci", access="create").allowed
    assert not _ask(engine, "ann", "mci/keystrokes").allowed


def test_disabled_policy_and_validity_schedule() -> None:
    off = _policy(
        1, {"database": "*", "table": "*", "column": "*"}, allow=[(["select"], ["a"], [])]
    )
    off["isEnabled"] = False
    timed = _policy(
        2,
        {"database": "*", "table": "*", "column": "*"},
        allow=[(["select"], ["b"], [])],
        validitySchedules=[
            {
                "startTime": "2026/06/18 09:00:00",
                "endTime": "2026/06/18 13:00:00",
                "timeZone": "UTC",
            }
        ],
    )
    engine = PolicyEngine([off, timed], HIVE)
    assert not _ask(engine, "a", "x/y").allowed
    inside = datetime(2026, 6, 18, 10, tzinfo=timezone.utc)
    after = datetime(2026, 6, 18, 14, tzinfo=timezone.utc)
    assert _ask(engine, "b", "x/y", when=inside).allowed
    assert not _ask(engine, "b", "x/y", when=after).allowed


def test_higher_priority_allow_is_final() -> None:
    deny = _policy(
        1, {"database": "x", "table": "*", "column": "*"}, deny=[(["select"], ["u"], [])]
    )
    allow = _policy(
        2, {"database": "x", "table": "*", "column": "*"}, allow=[(["select"], ["u"], [])]
    )
    allow["policyPriority"] = 1
    assert _ask(PolicyEngine([deny, allow], HIVE), "u", "x/t").policy_id == 2
    allow["policyPriority"] = 0
    assert _ask(PolicyEngine([deny, allow], HIVE), "u", "x/t").policy_id == 1


def test_within_a_priority_the_lower_evaluation_score_is_named() -> None:
    """Two policies allow the same read: Ranger names the one its evaluation-order score
    tries first (broader resources, more principals, more access types first), whatever
    the names say."""
    narrow = _policy(
        1, {"database": "x", "table": "t", "column": "*"}, allow=[(["select"], ["u"], [])]
    )
    narrow["name"] = "a narrow"
    broad = _policy(
        2, {"database": "x", "table": "*", "column": "*"}, allow=[(["select"], ["u"], ["g"])]
    )
    broad["name"] = "z broad"
    assert _ask(PolicyEngine([narrow, broad], HIVE), "u", "x/t").policy_id == 2
    broad["resources"]["table"]["values"] = ["t"]
    broad["policyItems"][0]["groups"] = []
    assert _ask(PolicyEngine([narrow, broad], HIVE), "u", "x/t").policy_id == 1  # tie: name


@pytest.mark.parametrize(
    ("resources", "items", "extra", "score"),
    [
        # Hand-computed from RangerOptimizedPolicyEvaluator.computeEvalOrder: 10000, less
        # the resource discounts (match-all 25, '*' 10, '?' 5, excludes 5), less principals
        # (public or deny-all-else: 25), less round(25 * access types / 14), less 25.
        ({"database": "*", "table": "*", "column": "*"}, [([], [], ["public"])], {}, 9875),
        (
            {"database": "db1", "table": "tbl*", "column": "*"},
            [(["select"], ["a", "b"], [])],
            {},
            9936,
        ),
        ({"database": "db1"}, [(["select"], ["a"], [])], {"isDenyAllElse": True}, 9948),
        ({"database": "db?", "!table": "t"}, [(["select", "update"], ["a"], [])], {}, 9960),
    ],
)
def test_evaluation_order_score_is_rangers(resources, items, extra, score) -> None:
    from forensics.policy.compiled import eval_order as _eval_order

    policy = _policy(1, resources, allow=items, **extra)
    policy["resources"] = {k.lstrip("!"): v for k, v in policy["resources"].items()}
    assert _eval_order(policy, HIVE) == score


def test_several_access_types_any_or_all() -> None:
    """`ACCESSTYPES` with ISANYACCESS: one allowed access type is enough; without it every
    one must be allowed, and the first denied one decides."""
    grant = _policy(7, {"database": "org"}, allow=[(["create"], ["john"], [])])
    engine = PolicyEngine([grant], HIVE)
    request = AccessRequest(resource={"database": "org"}, access_type="create", user="john")
    anyone = engine.evaluate_many(request, ["create", "write"], any_access=True)
    every = engine.evaluate_many(request, ["create", "write"], any_access=False)
    assert (anyone.allowed, anyone.policy_id) == (True, 7)
    assert (every.allowed, every.policy_id) == (False, -1)
    both = PolicyEngine(
        [_policy(7, {"database": "org"}, allow=[(["create", "update"], ["john"], [])])], HIVE
    )
    assert both.evaluate_many(request, ["create", "update"], any_access=False).allowed


def test_load_policies_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PolicyError, match="not valid JSON"):
        load_policies(bad)
    bad.write_text('{"policies": {"id": 1}}')
    with pytest.raises(PolicyError, match="expected a Ranger Admin export"):
        load_policies(bad)
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policies(tmp_path / "missing.json")


def test_check_requests_in_order_and_bad_line(tmp_path: Path) -> None:
    export = tmp_path / "policies.json"
    export.write_text(
        json.dumps(
            {
                "policies": [
                    _policy(
                        3,
                        {"database": "mci", "table": "*", "column": "*"},
                        allow=[(["select"], [], ["mci-team"])],
                    )
                ]
            }
        )
    )
    lines = [
        json.dumps({"id": "a", "service": "hive", "user": "ann", "groups": ["mci-team"],
                    "access": "select", "resource": {"database": "mci", "table": "k"}}),
        json.dumps({"id": "b", "service": "hive", "user": "bob", "groups": [],
                    "access": "select", "resource": {"database": "mci", "table": "k"}}),
    ]  # fmt: skip
    results = list(check_requests(export, lines))
    assert [(r["id"], r["allowed"], r["policy_id"]) for r in results] == [
        ("a", True, 3),
        ("b", False, -1),
    ]
    with pytest.raises(PolicyError, match="request line 2: missing user"):
        list(check_requests(export, [lines[0], '{"id": "c", "resource": {}}']))


def test_roles_super_users_and_deny_all_else() -> None:
    policy = _policy(
        4,
        {"database": "fin", "table": "*", "column": "*"},
        allow=[(["select"], ["ann"], [])],
        isDenyAllElse=True,
    )
    policy["policyItems"].append(
        {"accesses": [{"type": "all", "isAllowed": True}], "users": [], "groups": [],
         "roles": ["auditors"]}
    )  # fmt: skip
    everyone = _policy(
        5, {"database": "*", "table": "*", "column": "*"}, allow=[(["select"], [], ["public"])]
    )
    engine = PolicyEngine(
        [everyone, policy], HIVE, roles={"auditors": ["cy"]}, super_users=["root"]
    )
    assert _ask(engine, "ann", "fin/t").policy_id == 4
    assert _ask(engine, "cy", "fin/t", access="update").policy_id == 4  # role, `all` implies
    denied = _ask(engine, "bob", "fin/t")
    assert (denied.allowed, denied.policy_id) == (False, 4)  # deny-all-else beats public
    assert _ask(engine, "bob", "ops/t").policy_id == 5
    assert _ask(engine, "root", "fin/t").allowed


def test_any_access_and_security_zone() -> None:
    table = _policy(
        1, {"database": "mci", "table": "k*", "column": "*"}, allow=[(["select"], ["ann"], [])]
    )
    zoned = _policy(
        9, {"database": "vault", "table": "*", "column": "*"}, allow=[(["select"], ["zed"], [])]
    )
    outside = _policy(
        2, {"database": "*", "table": "*", "column": "*"}, allow=[(["select"], ["ann", "zed"], [])]
    )
    zones = {"z": {"resources": [{"database": ["vault"]}], "policies": [zoned]}}
    engine = PolicyEngine([table, outside], HIVE, zones=zones)
    assert _ask(engine, "ann", "mci", access="").allowed  # USE mci: a table policy counts
    assert not _ask(engine, "bob", "mci", access="").allowed
    assert _ask(engine, "zed", "vault/t").policy_id == 9
    assert not _ask(engine, "ann", "vault/t").allowed  # zone policies only


def test_who_can_follows_the_snapshot_in_force(capsys) -> None:
    from forensics.cli import main
    from tests.conftest import INCIDENT

    case = str(INCIDENT / "case.yaml")
    args = ["policy", "who-can", case, "--object", "mci.keystrokes", "--at"]
    assert main([*args, "2026-06-18T08:00:00Z"]) == 0
    before = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert before == ["ana", "bruno", "celia", "svc_crawler"]
    assert main([*args, "2026-06-18T10:00:00Z"]) == 0
    during = capsys.readouterr().out.splitlines()
    assert "carl\tpolicy 6\tpolicies/change-1.json" in during
    assert len(during) > 20
    assert main([*args, "2026-06-18T14:00:00Z"]) == 0
    after = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert after == before
    assert main([*args[:3], "--object", "x; drop", "--at", "2026-06-18T10:00:00Z"]) == 2


def test_who_can_refuses_an_object_the_catalog_does_not_know(capsys) -> None:
    """Policies decide any name (a `*` policy lets everyone read it): a misspelt object
    would list everyone as if that were the answer."""
    from forensics.cli import main
    from tests.conftest import INCIDENT

    args = ["policy", "who-can", str(INCIDENT / "case.yaml"), "--at", "2026-06-18T10:00:00Z"]
    assert main([*args, "--object", "mci.keystroke"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "'mci.keystroke' is not in the case's catalog" in captured.err
    assert "did you mean mci.keystrokes?" in captured.err


def test_policy_check_one_question(tmp_path: Path, capsys) -> None:
    from forensics.cli import main
    from tests.conftest import INCIDENT

    export = str(INCIDENT / "policies" / "change-1.json")
    base = ["policy", "check", export, "--user", "carl", "--resource", "mci/keystrokes"]
    assert main(base) == 0
    assert json.loads(capsys.readouterr().out) == {
        "id": "1",
        "allowed": True,
        "policy_id": 6,
        "reason": "allowed by policy 6",
    }
    assert main([*base[:-1], "mci/audit_config"]) == 0
    assert json.loads(capsys.readouterr().out)["allowed"] is False
