"""Ranger audit files read in bulk by DuckDB's JSON reader, with the line parser as referee.

A healthy plugin writes millions of lines of one plain shape; DuckDB reads those an order
of magnitude faster than a Python loop and on both cores. The rules stay in one place,
`forensics/ingest/ranger.py`: the bulk path (`queries/ingest/ranger_*.sql`) decodes only
lines whose fields have the plain types and shapes it can decode exactly as the line
parser would, and hands every other line to the line parser: lines DuckDB cannot read
(cut short, garbage, NUL bytes, invalid UTF-8; it gives them an empty row), blank lines
(which it skips), and lines of odd shape. A file whose lines DuckDB does not give one row
each is read by the line parser entirely. So every line is parsed or quarantined with the
line parser's own reason; tests/test_ingest_bulk.py holds both paths to the same events.

Known leniency of DuckDB's reader on lines that are not valid JSON: a trailing comma in
an object is accepted, and of a repeated key the first value is kept. Ranger's writers
produce neither.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa

from forensics import queries
from forensics.engine import load_rows
from forensics.ingest.reader import is_gzip

_CHUNK = 1 << 24
_NEWLINE = 10
_BLANK = np.array([9, 10, 11, 12, 13, 32], dtype=np.uint8)  # a line of only these is skipped
_WHITESPACE = bytes(_BLANK)


def read_ranger_file(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, tz: ZoneInfo
) -> tuple[int, list[int]] | None:
    """Insert the events of `path`'s plain lines into `raw_events`.

    Returns the file's physical line count and the numbers of the lines left to the line
    parser, or None (nothing inserted) when DuckDB cannot read the file line for line."""
    compression = "gzip" if is_gzip(path) else "none"
    try:
        lines, kept = scan_lines(path, compression)
        queries.execute(con, "ingest/ranger_rows", path=str(path), compression=compression)
    except (OSError, EOFError, zlib.error, duckdb.Error):
        return None
    if con.table("ranger_rows").shape[0] != len(kept):
        return None  # DuckDB split or dropped a line the scan counted: the line parser decides
    numbered = len(kept) != lines
    load_rows(
        con,
        "ranger_line_numbers",
        [("idx", pa.int64()), ("line", pa.int64())],
        zip(range(len(kept)), kept.tolist(), strict=True) if numbered else [],
    )
    minutes = [m for (m,) in queries.relation(con, "ingest/ranger_minutes").fetchall()]
    load_rows(
        con,
        "ranger_offsets",
        [("minute", pa.timestamp("us")), ("offset_ms", pa.int64())],
        [(m, _offset_ms(m, tz)) for m in minutes],
    )
    queries.execute(con, "ingest/ranger_events", source_file=rel)
    slow = [n for (n,) in queries.relation(con, "ingest/ranger_slow_lines").fetchall()]
    if numbered:
        blank = np.setdiff1d(np.arange(1, lines + 1, dtype=np.int64), kept)
        slow = sorted(slow + blank.tolist())
    return lines, slow


def scan_lines(path: Path, compression: str) -> tuple[int, np.ndarray]:
    """Physical lines as `reader.read_lines` counts them (a last line without a newline
    too), and the numbers of the lines DuckDB's reader gives a row for: all but the blank
    ones (nothing but whitespace), which it skips."""
    opener = gzip.open if compression == "gzip" else open
    kept: list[np.ndarray] = []
    total = 0
    carry = b""
    with opener(path, "rb") as stream:
        while True:
            block = stream.read(_CHUNK)
            data = carry + block
            if not data:
                break
            end = data.rfind(b"\n") + 1 if block else len(data)
            carry = data[end:]
            if end:
                found, count = _filled_lines(np.frombuffer(data, dtype=np.uint8, count=end))
                kept.append(found + total + 1)
                total += count
            if not block:
                break
    return total, np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)


def _filled_lines(data: np.ndarray) -> tuple[np.ndarray, int]:
    """0-based indexes of the lines of `data` (whole lines) that are not blank, and how
    many lines it holds. Only a line that starts with whitespace is looked at whole."""
    ends = np.flatnonzero(data == _NEWLINE)
    if len(ends) == 0 or ends[-1] != len(data) - 1:
        ends = np.append(ends, len(data))  # the last line, without a newline
    starts = np.concatenate(([0], ends[:-1] + 1))
    first = data[np.minimum(starts, len(data) - 1)]
    filled = (starts < ends) & ~np.isin(first, _BLANK)
    for i in np.flatnonzero((starts < ends) & np.isin(first, _BLANK)):
        filled[i] = bool(data[starts[i] : ends[i]].tobytes().strip(_WHITESPACE))
    return np.flatnonzero(filled), len(ends)


def _offset_ms(minute: datetime, tz: ZoneInfo) -> int:
    """UTC offset of a local wall-clock minute, read as the line parser reads a time
    (`fold=0`: an ambiguous time is its first occurrence)."""
    offset = minute.replace(tzinfo=tz).utcoffset() or timedelta(0)
    return offset // timedelta(milliseconds=1)
