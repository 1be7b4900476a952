"""The embedded engine: a DuckDB connection that holds events and scope tables.

The heavy joins of an investigation run here, never in Python loops. The connection works
in UTC and its memory is bounded (DuckDB spills to disk beyond the limit).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from forensics.schema import arrow_table

DEFAULT_MEMORY_LIMIT = "4GB"
_SIZE = re.compile(r"^\s*([0-9]{1,6}(\.[0-9]{1,3})?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.I)


def memory_limit(text: str) -> str:
    """`text` as a DuckDB memory limit ("2GB", "1500MB", "1.5GiB"), or ValueError saying
    what to give. Beyond it the engine spills to disk: slower, never a partial result."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"memory limit {text[:60]!r}: give a size such as 2GB, 1500MB or 1.5GiB")
    number, unit = match[1], _UNITS[match[3].upper()]
    if float(number) * unit[1] < 64 * 2**20:
        raise ValueError(f"memory limit {text[:60]!r}: give at least 64MB")
    return f"{number}{unit[0]}"


#: Unit (upper case) -> DuckDB's spelling, bytes.
_UNITS = {
    u.upper(): (u, f) for u, f in (
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12),
        ("KiB", 2**10), ("MiB", 2**20), ("GiB", 2**30), ("TiB", 2**40),
    )
}  # fmt: skip


def connect(
    memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection configured for reproducible investigations.

    Beyond the memory limit DuckDB spills to disk; the spill files hold event data, so
    they go to a private (0700) folder of their own, removed at exit, never to the
    working directory; the folders of runs that were killed are removed by the next."""
    remove_stale_spills()
    spill = tempfile.mkdtemp(prefix=f"{_SPILL}{os.getpid()}-")
    atexit.register(shutil.rmtree, spill, ignore_errors=True)
    con = duckdb.connect(
        ":memory:",
        config={
            "threads": threads or max(1, os.cpu_count() or 1),
            "memory_limit": memory_limit,
            "temp_directory": spill,
            "preserve_insertion_order": True,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    con.sql("SET TimeZone = 'UTC'")
    return con


_SPILL = "forensics-spill-"


def remove_stale_spills() -> None:
    """Remove the spill folders a killed run left in the temporary folder (`kill -9` runs
    no exit handler): those of this user whose process no longer exists. Each is named
    for its run's process id."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SPILL}*-*"):
        pid = folder.name[len(_SPILL) :].split("-", 1)[0]
        if not pid.isdigit() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # a live process of another user


def load_arrow(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Create (or replace) table `name` from an Arrow table."""
    if _exists(con, name):
        con.sql("DROP TABLE " + _identifier(name))
    con.from_arrow(table).create(name)


def load_rows(
    con: duckdb.DuckDBPyConnection,
    name: str,
    schema: Sequence[tuple[str, pa.DataType]],
    rows: Iterable[Sequence[object]],
) -> None:
    """Create (or replace) table `name` with `schema` from Python rows."""
    load_arrow(con, name, arrow_table(list(rows), pa.schema(list(schema))))


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.sql(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name", params={"name": name}
    ).fetchall()
    return bool(found[0][0])


def _identifier(name: str) -> str:
    """A quoted identifier for one of our own table names (never user input)."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"internal table name {name!r} is not an identifier")
    return '"' + name + '"'
