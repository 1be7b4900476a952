"""Ranger audit files read in bulk by DuckDB's JSON reader, with the line parser as referee.

A healthy plugin writes millions of lines of one plain shape; DuckDB reads those an order
of magnitude faster than a Python loop and on both cores. The rules stay in one place,
`forensics/ingest/ranger.py`: the bulk path (`queries/ingest/ranger_*.sql`) decodes only
lines whose fields have the plain types and shapes it can decode exactly as the line
parser would, and hands every other line to the line parser. A file DuckDB cannot read
whole, line for line (invalid JSON or UTF-8, blank lines, a gzip cut short, duplicate
keys), is read by the line parser entirely, so every line is still parsed or quarantined
with its own reason. tests/test_ingest_bulk.py holds both paths to the same events.
"""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from forensics import queries
from forensics.engine import load_rows

_CHUNK = 1 << 24


def read_ranger_file(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, tz: ZoneInfo
) -> tuple[int, list[int]] | None:
    """Insert the events of `path`'s plain lines into `raw_events`.

    Returns the file's physical line count and the numbers of the lines left to the line
    parser, or None (nothing inserted) when DuckDB cannot read the file line for line."""
    compression = "gzip" if _is_gzip(path) else "none"
    try:
        lines = count_lines(path, compression)
        queries.execute(con, "ingest/ranger_rows", path=str(path), compression=compression)
    except (OSError, EOFError, duckdb.Error):
        return None
    if con.table("ranger_rows").shape[0] != lines:
        return None  # DuckDB skipped blank lines or split one: only the line parser can say
    minutes = [m for (m,) in queries.relation(con, "ingest/ranger_minutes").fetchall()]
    load_rows(
        con,
        "ranger_offsets",
        [("minute", pa.timestamp("us")), ("offset_ms", pa.int64())],
        [(m, _offset_ms(m, tz)) for m in minutes],
    )
    queries.execute(con, "ingest/ranger_events", source_file=rel)
    slow = [n for (n,) in queries.relation(con, "ingest/ranger_slow_lines").fetchall()]
    return lines, slow


def count_lines(path: Path, compression: str) -> int:
    """Physical lines as `reader.read_lines` counts them (a last line without `\\n` too)."""
    opener = gzip.open if compression == "gzip" else open
    count = 0
    last = b"\n"
    with opener(path, "rb") as stream:
        while block := stream.read(_CHUNK):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _offset_ms(minute: datetime, tz: ZoneInfo) -> int:
    """UTC offset of a local wall-clock minute, read as the line parser reads a time
    (`fold=0`: an ambiguous time is its first occurrence)."""
    offset = minute.replace(tzinfo=tz).utcoffset() or timedelta(0)
    return offset // timedelta(milliseconds=1)


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"
