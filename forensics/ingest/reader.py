"""Reading log files line by line, whatever state they arrive in.

Every physical line is handed on exactly once, either decoded or with the reason it cannot
be: gzip is read transparently, CRLF is tolerated, invalid UTF-8 and NUL bytes are reported
so the caller can quarantine the line, and a gzip file cut short is reported after the
lines that could be read.
"""

from __future__ import annotations

import contextlib
import gzip
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, NamedTuple
from zoneinfo import ZoneInfo

from forensics.errors import InputError
from forensics.inputs import open_input

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: The quarantine reason of a line holding nothing but whitespace.
EMPTY_LINE = "empty line"


class Line(NamedTuple):
    """One physical line: its 1-based number and its text, or why it has none."""

    number: int
    text: str | None
    problem: str | None


#: The longest line read (bytes, uncompressed): a longer one is quarantined unread, so that
#: a 200 MB line or a gzip bomb (a small file of a gigabyte without a newline) cannot take
#: the memory of the machine. Real audit records (a long statement included) are far shorter.
MAX_LINE_BYTES = 64 << 20
TOO_LONG = f"line longer than {MAX_LINE_BYTES >> 20} MiB (not read)"
#: The largest whole-file document read by `read_text` (uncompressed).
MAX_DOCUMENT_BYTES = 1 << 30


@contextlib.contextmanager
def open_stream(path: Path) -> Iterator[BinaryIO]:
    """`path` (a regular file, `open_input`) as a stream of its bytes, gunzipped when its
    first bytes say gzip."""
    with open_input(path) as raw:
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                yield stream  # type: ignore[misc]
        else:
            raw.seek(0)
            yield raw


def read_lines(path: Path) -> Iterator[Line]:
    """Yield every line of `path` (gzip or plain); a broken line has `text=None`."""
    number = 0
    with open_stream(path) as stream:
        try:
            while raw := stream.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    del raw
                    _skip_line(stream)
                    yield Line(number, None, TOO_LONG)
                else:
                    yield _decode(number, raw)
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
            yield Line(number + 1, None, f"compressed stream ends early ({type(exc).__name__})")


def _skip_line(stream: BinaryIO) -> None:
    """Read past the rest of the current line, a bounded piece at a time."""
    while piece := stream.readline(1 << 20):
        if piece.endswith(b"\n"):
            return


def read_text(path: Path) -> str:
    """A whole (possibly gzipped) file as text, for formats that are one JSON document;
    undecodable bytes are replaced, so the parser quarantines what they touch."""
    try:
        with open_stream(path) as stream:
            data = stream.read(MAX_DOCUMENT_BYTES + 1)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(f"{path.name}: compressed file cut short ({type(exc).__name__})") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(
            f"{path.name}: larger than {MAX_DOCUMENT_BYTES >> 30} GiB uncompressed; "
            "split the export into smaller files (a Solr export: page it with start and rows)"
        )
    return data.decode("utf-8", errors="replace")


def count_lines(path: Path) -> int:
    """Physical lines in a file, read the same way `read_lines` reads them."""
    return sum(1 for _ in read_lines(path))


def is_gzip(path: Path) -> bool:
    """Gzip is told by the file's first two bytes, not its name (rotated logs rarely say)."""
    with open_input(path) as f:
        return f.read(2) == b"\x1f\x8b"


def _decode(number: int, raw: bytes) -> Line:
    body = raw.rstrip(b"\n").rstrip(b"\r")
    if b"\x00" in body:
        return Line(number, None, "line contains NUL bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Line(number, None, f"invalid UTF-8 at byte {exc.start}")
    if not text.strip():
        return Line(number, None, EMPTY_LINE)
    return Line(number, text, None)


def local_to_epoch_ms(moment: datetime, tz: ZoneInfo) -> int:
    """Milliseconds since the epoch of a wall-clock time read in `tz` (aware times as is)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    delta = moment.astimezone(timezone.utc) - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def parse_local_time(text: str, tz: ZoneInfo, fmt: str) -> int:
    """Epoch ms of a timestamp written with `fmt` in the log's local zone `tz`."""
    return local_to_epoch_ms(datetime.strptime(text, fmt), tz)


def parse_iso_time(text: str, tz: ZoneInfo) -> int:
    """Epoch ms of an ISO-8601 time; one without offset is read in `tz`."""
    return local_to_epoch_ms(datetime.fromisoformat(text.replace("Z", "+00:00")), tz)
