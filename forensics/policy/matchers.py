"""Resource matchers: does a policy's resource value cover a requested name or path?

Ranger's rules, as its default and path resource matchers apply them: `*` matches any run
of characters and `?` one character (when the service enables wildcards); Hive names are
compared case-insensitively; `isExcludes` inverts the match; a recursive path covers
itself and everything under it; `{USER}` and `{OWNER}` in a value stand for the requesting
user and the resource's owner (the service definition may change the token delimiters,
escape character and prefix, or turn token replacement off).
Patterns are compiled once per policy, because scope evaluation runs them for every
object and principal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from forensics.policy.conditions import Undecidable
from forensics.policy.servicedef import ResourceDef

USER_MACRO = "{USER}"
#: Tokens a resource value may name (`RangerAccessRequestUtil.KEY_USER`, `KEY_OWNER`).
USER_TOKEN, OWNER_TOKEN = "USER", "OWNER"


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
        """True when every name of this resource is covered (a plain `*` where wildcards
        are on, not excluded)."""
        return not self.excludes and self.resource.wildcard and any(v == "*" for v in self.values)

    def matches(
        self,
        name: str,
        user: str = "",
        owner: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> bool:
        """Whether `name` is covered by the policy values (after `isExcludes`), with the
        `{USER}` and `{OWNER}` tokens standing for `user` and `owner`, and request
        expressions reading the user's `attributes` (user-store attributes)."""
        found = any(self._one(value, name, user, owner, attributes) for value in self.values)
        return not found if self.excludes else found

    def has_token(self, token: str) -> bool:
        """Whether a value names `token` (e.g. USER), so that it matches per request; a
        request expression `${{..}}` counts as naming the user."""
        res = self.resource
        if token == USER_TOKEN and res.replace_expressions:
            if any("${{" in v for v in self.values):
                return True
        if not res.replace_tokens:
            return False
        mark = f"{res.token_start}{res.token_prefix}{token}{res.token_end}"
        return any(mark in v for v in self.values)

    def _one(
        self,
        value: str,
        name: str,
        user: str,
        owner: str | None,
        attributes: Mapping[str, str] | None = None,
    ) -> bool:
        res = self.resource
        if res.replace_expressions and "${{" in value:
            try:
                value = resolve_expressions(value, user, attributes or {})
            except Undecidable:
                anything = _EXPRESSION.sub("*", value)  # can it match at all?
                sep = res.separator if (res.is_path and self.recursive) else None
                if _pattern(anything, True, res.ignore_case, sep).match(name) is None:
                    return False
                raise
        if res.replace_tokens and res.token_start in value:
            tokens = {USER_TOKEN: user} if owner is None else {USER_TOKEN: user, OWNER_TOKEN: owner}
            value = replace_tokens(value, tokens, res)
        if value == "*" and self.resource.wildcard:
            return True
        sep = self.resource.separator if (self.resource.is_path and self.recursive) else None
        pattern = _pattern(value, self.resource.wildcard, self.resource.ignore_case, sep)
        return pattern.match(name) is not None


_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")


def resolve_expressions(value: str, user: str, attributes: Mapping[str, str]) -> str:
    """A resource value's request expressions (`RangerRequestExprResolver`) resolved:
    `${{USER._name}}` is the requesting user, `${{USER.attr}}` one of the user's
    attributes when given; any other needs what the request does not carry: `Undecidable`."""

    def one(match: re.Match) -> str:
        expression = match.group(1).strip()
        if expression in ("USER._name", "USER"):
            return user
        field = expression.removeprefix("USER.")
        if field != expression and field in attributes:
            return str(attributes[field])
        raise Undecidable(
            f"resource value {value!r}: expression {expression!r} reads request attributes "
            "the request does not carry"
        )

    return _EXPRESSION.sub(one, value)


def replace_tokens(value: str, tokens: dict[str, str], res: ResourceDef) -> str:
    """`value` with each `{TOKEN}` it names replaced (Ranger's `StringTokenReplacer`): the
    escape character keeps a delimiter literal, a token without a value or without the
    service's token prefix stays as written."""
    start, end, escape, prefix = res.token_start, res.token_end, res.token_escape, res.token_prefix
    out: list[str] = []
    token: list[str] | None = None
    i = 0
    while i < len(value):
        c = value[i]
        if c == escape:
            i += 1
            into = out if token is None else token
            if i < len(value):
                c = value[i]
                if c not in (escape, start if token is None else end):
                    into.append(escape)
                into.append(c)
            else:
                into.append(escape)
        elif token is None:
            if c == start:
                token = []
            else:
                out.append(c)
        elif c == end:
            raw = "".join(token)
            name = raw[len(prefix) :] if raw.startswith(prefix) else None
            found = tokens.get(name) if name is not None else None
            out.append(found if found is not None else f"{start}{raw}{end}")
            token = None
        else:
            token.append(c)
        i += 1
    if token is not None:
        out.append(start + "".join(token))
    return "".join(out)


def resource_matcher(resource: ResourceDef, spec: dict) -> ResourceMatcher:
    """A matcher from a policy's `{"values": [...], "isExcludes": .., "isRecursive": ..}`."""
    values: Sequence[str] = spec.get("values") or []
    return ResourceMatcher(
        resource=resource,
        values=tuple(str(v) for v in values),
        excludes=bool(spec.get("isExcludes", False)),
        recursive=bool(spec.get("isRecursive", False)),
    )
