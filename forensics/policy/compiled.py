"""Ranger policies compiled for evaluation.

A policy of an export becomes a `CompiledPolicy`: its resource sets as matchers
(`resources` and `additionalResources`), its items with their accesses expanded by
implied grants and marker access types, its conditions, validity schedules, audit flag,
and Ranger's evaluation-order score (`RangerOptimizedPolicyEvaluator.computeEvalOrder`),
which orders policies of one priority. Also how a policy's resources relate to a request
(SELF, DESCENDANT) and whether it is in force at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from forensics.errors import PolicyError
from forensics.policy.conditions import Condition, compile_condition
from forensics.policy.matchers import ResourceMatcher, resource_matcher
from forensics.policy.request import AccessRequest
from forensics.policy.schedule import ValiditySchedule, parse_schedule
from forensics.policy.servicedef import ServiceDef

PUBLIC_GROUP = "public"
USER_MACRO = "{USER}"
OWNER_MACRO = "{OWNER}"
NO_POLICY = -1
ITEM_KEYS = ("policyItems", "denyPolicyItems", "allowExceptions", "denyExceptions")
#: How a policy's resources relate to a request: they cover it, or name something below.
SELF = "self"
DESCENDANT = "descendant"
Judge = Callable[[tuple[Condition, ...]], bool]


@dataclass(frozen=True)
class Item:
    """A policy item: the accesses it grants or denies, and to whom."""

    accesses: frozenset[str]
    users: frozenset[str]
    groups: frozenset[str]
    roles: frozenset[str]
    conditional: bool
    conditions: tuple[Condition, ...] = ()

    def applies_to(
        self,
        request: AccessRequest,
        access: str,
        roles: frozenset[str],
        judge: Judge | None = None,
    ) -> bool:
        """Whether the item names the requester and covers `access` (directly or by an
        implied grant such as Hive's `all`), and its conditions hold (`judge` decides
        them; without one, an item with conditions never applies)."""
        if access not in self.accesses or not self.names(request, roles):
            return False
        if not self.conditional:
            return True
        return judge is not None and judge(self.conditions)

    def names(self, request: AccessRequest, roles: frozenset[str]) -> bool:
        """Whether the item names the requester (user, group, role, macro)."""
        return (
            request.user in self.users
            or USER_MACRO in self.users
            or (OWNER_MACRO in self.users and request.owner is not None
                and request.owner == request.user)
            or PUBLIC_GROUP in self.groups
            or bool(self.groups & request.groups)
            or bool(self.roles & roles)
        )  # fmt: skip


@dataclass
class CompiledPolicy:
    """A Ranger access policy compiled for evaluation."""

    id: int
    name: str
    priority: int
    deny_all_else: bool
    matchers: dict[str, ResourceMatcher]
    allow: list[Item]
    allow_exceptions: list[Item]
    deny: list[Item]
    deny_exceptions: list[Item]
    schedules: tuple[ValiditySchedule, ...] = ()
    eval_order: int = 0
    host_zone: ZoneInfo | None = None  # the clock recurrences are matched on
    #: `additionalResources`: further resource sets the policy applies to (Ranger 2.5)
    more_matchers: tuple[dict[str, ResourceMatcher], ...] = ()
    audit: bool = True  # `isAuditEnabled`
    conditions: tuple[Condition, ...] = ()  # policy-level conditions
    zone: str | None = None  # `zoneName` (tag policies are per security zone)

    @property
    def resource_sets(self) -> tuple[dict[str, ResourceMatcher], ...]:
        """Every resource set of the policy: `resources`, then `additionalResources`."""
        return (self.matchers, *self.more_matchers)

    @property
    def has_deny(self) -> bool:
        """Ranger evaluates policies that can deny before the others of their priority."""
        return self.deny_all_else or bool(self.deny)

    @property
    def has_items(self) -> bool:
        """A policy without allow or deny items (e.g. audit-only) decides nothing."""
        return self.has_deny or bool(self.allow)


def zone_matchers(zone: Mapping, service_def: ServiceDef) -> list[dict[str, ResourceMatcher]]:
    """A zone's resource specs (`[{"database": ["db-zone"], ...}]`) as matchers."""
    specs = []
    for spec in zone.get("resources") or []:
        matchers = {}
        for name, values in spec.items():
            resource = service_def.resources.get(name)
            if resource is None:
                raise PolicyError(f"security zone: resource {name!r} is not in the service")
            matchers[name] = resource_matcher(resource, {"values": values, "isRecursive": True})
        specs.append(matchers)
    return specs


def is_access_policy(raw: dict) -> bool:
    return raw.get("isEnabled", True) is not False and int(raw.get("policyType") or 0) == 0


def compile_policy(raw: dict, service_def: ServiceDef) -> CompiledPolicy | None:
    """A `CompiledPolicy` from a Ranger policy; None when its resources are not this service's."""
    matchers = resource_set(raw.get("resources") or {}, service_def)
    if matchers is None:
        return None
    more = [resource_set(r, service_def) for r in raw.get("additionalResources") or []]
    pid = raw.get("id")
    return CompiledPolicy(
        id=int(raw.get("id", NO_POLICY)),
        name=str(raw.get("name", "")),
        priority=int(raw.get("policyPriority") or 0),
        deny_all_else=bool(raw.get("isDenyAllElse", False)),
        matchers=matchers,
        allow=_items(raw.get("policyItems"), service_def, f"policy {pid} allow"),
        allow_exceptions=_items(
            raw.get("allowExceptions"), service_def, f"policy {pid} allow exception"
        ),
        deny=_items(raw.get("denyPolicyItems"), service_def, f"policy {pid} deny"),
        deny_exceptions=_items(
            raw.get("denyExceptions"), service_def, f"policy {pid} deny exception"
        ),
        schedules=tuple(
            parse_schedule(s, f"policy {raw.get('id')} validity schedule")
            for s in raw.get("validitySchedules") or []
        ),
        eval_order=eval_order(raw, service_def),
        more_matchers=tuple(m for m in more if m),
        audit=raw.get("isAuditEnabled", True) is not False,
        conditions=tuple(
            compile_condition(c, service_def.conditions, f"policy {raw.get('id')}")
            for c in raw.get("conditions") or []
        ),
        zone=raw.get("zoneName") or None,
    )


def resource_set(
    resources: Mapping[str, Mapping], service_def: ServiceDef
) -> dict[str, ResourceMatcher] | None:
    """Matchers for one resource set of a policy; None when a resource is not the
    service's (the set cannot match any request of this service)."""
    matchers = {}
    for name, spec in resources.items():
        resource = service_def.resources.get(name)
        if resource is None:
            return None
        matchers[name] = resource_matcher(resource, spec or {})
    return matchers


def eval_order(raw: dict, service_def: ServiceDef) -> int:
    """Ranger's evaluation-order score (`RangerOptimizedPolicyEvaluator.computeEvalOrder`):
    among policies of one priority that equally can or cannot deny, the lower score is
    tried first, so it is the one a decision names. Narrow resources, few principals, few
    access types and few conditions score high (tried late); wildcards, `public` and broad
    grants score low."""
    discount = 0
    for spec in (raw.get("resources") or {}).values():
        values = [str(v) for v in (spec or {}).get("values") or []]
        if not values:
            continue
        if any(v in ("", "*") for v in values):
            discount += 25
            continue
        if any("*" in v for v in values):
            discount += 10
        elif any("?" in v for v in values):
            discount += 5
        discount += 5 if spec.get("isExcludes") else 0
        discount += 5 if spec.get("isRecursive") else 0
    items = [i for key in ITEM_KEYS for i in raw.get(key) or []]
    items += [
        i for key in ("dataMaskPolicyItems", "rowFilterPolicyItems") for i in raw.get(key) or []
    ]
    users = {u for i in items for u in i.get("users") or []}
    groups = {g for i in items for g in i.get("groups") or []}
    perms = {
        a.get("type") for i in items for a in i.get("accesses") or [] if a.get("isAllowed", True)
    }
    conditions = len(raw.get("conditions") or []) + sum(
        len(i.get("conditions") or []) for i in items
    )
    dynamic = any(
        "{" in str(v)
        for spec in (raw.get("resources") or {}).values()
        for v in (spec or {}).get("values") or []
    )
    order = 10000 + (20 if dynamic else 0) - min(100, discount)
    if raw.get("isDenyAllElse") or PUBLIC_GROUP in groups or USER_MACRO in users:
        order -= 25
    else:
        order -= min(len(users) + len(groups), 25)
    types = len(service_def.access_order or service_def.access_types) or 1
    order -= math.floor(25 * len(perms) / types + 0.5)  # Java's Math.round
    order -= max(25 - 5 * conditions, 0)
    return order


def _items(raw: list | None, service_def: ServiceDef, where: str = "") -> list[Item]:
    """Policy items with their accesses expanded by implied grants (`all` -> every access)."""
    return [
        Item(
            accesses=frozenset().union(
                *(
                    service_def.grants(a["type"])
                    for a in item.get("accesses") or []
                    if a.get("isAllowed", True)
                )
            ),
            users=frozenset(item.get("users") or []),
            groups=frozenset(item.get("groups") or []),
            roles=frozenset(item.get("roles") or []),
            conditional=bool(item.get("conditions")),
            conditions=tuple(
                compile_condition(c, service_def.conditions, f"{where} item {n}")
                for c in item.get("conditions") or []
            ),
        )
        for n, item in enumerate(raw or [], start=1)
    ]


def in_force(policy: CompiledPolicy, when: datetime | None) -> bool:
    """A policy with validity schedules applies only inside one of them."""
    if not policy.schedules:
        return True
    when = when or datetime.now(timezone.utc)
    return any(s.applies(when, policy.host_zone) for s in policy.schedules)


def all_items(policy: CompiledPolicy) -> list[Item]:
    """Every item of a policy: allow, allow exceptions, deny, deny exceptions."""
    return policy.allow + policy.allow_exceptions + policy.deny + policy.deny_exceptions
