"""JSON-lines logs (Ranger audit, Trino events) read in bulk by DuckDB's JSON reader.

For a format `name`, `queries/ingest/<name>_rows.sql` reads the file with `read_json`, one
row per line in file order (blank lines skipped; a line DuckDB cannot read, such as one cut
short, garbage, NUL bytes or invalid UTF-8, gives an empty row), and flags with `fast` the
rows whose fields have the plain types and shapes it decodes exactly as the line parser
would. `<name>_minutes`, `<name>_events` and `<name>_slow_lines` then give the local
minutes to convert, insert the events of the fast rows, and list the other lines. A file
whose lines DuckDB does not give one row each is left to the line parser entirely.

A Ranger file whose first line carries a log4j prefix before the JSON goes to the text
reader instead (`read_ranger_file`), which decodes the JSON after the prefix.

Known leniency of DuckDB's reader on lines that are not valid JSON: a trailing comma in an
object or array is accepted, and of a repeated key the first value is kept (Python's
reader refuses the first and keeps the last). Ranger's and Trino's writers produce neither.
"""

from __future__ import annotations

import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import duckdb
import numpy as np

from forensics import queries
from forensics.ingest.bulk import (
    BulkRead,
    compression_of,
    first_line,
    load_line_numbers,
    load_offsets,
    scan_lines,
)
from forensics.ingest.bulk_text import read_text_file
from forensics.ingest.layouts import LOG4J_JSON
from forensics.inputs import open_input


def read_json_file(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, tz: ZoneInfo, *, name: str
) -> BulkRead | None:
    """Insert the events of `path`'s plain lines into `raw_events` with the queries
    `ingest/<name>_*`; None (nothing inserted) when DuckDB cannot read the file line for
    line."""
    compression = compression_of(path)
    _define_macros(con, name)
    # The line count (numpy, file reads: both free Python's lock) runs beside DuckDB's
    # reader, which frees it too: the two overlap on the two cores.
    with ThreadPoolExecutor(max_workers=1) as pool, open_input(path) as handle:
        scan = pool.submit(scan_lines, path, compression)
        try:
            queries.execute(
                con, f"ingest/{name}_rows", path=_opened(handle, path), compression=compression
            )
            read = True
        except duckdb.Error:
            read = False
        try:
            lines, kept = scan.result()
        except (OSError, EOFError, zlib.error):
            return None
    if not read:
        return None
    if con.table(f"{name}_rows").shape[0] != len(kept):
        return None  # DuckDB split or dropped a line the scan counted: the line parser decides
    load_line_numbers(con, f"{name}_line_numbers", kept)
    load_offsets(con, f"ingest/{name}_minutes", f"{name}_offsets", tz)
    queries.execute(con, f"ingest/{name}_events", source_file=rel)
    slow = [n for (n,) in queries.relation(con, f"ingest/{name}_slow_lines").fetchall()]
    if len(kept) != lines:
        blank = np.setdiff1d(np.arange(1, lines + 1, dtype=np.int64), kept)
        slow = sorted(slow + blank.tolist())
    return lines, slow


def _opened(handle: BinaryIO, path: Path) -> str:
    """The name under which DuckDB reads the file `handle` has open (checked to be a
    regular file by `open_input`): `/dev/fd/N` reopens that very file, so it cannot be
    swapped for a FIFO or device between the check and DuckDB's read (nor read as a glob
    pattern, as DuckDB reads a path holding `*` or `[`); the path itself where the system
    has no /dev/fd."""
    fd_path = f"/dev/fd/{handle.fileno()}"
    return fd_path if os.path.exists(fd_path) else str(path)


def read_ranger_file(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, tz: ZoneInfo
) -> BulkRead | None:
    """Ranger audit lines in bulk: bare JSON lines through DuckDB's JSON reader; when the
    file's first line carries a log4j prefix before the JSON (the log4j destination, the
    Kafka appender), the text reader with `ingest/ranger_log4j_rows`, which decodes the
    JSON after the prefix. Either way the other lines are the line parser's."""
    if not _log4j_first_line(path):
        found = read_json_file(con, path, rel, tz, name="ranger")
        if found is not None:  # the agent fields, so that coverage need not read it again
            queries.execute(con, "ingest/ranger_agents_table")
            queries.execute(con, "ingest/ranger_agents", source_file=rel)
        return found
    _define_macros(con, "ranger")
    load_line_numbers(con, "ranger_line_numbers", np.zeros(0, dtype=np.int64))
    queries.execute(con, "ingest/ranger_agents_table")  # kept block by block, as above
    found = read_text_file(
        con, path, rel, tz, name="ranger", rows="ranger_log4j", keep="ingest/ranger_agents"
    )
    if found is None:
        queries.execute(con, "ingest/ranger_agents_forget", source_file=rel)
    return found


#: Table macros a format's row queries call (the Ranger decoding that bare lines and lines
#: behind a log4j prefix share), defined before they run.
MACROS = {"ranger": ("ingest/ranger_typed",)}


def _define_macros(con: duckdb.DuckDBPyConnection, name: str) -> None:
    for macro in MACROS.get(name, ()):
        queries.execute(con, macro)


def _log4j_first_line(path: Path) -> bool:
    """Whether the first line that is not blank starts with a log4j prefix before JSON."""
    text = first_line(path)
    return text is not None and LOG4J_JSON.match(text) is not None
