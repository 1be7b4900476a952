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
    PUBLIC_GROUP,
    USER_MACRO,
    CompiledPolicy,
    Item,
    in_force,
)
from forensics.policy.conditions import Undecidable
from forensics.policy.engine import PolicyEngine
from forensics.policy.matchers import OWNER_TOKEN, USER_TOKEN, ResourceMatcher
from forensics.policy.request import AccessRequest
from forensics.policy.servicedef import ResourceDef

LEVELS = ("database", "table")
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
        return [self.principals[int(i)] for i in _positions(bits)]

    def grants(self, obj: str) -> Grants:
        """(deciding policy id, bitset of the principals it allows) for `obj`: what a
        window needs to name the policies letting in people outside the baseline."""
        return self._grants(obj)

    def policy_for(self, obj: str, principal: str) -> int | None:
        """The policy that lets `principal` access `obj` (-1: a super user); None: denied."""
        bit = self._bit(principal)
        return next((pid for pid, bits in self._grants(obj) if bits & bit), None)

    def allowed(self, obj: str, principal: str) -> bool:
        """Whether `principal` may access `obj`."""
        return self.policy_for(obj, principal) is not None

    def bits(self, obj: str) -> int:
        """The allowed principals of `obj` as one bitset (positions in `principals`)."""
        return _union(bits for _, bits in self._grants(obj))

    def class_bits(self, k: int) -> int:
        """The allowed principals of the objects of class `k` (`object_class`) as one
        bitset."""
        return _union(bits for _, bits in self.classes[k])

    def count(self, obj: str) -> int:
        """How many principals of the directory may access `obj`."""
        return sum(bits.bit_count() for _, bits in self._grants(obj))

    def everyone(self, obj: str) -> bool:
        """Whether every principal of the directory may access `obj`."""
        return self.count(obj) == len(self.principals)

    def principals_of(self, obj: str) -> dict[str, int]:
        """Allowed principal -> deciding policy id, in principal order (materializes the
        set: for a few objects, not for the whole catalog)."""
        pairs = sorted((i, pid) for pid, bits in self._grants(obj) for i in _positions(bits))
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
                    (i, pid) for pid, bits in self.classes[k] for i in _positions(bits & mask)
                )
                pairs = per_class[k] = [(self.principals[i], pid) for i, pid in found]
            for principal, pid in pairs:
                yield obj, principal, pid


def allowed_sets(
    engine: PolicyEngine,
    objects: Sequence[str],
    directory: Mapping[str, Iterable[str]],
    at: datetime,
    access: str = "select",
    owners: Mapping[str, str] | None = None,
) -> AllowedSets:
    """Who of `directory` (principal -> groups) may `access` each `db.table` of `objects`
    at `at`, by `engine`'s policies, roles, super users and security zones; `owners`
    (object -> owner) resolves `{OWNER}` items as a request's `owner` would."""
    if not access:
        raise PolicyError("allowed sets: give an access type such as select, not any access")
    if at.tzinfo is None:
        raise PolicyError("allowed sets: the time `at` must carry a time zone (use UTC)")
    names = tuple(dict.fromkeys(objects))
    people = _People(engine, directory)
    repos, macro_zone = _repositories(engine, names)
    notes = _item_notes(engine, access, owners is not None)
    keys: list[tuple] = [()] * len(names)
    tagged = _Tagged(engine, people, at, access)
    steps_of: dict[tuple, Callable[[], list[tuple[CompiledPolicy, int, int]]]] = {}
    per_principal: set[str] = set()
    unresolved: set[str] = set()
    tag_keys = tagged.keys(names)
    for repo, (policies, members) in repos.items():
        current = [p for p in policies if in_force(p, at)]
        matched = _Matched(
            engine,
            current,
            [names[i] for i in members],
            access,
            people,
            [(owners or {}).get(names[i]) for i in members],
        )
        for local, index in enumerate(members):
            obj = names[index]
            owner = people.index.get((owners or {}).get(obj, "")) if owners else None
            key, steps = matched.class_of(local, owner)
            keys[index] = (repo, tag_keys[index], *key)
            steps_of.setdefault(keys[index], steps)
        per_principal |= matched.per_principal
        unresolved |= matched.unresolved
    if per_principal:
        notes.append(
            f"policies {_ids(per_principal)}: {USER_MACRO} in their resources is matched "
            "per principal"
        )
    classes: dict[tuple, int] = {}
    grants: list[Grants] = []
    shared: dict[int, int] = {}
    object_class = np.empty(len(names), dtype=np.int32)
    for index, obj in enumerate(names):
        if index in macro_zone:
            key: tuple = ("per request", obj)
        else:
            key = keys[index]
        k = classes.get(key)
        if k is None:
            if index in macro_zone:
                decided = _per_request(engine, obj, people, at, access, owners)
            elif key[1]:
                steps = steps_of[key]()
                tag_steps = tagged.steps(key[1], key[0])
                decided = _decide_tagged(steps, tag_steps, people.everyone, people.super)
            else:
                decided = _decide(steps_of[key](), people.everyone, people.super)
            k = classes[key] = len(grants)
            grants.append(tuple((pid, shared.setdefault(bits, bits)) for pid, bits in decided))
        object_class[index] = k
    notes += tagged.notes()
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
        _objects={obj: i for i, obj in enumerate(names)},
        _principals=people.index,
    )


class _Tagged:
    """The tag policies for `allowed_sets`: each object's tags (from the engine's
    ServiceTags, valid at `at`, on the table or above it) as a class key, and the tag
    policies' steps for a set of tags, as `PolicyEngine._decide_tags` orders them."""

    def __init__(self, engine: PolicyEngine, people: _People, at: datetime, access: str):
        self.engine, self.people, self.at, self.access = engine, people, at, access
        self.active = engine.tag_engine is not None and engine.service_tags is not None
        self._steps: dict[tuple, list[tuple[CompiledPolicy, int, int]]] = {}
        self._conditional: set[str] = set()

    def keys(self, objects: Sequence[str]) -> list[tuple]:
        """Each object's tags that a table request sees (type and attributes), sorted:
        tags on its database (inherited) or on the table itself, matched in bulk as
        policies are (`ServiceTags.tags_of` per object gives the same)."""
        if not self.active:
            return [()] * len(objects)
        assert self.engine.service_tags is not None
        split = [_split(obj) for obj in objects]
        dbs = _Names(sorted({db for db, _ in split}))
        tables = _Names(sorted({t for _, t in split}))
        db_pos = {name: i for i, name in enumerate(dbs.names)}
        table_pos = {name: i for i, name in enumerate(tables.names)}
        by_db: list[list[int]] = [[] for _ in dbs.names]
        for i, (db, _) in enumerate(split):
            by_db[db_pos[db]].append(i)
        found: list[set[tuple]] = [set() for _ in objects]
        for tagged in self.engine.service_tags.resources:
            levels = set(tagged.matchers)
            if not levels or not levels <= set(LEVELS) or "database" not in levels:
                continue  # other resources, or a column: not seen by a table request
            tags = {
                (t.tag.type, tuple(sorted(t.tag.attributes.items())))
                for t in tagged.tags
                if t.applies(self.at)
            }
            if not tags:
                continue
            in_dbs = _included(dbs, tagged.matchers["database"])
            in_tables = _included(tables, tagged.matchers["table"]) if "table" in levels else None
            pool = range(len(split)) if in_dbs is None else [i for d in in_dbs for i in by_db[d]]
            for i in pool:
                if in_tables is None or table_pos[split[i][1]] in in_tables:
                    found[i] |= tags
        return [tuple(sorted(f)) for f in found]

    def steps(self, key: tuple, zone: str | None) -> list[tuple[CompiledPolicy, int, int]]:
        """(tag policy, allowed, denied) per (tag, policy on its type), in order."""
        found = self._steps.get((key, zone))
        if found is not None:
            return found
        tagger = self.engine.tag_engine
        assert tagger is not None
        zoned = [p for p in tagger.policies if p.zone == zone]
        pool = zoned if zone is not None and zoned else [p for p in tagger.policies if not p.zone]
        pairs = []
        for kind, _ in key:
            for policy in pool:
                if not in_force(policy, self.at) or not any(
                    m.get("tag") is not None and m["tag"].matches(kind)
                    for m in policy.resource_sets
                ):
                    continue
                if policy.conditions or any(i.conditional for i in _all_items(policy)):
                    self._conditional.add(str(policy.id))
                if policy.conditions:
                    continue
                pairs.append(policy)
        pairs.sort(key=lambda p: (-p.priority, not p.has_deny, p.eval_order, p.name))
        found = self._steps[(key, zone)] = [
            (p, *self.people.verdict(p, self.access, None)) for p in pairs
        ]
        return found

    def notes(self) -> list[str]:
        """What the tag policies' sets assume."""
        if not self._conditional:
            return []
        return [
            f"tag policies {_ids(self._conditional)}: conditions are decided per request; "
            "here conditional items match no one"
        ]


class _People:
    """The directory as bitsets: everyone, each group, each role, the super users."""

    def __init__(self, engine: PolicyEngine, directory: Mapping[str, Iterable[str]]) -> None:
        self.names = tuple(sorted(directory))
        self.index = {name: i for i, name in enumerate(self.names)}
        self.groups_of = {name: frozenset(directory[name]) for name in self.names}
        self.everyone = (1 << len(self.names)) - 1
        members: dict[str, list[int]] = {}
        for name, groups in self.groups_of.items():
            for group in groups:
                members.setdefault(group, []).append(self.index[name])
        self.group = {g: _bitset(ix, len(self.names)) for g, ix in members.items()}
        self.role = {
            role: _union(self.user(m) | self.group.get(m, 0) for m in names)
            for role, names in engine.role_members.items()
        }
        self.super = _union(self.user(u) for u in engine.super_users) | _union(
            self.group.get(g, 0) for g in engine.super_groups
        )
        self._plain: dict[str, list[int]] | None = None
        self._odd: list[int] = []

    def named_by(self, value: str, name: str, res: ResourceDef) -> Iterable[int]:
        """Principals that may make a policy value with `{USER}` match `name`: all of
        them, or for a value like `home_{USER}` (no wildcard besides the macro) only those
        whose name is what the value leaves of `name`, plus names Ranger would not read
        literally (wildcards, non-ASCII). The caller checks each with the matcher."""
        parts = value.split(f"{res.token_start}{res.token_prefix}{USER_TOKEN}{res.token_end}")
        plain = res.ignore_case and not res.is_path and name.isascii() and value.isascii()
        other = any(res.token_start in p or res.token_escape in p for p in parts)
        if len(parts) != 2 or not plain or other or any(c in value for c in "*?"):
            return range(len(self.names))
        if self._plain is None:
            self._plain, self._odd = {}, []
            for i, user in enumerate(self.names):
                if user.isascii() and not any(c in user for c in "*?"):
                    self._plain.setdefault(user.lower(), []).append(i)
                else:
                    self._odd.append(i)
        head, tail = parts[0].lower(), parts[1].lower()
        low = name.lower()
        found = list(self._odd)
        if len(low) >= len(head) + len(tail) and low.startswith(head) and low.endswith(tail):
            found += self._plain.get(low[len(head) : len(low) - len(tail)], [])
        return found

    def user(self, name: str) -> int:
        """The bit of a principal named `name`, 0 when the directory has none."""
        found = self.index.get(name)
        return 0 if found is None else 1 << found

    def item(self, item: Item, access: str, owner: int | None) -> int:
        """Who an item names for `access` (as `Item.applies_to` decides it)."""
        if item.conditional or access not in item.accesses:
            return 0
        if USER_MACRO in item.users or PUBLIC_GROUP in item.groups:
            return self.everyone
        bits = _union(self.user(u) for u in item.users)
        bits |= _union(self.group.get(g, 0) for g in item.groups)
        bits |= _union(self.role.get(r, 0) for r in item.roles)
        if owner is not None and OWNER_MACRO in item.users:
            bits |= 1 << owner
        return bits

    def verdict(self, policy: CompiledPolicy, access: str, owner: int | None) -> tuple[int, int]:
        """(allowed, denied) by this policy alone; everyone else: the policy says nothing."""

        def named(items: list[Item]) -> int:
            return _union(self.item(i, access, owner) for i in items)

        deny = named(policy.deny) & ~named(policy.deny_exceptions)
        allow = named(policy.allow) & ~named(policy.allow_exceptions) & ~deny
        if policy.deny_all_else:
            deny = self.everyone & ~allow
        return allow, deny


class _Names:
    """Names (databases, or tables) indexed for matching policy values against them."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.exact: dict[str, list[int]] = {}
        self.folded: dict[str, list[int]] = {}
        self.odd: list[int] = []  # not ASCII: Unicode case rules, matched by regex
        for i, name in enumerate(self.names):
            self.exact.setdefault(name, []).append(i)
            if name.isascii():
                self.folded.setdefault(name.lower(), []).append(i)
            else:
                self.odd.append(i)

    def found(self, matcher: ResourceMatcher) -> set[int] | None:
        """Positions of names one of the matcher's values matches (before `isExcludes`);
        None: all of them. Values with `{USER}` are left to the caller."""
        res = matcher.resource
        hits: set[int] = set()
        for value in matcher.values:
            if value == "*" and res.wildcard:
                return None
            one = ResourceMatcher(res, (value,), False, matcher.recursive)
            literal = not res.is_path and not (res.wildcard and ("*" in value or "?" in value))
            if literal and not res.ignore_case:
                hits.update(self.exact.get(value, ()))
            elif literal and value.isascii():
                hits.update(self.folded.get(value.lower(), ()))
                hits.update(i for i in self.odd if one.matches(self.names[i]))
            else:
                hits.update(i for i, name in enumerate(self.names) if one.matches(name))
        return hits


def _user_dependent(matcher: ResourceMatcher) -> bool:
    return matcher.has_token(USER_TOKEN)


class _Matched:
    """One policy repository's policies matched against its objects, and their classes."""

    def __init__(
        self,
        engine: PolicyEngine,
        policies: list[CompiledPolicy],
        objects: list[str],
        access: str,
        people: _People,
        owners: list[str | None],
    ) -> None:
        self.people = people
        self.access = access
        self.owners = owners  # each object's owner, for `{OWNER}` in resource values
        self.split = [_split(obj) for obj in objects]
        self.policies = policies
        dbs = _Names(sorted({db for db, _ in self.split}))
        db_pos = {name: i for i, name in enumerate(dbs.names)}
        tables = _Names(sorted({t for _, t in self.split}))
        table_pos = {name: i for i, name in enumerate(tables.names)}
        by_db: list[list[int]] = [[] for _ in dbs.names]
        by_table: list[list[int]] = [[] for _ in tables.names]
        for i, (db, table) in enumerate(self.split):
            by_db[db_pos[db]].append(i)
            by_table[table_pos[table]].append(i)
        self.applicable: list[list[int]] = [[] for _ in objects]
        #: (policy, resource set) -> its levels with `{USER}` values, matched per principal
        self.user_levels: dict[tuple[int, int], list[str]] = {}
        #: (object, policy) -> the resource sets matching it, for policies with `{USER}`
        self.sets_of: dict[tuple[int, int], list[int]] = {}
        self.per_principal: set[str] = set()
        chain = _chain(engine)
        for p, policy in enumerate(policies):
            if not policy.has_items or policy.conditions:
                continue
            chosen_any: set[int] = set()
            for k, matchers in enumerate(policy.resource_sets):  # additionalResources too
                if not _covers_tables(matchers, chain):
                    continue
                levels = [lv for lv in LEVELS if _user_dependent(matchers[lv])]
                if levels:
                    self.user_levels[(p, k)] = levels
                    self.per_principal.add(str(policy.id))
                dbm, tbm = matchers["database"], matchers["table"]
                by_owner = "database" not in levels and dbm.has_token(OWNER_TOKEN)
                in_dbs = None if "database" in levels or by_owner else _included(dbs, dbm)
                candidates = (
                    range(len(objects))
                    if in_dbs is None
                    else [i for d in sorted(in_dbs) for i in by_db[d]]
                )
                if by_owner:  # `{OWNER}`: each object's own owner decides
                    candidates = [
                        i for i in candidates if dbm.matches(self.split[i][0], "", owners[i])
                    ]
                if "table" in levels:
                    chosen = list(candidates)
                elif tbm.has_token(OWNER_TOKEN):
                    chosen = [i for i in candidates if tbm.matches(self.split[i][1], "", owners[i])]
                else:
                    chosen = _tables(tables, tbm, by_table, candidates, self.split, len(objects))
                chosen_any.update(chosen)
                for i in chosen:
                    self.sets_of.setdefault((i, p), []).append(k)
            for i in sorted(chosen_any):
                self.applicable[i].append(p)
            if not any(key[0] == p for key in self.user_levels):
                for i in chosen_any:
                    del self.sets_of[(i, p)]
        self.unresolved: set[str] = set()  # resource values with unresolvable expressions
        self._verdicts: dict[int, tuple[int, int]] = {}
        self._masks: dict[tuple[int, int, str, str, str | None], int] = {}
        self._plain: dict[tuple[int, ...], tuple[tuple, Callable]] = {}

    def class_of(
        self, i: int, owner: int | None
    ) -> tuple[tuple, Callable[[], list[tuple[CompiledPolicy, int, int]]]]:
        """The class key of object `i` (what decides it) and how to build its steps."""
        if not self.user_levels and owner is None:  # the applicable policies alone decide
            applicable = tuple(self.applicable[i])
            found = self._plain.get(applicable)
            if found is None:
                found = self._plain[applicable] = self._class(i, None)
            return found
        return self._class(i, owner)

    def _class(
        self, i: int, owner: int | None
    ) -> tuple[tuple, Callable[[], list[tuple[CompiledPolicy, int, int]]]]:
        db, table = self.split[i]
        parts: list[tuple[int, int]] = []
        for p in self.applicable[i]:
            sets = self.sets_of.get((i, p))
            mask = -1 if sets is None else 0
            for k in sets or ():  # any matching resource set lets the policy apply
                one = -1
                for level in self.user_levels.get((p, k), ()):
                    name = db if level == "database" else table
                    one &= self._mask(p, k, level, name, self.owners[i])
                mask |= one
            if mask:
                parts.append((p, mask))
        uses_owner = owner is not None and any(_names_owner(self.policies[p]) for p, _ in parts)
        key = (tuple(parts), owner if uses_owner else None)

        def steps() -> list[tuple[CompiledPolicy, int, int]]:
            built = []
            for p, mask in parts:
                allow, deny = self._verdict(p, key[1])
                if (allow | deny) & mask:
                    built.append((self.policies[p], allow & mask, deny & mask))
            return built

        return key, steps

    def _verdict(self, p: int, owner: int | None) -> tuple[int, int]:
        if owner is not None and _names_owner(self.policies[p]):
            return self.people.verdict(self.policies[p], self.access, owner)
        found = self._verdicts.get(p)
        if found is None:
            found = self._verdicts[p] = self.people.verdict(self.policies[p], self.access, None)
        return found

    def _mask(self, p: int, k: int, level: str, name: str, owner: str | None) -> int:
        """Principals for whom a `{USER}` value of policy `p`'s resource set `k` matches
        `name` (of an object owned by `owner`)."""
        key = (p, k, level, name, owner)
        found = self._masks.get(key)
        if found is None:
            matcher = self.policies[p].resource_sets[k][level]
            hits: set[int] = set()
            for value in matcher.values:
                one = ResourceMatcher(matcher.resource, (value,), False, matcher.recursive)
                if not one.has_token(USER_TOKEN):
                    every = range(len(self.people.names))
                    hits.update(every if one.matches(name, "", owner) else ())
                    continue
                hits.update(
                    i
                    for i in self.people.named_by(value, name, one.resource)
                    if _matches_or_not(one, name, self.people.names[i], owner, self.unresolved)
                )
            bits = _bitset(sorted(hits), len(self.people.names))
            found = self._masks[key] = self.people.everyone & ~bits if matcher.excludes else bits
        return found


def _matches_or_not(
    matcher: ResourceMatcher, name: str, user: str, owner: str | None, unresolved: set[str]
) -> bool:
    """`matcher.matches`; a request expression the directory cannot resolve (a user
    attribute) matches no one here, and `unresolved` keeps the value for the notes."""
    try:
        return matcher.matches(name, user, owner)
    except Undecidable:
        unresolved.update(matcher.values)
        return False


def _included(names: _Names, matcher: ResourceMatcher) -> set[int] | None:
    """Positions of names the matcher covers, `isExcludes` applied; None: all."""
    found = names.found(matcher)
    if not matcher.excludes:
        return found
    return set() if found is None else set(range(len(names.names))) - found


def _tables(
    tables: _Names,
    matcher: ResourceMatcher,
    by_table: list[list[int]],
    candidates: Iterable[int],
    split: list[tuple[str, str]],
    total: int,
) -> list[int]:
    """Objects among `candidates` whose table the matcher covers. Literal values are
    looked up; wildcards are tested once per distinct table name, or per candidate when
    the policy reaches few databases."""
    pool = list(candidates)
    wild = matcher.resource.wildcard and any(
        ("*" in v or "?" in v) and v != "*" for v in matcher.values
    )
    if wild and len(pool) < len(tables.names):
        return [i for i in pool if matcher.matches(split[i][1])]
    found = tables.found(matcher)
    if found is None:
        return [] if matcher.excludes else pool
    hit = np.zeros(total, dtype=bool)
    for t in found:
        hit[by_table[t]] = True
    return [i for i in pool if hit[i] != matcher.excludes]


def _chain(engine: PolicyEngine) -> tuple[str, ...]:
    """The resource hierarchy a `db.table` request falls in (Hive: database > table >
    column), as `PolicyEngine.match_type` picks it."""
    chain = next((h for h in engine.hierarchies if set(LEVELS) <= set(h)), None)
    if chain is None or set(chain[: len(LEVELS)]) != set(LEVELS):
        raise PolicyError(
            "allowed sets: the service definition has no database > table hierarchy; "
            "give the Hive service definition"
        )
    return chain


def _covers_tables(matchers: Mapping[str, ResourceMatcher], chain: tuple[str, ...]) -> bool:
    """Whether a policy's resource set can apply to a table request at all: it names
    database and table, nothing outside the chain, and below the table only `*` (a
    policy naming some columns counts for "any access" only, as `match_type` says)."""
    if not matchers or not set(matchers) <= set(chain):
        return False
    if any(level not in matchers for level in LEVELS):
        return False
    return all(m.matches_all for level, m in matchers.items() if level not in LEVELS)


def _names_owner(policy: CompiledPolicy) -> bool:
    items = policy.allow + policy.allow_exceptions + policy.deny + policy.deny_exceptions
    return any(OWNER_MACRO in item.users for item in items)


def _decide(
    steps: list[tuple[CompiledPolicy, int, int]], everyone: int, supers: int
) -> list[tuple[int, int]]:
    """Apply the policies of one class in the engine's order to everyone at once: the
    first deny ends a principal's evaluation, the first allow names the policy, and
    deny-capable policies of the allowing policy's priority may still deny."""
    decided, _ = _apply(steps, everyone & ~supers)
    if supers:
        decided[NO_POLICY] = decided.get(NO_POLICY, 0) | supers
    return sorted((pid, bits) for pid, bits in decided.items() if bits)


def _apply(
    steps: list[tuple[CompiledPolicy, int, int]], everyone: int
) -> tuple[dict[int, int], int]:
    """(policy id -> the principals it allows, principals no policy decided) for the
    principals `everyone`, by `_decide`'s rules."""
    decided: dict[int, int] = {}
    undecided = everyone
    active: list[tuple[CompiledPolicy, int]] = []
    for policy, allow, deny in steps:
        still = []
        for by, bits in active:
            if policy.priority < by.priority or not policy.has_deny:
                decided[by.id] = decided.get(by.id, 0) | bits
            elif bits & ~deny:
                still.append((by, bits & ~deny))
        active = still
        undecided &= ~deny
        granted = undecided & allow
        if granted:
            active.append((policy, granted))
            undecided &= ~granted
        if not undecided and not active:
            break
    for by, bits in active:
        decided[by.id] = decided.get(by.id, 0) | bits
    return decided, undecided


def _tag_outcomes(
    tag_steps: list[tuple[CompiledPolicy, int, int]], everyone: int
) -> tuple[list[tuple[CompiledPolicy, int]], list[tuple[CompiledPolicy, int]], int]:
    """The tag policies' answers for everyone at once (`PolicyEngine._decide_tags`):
    (denying policy, principals), (allowing policy, principals), and the principals
    the tag policies leave to the resource policies."""
    denied: list[tuple[CompiledPolicy, int]] = []
    allowed: list[tuple[CompiledPolicy, int]] = []
    open_ = everyone  # neither denied nor finally allowed yet
    pending = 0  # allowed by a deny-capable policy: a later deny still wins
    for policy, allow, deny in tag_steps:
        hit = open_ & deny
        if hit:
            denied.append((policy, hit))
            allowed = [(p, bits & ~hit) for p, bits in allowed]
            open_ &= ~hit
            pending &= ~hit
        first = open_ & allow & ~pending
        if first:
            allowed.append((policy, first))
            pending |= first
        if not policy.has_deny:
            open_ &= ~(allow & pending)
    return denied, [(p, b) for p, b in allowed if b], open_ & ~pending


def _decide_tagged(
    steps: list[tuple[CompiledPolicy, int, int]],
    tag_steps: list[tuple[CompiledPolicy, int, int]],
    everyone: int,
    supers: int,
) -> list[tuple[int, int]]:
    """`_decide` after the tag policies (`PolicyEngine._after_tags`): a tag deny stands
    unless a resource policy of higher priority decides; a tag allow stands unless one of
    the same or higher priority denies, and stays named when one allows too."""
    denied, allowed, rest = _tag_outcomes(tag_steps, everyone & ~supers)
    decided, _ = _apply(steps, rest)
    for policy, bits in denied:
        above = [st for st in steps if st[0].priority > policy.priority]
        for pid, got in _apply(above, bits)[0].items():
            decided[pid] = decided.get(pid, 0) | got
    for policy, bits in allowed:
        above = [st for st in steps if st[0].priority >= policy.priority]
        got, undecided = _apply(above, bits)
        kept = undecided | _union(got.values())
        decided[policy.id] = decided.get(policy.id, 0) | kept
    if supers:
        decided[NO_POLICY] = decided.get(NO_POLICY, 0) | supers
    return sorted((pid, bits) for pid, bits in decided.items() if bits)


def _repositories(
    engine: PolicyEngine, objects: tuple[str, ...]
) -> tuple[dict[str | None, tuple[list[CompiledPolicy], list[int]]], set[int]]:
    """Objects by the policy repository that decides them (the service's, or one security
    zone's), and the objects that need per-request evaluation (zone named by `{USER}`)."""
    repos: dict[str | None, tuple[list[CompiledPolicy], list[int]]] = {}
    macro_zone: set[int] = set()
    if not engine.zones:  # the service's policies decide every object
        for obj in objects:
            _split(obj)
        return {None: (engine.policies, list(range(len(objects))))}, macro_zone
    macro = any(
        _user_dependent(m) for specs, _ in engine.zones.values() for s in specs for m in s.values()
    )
    for i, obj in enumerate(objects):
        db, table = _split(obj)
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
    chain = set(_chain(engine)) if engine.zones else set()
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


def _per_request(
    engine: PolicyEngine,
    obj: str,
    people: _People,
    at: datetime,
    access: str,
    owners: Mapping[str, str] | None,
) -> list[tuple[int, int]]:
    """The fallback: one `PolicyEngine.evaluate` per principal."""
    db, table = _split(obj)
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
            )
        )
        if decision.allowed:
            pid = NO_POLICY if decision.policy_id is None else decision.policy_id
            decided[pid] = decided.get(pid, 0) | 1 << i
    return sorted(decided.items())


def _item_notes(engine: PolicyEngine, access: str, owners_known: bool) -> list[str]:
    """What the decisions assume about items the logs cannot decide."""
    every = engine.policies + [p for _, ps in engine.zones.values() for p in ps]
    conditional = {str(p.id) for p in every for i in _all_items(p) if i.conditional}
    gated = {str(p.id) for p in every if p.conditions}
    owner = {str(p.id) for p in every if _names_owner(p)}
    notes = []
    if conditional:
        notes.append(
            f"policies {_ids(conditional)}: items with conditions match no one here "
            "(conditions are decided per request; PolicyEngine reports those it cannot "
            "decide as undecidable)"
        )
    if gated:
        notes.append(
            f"policies {_ids(gated)}: policy conditions are decided per request; here the "
            "policies apply to no one"
        )
    if owner:
        whom = "each object's given owner" if owners_known else "no one (owners not given)"
        notes.append(f"policies {_ids(owner)}: {OWNER_MACRO} items match {whom}")
    return notes


def _all_items(policy: CompiledPolicy) -> list[Item]:
    return policy.allow + policy.allow_exceptions + policy.deny + policy.deny_exceptions


def _ids(ids: Iterable[str]) -> str:
    return ", ".join(sorted(ids, key=lambda s: (len(s), s)))


def _split(obj: str) -> tuple[str, str]:
    """`db.table` -> (db, table); the table part may itself hold dots."""
    db, _, table = obj.partition(".")
    if not db or not table:
        raise PolicyError(f"allowed sets: object {obj!r} is not a db.table name")
    return db, table


def _bitset(indices: Sequence[int], size: int) -> int:
    """A bitset with the given bit positions set."""
    if not len(indices):
        return 0
    positions = np.asarray(indices, dtype=np.int64)
    buffer = np.zeros((size + 7) // 8, dtype=np.uint8)
    np.bitwise_or.at(buffer, positions >> 3, (1 << (positions & 7)).astype(np.uint8))
    return int.from_bytes(buffer.tobytes(), "little")


def _positions(bits: int) -> np.ndarray:
    """The positions of the set bits, ascending."""
    if not bits:
        return np.empty(0, dtype=np.int64)
    raw = np.frombuffer(bits.to_bytes((bits.bit_length() + 7) // 8, "little"), dtype=np.uint8)
    return np.flatnonzero(np.unpackbits(raw, bitorder="little"))


def _union(parts: Iterable[int]) -> int:
    total = 0
    for part in parts:
        total |= part
    return total


__all__ = ["AllowedSets", "allowed_sets"]
