"""The directory as principal bitsets, for deciding whole directories at once.

Bit i of a set is the i-th principal in sorted order (Python ints hold any number of
them): everyone, each group, each role, the super users, and who a policy item names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from forensics.policy.compiled import OWNER_MACRO, PUBLIC_GROUP, USER_MACRO, CompiledPolicy, Item
from forensics.policy.engine import LEAN_DENY, PolicyEngine
from forensics.policy.matchers import USER_TOKEN
from forensics.policy.servicedef import ResourceDef


class Directory:
    """The principals (sorted) and each group's members as a bitset: what the policy
    states evaluated over one directory share, so it is made once for all of them."""

    def __init__(self, directory: Mapping[str, Iterable[str]]) -> None:
        self.names = tuple(sorted(directory))
        self.index = dict(zip(self.names, range(len(self.names)), strict=True))
        self.groups_of = {name: frozenset(directory[name]) for name in self.names}
        self.everyone = (1 << len(self.names)) - 1
        members: dict[str, list[int]] = {}
        for name, groups in self.groups_of.items():
            for group in groups:
                members.setdefault(group, []).append(self.index[name])
        self.group = {g: bitset(ix, len(self.names)) for g, ix in members.items()}


class PrincipalSets:
    """The directory as bitsets: everyone, each group, each role, the super users."""

    def __init__(
        self, engine: PolicyEngine, directory: Directory | Mapping[str, Iterable[str]]
    ) -> None:
        shared = directory if isinstance(directory, Directory) else Directory(directory)
        self.names, self.index, self.groups_of = shared.names, shared.index, shared.groups_of
        self.everyone, self.group = shared.everyone, shared.group
        self.role = {
            role: union(self.user(m) | self.group.get(m, 0) for m in names)
            for role, names in engine.role_members.items()
        }
        self.super = union(self.user(u) for u in engine.super_users) | union(
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

    def item(self, item: Item, access: str, owner: int | None, held: bool = False) -> int:
        """Who an item names for `access` (as `Item.applies_to` decides it); an item with
        conditions names them only when its conditions are taken to hold (`held`)."""
        if (item.conditional and not held) or access not in item.accesses:
            return 0
        if USER_MACRO in item.users or PUBLIC_GROUP in item.groups:
            return self.everyone
        bits = union(self.user(u) for u in item.users)
        bits |= union(self.group.get(g, 0) for g in item.groups)
        bits |= union(self.role.get(r, 0) for r in item.roles)
        if owner is not None and OWNER_MACRO in item.users:
            bits |= 1 << owner
        return bits

    def verdict(
        self, policy: CompiledPolicy, access: str, owner: int | None, lean: str = LEAN_DENY
    ) -> tuple[int, int]:
        """(allowed, denied) by this policy alone; everyone else: the policy says nothing.
        Conditions are decided per request, so here they are taken the way `lean` says,
        as `PolicyEngine.evaluate(lean=...)` takes undecidable ones: "deny" (a conditional
        deny holds, a conditional grant does not; a policy with conditions of its own
        only denies) or "allow" (the other way round)."""
        deny_held = lean == LEAN_DENY

        def named(items: list[Item], held: bool) -> int:
            return union(self.item(i, access, owner, held) for i in items)

        deny = named(policy.deny, deny_held) & ~named(policy.deny_exceptions, not deny_held)
        allow = named(policy.allow, not deny_held) & ~named(policy.allow_exceptions, deny_held)
        allow &= ~deny
        if policy.conditions:  # only one side of the policy applies
            if deny_held:
                allow = 0
            else:
                return allow, 0
        if policy.deny_all_else:
            deny = self.everyone & ~allow
        return allow, deny


def bitset(indices: Sequence[int], size: int) -> int:
    """A bitset with the given bit positions set."""
    if not len(indices):
        return 0
    positions = np.asarray(indices, dtype=np.int64)
    buffer = np.zeros((size + 7) // 8, dtype=np.uint8)
    np.bitwise_or.at(buffer, positions >> 3, (1 << (positions & 7)).astype(np.uint8))
    return int.from_bytes(buffer.tobytes(), "little")


def positions(bits: int) -> np.ndarray:
    """The positions of the set bits, ascending."""
    if not bits:
        return np.empty(0, dtype=np.int64)
    raw = np.frombuffer(bits.to_bytes((bits.bit_length() + 7) // 8, "little"), dtype=np.uint8)
    return np.flatnonzero(np.unpackbits(raw, bitorder="little"))


def union(parts: Iterable[int]) -> int:
    total = 0
    for part in parts:
        total |= part
    return total
