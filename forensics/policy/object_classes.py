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
import pyarrow as pa
import pyarrow.compute as pc

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


class ObjectNames:
    """`db.table` names (each once, in the order given) split into database and table,
    in bulk: each object's database as a position among the sorted database names. Made
    once for a catalog, it serves every policy state evaluated over it."""

    def __init__(self, objects: Iterable[str]) -> None:
        self.names = tuple(dict.fromkeys(objects))
        self.index = dict(zip(self.names, range(len(self.names)), strict=True))
        parts = pc.split_pattern(pa.array(self.names, pa.string()), ".", max_splits=1)
        whole = pc.equal(pc.list_value_length(parts), 2)
        if len(self.names) and not pc.all(whole).as_py():
            split_object(self.names[pc.index(whole, False).as_py()])  # raises, naming it
        dbs = pc.list_element(parts, 0) if len(self.names) else pa.array([], pa.string())
        self._tables = pc.list_element(parts, 1) if len(self.names) else dbs
        bad = pc.or_(pc.equal(dbs, ""), pc.equal(self._tables, ""))
        if len(self.names) and pc.any(bad).as_py():
            split_object(self.names[pc.index(bad, True).as_py()])  # raises, naming it
        encoded = dbs.dictionary_encode()
        distinct = encoded.dictionary.to_pylist()
        #: the distinct database names, sorted
        self.dbs = sorted(distinct)
        rank = {db: i for i, db in enumerate(self.dbs)}
        by_code = np.array([rank[db] for db in distinct], dtype=np.int64)
        #: each object's database: its position in `dbs`
        self.db_of = (
            by_code[encoded.indices.to_numpy(zero_copy_only=False)]
            if len(self.names)
            else np.empty(0, dtype=np.int64)
        )
        self._split: list[tuple[str, str]] | None = None

    def __len__(self) -> int:
        return len(self.names)

    @property
    def split(self) -> list[tuple[str, str]]:
        """(database, table) of each object (made when first asked)."""
        if self._split is None:
            self._split = list(
                zip(
                    (self.dbs[i] for i in self.db_of.tolist()),
                    self._tables.to_pylist(),
                    strict=True,
                )
            )
        return self._split

    def subset(self, positions: Sequence[int]) -> ObjectNames:
        """The names at `positions`, in that order (the objects of one security zone)."""
        return ObjectNames([self.names[i] for i in positions])


def user_dependent(matcher: ResourceMatcher) -> bool:
    return matcher.has_token(USER_TOKEN)


class MatchedObjects:
    """One policy repository's policies matched against its objects, and their classes.

    A policy whose table values take every name (`*`) applies to whole databases, so it
    is kept per database (`db_policies`), not per object: a warehouse's policies mostly
    name databases, and its 300,000 objects then fall into one class per set of databases
    decided alike. Only policies naming some tables, `{USER}` or `{OWNER}` in their
    resources are kept per object (`extra`)."""

    def __init__(
        self,
        engine: PolicyEngine,
        policies: list[CompiledPolicy],
        objects: ObjectNames,
        access: str,
        people: PrincipalSets,
        owners: list[str | None],
    ) -> None:
        self.people = people
        self.access = access
        self.owners = owners  # each object's owner, for `{OWNER}` in resource values
        self.objects = objects
        self.policies = policies
        dbs = Names(objects.dbs)
        #: each object's database (its position in the sorted database names)
        self.db_of = objects.db_of
        self._dbs, self._tables = dbs, None
        self._by_db: list[np.ndarray] | None = None
        self._by_table: list[list[int]] | None = None
        #: per database, the policies (positions) applying to all of its tables, ascending
        whole: list[list[int]] = [[] for _ in dbs.names]
        #: per object, the policies applying to it besides its database's, as chosen
        self.extra: dict[int, set[int]] = {}
        #: (policy, resource set) -> its levels with `{USER}` values, matched per principal
        self.user_levels: dict[tuple[int, int], list[str]] = {}
        #: (object, policy) -> the resource sets matching it, for policies with `{USER}`
        self.sets_of: dict[tuple[int, int], list[int]] = {}
        self.per_principal: set[str] = set()
        chain = table_chain(engine)
        for p, policy in enumerate(policies):
            if not policy.has_items:
                continue
            usable = [
                (k, matchers)
                for k, matchers in enumerate(policy.resource_sets)  # additionalResources too
                if covers_tables(matchers, chain)
            ]
            per_user = any(user_dependent(m[lv]) for _, m in usable for lv in LEVELS)
            whole_dbs: set[int] = set()
            chosen_any: set[int] = set()
            for k, matchers in usable:
                levels = [lv for lv in LEVELS if user_dependent(matchers[lv])]
                if levels:
                    self.user_levels[(p, k)] = levels
                    self.per_principal.add(str(policy.id))
                dbm, tbm = matchers["database"], matchers["table"]
                by_owner = "database" not in levels and dbm.has_token(OWNER_TOKEN)
                in_dbs = None if "database" in levels or by_owner else included(dbs, dbm)
                if not per_user and not by_owner and takes_every_name(tbm):
                    if not tbm.excludes:  # every table of the databases matched
                        whole_dbs.update(range(len(dbs.names)) if in_dbs is None else in_dbs)
                    continue
                candidates: Iterable[int] = (
                    range(len(objects))
                    if in_dbs is None
                    else [int(i) for d in sorted(in_dbs) for i in self.by_db[d]]
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
                        self.tables, tbm, self.by_table, candidates, self.split, len(objects)
                    )
                chosen_any.update(chosen)
                if per_user:
                    for i in chosen:
                        self.sets_of.setdefault((i, p), []).append(k)
            for d in whole_dbs:
                whole[d].append(p)
            for i in chosen_any:
                if int(self.db_of[i]) not in whole_dbs:
                    self.extra.setdefault(i, set()).add(p)
        self.db_policies = [tuple(ps) for ps in whole]
        self.unresolved: set[str] = set()  # resource values with unresolvable expressions
        self._verdicts: dict[tuple[int, str], tuple[int, int]] = {}
        self._masks: dict[tuple[int, int, str, str, str | None], int] = {}
        self._plain: dict[tuple[int, ...], tuple[tuple, Callable]] = {}

    @property
    def split(self) -> list[tuple[str, str]]:
        """(database, table) of each object."""
        return self.objects.split

    @property
    def by_db(self) -> list[np.ndarray]:
        """Per database, its objects (positions, ascending)."""
        if self._by_db is None:
            order = np.argsort(self.db_of, kind="stable")
            bounds = np.searchsorted(self.db_of[order], np.arange(len(self._dbs.names) + 1))
            self._by_db = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        return self._by_db

    @property
    def tables(self) -> Names:
        """The distinct table names, indexed (built when a policy names some tables)."""
        if self._tables is None:
            self._tables = Names(sorted({t for _, t in self.split}))
        return self._tables

    @property
    def by_table(self) -> list[list[int]]:
        """Per distinct table name, its objects."""
        if self._by_table is None:
            pos = {name: i for i, name in enumerate(self.tables.names)}
            self._by_table = [[] for _ in self.tables.names]
            for i, (_, table) in enumerate(self.split):
                self._by_table[pos[table]].append(i)
        return self._by_table

    def applicable(self, i: int) -> tuple[int, ...]:
        """The policies (positions, ascending) whose resources match object `i`."""
        whole = self.db_policies[int(self.db_of[i])]
        extra = self.extra.get(i)
        return whole if not extra else tuple(sorted(extra.union(whole)))

    def classes(
        self, owners: list[int | None] | None
    ) -> tuple[np.ndarray, list[tuple[tuple, Callable[..., list]]]]:
        """Each object's class (a position in the list returned beside it: the class key
        and how to build its steps), as `class_of` decides, with `owners` the objects'
        owners as principal positions (None: owners not given). Without `{USER}` or
        owners, objects are classed per database, and one by one only where some policy
        names their table."""
        if self.user_levels or owners is not None:
            found: dict[tuple, int] = {}
            listed: list[tuple[tuple, Callable]] = []
            ids = np.empty(len(self.objects), dtype=np.int64)
            for i in range(len(self.objects)):
                key, steps = self.class_of(i, owners[i] if owners is not None else None)
                k = found.get(key)
                if k is None:
                    k = found[key] = len(listed)
                    listed.append((key, steps))
                ids[i] = k
            return ids, listed
        plain: dict[tuple[int, ...], int] = {}
        per_db = np.fromiter(
            (plain.setdefault(ps, len(plain)) for ps in self.db_policies),
            dtype=np.int64,
            count=len(self.db_policies),
        )
        ids = per_db[self.db_of] if len(self.objects) else np.empty(0, dtype=np.int64)
        for i in sorted(self.extra):
            ids[i] = plain.setdefault(self.applicable(i), len(plain))
        return ids, [self._plain_class(ps) for ps in plain]

    def class_of(
        self, i: int, owner: int | None
    ) -> tuple[tuple, Callable[..., list[tuple[CompiledPolicy, int, int]]]]:
        """The class key of object `i` (what decides it) and how to build its steps."""
        if not self.user_levels and owner is None:  # the applicable policies alone decide
            return self._plain_class(self.applicable(i))
        return self._class(i, owner)

    def _plain_class(
        self, applicable: tuple[int, ...]
    ) -> tuple[tuple, Callable[..., list[tuple[CompiledPolicy, int, int]]]]:
        """The class of objects that exactly the `applicable` policies match (no `{USER}`
        and no owner involved)."""
        found = self._plain.get(applicable)
        if found is None:
            found = self._plain[applicable] = self._steps([(p, -1) for p in applicable], None)
        return found

    def _class(
        self, i: int, owner: int | None
    ) -> tuple[tuple, Callable[..., list[tuple[CompiledPolicy, int, int]]]]:
        db, table = self.split[i]
        parts: list[tuple[int, int]] = []
        for p in self.applicable(i):
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
        return self._steps(parts, owner if uses_owner else None)

    def _steps(
        self, parts: list[tuple[int, int]], owner: int | None
    ) -> tuple[tuple, Callable[..., list[tuple[CompiledPolicy, int, int]]]]:
        """The class key of objects matched by the policies of `parts` (policy, principals
        for whom it matches) and `owner`, and how to build the class's steps."""
        key = (tuple(parts), owner)

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


def takes_every_name(matcher: ResourceMatcher) -> bool:
    """Whether one of the matcher's values matches every name (`*`, before `isExcludes`),
    as `Names.found` answers None."""
    return matcher.resource.wildcard and "*" in matcher.values


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
