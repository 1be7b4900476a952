"""Scope: which objects were exposed, when, and who was authorized anyway (the baseline).

The policies in force are known at a series of instants: the case's policy snapshots
(timed Ranger exports; the first is the baseline), or the baseline with Ranger Admin's
policy history applied change by change. Every such state is evaluated with Ranger's
semantics (roles and the service's super users and groups included) for every catalog
object and principal. An object is exposed from a state that lets someone SELECT it whom
the baseline did not, until a state that no longer does. A principal nobody listed, who
belongs only to Ranger's `public` group, stands for "anyone in the company", so an object
opened to `public` is exposed even if the directory is incomplete. With a single state,
the case's declared window applies to every sensitive object (or every object, when no
sensitivity is given).

Under Ranger, HDFS falls back to the files' own permissions (`policy.posix`): a change of
the permissions of a table's storage location, in the NameNode audit log, that lets read
someone the baseline does not opens a window of the file layer. Such a window opens the
files only, so only HDFS reads count as let in by it.
"""

from __future__ import annotations

import functools
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from forensics.case import Case, PolicySnapshot, did_you_mean
from forensics.catalog import Catalog
from forensics.errors import CaseError, PolicyError
from forensics.inputs import input_text
from forensics.policy import (
    AccessRequest,
    AllowedSets,
    PolicyEngine,
    allowed_sets,
    load_policies,
    load_roles,
    load_service_def,
)
from forensics.policy.audit import AuditGap, audit_gaps
from forensics.policy.engine import in_force
from forensics.policy.history import (
    AppliedChange,
    HistoryFile,
    PolicyChange,
    PolicyHistory,
    apply_changes,
    load_history,
)
from forensics.policy.object_classes import ObjectNames
from forensics.policy.posix import PermissionChange, readers
from forensics.policy.principal_sets import Directory
from forensics.policy.schedule import TICK
from forensics.policy.tags import ServiceTags, TagForEval, load_service_tags

#: Stands for any principal outside the directory: member of no group but `public`.
ANYONE = "*"
#: Where a window comes from (the `source` column of exposure_windows.csv).
SNAPSHOTS, HISTORY, DECLARED = "policy_snapshots", "policy_history", "case_window"
HDFS_AUDIT = "hdfs_audit"
#: More schedule changes than this in one policy state is a case window too wide to model.
MAX_SCHEDULE_STATES = 20_000
#: What a window opened (the `layer` column): Ranger's decision, or the files beneath it.
POLICY_LAYER, FILE_LAYER = "policy", "file"
#: Service config keys of super users and groups: the service's own (Ranger Admin's
#: `configs`) and the plugin's (`ranger-hive-security.xml`).
SUPER_USER_KEYS = ("ranger.plugin.super.users", "ranger.plugin.hive.super.users")
SUPER_GROUP_KEYS = ("ranger.plugin.super.groups", "ranger.plugin.hive.super.groups")


@dataclass(frozen=True)
class Window:
    """An interval `[start, end)` during which an object was open beyond its baseline.

    `policy_ids` and `policy_versions` (`id:version`) name the policies that let in
    someone outside the baseline during the window; `opened_by`/`closed_by` the export, or
    the policy changes, that opened and closed it, and `*_users` the admins who made them."""

    object: str
    start: datetime
    end: datetime | None  # None: still open at the last known state
    opened_by: str  # the policy export (relative path) or the changes that opened it
    closed_by: str = ""
    source: str = SNAPSHOTS
    policy_ids: tuple[int, ...] = ()
    policy_versions: tuple[str, ...] = ()
    opened_by_users: tuple[str, ...] = ()
    closed_by_users: tuple[str, ...] = ()
    layer: str = POLICY_LAYER


@dataclass(frozen=True, eq=False)
class Baseline:
    """Who the baseline policies let SELECT each catalog object, kept as the policy
    engine's bitsets (`policy.AllowedSets`): one principal set per class of objects that
    the policies decide alike, never one row per (object, principal). An exposure that
    opens 45,000 objects to 50,000 people is 2.25 billion pairs, but a few hundred sets.

    `sets` None: no policy state is known, and the baseline lets nobody in."""

    sets: AllowedSets | None
    #: (class, universe) -> principals the baseline lets in, worked out once per class
    _counts: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)

    def _has(self, obj: str) -> bool:
        return self.sets is not None and obj in self.sets

    def everyone(self, obj: str) -> bool:
        """Whether the baseline lets anyone at all (Ranger's `public`) read `obj`."""
        return self._has(obj) and self.sets.allowed(obj, ANYONE)  # type: ignore[union-attr]

    def principals(self, obj: str) -> frozenset[str]:
        """The principals the baseline lets read `obj` (ANYONE among them when it is open
        to all); materialized, so for one object at a time."""
        if not self._has(obj):
            return frozenset()
        return frozenset(self.sets.principals_of(obj))  # type: ignore[union-attr]

    def count(self, obj: str, universe: int) -> int:
        """How many of the `universe` principals the baseline lets read `obj`."""
        return self.counts([obj], universe)[0]

    def counts(self, objects: Sequence[str], universe: int) -> list[int]:
        """`count` of each of `objects`, worked out once per class of objects decided
        alike (an exposure of 45,000 objects has a few hundred)."""
        if self.sets is None:
            return [0] * len(objects)
        classes = self.sets.classes_of(objects).tolist()
        return [self._class_count(k, universe) if k >= 0 else 0 for k in classes]

    def _class_count(self, k: int, universe: int) -> int:
        """How many of the `universe` principals the baseline lets read the objects of
        class `k` (all of them when it lets in anyone at all)."""
        found = self._counts.get((k, universe))
        if found is None:
            assert self.sets is not None
            bits = self.sets.class_bits(k)
            found = universe if bits & self.sets.bit(ANYONE) else bits.bit_count()
            self._counts[(k, universe)] = found
        return found

    def classes(self, objects: Iterable[str]) -> tuple[list[tuple[str, int]], dict[int, list[str]]]:
        """The baseline of `objects` in two relations for the engine: (object, set id) and
        set id -> its principals. Objects decided alike share one set; a set that lets in
        everyone is listed as ANYONE alone, which is how the classification asks for it."""
        if self.sets is None:
            return [], {}
        ids: dict[int, int] = {}  # bitset -> set id
        members: dict[int, list[str]] = {}
        rows = []
        everyone = self.sets.bit(ANYONE)
        set_of: dict[int, int | None] = {}  # class -> its set id (None: nobody)
        ordered = sorted(set(objects))
        for obj, k in zip(ordered, self.sets.classes_of(ordered).tolist(), strict=True):
            if k < 0:
                continue  # not among the objects evaluated
            if k not in set_of:  # the first object of its class: a set, unless empty
                bits = self.sets.class_bits(k)
                found = ids.setdefault(bits, len(ids)) if bits else None
                if found is not None and found not in members:
                    members[found] = [ANYONE] if bits & everyone else self.sets.names(bits)
                set_of[k] = found
            found = set_of[k]
            if found is not None:
                rows.append((obj, found))
        return rows, members


@dataclass(frozen=True)
class Scope:
    """Exposure windows per object and the baseline authorization."""

    windows: tuple[Window, ...]
    baseline: Baseline
    universe: frozenset[str]  # principals considered (directory and logs)
    history_files: tuple[HistoryFile, ...] = ()  # how the policy history files were read

    @classmethod
    def empty(cls) -> Scope:
        """No window, no baseline, no principal (for loading events alone)."""
        return cls((), Baseline(None), frozenset())

    @property
    def exposed(self) -> list[str]:
        """Objects with at least one window, sorted."""
        return sorted({w.object for w in self.windows})

    def baseline_count(self, obj: str) -> int:
        """How many principals of the universe the baseline lets read `obj`."""
        return self.baseline.count(obj, len(self.universe))


@dataclass(frozen=True)
class PolicyState:
    """The policies in force from `at` on, and what put them in force: an export
    (`label` is its path) or policy changes (`changes`)."""

    at: datetime
    policies: tuple[dict, ...]
    label: str
    changes: tuple[AppliedChange, ...] = ()
    tags: Path | None = None  # the ServiceTags export in force
    tag_policies: Path | None = None  # the tag service's policy export in force

    def versions(self) -> dict[int, int | None]:
        """Policy id -> the version in force (None when the export does not say)."""
        return {int(p["id"]): p.get("version") for p in self.policies if "id" in p}


@dataclass(frozen=True)
class Authority:
    """What decides besides the policies: roles, super users and super groups."""

    roles: Mapping[str, frozenset[str]]
    super_users: frozenset[str]
    super_groups: frozenset[str]

    def engine(
        self,
        policies: Iterable[dict],
        tags: ServiceTags | None = None,
        tag_policies: list[dict] | None = None,
        schedule_zone: str | None = None,
    ) -> PolicyEngine:
        """Ranger's policy engine for these policies, with the roles and super users, and
        the tag policies on the resources' tags when the case gives them; `schedule_zone`
        is the plugin host's zone recurrences are matched on (the case's
        `ranger_timezone`)."""
        return PolicyEngine(
            list(policies),
            load_service_def("hive"),
            roles=self.roles,
            super_users=self.super_users,
            super_groups=self.super_groups,
            schedule_zone=schedule_zone,
            tag_policies=tag_policies,
            service_tags=tags if tag_policies is not None else None,
        )

    def state_engine(self, case: Case, state: PolicyState) -> PolicyEngine:
        """The engine of a policy state, with the tags and tag policies in force."""
        tags = _service_tags(case, state.tags) if state.tags is not None else ServiceTags()
        tag_policies = (
            list(_policies(case, state.tag_policies)) if state.tag_policies is not None else None
        )
        zone = case.ranger_timezone.key if case.ranger_timezone is not None else None
        return self.engine(state.policies, tags, tag_policies, zone)


def derive_scope(
    case: Case,
    catalog: Catalog,
    log_principals: Iterable[str],
    permission_changes: Iterable[PermissionChange] = (),
) -> Scope:
    """Evaluate every policy state for every catalog object and principal (as bitsets,
    `policy.allowed_sets`), and the permission changes of the objects' storage locations
    (the file layer)."""
    universe = frozenset(catalog.principals() | set(log_principals))
    members = {p: catalog.groups.get(p, frozenset()) for p in sorted(universe)}
    members[ANYONE] = frozenset()
    objects = sorted(catalog.objects)
    names = ObjectNames(objects)  # split once for every state
    directory = Directory(members)  # and the directory's bitsets made once
    authority = load_authority(case)
    history = read_history(case)
    engines: dict[tuple, PolicyEngine] = {}
    distinct: list[tuple[dict, ...]] = []  # the policies of the states, each once
    same: dict[int, int] = {}  # id of a state's policies -> its position in `distinct`

    def content(state: PolicyState) -> int:
        """Which distinct policies the state holds: a state that puts back the policies of
        an earlier one (a change reverted) is decided as that one was, by the same sets."""
        found = same.get(id(state.policies))
        if found is None:
            found = next((i for i, p in enumerate(distinct) if p == state.policies), len(distinct))
            if found == len(distinct):
                distinct.append(state.policies)  # kept, so the id stays theirs
            same[id(state.policies)] = found
        return found

    def engine_of(state: PolicyState) -> PolicyEngine:
        key = (content(state), state.tags, state.tag_policies)
        found = engines.get(key)
        if found is None:
            found = engines[key] = authority.state_engine(case, state)
        return found

    states = policy_states(case, history)
    if states:
        until = case.window[1] if case.window is not None else states[-1].at
        states = scheduled_states(states, until, engine_of)
    computed: dict[tuple, AllowedSets] = {}
    sets = []
    for state in states:
        engine = engine_of(state)
        key = (content(state), state.tags, state.tag_policies, in_schedule(engine, state.at))
        if key not in computed:
            computed[key] = allowed_sets(engine, names, directory, state.at)
        sets.append(computed[key])
    baseline = Baseline(sets[0] if sets else None)
    if len(states) >= 2:
        source = HISTORY if case.policy_history else SNAPSHOTS
        windows = _windows(objects, states, sets, source)
    elif case.window is not None:
        windows = _declared_windows(case, catalog, baseline)
    else:
        windows = []  # the history holds no change after the baseline: nothing was opened
    windows += file_windows(
        catalog, permission_changes, functools.cache(baseline.principals), members
    )
    return Scope(
        windows=tuple(windows),
        baseline=baseline,
        universe=universe,
        history_files=history.files if history is not None else (),
    )


def _timed(engine: PolicyEngine) -> list:
    """The engine's policies (the service's, its zones', its tag policies)."""
    every = engine.policies + [p for _, ps in engine.zones.values() for p in ps]
    return every + (engine.tag_engine.policies if engine.tag_engine is not None else [])


def _timed_tags(engine: PolicyEngine) -> list[TagForEval]:
    """The tags of the engine's ServiceTags that have validity periods."""
    if engine.service_tags is None or engine.tag_engine is None:
        return []
    return [t for r in engine.service_tags.resources for t in r.tags if t.periods]


def in_schedule(engine: PolicyEngine, at: datetime) -> tuple:
    """What of the engine's validity schedules and tag validity periods holds at `at`
    (two instants with the same answer are decided alike)."""
    policies = frozenset(p.id for p in _timed(engine) if p.schedules and in_force(p, at))
    return policies, tuple(t.applies(at) for t in _timed_tags(engine))


def scheduled_states(
    states: list[PolicyState],
    until: datetime,
    engine_of: Callable[[PolicyState], PolicyEngine],
) -> list[PolicyState]:
    """The states with one more at every instant a validity schedule puts a policy in
    force or takes it out (up to the next state; for the last, up to `until`, and for a
    schedule's own start and end at any time): a schedule opens and closes windows by
    itself, and evidence names it as the cause."""
    expanded: list[PolicyState] = []
    for i, state in enumerate(states):
        expanded.append(state)
        nxt = states[i + 1].at if i + 1 < len(states) else None
        engine = engine_of(state)
        flips: dict[datetime, list[str]] = {}
        for tag in _timed_tags(engine):
            for period in tag.periods:
                bound = nxt or max(until, (period.end or until) + TICK)
                for at in period.flips(state.at, bound):
                    if (nxt is not None and at >= nxt) or tag.applies(at) == tag.applies(at - TICK):
                        continue
                    verb = "starts" if tag.applies(at) else "ends"
                    flips.setdefault(at, []).append(
                        f"validity period of tag {tag.tag.type} {verb} ({period.text})"
                    )
        for policy in _timed(engine):
            for schedule in policy.schedules:
                if nxt is not None:
                    bound = nxt
                elif schedule.recurrences:
                    bound = until
                else:  # a one-time schedule's start and end count whenever they come
                    bound = max(until, schedule.start or until, (schedule.end or until) + TICK)
                for at in schedule.flips(state.at, bound, policy.host_zone):
                    now = in_force(policy, at)
                    if (nxt is not None and at >= nxt) or now == in_force(policy, at - TICK):
                        continue
                    verb = "starts" if now else "ends"
                    flips.setdefault(at, []).append(
                        f"validity schedule of policy {policy.id} {verb} ({schedule.text})"
                    )
        if len(flips) > MAX_SCHEDULE_STATES:
            raise PolicyError(
                f"validity schedules change {len(flips)} times after {_iso(state.at)}; "
                "narrow the case window so fewer recurrences fall inside it"
            )
        for at in sorted(flips):
            label = ";".join(sorted(set(flips[at])))
            expanded.append(replace(state, at=at, label=label, changes=()))
    return expanded


def file_windows(
    catalog: Catalog,
    changes: Iterable[PermissionChange],
    baseline: Callable[[str], Container[str]],
    members: Mapping[str, frozenset[str]],
) -> list[Window]:
    """Windows of the file layer: intervals in which the permissions of a table's storage
    location, or of a path under it, let read someone the baseline does not (`baseline`:
    object -> the principals the baseline lets read it).

    Each path keeps the status its last change left; the table is open while any of its
    paths is. A change of the location itself that opens nothing closes the paths under
    it as well, since they are reached through it."""
    ordered = sorted(changes, key=lambda c: (c.time_ms, c.source_file, c.source_line))
    if not ordered:
        return []
    by_location = {o.location: o.object for o in catalog.objects.values() if o.location}
    paths: dict[str, dict[str, bool]] = {}
    opened: dict[str, PermissionChange] = {}
    windows = []
    for change in ordered:
        for location, obj in _locations_of(change.path, by_location):
            lets_in = readers(change).outside(
                baseline(obj), members, change.command.lower() == "setowner"
            )
            states = paths.setdefault(obj, {})
            if change.path == location and not lets_in:
                states.clear()
            states[change.path] = lets_in
            is_open = any(states.values())
            if is_open and obj not in opened:
                opened[obj] = change
            elif not is_open and obj in opened:
                windows.append(_file_window(obj, opened.pop(obj), change))
    windows += [_file_window(obj, first, None) for obj, first in sorted(opened.items())]
    return windows


def _locations_of(path: str, by_location: Mapping[str, str]) -> list[tuple[str, str]]:
    """The (location, object) pairs whose location is `path` or a folder above it."""
    found = []
    head = path.rstrip("/")
    while head:
        if head in by_location:
            found.append((head, by_location[head]))
        head = head.rpartition("/")[0]
    return found


def _file_window(obj: str, opened: PermissionChange, closed: PermissionChange | None) -> Window:
    return Window(
        object=obj,
        start=_utc(opened.time_ms),
        end=_utc(closed.time_ms) if closed is not None else None,
        opened_by=opened.label(),
        closed_by=closed.label() if closed is not None else "",
        source=HDFS_AUDIT,
        opened_by_users=(opened.principal,),
        closed_by_users=(closed.principal,) if closed is not None else (),
        layer=FILE_LAYER,
    )


def _utc(time_ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=time_ms)


def read_history(case: Case) -> PolicyHistory | None:
    """The case's policy history (None when it gives none)."""
    if not case.policy_history:
        return None
    return load_history(((h.format, h.files) for h in case.policy_history), case.relpath)


def policy_states(case: Case, history: PolicyHistory | None = None) -> list[PolicyState]:
    """The policies in force over time, baseline first: the snapshots, or with a policy
    history (`history`, else read from the case) the baseline and the state after every
    instant at which policies changed."""
    snapshots = [
        PolicyState(s.at, tuple(_policies(case, s.path)), case.relpath(s.path))
        for s in case.policies
    ]
    if not case.policy_history:
        return _with_tags(case, snapshots)
    history = history or read_history(case)
    assert history is not None  # the case names history files
    return _with_tags(case, _replayed(case, snapshots, history.changes))


def _with_tags(case: Case, states: list[PolicyState]) -> list[PolicyState]:
    """The states with the case's tags and tag policies in force, and one more state at
    every instant a tags or tag policies export takes over: a tag change opens and closes
    windows as a policy change does, and is named by its export."""
    if not states or not (case.tags or case.tag_policies):
        return states
    base = states[0].at
    later = [s for s in (*case.tags, *case.tag_policies) if s.at > base]
    result = []
    for at in sorted({s.at for s in states} | {s.at for s in later}):
        state = [s for s in states if s.at <= at][-1]
        causes = [case.relpath(s.path) for s in later if s.at == at]
        label = ";".join(([state.label] if state.at == at else []) + causes)
        result.append(
            replace(
                state,
                at=at,
                label=label,
                changes=state.changes if state.at == at else (),
                tags=_in_force(case.tags, at),
                tag_policies=_in_force(case.tag_policies, at),
            )
        )
    return result


def _in_force(snapshots: Sequence[PolicySnapshot], at: datetime) -> Path | None:
    """The export of the last snapshot taken at or before `at`."""
    found = [s.path for s in snapshots if s.at <= at]
    return found[-1] if found else None


@functools.lru_cache(maxsize=32)
def _service_tags(case: Case, path: Path) -> ServiceTags:
    return load_service_tags(path, load_service_def("hive"), case.relpath(path))


def _replayed(
    case: Case, snapshots: list[PolicyState], changes: Sequence[PolicyChange]
) -> list[PolicyState]:
    """Apply the history's changes in time order to the baseline export; a later export
    replaces the policies from its time on. Without an export, the baseline is what the
    history shows in force just before the declared window, or at its first change."""
    state: dict[int, dict]
    if snapshots:
        base = snapshots[0]
        state = _by_id(base.policies)
        pending = [c for c in changes if c.time > base.at]
    else:
        if not changes:
            raise PolicyError(
                "policy_history: holds no policy change, and no policies export is given; "
                "add the baseline export under policies"
            )
        anchor = case.window[0] if case.window is not None else changes[0].time
        early = [
            c for c in changes if c.time < anchor or (case.window is None and c.time == anchor)
        ]
        state = {}
        apply_changes(state, early)
        base = PolicyState(anchor, _ordered(state), "policy history")
        pending = changes[len(early) :]
    later = {s.at: s for s in snapshots[1:] if s.at > base.at}
    states = [base]
    for at in sorted({c.time for c in pending} | set(later)):
        snapshot = later.get(at)
        if snapshot is not None:  # an export at this instant already holds its changes
            state = _by_id(snapshot.policies)
            states.append(snapshot)
            continue
        applied = apply_changes(state, [c for c in pending if c.time == at])
        states.append(PolicyState(at, _ordered(state), f"policy history {_iso(at)}", applied))
    return states


def _by_id(policies: Iterable[dict]) -> dict[int, dict]:
    return {int(p.get("id", -1)): dict(p) for p in policies}


def _ordered(state: Mapping[int, dict]) -> tuple[dict, ...]:
    return tuple(state[k] for k in sorted(state))


def _policies(case: Case, path: Path) -> list[dict]:
    try:
        return load_policies(path)
    except PolicyError as exc:
        raise PolicyError(f"{case.relpath(path)}: {exc}") from None


def load_authority(case: Case) -> Authority:
    """The case's roles and super users and groups (none when the case gives none)."""
    roles: dict[str, frozenset[str]] = {}
    if case.roles is not None:
        try:
            roles = load_roles(case.roles)
        except (KeyError, TypeError, AttributeError):
            raise PolicyError(
                f"roles {case.relpath(case.roles)}: every role needs a name, and users and "
                'groups as lists of {"name": ...}; give a Ranger roles export'
            ) from None
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    if case.service_config is not None:
        users, groups = load_super_users(case.service_config, case.relpath(case.service_config))
    return Authority(roles, users, groups)


def load_super_users(path: Path, name: str) -> tuple[frozenset[str], frozenset[str]]:
    """Super users and super groups from a Ranger service's configs: a JSON object of
    configs, a Ranger service (`{"configs": {...}}`), or a Hadoop XML configuration file
    (`ranger-hive-security.xml`). Values are comma-separated."""
    configs = _configs(path, name)
    if not any(k in configs for k in SUPER_USER_KEYS + SUPER_GROUP_KEYS):
        raise PolicyError(
            f"service_config {name}: names neither ranger.plugin.super.users nor "
            "ranger.plugin.super.groups; give the service's configs or remove the key"
        )

    def names(keys: tuple[str, ...]) -> frozenset[str]:
        found: set[str] = set()
        for key in keys:
            value = configs.get(key)
            if value is not None and not isinstance(value, str):
                raise PolicyError(f"service_config {name}: {key} must be comma-separated text")
            found |= {v.strip() for v in (value or "").split(",") if v.strip()}
        return frozenset(found)

    return names(SUPER_USER_KEYS), names(SUPER_GROUP_KEYS)


def service_configs(path: Path, name: str) -> Mapping[str, Any]:
    """The key -> value configs of a service config file (JSON or Hadoop XML), for other
    settings than the super users (the coverage ledger reads the audit filters)."""
    return _configs(path, name)


def _configs(path: Path, name: str) -> Mapping[str, Any]:
    """The key -> value configs of a service config file, JSON or Hadoop XML."""
    try:
        text = input_text(Path(path))
    except (OSError, UnicodeDecodeError):
        raise PolicyError(f"service_config {name}: cannot be read as UTF-8 text") from None
    if text.lstrip().startswith("<"):
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise PolicyError(f"service_config {name}: not valid XML ({exc})") from None
        return {
            (p.findtext("name") or "").strip(): p.findtext("value") or ""
            for p in root.iter("property")
        }
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"service_config {name}: not valid JSON (line {exc.lineno})") from None
    if isinstance(raw, dict) and isinstance(raw.get("configs"), dict):
        raw = raw["configs"]
    if not isinstance(raw, dict):
        raise PolicyError(
            f"service_config {name}: expected the service's configs {{\"ranger.plugin.super."
            'users": "..."}, a Ranger service {"configs": {...}} or a Hadoop XML file'
        )
    return raw


def _windows(
    objects: list[str],
    states: list[PolicyState],
    sets: list[AllowedSets],
    source: str,
) -> list[Window]:
    """Merge consecutive states that open an object beyond its baseline into windows.

    Objects that every state puts in the same classes get the same windows, so they are
    worked out once per distinct combination of classes (a few hundred for a warehouse),
    by bitsets: a state opens an object when it lets in a principal the baseline does not.
    States that share one `AllowedSets` (a validity schedule turning the same policies on
    and off) share its column."""
    if not objects:
        return []
    distinct: dict[int, int] = {}  # id of an AllowedSets -> its column
    column = [distinct.setdefault(id(s), len(distinct)) for s in sets]
    unique = list({id(s): s for s in sets}.values())
    code = np.zeros(len(objects), dtype=np.int64)  # each object's combination so far
    for s in unique:  # renumbered after each column, so the codes stay below len(objects)
        code = np.unique(code * len(s.classes) + s.object_class, return_inverse=True)[1]
        code = code.ravel()  # (numpy may keep a column)
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    inverse = inverse.ravel()  # the combination of each object
    combos = [[int(s.object_class[i]) for s in unique] for i in first.tolist()]
    versions = [state.versions() for state in states]
    everyone = sets[0].bit(ANYONE)
    found: list[list[Window]] = []
    for combo in combos:
        base = sets[0].class_bits(combo[column[0]])
        if base & everyone:
            found.append([])  # open to everyone already: nobody is let in by a change
            continue
        spans = []
        opened: int | None = None
        granting: set[tuple[int, int | None]] = set()
        for i in range(1, len(states)):
            k = combo[column[i]]
            grants = sets[i].classes[k]
            extra = sets[i].class_bits(k) & ~base
            if extra:
                if opened is None:
                    opened, granting = i, set()
                granting |= {
                    (pid, versions[i].get(pid))
                    for pid, bits in grants
                    if bits & extra and pid is not None
                }
            elif opened is not None:
                spans.append(_window("", states, opened, i, granting, source))
                opened = None
        if opened is not None:
            spans.append(_window("", states, opened, None, granting, source))
        found.append(spans)
    templates = [[_fields_after_object(w) for w in spans] for spans in found]
    windows = []
    for position in np.flatnonzero(np.array([bool(f) for f in found])[inverse]).tolist():
        obj = objects[position]
        windows += [Window(obj, *rest) for rest in templates[inverse[position]]]
    return windows


def _fields_after_object(window: Window) -> tuple:
    """A window's fields but its object, in order: one window per object is made from
    them (45,000 objects opened alike by one change are 45,000 windows)."""
    return tuple(getattr(window, f.name) for f in fields(Window)[1:])


def _window(
    obj: str,
    states: list[PolicyState],
    opened: int,
    closed: int | None,
    granting: set[tuple[int, int | None]],
    source: str,
) -> Window:
    """One window, naming what opened and closed it and the policies that let people in."""
    ids = {pid for pid, _ in granting if pid >= 0}
    opened_by, opened_users = _cause(states[opened], ids)
    closed_by, closed_users = _cause(states[closed], ids) if closed is not None else ("", ())
    return Window(
        object=obj,
        start=states[opened].at,
        end=states[closed].at if closed is not None else None,
        opened_by=opened_by,
        closed_by=closed_by,
        source=source,
        policy_ids=tuple(sorted(ids)),
        policy_versions=tuple(
            f"{pid}:{v}" if v is not None else str(pid)
            for pid, v in sorted(granting, key=lambda g: (g[0], g[1] or 0))
            if pid >= 0
        ),
        opened_by_users=opened_users,
        closed_by_users=closed_users,
    )


def _cause(state: PolicyState, ids: set[int]) -> tuple[str, tuple[str, ...]]:
    """What put `state` in force, as evidence names it: its export, or its changes (those
    of the window's policies when there are any, else every change of that instant)."""
    if not state.changes:
        return state.label, ()
    own = [c for c in state.changes if c.change.policy_id in ids] or list(state.changes)
    own.sort(key=lambda c: (c.change.policy_id, c.version or 0, c.change.action))
    users = tuple(sorted({c.change.user for c in own if c.change.user}))
    return ";".join(c.label() for c in own), users


def _declared_windows(case: Case, catalog: Catalog, baseline: Baseline) -> list[Window]:
    """The case's window applied to sensitive objects the baseline did not open to all."""
    assert case.window is not None  # checked by the caller
    candidates = sorted({o for o, _, _ in catalog.sensitivity} or set(catalog.objects))
    start, end = case.window
    return [
        Window(obj, start, end, "case window", source=DECLARED)
        for obj in candidates
        if not baseline.everyone(obj)
    ]


@dataclass(frozen=True)
class Grant:
    """One principal the policy in force lets SELECT an object, and the deciding policy."""

    principal: str
    policy_id: int | None
    snapshot: str  # the export in force, or "policy history <time of the last change>"
    version: int | None = None  # the deciding policy's version, when known
    #: what decided: `policy 6`, `tag policy 900 (tag PII)`, `policy 9 in zone z`,
    #: `policy 6 (validity schedule)`, `super user`
    construct: str = ""


def who_can(case: Case, catalog: Catalog, obj: str, at: datetime) -> list[Grant]:
    """The directory's principals allowed to SELECT `obj` at `at`, by the policies then in
    force (snapshots or history, with roles and super users), each with the policy that
    allows it (the scope notebook and CLI use this).

    An object the catalog does not hold is refused: policies decide a misspelt name as
    they decide any name (a `*` policy lets everyone in), so the answer would look real."""
    if obj not in catalog.objects:
        raise CaseError(
            f"object {obj[:80]!r} is not in the case's catalog ({case.relpath(case.tables)})"
            f"{did_you_mean(obj, catalog.objects)}; give a db.table the catalog lists"
        )
    states = policy_states(case)
    in_effect = [s for s in states if s.at <= at]
    if not in_effect:
        raise PolicyError(
            f"no policy state is in force at {at.isoformat()}; the first is from "
            f"{states[0].at.isoformat() if states else 'nowhere'}"
        )
    state = in_effect[-1]
    engine = load_authority(case).state_engine(case, state)
    versions = state.versions()
    every = engine.policies + [p for _, ps in engine.zones.values() for p in ps]
    scheduled = {p.id for p in every if p.schedules}
    database, table = obj.split(".", 1)
    grants = []
    for principal in sorted(catalog.principals()):
        decision = engine.evaluate(
            AccessRequest(
                resource={"database": database, "table": table},
                access_type="select",
                user=principal,
                groups=catalog.groups.get(principal, frozenset()),
                time=at,
            )
        )
        if decision.allowed:
            version = versions.get(decision.policy_id) if decision.policy_id else None
            construct = decision.reason.removeprefix("allowed by ")
            if decision.policy_id in scheduled:
                construct += " (validity schedule)"
            grants.append(Grant(principal, decision.policy_id, state.label, version, construct))
    return grants


def audit_gaps_by_state(case: Case) -> list[tuple[datetime, str, tuple[AuditGap, ...]]]:
    """Per policy state (its time and label, baseline first), the enabled access policies
    with auditing off and the resources they cover (`policy.audit`): where a read they
    allow may have left no Ranger audit record."""
    return [(s.at, s.label, audit_gaps(s.policies)) for s in policy_states(case)]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
