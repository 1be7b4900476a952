"""Who may SELECT each object: Ranger's decisions for a whole directory at once.

`PolicyEngine.evaluate` answers one (object, principal) request. A baseline at warehouse
scale (45,000 objects x 50,000 principals x 2,000 policies) cannot be billions of such
calls, so `allowed_sets` reaches the same decisions with set algebra:

1. each policy's resources are matched once against all objects (names indexed per
   database, literal values looked up, wildcards tested once per distinct name);
2. objects with the same applicable policies (same security zone, and the same owner
   when an `{OWNER}` item is involved) form one class, usually a few per database;
3. per class, principals are bitsets (Python ints; bit i is the i-th principal in sorted
   order): each policy's allow and deny sets come from its items' users, groups and
   roles (`public` and `{USER}` = everyone), and the policies are applied in the
   engine's order (priority, deny-capable first, deny before allow, exceptions,
   `isDenyAllElse`, validity schedules at `at`, super users first).

The decision (allowed, deciding policy id) equals `PolicyEngine.evaluate` for every
(object, principal) with the given access type; tests/test_policy_allowed.py checks that.
What cannot be done per class is done per principal or per request, and `notes` says so.

This module holds the result (`AllowedSets`) and puts the steps together: matching and
classes are `object_classes`, the directory's bitsets `principal_sets`, the decision per
class `set_decisions`, and the tag policies' part `tag_sets`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from forensics.errors import PolicyError
from forensics.policy.compiled import (
    NO_POLICY,
    OWNER_MACRO,
    USER_MACRO,
    CompiledPolicy,
    all_items,
    in_force,
)
from forensics.policy.engine import LEAN_ALLOW, LEAN_DENY, PolicyEngine
from forensics.policy.object_classes import (
    MatchedObjects,
    ObjectNames,
    names_owner,
    split_object,
    table_chain,
    user_dependent,
)
from forensics.policy.principal_sets import Directory, PrincipalSets, positions, union
from forensics.policy.request import AccessRequest
from forensics.policy.set_decisions import decide, decide_tagged
from forensics.policy.tag_sets import TagSets

#: How conditions decided per request are taken in the sets.
CONDITIONAL_NOTE = (
    "a conditional deny counts as denying and a conditional grant as granting no one, so "
    "the allowed sets hold who is allowed whatever the conditions say; who a conditional "
    "grant would let in besides is kept apart (AllowedSets.conditional_for)"
)
#: One class's decision: (deciding policy id, bitset of the principals it allows), by id.
Grants = tuple[tuple[int, int], ...]


@dataclass(frozen=True, eq=False)
class AllowedSets:
    """For each object, the principals allowed and the deciding policy, held compactly.

    `classes[k]` lists (policy id, principal bitset) for the objects whose `object_class`
    is k; a principal's bit is its position in `principals` (sorted). Bitsets of two
    `AllowedSets` built from the same directory can be combined directly (`bits`)."""

    objects: tuple[str, ...]
    principals: tuple[str, ...]
    access: str
    classes: tuple[Grants, ...]
    object_class: np.ndarray
    notes: tuple[str, ...] = ()
    #: per class, (policy id, principals) a conditional grant would let in besides
    #: `classes`: allowed only when conditions decided per request hold
    conditional_classes: tuple[Grants, ...] = ()
    _objects: dict[str, int] = field(default_factory=dict, repr=False)
    _principals: dict[str, int] = field(default_factory=dict, repr=False)

    def _grants(self, obj: str) -> Grants:
        found = self._objects.get(obj)
        if found is None:
            raise PolicyError(f"allowed sets: object {obj!r} was not among the objects evaluated")
        return self.classes[int(self.object_class[found])]

    def _bit(self, principal: str) -> int:
        found = self._principals.get(principal)
        if found is None:
            raise PolicyError(
                f"allowed sets: principal {principal!r} is not in the directory evaluated; "
                "add it (with no groups if unknown)"
            )
        return 1 << found

    def __contains__(self, obj: object) -> bool:
        """Whether `obj` was among the objects evaluated."""
        return obj in self._objects

    def bit(self, principal: str) -> int:
        """`principal`'s bit (its position in `principals`), as a one-bit set."""
        return self._bit(principal)

    def names(self, bits: int) -> list[str]:
        """The principals of a bitset, in principal order."""
        return [self.principals[int(i)] for i in positions(bits)]

    def grants(self, obj: str) -> Grants:
        """(deciding policy id, bitset of the principals it allows) for `obj`: what a
        window needs to name the policies letting in people outside the baseline."""
        return self._grants(obj)

    def policy_for(self, obj: str, principal: str) -> int | None:
        """The policy that lets `principal` access `obj` (-1: a super user); None: denied."""
        bit = self._bit(principal)
        return next((pid for pid, bits in self._grants(obj) if bits & bit), None)

    def conditional_for(self, obj: str, principal: str) -> int | None:
        """The policy that would let `principal` access `obj` if conditions decided per
        request (a client address, a time of day, an expression) hold, when no policy
        lets them in regardless; None: no conditional grant (or an unconditional one)."""
        if not self.conditional_classes:
            return None
        found = self._objects.get(obj)
        if found is None:
            raise PolicyError(f"allowed sets: object {obj!r} was not among the objects evaluated")
        bit = self._bit(principal)
        grants = self.conditional_classes[int(self.object_class[found])]
        return next((pid for pid, bits in grants if bits & bit), None)

    def allowed(self, obj: str, principal: str) -> bool:
        """Whether `principal` may access `obj`."""
        return self.policy_for(obj, principal) is not None

    def class_of(self, obj: str) -> int:
        """The class of `obj` (its position in `classes`): objects of one class are
        decided alike, so what is worked out for one holds for all of them."""
        found = self._objects.get(obj)
        if found is None:
            raise PolicyError(f"allowed sets: object {obj!r} was not among the objects evaluated")
        return int(self.object_class[found])

    def classes_of(self, objects: Iterable[str]) -> np.ndarray:
        """The class of each of `objects` (-1 for one not among the objects evaluated)."""
        at = np.fromiter((self._objects.get(o, -1) for o in objects), dtype=np.int64)
        if not len(at):
            return at
        return np.where(at >= 0, self.object_class[at], -1)

    def bits(self, obj: str) -> int:
        """The allowed principals of `obj` as one bitset (positions in `principals`)."""
        return union(bits for _, bits in self._grants(obj))

    def class_bits(self, k: int) -> int:
        """The allowed principals of the objects of class `k` (`object_class`) as one
        bitset."""
        return union(bits for _, bits in self.classes[k])

    def count(self, obj: str) -> int:
        """How many principals of the directory may access `obj`."""
        return sum(bits.bit_count() for _, bits in self._grants(obj))

    def everyone(self, obj: str) -> bool:
        """Whether every principal of the directory may access `obj`."""
        return self.count(obj) == len(self.principals)

    def principals_of(self, obj: str) -> dict[str, int]:
        """Allowed principal -> deciding policy id, in principal order (materializes the
        set: for a few objects, not for the whole catalog)."""
        pairs = sorted((i, pid) for pid, bits in self._grants(obj) for i in positions(bits))
        return {self.principals[i]: pid for i, pid in pairs}

    def rows(self, principals: Iterable[str]) -> Iterator[tuple[str, str, int]]:
        """(object, principal, policy id) for every allowed pair among `principals` (e.g.
        those seen in the logs), objects in input order, principals sorted."""
        mask = 0
        for principal in principals:
            mask |= self._bit(principal)
        per_class: dict[int, list[tuple[str, int]]] = {}
        for position, obj in enumerate(self.objects):
            k = int(self.object_class[position])
            pairs = per_class.get(k)
            if pairs is None:
                found = sorted(
                    (i, pid) for pid, bits in self.classes[k] for i in positions(bits & mask)
                )
                pairs = per_class[k] = [(self.principals[i], pid) for i, pid in found]
            for principal, pid in pairs:
                yield obj, principal, pid


def allowed_sets(
    engine: PolicyEngine,
    objects: Sequence[str] | ObjectNames,
    directory: Mapping[str, Iterable[str]] | Directory,
    at: datetime,
    access: str = "select",
    owners: Mapping[str, str] | None = None,
) -> AllowedSets:
    """Who of `directory` (principal -> groups) may `access` each `db.table` of `objects`
    at `at`, by `engine`'s policies, roles, super users and security zones; `owners`
    (object -> owner) resolves `{OWNER}` items as a request's `owner` would. `objects`
    may be given as `ObjectNames` and `directory` as a `Directory`, made once for several
    policy states."""
    if not access:
        raise PolicyError("allowed sets: give an access type such as select, not any access")
    if at.tzinfo is None:
        raise PolicyError("allowed sets: the time `at` must carry a time zone (use UTC)")
    listed = objects if isinstance(objects, ObjectNames) else ObjectNames(objects)
    names = listed.names
    people = PrincipalSets(engine, directory)
    repos, macro_zone = _repositories(engine, listed)
    notes = _item_notes(engine, access, owners is not None)
    tagged = TagSets(engine, people, at, access)
    tag_of, tag_keys = _tag_ids(tagged, names)
    keys: dict[tuple, int] = {}  # class key -> its position in `found`
    found: list[tuple[tuple, Callable[..., list[tuple[CompiledPolicy, int, int]]]]] = []
    key_of = np.full(len(names), -1, dtype=np.int64)  # each object's class key
    per_principal: set[str] = set()
    unresolved: set[str] = set()
    for repo, (policies, members) in repos.items():
        current = [p for p in policies if in_force(p, at)]
        matched = MatchedObjects(
            engine,
            current,
            listed if len(members) == len(names) else listed.subset(members),
            access,
            people,
            [owners.get(names[i]) for i in members] if owners else [None] * len(members),
        )
        owner_at = [people.index.get(owners.get(names[i], "")) for i in members] if owners else None
        local, classed = matched.classes(owner_at)
        at_members = np.asarray(members, dtype=np.int64)
        combined = local * len(tag_keys) + tag_of[at_members]
        distinct, inverse = np.unique(combined, return_inverse=True)
        position = np.empty(len(distinct), dtype=np.int64)
        for j, code in enumerate(distinct.tolist()):
            key, steps = classed[code // len(tag_keys)]
            full = (repo, tag_keys[code % len(tag_keys)], *key)
            k = keys.get(full)
            if k is None:
                k = keys[full] = len(found)
                found.append((full, steps))
            position[j] = k
        key_of[at_members] = position[inverse.ravel()]
        per_principal |= matched.per_principal
        unresolved |= matched.unresolved
    if per_principal:
        notes.append(
            f"policies {_ids(per_principal)}: {USER_MACRO} in their resources is matched "
            "per principal"
        )
    for index in sorted(macro_zone):  # each decided per request, a class of its own
        key_of[index] = len(found)
        found.append((("per request", names[index]), lambda lean: []))
    grants: list[Grants] = []
    extra: list[Grants] = []  # per class: allowed only if conditions hold
    shared: dict[int, int] = {}
    # classes are numbered in the order their first object comes
    distinct, first, inverse = np.unique(key_of, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    number = np.empty(len(distinct), dtype=np.int32)
    number[order] = np.arange(len(distinct), dtype=np.int32)
    object_class = number[inverse.ravel()] if len(names) else np.empty(0, dtype=np.int32)
    for j in order.tolist():
        key, steps = found[int(distinct[j])]
        index = int(first[j])
        if index in macro_zone:
            obj = names[index]
            decided = _per_request(engine, obj, people, at, access, owners, LEAN_DENY)
            maybe = _per_request(engine, obj, people, at, access, owners, LEAN_ALLOW)
        else:
            decided = _class_decision(key, steps, tagged, people, LEAN_DENY)
            maybe = _class_decision(key, steps, tagged, people, LEAN_ALLOW, decided)
        grants.append(tuple((pid, shared.setdefault(bits, bits)) for pid, bits in decided))
        surely = union(bits for _, bits in decided)
        extra.append(
            tuple(
                (pid, shared.setdefault(bits & ~surely, bits & ~surely))
                for pid, bits in maybe
                if bits & ~surely
            )
        )
    if tagged.conditional():
        notes.append(
            f"tag policies {_ids(tagged.conditional())}: conditions are decided per request; "
            f"{CONDITIONAL_NOTE}"
        )
    if unresolved:
        notes.append(
            f"resource values {', '.join(sorted(unresolved))}: their request expressions read "
            "user attributes not given; here they match no one"
        )
    if macro_zone:
        notes.append(
            f"{len(macro_zone)} objects evaluated per request: a security zone names "
            f"{USER_MACRO} in its resources"
        )
    return AllowedSets(
        objects=names,
        principals=people.names,
        access=access,
        classes=tuple(grants),
        object_class=object_class,
        notes=tuple(notes),
        conditional_classes=tuple(extra),
        _objects=listed.index,
        _principals=people.index,
    )


def _repositories(
    engine: PolicyEngine, objects: ObjectNames
) -> tuple[dict[str | None, tuple[list[CompiledPolicy], Sequence[int]]], set[int]]:
    """Objects by the policy repository that decides them (the service's, or one security
    zone's), and the objects that need per-request evaluation (zone named by `{USER}`)."""
    repos: dict[str | None, tuple[list[CompiledPolicy], Sequence[int]]] = {}
    macro_zone: set[int] = set()
    if not engine.zones:  # the service's policies decide every object
        return {None: (engine.policies, np.arange(len(objects)))}, macro_zone
    macro = any(
        user_dependent(m) for specs, _ in engine.zones.values() for s in specs for m in s.values()
    )
    for i, (db, table) in enumerate(objects.split):
        if macro:
            macro_zone.add(i)
            continue
        zones = _zones(engine, db, table)
        name = zones[0] if len(zones) == 1 else None
        policies = engine.zones[name][1] if name is not None else engine.policies
        repos.setdefault(name, (policies, []))[1].append(i)
    return repos, macro_zone


def _zones(engine: PolicyEngine, db: str, table: str) -> list[str]:
    """The security zones containing a table (as `PolicyEngine._in_zone` decides for a
    specific access: a zone naming something below the table does not contain it)."""
    chain = set(table_chain(engine)) if engine.zones else set()
    resource = {"database": db, "table": table}
    found = []
    for name, (specs, _) in engine.zones.items():
        for spec in specs:
            if set(spec) <= chain and all(
                m.matches(resource[level]) if level in resource else m.matches_all
                for level, m in spec.items()
            ):
                found.append(name)
                break
    return found


def _tag_ids(tagged: TagSets, names: Sequence[str]) -> tuple[np.ndarray, list[tuple]]:
    """Each object's tag key (`TagSets.keys`) as a position in the list of distinct keys
    returned beside it (one empty key when no tag policy applies)."""
    if not tagged.active:
        return np.zeros(len(names), dtype=np.int64), [()]
    ids: dict[tuple, int] = {}
    of = np.fromiter(
        (ids.setdefault(k, len(ids)) for k in tagged.keys(names)), dtype=np.int64, count=len(names)
    )
    return of, list(ids) or [()]


def _class_decision(
    key: tuple,
    steps: Callable[..., list[tuple[CompiledPolicy, int, int]]],
    tagged: TagSets,
    people: PrincipalSets,
    lean: str,
    unless_plain: list[tuple[int, int]] | None = None,
) -> list[tuple[int, int]]:
    """A class's (policy id, principals allowed), conditions taken as `lean` says;
    `unless_plain` when no policy of the class has conditions (the answer is the same)."""
    own = steps(lean)
    tag_steps = tagged.steps(key[1], key[0], lean) if key[1] else []
    if unless_plain is not None:
        other = LEAN_ALLOW if lean == LEAN_DENY else LEAN_DENY  # a policy may show in one only
        other_tags = tagged.steps(key[1], key[0], other) if key[1] else []
        if not _conditional(own, tag_steps, steps(other), other_tags):
            return unless_plain
    if key[1]:
        return decide_tagged(own, tag_steps, people.everyone, people.super)
    return decide(own, people.everyone, people.super)


def _conditional(*step_lists: list[tuple[CompiledPolicy, int, int]]) -> bool:
    """Whether a policy of the steps has conditions (of its own or on an item)."""
    return any(
        policy.conditions or any(i.conditional for i in all_items(policy))
        for steps in step_lists
        for policy, _, _ in steps
    )


def _per_request(
    engine: PolicyEngine,
    obj: str,
    people: PrincipalSets,
    at: datetime,
    access: str,
    owners: Mapping[str, str] | None,
    lean: str,
) -> list[tuple[int, int]]:
    """The fallback: one `PolicyEngine.evaluate` per principal, undecidable conditions
    taken as `lean` says."""
    db, table = split_object(obj)
    decided: dict[int, int] = {}
    for i, name in enumerate(people.names):
        decision = engine.evaluate(
            AccessRequest(
                resource={"database": db, "table": table},
                access_type=access,
                user=name,
                groups=people.groups_of[name],
                time=at,
                owner=(owners or {}).get(obj),
            ),
            lean=lean,
        )
        if decision.allowed:
            pid = NO_POLICY if decision.policy_id is None else decision.policy_id
            decided[pid] = decided.get(pid, 0) | 1 << i
    return sorted(decided.items())


def _item_notes(engine: PolicyEngine, access: str, owners_known: bool) -> list[str]:
    """What the decisions assume about items the logs cannot decide."""
    every = engine.policies + [p for _, ps in engine.zones.values() for p in ps]
    conditional = {str(p.id) for p in every for i in all_items(p) if i.conditional}
    gated = {str(p.id) for p in every if p.conditions}
    owner = {str(p.id) for p in every if names_owner(p)}
    notes = []
    if conditional:
        notes.append(
            f"policies {_ids(conditional)}: items with conditions (decided per request; "
            f"PolicyEngine reports those it cannot decide as undecidable): {CONDITIONAL_NOTE}"
        )
    if gated:
        notes.append(
            f"policies {_ids(gated)}: policy conditions are decided per request; here the "
            "policies only deny (as if the conditions held), and what they would allow is "
            "a conditional grant"
        )
    if owner:
        whom = "each object's given owner" if owners_known else "no one (owners not given)"
        notes.append(f"policies {_ids(owner)}: {OWNER_MACRO} items match {whom}")
    return notes


def _ids(ids: Iterable[str]) -> str:
    return ", ".join(sorted(ids, key=lambda s: (len(s), s)))


__all__ = ["AllowedSets", "allowed_sets"]
