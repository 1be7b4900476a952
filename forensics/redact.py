"""Redaction: statement text with its literals replaced by `?`.

Statement texts are the most sensitive thing the toolkit handles: `WHERE name = 'Dana'`
or `LIKE '%salary%'` carry the very content that was exposed. Evidence therefore carries
`query_redacted`, produced here from sqlparse's tokens: string and numeric literals become
`?` and comments are dropped (they are free text too).

Hive reads a double-quoted token as a string literal; Trino reads it as an identifier.
A double-quoted token is kept only where it can only be a name (after `.`, before `.`,
or after FROM/JOIN/INTO/TABLE/UPDATE); anywhere else it is redacted, so an ambiguous
token errs towards privacy.
"""

from __future__ import annotations

import re
from functools import lru_cache

import sqlparse
from sqlparse import tokens as T

_NAME_KEYWORDS = frozenset({"FROM", "JOIN", "INTO", "TABLE", "UPDATE", "VIEW", "EXISTS"})
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def redact(text: str) -> str:
    """The statement with literals replaced by `?` and comments removed."""
    flat = [tok for tok in sqlparse.parse(text)[0].flatten()] if text.strip() else []
    out: list[str] = []
    for i, tok in enumerate(flat):
        ttype = tok.ttype
        if ttype in T.Comment:
            out.append("\n" if ttype is T.Comment.Single and tok.value.endswith("\n") else " ")
        elif ttype in T.Literal.String.Single or ttype in T.Literal.Number:
            out.append("?")
        elif ttype in T.Literal.String.Symbol and tok.value.startswith('"'):
            out.append(tok.value if _is_name_position(flat, i) else "?")
        else:
            out.append(tok.value)
    return "".join(out).strip()


def fingerprint(text: str) -> str:
    """The redacted statement with whitespace collapsed: equal for the same query shape."""
    return _SPACE.sub(" ", redact(text)).strip()


def _is_name_position(flat: list, i: int) -> bool:
    """Whether the double-quoted token at `i` can only be an identifier."""
    before = _neighbour(flat, i, -1)
    after = _neighbour(flat, i, 1)
    if after is not None and after.value == ".":
        return True
    if before is None:
        return False
    return before.value == "." or (
        before.ttype in T.Keyword and before.normalized.split()[-1] in _NAME_KEYWORDS
    )


def _neighbour(flat: list, i: int, step: int):
    """The nearest token that is not whitespace in direction `step`, or None."""
    j = i + step
    while 0 <= j < len(flat):
        if not flat[j].is_whitespace:
            return flat[j]
        j += step
    return None
