"""Conformance with every `test_policyengine_*.json` of Apache Ranger's repository.

The files are in `tests/data/ranger/` (copied unmodified; README there names the commit).
Each access check of each file (a test with `result`; masking, row-filter and
resource-access-info checks are not access decisions and are only counted) is run through
`PolicyEngine` and classed as:

- agree: the same `isAllowed` as Ranger, and the same `isAudited` where it rests on the
  policies' `isAuditEnabled` alone (Ranger's `TestPolicyEngine` asserts these two);
- undecidable: the engine itself reports that the decision rests on a condition it cannot
  decide from the request (custom Java condition classes Ranger runs at request time);
- disagree: anything else.

The policy id a file names is not asserted by Ranger's suite for access results (only
`isAllowed` and `isAudited` are), and some are stale. Where the file's id differs from
ours, `tests/data/ranger/policy_ids.txt` lists the case with the reason Ranger's code
(evaluation order, matchers, tag-then-resource rules) names ours.

The test prints the counts per file and overall, and fails when the disagreements are not
exactly those listed in `tests/data/ranger/disagreements.txt` (each with the construct it
still needs), or the differing ids not exactly those in `policy_ids.txt`: a regression
fails, and so does a fix that forgot to shorten a list.
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
IDS = DATA / "policy_ids.txt"
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
            if same:
                want_id = expected.get("policyId")
                differs = want_id is not None and decision.policy_id != want_id
                detail = f"file's policy id {want_id}, we {decision.policy_id}" if differs else ""
                results.append((name, "agree", detail))
            else:
                results.append(
                    (
                        name,
                        "disagree",
                        f"Ranger: allowed={expected['isAllowed']} policy="
                        f"{expected.get('policyId')}; we: allowed={decision.allowed} "
                        f"policy={decision.policy_id} ({decision.reason})",
                    )
                )
    return results, others


def known_disagreements(path: Path = KNOWN) -> dict[str, str]:
    """Case -> the construct it still needs (disagreements.txt), or -> the file's id, ours
    and why Ranger's code names ours (policy_ids.txt)."""
    known = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            case, _, reason = line.partition("\t")
            known[case] = reason
    return known


def test_every_ranger_policyengine_case(capsys) -> None:
    """Agree/disagree/undecidable over every Ranger file; disagreements exactly the known."""
    counts: Counter[str] = Counter()
    lines, disagree, undecidable, ids = [], {}, [], {}
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
        ids.update({c: d for c, o, d in results if o == "agree" and d})
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
        print(f"  the file's policy id differs from ours in {len(ids)} agreeing cases")
    known = known_disagreements()
    unexpected = {c: d for c, d in disagree.items() if c not in known}
    fixed = sorted(set(known) - set(disagree))
    assert not unexpected, "\n".join(f"{c}: {d}" for c, d in sorted(unexpected.items()))
    assert not fixed, "now agree, remove from disagreements.txt:\n" + "\n".join(fixed)
    explained = known_disagreements(IDS)
    assert set(ids) == set(explained), (
        "policy ids differing from the file's, not as policy_ids.txt lists:\n"
        + "\n".join(f"{c}: {d}" for c, d in sorted(ids.items()) if c not in explained)
        + "\nlisted but now the same:\n"
        + "\n".join(sorted(set(explained) - set(ids)))
    )
