"""Keeping the toolkit from becoming the second leak: pseudonyms and sealing keys.

A pseudonym is a keyed HMAC of the principal's short name: the same key gives the same
pseudonym in every file, notebook and plot, and without the key nobody can reverse it or
test a guess.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from forensics.errors import InputError

MIN_KEY_BYTES = 16


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
