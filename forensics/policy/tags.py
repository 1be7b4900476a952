"""Tag-based policies: the tags on a resource, and the tag service's policies on them.

Many warehouses protect sensitive tables by tag (an Atlas classification such as `PII`
synced into Ranger): one tag policy then covers every tagged table. Ranger evaluates it so
(`RangerPolicyEngineImpl.evaluateTagPolicies`, `RangerTagEnricher`):

1. The resource's tags come from a ServiceTags export: `serviceResources` (resource
   elements as in a policy), `tags` (id -> type, attributes, `validityPeriods`) and
   `resourceToTagIds`. A tag on the resource itself matches it (SELF), a tag on something
   above it (a database, a parent folder) is inherited (ANCESTOR), a tag on something below
   it (a column) counts only for "any access" (DESCENDANT). A tag outside its validity
   periods is ignored.
2. The tag service's policies name tag types (`resources: {"tag": ...}`) and access types
   prefixed with the component (`hive:select`); for a Hive request only `hive:` accesses
   count, without the prefix (`RangerPolicyRepository.normalizeAndPrunePolicyItems`).
3. For every (tag, tag policy on its type), in Ranger's evaluation order, the policy is
   evaluated for the request with that tag as the current tag (conditions may read its
   attributes): a deny ends it, the first allow stands unless a later deny comes.
4. Resource policies are evaluated next: a tag deny stands unless a resource policy of a
   higher priority decides; a tag allow stands unless a resource policy of the same or a
   higher priority denies (or allows, and is named instead).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from forensics.errors import PolicyError
from forensics.inputs import input_text
from forensics.policy.conditions import ResourceTag
from forensics.policy.matchers import ResourceMatcher, resource_matcher
from forensics.policy.schedule import ValiditySchedule, parse_schedule
from forensics.policy.servicedef import ServiceDef, service_def_from_dict

SELF, ANCESTOR, DESCENDANT = "SELF", "ANCESTOR", "DESCENDANT"
#: The tag service's resource (Ranger's `ranger-servicedef-tag.json`): exact, case-sensitive.
TAG_RESOURCE = "tag"
DEFAULT_TAG_CONDITIONS = [
    {
        "name": "accessed-after-expiry",
        "evaluator": "RangerScriptTemplateConditionEvaluator",
        "evaluatorOptions": {"scriptTemplate": "ctx.isAccessedAfter('expiry_date');"},
    },
    {"name": "expression", "evaluator": "RangerScriptConditionEvaluator"},
]


@dataclass(frozen=True)
class TagForEval:
    """A tag as evaluation sees it: the tag, how it relates to the request, and when it
    is valid (Ranger's `RangerTagForEval`)."""

    tag: ResourceTag
    match: str = SELF  # SELF, ANCESTOR or DESCENDANT
    periods: tuple[ValiditySchedule, ...] = ()

    def applies(self, when: datetime | None) -> bool:
        """Whether the tag is valid at `when` (no periods: always)."""
        return not self.periods or when is None or any(p.applies(when) for p in self.periods)


@dataclass(frozen=True)
class _TaggedResource:
    matchers: Mapping[str, ResourceMatcher]
    tags: tuple[TagForEval, ...]


@dataclass
class ServiceTags:
    """A ServiceTags export, ready to say which tags a requested resource carries."""

    resources: list[_TaggedResource] = field(default_factory=list)
    hierarchies: list[tuple[str, ...]] = field(default_factory=list)
    _index: dict[str, dict[str, list[_TaggedResource]]] | None = None
    _rest: list[_TaggedResource] = field(default_factory=list)

    def _candidates(
        self, resource: Mapping[str, Any], scopes: Mapping[str, str]
    ) -> list[_TaggedResource]:
        """The tagged resources that may match: those whose first level names the
        requested value literally (looked up), and all others (tested); all of them when
        the request widens an element's matching scope."""
        if scopes:
            return list(self.resources)
        if self._index is None:
            self._index, self._rest = {}, []
            for tagged in self.resources:
                level = next(iter(tagged.matchers), "")
                matcher = tagged.matchers.get(level)
                plain = (
                    matcher is not None
                    and not matcher.excludes
                    and not matcher.resource.is_path
                    and matcher.resource.ignore_case
                    and not any(c in v for v in matcher.values for c in "*?{$\\")
                    and all(v.isascii() for v in matcher.values)
                )
                if not plain:
                    self._rest.append(tagged)
                    continue
                for value in matcher.values:
                    self._index.setdefault(level, {}).setdefault(value.lower(), []).append(tagged)
        found = list(self._rest)
        for level, by_value in self._index.items():
            value = resource.get(level)
            if isinstance(value, str) and value.isascii():
                found += by_value.get(value.lower(), [])
            elif value not in (None, "", []):  # lists, non-ASCII: test them all
                found += [t for ts in by_value.values() for t in ts]
            else:  # the request stops above: tags below it (descendants)
                found += [t for ts in by_value.values() for t in ts]
        return found

    def tags_of(
        self, resource: Mapping[str, Any], scopes: Mapping[str, str] | None = None
    ) -> tuple[TagForEval, ...]:
        """The tags a requested resource carries, with how each relates to it; `scopes`
        are the request's `resourceElementMatchingScopes` (Ranger's tag enricher matches
        tagged resources with them as policies are)."""
        found: dict[tuple, TagForEval] = {}
        for tagged in self._candidates(resource, scopes or {}):
            match = self._match(tagged.matchers, resource, scopes or {})
            if match is None:
                continue
            for tag in tagged.tags:
                key = (tag.tag.type, tuple(sorted(tag.tag.attributes.items())), match)
                found.setdefault(key, TagForEval(tag.tag, match, tag.periods))
        return tuple(found[k] for k in sorted(found, key=lambda k: (k[0], k[2], k[1])))

    def _match(
        self,
        matchers: Mapping[str, ResourceMatcher],
        resource: Mapping,
        scopes: Mapping[str, str],
    ) -> str | None:
        asked = [k for k, v in resource.items() if v not in (None, "", [])]
        chain = next(
            (h for h in self.hierarchies if set(asked) <= set(h) and set(matchers) <= set(h)),
            None,
        )
        if chain is None or not matchers:
            return None
        relation = SELF
        for level in chain:
            matcher, value = matchers.get(level), resource.get(level)
            if matcher is None and value in (None, "", []):
                break
            if matcher is None:
                return ANCESTOR if relation == SELF else None  # the tag stops above
            if value in (None, "", []):
                if matcher.matches_all:
                    continue  # `*` to the leaf: the tag covers the resource and all below
                return DESCENDANT if relation == SELF else None  # the tag is below
            names = value if isinstance(value, list) else [value]
            if level in scopes and matcher.element_match(value, scopes[level]) is not None:
                continue
            if all(matcher.matches(str(n)) for n in names):
                continue
            if matcher.resource.is_path and all(_below(matcher, str(n)) for n in names):
                relation = ANCESTOR
                continue
            if matcher.resource.is_path and all(_above(matcher, str(n)) for n in names):
                return DESCENDANT
            return None
        return relation


def _below(matcher: ResourceMatcher, path: str) -> bool:
    """Whether `path` lies below a value of a (non-recursive) path matcher."""
    sep = matcher.resource.separator
    return any(path.startswith(v.rstrip(sep) + sep) for v in matcher.values if "*" not in v and v)


def _above(matcher: ResourceMatcher, path: str) -> bool:
    sep = matcher.resource.separator
    return any(v.startswith(path.rstrip(sep) + sep) for v in matcher.values if v)


def service_tags_from_dict(raw: Any, service_def: ServiceDef, where: str) -> ServiceTags:
    """A `ServiceTags` from a ServiceTags export (`GET /service/tags/download/{service}`)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("serviceResources", []), list):
        raise PolicyError(
            f"{where}: expected a ServiceTags export with serviceResources, tags and "
            "resourceToTagIds"
        )
    tags_raw = raw.get("tags") or {}
    links = raw.get("resourceToTagIds") or {}
    if not isinstance(tags_raw, Mapping) or not isinstance(links, Mapping):
        raise PolicyError(f"{where}: tags and resourceToTagIds must be objects keyed by id")
    tags = {str(k): _tag(v, f"{where} tag {k}") for k, v in tags_raw.items()}
    tagged = []
    for n, item in enumerate(raw.get("serviceResources") or [], start=1):
        if not isinstance(item, Mapping) or not isinstance(item.get("resourceElements"), Mapping):
            raise PolicyError(f"{where}: serviceResources #{n} has no resourceElements")
        matchers = {}
        for name, spec in item["resourceElements"].items():
            resource = service_def.resources.get(name)
            if resource is None:
                break
            matchers[name] = resource_matcher(resource, spec or {})
        else:
            ids = links.get(str(item.get("id")), [])
            missing = [i for i in ids if str(i) not in tags]
            if missing:
                raise PolicyError(
                    f"{where}: resourceToTagIds names tag {missing[0]} that tags does not hold"
                )
            tagged.append(_TaggedResource(matchers, tuple(tags[str(i)] for i in ids)))
    return ServiceTags(tagged, service_def.hierarchies())


def _tag(raw: Any, where: str) -> TagForEval:
    if not isinstance(raw, Mapping) or not raw.get("type"):
        raise PolicyError(f"{where}: a tag needs a type")
    attributes = {str(k): str(v) for k, v in (raw.get("attributes") or {}).items()}
    periods = tuple(
        parse_schedule(p, f"{where} validityPeriods") for p in raw.get("validityPeriods") or []
    )
    return TagForEval(ResourceTag(str(raw["type"]), attributes), SELF, periods)


def tags_for_eval(raw: Iterable[Mapping], where: str = "tags") -> tuple[TagForEval, ...]:
    """Tags given with a request (Ranger's `TAGS` request context: `RangerTagForEval`
    objects with `type`, `attributes`, `matchType`, and validity periods in
    `options.TAG_VALIDITY_PERIODS`)."""
    found = []
    for item in raw:
        options = item.get("options") or {}
        periods_raw = options.get("TAG_VALIDITY_PERIODS")
        periods = json.loads(periods_raw) if isinstance(periods_raw, str) else periods_raw or []
        found.append(
            TagForEval(
                ResourceTag(
                    str(item.get("type", "")),
                    {str(k): str(v) for k, v in (item.get("attributes") or {}).items()},
                ),
                str(item.get("matchType") or SELF).upper(),
                tuple(parse_schedule(p, f"{where} validity period") for p in periods),
            )
        )
    return tuple(found)


def load_service_tags(path: Path, service_def: ServiceDef, name: str) -> ServiceTags:
    """A ServiceTags export file."""
    try:
        raw = json.loads(input_text(Path(path)))
    except OSError as exc:
        raise PolicyError(f"tags {name}: cannot be read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PolicyError(f"tags {name}: not valid JSON; give a ServiceTags export") from None
    return service_tags_from_dict(raw, service_def, f"tags {name}")


def tag_service_def(raw: Mapping | None, component: ServiceDef) -> ServiceDef:
    """The tag service's definition as the component sees it: the `tag` resource (its
    matcher options from `raw`, exact and case-sensitive by default), the component's
    access types and implied grants, and the tag service's conditions."""
    resources = [
        r for r in (raw or {}).get("resources") or [] if r.get("name") == TAG_RESOURCE
    ] or [{"name": TAG_RESOURCE, "matcherOptions": {"wildCard": False, "ignoreCase": False}}]
    return service_def_from_dict(
        {
            "name": "tag",
            "resources": resources,
            "accessTypes": [
                {"name": a, "impliedGrants": sorted(component.implied.get(a, ()))}
                for a in component.access_order or sorted(component.access_types)
            ],
            "markerAccessTypes": [
                {"name": m, "impliedGrants": sorted(component.implied[m])}
                for m in component.implied
                if m.startswith("_")
            ],
            "policyConditions": (raw or {}).get("policyConditions") or DEFAULT_TAG_CONDITIONS,
        },
        "tag service definition",
    )


def component_policies(policies: Sequence[Mapping], component: str) -> list[dict]:
    """Tag policies with only the accesses of `component` (`hive:select` -> `select`);
    accesses of other components dropped, items left without access dropped (Ranger's
    pruning)."""
    prefix = f"{component}:"
    result = []
    for policy in policies:
        copy = dict(policy)
        for key in ("policyItems", "denyPolicyItems", "allowExceptions", "denyExceptions"):
            items = []
            for item in policy.get(key) or []:
                accesses = []
                for access in item.get("accesses") or []:
                    kind = str(access.get("type", ""))
                    if kind.startswith(prefix):
                        accesses.append({**access, "type": kind[len(prefix) :]})
                    elif ":" not in kind:
                        accesses.append(access)
                if accesses or item.get("delegateAdmin"):
                    items.append({**item, "accesses": accesses})
            copy[key] = items
        result.append(copy)
    return result
