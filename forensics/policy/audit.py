"""Which policies grant access without leaving an audit record (`isAuditEnabled` false).

Ranger writes an audit event for an access only when some applicable policy has auditing
on (`RangerDefaultPolicyEvaluator.evaluate` sets `isAudited` from the first applicable
audit-enabled policy). A policy with `isAuditEnabled: false` therefore marks resources on
which reads its items allow may be missing from the Ranger audit log altogether: a
finding of absence there rests on no coverage. This module lists those policies, their
items and the resources they cover, per policy state, for the coverage ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from forensics.errors import PolicyError
from forensics.policy.engine import DESCENDANT, SELF
from forensics.policy.tags import TagForEval

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


# --- audit filters (`ranger.plugin.audit.filters`) --------------------------------------------

#: The service config holding a service's audit filters (Ranger 2.1 and later).
PLUGIN_AUDIT_FILTER = "ranger.plugin.audit.filters"
ACCESS_RESULTS = ("ALLOWED", "DENIED", "NOT_DETERMINED")
#: Principals Ranger's audit items read as "anyone" (`RangerPolicyEngine.GROUP_PUBLIC`,
#: `USER_CURRENT`) and as the resource's owner (`RESOURCE_OWNER`).
GROUP_PUBLIC, USER_CURRENT, RESOURCE_OWNER = "public", "{USER}", "{OWNER}"


@dataclass(frozen=True)
class AuditFilter:
    """One entry of `ranger.plugin.audit.filters`, as Ranger turns it into an audit policy
    (`RangerAuditPolicyEvaluator.RangerAuditPolicy`) of one item: its resources (none: any
    resource), and the item's access result, principals, actions and access types (each
    empty: any) and whether it audits (`isAudited`; None: decides nothing)."""

    position: int  # 1-based place in the list: the order Ranger evaluates them in
    resources: Mapping[str, Mapping]
    is_audited: bool | None
    access_result: str | None
    users: frozenset[str]
    groups: frozenset[str]
    roles: frozenset[str]
    actions: frozenset[str]
    access_types: frozenset[str]

    @property
    def any_user(self) -> bool:
        """Ranger's `matchAnyUser`: no principal named, or `public`, or `{USER}`."""
        return (
            not (self.users or self.groups or self.roles)
            or GROUP_PUBLIC in self.groups
            or USER_CURRENT in self.users
        )


def parse_audit_filters(value: object, where: str) -> tuple[AuditFilter, ...]:
    """The filters of a `ranger.plugin.audit.filters` value: a JSON list, written with
    single quotes as Ranger Admin shows it (Ranger reads it leniently), or already a list."""
    if value in (None, ""):
        return ()
    try:
        raw = json.loads(value.replace("'", '"')) if isinstance(value, str) else value
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"{where}: {PLUGIN_AUDIT_FILTER} is not a JSON list of filters (column "
            f"{exc.colno}); give it as Ranger Admin shows it"
        ) from None
    if not isinstance(raw, list) or not all(isinstance(f, Mapping) for f in raw):
        raise PolicyError(f"{where}: {PLUGIN_AUDIT_FILTER} must be a list of filters")
    return tuple(_filter(i, item, where) for i, item in enumerate(raw, start=1))


def _filter(position: int, item: Mapping, where: str) -> AuditFilter:
    def names(key: str) -> frozenset[str]:
        value = item.get(key) or []
        if not isinstance(value, list):
            raise PolicyError(f"{where}: audit filter {position}.{key} must be a list")
        return frozenset(str(v) for v in value)

    result = item.get("accessResult")
    if result is not None and str(result).upper() not in ACCESS_RESULTS:
        raise PolicyError(
            f"{where}: audit filter {position}.accessResult must be one of "
            f"{', '.join(ACCESS_RESULTS)}"
        )
    audited = item.get("isAudited")
    resources = item.get("resources") or {}
    if not isinstance(resources, Mapping):
        raise PolicyError(f"{where}: audit filter {position}.resources must be a mapping")
    return AuditFilter(
        position=position,
        resources=resources,
        is_audited=audited if isinstance(audited, bool) else None,
        access_result=str(result).upper() if result is not None else None,
        users=names("users"),
        groups=names("groups"),
        roles=names("roles"),
        actions=names("actions"),
        access_types=names("accessTypes"),
    )


def filtered_audit(
    engine,
    request,
    decision,
    filters: Sequence[AuditFilter],
    tag_filters: Sequence[AuditFilter] = (),
    action: str | None = None,
    fallback: bool = False,
) -> bool:
    """Whether Ranger audits `request` once its audit filters are applied
    (`RangerPolicyEngineImpl.evaluateAuditPolicies`): the tag service's filters for each of
    the request's tags first, then the service's, each list in its order (Ranger gives
    filter i of n the priority n - i); the first filter whose resources and item match and
    that says `isAudited` decides. When none does, the policies' answer
    (`decision.audited`) stands. `action` is the plugin's operation name (HDFS `listStatus`,
    Hive `METADATA OPERATION`); `fallback`: the plugin falls back to its own ACLs (HDFS), so
    a request no policy decided is `NOT_DETERMINED`."""
    roles = engine.roles_of(request)
    determined = decision.allowed or decision.policy_id != -1 or not fallback
    tagger = engine.tag_engine
    if tag_filters and tagger is not None:
        for tag in _tags(engine, request):
            tagged = replace(request, resource={"tag": tag.tag.type})
            for f in tag_filters:
                if _resource_match(tagger, f, tagged) and _item_match(
                    f, request, roles, decision.allowed, determined, action
                ):
                    return bool(f.is_audited)
    for f in filters:
        if _resource_match(engine, f, request) and _item_match(
            f, request, roles, decision.allowed, determined, action
        ):
            return bool(f.is_audited)
    return decision.audited


def _tags(engine, request) -> list:
    """The request's tags in force at its time: given with it, or from the engine's
    ServiceTags, as the engine evaluates them."""
    tags = request.tags
    if tags is None and engine.service_tags is not None:
        tags = engine.service_tags.tags_of(request.resource)
    given = (t if isinstance(t, TagForEval) else TagForEval(t) for t in tags or ())
    return [t for t in given if t.applies(request.time)]


def _resource_match(engine, f: AuditFilter, request) -> bool:
    """Ranger's `matchResource`: any resource when the filter names none; else its
    resources cover the requested resource (for any access, or something below it)."""
    if f.is_audited is None:
        return False
    if not f.resources:
        return True
    matchers = engine.resource_matchers(f.resources)
    if matchers is None:
        return False
    found = engine.match_type(matchers, request)
    return found == SELF or (found == DESCENDANT and not request.access_type)


def _item_match(
    f: AuditFilter,
    request,
    roles: frozenset[str],
    allowed: bool,
    determined: bool,
    action: str | None,
) -> bool:
    """Ranger's `RangerAuditPolicyItemEvaluator.isMatch`: access result, principal and
    action (or access type) all match."""
    if f.access_result == "DENIED" and not (determined and not allowed):
        return False
    if f.access_result == "ALLOWED" and not (determined and allowed):
        return False
    if f.access_result == "NOT_DETERMINED" and determined:
        return False
    if not f.any_user and not (
        request.user in f.users
        or (
            RESOURCE_OWNER in f.users
            and request.owner is not None
            and request.user == request.owner
        )
        or f.groups & request.groups
        or f.roles & roles
    ):
        return False
    if f.actions or f.access_types:
        return (action is not None and action in f.actions) or (
            request.access_type in f.access_types
        )
    return True
