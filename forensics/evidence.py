"""Evidence: the contract's CSV files and manifest, written atomically, and their verification.

Everything is written into a private staging folder beside the target and renamed into
place only when complete, so an interrupted run leaves the previous evidence intact.
Folders are created 0700 and files 0600: the evidence describes access to sensitive data.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import duckdb

from forensics import __version__, queries
from forensics.case import Case
from forensics.errors import EvidenceError
from forensics.ingest import FileCounts
from forensics.inputs import open_input
from forensics.policy.history import HistoryFile
from forensics.privacy import NAME_REWRITER, seal

#: Evidence files in the order the contract lists them, each produced by queries/evidence/.
EVIDENCE_FILES = (
    "exposure_enabled_reads",
    "access_events",
    "objects",
    "principals",
    "derived_copies",
    "unexplained_reads",
    "quarantine",
    "unparsed_statements",
    "exposure_windows",
)
#: The coverage ledger (`forensics.coverage`), written where the logs were ingested.
COVERAGE = "coverage"
MANIFEST = "manifest.json"
SEAL = "manifest.seal"
DEPENDENCIES = ("duckdb", "pandas", "pyarrow", "sqlglot", "sqlparse")
_CHUNK = 1 << 20


@contextlib.contextmanager
def staged_output(target: Path) -> Iterator[Path]:
    """A private folder that replaces `target` when the block completes, or vanishes.

    One run at a time writes `target`: a lock file beside it (`.<name>.lock`, empty) is
    held until the new folder is in place (then removed), and a second run is refused.
    Under the lock, what a killed run left beside `target` (its partial folder, holding
    event data) is removed. A symbolic link as `target` is refused, and so is a folder
    that is not an evidence folder; a failed write (a full disk, a read-only folder) is
    one line naming the folder, and the previous evidence is left as it was."""
    target = target.absolute()
    if target.is_symlink():
        raise EvidenceError(
            f"{target}: is a symbolic link; give the real folder as --out (a link could "
            "lead the evidence anywhere)"
        )
    if target.exists() and not _replaceable(target):
        raise EvidenceError(
            f"{target}: exists and is not an evidence folder of this toolkit; "
            "choose another --out or remove it"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(target):
            _remove_leftovers(target)
            stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
            try:
                yield stage
                _swap_into_place(stage, target)
            except BaseException:
                shutil.rmtree(stage, ignore_errors=True)
                raise
    except (OSError, duckdb.IOException) as exc:
        reason = getattr(exc, "strerror", None) or _os_reason(str(exc))
        raise EvidenceError(
            f"{target}: the evidence cannot be written there ({reason}); free space or "
            "choose another --out (any previous evidence there is unchanged)"
        ) from None


@contextlib.contextmanager
def _locked(target: Path) -> Iterator[None]:
    """Hold `.<name>.lock` beside `target` for the block; refuse when another run does."""
    lock = target.parent / f".{target.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != os.stat(lock, follow_symlinks=False).st_ino:
                raise BlockingIOError  # the run that held it removed it: it was not ours
        except (BlockingIOError, FileNotFoundError):
            raise EvidenceError(
                f"{target}: another forensics run is writing this folder; wait for it to "
                "finish or choose another --out"
            ) from None
        try:
            yield
        finally:
            lock.unlink()  # still held: a run that opened it meanwhile sees it gone, above
    finally:
        os.close(fd)


def _remove_leftovers(target: Path) -> None:
    """The partial and old folders a killed run left beside `target` (only one run holds
    the lock, so none of them is in use)."""
    for pattern in (f".{target.name}.partial-*", f".{target.name}.old-*"):
        for leftover in target.parent.glob(pattern):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)


def _replaceable(target: Path) -> bool:
    return target.is_dir() and ((target / MANIFEST).is_file() or not any(target.iterdir()))


def _swap_into_place(stage: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, old / "evidence")
    os.rename(stage, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _os_reason(message: str) -> str:
    """The operating system's reason inside an engine's error message (DuckDB wraps it in
    its own text), else the message's start."""
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO):
        if os.strerror(code) in message:
            return os.strerror(code)
    return message.strip().splitlines()[0][:120] if message.strip() else "unknown error"


@dataclass(frozen=True)
class Output:
    """One written evidence file."""

    name: str
    sha256: str
    rows: int


def write_evidence(
    con: duckdb.DuckDBPyConnection,
    stage: Path,
    names: Sequence[str] = EVIDENCE_FILES,
    params: Mapping[str, object] | None = None,
) -> list[Output]:
    """Write every evidence CSV of the contract (or those `names`, whose queries take
    `params`) into `stage`, rows sorted, files private."""
    pseudonymized = _prepared(con)
    return [_write_csv(con, stage, name, pseudonymized, params) for name in names]


def write_coverage(con: duckdb.DuckDBPyConnection, stage: Path) -> Output:
    """Write `coverage.csv` from the engine's `coverage` table (`forensics.coverage`)."""
    return _write_csv(con, stage, COVERAGE, _prepared(con))


def _prepared(con: duckdb.DuckDBPyConnection) -> bool:
    """Define `csv_cell` and say whether this run pseudonymizes: once per set of files
    (the look-up lists every function of the engine, a fixed 5 ms or so each time)."""
    queries.execute(con, "evidence/csv_cell")
    return _has_function(con, NAME_REWRITER)


def _write_csv(
    con: duckdb.DuckDBPyConnection,
    stage: Path,
    name: str,
    pseudonymized: bool,
    params: Mapping[str, object] | None = None,
) -> Output:
    path = stage / f"{name}.csv"
    wanted = queries.load(f"evidence/{name}").params
    values = {k: v for k, v in (params or {}).items() if k in wanted}
    relation = queries.relation(con, f"evidence/{name}", **values)
    if pseudonymized:
        relation = names_pseudonymized(relation)
    relation = neutralized(relation)
    if values:  # a query with parameters: its relation is not SQL that can be run again
        relation.write_csv(str(path), header=True, quotechar='"', na_rep="")
        ((rows,),) = relation.aggregate("count(*)").fetchall()
    else:
        rows = _copy_csv(con, relation, path)
    os.chmod(path, 0o600)
    return Output(path.name, sha256_file(path), rows)


def _copy_csv(con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, path: Path) -> int:
    """Write `relation` as CSV at `path` (as `write_csv` writes it: header, `"` quotes, empty
    for NULL) and return the rows written, counted by the write itself: counting the
    relation again ran its query again, the sort of every access by every column included
    (a third of writing access_events.csv)."""
    ((rows,),) = con.execute(
        f"COPY ({relation.sql_query()}) TO $path (HEADER, QUOTE '\"', NULLSTR '')",
        {"path": str(path)},
    ).fetchall()
    return int(rows)


def neutralized(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """`relation` with every text column passed through `csv_cell`: no cell a log wrote can
    start a spreadsheet formula (queries/evidence/csv_cell.sql says how and why)."""
    columns = [
        duckdb.FunctionExpression("csv_cell", duckdb.ColumnExpression(name)).alias(name)
        if str(kind) == "VARCHAR"
        else duckdb.ColumnExpression(name)
        for name, kind in zip(relation.columns, relation.types, strict=True)
    ]
    return relation.select(*columns)


#: Text columns whose values are the toolkit's own words or the case's input paths (which
#: trace and verify open) and times: principals' names are not looked for in them.
NAMES_KEPT = frozenset(
    {
        "source_file", "format", "source_format", "engine",
        "classification", "result", "via", "statement_kind", "status", "layer", "kind",
        "basis", "bound", "time", "start", "end", "first_read", "last_read", "windows",
        "windows_overlapped", "first_exposure_enabled_read", "last_exposure_enabled_read",
    }
)  # fmt: skip


def names_pseudonymized(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """`relation` with principals' names inside its text cells (paths, objects, statements,
    clients, reasons) replaced by their pseudonyms (`privacy.NameRewriter`)."""
    columns = [
        duckdb.FunctionExpression(NAME_REWRITER, duckdb.ColumnExpression(name)).alias(name)
        if str(kind) == "VARCHAR" and name not in NAMES_KEPT
        else duckdb.ColumnExpression(name)
        for name, kind in zip(relation.columns, relation.types, strict=True)
    ]
    return relation.select(*columns)


def pseudonymized_texts(con: duckdb.DuckDBPyConnection, value: object) -> object:
    """`value` (JSON-like) with principals' names in its strings replaced by their
    pseudonyms, when this run pseudonymizes (for the manifest's warnings and summaries)."""
    return _names_rewritten(con, value) if _has_function(con, NAME_REWRITER) else value


def _names_rewritten(con: duckdb.DuckDBPyConnection, value: object) -> object:
    if isinstance(value, str):
        ((rewritten,),) = queries.relation(
            con, "evidence/pseudonymized_text", text=value
        ).fetchall()
        return rewritten
    if isinstance(value, list):
        return [_names_rewritten(con, v) for v in value]
    if isinstance(value, dict):
        return {k: _names_rewritten(con, v) for k, v in value.items()}
    return value


def _has_function(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    ((present,),) = queries.relation(con, "evidence/function_exists", function=name).fetchall()
    return bool(present)


#: What `csv_cell` puts before a cell a spreadsheet would run, and the regex of what
#: `csv_value` drops, for readers that undo it column-wise (pandas).
CSV_QUOTE = "'"
CSV_QUOTED = "^" + re.escape(CSV_QUOTE)


def csv_value(cell: str) -> str:
    """The value behind an evidence CSV cell: `csv_cell` undone (one leading quote dropped).
    Readers of the evidence (trace, the notebooks) compare and show the logged value."""
    return cell[1:] if cell.startswith(CSV_QUOTE) else cell


def write_manifest(
    stage: Path,
    case: Case,
    counts: tuple[FileCounts, ...],
    duplicates: Mapping[str, int],
    outputs: list[Output],
    options: Mapping[str, object],
    started: datetime,
    history: Sequence[HistoryFile] = (),
    warnings: Sequence[str] = (),
    coverage: Mapping[str, object] | None = None,
    run: Mapping[str, object] | None = None,
    known: Callable[[Path], str | None] | None = None,
) -> None:
    """The manifest: inputs, options, versions and outputs; only `run` varies between runs.

    Each log file says how its lines were accounted for; each policy history file how
    many entries it held and the policy changes they made up. `warnings` are what the
    investigator accepted (a source nearly all quarantined, with `--allow-quarantine`);
    `coverage` is the summary of the coverage ledger (`coverage.csv`); `run` adds to the
    manifest's `run` section (the ingest cache's use: which log files came from it).
    `known` gives an input's sha256 when this run already hashed it, unchanged since (the
    cache keys': `IngestCache.known_digest`); any other input is hashed here."""
    by_file = {c.source_file: c for c in counts}
    history_of = {h.path: h for h in history}
    inputs = []
    for path in case.input_files():
        rel = case.relpath(path)
        digest = known(path) if known is not None else None
        entry: dict[str, object] = {"path": rel, "sha256": digest or sha256_file(path)}
        entry["bytes"] = path.stat().st_size
        if rel in by_file:
            c = by_file[rel]
            entry.update(
                format=c.format,
                lines=c.lines,
                parsed=c.parsed,
                quarantined=c.quarantined,
                duplicates=duplicates.get(rel, 0),
                read_by=c.read_by,
            )
        if rel in history_of:
            h = history_of[rel]
            entry.update(
                format=h.format,
                entries=h.entries,
                policy_changes=h.policy_changes,
                other_objects=h.other_objects,
            )
        inputs.append(entry)
    manifest = {
        "case": case.name,
        "timezone": case.timezone.key,  # the case's local zone (the report shows it beside UTC)
        "tool": {"name": "forensics", "version": __version__},
        "dependencies": {d: _version(d) for d in DEPENDENCIES},
        "options": dict(sorted(options.items())),
        "inputs": inputs,
        "outputs": [{"path": o.name, "sha256": o.sha256, "rows": o.rows} for o in outputs],
        "warnings": list(warnings),
        **({"coverage": dict(coverage)} if coverage is not None else {}),
        "run": run_record(case, started, run),
    }
    path = stage / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.chmod(path, 0o600)


def run_record(
    case: Case, started: datetime, run: Mapping[str, object] | None = None
) -> dict[str, object]:
    """The manifest's `run` section, the only one that varies between runs: when and where
    it ran, from which case file, and what `run` adds (the cache's use)."""
    return {
        "started": started.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": socket.gethostname(),
        "case_file": str(case.path),
        **(dict(run) if run is not None else {}),
    }


def seal_manifest(stage: Path, key: bytes) -> None:
    """Write `manifest.seal`: an HMAC over the manifest's bytes, so edits to it are caught."""
    path = stage / SEAL
    path.write_text(seal(key, (stage / MANIFEST).read_bytes()) + "\n", encoding="utf-8")
    os.chmod(path, 0o600)


def read_manifest(folder: Path) -> dict:
    """The manifest of an evidence folder, or `EvidenceError` saying what is wrong."""
    path = folder / MANIFEST
    if not path.is_file():
        raise EvidenceError(f"{folder}: no {MANIFEST}; is this an evidence folder?")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EvidenceError(f"{path}: not valid JSON; the manifest was damaged") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("outputs"), list):
        raise EvidenceError(f"{path}: has no outputs section; the manifest was damaged")
    return manifest


def verify(folder: Path, case: Case | None = None, seal_key: bytes | None = None) -> list[str]:
    """Every difference between an evidence folder and its manifest (empty when intact)."""
    manifest = read_manifest(folder)
    outputs = manifest["outputs"]
    problems = []
    if seal_key is not None:
        sealed = folder / SEAL
        if not sealed.is_file():
            problems.append(f"{SEAL}: missing (the folder was not sealed, or the seal removed)")
        elif sealed.read_text().strip() != seal(seal_key, (folder / MANIFEST).read_bytes()):
            problems.append(f"{MANIFEST}: does not match its seal (manifest changed, or wrong key)")
    for out in outputs:
        path = folder / out["path"]
        if not path.is_file():
            problems.append(f"{out['path']}: missing")
        elif sha256_file(path) != out["sha256"]:
            problems.append(f"{out['path']}: sha256 differs from the manifest (file changed)")
    listed = {o["path"] for o in outputs}
    for extra in sorted(p.name for p in folder.glob("*.csv") if p.name not in listed):
        problems.append(f"{extra}: not listed in the manifest")
    if case is not None:
        recorded = {i["path"]: i for i in manifest.get("inputs", [])}
        for path in case.input_files():
            rel = case.relpath(path)
            if rel not in recorded:
                problems.append(f"input {rel}: not in the manifest")
            elif sha256_file(path) != recorded[rel]["sha256"]:
                problems.append(f"input {rel}: sha256 differs from the manifest (input changed)")
        for rel in sorted(set(recorded) - {case.relpath(p) for p in case.input_files()}):
            problems.append(f"input {rel}: in the manifest but not in the case")
    return problems


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open_input(path) as f:  # an input swapped for a FIFO would block the hash
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"
