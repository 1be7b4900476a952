"""The embedded engine: a DuckDB connection that holds events and scope tables.

The heavy joins of an investigation run here, never in Python loops. The connection works
in UTC and its memory is bounded (DuckDB spills to disk beyond the limit). By default the
limit is chosen so that the whole process, engine and Python, stays within a budget of
2 GiB (or half the machine's memory, if less): the engine gets what the Python side of the
run (catalog, scope) leaves of it, measured when the connection opens and again when the
scope is loaded (`fit_memory`); `--memory-limit` overrides it.
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

#: The default memory limit: chosen from the machine and what the run already holds.
AUTO = "auto"
DEFAULT_MEMORY_LIMIT = AUTO
#: The peak the whole process aims at by default (engine, Python objects, Arrow buffers).
PEAK_BUDGET = 2 * 2**30
#: Kept out of the engine's share for what Python allocates beside it (rows handed to the
#: engine, the copies followed, the manifest) and for the engine's own overshoot.
_MARGIN = 448 * 2**20
_FLOOR = 256 * 2**20
_SIZE = re.compile(r"^\s*([0-9]{1,6}(\.[0-9]{1,3})?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.I)


def memory_limit(text: str) -> str:
    """`text` as a DuckDB memory limit ("2GB", "1500MB", "1.5GiB"; "auto": chosen by
    `auto_memory_limit`), or ValueError saying what to give. Beyond it the engine spills
    to disk: slower, never a partial result."""
    if text.strip().lower() == AUTO:
        return AUTO
    match = _SIZE.match(text)
    if not match:
        raise ValueError(
            f"memory limit {text[:60]!r}: give a size such as 2GB, 1500MB or 1.5GiB, or auto"
        )
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
    if memory_limit == AUTO:
        memory_limit = auto_memory_limit()
    spill = tempfile.mkdtemp(prefix=f"{_SPILL}{os.getpid()}-")
    atexit.register(shutil.rmtree, spill, ignore_errors=True)
    con = duckdb.connect(
        ":memory:",
        config={
            "threads": threads or _cores(),
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


def auto_memory_limit(con: duckdb.DuckDBPyConnection | None = None) -> str:
    """The engine's share of the process budget (`PEAK_BUDGET`, or half the machine's
    memory if less): the budget minus what the process holds outside the engine now (its
    resident memory less the engine's own, when `con` is given) and a margin; at least
    256 MiB. A larger case (catalog, scope) leaves the engine less, and it spills sooner."""
    budget = min(PEAK_BUDGET, _physical_memory() // 2)
    outside = _resident() - (_engine_bytes(con) if con is not None else 0)
    return f"{max(_FLOOR, budget - outside - _MARGIN) // 2**20}MiB"


def fit_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Refit an automatic memory limit to what the process holds now (call it once the
    Python side of a run has grown: the scope is loaded)."""
    con.execute("SET memory_limit = $limit", {"limit": auto_memory_limit(con)})


def _cores() -> int:
    """The cores this process may run on (a container or `taskset` may allow fewer than
    the machine has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _physical_memory() -> int:
    """The machine's memory in bytes (8 GiB when the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 8 * 2**30


def _resident() -> int:
    """This process's resident memory in bytes now (0 when the system does not say)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _engine_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """What the engine's buffer manager holds now, in bytes."""
    ((used,),) = con.sql(
        "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
    ).fetchall()
    return int(used)


def remove_stale_spills() -> None:
    """Remove the spill folders a killed run left in the temporary folder (`kill -9` runs
    no exit handler): those of this user whose process no longer exists. Each is named
    for its run's process id."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SPILL}*-*"):
        pid = folder.name[len(_SPILL) :].split("-", 1)[0]
        try:
            if not pid.isdigit() or folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
        except FileNotFoundError:
            continue  # another run removed it between the listing and this look
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


def load_batches(
    con: duckdb.DuckDBPyConnection,
    name: str,
    schema: Sequence[tuple[str, pa.DataType]],
    batches: Iterable[Iterable[Sequence[object]]],
) -> None:
    """Create (or replace) table `name` with `schema` from Python rows that arrive in
    batches, each loaded as it comes, so that Python holds one batch at a time however
    many rows there are. The batches may be computed from a result `con` is still
    streaming: they are loaded through a connection of their own."""
    arrow_schema = pa.schema(list(schema))
    load_arrow(con, name, arrow_table([], arrow_schema))
    loader = con.cursor()
    try:
        for rows in batches:
            loader.from_arrow(arrow_table(list(rows), arrow_schema)).insert_into(name)
    finally:
        loader.close()


def stream_rows(relation: duckdb.DuckDBPyRelation, size: int = 65_536) -> Iterable[list[tuple]]:
    """The rows of `relation` in order, in lists of at most `size` rows, fetched as they
    are needed (a result of millions of rows never sits whole in Python)."""
    for batch in relation.to_arrow_reader(size):
        yield list(zip(*(column.to_pylist() for column in batch.columns), strict=True))


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
