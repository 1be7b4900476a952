"""What every format parser shares: the per-line context and the quarantine signal."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from forensics.names import principal_short


class BadLine(Exception):  # noqa: N818 - a signal, not an error shown to the user
    """Raised by a parser for a line it cannot parse; the message is the quarantine reason."""


class NotRecord(BadLine):
    """Raised by a parser for a line that is not its record at all (rather than a record with
    a bad field): the record may still be behind a layout (`forensics.ingest.layouts`)."""


@dataclass(frozen=True)
class LineContext:
    """Where a line came from, and the zone in which its offset-less times are read."""

    source_file: str
    line: int
    tz: ZoneInfo

    def event_id(self, prefix: str, index: int = 0) -> str:
        """A stable id for an event that carries none: derived from file, line and index."""
        digest = hashlib.sha256(f"{self.source_file}\x00{self.line}\x00{index}".encode())
        return f"{prefix}-{digest.hexdigest()[:16]}"


def require(record: dict, key: str) -> object:
    """The value of a required field, or `BadLine` naming the missing field."""
    value = record.get(key)
    if value is None or value == "":
        raise BadLine(f"missing field {key}")
    return value


def principal_of(raw: str, field: str) -> str:
    """The principal (`names.principal_short`) a user field names, or `BadLine` when it
    names none: a value such as `@SUM(1+1)` or `/x` has nothing before its first `@` or `/`,
    and an event without a principal would be counted for nobody (quarantined instead,
    with the value's start in the reason)."""
    short = principal_short(raw)
    if not short:
        raise BadLine(
            f"{field} {raw[:40]!r} names no principal (nothing before its first '/' or '@')"
        )
    return short


def json_object(text: str) -> dict:
    """One line as a JSON object, or `BadLine` saying why it is not one."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise BadLine("not a JSON object")
    return record
