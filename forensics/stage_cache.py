"""Stage results kept for the next run: the scope, and the whole evidence.

A rerun should redo only the stages whose inputs changed, as a build system does: each
stage's result is kept under a key made of the digests of exactly what the stage reads,
and used again only when that key comes up again. Three stages are kept beside the ingest
cache's per-file entries (`forensics/ingest/cache.py`), in the same private folder:

- `scope-<key>`: `derive_scope`'s result (exposure windows, the baseline's bitsets, the
  principals considered). It reads the case's policies, history, tags, roles, service
  configs, catalog, directory, window and zones, and of the logs only the principals they
  name and the permission changes of the NameNode audit: the key is those, so a new day of
  logs that names nobody new and changes no permission finds the scope of the day before.
- `reads-<key>`: the statements a run read for the columns and partitions each read read
  (`forensics/reads.py`) and the answers, keyed by the catalog's columns, partition
  columns and views and the code: a new day of logs reads only its new statements. Each
  run that read new ones replaces the entry with its own statements and answers.
- `evidence-<key>`: the whole evidence folder's files and manifest. Its key is everything
  that decides the evidence: every input's sha256 (each log included), the case's
  parameters, the options that change the evidence (literals kept, the pseudonym key, a
  quarantine allowed), the toolkit's version and code digest, its dependencies' versions
  and the zones' rules. A rerun on unchanged inputs copies the evidence back, checking each
  file against the digest its manifest recorded, and writes the manifest anew with only
  its `run` section changed (when it ran, and what came from the cache).

Every input is hashed on every run (the keys are made of the digests, so a changed byte
is a new key); the digests are computed once per run and shared with the ingest cache.
An entry is a folder of files and `entry.json` (the key's material and each file's
sha256), written into a `.partial-` folder and renamed into place when complete and
flushed; an entry whose material is not the key's, or a file whose digest differs, is
ignored with a warning, removed, and the stage run again. The scope is kept as a pickle:
it is read only from a folder the user owns and keeps private (`IngestCache.open` refuses
others), and only after its sha256 matched the one written beside it, so it is exactly
the bytes this toolkit wrote.

Only the entries of the stages this run completed are written; an entry of the same case
file that this run superseded (another key) is removed, so a cache does not grow by one
evidence copy per rerun.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from forensics import __version__, queries
from forensics.case import Case
from forensics.evidence import DEPENDENCIES, MANIFEST, run_record
from forensics.ingest.cache import (
    ENTRY,
    PARTIAL,
    IngestCache,
    code_digest,
    file_sha256,
    fsync_file,
    fsync_folder,
    package_version,
    write_private,
    zone_digest,
)
from forensics.scope import Scope
from forensics.sqlcolumns import TableSchema

#: The layout of stage entries; a change makes every older one foreign.
LAYOUT = 1
SCOPE, EVIDENCE, READS = "scope", "evidence", "reads"
SCOPE_FILE = "scope.pickle"
#: A `reads` entry: the statements a run read for columns and partitions, and the answers.
READ_STATEMENTS, STATEMENT_READS = "read_statements.parquet", "statement_reads.parquet"
_CHUNK = 1 << 20


def case_material(case: Case, digests: Mapping[Path, str], logs: bool) -> object:
    """The case's parameters as JSON-able values, each file it names as its path relative
    to the case and its sha256 (every `Path` anywhere in the case, so a field added later
    is in the key too); without the log sources when `logs` is False."""

    def value(item: object) -> object:
        if isinstance(item, Path):
            return {"path": case.relpath(item), "sha256": digests.get(item)}
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            return {f.name: value(getattr(item, f.name)) for f in dataclasses.fields(item)}
        if isinstance(item, (tuple, list)):
            return [value(v) for v in item]
        if isinstance(item, Mapping):
            return {str(k): value(v) for k, v in sorted(item.items())}
        if isinstance(item, ZoneInfo):
            return {"zone": item.key, "rules": zone_digest(item.key)}
        if isinstance(item, datetime):
            return item.isoformat()
        if item is None or isinstance(item, (str, int, float, bool)):
            return item
        return repr(item)

    fields = {f.name: getattr(case, f.name) for f in dataclasses.fields(case)}
    if not logs:
        del fields["logs"]
        del fields["path"]  # its bytes list the logs; every other setting is a field
    return value(fields)


def case_paths(case: Case) -> list[Path]:
    """Every file the case names (every `Path` in its fields, the case file too)."""
    found: list[Path] = []

    def walk(item: object) -> None:
        if isinstance(item, Path):
            found.append(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            for f in dataclasses.fields(item):
                walk(getattr(item, f.name))
        elif isinstance(item, (tuple, list)):
            for v in item:
                walk(v)

    walk(case)
    return found


def _key(material: Mapping[str, object]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def _common() -> dict[str, object]:
    """What every stage's key holds: the layout, the toolkit and its dependencies."""
    return {
        "layout": LAYOUT,
        "tool": __version__,
        "code": code_digest(),
        "dependencies": {
            d: package_version(d) for d in sorted({*DEPENDENCIES, "duckdb", "pyarrow"})
        },
    }


class StageCache:
    """The stage entries of one run's cache folder, and the digests of its inputs."""

    def __init__(self, cache: IngestCache, case: Case) -> None:
        self.cache = cache
        self.case = case
        self.digests: dict[Path, str] = {}
        for path in case_paths(case):
            if path in self.digests or not path.is_file():
                continue  # a FIFO is not read here: its reader refuses it with one line
            try:
                self.digests[path] = cache.digest(path)
            except OSError:
                pass  # unreadable: its key holds no digest, and its reader says what to fix

    # -- the evidence -------------------------------------------------------------------

    def evidence_key(self, options: Mapping[str, object]) -> str:
        """The key of the whole evidence: every input, parameter and option."""
        return _key(
            {
                **_common(),
                "stage": EVIDENCE,
                "case": case_material(self.case, self.digests, logs=True),
                "options": dict(options),
            }
        )

    def reuse_evidence(
        self, key: str, stage: Path, started: datetime, run: Callable[[], Mapping[str, object]]
    ) -> bool:
        """Copy the evidence of `key` into `stage` (each file checked against its
        manifest's digest while copied) and write its manifest with a new `run` section
        (`run()` gives what it adds); False, `stage` left empty, when there is none usable."""
        entry = self._entry(EVIDENCE, key, checked=(MANIFEST,))  # the others as copied
        if entry is None:
            return False
        try:
            try:
                manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
            except OSError as exc:
                raise _Unusable(f"{MANIFEST} unreadable ({exc.strerror})") from None
            current = {self.case.relpath(p): d for p, d in self.digests.items()}
            for item in manifest["inputs"]:  # the key holds them; checked again all the same
                if current.get(item["path"]) != item["sha256"]:
                    raise _Unusable(f"input {item['path']} differs from its manifest")
            for out in manifest["outputs"]:
                if Path(out["path"]).name != out["path"]:
                    raise _Unusable(f"its manifest names {out['path']!r}, not a file name")
                if _copy_hashed(entry / out["path"], stage / out["path"]) != out["sha256"]:
                    raise _Unusable(f"{out['path']} differs from its manifest")
        except OSError:
            raise  # writing the evidence failed (a full disk): one line, as without a cache
        except (ValueError, KeyError, TypeError, _Unusable) as exc:
            for path in list(stage.iterdir()):
                path.unlink()
            self._drop(EVIDENCE, key, entry, str(exc))
            return False
        self.cache.stages_reused.append(EVIDENCE)
        manifest["run"] = run_record(self.case, started, run())
        path = stage / MANIFEST
        path.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        os.chmod(path, 0o600)
        return True

    def store_evidence(self, key: str, out: Path) -> None:
        """Keep the evidence folder `out` (its manifest's outputs and the manifest) as the
        entry of `key` (a file that differs from its manifest is caught when it is used)."""
        try:
            manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
            names = [str(o["path"]) for o in manifest["outputs"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.cache.warnings.append(f"the evidence was not cached ({exc})")
            return
        self._store(EVIDENCE, key, {n: out / n for n in [*names, MANIFEST]})

    # -- the scope ----------------------------------------------------------------------

    def scope_key(self, log_principals: Iterable[str], changes: Iterable[object]) -> str:
        """The key of `derive_scope`'s result: the case without its logs, the principals
        the logs name and the permission changes they hold."""
        principals = hashlib.sha256("\0".join(sorted(log_principals)).encode()).hexdigest()
        changed = [
            dataclasses.asdict(c) if dataclasses.is_dataclass(c) else repr(c)  # type: ignore[arg-type]
            for c in changes
        ]
        return _key(
            {
                **_common(),
                "stage": SCOPE,
                "case": case_material(self.case, self.digests, logs=False),
                "log_principals": principals,
                "permission_changes": _key({"changes": changed}),
            }
        )

    def scope(self, key: str, derive: Callable[[], Scope]) -> Scope:
        """The scope of `key` from the cache, else `derive()`'s, kept for the next run."""
        entry = self._entry(SCOPE, key)
        if entry is not None:
            try:
                found = pickle.loads((entry / SCOPE_FILE).read_bytes())
                if not isinstance(found, Scope):
                    raise _Unusable("it holds no scope")
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, _Unusable) as exc:
                self._drop(SCOPE, key, entry, str(exc))
            else:
                self.cache.stages_reused.append(SCOPE)
                return found
        scope = derive()
        self._store(SCOPE, key, {SCOPE_FILE: pickle.dumps(scope, protocol=5)})
        return scope

    # -- the columns and partitions each statement read -----------------------------------

    def reads_key(self, schema: TableSchema) -> str:
        """The key of the statements' answers (`forensics/reads.py`): the catalog's
        columns, partition columns and views they were read against, and the code."""
        return _key(
            {
                **_common(),
                "stage": READS,
                "columns": {k: list(v) for k, v in sorted(schema.columns.items())},
                "partitions": {k: list(v) for k, v in sorted(schema.partition_columns.items())},
                "views": {k: list(v) for k, v in sorted(schema.views.items())},
            }
        )

    def load_reads(self, con: duckdb.DuckDBPyConnection, key: str) -> None:
        """The statements an earlier run read against the same catalog, and its answers,
        as the engine's `known_read_statements` and `known_statement_reads` (both or
        neither): the reader then reads only the statements that are new."""
        entry = self._entry(READS, key)
        if entry is None:
            return
        con.begin()
        try:
            for name, query in (
                (READ_STATEMENTS, "reconstruct/known_read_statements_from"),
                (STATEMENT_READS, "reconstruct/known_statement_reads_from"),
            ):
                queries.execute(con, query, path=str(entry / name))
            con.commit()
        except duckdb.Error as exc:
            con.rollback()
            self._drop(READS, key, entry, f"unreadable ({str(exc).splitlines()[0][:120]})")
            return
        self.cache.stages_reused.append(READS)

    def store_reads(self, con: duckdb.DuckDBPyConnection, key: str) -> None:
        """Keep this run's statements and answers (after reconstruct) as the entry of
        `key`, in place of the one it started from, when it read statements that entry
        did not hold."""
        new = queries.relation(con, "reconstruct/new_read_statements").aggregate("count(*)")
        if READS in self.cache.stages_reused and new.fetchall() == [(0,)]:
            return
        stage = Path(tempfile.mkdtemp(prefix=f"{PARTIAL}{os.getpid()}-", dir=self.cache.folder))
        try:
            for name, table in (
                (READ_STATEMENTS, "read_statements"),
                (STATEMENT_READS, "statement_reads"),
            ):
                con.table(table).write_parquet(str(stage / name), compression="zstd")
            self._store(
                READS, key, {n: stage / n for n in (READ_STATEMENTS, STATEMENT_READS)}, replace=True
            )
        except (OSError, duckdb.Error) as exc:
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:120]
            self.cache.warnings.append(
                f"the reads could not be cached in {self.cache.folder} ({reason}); the "
                "evidence is unaffected"
            )
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    # -- entries ------------------------------------------------------------------------

    def _entry(self, kind: str, key: str, checked: Iterable[str] | None = None) -> Path | None:
        """The entry folder of `key`, when its description names this key and every file
        (or those `checked`: the caller checks the others as it reads them) is there and
        as written; None otherwise (a damaged one removed, with a warning)."""
        entry = self.cache.folder / f"{kind}-{key}"
        if not entry.is_dir() or entry.is_symlink():
            return None
        try:
            meta = json.loads((entry / ENTRY).read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or meta.get("key") != key or meta.get("kind") != kind:
                raise _Unusable("written for another key")
            files = meta["files"]
            if not isinstance(files, dict) or not files:
                raise _Unusable(f"{ENTRY} lists no files")
            hashed = set(files if checked is None else checked)
            for name, digest in files.items():
                path = entry / name
                if path.is_symlink() or not path.is_file():
                    raise _Unusable(f"{name} differs from what was written")
                if name in hashed and file_sha256(path) != digest:
                    raise _Unusable(f"{name} differs from what was written")
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            self._drop(kind, key, entry, f"no readable {ENTRY} ({type(exc).__name__})")
            return None
        except _Unusable as exc:
            self._drop(kind, key, entry, str(exc))
            return None
        return entry

    def _drop(self, kind: str, key: str, entry: Path, reason: str) -> None:
        self.cache.warnings.append(
            f"cache entry {kind}-{key[:12]} ignored ({reason}); the {kind} stage was run again"
        )
        shutil.rmtree(entry, ignore_errors=True)

    def _store(
        self, kind: str, key: str, files: Mapping[str, Path | bytes], replace: bool = False
    ) -> None:
        """A new entry of `files` (paths copied, bytes written), renamed into place when
        complete (in place of the entry of the same key when `replace`: a run that reads
        it meanwhile finds it whole or not at all); the entries of the same kind and case
        file it supersedes removed. A cache that cannot be written is a warning: the
        evidence is unaffected."""
        folder = self.cache.folder
        target = folder / f"{kind}-{key}"
        if target.is_dir() and not replace:
            return
        stage = Path(tempfile.mkdtemp(prefix=f"{PARTIAL}{os.getpid()}-", dir=folder))
        try:
            digests = {}
            for name, source in files.items():
                if isinstance(source, bytes):
                    write_private(stage / name, source)
                    digests[name] = hashlib.sha256(source).hexdigest()
                else:
                    digests[name] = _copy_hashed(source, stage / name)
                    fsync_file(stage / name)
            meta = {"kind": kind, "key": key, "case_file": str(self.case.path), "files": digests}
            write_private(stage / ENTRY, json.dumps(meta, indent=1, sort_keys=True).encode())
            if replace and target.is_dir():  # set aside (a killed run's is a leftover)
                aside = Path(tempfile.mkdtemp(prefix=f"{PARTIAL}{os.getpid()}-", dir=folder))
                os.rename(target, aside / target.name)
                shutil.rmtree(aside, ignore_errors=True)
            os.rename(stage, target)
            fsync_folder(folder)
        except OSError as exc:
            if not target.is_dir():
                self.cache.warnings.append(
                    f"the {kind} could not be cached in {folder} ({exc.strerror or exc}); "
                    "the evidence is unaffected"
                )
            return
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        self.cache.stages_stored.append(kind)
        self._prune(kind, target.name)

    def _prune(self, kind: str, kept: str) -> None:
        """Remove the other entries of `kind` written for this case file."""
        for entry in self.cache.folder.glob(f"{kind}-*"):
            if entry.name == kept or entry.is_symlink() or not entry.is_dir():
                continue
            try:
                meta = json.loads((entry / ENTRY).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(meta, dict) and meta.get("case_file") == str(self.case.path):
                shutil.rmtree(entry, ignore_errors=True)


class _Unusable(Exception):
    """A stage entry that must not be trusted; the message says why."""


def _copy_hashed(source: Path, target: Path) -> str:
    """Copy `source` to a new private file `target` (never through a link); its sha256.
    `source` unreadable is `_Unusable` (the entry's fault); a failed write of `target` (a
    full disk) is the `OSError` itself, which the evidence folder reports as one line."""
    digest = hashlib.sha256()
    try:
        f = open(os.open(source, os.O_RDONLY | os.O_NOFOLLOW), "rb")
    except OSError as exc:
        raise _Unusable(f"{source.name} unreadable ({exc.strerror})") from None
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with open(fd, "wb") as out, f:
        while True:
            try:
                chunk = f.read(_CHUNK)
            except OSError as exc:
                raise _Unusable(f"{source.name} unreadable ({exc.strerror})") from None
            if not chunk:
                break
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()
