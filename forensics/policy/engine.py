"""Ranger's access decision for one request, reproduced.

The order is Ranger's (`RangerPolicyEngineImpl`, `RangerDefaultPolicyEvaluator`):

1. Super users and super groups are allowed outright (policy id -1).
2. Policies are evaluated by `policyPriority` (highest first); within a priority, those
   with deny items (or `isDenyAllElse`) first, then by Ranger's evaluation-order score
   (`computeEvalOrder`: broad resources, many principals and access types first), then
   by name. Only the policy a decision names, never the decision, depends on this.
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
5. "Any access" keeps one result per access type of the service across policies (as
   Ranger's composite access result does): allowed when some type is allowed, denied
   only when every type is denied; a deny from a policy that merely names something
   below the request is ignored.
6. A resource inside a security zone is decided by that zone's policies only.
7. No policy deciding means denied, policy id -1 (HDFS may then fall back to POSIX).
8. Tag policies (`policy.tags`) are evaluated first on the resource's tags; resource
   policies then override them by priority, as `RangerPolicyEngineImpl` does.

Policy and item conditions are decided where the request tells (`policy.conditions`); one
it cannot decide is tried both ways, and when the answer depends on it the decision lists
it in `undecidable` instead of guessing. Marker access types, `additionalResources`,
validity-schedule recurrences and `isAuditEnabled` (`Decision.audited`) are Ranger's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from itertools import product
from typing import Any
from zoneinfo import ZoneInfo

from forensics.errors import PolicyError
from forensics.policy.conditions import Condition, Facts, Undecidable, compile_condition
from forensics.policy.conditions import evaluate as evaluate_condition
from forensics.policy.matchers import ResourceMatcher, resource_matcher
from forensics.policy.schedule import ValiditySchedule, parse_schedule, zone_named
from forensics.policy.servicedef import ServiceDef
from forensics.policy.tags import (
    DESCENDANT as TAG_DESCENDANT,
)
from forensics.policy.tags import (
    TAG_RESOURCE,
    ServiceTags,
    TagForEval,
    component_policies,
    tag_service_def,
)

PUBLIC_GROUP = "public"
USER_MACRO = "{USER}"
OWNER_MACRO = "{OWNER}"
NO_POLICY = -1
#: Ranger's `RangerPolicyEngine.ANY_ACCESS`: like an empty access type, "any access".
ANY_ACCESS = "_any"
#: `RangerAccessRequestUtil.KEY_CONTEXT_REQUESTED_RESOURCES`
REQUESTED_RESOURCES = "REQUESTED_RESOURCES"
SELF = "self"
ITEM_KEYS = ("policyItems", "denyPolicyItems", "allowExceptions", "denyExceptions")
DESCENDANT = "descendant"
#: At most this many undecidable conditions are tried both ways before giving up.
MAX_UNDECIDED = 8
#: `resourceMatchingScope` asking about the resource or anything below it.
DESCENDANTS_SCOPE = "SELF_OR_DESCENDANTS"
ANY_ACCESS = "_any"  # RangerPolicyEngine.ANY_ACCESS
Judge = Callable[[tuple[Condition, ...]], bool]


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
    client_ip: str | None = None  # None: not known; "": the request carried none
    context: Mapping[str, Any] = field(default_factory=dict)  # Ranger's request context
    tags: tuple[TagForEval, ...] | None = None  # None: from the engine's ServiceTags
    cluster_name: str | None = None
    cluster_type: str | None = None
    #: Ranger's `resourceMatchingScope`: SELF, or SELF_OR_DESCENDANTS ("may the user
    #: access this resource or something below it")
    scope: str = "SELF"
    user_attributes: Mapping[str, str] = field(default_factory=dict)  # user-store attributes
    #: Ranger's `resourceElementMatchingScopes`: per resource element, SELF_OR_CHILD ("a
    #: folder directly above what a policy names counts") or SELF_OR_PREFIX ("a prefix of
    #: what a policy names counts"), as S3 and Kafka plugins ask "may the user read
    #: something under this prefix".
    element_scopes: Mapping[str, str] = field(default_factory=dict)
    #: Ranger's `isDescendantDenyIgnored` (default true): false makes a deny on something
    #: below the resource count, and "any access" then needs every access type allowed.
    ignore_descendant_deny: bool = True


@dataclass(frozen=True)
class Decision:
    """Ranger's answer: allowed or not, the deciding policy (-1: none) and why."""

    allowed: bool
    policy_id: int | None
    reason: str
    #: Why the answer rests on something the request does not decide (a custom condition);
    #: empty when it is decided.
    undecidable: tuple[str, ...] = ()
    #: Whether Ranger writes an audit record of it: some applicable policy of the
    #: repository that decided has `isAuditEnabled` (Ranger's `isAudited`, before audit
    #: filters and excluded users). False for a read only audit-off policies cover.
    audited: bool = True


@dataclass(frozen=True)
class _Item:
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


class PolicyEngine:
    """Evaluates requests against one service's policies (a Ranger policy export).

    `zones` is Ranger's `securityZones` mapping (zone name -> `{"resources": [...],
    "policies": [...]}`): a request on a resource inside a zone is decided by that zone's
    policies only, as Ranger does. `schedule_zone` is the time zone of the plugin's host,
    on whose clock Ranger matches validity-schedule recurrences (default: each schedule's
    own `timeZone`).
    """

    def __init__(
        self,
        policies: list[dict],
        service_def: ServiceDef,
        roles: Mapping[str, Iterable[str]] | None = None,
        super_users: Iterable[str] = (),
        super_groups: Iterable[str] = (),
        zones: Mapping[str, Mapping] | None = None,
        schedule_zone: str | None = None,
        tag_policies: list[dict] | None = None,
        tag_service: Mapping | None = None,
        service_tags: ServiceTags | None = None,
    ) -> None:
        self.service_def = service_def
        self.schedule_zone = zone_named(schedule_zone, "schedule zone") if schedule_zone else None
        self._assume: dict[tuple, bool] = {}
        self._unknown: dict[tuple, str] = {}
        self._facts: Facts | None = None
        self.service_tags = service_tags
        self.tag_engine: PolicyEngine | None = None
        if tag_policies is not None:
            self.tag_engine = PolicyEngine(
                component_policies(tag_policies, service_def.name),
                tag_service_def(tag_service, service_def),
                roles=roles,
                schedule_zone=schedule_zone,
            )
        self._tags: tuple[TagForEval, ...] = ()
        self._matches: dict[int, str | None] = {}
        self._tag_audited = False
        self.hierarchies = service_def.hierarchies()
        self.super_users = frozenset(super_users)
        self.super_groups = frozenset(super_groups)
        self.role_members = {name: frozenset(m) for name, m in (roles or {}).items()}
        self.access_types = _access_order(service_def)
        self.policies = self._repository(policies)
        self.zones = {
            name: (_zone_matchers(zone, service_def), self._repository(zone.get("policies") or []))
            for name, zone in (zones or {}).items()
        }

    def _repository(self, policies: list[dict]) -> list[_Policy]:
        """Enabled access policies of this service, in Ranger's evaluation order."""
        compiled = (_compile(p, self.service_def) for p in policies if _is_access_policy(p))
        return sorted(
            (replace(p, host_zone=self.schedule_zone) for p in compiled if p is not None),
            key=lambda p: (-p.priority, not p.has_deny, p.eval_order, p.name, p.id),
        )

    def resource_matchers(self, resources: Mapping[str, Mapping]) -> dict | None:
        """Matchers for a resource set of this service (an audit filter's), for
        `match_type`; None when it names a resource the service does not have."""
        return _resource_set(resources, self.service_def)

    def roles_of(self, request: AccessRequest) -> frozenset[str]:
        """The roles a requester has: given in the request, or by user/group membership."""
        found = set(request.roles)
        for role, members in self.role_members.items():
            if request.user in members or members & request.groups:
                found.add(role)
        return frozenset(found)

    def evaluate(self, request: AccessRequest) -> Decision:
        """Ranger's decision for `request`. Conditions the request cannot decide are
        tried both ways (up to MAX_UNDECIDED of them): when the answer is the same either
        way it stands, otherwise the decision carries their reasons in `undecidable`
        (its `allowed` is the answer with them all false)."""
        if request.access_type == ANY_ACCESS:
            request = replace(request, access_type="")
        first = self._evaluate_assuming(request, {})
        unknown = dict(self._unknown)
        if not unknown:
            return first
        keys = list(unknown)
        outcomes: set[tuple[bool, int | None]] = set()
        while len(keys) <= MAX_UNDECIDED:
            outcomes, grew = set(), False
            for values in product((False, True), repeat=len(keys)):
                found = self._evaluate_assuming(request, dict(zip(keys, values, strict=True)))
                outcomes.add((found.allowed, found.policy_id))
                extra = {k: v for k, v in self._unknown.items() if k not in unknown}
                if extra:  # another path met conditions of its own: try those too
                    unknown.update(extra)
                    keys += list(extra)
                    grew = True
                    break
            if not grew:
                break
        if len(keys) <= MAX_UNDECIDED and len(outcomes) == 1:
            return first
        return replace(first, undecidable=tuple(sorted(set(unknown.values()))))

    def _evaluate_assuming(self, request: AccessRequest, assume: dict[tuple, bool]) -> Decision:
        """The decision with undecidable conditions taken as `assume` says (False when it
        does not say); `self._unknown` collects those met."""
        self._assume, self._unknown, self._matches = assume, {}, {}
        if request.access_type == ANY_ACCESS:  # Ranger's isAccessTypeAny: "" or "_any"
            request = replace(request, access_type="")
        tags = request.tags
        if tags is None and self.service_tags is not None:
            tags = self.service_tags.tags_of(request.resource, request.element_scopes)
        given = (t if isinstance(t, TagForEval) else TagForEval(t) for t in tags or ())
        self._tags = tuple(t for t in given if t.applies(request.time))
        self._facts = Facts(
            user=request.user,
            groups=request.groups,
            roles=self.roles_of(request),
            time=request.time or datetime.now(timezone.utc),  # Ranger: no time is now
            client_ip=request.client_ip,
            context=request.context,
            tags=None if tags is None else tuple(t.tag for t in self._tags),
            cluster_name=request.cluster_name,
            cluster_type=request.cluster_type,
            zone=self.schedule_zone,
            requested=requested_resources(request.context),
            service_def=self.service_def,
        )
        return self._evaluate(request)

    def _judge(self, conditions: tuple[Condition, ...]) -> bool:
        """Whether all `conditions` hold for the request being evaluated."""
        assert self._facts is not None  # set by _evaluate_assuming
        for condition in conditions:
            held, why = evaluate_condition(condition, self._facts)
            if held is None:
                tag = self._facts.tag
                key = (id(condition), tag and (tag.type, tuple(sorted(tag.attributes.items()))))
                self._unknown[key] = why
                held = self._assume.get(key, False)
            if not held:
                return False
        return True

    def _holds(self, policy: _Policy) -> bool:
        """A policy's own conditions (Ranger: checked before its items and its audit)."""
        return not policy.conditions or self._judge(policy.conditions)

    def _evaluate(self, request: AccessRequest) -> Decision:
        """Ranger's decision for `request`, conditions judged by `_judge`."""
        zones = self._zones_of(request)
        if request.user in self.super_users or request.groups & self.super_groups:
            repo = self.zones[zones[0]][1] if len(zones) == 1 else self.policies
            return Decision(True, NO_POLICY, "super user", audited=self._audited(repo, request))
        roles = self.roles_of(request)
        if not zones or (len(zones) > 1 and request.access_type):
            decision = self._decide(self.policies, request, roles)
        else:
            decision = Decision(False, NO_POLICY, "no policy allows it")
            for zone in zones:
                decision = self._decide(self.zones[zone][1], request, roles, zone)
                if decision.allowed:
                    break
        if not decision.allowed and not request.access_type and not _named(request):
            for zone, (_, policies) in self.zones.items():  # SHOW DATABASES looks in every zone
                found = self._decide(policies, request, roles, zone)
                if found.allowed:
                    return found
        return decision

    def evaluate_many(
        self, request: AccessRequest, access_types: Sequence[str], any_access: bool
    ) -> Decision:
        """Ranger's decision for a request naming several access types at once (Ranger's
        `ACCESSTYPES` request context, as Hive's plugin sends `create, write`): with
        `any_access` (`ISANYACCESS`) allowed when one of them is, by that one's deciding
        policy; otherwise allowed only when every one is, and denied by the first that is
        not. Each access type is decided as a request of its own."""
        decisions = [self.evaluate(replace(request, access_type=a)) for a in access_types]
        if not decisions:
            return self.evaluate(request)
        allowed = [d for d in decisions if d.allowed]
        denied = [d for d in decisions if not d.allowed]
        if any_access:
            return allowed[0] if allowed else denied[0]
        return denied[0] if denied else allowed[0]

    def _zones_of(self, request: AccessRequest) -> list[str]:
        """The security zones whose resources contain the requested resource."""
        if not self.zones or not _named(request):
            return []
        return [
            name
            for name, (specs, _) in self.zones.items()
            if any(self._in_zone(spec, request) for spec in specs)
        ]

    def _in_zone(self, spec: Mapping[str, ResourceMatcher], request: AccessRequest) -> bool:
        """A zone on `database=vault` contains the database and everything in it; for a
        specific access a zone naming something below the request does not contain it."""
        keys = {k for k, v in request.resource.items() if v not in (None, "", [])}
        chain = next((h for h in self.hierarchies if keys <= set(h)), None)
        if chain is None or not set(spec) <= set(chain):
            return False
        for level, matcher in spec.items():
            requested = request.resource.get(level)
            if requested in (None, "", []):
                if request.access_type and not matcher.matches_all:
                    return False
                continue
            names = requested if isinstance(requested, list) else [requested]
            if not all(matcher.matches(str(n), request.user, request.owner) for n in names):
                return False
        return True

    def _decide(
        self,
        policies: list[_Policy],
        request: AccessRequest,
        roles: frozenset[str],
        zone: str | None = None,
    ) -> Decision:
        """The decision of one policy repository (the service's, or a zone's)."""
        where = f" in zone {zone}" if zone else ""
        tagged = self._decide_tags(request, roles, zone)
        if request.access_type and request.scope != DESCENDANTS_SCOPE:
            found = self._after_tags(policies, request, roles, tagged)
        else:
            found = self._decide_any(policies, request, roles, zone)
        decided_by = found[1] if found is not None else None
        audited = (
            self._tag_audited
            or (decided_by is not None and decided_by.audit and decided_by in policies)
            or self._audited(policies, request)
        )
        if found is None:
            return Decision(False, NO_POLICY, f"no policy{where} allows it", audited=audited)
        allowed, policy = found
        verb = "allowed" if allowed else "denied"
        if tagged is not None and policy is tagged[1]:
            tag = tagged[2].tag.type
            return Decision(
                allowed,
                policy.id,
                f"{verb} by tag policy {policy.id} (tag {tag}){where}",
                audited=audited,
            )
        return Decision(allowed, policy.id, f"{verb} by policy {policy.id}{where}", audited=audited)

    def _after_tags(
        self,
        policies: list[_Policy],
        request: AccessRequest,
        roles: frozenset[str],
        tagged: tuple[bool, _Policy, TagForEval] | None,
    ) -> tuple[bool, _Policy] | None:
        """Resource policies after the tag policies' answer: a tag deny stands unless a
        resource policy of higher priority decides; a tag allow stands unless one of the
        same or higher priority denies. A resource policy that allows too leaves the tag
        policy named: Ranger's `updateAccessResult` names an allowing policy only when
        access is not allowed yet."""
        if tagged is None:
            return self._decide_one(policies, request, roles)
        allowed, policy, _ = tagged
        above = [
            p
            for p in policies
            if p.priority > policy.priority or (allowed and p.priority == policy.priority)
        ]
        found = self._decide_one(above, request, roles)
        if found is None or (allowed and found[0]):
            return allowed, policy
        return found

    def _decide_tags(
        self, request: AccessRequest, roles: frozenset[str], zone: str | None
    ) -> tuple[bool, _Policy, TagForEval] | None:
        """The tag policies' answer for the request's tags (Ranger's
        `evaluateTagPolicies`): a deny ends it, else the first allow."""
        self._tag_audited = False
        if self.tag_engine is None or not request.access_type:
            return None
        pairs = self._tag_pairs(request, zone, False)
        result: tuple[bool, _Policy, TagForEval] | None = None
        for policy, tag in pairs:
            tagger = self._tagger_for(tag)
            if not tagger._holds(policy):
                continue
            self._tag_audited = self._tag_audited or policy.audit
            verdict = tagger._verdict(policy, request.access_type, request, roles)
            if verdict is False:
                return False, policy, tag
            if verdict and result is None:
                result = (True, policy, tag)
            if verdict and not policy.has_deny:
                break
        return result

    def _match(self, policy: _Policy, request: AccessRequest) -> str | None:
        """`match_type`, remembered for the request being evaluated."""
        key = id(policy)
        if key not in self._matches:
            self._matches[key] = self.match_type(policy, request)
        return self._matches[key]

    def _resource_matches(
        self, matcher: ResourceMatcher, level: str, requested: Any, request: AccessRequest
    ) -> bool:
        """Whether the matcher covers the requested value (a list: one of its values), in
        the request's matching scope for that element; a value the request cannot
        resolve (a request expression reading attributes it does not carry) is an unknown
        like an undecidable condition, tried both ways by `evaluate`."""
        scope = request.element_scopes.get(level, "SELF")
        try:
            found = matcher.element_match(
                requested, scope, request.user, request.owner, request.user_attributes
            )
            return found is not None
        except Undecidable as exc:
            key = ("resource", id(matcher))
            self._unknown[key] = str(exc)
            return self._assume.get(key, False)

    def _audited(self, policies: list[_Policy], request: AccessRequest) -> bool:
        """Ranger's `isAudited`: an audit-enabled policy in force applies to the request
        (its resources cover it; for any access, also something below it)."""
        wanted = (SELF,) if request.access_type else (SELF, DESCENDANT)
        return any(
            p.audit
            and in_force(p, request.time)
            and self._match(p, request) in wanted
            and self._holds(p)
            for p in policies
        )

    def _decide_one(
        self, policies: list[_Policy], request: AccessRequest, roles: frozenset[str]
    ) -> tuple[bool, _Policy] | None:
        """One access type: the first deny ends it; the first allow is named, but policies
        of the same priority that have deny items are still consulted."""
        allowed_by: _Policy | None = None
        for policy in policies:
            if allowed_by is not None and (
                policy.priority < allowed_by.priority or not policy.has_deny
            ):
                break
            if not in_force(policy, request.time) or self._match(policy, request) != SELF:
                continue
            if not self._holds(policy):
                continue
            verdict = self._verdict(policy, request.access_type, request, roles)
            if verdict is False:
                return False, policy
            if verdict and allowed_by is None:
                allowed_by = policy
        return (True, allowed_by) if allowed_by is not None else None

    def _decide_any(
        self,
        policies: list[_Policy],
        request: AccessRequest,
        roles: frozenset[str],
        zone: str | None = None,
    ) -> tuple[bool, _Policy] | None:
        """ "Any access" (Hive's USE/SHOW): Ranger asks every access type of the service and
        keeps one result per type across policies; the request is allowed when some type
        is, denied when every type is denied. A deny from a policy that only names
        something below the requested resource is ignored. Tag policies come first (a tag
        below the resource counts here), and resource policies override them by priority
        as for one access type."""
        pairs = self._tag_pairs(request, zone, True)
        per_access: dict[str, tuple[bool, _Policy]] = {}  # shared, as Ranger's context is
        tagged = self._any_steps(pairs, request, roles, per_access)
        if tagged is not None:
            allowed, by = tagged
            policies = [
                p
                for p in policies
                if p.priority > by.priority or (allowed and p.priority == by.priority)
            ]
        steps = [(p, None) for p in policies]
        return self._any_steps(steps, request, roles, per_access) or tagged

    def _any_steps(
        self,
        steps: list[tuple[_Policy, TagForEval | None]],
        request: AccessRequest,
        roles: frozenset[str],
        per_access: dict[str, tuple[bool, _Policy]],
    ) -> tuple[bool, _Policy] | None:
        """`_decide_any` over (policy, tag) steps: resource policies (tag None), or tag
        policies evaluated for one tag of the resource. `per_access` holds the result per
        access type so far (Ranger keeps it in the request context across tag and
        resource policies)."""
        current: tuple[bool, _Policy] | None = None
        accesses = (request.access_type,) if request.access_type else self.access_types
        for policy, tag in steps:
            if current is not None and current[0] and current[1].priority > policy.priority:
                break
            if not in_force(policy, request.time) or not policy.has_items:
                continue
            judge = self if tag is None else self._tagger_for(tag)
            if tag is None:
                match = self._match(policy, request)
            else:
                match = DESCENDANT if tag.match == TAG_DESCENDANT else SELF
            if match is None or not judge._holds(policy):
                continue
            for access in accesses:
                verdict = judge._verdict(policy, access, request, roles)
                if verdict is False and match == DESCENDANT and request.ignore_descendant_deny:
                    verdict = None
                if verdict is None:
                    continue
                _merge(per_access, access, verdict, policy)
                if verdict and request.ignore_descendant_deny:
                    break
            every = not request.access_type and not request.ignore_descendant_deny
            current = _composite(per_access, accesses, every) or current
            if current is not None and (not current[0] or not policy.has_deny):
                break
        return current

    def _tagger_for(self, tag: TagForEval) -> PolicyEngine:
        """The tag engine, judging conditions with `tag` as the current tag."""
        tagger = self.tag_engine
        assert tagger is not None and self._facts is not None
        tagger._assume, tagger._unknown = self._assume, self._unknown
        tagger._facts = replace(self._facts, tag=tag.tag)
        return tagger

    def _tag_pairs(
        self, request: AccessRequest, zone: str | None, descendants: bool
    ) -> list[tuple[_Policy, TagForEval]]:
        """(tag policy, tag) for every tag of the resource and tag policy on its type, in
        Ranger's evaluation order; tags below the resource only with `descendants`."""
        tagger = self.tag_engine
        if tagger is None or not self._tags:
            return []
        zoned = [p for p in tagger.policies if p.zone == zone]
        pool = zoned if zone is not None and zoned else [p for p in tagger.policies if not p.zone]
        pairs = [
            (p, t)
            for t in self._tags
            if descendants or t.match != TAG_DESCENDANT
            for p in pool
            if in_force(p, request.time)
            and any(
                m.get(TAG_RESOURCE) is not None and m[TAG_RESOURCE].matches(t.tag.type)
                for m in p.resource_sets
            )
        ]
        pairs.sort(
            key=lambda pt: (-pt[0].priority, not pt[0].has_deny, pt[0].eval_order, pt[0].name)
        )
        return pairs

    def _verdict(
        self, policy: _Policy, access: str, request: AccessRequest, roles: frozenset[str]
    ) -> bool | None:
        """False: a deny item (not excepted) or deny-all-else; True: an allow item (not
        excepted); None: this policy says nothing about `access` for this requester."""
        judge = self._judge
        if any(i.applies_to(request, access, roles, judge) for i in policy.deny) and not any(
            i.applies_to(request, access, roles, judge) for i in policy.deny_exceptions
        ):
            return False
        if any(i.applies_to(request, access, roles, judge) for i in policy.allow) and not any(
            i.applies_to(request, access, roles, judge) for i in policy.allow_exceptions
        ):
            return True
        return False if policy.deny_all_else else None

    def match_type(
        self, policy: _Policy | Mapping[str, ResourceMatcher], request: AccessRequest
    ) -> str | None:
        """How the policy's resources relate to the request: SELF (covers it, or everything
        below it), DESCENDANT (names something below it: counts for "any access" only),
        or None (does not apply; a policy naming only an ancestor never applies). With
        `additionalResources` the closest of its resource sets counts."""
        if not isinstance(policy, _Policy):
            return self._set_match(policy, request)
        found = [self._set_match(m, request) for m in policy.resource_sets]
        return SELF if SELF in found else DESCENDANT if DESCENDANT in found else None

    def _set_match(
        self, matchers: Mapping[str, ResourceMatcher], request: AccessRequest
    ) -> str | None:
        """`match_type` for one resource set. A value `""` or `[]` is an element the
        request names with all values (Ranger keeps it among the resource's keys)."""
        keys = [k for k, v in request.resource.items() if v is not None]
        if not any(request.resource.get(k) not in ("", []) for k in keys) and not any(
            k in request.element_scopes for k in keys
        ):  # e.g. SHOW DATABASES: every policy names something below it
            return DESCENDANT if not request.access_type and matchers else None
        chain = next((h for h in self.hierarchies if set(keys) <= set(h)), None)
        if chain is None or not set(matchers) <= set(chain):
            return None
        if set(chain[: len(keys)]) != set(keys):
            return None  # a gap in the request (a column without its table) names nothing
        if not matchers:
            return None
        result = SELF
        for level in chain:
            matcher = matchers.get(level)
            requested = request.resource.get(level)
            if requested is None:
                if matcher is not None and not matcher.matches_all:
                    result = DESCENDANT
                continue
            if matcher is None:
                return None  # the policy stops above the request: an ancestor
            if not self._resource_matches(matcher, level, requested, request):
                return None
        if result == DESCENDANT and request.access_type and request.scope != DESCENDANTS_SCOPE:
            return None
        return result


def requested_resources(context: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...] | None:
    """The request context's REQUESTED_RESOURCES (Hive's plugin: every resource of the
    query, `{"requestedResources": [{"elements": {...}}, ...]}`, as JSON text or parsed);
    None when the context does not carry it or it cannot be read."""
    raw = context.get(REQUESTED_RESOURCES)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return None
    items = raw.get("requestedResources") if isinstance(raw, Mapping) else None
    if not isinstance(items, list):
        return None
    found = [i.get("elements") for i in items if isinstance(i, Mapping)]
    if not all(isinstance(e, Mapping) for e in found):
        return None
    return tuple(found)


def _named(request: AccessRequest) -> bool:
    """Whether the request names any resource at all (SHOW DATABASES names none)."""
    return any(v not in (None, "", []) for v in request.resource.values())


def _merge(
    per_access: dict[str, tuple[bool, _Policy]], access: str, allowed: bool, policy: _Policy
) -> None:
    """Ranger's rule for combining one policy's result for `access` with earlier ones: a
    deny of the same or higher priority replaces an allow; an allow replaces an allow
    only from a higher priority, and (any access) replaces a deny of the same or lower."""
    old = per_access.get(access)
    if old is None:
        per_access[access] = (allowed, policy)
        return
    old_allowed, old_policy = old
    if old_allowed != allowed and (allowed or old_allowed):
        replace_it = policy.priority >= old_policy.priority
    else:
        replace_it = policy.priority > old_policy.priority
    if replace_it:
        per_access[access] = (allowed, policy)


def _composite(
    per_access: Mapping[str, tuple[bool, _Policy]],
    access_types: tuple[str, ...],
    every: bool = False,
) -> tuple[bool, _Policy] | None:
    """Any access: allowed by the first allowed type; denied only when every type is.
    With `every` (Ranger's access-type groups, one per type, when descendant denies are
    not ignored): denied by the first denied type, allowed only when every type is."""
    if every:
        denied = next((per_access[a] for a in access_types if not per_access.get(a, (1,))[0]), None)
        if denied is not None:
            return denied
        if access_types and all(a in per_access for a in access_types):
            return per_access[access_types[0]]
        return None
    allowed = next((per_access[a] for a in access_types if per_access.get(a, (0,))[0]), None)
    if allowed is not None:
        return allowed
    if all(a in per_access for a in access_types):
        return per_access[access_types[0]] if access_types else None
    return None


def _access_order(service_def: ServiceDef) -> tuple[str, ...]:
    """The service's access types in the order Ranger tries them for "any access": the
    iteration order of the `HashSet` `RangerServiceDefHelper.getAllAccessTypes` builds
    from the definition's access types. Only the policy a decision names depends on it
    (the first access type found allowed names its policy)."""
    return java_hash_set_order(service_def.access_order or sorted(service_def.access_types))


def java_hash_set_order(names: Sequence[str]) -> tuple[str, ...]:
    """`names` in the iteration order of a `java.util.HashSet` they were added to in
    this order: by bucket (`hashCode` spread as `HashMap.hash` does, masked by the table
    size, 16 doubled while more than 3/4 full), then in order of insertion."""
    unique = list(dict.fromkeys(names))
    size = 16
    while len(unique) > size * 3 // 4:
        size *= 2
    buckets = {}
    for at, name in enumerate(unique):
        code = _java_string_hash(name)
        buckets[name] = ((code ^ (code >> 16)) & (size - 1), at)
    return tuple(sorted(unique, key=buckets.__getitem__))


def _java_string_hash(text: str) -> int:
    """Java's `String.hashCode` (over UTF-16 code units) as an unsigned 32-bit value."""
    code = 0
    data = text.encode("utf-16-be")
    for at in range(0, len(data), 2):
        code = (code * 31 + (data[at] << 8 | data[at + 1])) & 0xFFFFFFFF
    return code


def _zone_matchers(zone: Mapping, service_def: ServiceDef) -> list[dict[str, ResourceMatcher]]:
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


def _is_access_policy(raw: dict) -> bool:
    return raw.get("isEnabled", True) is not False and int(raw.get("policyType") or 0) == 0


def _compile(raw: dict, service_def: ServiceDef) -> _Policy | None:
    """A `_Policy` from a Ranger policy; None when its resources are not this service's."""
    matchers = _resource_set(raw.get("resources") or {}, service_def)
    if matchers is None:
        return None
    more = [_resource_set(r, service_def) for r in raw.get("additionalResources") or []]
    pid = raw.get("id")
    return _Policy(
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
        eval_order=_eval_order(raw, service_def),
        more_matchers=tuple(m for m in more if m),
        audit=raw.get("isAuditEnabled", True) is not False,
        conditions=tuple(
            compile_condition(c, service_def.conditions, f"policy {raw.get('id')}")
            for c in raw.get("conditions") or []
        ),
        zone=raw.get("zoneName") or None,
    )


def _resource_set(
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


def _eval_order(raw: dict, service_def: ServiceDef) -> int:
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


def _items(raw: list | None, service_def: ServiceDef, where: str = "") -> list[_Item]:
    """Policy items with their accesses expanded by implied grants (`all` -> every access)."""
    return [
        _Item(
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


def in_force(policy: _Policy, when: datetime | None) -> bool:
    """A policy with validity schedules applies only inside one of them."""
    if not policy.schedules:
        return True
    when = when or datetime.now(timezone.utc)
    return any(s.applies(when, policy.host_zone) for s in policy.schedules)
