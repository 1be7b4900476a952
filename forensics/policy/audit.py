"""Which policies grant access without leaving an audit record (`isAuditEnabled` false).

Ranger writes an audit event for an access only when some applicable policy has auditing
on (`RangerDefaultPolicyEvaluator.evaluate` sets `isAudited` from the first applicable
audit-enabled policy). A policy with `isAuditEnabled: false` therefore marks resources on
which reads its items allow may be missing from the Ranger audit log altogether: a
finding of absence there rests on no coverage. This module lists those policies, their
items and the resources they cover, per policy state, for the coverage ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ITEM_KINDS = (
    ("policyItems", "allow"),
    ("denyPolicyItems", "deny"),
    ("allowExceptions", "allow exception"),
    ("denyExceptions", "deny exception"),
)


@dataclass(frozen=True)
class SilentItem:
    """One item of an audit-off policy: what it allows or denies, and to whom."""

    kind: str  # allow, deny, allow exception, deny exception
    accesses: tuple[str, ...]
    users: tuple[str, ...]
    groups: tuple[str, ...]
    roles: tuple[str, ...]
    conditional: bool  # the item has conditions (decided per request)


@dataclass(frozen=True)
class AuditGap:
    """An enabled access policy with auditing off: its resource sets (`resources`, then
    `additionalResources`, each as `{resource: {"values", "isExcludes", "isRecursive"}}`)
    and items, and the validity schedules that limit when it applies."""

    policy_id: int
    name: str
    zone: str | None
    resources: tuple[Mapping[str, Mapping], ...]
    items: tuple[SilentItem, ...]
    scheduled: bool

    @property
    def allows(self) -> bool:
        """Whether some item of the policy grants access (reads it allows go unaudited,
        unless another applicable policy audits them)."""
        return any(i.kind == "allow" for i in self.items)


def audit_gaps(policies: Iterable[Mapping], zone: str | None = None) -> tuple[AuditGap, ...]:
    """The enabled access policies of an export with `isAuditEnabled` false, by id."""
    gaps = []
    for raw in policies:
        if raw.get("isAuditEnabled", True) is not False or raw.get("isEnabled", True) is False:
            continue
        if int(raw.get("policyType") or 0) != 0:
            continue
        sets = (raw.get("resources") or {}, *(raw.get("additionalResources") or []))
        gaps.append(
            AuditGap(
                policy_id=int(raw.get("id", -1)),
                name=str(raw.get("name", "")),
                zone=zone or raw.get("zoneName") or None,
                resources=tuple(_plain(s) for s in sets),
                items=tuple(_items(raw)),
                scheduled=bool(raw.get("validitySchedules")),
            )
        )
    return tuple(sorted(gaps, key=lambda g: (g.zone or "", g.policy_id)))


def _plain(resources: Mapping) -> dict[str, dict]:
    return {
        name: {
            "values": [str(v) for v in (spec or {}).get("values") or []],
            "isExcludes": bool((spec or {}).get("isExcludes", False)),
            "isRecursive": bool((spec or {}).get("isRecursive", False)),
        }
        for name, spec in sorted(resources.items())
    }


def _items(raw: Mapping) -> Iterable[SilentItem]:
    for key, kind in ITEM_KINDS:
        for item in raw.get(key) or []:
            yield SilentItem(
                kind=kind,
                accesses=tuple(
                    sorted(
                        str(a.get("type"))
                        for a in item.get("accesses") or []
                        if a.get("isAllowed", True)
                    )
                ),
                users=tuple(sorted(item.get("users") or [])),
                groups=tuple(sorted(item.get("groups") or [])),
                roles=tuple(sorted(item.get("roles") or [])),
                conditional=bool(item.get("conditions")),
            )
