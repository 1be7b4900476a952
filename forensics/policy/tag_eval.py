"""Tag policies evaluated for a request, before the resource policies.

As `RangerPolicyEngineImpl.evaluateTagPolicies` does: for every tag of the resource (from
the request, or the engine's ServiceTags) and every tag policy on its type, in Ranger's
evaluation order, the tag policy is evaluated with that tag as the current tag (its
conditions may read the tag's attributes): a deny ends it, the first allow stands unless
a later deny comes. The resource policies then decide over it by priority: a tag deny
stands unless a resource policy of a higher priority decides; a tag allow stands unless
one of the same or a higher priority denies, and stays named when one allows too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from forensics.policy.compiled import CompiledPolicy, in_force
from forensics.policy.request import AccessRequest
from forensics.policy.tags import DESCENDANT as TAG_DESCENDANT
from forensics.policy.tags import TAG_RESOURCE, TagForEval

if TYPE_CHECKING:
    from forensics.policy.engine import PolicyEngine


class TagPolicies:
    """`PolicyEngine`'s tag-policy evaluation (a mixin: it uses the engine's tag engine,
    the request's tags and the engine's verdicts)."""

    def _after_tags(
        self,
        policies: list[CompiledPolicy],
        request: AccessRequest,
        roles: frozenset[str],
        tagged: tuple[bool, CompiledPolicy, TagForEval] | None,
    ) -> tuple[bool, CompiledPolicy] | None:
        """Resource policies after the tag policies' answer: a tag deny stands unless a
        resource policy of higher priority decides; a tag allow stands unless one of the
        same or higher priority denies. A resource policy that allows too leaves the tag
        policy named: Ranger's `updateAccessResult` names an allowing policy only when
        access is not allowed yet."""
        if tagged is None:
            return self._decide_one(policies, request, roles)
        allowed, policy, _ = tagged
        above = [
            p
            for p in policies
            if p.priority > policy.priority or (allowed and p.priority == policy.priority)
        ]
        found = self._decide_one(above, request, roles)
        if found is None or (allowed and found[0]):
            return allowed, policy
        return found

    def _decide_tags(
        self, request: AccessRequest, roles: frozenset[str], zone: str | None
    ) -> tuple[bool, CompiledPolicy, TagForEval] | None:
        """The tag policies' answer for the request's tags (Ranger's
        `evaluateTagPolicies`): a deny ends it, else the first allow."""
        self._tag_audited = False
        if self.tag_engine is None or not request.access_type:
            return None
        pairs = self._tag_pairs(request, zone, False)
        result: tuple[bool, CompiledPolicy, TagForEval] | None = None
        for policy, tag in pairs:
            tagger = self._tagger_for(tag)
            if not tagger._holds(policy):
                continue
            self._tag_audited = self._tag_audited or policy.audit
            verdict = tagger._verdict(policy, request.access_type, request, roles)
            if verdict is False:
                return False, policy, tag
            if verdict and result is None:
                result = (True, policy, tag)
            if verdict and not policy.has_deny:
                break
        return result

    def _tagger_for(self, tag: TagForEval) -> PolicyEngine:
        """The tag engine, judging conditions with `tag` as the current tag."""
        tagger = self.tag_engine
        assert tagger is not None and self._facts is not None
        tagger._assume, tagger._unknown = self._assume, self._unknown
        tagger._lean, tagger._half_open = self._lean, self._half_open
        tagger._facts = replace(self._facts, tag=tag.tag)
        return tagger

    def _tag_pairs(
        self, request: AccessRequest, zone: str | None, descendants: bool
    ) -> list[tuple[CompiledPolicy, TagForEval]]:
        """(tag policy, tag) for every tag of the resource and tag policy on its type, in
        Ranger's evaluation order; tags below the resource only with `descendants`."""
        tagger = self.tag_engine
        if tagger is None or not self._tags:
            return []
        zoned = [p for p in tagger.policies if p.zone == zone]
        pool = zoned if zone is not None and zoned else [p for p in tagger.policies if not p.zone]
        pairs = [
            (p, t)
            for t in self._tags
            if descendants or t.match != TAG_DESCENDANT
            for p in pool
            if in_force(p, request.time)
            and any(
                m.get(TAG_RESOURCE) is not None and m[TAG_RESOURCE].matches(t.tag.type)
                for m in p.resource_sets
            )
        ]
        pairs.sort(
            key=lambda pt: (-pt[0].priority, not pt[0].has_deny, pt[0].eval_order, pt[0].name)
        )
        return pairs
