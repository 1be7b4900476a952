"""Objects grouped into classes by the policies that apply to them, for `allowed_sets`.

Each policy's resources are matched once against all objects (names indexed per database,
literal values looked up, wildcards tested once per distinct name); objects with the same
applicable policies (and the same owner when an `{OWNER}` item is involved) form one
class, whose decision is then made once for everyone (`set_decisions`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from forensics.errors import PolicyError
from forensics.policy.compiled import OWNER_MACRO, CompiledPolicy
from forensics.policy.conditions import Undecidable
from forensics.policy.engine import LEAN_DENY
from forensics.policy.matchers import OWNER_TOKEN, USER_TOKEN, ResourceMatcher
from forensics.policy.principal_sets import PrincipalSets, bitset

if TYPE_CHECKING:
    from forensics.policy.engine import PolicyEngine

#: The levels a table request names.
LEVELS = ("database", "table")


class Names:
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


def user_dependent(matcher: ResourceMatcher) -> bool:
    return matcher.has_token(USER_TOKEN)


class MatchedObjects:
    """One policy repository's policies matched against its objects, and their classes."""

    def __init__(
        self,
        engine: PolicyEngine,
        policies: list[CompiledPolicy],
        objects: list[str],
        access: str,
        people: PrincipalSets,
        owners: list[str | None],
    ) -> None:
        self.people = people
        self.access = access
        self.owners = owners  # each object's owner, for `{OWNER}` in resource values
        self.split = [split_object(obj) for obj in objects]
        self.policies = policies
        dbs = Names(sorted({db for db, _ in self.split}))
        db_pos = {name: i for i, name in enumerate(dbs.names)}
        tables = Names(sorted({t for _, t in self.split}))
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
        chain = table_chain(engine)
        for p, policy in enumerate(policies):
            if not policy.has_items:
                continue
            chosen_any: set[int] = set()
            for k, matchers in enumerate(policy.resource_sets):  # additionalResources too
                if not covers_tables(matchers, chain):
                    continue
                levels = [lv for lv in LEVELS if user_dependent(matchers[lv])]
                if levels:
                    self.user_levels[(p, k)] = levels
                    self.per_principal.add(str(policy.id))
                dbm, tbm = matchers["database"], matchers["table"]
                by_owner = "database" not in levels and dbm.has_token(OWNER_TOKEN)
                in_dbs = None if "database" in levels or by_owner else included(dbs, dbm)
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
                    chosen = tables_matching(
                        tables, tbm, by_table, candidates, self.split, len(objects)
                    )
                chosen_any.update(chosen)
                for i in chosen:
                    self.sets_of.setdefault((i, p), []).append(k)
            for i in sorted(chosen_any):
                self.applicable[i].append(p)
            if not any(key[0] == p for key in self.user_levels):
                for i in chosen_any:
                    del self.sets_of[(i, p)]
        self.unresolved: set[str] = set()  # resource values with unresolvable expressions
        self._verdicts: dict[tuple[int, str], tuple[int, int]] = {}
        self._masks: dict[tuple[int, int, str, str, str | None], int] = {}
        self._plain: dict[tuple[int, ...], tuple[tuple, Callable]] = {}

    def class_of(
        self, i: int, owner: int | None
    ) -> tuple[tuple, Callable[..., list[tuple[CompiledPolicy, int, int]]]]:
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
    ) -> tuple[tuple, Callable[..., list[tuple[CompiledPolicy, int, int]]]]:
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
        uses_owner = owner is not None and any(names_owner(self.policies[p]) for p, _ in parts)
        key = (tuple(parts), owner if uses_owner else None)

        def steps(lean: str = LEAN_DENY) -> list[tuple[CompiledPolicy, int, int]]:
            built = []
            for p, mask in parts:
                allow, deny = self._verdict(p, key[1], lean)
                if (allow | deny) & mask:
                    built.append((self.policies[p], allow & mask, deny & mask))
            return built

        return key, steps

    def _verdict(self, p: int, owner: int | None, lean: str) -> tuple[int, int]:
        policy = self.policies[p]
        if owner is not None and names_owner(policy):
            return self.people.verdict(policy, self.access, owner, lean)
        found = self._verdicts.get((p, lean))
        if found is None:
            found = self._verdicts[(p, lean)] = self.people.verdict(policy, self.access, None, lean)
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
                    if matches_or_not(one, name, self.people.names[i], owner, self.unresolved)
                )
            bits = bitset(sorted(hits), len(self.people.names))
            found = self._masks[key] = self.people.everyone & ~bits if matcher.excludes else bits
        return found


def matches_or_not(
    matcher: ResourceMatcher, name: str, user: str, owner: str | None, unresolved: set[str]
) -> bool:
    """`matcher.matches`; a request expression the directory cannot resolve (a user
    attribute) matches no one here, and `unresolved` keeps the value for the notes."""
    try:
        return matcher.matches(name, user, owner)
    except Undecidable:
        unresolved.update(matcher.values)
        return False


def included(names: Names, matcher: ResourceMatcher) -> set[int] | None:
    """Positions of names the matcher covers, `isExcludes` applied; None: all."""
    found = names.found(matcher)
    if not matcher.excludes:
        return found
    return set() if found is None else set(range(len(names.names))) - found


def tables_matching(
    tables: Names,
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


def table_chain(engine: PolicyEngine) -> tuple[str, ...]:
    """The resource hierarchy a `db.table` request falls in (Hive: database > table >
    column), as `PolicyEngine.match_type` picks it."""
    chain = next((h for h in engine.hierarchies if set(LEVELS) <= set(h)), None)
    if chain is None or set(chain[: len(LEVELS)]) != set(LEVELS):
        raise PolicyError(
            "allowed sets: the service definition has no database > table hierarchy; "
            "give the Hive service definition"
        )
    return chain


def covers_tables(matchers: Mapping[str, ResourceMatcher], chain: tuple[str, ...]) -> bool:
    """Whether a policy's resource set can apply to a table request at all: it names
    database and table, nothing outside the chain, and below the table only `*` (a
    policy naming some columns counts for "any access" only, as `match_type` says)."""
    if not matchers or not set(matchers) <= set(chain):
        return False
    if any(level not in matchers for level in LEVELS):
        return False
    return all(m.matches_all for level, m in matchers.items() if level not in LEVELS)


def names_owner(policy: CompiledPolicy) -> bool:
    items = policy.allow + policy.allow_exceptions + policy.deny + policy.deny_exceptions
    return any(OWNER_MACRO in item.users for item in items)


def split_object(obj: str) -> tuple[str, str]:
    """`db.table` -> (db, table); the table part may itself hold dots."""
    db, _, table = obj.partition(".")
    if not db or not table:
        raise PolicyError(f"allowed sets: object {obj!r} is not a db.table name")
    return db, table
