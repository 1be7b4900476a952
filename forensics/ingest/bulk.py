"""Bulk ingest: DuckDB decodes the plain lines of a log file, the line parser the rest.

A healthy service writes millions of lines of one plain shape; DuckDB reads those an order
of magnitude faster than a Python loop and on both cores. The rules stay in one place, the
format's line parser (`forensics/ingest/<format>.py`): the bulk SQL
(`queries/ingest/<format>_*.sql`) decodes only lines it can decode exactly as the line
parser would, and hands every other line to the line parser, which parses or quarantines it
with its own reason. tests/test_ingest_bulk.py holds both paths to the same events.

Three readers share this module's machinery: `bulk_json` (JSON lines through DuckDB's
`read_json`: Ranger, Trino), `bulk_text` (tab-separated text lines handed to DuckDB as
Arrow strings: HDFS, metastore) and `bulk_csv` (generic CSV logs, the same way). Each
returns the file's physical line count and the numbers of the lines left to the line
parser (`BulkRead`), or None when it cannot read the file line for line (then the line
parser reads all of it).
"""

from __future__ import annotations

import contextlib
import gzip
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa

from forensics import queries
from forensics.engine import load_rows
from forensics.ingest.reader import (
    EMPTY_LINE,
    MAX_LINE_BYTES,
    _decode,
    is_gzip,
    open_stream,
    read_lines,
)
from forensics.inputs import open_input

_CHUNK = 1 << 24
_NEWLINE = 10
_BLANK = np.array([9, 10, 11, 12, 13, 32], dtype=np.uint8)  # a line of only these is skipped
_WHITESPACE = bytes(_BLANK)

#: The file's physical line count and the numbers of the lines left to the line parser.
BulkRead = tuple[int, list[int]]


class BulkReader(Protocol):
    """Reads one log file of its format into `raw_events`, or returns None (nothing
    inserted) when the line parser must read the whole file."""

    def __call__(
        self, con: duckdb.DuckDBPyConnection, path: Path, rel: str, tz: ZoneInfo
    ) -> BulkRead | None: ...


class LineTooLong(OSError):
    """A line longer than `reader.MAX_LINE_BYTES`: the bulk reader gives the file to the line
    parser (an `OSError`, as a damaged stream is), which quarantines that line unread."""


class Block(NamedTuple):
    """Whole lines of a file, as bytes: where each ends, and the number of the first."""

    raw: bytearray
    data: np.ndarray  # the same bytes, as uint8
    ends: np.ndarray  # index of each line's newline (len(data) for a last line without one)
    first: int  # 1-based number of the block's first line

    def starts(self) -> np.ndarray:
        """Index of each line's first byte."""
        return np.concatenate(([0], self.ends[:-1] + 1))


def compression_of(path: Path) -> str:
    """DuckDB's name for how `path` is compressed (told by its first bytes, not its name)."""
    return "gzip" if is_gzip(path) else "none"


def blocks(path: Path, compression: str, size: int = _CHUNK) -> Iterator[Block]:
    """The file's lines, a block of about `size` bytes at a time, split where
    `reader.read_lines` splits them (at each newline; a last line without one counts too)."""
    first = 1
    carry = b""
    with open_input(path) as raw, _decompressed(raw, compression) as stream:
        while True:
            block = stream.read(size)
            raw = bytearray(carry)
            raw += block
            if not raw:
                return
            end = raw.rfind(b"\n") + 1 if block else len(raw)
            if len(raw) - end > MAX_LINE_BYTES:
                raise LineTooLong(f"{path.name}: a line longer than {MAX_LINE_BYTES} bytes")
            carry = bytes(raw[end:])
            del raw[end:]
            if raw:
                data = np.frombuffer(raw, dtype=np.uint8)
                ends = np.flatnonzero(data == _NEWLINE)
                if len(ends) == 0 or ends[-1] != len(data) - 1:
                    ends = np.append(ends, len(data))
                if len(ends) and int(np.max(np.diff(ends, prepend=-1))) - 1 > MAX_LINE_BYTES:
                    raise LineTooLong(f"{path.name}: a line longer than {MAX_LINE_BYTES} bytes")
                yield Block(raw, data, ends, first)
                first += len(ends)
            if not block:
                return


@contextlib.contextmanager
def _decompressed(raw: BinaryIO, compression: str) -> Iterator[BinaryIO]:
    if compression != "gzip":
        yield raw
        return
    with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
        yield stream  # type: ignore[misc]


#: The longest first line `first_line` reads (a longer one is no plain record to look at).
FIRST_LINE_BYTES = 1 << 20


def first_line(path: Path) -> str | None:
    """The file's first line that is not blank, decoded as `reader.read_lines` decodes it
    (None when there is none, it cannot be decoded or read, or it is longer than
    `FIRST_LINE_BYTES`: only that much of a gzip bomb is inflated)."""
    try:
        with open_stream(path) as stream:
            while raw := stream.readline(FIRST_LINE_BYTES + 1):
                if len(raw) > FIRST_LINE_BYTES:
                    return None
                line = _decode(0, raw)
                if line.text is not None:
                    return line.text
                if line.problem != EMPTY_LINE:
                    return None
    except (OSError, EOFError, zlib.error):
        return None
    return None


def scan_lines(path: Path, compression: str) -> tuple[int, np.ndarray]:
    """Physical lines as `reader.read_lines` counts them, and the numbers of the lines
    DuckDB's JSON reader gives a row for: all but the blank ones (nothing but whitespace),
    which it skips."""
    kept: list[np.ndarray] = []
    total = 0
    for block in blocks(path, compression):
        kept.append(_filled_lines(block) + block.first)
        total = block.first + len(block.ends) - 1
    return total, np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)


def _filled_lines(block: Block) -> np.ndarray:
    """0-based indexes of the lines of `block` that are not blank. Only a line that starts
    with whitespace is looked at whole."""
    data, ends = block.data, block.ends
    starts = block.starts()
    first = data[np.minimum(starts, len(data) - 1)]
    filled = (starts < ends) & ~np.isin(first, _BLANK)
    for i in np.flatnonzero((starts < ends) & np.isin(first, _BLANK)):
        filled[i] = bool(data[starts[i] : ends[i]].tobytes().strip(_WHITESPACE))
    return np.flatnonzero(filled)


def load_line_numbers(con: duckdb.DuckDBPyConnection, table: str, kept: np.ndarray) -> None:
    """Table `table` (idx, line): the line of each row DuckDB's reader gave, when the rows
    are not simply the lines 1, 2, 3, ... (empty when they are)."""
    numbered = len(kept) > 0 and int(kept[-1]) != len(kept)
    load_rows(
        con,
        table,
        [("idx", pa.int64()), ("line", pa.int64())],
        zip(range(len(kept)), kept.tolist(), strict=True) if numbered else [],
    )


def load_offsets(
    con: duckdb.DuckDBPyConnection, minutes_query: str, table: str, tz: ZoneInfo
) -> None:
    """Table `table` (minute, offset_ms): the UTC offset in `tz` of each local wall-clock
    minute that `minutes_query` lists, as the line parser reads a time (`fold=0`: an
    ambiguous time is its first occurrence, a time in a gap reads with the offset before)."""
    minutes = [m for (m,) in queries.relation(con, minutes_query).fetchall()]
    load_rows(
        con,
        table,
        [("minute", pa.timestamp("us")), ("offset_ms", pa.int64())],
        [(m, _offset_ms(m, tz)) for m in minutes],
    )


def _offset_ms(minute: datetime, tz: ZoneInfo) -> int:
    offset = minute.replace(tzinfo=tz).utcoffset() or timedelta(0)
    return offset // timedelta(milliseconds=1)


def numbered_lines(path: Path, numbers: list[int]) -> Iterator[tuple[int, str | None, str | None]]:
    """The lines `numbers` (ascending) of `path`, decoded as `reader.read_lines` decodes
    them, for the line parser; the other lines are skipped without being decoded."""
    if not numbers:
        return
    done = 0
    try:
        for line in _numbered_in_blocks(path, numbers):
            done = line[0]
            yield line
    except LineTooLong:  # the line reader skips a long line unread, and so reads the rest
        rest = {n for n in numbers if n > done}
        for line in read_lines(path):
            if line.number in rest:
                yield line.number, line.text, line.problem


def _numbered_in_blocks(
    path: Path, numbers: list[int]
) -> Iterator[tuple[int, str | None, str | None]]:
    wanted = np.asarray(numbers, dtype=np.int64)
    for block in blocks(path, compression_of(path)):
        lo, hi = np.searchsorted(wanted, [block.first, block.first + len(block.ends)])
        if lo == hi:
            continue
        starts, ends = block.starts(), block.ends
        for number in wanted[lo:hi].tolist():
            i = number - block.first
            line = _decode(number, bytes(block.raw[starts[i] : ends[i] + 1]))
            yield line.number, line.text, line.problem
        if hi == len(wanted):
            return
