"""Redaction: statement text with its literals replaced by `?`.

Statement texts are the most sensitive thing the toolkit handles: `WHERE name = 'Dana'`
or `LIKE '%salary%'` carry the very content that was exposed. Evidence therefore carries
`query_redacted`, produced here from sqlparse's token stream (no grouping, so it is
fast): string and numeric literals become `?` and comments are dropped (free text too).
A literal whose quote never closes (a statement the log cut short) is `?` to the end, and
a Hive `dfs` command keeps only its options (its paths are free text).

Hive reads a double-quoted token as a string literal; Trino reads it as an identifier.
A double-quoted token is kept only where it can only be a name (after `.`, before `.`,
or after FROM/JOIN/INTO/TABLE/UPDATE); anywhere else it is redacted, so an ambiguous
token errs towards privacy.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlparse import lexer
from sqlparse import tokens as T

_NAME_KEYWORDS = frozenset({"FROM", "JOIN", "INTO", "TABLE", "UPDATE", "VIEW", "EXISTS"})
_SPACE = re.compile(r"\s+")
_DFS = re.compile(r"^\s*dfs\s", re.IGNORECASE)


@lru_cache(maxsize=65536)
def redact(text: str) -> str:
    """The statement with literals replaced by `?` and comments removed."""
    if _DFS.match(text):
        return _redact_dfs(text)
    flat = list(lexer.tokenize(text)) if text.strip() else []
    out: list[str] = []
    for i, (ttype, value) in enumerate(flat):
        if ttype is T.Error and value in ("'", '"'):
            out.append("?")  # a quote never closed (a text cut short): the rest is its literal
            break
        if ttype in T.Comment:
            out.append("\n" if ttype is T.Comment.Single and value.endswith("\n") else " ")
        elif ttype in T.Literal.String.Single or ttype in T.Literal.Number:
            out.append("?")
        elif ttype in T.Literal.String.Symbol and value.startswith('"'):
            out.append(value if _is_name_position(flat, i) else "?")
        else:
            out.append(value)
    return "".join(out).strip()


def _redact_dfs(text: str) -> str:
    """A Hive `dfs` command with every argument but its options replaced by `?`: its paths
    and file names are free text (a person's folder, a file named for what it holds) and
    no SQL token says which of them is a literal."""
    words = text.split()
    return " ".join([words[0], *(w if w.startswith("-") else "?" for w in words[1:])])


def fingerprint(text: str) -> str:
    """The redacted statement with whitespace collapsed: equal for the same query shape."""
    return _SPACE.sub(" ", redact(text)).strip()


def _is_name_position(flat: list, i: int) -> bool:
    """Whether the double-quoted token at `i` can only be an identifier."""
    before = _neighbour(flat, i, -1)
    after = _neighbour(flat, i, 1)
    if after is not None and after[1] == ".":
        return True
    if before is None:
        return False
    return before[1] == "." or (
        before[0] in T.Keyword and before[1].upper().split()[-1] in _NAME_KEYWORDS
    )


def _neighbour(flat: list, i: int, step: int):
    """The nearest token that is not whitespace in direction `step`, or None."""
    j = i + step
    while 0 <= j < len(flat):
        if flat[j][0] not in T.Whitespace and not flat[j][1].isspace():
            return flat[j]
        j += step
    return None
