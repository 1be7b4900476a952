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

This module orders and applies the policies; `request` holds what is asked and answered,
`compiled` what a policy is for evaluation (and its evaluation-order score), `tag_eval`
the tag policies' part (8), `any_access` the one-result-per-access-type part (5).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from itertools import product
from typing import Any

from forensics.policy.any_access import AnyAccess, access_order
from forensics.policy.compiled import (
    DESCENDANT,
    NO_POLICY,
    OWNER_MACRO,
    PUBLIC_GROUP,
    SELF,
    USER_MACRO,
    CompiledPolicy,
    Item,
    Judge,
    compile_policy,
    in_force,
    is_access_policy,
    resource_set,
    zone_matchers,
)
from forensics.policy.conditions import Condition, Facts, Undecidable
from forensics.policy.conditions import evaluate as evaluate_condition
from forensics.policy.matchers import ResourceMatcher
from forensics.policy.request import AccessRequest, Decision
from forensics.policy.schedule import zone_named
from forensics.policy.servicedef import ServiceDef
from forensics.policy.tag_eval import TagPolicies
from forensics.policy.tags import ServiceTags, TagForEval, component_policies, tag_service_def

__all__ = [  # the engine's vocabulary, re-exported for callers
    "DESCENDANT",
    "NO_POLICY",
    "OWNER_MACRO",
    "PUBLIC_GROUP",
    "SELF",
    "USER_MACRO",
    "AccessRequest",
    "CompiledPolicy",
    "Decision",
    "Item",
    "PolicyEngine",
    "in_force",
]

#: Ranger's `RangerPolicyEngine.ANY_ACCESS`: like an empty access type, "any access".
ANY_ACCESS = "_any"
#: `RangerAccessRequestUtil.KEY_CONTEXT_REQUESTED_RESOURCES`
REQUESTED_RESOURCES = "REQUESTED_RESOURCES"
#: `evaluate(lean=...)`: undecidable conditions taken the way that denies, or allows.
LEAN_DENY, LEAN_ALLOW = "deny", "allow"
#: At most this many undecidable conditions are tried both ways before giving up.
MAX_UNDECIDED = 8
#: `resourceMatchingScope` asking about the resource or anything below it.
DESCENDANTS_SCOPE = "SELF_OR_DESCENDANTS"


class PolicyEngine(TagPolicies, AnyAccess):
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
        self._lean: str | None = None  # `evaluate(lean=...)`
        self._half_open: set[int] = set()  # leaning: policies applying with one side only
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
        self._chains: dict[tuple[str, ...], tuple[str, ...] | None] = {}
        self.super_users = frozenset(super_users)
        self.super_groups = frozenset(super_groups)
        self.role_members = {name: frozenset(m) for name, m in (roles or {}).items()}
        self.access_types = access_order(service_def)
        self.policies = self._repository(policies)
        self.zones = {
            name: (zone_matchers(zone, service_def), self._repository(zone.get("policies") or []))
            for name, zone in (zones or {}).items()
        }

    def _repository(self, policies: list[dict]) -> list[CompiledPolicy]:
        """Enabled access policies of this service, in Ranger's evaluation order."""
        compiled = (compile_policy(p, self.service_def) for p in policies if is_access_policy(p))
        return sorted(
            (replace(p, host_zone=self.schedule_zone) for p in compiled if p is not None),
            key=lambda p: (-p.priority, not p.has_deny, p.eval_order, p.name, p.id),
        )

    def resource_matchers(self, resources: Mapping[str, Mapping]) -> dict | None:
        """Matchers for a resource set of this service (an audit filter's), for
        `match_type`; None when it names a resource the service does not have."""
        return resource_set(resources, self.service_def)

    def roles_of(self, request: AccessRequest) -> frozenset[str]:
        """The roles a requester has: given in the request, or by user/group membership."""
        found = set(request.roles)
        for role, members in self.role_members.items():
            if request.user in members or members & request.groups:
                found.add(role)
        return frozenset(found)

    def evaluate(self, request: AccessRequest, lean: str | None = None) -> Decision:
        """Ranger's decision for `request`. Conditions the request cannot decide are
        tried both ways (up to MAX_UNDECIDED of them): when the answer is the same either
        way it stands, otherwise the decision carries their reasons in `undecidable`
        (its `allowed` is the answer with them all false).

        With `lean` the undecidable conditions are instead taken the way that denies
        ("deny": a conditional deny holds, a conditional grant does not, so `allowed`
        means allowed whatever they say) or the way that allows ("allow": allowed if they
        say so); the reasons are still listed. A policy whose own conditions cannot be
        decided then applies with its deny side only ("deny") or allow side only."""
        if request.access_type == ANY_ACCESS:
            request = replace(request, access_type="")
        if lean is not None:
            if lean not in (LEAN_DENY, LEAN_ALLOW):
                raise ValueError(f"lean must be {LEAN_DENY!r} or {LEAN_ALLOW!r}, not {lean!r}")
            self._lean = lean
            try:
                found = self._evaluate_assuming(request, {})
            finally:
                self._lean = None
            reasons = tuple(sorted(set(self._unknown.values())))
            return replace(found, undecidable=reasons)
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
        self._half_open = set()
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

    def _judge(self, conditions: tuple[Condition, ...], unknown: bool = False) -> bool:
        """Whether all `conditions` hold for the request being evaluated; one it cannot
        decide holds as `_assume` says, else as `unknown` says."""
        assert self._facts is not None  # set by _evaluate_assuming
        for condition in conditions:
            held, why = evaluate_condition(condition, self._facts)
            if held is None:
                tag = self._facts.tag
                key = (id(condition), tag and (tag.type, tuple(sorted(tag.attributes.items()))))
                self._unknown[key] = why
                held = self._assume.get(key, unknown)
            if not held:
                return False
        return True

    def _holds(self, policy: CompiledPolicy) -> bool:
        """A policy's own conditions (Ranger: checked before its items and its audit).
        Leaning, a policy whose conditions hold only if undecided ones do applies with
        one side only (`_half_open`)."""
        if not policy.conditions or self._judge(policy.conditions):
            return True
        if self._lean is not None and self._judge(policy.conditions, unknown=True):
            self._half_open.add(id(policy))
            return True
        return False

    def _judges(self) -> tuple[Judge, Judge]:
        """(judge for deny items and allow exceptions, judge for allow items and deny
        exceptions): how undecidable conditions are taken on each side of a policy."""
        deny = self._lean == LEAN_DENY
        allow = self._lean == LEAN_ALLOW
        return (lambda c: self._judge(c, deny)), (lambda c: self._judge(c, allow))

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
        policies: list[CompiledPolicy],
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

    def _match(self, policy: CompiledPolicy, request: AccessRequest) -> str | None:
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

    def _audited(self, policies: list[CompiledPolicy], request: AccessRequest) -> bool:
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
        self, policies: list[CompiledPolicy], request: AccessRequest, roles: frozenset[str]
    ) -> tuple[bool, CompiledPolicy] | None:
        """One access type: the first deny ends it; the first allow is named, but policies
        of the same priority that have deny items are still consulted."""
        allowed_by: CompiledPolicy | None = None
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

    def _verdict(
        self, policy: CompiledPolicy, access: str, request: AccessRequest, roles: frozenset[str]
    ) -> bool | None:
        """False: a deny item (not excepted) or deny-all-else; True: an allow item (not
        excepted); None: this policy says nothing about `access` for this requester."""
        denying, allowing = self._judges()
        half = id(policy) in self._half_open  # leaning: only one side of the policy applies
        deny_side = not half or self._lean == LEAN_DENY
        allow_side = not half or self._lean == LEAN_ALLOW
        if (
            deny_side
            and any(i.applies_to(request, access, roles, denying) for i in policy.deny)
            and not any(
                i.applies_to(request, access, roles, allowing) for i in policy.deny_exceptions
            )
        ):
            return False
        if (
            allow_side
            and any(i.applies_to(request, access, roles, allowing) for i in policy.allow)
            and not any(
                i.applies_to(request, access, roles, denying) for i in policy.allow_exceptions
            )
        ):
            return True
        return False if policy.deny_all_else and deny_side else None

    def match_type(
        self, policy: CompiledPolicy | Mapping[str, ResourceMatcher], request: AccessRequest
    ) -> str | None:
        """How the policy's resources relate to the request: SELF (covers it, or everything
        below it), DESCENDANT (names something below it: counts for "any access" only),
        or None (does not apply; a policy naming only an ancestor never applies). With
        `additionalResources` the closest of its resource sets counts."""
        if not isinstance(policy, CompiledPolicy):
            return self._set_match(policy, request)
        found = [self._set_match(m, request) for m in policy.resource_sets]
        return SELF if SELF in found else DESCENDANT if DESCENDANT in found else None

    def _chain(self, keys: tuple[str, ...]) -> tuple[str, ...] | None:
        """The hierarchy holding the requested levels, None when none does or the request
        leaves a gap (a column without its table names nothing); remembered per keys."""
        if keys not in self._chains:
            chain = next((h for h in self.hierarchies if set(keys) <= set(h)), None)
            if chain is not None and set(chain[: len(keys)]) != set(keys):
                chain = None
            self._chains[keys] = chain
        return self._chains[keys]

    def _set_match(
        self, matchers: Mapping[str, ResourceMatcher], request: AccessRequest
    ) -> str | None:
        """`match_type` for one resource set. A value `""` or `[]` is an element the
        request names with all values (Ranger keeps it among the resource's keys)."""
        keys, names_nothing = request.named
        if names_nothing:  # e.g. SHOW DATABASES: every policy names something below it
            return DESCENDANT if not request.access_type and matchers else None
        chain = self._chain(keys)
        if chain is None or not matchers.keys() <= set(chain):
            return None
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
