"""Keeping the toolkit from becoming the second leak: pseudonyms and sealing keys.

A pseudonym is a keyed HMAC of the principal's short name: the same key gives the same
pseudonym in every file, notebook and plot, and without the key nobody can reverse it or
test a guess. Names inside paths and identifiers (`/tmp/dora_export`, `scratch.dora_copy`)
are rewritten by `NameRewriter` with the same pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from pathlib import Path

from forensics.errors import InputError

MIN_KEY_BYTES = 16
#: The engine's SQL function (registered by `reconstruct.pseudonymize`) that applies a
#: `NameRewriter` to a text column; the evidence writer passes text cells through it.
NAME_REWRITER = "pseudonymize_names"


def load_key(path: str | Path, purpose: str) -> bytes:
    """The secret key in `path` (its bytes, surrounding whitespace removed)."""
    try:
        key = Path(path).read_bytes().strip()
    except OSError as exc:
        raise InputError(f"{purpose} key {path}: cannot be read ({exc.strerror})") from None
    if len(key) < MIN_KEY_BYTES:
        raise InputError(
            f"{purpose} key {path}: shorter than {MIN_KEY_BYTES} bytes; "
            "make one with: head -c 32 /dev/urandom | base64 > KEYFILE"
        )
    return key


def pseudonym(key: bytes, principal: str) -> str:
    """`p-` and 16 hex digits of HMAC-SHA256(key, principal)."""
    return "p-" + hmac.new(key, principal.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def subject_pseudonym(key: bytes, subject: str) -> str:
    """`s-` and 16 hex digits of a keyed HMAC of a data subject's id, kept apart from the
    principals' (a subject who is also a principal gets another pseudonym)."""
    message = b"subject\x00" + subject.encode("utf-8")
    return "s-" + hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def key_id(key: bytes) -> str:
    """Names a key in the manifest without revealing it."""
    return hmac.new(key, b"forensics key id", hashlib.sha256).hexdigest()[:16]


def seal(key: bytes, data: bytes) -> str:
    """Hex HMAC-SHA256 of `data`: whoever changes the data without the key is caught."""
    return hmac.new(key, data, hashlib.sha256).hexdigest()


#: A name token: a run of letters and digits (`_`, `.`, `/`, `-` and the rest separate
#: tokens), or a whole pseudonym, which is never rewritten again.
_TOKEN = re.compile(r"(?<![^\W_])[ps]-[0-9a-f]{16}(?![^\W_])|[^\W_]+")
_PSEUDONYM = re.compile(r"[ps]-[0-9a-f]{16}")
#: Shorter names are not looked for inside texts (a principal `t` would rewrite every time's
#: `T`); they are still pseudonymized wherever a principal is named.
MIN_TOKEN_NAME = 2


class NameRewriter:
    """Rewrites the principals' names where a path or identifier holds them
    (`/tmp/dora_export`, `/user/dora/x`, `scratch.dora_copy`, `dora-laptop`) by the same
    pseudonym the principal gets everywhere else.

    A name matches only as whole tokens: the text before and after it is not a letter or
    digit (`_` counts as a separator, so `dora_export` holds `dora`; `carlsberg_sales` does
    not hold `carl`), compared without case. A name of several tokens (`svc_etl`, `first.last`)
    matches as a whole, the longest name first."""

    def __init__(self, key: bytes, names: Iterable[str]) -> None:
        self.names = {
            n: pseudonym(key, n)
            for n in {name.strip().lower() for name in names}
            if len(n) >= MIN_TOKEN_NAME and _whole_tokens(n)
        }
        self.span = max((len(_TOKEN.findall(n)) for n in self.names), default=0)
        self._seen: dict[str, str] = {}

    def __call__(self, text: str | None) -> str | None:
        """`text` with every principal name in it replaced by its pseudonym."""
        if text is None or not self.names:
            return text
        done = self._seen.get(text)
        if done is None:
            done = self._rewrite(text)
            if len(self._seen) < 1_000_000:
                self._seen[text] = done
        return done

    def _rewrite(self, text: str) -> str:
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        out: list[str] = []
        pos = i = 0
        while i < len(tokens):
            for j in range(min(len(tokens), i + self.span) - 1, i - 1, -1):
                found = self.names.get(text[tokens[i][0] : tokens[j][1]].lower())
                if found is not None:
                    out += [text[pos : tokens[i][0]], found]
                    pos, i = tokens[j][1], j + 1
                    break
            else:
                i += 1
        return "".join(out) + text[pos:] if out else text


def _whole_tokens(name: str) -> bool:
    """Whether `name` starts and ends with a letter or digit (and is no pseudonym): only
    such a name can be found as whole tokens."""
    tokens = list(_TOKEN.finditer(name))
    return (
        bool(tokens)
        and tokens[0].start() == 0
        and tokens[-1].end() == len(name)
        and not _PSEUDONYM.fullmatch(name)
    )
