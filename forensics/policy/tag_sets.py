"""Tag policies for `allowed_sets`: each object's tags as part of its class, and the
tag policies' steps for a set of tags, in the order `PolicyEngine._decide_tags` uses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from forensics.policy.compiled import CompiledPolicy, all_items, in_force
from forensics.policy.engine import LEAN_DENY
from forensics.policy.object_classes import LEVELS, Names, included, split_object
from forensics.policy.principal_sets import PrincipalSets

if TYPE_CHECKING:
    from forensics.policy.engine import PolicyEngine


class TagSets:
    """The tag policies for `allowed_sets`: each object's tags (from the engine's
    ServiceTags, valid at `at`, on the table or above it) as a class key, and the tag
    policies' steps for a set of tags, as `PolicyEngine._decide_tags` orders them."""

    def __init__(self, engine: PolicyEngine, people: PrincipalSets, at: datetime, access: str):
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
        split = [split_object(obj) for obj in objects]
        dbs = Names(sorted({db for db, _ in split}))
        tables = Names(sorted({t for _, t in split}))
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
            in_dbs = included(dbs, tagged.matchers["database"])
            in_tables = included(tables, tagged.matchers["table"]) if "table" in levels else None
            pool = range(len(split)) if in_dbs is None else [i for d in in_dbs for i in by_db[d]]
            for i in pool:
                if in_tables is None or table_pos[split[i][1]] in in_tables:
                    found[i] |= tags
        return [tuple(sorted(f)) for f in found]

    def steps(
        self, key: tuple, zone: str | None, lean: str = LEAN_DENY
    ) -> list[tuple[CompiledPolicy, int, int]]:
        """(tag policy, allowed, denied) per (tag, policy on its type), in order, with
        conditions taken the way `lean` says (`PrincipalSets.verdict`)."""
        found = self._steps.get((key, zone, lean))
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
                if policy.conditions or any(i.conditional for i in all_items(policy)):
                    self._conditional.add(str(policy.id))
                pairs.append(policy)
        pairs.sort(key=lambda p: (-p.priority, not p.has_deny, p.eval_order, p.name))
        found = self._steps[(key, zone, lean)] = [
            (p, *self.people.verdict(p, self.access, None, lean)) for p in pairs
        ]
        return found

    def conditional(self) -> set[str]:
        """The ids of tag policies with conditions met so far (for the notes)."""
        return set(self._conditional)
