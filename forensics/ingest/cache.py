"""The ingest cache: each log file's normalized events kept for the next run.

Investigations are rerun (a new day's logs, a corrected catalog, the daily report), and
parsing every log again is most of a rerun's time. So each log file's rows of `raw_events`
and `quarantine`, with its line counts, are kept as one entry of a cache folder, and a
rerun loads the entry instead of reading the file.

An entry is trusted only when everything that decides those rows is the same, so it is
keyed (`entry_key`) by: the file's sha256 and size, its path relative to the case (every
event carries it, and event ids are derived from it), its declared format and, for a
`generic` log, the mapping and time format; the case's time zone and the bytes of that
zone's rules; the toolkit's version and a digest of its own code and queries (a parser
edited without a version bump changes the key too); DuckDB's and pyarrow's versions.
The redaction and pseudonymization options are not in the key: the rows are kept as the
logs wrote them (the evidence applies both later), because the statements' literals
decide partitions and statement identity (see docs/case-and-evidence.md).

An entry is a folder `<key>/` of `events.parquet`, `quarantine.parquet`,
`ranger_agents.parquet` (the agent fields the coverage ledger reads, kept by ingest for a
Ranger file) and `entry.json` (the key's material, the counts, each Parquet file's sha256
and row count). It is written
into a `.partial-` folder and renamed into place only when complete and flushed to disk,
so a killed run never leaves an entry that a later run trusts; a damaged entry (a file
whose digest or rows differ, an `entry.json` that does not parse or names another key) is
ignored with a warning and the file read again. The folder holds what the logs hold
(principals and statements with their literals): it is private (0700, files 0600) and
tagged `CACHEDIR.TAG`, so that backup tools that honour the tag leave it out.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import zoneinfo
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

import duckdb

from forensics import __version__, queries
from forensics.case import LogSource
from forensics.errors import InputError

#: The entry layout; a change makes every older entry foreign.
LAYOUT = 2
EVENTS = "events.parquet"
QUARANTINE = "quarantine.parquet"
AGENTS = "ranger_agents.parquet"  # the agent fields ingest keeps for coverage (Ranger)
#: Each file of an entry: the engine table it holds rows of, and the query that selects the
#: rows one log file added to it.
TABLES = {
    EVENTS: ("raw_events", "ingest/cache_events"),
    QUARANTINE: ("quarantine", "ingest/cache_quarantine"),
    AGENTS: ("ranger_agents", "ingest/cache_agents"),
}
ENTRY = "entry.json"
#: The Cache Directory Tagging Specification's tag (https://bford.info/cachedir/).
TAG = "CACHEDIR.TAG"
TAG_TEXT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This folder is a cache of normalized log events written by forensics.\n"
    "# It holds what the logs hold (principals, statements): keep it private.\n"
)
#: The name prefix of an entry being written (`.partial-<pid>-...`), renamed into place
#: when whole; the stage cache writes its entries the same way.
PARTIAL = ".partial-"
_CHUNK = 1 << 20


def default_folder(out: Path) -> Path:
    """The cache folder of an evidence folder: beside it, named after it (`ev.cache`)."""
    out = Path(out).absolute()
    return out.parent / f"{out.name}.cache"


@dataclass(frozen=True)
class Counts:
    """A cached file's line counts, as `ingest.FileCounts` holds them."""

    lines: int
    parsed: int
    quarantined: int
    read_by: str = ""  # which path read the file when it was cached (the manifest's read_by)


@dataclass(frozen=True)
class Mark:
    """Where one file's rows start in the engine's tables, taken before it is read."""

    events_from: int
    events: int
    quarantine_from: int
    quarantined: int
    agents_from: int
    agents: int

    def start(self, name: str) -> tuple[int, int]:
        """The first row id and the row count of the table an entry file holds."""
        return {
            EVENTS: (self.events_from, self.events),
            QUARANTINE: (self.quarantine_from, self.quarantined),
            AGENTS: (self.agents_from, self.agents),
        }[name]


@dataclass
class Slot:
    """One log file's place in the cache: its key and, once read, what it added."""

    key: str
    material: dict[str, object]
    rel: str
    path: Path
    stat: tuple[int, int]  # size and mtime when hashed: a file changed meanwhile is not kept
    mark: Mark | None = None


@dataclass
class IngestCache:
    """A cache folder in use by one run, and what the run did with it (for the manifest)."""

    folder: Path
    usable: bool = True
    reused: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    used: dict[str, str] = field(default_factory=dict)  # key -> log file, of this run
    stages_reused: list[str] = field(default_factory=list)  # forensics/stage_cache.py's
    stages_stored: list[str] = field(default_factory=list)
    created: bool = False  # this run made the folder (`abandon` removes it if left empty)
    #: the folder held with a shared lock while the run uses it: `abandon` removes a folder
    #: only when no other run holds it (two runs may share a cache folder)
    lock: int | None = None
    #: path -> (size, mtime, sha256) of the files hashed this run: each hashed once
    hashed: dict[Path, tuple[int, int, str]] = field(default_factory=dict)

    @classmethod
    def open(cls, folder: Path) -> IngestCache:
        """The cache folder, created private and tagged; `InputError` when it cannot be a
        cache (a symbolic link, another user's folder, a folder of other files)."""
        folder = Path(folder).absolute()
        if folder.is_symlink():
            raise InputError(
                f"{folder}: the cache folder is a symbolic link; give the real folder as "
                "--cache (a link could lead the cached events anywhere)"
            )
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder}: exists and is not a folder; give another --cache")
        if folder.is_dir() and not (folder / TAG).is_file() and any(folder.iterdir()):
            raise InputError(
                f"{folder}: exists and is not a forensics cache folder (no {TAG}); "
                "give another --cache or an empty folder"
            )
        lock = None
        for _ in range(3):  # again if a failed run sharing the folder removed it meanwhile
            created = not folder.exists()
            try:
                _private_folders(folder)
                if folder.stat().st_uid != os.getuid():
                    raise InputError(
                        f"{folder}: the cache folder is not yours; give another --cache"
                    )
                os.chmod(folder, 0o700)
                if not (folder / TAG).is_file():
                    write_private(folder / TAG, TAG_TEXT.encode())
                lock = _held(folder)
            except FileNotFoundError:
                continue
            except OSError as exc:  # a read-only or full disk: the run goes on without a cache
                return _unusable(folder, exc.strerror)
            if lock is not None:
                break
        if lock is None:
            return _unusable(folder, "another run kept removing it")
        opened = cls(folder, created=created, lock=lock)
        opened._remove_leftovers()
        return opened

    def digest(self, path: Path) -> str:
        """The sha256 of `path`'s bytes, hashed once per run while its size and mtime stay
        the same (the stage cache's keys and the ingest cache's share it)."""
        known = self.known_digest(path)
        if known is not None:
            return known
        stat = path.stat()
        sha = file_sha256(path)
        self.hashed[path] = (stat.st_size, stat.st_mtime_ns, sha)
        return sha

    def known_digest(self, path: Path) -> str | None:
        """The sha256 this run already computed of `path` (`digest`), while its size and
        mtime are still those it had then; None otherwise (the caller hashes it itself)."""
        known = self.hashed.get(path)
        if known is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        return known[2] if known[:2] == (stat.st_size, stat.st_mtime_ns) else None

    def abandon(self) -> None:
        """After a failed run: the folder removed if this run made it and kept nothing in
        it (the entries of the stages that did complete are right whatever failed after
        them, and are kept for the rerun that follows the fix)."""
        if not self.usable or not self.created or self.lock is None:
            return
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # no other run holds it
            if all(p.name == TAG for p in self.folder.iterdir()):
                shutil.rmtree(self.folder)
        except OSError:  # BlockingIOError: another run is using the folder; it stays
            pass
        finally:
            self.close()

    def close(self) -> None:
        """Let go of the folder (the run is over)."""
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None

    def slot(self, rel: str, path: Path, source: LogSource, tz: zoneinfo.ZoneInfo) -> Slot | None:
        """The key of one log file (its content hashed now); None when the cache folder
        could not be used."""
        if not self.usable:
            return None
        before = path.stat()
        material = entry_material(rel, self.digest(path), before.st_size, source, tz)
        key = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
        self.used[key] = rel
        return Slot(key, material, rel, path, (before.st_size, before.st_mtime_ns))

    def load(self, con: duckdb.DuckDBPyConnection, slots: list[Slot]) -> dict[str, Counts]:
        """Insert the cached rows of every slot whose entry is there into `raw_events`,
        `quarantine` and `ranger_agents`, and return their counts by file. One insert per
        table for all entries: entry by entry, the inserts of the 1M raw-format incident's
        twelve files cost 3.3 CPU s against 1.5 together. An entry that is unusable is
        left out (a warning; the caller reads its file again)."""
        ready: dict[str, tuple[Path, Counts]] = {}
        for slot in slots:
            entry = self.folder / slot.key
            if not entry.is_dir():
                continue
            try:
                ready[slot.rel] = (entry, _checked_entry(entry, slot))
            except _Unusable as exc:
                self._ignore(slot, entry, exc)
        try:
            _insert(con, [entry for entry, _ in ready.values()])
        except _Unusable:  # one entry's files are unreadable: find it, keep the others
            by_rel = {slot.rel: slot for slot in slots}
            for rel, (entry, _) in list(ready.items()):
                try:
                    _insert(con, [entry])
                except _Unusable as exc:
                    self._ignore(by_rel[rel], entry, exc)
                    del ready[rel]
        self.reused.extend(ready)
        return {rel: counts for rel, (_, counts) in ready.items()}

    def _ignore(self, slot: Slot, entry: Path, exc: Exception) -> None:
        """Remove an entry that must not be trusted, and say so."""
        self.warnings.append(
            f"cache entry {slot.key[:12]} for {slot.rel} ignored ({exc}); the file was read again"
        )
        shutil.rmtree(entry, ignore_errors=True)

    def begin(self, con: duckdb.DuckDBPyConnection, slot: Slot) -> None:
        """Note where the file's rows will start, before it is read (nothing is kept for
        the file when the engine's tables cannot say: they must be tables with row ids)."""
        try:
            queries.execute(con, "ingest/ranger_agents_table")
            (mark,) = queries.relation(con, "ingest/cache_mark").fetchall()
        except duckdb.Error as exc:
            self.warnings.append(f"{slot.rel}: not cached ({str(exc).splitlines()[0][:120]})")
            return
        slot.mark = Mark(*mark)

    def store(self, con: duckdb.DuckDBPyConnection, slot: Slot, counts: Counts) -> None:
        """Keep the rows the file added since `begin`, as a new entry. A file that changed
        while it was read, rows that are not all the file's, or a cache that cannot be
        written (a full disk) leave no entry: a warning, the evidence unchanged."""
        if slot.mark is None:
            return  # begin() could not mark where the file's rows start
        stat = slot.path.stat()
        if (stat.st_size, stat.st_mtime_ns) != slot.stat:
            self.warnings.append(f"{slot.rel} changed while it was read; it was not cached")
            return
        if (self.folder / slot.key).is_dir():
            return
        stage = Path(tempfile.mkdtemp(prefix=f"{PARTIAL}{os.getpid()}-", dir=self.folder))
        try:
            entry = _write_entry(con, stage, slot, counts)
            if entry is None:
                self.warnings.append(f"{slot.rel}: its rows could not be told apart; not cached")
                return
            os.rename(stage, self.folder / slot.key)
            fsync_folder(self.folder)
        except (OSError, duckdb.Error) as exc:  # a full disk, a failed write
            if (self.folder / slot.key).is_dir():
                return  # another run sharing the folder stored the same entry meanwhile
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:120]
            self.warnings.append(
                f"{slot.rel}: could not be cached in {self.folder} ({reason}); the evidence "
                "is unaffected"
            )
            return
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        self.stored.append(slot.rel)

    def prune(self) -> int:
        """Remove the entries this run's log files superseded (an entry of the same path
        whose key this run did not use: the file grew, or a setting changed), so that a
        log that grows between reruns does not leave one entry per run. How many."""
        if not self.usable:
            return 0
        paths = set(self.used.values())
        removed = 0
        for entry in self.folder.iterdir():
            if entry.name in self.used or len(entry.name) != 64 or entry.is_symlink():
                continue
            try:
                meta = json.loads((entry / ENTRY).read_text(encoding="utf-8"))
                path = meta["material"]["source_file"]
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not readable: ignored with a warning if its key comes up
            if path in paths:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed

    def summary(self) -> dict[str, object]:
        """What the manifest's `run` says of the cache: where it is, which log files came
        from it, which were added to it, which stages' results came from it or were added
        (`forensics/stage_cache.py`: "scope", "evidence"), and the entries ignored."""
        return {
            "folder": str(self.folder),
            "from_cache": sorted(self.reused),
            "stored": sorted(self.stored),
            "stages_from_cache": sorted(self.stages_reused),
            "stages_stored": sorted(self.stages_stored),
            "warnings": list(self.warnings),
        }

    def _remove_leftovers(self) -> None:
        """The `.partial-PID-*` folders of runs that were killed (their process is gone)."""
        for leftover in self.folder.glob(f"{PARTIAL}*-*"):
            pid = leftover.name[len(PARTIAL) :].split("-", 1)[0]
            if not pid.isdigit() or leftover.is_symlink() or not leftover.is_dir():
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                shutil.rmtree(leftover, ignore_errors=True)
            except PermissionError:
                pass


def _held(folder: Path) -> int | None:
    """A descriptor of `folder` holding a shared lock on it, or None when the folder was
    removed before the lock was taken (by a failed run that held it alone: `abandon`)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        if os.fstat(fd).st_ino == os.stat(folder, follow_symlinks=False).st_ino:
            return fd
    except FileNotFoundError:
        pass
    os.close(fd)
    return None


def _unusable(folder: Path, reason: str | None) -> IngestCache:
    """A cache that is not used: the run reads every log file, with a warning saying why."""
    unusable = IngestCache(folder, usable=False)
    unusable.warnings.append(
        f"{folder}: the cache folder cannot be used ({reason}); every log file was read and "
        "none was cached"
    )
    return unusable


def _private_folders(folder: Path) -> None:
    """`folder` and the missing folders above it, created 0700 (as the evidence's)."""
    missing = [folder, *(p for p in folder.parents if not p.exists())]
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def entry_material(
    rel: str, sha256: str, size: int, source: LogSource, tz: zoneinfo.ZoneInfo
) -> dict[str, object]:
    """Everything that decides a log file's normalized rows: the cache entry's key is the
    sha256 of this, as sorted JSON."""
    return {
        "layout": LAYOUT,
        "tool": __version__,
        "code": code_digest(),
        "dependencies": {name: package_version(name) for name in ("duckdb", "pyarrow")},
        "source_file": rel,
        "sha256": sha256,
        "bytes": size,
        "format": source.format,
        "mapping": [list(pair) for pair in source.mapping],
        "time_format": source.time_format,
        "timezone": tz.key,
        "zone_rules": zone_digest(tz.key),
    }


@cache
def code_digest() -> str:
    """sha256 over the toolkit's own Python files and queries (their paths and bytes)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for base, pattern in ((package, "*.py"), (queries.QUERIES_DIR, "*.sql")):
        for path in sorted(base.rglob(pattern)):
            digest.update(f"{base.name}/{path.relative_to(base).as_posix()}\0".encode())
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def zone_digest(key: str) -> str:
    """sha256 of the time zone rules Python reads for `key` (the system's tz database, else
    the tzdata package): a rules update changes how offset-less times read."""
    for root in zoneinfo.TZPATH:
        candidate = Path(root) / key
        if candidate.is_file():
            return hashlib.sha256(candidate.read_bytes()).hexdigest()
    try:
        from importlib import resources

        data = resources.files("tzdata.zoneinfo").joinpath(*key.split("/")).read_bytes()
        return hashlib.sha256(data).hexdigest()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return "unknown"


class _Unusable(Exception):
    """A cache entry that must not be trusted; the message says why."""


def _checked_entry(entry: Path, slot: Slot) -> Counts:
    """The counts of an entry whose description names this key and whose files are whole."""
    try:
        meta = json.loads((entry / ENTRY).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise _Unusable(f"no readable {ENTRY}") from None
    if not isinstance(meta, dict) or meta.get("material") != slot.material:
        raise _Unusable("written for another file, version or setting")
    try:
        counts = Counts(
            **{k: meta["counts"][k] for k in ("lines", "parsed", "quarantined")},
            read_by=str(meta["counts"].get("read_by", "")),
        )
        files = {name: meta["files"][name] for name in TABLES}
    except (KeyError, TypeError):
        raise _Unusable(f"{ENTRY} lacks counts or files") from None
    numbers = (counts.lines, counts.parsed, counts.quarantined)
    if not all(isinstance(v, int) and v >= 0 for v in numbers) or (
        counts.parsed + counts.quarantined != counts.lines
    ):
        raise _Unusable("its counts do not reconcile")
    for name, recorded in files.items():
        if not isinstance(recorded, dict) or _sha256_or_none(entry / name) != recorded.get(
            "sha256"
        ):
            raise _Unusable(f"{name} differs from what was written")
    if files[QUARANTINE].get("rows") != counts.quarantined:
        raise _Unusable("its quarantine does not match its counts")
    return counts


def _insert(con: duckdb.DuckDBPyConnection, entries: list[Path]) -> None:
    """Append the entries' rows to `raw_events`, `quarantine` and `ranger_agents`, one
    insert per table, all of them or none."""
    if not entries:
        return
    queries.execute(con, "ingest/ranger_agents_table")
    con.begin()
    try:
        for name, (table, _) in TABLES.items():
            columns, kinds = con.table(table).columns, _kinds(con.table(table))
            for entry in entries:
                rows = con.read_parquet(str(entry / name))
                if rows.columns != columns or _kinds(rows) != kinds:
                    raise _Unusable(f"{name} has other columns than {table}")
            con.read_parquet([str(entry / name) for entry in entries]).insert_into(table)
        con.commit()
    except (duckdb.Error, _Unusable) as exc:
        con.rollback()
        raise exc if isinstance(exc, _Unusable) else _Unusable(f"unreadable ({exc})") from None


def _kinds(relation: duckdb.DuckDBPyRelation) -> list[str]:
    """Column types, a millisecond timestamp read back from Parquet as a timestamp."""
    return [str(t).replace("TIMESTAMP_MS", "TIMESTAMP") for t in relation.types]


def _write_entry(
    con: duckdb.DuckDBPyConnection, stage: Path, slot: Slot, counts: Counts
) -> dict | None:
    """The entry's files in `stage`, flushed; None when the rows added since the mark are
    not exactly the file's (all of them must name it, and be all the rows added)."""
    assert slot.mark is not None
    files: dict[str, dict[str, object]] = {}
    for name, (table, query) in TABLES.items():
        since, before = slot.mark.start(name)
        queries.relation(con, query, since=since).write_parquet(
            str(stage / name), compression="zstd"
        )
        written = con.read_parquet(str(stage / name))  # checked as written, in one column
        kept = _count(written)
        other = written.filter(
            duckdb.ColumnExpression("source_file") != duckdb.ConstantExpression(slot.rel)
        )
        if kept != _count(con.table(table)) - before or _count(other) != 0:
            return None
        files[name] = {"sha256": file_sha256(stage / name), "rows": kept}
    if files[QUARANTINE]["rows"] != counts.quarantined:
        return None
    meta = {"material": slot.material, "counts": vars(counts), "files": files}
    write_private(stage / ENTRY, json.dumps(meta, indent=1, sort_keys=True).encode())
    for name in TABLES:
        os.chmod(stage / name, 0o600)
        fsync_file(stage / name)
    return meta


def _count(relation: duckdb.DuckDBPyRelation) -> int:
    ((rows,),) = relation.aggregate("count(*)").fetchall()
    return int(rows)


def write_private(path: Path, data: bytes) -> None:
    """A new file readable by its owner only, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def fsync_file(path: Path) -> None:
    """Flush a written file to disk (before the rename that makes its entry visible)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fsync_file(folder)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path) if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def package_version(name: str) -> str:
    """An installed distribution's version (part of a cache key), or "not installed"."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
