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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from forensics.case import Case
from forensics.catalog import Catalog
from forensics.policy import AccessRequest
from forensics.policy.audit import AuditFilter, parse_audit_filters
from forensics.policy.engine import SELF, PolicyEngine, in_force
from forensics.policy.servicedef import load_service_def
from forensics.scope import load_authority, policy_states, scheduled_states, service_configs

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
    `start` until `end` (None: still at the last known state). `engine`: `hive` (reads
    through HiveServer2) or `hdfs` (reads of the object's files)."""

    policy_id: int
    service: str
    object: str
    start: datetime
    end: datetime | None
    engine: str = "hive"


def unaudited(case: Case, catalog: Catalog, until: datetime | None = None) -> list[Unaudited]:
    """Every (audit-disabled policy, object it matches with no audited policy matching the
    object too), over the policy states in which that held, consecutive states merged.

    A policy with validity schedules counts only while a schedule has it in force: the
    states are split at every instant a schedule starts or ends (up to `until` after the
    last state). HDFS-service policies count for the reads of the object's files (its
    location). Objects whose every read an audit filter audits are left out."""
    states = policy_states(case)
    if not any(_audit_off(p) for state in states for p in state.policies):
        return []
    authority = load_authority(case)
    objects = sorted(catalog.objects)
    locations = {o: _path(e.location or "") for o, e in catalog.objects.items()}
    hive_engines = [authority.engine(state.policies) for state in states]
    hdfs_engines = [_hdfs_engine(authority, state.policies) for state in states]
    bound = until or states[-1].at
    moments = {s.at for s in scheduled_states(states, bound, _engine_at(states, hive_engines))}
    if any(e is not None for e in hdfs_engines):
        moments |= {s.at for s in scheduled_states(states, bound, _engine_at(states, hdfs_engines))}
    ordered = sorted(moments)
    spans: list[Unaudited] = []
    open_spans: dict[tuple[int, str, str], Unaudited] = {}
    for i, at in enumerate(ordered):
        end = ordered[i + 1] if i + 1 < len(ordered) else None
        k = max(j for j, s in enumerate(states) if s.at <= at)
        raw = states[k].policies
        found = _state_unaudited(hive_engines[k], raw, objects, at)
        if hdfs_engines[k] is not None:
            found.update(_hdfs_unaudited(hdfs_engines[k], raw, locations, at))
        for key in list(open_spans):
            if key not in found:
                spans.append(open_spans.pop(key))
        for key, service in sorted(found.items()):
            previous = open_spans.get(key)
            start = previous.start if previous is not None else at
            open_spans[key] = Unaudited(key[0], service, key[1], start, end, key[2])
    spans.extend(open_spans.values())
    audited = audited_by_filters(case, catalog)
    kept = [u for u in spans if u.object not in audited]
    return sorted(kept, key=lambda u: (u.object, u.start, u.policy_id, u.engine))


def _engine_at(states, engines):
    """For `scheduled_states`: the engine of the policy state a state belongs to (a state
    without one: an empty engine, no schedules)."""

    def engine_of(state):
        k = max(j for j, s in enumerate(states) if s.at <= state.at)
        return engines[k] or PolicyEngine([], load_service_def("hdfs"))

    return engine_of


def _hdfs_engine(authority, policies: Sequence[dict]):
    """Ranger's HDFS policy engine for the state's HDFS-service policies; None without any
    audit-off HDFS policy (nothing to find)."""
    if not any(_audit_off(p) and "path" in (p.get("resources") or {}) for p in policies):
        return None
    return PolicyEngine(
        [p for p in policies if "path" in (p.get("resources") or {})],
        load_service_def("hdfs"),
        roles=authority.roles,
        super_users=authority.super_users,
        super_groups=authority.super_groups,
    )


def _audit_off(policy: dict) -> bool:
    return policy.get("isAuditEnabled", True) is False


def _state_unaudited(
    engine, policies: Sequence[dict], objects: Sequence[str], at: datetime
) -> dict:
    """(policy id, object, 'hive') -> service, for one policy state at `at`."""
    silent = _Silent.of(engine, policies, at, "hive")
    found = {}
    for obj in objects if silent.off else ():
        db, _, table = obj.partition(".")
        request = AccessRequest(
            resource={"database": db, "table": table}, access_type="select", user="", time=at
        )
        for pid, service in silent.deciding(engine, request):
            found[(pid, obj, "hive")] = service
    return found


def _hdfs_unaudited(
    engine, policies: Sequence[dict], locations: Mapping[str, str], at: datetime
) -> dict:
    """(policy id, object, 'hdfs') -> service: audit-off HDFS policies that decide reads of
    a file in the object's location, with no audited HDFS policy matching it too."""
    silent = _Silent.of(engine, policies, at, "hdfs")
    found = {}
    for obj, location in sorted(locations.items()) if silent.off else ():
        if not location.startswith("/"):
            continue
        request = AccessRequest(
            resource={"path": location.rstrip("/") + "/000000_0"},
            access_type="read",
            user="",
            time=at,
        )
        for pid, service in silent.deciding(engine, request):
            found[(pid, obj, "hdfs")] = service
    return found


@dataclass(frozen=True)
class _Silent:
    """The compiled policies of one state in force at one instant: those with auditing off
    that can decide (and their services), and the audited ones."""

    off: tuple
    audited: tuple
    services: Mapping[int, str]

    @classmethod
    def of(cls, engine, policies: Sequence[dict], at: datetime, default: str) -> _Silent:
        raw = {int(p["id"]): p for p in policies if "id" in p}
        compiled = [p for p in engine.policies if in_force(p, at)]
        quiet = [p for p in compiled if p.id in raw and _audit_off(raw[p.id])]
        return cls(
            off=tuple(p for p in quiet if _decides(raw[p.id])),
            audited=tuple(p for p in compiled if not (p.id in raw and _audit_off(raw[p.id]))),
            services={p.id: str(raw[p.id].get("service") or default) for p in quiet},
        )

    def deciding(self, engine, request: AccessRequest) -> list[tuple[int, str]]:
        """(policy id, service) of the audit-off policies matching the request, when no
        audited policy matches it too."""
        matching = [p for p in self.off if engine.match_type(p, request) == SELF]
        if not matching or any(engine.match_type(p, request) == SELF for p in self.audited):
            return []
        return [(p.id, self.services[p.id]) for p in matching]


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
    """The audit filters of the case's `service_config` that leave allowed reads unaudited,
    as Ranger applies them: in list order, the first filter that matches decides. A filter
    with `isAudited: false` counts for the objects that no earlier filter decides for every
    allowed read (one naming no principal, action, access type or other result)."""
    filters = _service_filters(case)
    found = []
    decided: set[str] = set()
    for f in filters:
        if f.is_audited is None:
            continue
        objects = _objects(f.resources, catalog)
        if f.is_audited is False and _reads(f):
            if decided:
                every = objects if objects is not None else tuple(sorted(catalog.objects))
                objects = tuple(o for o in every if o not in decided)
            if objects is None or objects:
                found.append(
                    Filtered(f.position, len(f.users), len(f.groups) + len(f.roles), objects)
                )
        if _every_read(f):
            decided |= set(objects if objects is not None else catalog.objects)
    return found


def audited_by_filters(case: Case, catalog: Catalog) -> set[str]:
    """Objects whose every allowed read an audit filter with `isAudited: true` decides
    before any filter turns it off: Ranger audits them whatever the policies' own
    `isAuditEnabled` says."""
    decided: set[str] = set()
    audited: set[str] = set()
    for f in _service_filters(case):
        if f.is_audited is None or not _every_read(f):
            continue
        objects = _objects(f.resources, catalog)
        chosen = set(objects if objects is not None else catalog.objects) - decided
        if f.is_audited:
            audited |= chosen
        decided |= chosen
    return audited


def _service_filters(case: Case) -> tuple[AuditFilter, ...]:
    if case.service_config is None:
        return ()
    name = case.relpath(case.service_config)
    value = service_configs(case.service_config, name).get(AUDIT_FILTERS)
    return parse_audit_filters(value, f"service_config {name}")


def _reads(f: AuditFilter) -> bool:
    """Whether a filter can match an allowed read."""
    if f.access_result not in (None, "ALLOWED", "NOT_DETERMINED"):
        return False
    types = {t.lower() for t in f.access_types}
    actions = {a.lower() for a in f.actions}
    if not types and not actions:
        return True
    return bool(types & _READ_ACCESS) or bool(actions & _READ_ACTIONS)


def _every_read(f: AuditFilter) -> bool:
    """Whether a filter matches every allowed read of the objects it names: no principal,
    action or access type narrows it, and its result is any or `ALLOWED`."""
    return (
        f.access_result in (None, "ALLOWED") and f.any_user and not f.actions and not f.access_types
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
