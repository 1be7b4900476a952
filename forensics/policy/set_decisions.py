"""Ranger's decision for a class of objects, applied to all principals at once.

The policies of a class are applied in the engine's order to principal bitsets: the first
deny ends a principal's evaluation, the first allow names the policy, deny-capable
policies of the allowing policy's priority may still deny; the tag policies come first
and the resource policies decide over them by priority (`PolicyEngine._after_tags`).
"""

from __future__ import annotations

from forensics.policy.compiled import NO_POLICY, CompiledPolicy
from forensics.policy.principal_sets import union


def decide(
    steps: list[tuple[CompiledPolicy, int, int]], everyone: int, supers: int
) -> list[tuple[int, int]]:
    """Apply the policies of one class in the engine's order to everyone at once: the
    first deny ends a principal's evaluation, the first allow names the policy, and
    deny-capable policies of the allowing policy's priority may still deny."""
    decided, _ = apply_steps(steps, everyone & ~supers)
    if supers:
        decided[NO_POLICY] = decided.get(NO_POLICY, 0) | supers
    return sorted((pid, bits) for pid, bits in decided.items() if bits)


def apply_steps(
    steps: list[tuple[CompiledPolicy, int, int]], everyone: int
) -> tuple[dict[int, int], int]:
    """(policy id -> the principals it allows, principals no policy decided) for the
    principals `everyone`, by `decide`'s rules."""
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


def tag_outcomes(
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


def decide_tagged(
    steps: list[tuple[CompiledPolicy, int, int]],
    tag_steps: list[tuple[CompiledPolicy, int, int]],
    everyone: int,
    supers: int,
) -> list[tuple[int, int]]:
    """`decide` after the tag policies (`PolicyEngine._after_tags`): a tag deny stands
    unless a resource policy of higher priority decides; a tag allow stands unless one of
    the same or higher priority denies, and stays named when one allows too."""
    denied, allowed, rest = tag_outcomes(tag_steps, everyone & ~supers)
    decided, _ = apply_steps(steps, rest)
    for policy, bits in denied:
        above = [st for st in steps if st[0].priority > policy.priority]
        for pid, got in apply_steps(above, bits)[0].items():
            decided[pid] = decided.get(pid, 0) | got
    for policy, bits in allowed:
        above = [st for st in steps if st[0].priority >= policy.priority]
        got, undecided = apply_steps(above, bits)
        kept = undecided | union(got.values())
        decided[policy.id] = decided.get(policy.id, 0) | kept
    if supers:
        decided[NO_POLICY] = decided.get(NO_POLICY, 0) | supers
    return sorted((pid, bits) for pid, bits in decided.items() if bits)
