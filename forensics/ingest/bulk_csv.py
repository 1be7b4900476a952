"""Generic CSV logs decoded in bulk by DuckDB, a block of lines at a time.

A CSV export of another system's access table has millions of one-line records; reading
each through Python's `csv` module and the row parser (`forensics/ingest/generic.py`) is
what made such a log slow. Here the file is read as `bulk_text` reads text logs (blocks of
whole lines handed to DuckDB as Arrow strings, `bulk_lines`), and
`queries/ingest/generic_csv_input.sql` splits each line that is one whole record into the
header's fields (on commas; a line with quotes only when every field is plain or wholly
quoted, RFC 4180, so that the split is what `csv.reader` gives). The fields become the
`generic_input` columns the Parquet path decodes (`bulk_generic`, `generic_rows`), and the
events of the rows decoded exactly as the parser would are inserted into `raw_events`.

Every other line goes to the row parser by its number, whole records at a time: the
header and whatever precedes it, blank lines, lines with other bytes than printable ASCII
(the reader's NUL and UTF-8 checks, Unicode rules), every line of a record spanning lines
(a quoted field with a newline: told by the running count of quotes, as the parser tells
it), wrong field counts, other time shapes (a `time_format` pattern: the whole file), odd
values. tests/test_ingest_bulk_csv.py holds both paths to the same events, quarantine and
counts.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np

from forensics import queries
from forensics.ingest.bulk import Block, BulkRead, load_offsets
from forensics.ingest.bulk_generic import TEXT_FIELDS
from forensics.ingest.bulk_text import read_line_blocks
from forensics.ingest.generic import GenericLog, csv_header
from forensics.inputs import open_input

_QUOTE = 34
_NUL = 0
#: The time formats the SQL reads: whole epoch numbers, or ISO-8601 (no `time_format`).
_TIME_KINDS = {"epoch_ms": "epoch_ms", "epoch_s": "epoch_s", None: "iso"}


def read_generic_csv(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, tz: ZoneInfo, log: GenericLog
) -> BulkRead | None:
    """Insert the events of the one-line records of CSV file `path` that the SQL decodes
    exactly as the row parser would; the line count and the lines left to the parser, or
    None (nothing inserted) when the parser must read the whole file (Parquet, a
    `time_format` pattern, no header, a gzip stream cut short, a line too long)."""
    if log.time_format not in _TIME_KINDS:
        return None
    with open_input(path) as f:
        if f.read(4) == b"PAR1":
            return None
    header = csv_header(path, rel)
    if header is None:
        return None
    names, header_end = header
    log.check_columns(set(names), rel)
    position = {field: names.index(column) + 1 for field, column in log.mapping.items()}
    params: dict[str, object] = {f: position.get(f, 0) for f in (*TEXT_FIELDS, "event_count")}
    params |= {
        "fields": len(names),
        "time": position["time"],
        "time_kind": _TIME_KINDS[log.time_format],
        "source_file": rel,
    }
    open_record = False  # a quoted field goes on past the end of the block before

    def one_line_records(block: Block) -> np.ndarray:
        nonlocal open_record
        keep, open_record = _one_line_records(block, open_record, header_end)
        return keep

    def decode() -> list[int]:
        queries.relation(con, "ingest/generic_csv_input", **params).create_view(
            "generic_input", replace=True
        )
        queries.execute(con, "ingest/generic_rows")
        queries.execute(con, "ingest/generic_csv_rows")
        load_offsets(con, "ingest/generic_csv_minutes", "generic_csv_offsets", tz)
        queries.execute(con, "ingest/generic_csv_kept")
        queries.execute(con, "ingest/generic_decode")
        queries.execute(con, "ingest/generic_csv_events")
        return [n for (n,) in queries.relation(con, "ingest/generic_csv_slow").fetchall()]

    return read_line_blocks(con, path, rel, decode, one_line_records)


def _one_line_records(block: Block, open_before: bool, header_end: int) -> tuple[np.ndarray, bool]:
    """Which lines of `block` are each a whole record after the header (the SQL may decode
    them), and whether a quoted field is still open after its last line. As the row parser
    reads lines: a record goes on while its count of quotes is odd, and a line the reader
    cannot decode (NUL bytes, invalid UTF-8) ends it."""
    data, ends = block.data, block.ends
    n = len(ends)
    quotes = np.bincount(np.searchsorted(ends, np.flatnonzero(data == _QUOTE)), minlength=n)
    broken = _undecodable(block)
    # running parity of quotes since the last line that ends any record (a broken one)
    odd = (quotes % 2).astype(np.int64)
    odd[broken] = 0
    running = np.cumsum(odd) + int(open_before)
    index = np.arange(n)
    last_broken = np.maximum.accumulate(np.where(broken, index, -1))
    base = np.where(last_broken >= 0, running[np.maximum(last_broken, 0)], 0)
    open_after = (running - base) % 2 == 1
    open_at_start = np.concatenate(([open_before], open_after[:-1]))
    numbers = np.arange(block.first, block.first + n)
    keep = ~open_at_start & ~open_after & ~broken & (numbers > header_end)
    return keep, bool(open_after[-1]) if n else open_before


def _undecodable(block: Block) -> np.ndarray:
    """Lines `reader.read_lines` gives no text for, other than blank ones: NUL bytes or
    invalid UTF-8 (only lines with a byte above 127 are decoded to tell)."""
    data, ends = block.data, block.ends
    broken = np.zeros(len(ends), dtype=bool)
    nul = np.flatnonzero(data == _NUL)
    broken[np.searchsorted(ends, nul)] = True
    high = np.unique(np.searchsorted(ends, np.flatnonzero(data > 127)))
    starts = block.starts()
    for i in high[~broken[high]].tolist():
        try:
            bytes(block.raw[starts[i] : ends[i]]).decode("utf-8")
        except UnicodeDecodeError:
            broken[i] = True
    return broken
