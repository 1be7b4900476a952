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

The plugin's configuration can exclude accesses from audit too: Ranger's audit filters
(`ranger.plugin.audit.filters` in the service's configs, Ranger 2.1 and later; the HDFS
default excludes the `hdfs` user's `open`s). Where the case's `service_config` names them,
each filter with `isAudited: false` that can match an allowed read is a stretch of the whole
period without audit, for the objects its resources name (every object when it names none).
Filters are read in isolation: an earlier filter that audits some of the same accesses is
not subtracted.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from forensics.case import Case
from forensics.catalog import Catalog
from forensics.errors import PolicyError
from forensics.policy import AccessRequest
from forensics.policy.engine import SELF
from forensics.scope import load_authority, policy_states, service_configs

AUDIT_FILTERS = "ranger.plugin.audit.filters"
#: Configs naming principals whose accesses a plugin never audits (`RangerPolicyEngine.
#: PLUGIN_AUDIT_EXCLUDE_*` in the service's configs, `<prefix>.audit.exclude.*` in the
#: plugin's, and the HDFS plugin's `xasecure.auditlog.hdfs.excludeusers`).
EXCLUDE_KEYS = tuple(
    f"ranger.plugin{svc}.audit.exclude.{kind}"
    for svc in ("", ".hive", ".hdfs")
    for kind in ("users", "groups", "roles")
) + ("xasecure.auditlog.hdfs.excludeusers",)
#: Access types and actions under which a plugin checks a read (Hive `select`, HDFS `read`
#: and the operation `open`; `all` implies them).
_READ_ACCESS = frozenset({"select", "read", "all", "_any"})
_READ_ACTIONS = frozenset({"select", "query", "read", "open"})


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


@dataclass(frozen=True)
class Filtered:
    """An audit filter of the plugin's configuration that leaves allowed reads unaudited:
    its position in the list (1-based), how many users and groups it names (never the
    names: the evidence may be pseudonymized) and the objects it covers (None: every one)."""

    position: int
    users: int
    groups: int
    objects: tuple[str, ...] | None

    @property
    def reason(self) -> str:
        """The row's reason: which filter, and whom it names."""
        who = (
            f"{self.users} user(s), {self.groups} group(s)"
            if self.users or self.groups
            else "everyone"
        )
        where = f"audit filter {self.position} of service_config ({AUDIT_FILTERS})"
        return f"{where}: reads by {who} not audited"


def audit_filters(case: Case, catalog: Catalog) -> list[Filtered]:
    """The audit filters of the case's `service_config` that leave allowed reads unaudited."""
    if case.service_config is None:
        return []
    name = case.relpath(case.service_config)
    value = service_configs(case.service_config, name).get(AUDIT_FILTERS)
    if value in (None, ""):
        return []
    try:
        filters = json.loads(value.replace("'", '"')) if isinstance(value, str) else value
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"service_config {name}: {AUDIT_FILTERS} is not a JSON list of filters "
            f"(column {exc.colno}); give it as Ranger Admin shows it"
        ) from None
    if not isinstance(filters, list) or not all(isinstance(f, Mapping) for f in filters):
        raise PolicyError(f"service_config {name}: {AUDIT_FILTERS} must be a list of filters")
    found = []
    for i, item in enumerate(filters, start=1):
        if item.get("isAudited", True) is not False or not _reads(item):
            continue
        found.append(
            Filtered(
                i,
                len(item.get("users") or []),
                len(item.get("groups") or []) + len(item.get("roles") or []),
                _objects(item.get("resources"), catalog),
            )
        )
    return found


def _reads(item: Mapping) -> bool:
    """Whether a filter can match an allowed read."""
    if str(item.get("accessResult") or "ALLOWED").upper() not in ("ALLOWED", "NOT_DETERMINED"):
        return False
    types = {str(t).lower() for t in item.get("accessTypes") or []}
    actions = {str(a).lower() for a in item.get("actions") or []}
    return (not types or bool(types & _READ_ACCESS)) and (
        not actions or bool(actions & _READ_ACTIONS)
    )


def _objects(resources: object, catalog: Catalog) -> tuple[str, ...] | None:
    """Catalog objects a filter's resources name (Hive database/table values with Ranger's
    wildcards, or HDFS paths at or above a table's location); None: no resources, every
    object."""
    if not isinstance(resources, Mapping) or not resources:
        return None

    def values(key: str) -> list[str]:
        spec = resources.get(key)
        return [str(v) for v in (spec.get("values") or [])] if isinstance(spec, Mapping) else []

    databases, tables, paths = values("database"), values("table"), values("path")
    found = []
    for obj, entry in sorted(catalog.objects.items()):
        db, _, table = obj.partition(".")
        if databases and not any(fnmatch.fnmatchcase(db, v.lower()) for v in databases):
            continue
        if tables and not any(fnmatch.fnmatchcase(table, v.lower()) for v in tables):
            continue
        if paths:
            location = _path(entry.location or "")
            if not location or not any(location.startswith(_path(p).rstrip("/*")) for p in paths):
                continue
        if databases or tables or paths:
            found.append(obj)
    return tuple(found)


def _path(location: str) -> str:
    """A storage location without its scheme and authority (`hdfs://nn:8020/w` -> `/w`)."""
    if "://" in location:
        location = "/" + location.split("://", 1)[1].partition("/")[2]
    return location


@dataclass(frozen=True)
class Excluded:
    """A config that excludes principals from audit: its key and how many it names (never
    the names: the evidence may be pseudonymized)."""

    key: str
    count: int

    @property
    def reason(self) -> str:
        """The row's reason."""
        return f"{self.key} in service_config excludes {self.count} principal(s) from audit"


def audit_exclusions(case: Case) -> list[Excluded]:
    """The configs of the case's `service_config` that exclude users, groups or roles from
    audit: their accesses, to every object, leave no Ranger event."""
    if case.service_config is None:
        return []
    configs = service_configs(case.service_config, case.relpath(case.service_config))
    found = []
    for key in EXCLUDE_KEYS:
        value = configs.get(key)
        if isinstance(value, str):
            names = {v.strip() for v in value.split(",") if v.strip()}
            if names:
                found.append(Excluded(key, len(names)))
    return found
