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
from typing import Any

from forensics.policy.servicedef import ResourceDef
from forensics.policy.undecidable import Undecidable

USER_MACRO = "{USER}"
#: Ranger's `ResourceElementMatchingScope` (per resource element of a request), and what a
#: requested value can be to a policy value (`ResourceElementMatchType`).
SELF_OR_CHILD, SELF_OR_PREFIX = "SELF_OR_CHILD", "SELF_OR_PREFIX"
SELF, CHILD, PREFIX = "SELF", "CHILD", "PREFIX"
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

    def element_match(
        self,
        requested: Any,
        scope: str = SELF,
        user: str = "",
        owner: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> str | None:
        """How a requested element value relates to the policy values, as Ranger's
        `RangerDefaultResourceMatcher.getMatchType` tells it: SELF (covered), CHILD (with
        scope SELF_OR_CHILD: a path directly above a policy value), PREFIX (with scope
        SELF_OR_PREFIX: a prefix of something a policy value covers), or None. A list
        matches when one of its values does; `""` (all values) only a match-any matcher,
        except as a prefix; `isExcludes` inverts SELF/None."""
        if scope == SELF and isinstance(requested, str) and requested not in ("", "*"):
            return SELF if self.matches(requested, user, owner, attributes) else None  # common
        prefix = scope == SELF_OR_PREFIX
        every = requested is None or requested in ("", "*")
        match_any = not any(self.values) or (self.resource.wildcard and "*" in self.values)
        if match_any or (every and not prefix):
            found = SELF if match_any else None
        else:
            names = requested if isinstance(requested, (list, tuple)) else [requested or ""]
            found = None
            for name in names:
                kind = self._element(str(name), scope, user, owner, attributes)
                found = kind or found
                if found == SELF:
                    break
        if not self.excludes or (every and not match_any):
            return found
        return SELF if found is None else None

    def _element(
        self,
        name: str,
        scope: str,
        user: str,
        owner: str | None,
        attributes: Mapping[str, str] | None,
    ) -> str | None:
        """`element_match` for one requested string against every policy value."""
        found = None
        for value in self.values:
            if not value:
                continue
            if self._one(value, name, user, owner, attributes):
                return SELF
            if scope not in (SELF_OR_CHILD, SELF_OR_PREFIX):
                continue
            expanded = self._expand(value, user, owner, attributes)
            if scope == SELF_OR_CHILD and _child_match(self, expanded, name):
                found = CHILD
            elif scope == SELF_OR_PREFIX and _prefix_match(self, expanded, name):
                found = PREFIX
        return found

    def _expand(
        self, value: str, user: str, owner: str | None, attributes: Mapping[str, str] | None
    ) -> str:
        """A policy value with its request expressions and tokens replaced."""
        res = self.resource
        if res.replace_expressions and "${{" in value:
            value = resolve_expressions(value, user, attributes or {})
        if res.replace_tokens and res.token_start in value:
            tokens = {USER_TOKEN: user} if owner is None else {USER_TOKEN: user, OWNER_TOKEN: owner}
            value = replace_tokens(value, tokens, res)
        return value

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


def _form(value: str, wildcard: bool) -> tuple[str, str]:
    """(form, string) of a policy value as Ranger's `getMatcher` picks its matcher:
    `exact` (no wildcard), `ends` (`*abc`: the string after the stars), `starts` (`abc*`:
    the string before them) or `wildcard` (`?` or stars elsewhere)."""
    if not wildcard or ("*" not in value and "?" not in value):
        return "exact", value
    if "?" in value:
        return "wildcard", value
    first, last = value.index("*"), value.rindex("*")
    if value[first : last + 1].strip("*"):  # stars not contiguous
        return "wildcard", value
    if first == 0:
        return "ends", value[last + 1 :]
    if last != len(value) - 1:
        return "wildcard", value
    return "starts", value[:first]


def _same(a: str, b: str, ignore_case: bool) -> bool:
    return a.lower() == b.lower() if ignore_case else a == b


def _starts(text: str, start: str, ignore_case: bool) -> bool:
    return text.lower().startswith(start.lower()) if ignore_case else text.startswith(start)


def _ends(text: str, end: str, ignore_case: bool) -> bool:
    return text.lower().endswith(end.lower()) if ignore_case else text.endswith(end)


def _child_match(matcher: ResourceMatcher, value: str, name: str) -> bool:
    """Ranger's `isChildMatch` (path resources only): `name` is the folder directly
    holding what the policy value names (its value cut at the last separator)."""
    res = matcher.resource
    if not res.is_path or not name:
        return False
    sep, ic = res.separator, res.ignore_case
    if name.endswith(sep):
        name = name[:-1]
    if matcher.recursive:
        if res.wildcard and value.endswith(sep):
            value += "*"
        if res.wildcard and ("*" in value or "?" in value):
            cut = value.rfind(sep)
            return cut != -1 and _pattern(value[:cut], True, ic, sep).match(name) is not None
        plain = value[:-1] if value.endswith(sep) else value
        cut = plain.rfind(sep)
        return cut != -1 and _same(name, plain[:cut], ic)
    form, text = _form(value, res.wildcard)
    cut = text.rfind(sep)
    if cut == -1:
        return False
    shorter = text[:cut]
    if form == "exact":
        return _same(name, shorter, ic)
    if form == "starts":
        return _starts(name, shorter, ic)
    if form == "ends":
        return _ends(name, shorter, ic)
    return _pattern(shorter, True, ic, None).match(name) is not None


def _prefix_match(matcher: ResourceMatcher, value: str, name: str) -> bool:
    """Ranger's `isPrefixMatch`: `name` can begin something the policy value covers."""
    res = matcher.resource
    ic = res.ignore_case
    if res.is_path and matcher.recursive:
        if res.wildcard and value.endswith(res.separator):
            value += "*"
        return wildcard_prefix_match(name, value, ic)
    form, text = _form(value, res.wildcard)
    if form == "ends":
        return True
    if form == "wildcard":
        return wildcard_prefix_match(name, text, ic)
    return _starts(text, name, ic)


def wildcard_prefix_match(value: str, pattern: str, ignore_case: bool) -> bool:
    """Ranger's `ResourceMatcher.wildcardPrefixMatch`, ported as written: whether `value`
    is a prefix of a string the wildcard `pattern` matches (as Ranger computes it)."""
    if ignore_case:
        value, pattern = value.lower(), pattern.lower()
    tokens = _split_tokens(pattern)
    any_chars, text_at, at = False, 0, 0
    backtrack: list[tuple[int, int]] = []
    while True:
        if backtrack:
            at, text_at = backtrack.pop()
            any_chars = True
        while at < len(tokens):
            token = tokens[at]
            if token == "?":
                text_at += 1
                if text_at > len(value):
                    break
                any_chars = False
            elif token == "*":
                any_chars = True
                if at == len(tokens) - 1:
                    text_at = len(value)
            else:
                if len(token) > len(value) - text_at:
                    token = token[: max(len(value) - text_at, 0)]
                if any_chars:
                    text_at = value.find(token, text_at)
                    if text_at == -1:
                        break
                    repeat = value.find(token, text_at + 1)
                    if repeat >= 0:
                        backtrack.append((at, repeat))
                elif not value.startswith(token, text_at):
                    break
                text_at += len(token)
                any_chars = False
            at += 1
        if at == len(tokens) or text_at == len(value):
            return True
        if not backtrack:
            return any_chars


def _split_tokens(text: str) -> list[str]:
    """Ranger's `splitOnTokens`: literal runs, `?`, and one `*` per run of stars."""
    if "*" not in text and "?" not in text:
        return [text]
    found: list[str] = []
    buffer, previous = "", ""
    for ch in text:
        if ch not in "?*":
            buffer += ch
        else:
            if buffer:
                found.append(buffer)
                buffer = ""
            if ch == "?":
                found.append("?")
            elif previous != "*":
                found.append("*")
        previous = ch
    if buffer:
        found.append(buffer)
    return found


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
