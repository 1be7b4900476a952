"""What is asked of Ranger and what it answers: an access request and its decision.

`AccessRequest` carries what Ranger's `RangerAccessRequestImpl` does (resource, access
type, user, groups, roles, time, client address, context, tags, matching scopes);
`Decision` is its `RangerAccessResult` for access (allowed, deciding policy, audited),
with the reasons an answer rests on something the request does not carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from forensics.policy.tags import TagForEval


@dataclass(frozen=True)
class AccessRequest:
    """Who asks for which access to which resource, and when."""

    resource: Mapping[str, str]
    access_type: str
    user: str
    groups: frozenset[str] = frozenset()
    time: datetime | None = None
    owner: str | None = None
    roles: frozenset[str] = frozenset()
    client_ip: str | None = None  # None: not known; "": the request carried none
    context: Mapping[str, Any] = field(default_factory=dict)  # Ranger's request context
    tags: tuple[TagForEval, ...] | None = None  # None: from the engine's ServiceTags
    cluster_name: str | None = None
    cluster_type: str | None = None
    #: Ranger's `resourceMatchingScope`: SELF, or SELF_OR_DESCENDANTS ("may the user
    #: access this resource or something below it")
    scope: str = "SELF"
    user_attributes: Mapping[str, str] = field(default_factory=dict)  # user-store attributes
    #: Ranger's `resourceElementMatchingScopes`: per resource element, SELF_OR_CHILD ("a
    #: folder directly above what a policy names counts") or SELF_OR_PREFIX ("a prefix of
    #: what a policy names counts"), as S3 and Kafka plugins ask "may the user read
    #: something under this prefix".
    element_scopes: Mapping[str, str] = field(default_factory=dict)
    #: Ranger's `isDescendantDenyIgnored` (default true): false makes a deny on something
    #: below the resource count, and "any access" then needs every access type allowed.
    ignore_descendant_deny: bool = True

    @cached_property
    def named(self) -> tuple[tuple[str, ...], bool]:
        """(the resource's keys, whether it names nothing): a value `""` or `[]` is an
        element asked with all values (Ranger keeps it among the keys), yet a resource of
        only such values and no matching scope names nothing (SHOW DATABASES)."""
        keys = tuple(k for k, v in self.resource.items() if v is not None)
        nothing = all(self.resource[k] in ("", []) for k in keys) and not any(
            k in self.element_scopes for k in keys
        )
        return keys, nothing


@dataclass(frozen=True)
class Decision:
    """Ranger's answer: allowed or not, the deciding policy (-1: none) and why."""

    allowed: bool
    policy_id: int | None
    reason: str
    #: Why the answer rests on something the request does not decide (a custom condition);
    #: empty when it is decided.
    undecidable: tuple[str, ...] = ()
    #: Whether Ranger writes an audit record of it: some applicable policy of the
    #: repository that decided has `isAuditEnabled` (Ranger's `isAudited`, before audit
    #: filters and excluded users). False for a read only audit-off policies cover.
    audited: bool = True
