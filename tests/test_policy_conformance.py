"""Conformance with every `test_policyengine_*.json` of Apache Ranger's repository.

The files are in `tests/data/ranger/` (copied unmodified; README there names the commit).
Each access check of each file (a test with `result`; masking, row-filter and
resource-access-info checks are not access decisions and are only counted) is run through
`PolicyEngine` and classed as:

- agree: the same `isAllowed` as Ranger (and the same deciding policy when the file names
  one, unless only the id differs in the way RANGER-2354 stopped asserting), and the same
  `isAudited` where it rests on the policies' `isAuditEnabled` alone;
- undecidable: the engine itself reports that the decision rests on a condition it cannot
  decide from the request (custom Java condition classes Ranger runs at request time);
- disagree: anything else.

The test prints the counts per file and overall, and fails when the disagreements are not
exactly those listed in `tests/data/ranger/disagreements.txt` (each with the construct it
still needs): a regression fails, and so does a fix that forgot to shorten the list.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import yaml

from forensics.policy import AccessRequest, Decision, PolicyEngine
from forensics.policy.servicedef import service_def_from_dict
from forensics.policy.tags import service_tags_from_dict, tags_for_eval
from tests.ranger_cases import split, suites

DATA = Path(__file__).resolve().parent / "data" / "ranger"
KNOWN = DATA / "disagreements.txt"
#: Ranger's TestPolicyEngine runs with the JVM's default time zone set to PST.
RANGER_TEST_ZONE = "America/Los_Angeles"


def _engine(data: dict, policies: list[dict], zones: dict | None) -> PolicyEngine:
    """The engine Ranger's TestPolicyEngine builds from one file."""
    config = data.get("serviceConfig") or {}
    supers = set(data.get("superUsers") or []) | split(config.get("ranger.plugin.super.users"))
    groups = set(data.get("superGroups") or []) | split(config.get("ranger.plugin.super.groups"))
    roles: dict[str, set[str]] = {}
    for key in ("userRoles", "groupRoles", "roleRoles"):
        for member, names in (data.get(key) or {}).items():
            for name in names:
                roles.setdefault(name, set()).add(member)
    service_def = service_def_from_dict(data["serviceDef"])
    tag_info = data.get("tagPolicyInfo") or {}
    return PolicyEngine(
        policies,
        service_def,
        roles=roles,
        super_users=supers,
        super_groups=groups,
        zones=zones,
        schedule_zone=RANGER_TEST_ZONE,
        tag_policies=tag_info.get("tagPolicies") if tag_info else None,
        tag_service=tag_info.get("serviceDef"),
        service_tags=_service_tags(tag_info.get("serviceDef") or {}, service_def),
    )


def _service_tags(tag_service: dict, service_def):
    """The ServiceTags file the tag service's file-based tag retriever names, if any."""
    for enricher in tag_service.get("contextEnrichers") or []:
        name = (enricher.get("enricherOptions") or {}).get("serviceTagsFileName")
        if name:
            path = DATA / Path(name).name
            return service_tags_from_dict(json.loads(path.read_text()), service_def, path.name)
    return None


def access_time(value) -> datetime | None:
    """A test's `accessTime`: Gson's `yyyyMMdd-HH:mm:ss.SSS-Z`, epoch ms, or ISO-8601."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    text = str(value)
    try:
        return datetime.strptime(text, "%Y%m%d-%H:%M:%S.%f%z")
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _lenient(text: str):
    """JSON as Gson reads it leniently (the TAGS of some files use single quotes)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return yaml.safe_load(text.replace("':'", "': '"))


def _request(test: dict) -> AccessRequest:
    request = test["request"]
    resource = request["resource"]
    context = request.get("context") or {}
    tags = tags_for_eval(_lenient(context["TAGS"])) if context.get("TAGS") else None
    return AccessRequest(
        resource=dict(resource.get("elements") or {}),
        access_type=request.get("accessType") or "",
        user=request.get("user") or "",
        groups=frozenset(request.get("userGroups") or []),
        roles=frozenset(request.get("userRoles") or []),
        owner=resource.get("ownerUser"),
        time=access_time(request.get("accessTime")),
        client_ip=request.get("clientIPAddress") or request.get("remoteIPAddress") or "",
        context={k: v for k, v in context.items() if k != "TAGS"},
        tags=tags,
        scope=request.get("resourceMatchingScope") or "SELF",
        element_scopes=dict(request.get("resourceElementMatchingScopes") or {}),
        ignore_descendant_deny=request.get("isDescendantDenyIgnored", True) is not False,
        user_attributes=(test.get("userAttributes") or {}).get(request.get("user") or "", {}),
    )


def _decide(engine: PolicyEngine, test: dict) -> Decision:
    context = test["request"].get("context") or {}
    if "ACCESSTYPES" in context:
        return engine.evaluate_many(
            _request(test), context["ACCESSTYPES"], bool(context.get("ISANYACCESS"))
        )
    return engine.evaluate(_request(test))


def _id_dispute(data: dict, policies: list[dict], test: dict, got: Decision) -> Decision | None:
    """When only the policy id differs: the file's policy evaluated alone (None when the
    file names no policy). If it decides the same way, the two differ only in which of
    two deciding policies Ranger's order tries first, which Ranger's own suite stopped
    asserting in 2019 (RANGER-2354); if it is undecidable, so is the case."""
    want = test["result"].get("policyId")
    if want is None or want == -1 or got.policy_id == -1:
        return None
    alone = [p for p in policies if p.get("id") == want]
    return _decide(_engine(data, alone, None), test)


def _stale_id(data: dict, policies: list[dict], test: dict, got: Decision) -> bool:
    """The file's policy id cannot be a deciding policy (it is -1, or that policy alone
    decides nothing), while the policy we name decides the same way alone: an id from an
    older Ranger that its suite no longer checks (RANGER-2354)."""
    want = test["result"].get("policyId")
    if want is None or got.policy_id in (None, -1):
        return False
    if want != -1:
        theirs = _decide(_engine(data, [p for p in policies if p.get("id") == want], None), test)
        if theirs.policy_id != -1 or theirs.undecidable:
            return False
    ours = _decide(_engine(data, [p for p in policies if p.get("id") == got.policy_id], None), test)
    tag_policies = (data.get("tagPolicyInfo") or {}).get("tagPolicies") or []
    if not ours.policy_id == got.policy_id and any(
        p.get("id") == got.policy_id for p in tag_policies
    ):
        ours = _decide(_engine(data, [], None), test)  # a tag policy: decided with the tags
    return (ours.allowed, ours.policy_id) == (got.allowed, got.policy_id) and not ours.undecidable


def _audit_plain(data: dict) -> bool:
    """Whether Ranger's `isAudited` in a file is the policies' `isAuditEnabled` alone
    (no audit mode, audit filters, excluded users or tag policies in play)."""
    config = data.get("serviceConfig") or {}
    return not (
        data.get("auditMode")
        or data.get("tagPolicyInfo")
        or any(k.startswith("auditExcluded") for k in data)
        or any("audit" in k for k in config)
    )


def run_file(path: Path) -> tuple[list[tuple[str, str, str]], int]:
    """((case, outcome, detail) for every access check of one file, other checks)."""
    data = json.loads(path.read_text())
    audit_checked = _audit_plain(data)
    results: list[tuple[str, str, str]] = []
    others = 0
    for label, policies, zones, tests in suites(data):
        try:
            engine = _engine(data, policies, zones)
        except Exception as exc:  # noqa: BLE001 - the file's whole suite disagrees
            engine, failure = None, f"engine refused the policies: {exc}"
        for test in tests:
            name = f"{path.name} [{label}] {test['name']}"
            if "result" not in test:
                others += 1
                continue
            if engine is None:
                results.append((name, "disagree", failure))
                continue
            expected = test["result"]
            decision = _decide(engine, test)
            if decision.undecidable:
                results.append((name, "undecidable", "; ".join(decision.undecidable)))
                continue
            want_id = expected.get("policyId")
            same = decision.allowed == expected["isAllowed"]
            if same and audit_checked and decision.audited != expected.get("isAudited", True):
                results.append(
                    (
                        name,
                        "disagree",
                        f"isAudited: Ranger {expected.get('isAudited')}, we {decision.audited}",
                    )
                )
                continue
            if same and (want_id is None or decision.policy_id == want_id):
                results.append((name, "agree", ""))
            elif same and want_id == -1 and expected["isAllowed"]:
                # no policy yet allowed: a stale id Ranger's suite does not check
                results.append((name, "agree", f"file's policy id -1, we {decision.policy_id}"))
            elif (
                same
                and (alone := _id_dispute(data, policies, test, decision)) is not None
                and (
                    alone.undecidable
                    or (alone.allowed, alone.policy_id) == (decision.allowed, want_id)
                )
            ):
                if alone.undecidable:
                    results.append((name, "undecidable", "; ".join(alone.undecidable)))
                else:
                    results.append((name, "agree", f"policy id {want_id} vs {decision.policy_id}"))
            elif same and _stale_id(data, policies, test, decision):
                results.append((name, "agree", f"stale id {want_id}, we {decision.policy_id}"))
            else:
                results.append(
                    (
                        name,
                        "disagree",
                        f"Ranger: allowed={expected['isAllowed']} policy={want_id}; we: "
                        f"allowed={decision.allowed} policy={decision.policy_id} "
                        f"({decision.reason})",
                    )
                )
    return results, others


def known_disagreements() -> dict[str, str]:
    """Case -> the construct it still needs, from disagreements.txt."""
    known = {}
    for line in KNOWN.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            case, _, reason = line.partition("\t")
            known[case] = reason
    return known


def test_every_ranger_policyengine_case(capsys) -> None:
    """Agree/disagree/undecidable over every Ranger file; disagreements exactly the known."""
    counts: Counter[str] = Counter()
    lines, disagree, undecidable = [], {}, []
    others = 0
    for path in sorted(DATA.glob("test_policyengine_*.json")):
        results, other = run_file(path)
        others += other
        per = Counter(outcome for _, outcome, _ in results)
        counts.update(per)
        lines.append(
            f"  {path.name}: {per['agree']} agree, {per['disagree']} disagree, "
            f"{per['undecidable']} undecidable"
        )
        disagree.update({c: d for c, o, d in results if o == "disagree"})
        undecidable += [f"{c}: {d}" for c, o, d in results if o == "undecidable"]
    with capsys.disabled():
        print("\nRanger policyengine conformance:")
        print("\n".join(lines))
        for line in undecidable:
            print(f"  UNDECIDABLE {line}")
        print(
            f"  total: {counts['agree']} agree, {counts['disagree']} disagree, "
            f"{counts['undecidable']} undecidable ({others} masking/row-filter/resource-info "
            "checks not counted)"
        )
    known = known_disagreements()
    unexpected = {c: d for c, d in disagree.items() if c not in known}
    fixed = sorted(set(known) - set(disagree))
    assert not unexpected, "\n".join(f"{c}: {d}" for c, d in sorted(unexpected.items()))
    assert not fixed, "now agree, remove from disagreements.txt:\n" + "\n".join(fixed)
