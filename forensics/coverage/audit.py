"""Accesses Ranger decided without auditing them: policies with `isAuditEnabled: false`.

Ranger audits an access when some policy whose resources match it has auditing on
(`RangerDefaultPolicyEvaluator.evaluate`: every matching policy is consulted until both the
access and the audit are determined; a policy with `isAuditEnabled` true sets the result
audited). So the accesses to an object are unaudited when the policies matching it are
all audit-disabled: then reads the policy allowed left no Ranger event, and an absence of
reads says nothing. `isAuditEnabled` is a policy field (null is true); Ranger's policy
items carry no audit flag of their own.

Only policy states that hold an audit-disabled policy are evaluated, with the project's
policy engine (`forensics.policy`, as `scope` builds it); validity schedules are not
consulted here (a scheduled policy counts as in force for its whole state).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from forensics.case import Case
from forensics.catalog import Catalog
from forensics.policy import AccessRequest
from forensics.policy.engine import SELF
from forensics.scope import load_authority, policy_states


@dataclass(frozen=True)
class Unaudited:
    """Accesses to `object` decided by policy `policy_id` of `service`, unaudited from
    `start` until `end` (None: still at the last known state)."""

    policy_id: int
    service: str
    object: str
    start: datetime
    end: datetime | None


def unaudited(case: Case, catalog: Catalog) -> list[Unaudited]:
    """Every (audit-disabled policy, object it matches with no audited policy matching the
    object too), over the policy states in which that held, consecutive states merged."""
    states = policy_states(case)
    if not any(_audit_off(p) for state in states for p in state.policies):
        return []
    authority = load_authority(case)
    objects = sorted(catalog.objects)
    spans: list[Unaudited] = []
    open_spans: dict[tuple[int, str], Unaudited] = {}
    for i, state in enumerate(states):
        end = states[i + 1].at if i + 1 < len(states) else None
        found = _state_unaudited(authority.engine(state.policies), state.policies, objects)
        for key in list(open_spans):
            if key not in found:
                spans.append(open_spans.pop(key))
        for key, service in sorted(found.items()):
            previous = open_spans.get(key)
            start = previous.start if previous is not None else state.at
            open_spans[key] = Unaudited(key[0], service, key[1], start, end)
    spans.extend(open_spans.values())
    return sorted(spans, key=lambda u: (u.object, u.start, u.policy_id))


def _audit_off(policy: dict) -> bool:
    return policy.get("isAuditEnabled", True) is False


def _state_unaudited(engine, policies: Sequence[dict], objects: Sequence[str]) -> dict:
    """(policy id, object) -> service, for one policy state."""
    raw = {int(p["id"]): p for p in policies if "id" in p}
    compiled = engine.policies  # enabled access policies of the service, compiled
    off = [p for p in compiled if p.id in raw and _audit_off(raw[p.id]) and _decides(raw[p.id])]
    if not off:
        return {}
    audited = [p for p in compiled if not (p.id in raw and _audit_off(raw[p.id]))]
    found = {}
    for obj in objects:
        db, _, table = obj.partition(".")
        request = AccessRequest(
            resource={"database": db, "table": table}, access_type="select", user=""
        )
        matching = [p for p in off if engine.match_type(p, request) == SELF]
        if not matching or any(engine.match_type(p, request) == SELF for p in audited):
            continue
        for policy in matching:
            found[(policy.id, obj)] = str(raw[policy.id].get("service") or "hive")
    return found


def _decides(policy: dict) -> bool:
    """Whether the policy has any item that can decide an access."""
    return any(policy.get(key) for key in ("policyItems", "denyPolicyItems")) or bool(
        policy.get("isDenyAllElse")
    )
