"""Ranger's access decision for one request, reproduced.

The order is Ranger's (`RangerPolicyEngineImpl`, `RangerDefaultPolicyEvaluator`):

1. Super users and super groups are allowed outright (policy id -1).
2. Policies are evaluated by `policyPriority` (highest first); within a priority, those
   with deny items (or `isDenyAllElse`) first, then by name.
3. A policy applies when its resources cover the requested resource itself: a policy on
   `database` alone does not cover a table in it; a request for a table is covered by a
   policy on `db/table/column=*` (the policy reaches all the table's columns). For "any
   access" (`""`, as Hive checks `USE`/`SHOW`), a policy on something below the request
   counts too. Disabled policies and policies outside their `validitySchedules` are skipped.
4. In a policy, a deny item (unless a deny exception also matches) denies and ends the
   evaluation; otherwise an allow item (unless an allow exception matches) allows, and
   the first allowing policy is the one named. `isDenyAllElse` denies whoever no item of
   the policy matched. After an allow, lower-priority policies cannot change the result;
   policies of the same priority can still deny.
5. No policy deciding means denied, policy id -1 (HDFS may then fall back to POSIX).

Item conditions (client address and other custom conditions) cannot be decided from the
logs we read; an item with conditions never matches, and the decision says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from forensics.errors import PolicyError
from forensics.policy.matchers import ResourceMatcher, resource_matcher
from forensics.policy.servicedef import ServiceDef

PUBLIC_GROUP = "public"
USER_MACRO = "{USER}"
OWNER_MACRO = "{OWNER}"
NO_POLICY = -1
SELF = "self"
DESCENDANT = "descendant"


@dataclass(frozen=True)
class AccessRequest:
    """Who asks for which access to which resource, and when."""

    resource: Mapping[str, str]
    access_type: str
    user: str
    groups: frozenset[str] = frozenset()
    time: datetime | None = None
    owner: str | None = None
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """Ranger's answer: allowed or not, the deciding policy (-1: none) and why."""

    allowed: bool
    policy_id: int | None
    reason: str


@dataclass(frozen=True)
class _Item:
    """A policy item: the accesses it grants or denies, and to whom."""

    accesses: frozenset[str]
    users: frozenset[str]
    groups: frozenset[str]
    roles: frozenset[str]
    conditional: bool

    def applies_to(self, request: AccessRequest, roles: frozenset[str], grants) -> bool:
        """Whether the item names the requester and covers the requested access."""
        if self.conditional:
            return False
        if request.access_type:
            if not any(request.access_type in grants(a) for a in self.accesses):
                return False
        elif not self.accesses:
            return False
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
class _Policy:
    """A Ranger access policy compiled for evaluation."""

    id: int
    name: str
    priority: int
    deny_all_else: bool
    matchers: dict[str, ResourceMatcher]
    allow: list[_Item]
    allow_exceptions: list[_Item]
    deny: list[_Item]
    deny_exceptions: list[_Item]
    schedules: list[tuple[datetime | None, datetime | None]] = field(default_factory=list)

    @property
    def has_deny(self) -> bool:
        return self.deny_all_else or bool(self.deny)


class PolicyEngine:
    """Evaluates requests against one service's policies (a Ranger policy export)."""

    def __init__(
        self,
        policies: list[dict],
        service_def: ServiceDef,
        roles: Mapping[str, Iterable[str]] | None = None,
        super_users: Iterable[str] = (),
        super_groups: Iterable[str] = (),
    ) -> None:
        self.service_def = service_def
        self.hierarchies = service_def.hierarchies()
        self.super_users = frozenset(super_users)
        self.super_groups = frozenset(super_groups)
        self.role_members = {name: frozenset(m) for name, m in (roles or {}).items()}
        compiled = [_compile(p, service_def) for p in policies if _is_access_policy(p)]
        self.policies = sorted(
            (p for p in compiled if p is not None),
            key=lambda p: (-p.priority, not p.has_deny, p.name, p.id),
        )
        self._grants = service_def.grants

    def roles_of(self, request: AccessRequest) -> frozenset[str]:
        """The roles a requester has: given in the request, or by user/group membership."""
        found = set(request.roles)
        for role, members in self.role_members.items():
            if request.user in members or members & request.groups:
                found.add(role)
        return frozenset(found)

    def evaluate(self, request: AccessRequest) -> Decision:
        """Ranger's decision for `request`."""
        if request.user in self.super_users or request.groups & self.super_groups:
            return Decision(True, NO_POLICY, "super user")
        roles = self.roles_of(request)
        allowed_by: _Policy | None = None
        for policy in self.policies:
            if allowed_by is not None and (
                policy.priority < allowed_by.priority or not policy.has_deny
            ):
                break
            match = self._match(policy, request)
            if match is None or not _in_schedule(policy, request.time):
                continue
            verdict = self._verdict(policy, request, roles)
            if verdict is False and match == DESCENDANT:
                verdict = None  # "any access" ignores a deny on something below the request
            if verdict is False:
                return Decision(False, policy.id, f"denied by policy {policy.id}")
            if verdict is True and allowed_by is None:
                allowed_by = policy
        if allowed_by is not None:
            return Decision(True, allowed_by.id, f"allowed by policy {allowed_by.id}")
        return Decision(False, NO_POLICY, "no policy allows it")

    def _verdict(
        self, policy: _Policy, request: AccessRequest, roles: frozenset[str]
    ) -> bool | None:
        """False: denied here; True: allowed here; None: this policy does not decide.

        For "any access" each access type the policy names is decided on its own, and the
        request is allowed when one of them is (as Ranger composes them).
        """
        if request.access_type:
            return self._items(policy, request, roles)
        named = {a for item in policy.allow + policy.deny for a in item.accesses}
        verdicts = [
            self._items(policy, replace(request, access_type=a), roles) for a in sorted(named)
        ]
        if True in verdicts:
            return True
        if False in verdicts or (policy.deny_all_else and not named):
            return False
        return None

    def _items(self, policy: _Policy, request: AccessRequest, roles: frozenset[str]) -> bool | None:
        grants = self._grants
        if any(i.applies_to(request, roles, grants) for i in policy.deny) and not any(
            i.applies_to(request, roles, grants) for i in policy.deny_exceptions
        ):
            return False
        if any(i.applies_to(request, roles, grants) for i in policy.allow) and not any(
            i.applies_to(request, roles, grants) for i in policy.allow_exceptions
        ):
            return True
        if policy.deny_all_else:
            return False
        return None

    def _match(self, policy: _Policy, request: AccessRequest) -> str | None:
        """How the policy's resources relate to the request: SELF (covers it, or everything
        below it), DESCENDANT (names something below it: counts for "any access" only),
        or None (does not apply; a policy naming only an ancestor never applies)."""
        keys = [k for k, v in request.resource.items() if v not in (None, "", [])]
        if not keys:  # e.g. SHOW DATABASES: every policy names something below it
            return DESCENDANT if not request.access_type and policy.matchers else None
        chain = next((h for h in self.hierarchies if set(keys) <= set(h)), None)
        if chain is None or not set(policy.matchers) <= set(chain):
            return None
        if set(chain[: len(keys)]) != set(keys):
            return None  # a gap in the request (a column without its table) names nothing
        if not policy.matchers and keys:
            return None
        result = SELF
        for level in chain:
            matcher = policy.matchers.get(level)
            requested = request.resource.get(level)
            if requested in (None, "", []):
                if matcher is None:
                    continue
                if not matcher.matches_all:
                    result = DESCENDANT
                continue
            if matcher is None:
                return None  # the policy stops above the request: an ancestor
            names = requested if isinstance(requested, list) else [requested]
            if not all(matcher.matches(str(n), request.user) for n in names):
                return None
        if result == DESCENDANT and request.access_type:
            return None
        return result


def _is_access_policy(raw: dict) -> bool:
    return raw.get("isEnabled", True) is not False and int(raw.get("policyType") or 0) == 0


def _compile(raw: dict, service_def: ServiceDef) -> _Policy | None:
    """A `_Policy` from a Ranger policy; None when its resources are not this service's."""
    matchers = {}
    for name, spec in (raw.get("resources") or {}).items():
        resource = service_def.resources.get(name)
        if resource is None:
            return None
        matchers[name] = resource_matcher(resource, spec or {})
    return _Policy(
        id=int(raw.get("id", NO_POLICY)),
        name=str(raw.get("name", "")),
        priority=int(raw.get("policyPriority") or 0),
        deny_all_else=bool(raw.get("isDenyAllElse", False)),
        matchers=matchers,
        allow=_items(raw.get("policyItems")),
        allow_exceptions=_items(raw.get("allowExceptions")),
        deny=_items(raw.get("denyPolicyItems")),
        deny_exceptions=_items(raw.get("denyExceptions")),
        schedules=[_schedule(s) for s in raw.get("validitySchedules") or []],
    )


def _items(raw: list | None) -> list[_Item]:
    return [
        _Item(
            accesses=frozenset(
                a["type"] for a in item.get("accesses") or [] if a.get("isAllowed", True)
            ),
            users=frozenset(item.get("users") or []),
            groups=frozenset(item.get("groups") or []),
            roles=frozenset(item.get("roles") or []),
            conditional=bool(item.get("conditions")),
        )
        for item in raw or []
    ]


def _schedule(raw: dict) -> tuple[datetime | None, datetime | None]:
    """A validity schedule's start and end as aware datetimes (Ranger's `yyyy/MM/dd HH:mm:ss`)."""
    try:
        zone = ZoneInfo(raw.get("timeZone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"validity schedule: unknown time zone {raw.get('timeZone')!r}") from None
    if raw.get("recurrences"):
        raise PolicyError("validity schedules with recurrences are not supported yet")

    def moment(text: str | None) -> datetime | None:
        if not text:
            return None
        try:
            return datetime.strptime(text, "%Y/%m/%d %H:%M:%S").replace(tzinfo=zone)
        except ValueError:
            raise PolicyError(
                f"validity schedule: time {text!r} is not yyyy/MM/dd HH:mm:ss"
            ) from None

    return moment(raw.get("startTime")), moment(raw.get("endTime"))


def _in_schedule(policy: _Policy, when: datetime | None) -> bool:
    """A policy with validity schedules applies only inside one of them."""
    if not policy.schedules:
        return True
    when = when or datetime.now(timezone.utc)
    return any(
        (start is None or start <= when) and (end is None or when <= end)
        for start, end in policy.schedules
    )
