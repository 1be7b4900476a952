"""Resource matchers: does a policy's resource value cover a requested name or path?

Ranger's rules, as its default and path resource matchers apply them: `*` matches any run
of characters and `?` one character (when the service enables wildcards); Hive names are
compared case-insensitively; `isExcludes` inverts the match; a recursive path covers
itself and everything under it; `{USER}` in a value stands for the requesting user.
Patterns are compiled once per policy, because scope evaluation runs them for every
object and principal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from forensics.policy.servicedef import ResourceDef

USER_MACRO = "{USER}"


@lru_cache(maxsize=65536)
def _pattern(
    value: str, wildcard: bool, ignore_case: bool, recursive_sep: str | None
) -> re.Pattern:
    """A compiled regex for one policy value; `recursive_sep` also admits what lies below."""
    if recursive_sep is not None:
        if value.strip(recursive_sep) == "":
            return re.compile(re.escape(recursive_sep) + ".*", re.DOTALL)
        value = value.rstrip(recursive_sep)
    if wildcard:
        body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in value)
    else:
        body = re.escape(value)
    if recursive_sep is not None:
        body = f"{body}(?:{re.escape(recursive_sep)}.*)?"
    flags = re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL
    return re.compile(f"(?:{body})\\Z", flags)


@dataclass(frozen=True)
class ResourceMatcher:
    """The values a policy gives for one resource, ready to test requested names."""

    resource: ResourceDef
    values: tuple[str, ...]
    excludes: bool = False
    recursive: bool = False

    @property
    def matches_all(self) -> bool:
        """True when every name of this resource is covered (a plain `*`, not excluded)."""
        return not self.excludes and any(v == "*" for v in self.values)

    def matches(self, name: str, user: str = "") -> bool:
        """Whether `name` is covered by the policy values (after `isExcludes`)."""
        found = any(self._one(value, name, user) for value in self.values)
        return not found if self.excludes else found

    def _one(self, value: str, name: str, user: str) -> bool:
        if USER_MACRO in value:
            value = value.replace(USER_MACRO, user)
        if value == "*" and self.resource.wildcard:
            return True
        sep = self.resource.separator if (self.resource.is_path and self.recursive) else None
        pattern = _pattern(value, self.resource.wildcard, self.resource.ignore_case, sep)
        return pattern.match(name) is not None


def resource_matcher(resource: ResourceDef, spec: dict) -> ResourceMatcher:
    """A matcher from a policy's `{"values": [...], "isExcludes": .., "isRecursive": ..}`."""
    values: Sequence[str] = spec.get("values") or []
    return ResourceMatcher(
        resource=resource,
        values=tuple(str(v) for v in values),
        excludes=bool(spec.get("isExcludes", False)),
        recursive=bool(spec.get("isRecursive", False)),
    )
