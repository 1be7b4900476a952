"""Scope: which objects were exposed, when, and who was authorized anyway (the baseline).

Windows come from the case's policy snapshots: an object is exposed during a snapshot's
interval when that snapshot lets someone SELECT it whom the baseline (the first snapshot)
did not. A principal nobody listed, who belongs only to Ranger's `public` group, stands for
"anyone in the company", so an object opened to `public` is exposed even if the directory
is incomplete. Without a second snapshot, the case's declared window applies to every
sensitive object (or every object, when no sensitivity is given).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from forensics.case import Case
from forensics.catalog import Catalog
from forensics.errors import PolicyError
from forensics.policy import AccessRequest, PolicyEngine, load_policies, load_service_def

#: Stands for any principal outside the directory: member of no group but `public`.
ANYONE = "*"


@dataclass(frozen=True)
class Window:
    """An interval `[start, end)` during which an object was open beyond its baseline."""

    object: str
    start: datetime
    end: datetime | None  # None: still open at the last snapshot
    opened_by: str  # the policy export (relative path) that opened it


@dataclass(frozen=True)
class Scope:
    """Exposure windows per object and baseline authorization per (object, principal)."""

    windows: tuple[Window, ...]
    baseline: frozenset[tuple[str, str]]  # (object, principal); principal ANYONE = everyone
    universe: frozenset[str]  # principals considered (directory and logs)

    @property
    def exposed(self) -> list[str]:
        """Objects with at least one window, sorted."""
        return sorted({w.object for w in self.windows})

    def baseline_count(self, obj: str) -> int:
        """How many principals of the universe the baseline lets read `obj`."""
        if (obj, ANYONE) in self.baseline:
            return len(self.universe)
        return sum(1 for o, p in self.baseline if o == obj)


def derive_scope(case: Case, catalog: Catalog, log_principals: Iterable[str]) -> Scope:
    """Evaluate every policy snapshot for every catalog object and principal."""
    universe = frozenset(catalog.principals() | set(log_principals))
    members = {p: catalog.groups.get(p, frozenset()) for p in sorted(universe)}
    members[ANYONE] = frozenset()
    objects = sorted(catalog.objects)
    service_def = load_service_def("hive")
    allowed = [
        _allowed_sets(PolicyEngine(_policies(case, snap.path), service_def), objects, members, at)
        for snap, at in ((s, s.at) for s in case.policies)
    ]
    baseline_sets = allowed[0] if allowed else {o: set() for o in objects}
    baseline = frozenset((o, p) for o, ps in baseline_sets.items() for p in ps)
    if len(case.policies) >= 2:
        windows = _windows_from_snapshots(case, objects, allowed)
    else:
        windows = _declared_windows(case, catalog, baseline_sets)
    return Scope(windows=tuple(windows), baseline=baseline, universe=universe)


def _policies(case: Case, path) -> list[dict]:
    try:
        return load_policies(path)
    except PolicyError as exc:
        raise PolicyError(f"{case.relpath(path)}: {exc}") from None


def _allowed_sets(
    engine: PolicyEngine,
    objects: list[str],
    members: Mapping[str, frozenset[str]],
    at: datetime,
) -> dict[str, set[str]]:
    """For each object, the principals this snapshot lets SELECT it."""
    result: dict[str, set[str]] = {}
    for obj in objects:
        database, table = obj.split(".", 1)
        resource = {"database": database, "table": table}
        result[obj] = {
            principal
            for principal, groups in members.items()
            if engine.evaluate(
                AccessRequest(
                    resource=resource,
                    access_type="select",
                    user=principal,
                    groups=groups,
                    time=at,
                )
            ).allowed
        }
    return result


def _windows_from_snapshots(
    case: Case, objects: list[str], allowed: list[dict[str, set[str]]]
) -> list[Window]:
    """Merge consecutive snapshot intervals that open an object beyond its baseline."""
    windows = []
    snaps = case.policies
    for obj in objects:
        base = allowed[0][obj]
        current: tuple[datetime, str] | None = None
        for i in range(1, len(snaps)):
            opens = bool(allowed[i][obj] - base) and ANYONE not in base
            if opens and current is None:
                current = (snaps[i].at, case.relpath(snaps[i].path))
            elif not opens and current is not None:
                windows.append(Window(obj, current[0], snaps[i].at, current[1]))
                current = None
        if current is not None:
            windows.append(Window(obj, current[0], None, current[1]))
    return windows


def _declared_windows(
    case: Case, catalog: Catalog, baseline: Mapping[str, set[str]]
) -> list[Window]:
    """The case's window applied to sensitive objects the baseline did not open to all."""
    assert case.window is not None  # the case loader requires it without two snapshots
    candidates = sorted({o for o, _, _ in catalog.sensitivity} or set(catalog.objects))
    start, end = case.window
    return [
        Window(obj, start, end, "case window")
        for obj in candidates
        if ANYONE not in baseline.get(obj, set())
    ]


@dataclass(frozen=True)
class Grant:
    """One principal the policy in force lets SELECT an object, and the deciding policy."""

    principal: str
    policy_id: int | None
    snapshot: str


def who_can(case: Case, catalog: Catalog, obj: str, at: datetime) -> list[Grant]:
    """The directory's principals allowed to SELECT `obj` at `at`, by the snapshot then in
    force, each with the policy that allows it (the scope notebook and CLI use this)."""
    in_force = [s for s in case.policies if s.at <= at]
    if not in_force:
        raise PolicyError(
            f"no policy snapshot is in force at {at.isoformat()}; the first is from "
            f"{case.policies[0].at.isoformat() if case.policies else 'nowhere'}"
        )
    snapshot = in_force[-1]
    engine = PolicyEngine(_policies(case, snapshot.path), load_service_def("hive"))
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
            grants.append(Grant(principal, decision.policy_id, case.relpath(snapshot.path)))
    return grants
