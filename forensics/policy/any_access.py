"""Ranger's "any access" (Hive's USE, SHOW, DESC): one result per access type.

For a request without an access type Ranger asks every access type of the service
(`RangerDefaultPolicyEvaluator.evaluatePolicyItems` with the request's requested access
types) and keeps one result per type across policies, tag policies first (the results
live in the request context, shared by both). The request is allowed by the first
allowed type, in the order of the `HashSet` Ranger builds the types in, and denied only
when every type is; a deny from a policy that only names something below the resource is
ignored unless the request says otherwise (`isDescendantDenyIgnored`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from forensics.policy.compiled import DESCENDANT, SELF, CompiledPolicy, in_force
from forensics.policy.request import AccessRequest
from forensics.policy.servicedef import ServiceDef
from forensics.policy.tags import DESCENDANT as TAG_DESCENDANT
from forensics.policy.tags import TagForEval


class AnyAccess:
    """`PolicyEngine`'s any-access evaluation (a mixin: it uses the engine's matching,
    tag policies and verdicts)."""

    def _decide_any(
        self,
        policies: list[CompiledPolicy],
        request: AccessRequest,
        roles: frozenset[str],
        zone: str | None = None,
    ) -> tuple[bool, CompiledPolicy] | None:
        """ "Any access" (Hive's USE/SHOW): Ranger asks every access type of the service and
        keeps one result per type across policies; the request is allowed when some type
        is, denied when every type is denied. A deny from a policy that only names
        something below the requested resource is ignored. Tag policies come first (a tag
        below the resource counts here), and resource policies override them by priority
        as for one access type."""
        pairs = self._tag_pairs(request, zone, True)
        per_access: dict[str, tuple[bool, CompiledPolicy]] = {}  # shared, as Ranger's context is
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
        steps: list[tuple[CompiledPolicy, TagForEval | None]],
        request: AccessRequest,
        roles: frozenset[str],
        per_access: dict[str, tuple[bool, CompiledPolicy]],
    ) -> tuple[bool, CompiledPolicy] | None:
        """`_decide_any` over (policy, tag) steps: resource policies (tag None), or tag
        policies evaluated for one tag of the resource. `per_access` holds the result per
        access type so far (Ranger keeps it in the request context across tag and
        resource policies)."""
        current: tuple[bool, CompiledPolicy] | None = None
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
                merge(per_access, access, verdict, policy)
                if verdict and request.ignore_descendant_deny:
                    break
            every = not request.access_type and not request.ignore_descendant_deny
            current = composite(per_access, accesses, every) or current
            if current is not None and (not current[0] or not policy.has_deny):
                break
        return current


def merge(
    per_access: dict[str, tuple[bool, CompiledPolicy]],
    access: str,
    allowed: bool,
    policy: CompiledPolicy,
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


def composite(
    per_access: Mapping[str, tuple[bool, CompiledPolicy]],
    access_types: tuple[str, ...],
    every: bool = False,
) -> tuple[bool, CompiledPolicy] | None:
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


def access_order(service_def: ServiceDef) -> tuple[str, ...]:
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
