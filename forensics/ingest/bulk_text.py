"""Tab-separated text logs (HDFS audit, metastore audit) decoded in bulk by DuckDB.

The file is read a block of lines at a time (`bulk.blocks`); each block goes
to DuckDB as Arrow strings without a copy, as the view `bulk_lines` (line, text, size):
`text` is the line with its newline, `size` its length without the newline and the
carriage returns `reader.read_lines` strips. A line holding any other byte than printable
ASCII and tabs (NUL, other control bytes, invalid UTF-8, any non-ASCII text) has a null
`text`: its rules (Unicode whitespace, case, `\\s` and `\\w`) are left to the line parser.
For a format `name`, `queries/ingest/<name>_rows.sql` decodes the block and flags with
`fast` the lines it decodes exactly as the line parser would; `<name>_minutes`,
`<name>_events` and `<name>_slow_lines` give the local minutes to convert, insert the
events of the fast lines and list the others. Memory stays bounded by one block (64 MB).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa

from forensics import queries
from forensics.ingest.bulk import Block, BulkRead, blocks, compression_of, load_offsets

_PLAIN = bytes(range(32, 127)) + b"\t\n"
_ODD = np.ones(256, dtype=bool)  # bytes that make a line the line parser's
_ODD[32:127] = False
_ODD[[9, 10]] = False
_CR = 13
_SPACE = 32
_BATCH = 8192  # lines per Arrow batch: DuckDB scans batches in parallel
_BLOCK = 1 << 26  # bytes of lines per block: DuckDB appends a few large inserts much faster


def read_text_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    rel: str,
    tz: ZoneInfo,
    *,
    name: str,
    rows: str | None = None,
    keep: str | None = None,
) -> BulkRead | None:
    """Insert the events of `path`'s plain lines into `raw_events` with the queries
    `ingest/<name>_*` (the rows by `ingest/<rows>_rows` when given, and of each block's
    rows what query `keep` keeps, given the file); None (nothing inserted) when the file
    cannot be read whole (a gzip stream cut short: the line parser reads what there is)."""

    def decode() -> list[int]:
        queries.execute(con, f"ingest/{rows or name}_rows")
        if keep is not None:
            queries.execute(con, keep, source_file=rel)
        load_offsets(con, f"ingest/{name}_minutes", f"{name}_offsets", tz)
        queries.execute(con, f"ingest/{name}_events", source_file=rel)
        return [n for (n,) in queries.relation(con, f"ingest/{name}_slow_lines").fetchall()]

    return read_line_blocks(con, path, rel, decode)


def read_line_blocks(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    rel: str,
    decode: Callable[[], list[int]],
    plain: Callable[[Block], np.ndarray] | None = None,
) -> BulkRead | None:
    """Each block of `path`'s lines as the view `bulk_lines` (`lines_table`; `plain` says
    which lines may have a text at all), decoded by `decode`, which inserts the events of
    the lines it decodes and returns the numbers of the others; the file's line count and
    all those numbers. None when the file cannot be read whole (a gzip stream cut short):
    what the file's blocks inserted is taken back (`bulk_forget`), so that the line parser
    reads the whole file and nothing is counted twice."""
    lines = 0
    slow: list[int] = []
    try:
        for block in blocks(path, compression_of(path), _BLOCK):
            con.register("bulk_lines", lines_table(block, None if plain is None else plain(block)))
            slow += decode()
            lines = block.first + len(block.ends) - 1
    except (OSError, EOFError, zlib.error):
        queries.execute(con, "ingest/bulk_forget", source_file=rel)
        return None
    finally:
        con.unregister("bulk_lines")
    return lines, slow


def lines_table(block: Block, keep: np.ndarray | None = None) -> pa.Table:
    """The block's lines as Arrow columns (line, text, size) over the block's own bytes;
    `text` is null where `keep` (one flag a line) is False, as on a line not plain."""
    data, ends = block.data, block.ends
    n = len(ends)
    starts = block.starts()
    size = ends - starts
    plain = np.ones(n, dtype=bool) if keep is None else keep.copy()
    if block.raw.translate(None, _PLAIN):  # a byte other than printable ASCII, tab, newline
        odd = np.flatnonzero(_ODD[data])
        line_of = np.searchsorted(ends, odd)
        cr = data[odd] == _CR
        plain[line_of[~cr]] = False
        # the carriage returns right before a line's end are stripped; any other is odd
        crs = np.bincount(line_of[cr], minlength=n)
        trailing = _trailing_crs(data, starts, ends, np.flatnonzero(crs))
        plain &= crs == trailing
        size -= trailing
        data[odd] = _SPACE  # the Arrow buffer stays ASCII (odd lines are null, CRs cut off)
    offsets = np.minimum(np.concatenate(([0], ends + 1)), len(data))
    validity = None if plain.all() else pa.py_buffer(np.packbits(plain, bitorder="little"))
    text = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(data), validity, n - int(plain.sum())
    )
    table = pa.table(
        {
            "line": pa.array(np.arange(block.first, block.first + n, dtype=np.int64)),
            "text": text,
            "size": pa.array(size.astype(np.int64)),
        }
    )
    return pa.Table.from_batches(table.to_batches(max_chunksize=_BATCH))  # one per thread


def _trailing_crs(
    data: np.ndarray, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray
) -> np.ndarray:
    """How many carriage returns end each line (looked at for `lines` only)."""
    trailing = np.zeros(len(ends), dtype=np.int64)
    back = 1
    while len(lines):
        at = ends[lines] - back
        lines = lines[at >= starts[lines]]
        lines = lines[data[ends[lines] - back] == _CR]
        trailing[lines] += 1
        back += 1
    return trailing
