"""The main job: a case file in, a sealed evidence folder out.

`Settings` is the one place where the case file, CLI options and notebook parameters meet
and are validated; `investigate` runs the stages in the order the data flows.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from forensics import engine, queries
from forensics.case import Case, load_case
from forensics.catalog import Catalog, load_catalog
from forensics.coverage import build_coverage
from forensics.errors import EvidenceError
from forensics.evidence import (
    pseudonymized_texts,
    seal_manifest,
    staged_output,
    write_coverage,
    write_evidence,
    write_manifest,
)
from forensics.ingest import ingest_into
from forensics.ingest.cache import IngestCache
from forensics.ingest.sniff import accept, quarantined_sources
from forensics.policy.posix import changes_from_rows
from forensics.privacy import key_id, load_key
from forensics.reads import table_schema
from forensics.reconstruct import load_scope, reconstruct
from forensics.scope import derive_scope
from forensics.stage_cache import StageCache
from forensics.subjects import Subjects, load_subjects, write_subject_evidence

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Settings:
    """Everything that decides the evidence, validated once."""

    case: Case
    out: Path
    keep_literals: bool = False
    pseudonym_key: bytes | None = None
    seal_key: bytes | None = None
    memory_limit: str = engine.DEFAULT_MEMORY_LIMIT
    allow_quarantine: bool = False  # a source nearly all quarantined is a warning, not an error
    cache: Path | None = None  # the ingest cache folder (forensics/ingest/cache.py); None: none

    @classmethod
    def build(
        cls,
        case_path: str | Path,
        out: str | Path,
        keep_literals: bool = False,
        pseudonymize: str | Path | None = None,
        seal: str | Path | None = None,
        allow_quarantine: bool = False,
        cache: str | Path | None = None,
    ) -> Settings:
        """Load the case file and keys and combine them with the options."""
        case = load_case(case_path)
        return cls(
            case=case,
            out=out_outside_case(case, Path(out)),
            keep_literals=bool(keep_literals),
            pseudonym_key=load_key(pseudonymize, "pseudonym") if pseudonymize else None,
            seal_key=load_key(seal, "seal") if seal else None,
            allow_quarantine=bool(allow_quarantine),
            cache=Path(cache) if cache is not None else None,
        )

    def options(self) -> dict[str, object]:
        """The options recorded in the manifest (those that change the evidence)."""
        return {
            "keep_literals": self.keep_literals,
            "pseudonym_key_id": key_id(self.pseudonym_key) if self.pseudonym_key else None,
        }

    def evidence_options(self) -> dict[str, object]:
        """The options a cached evidence folder must have been made with: those of the
        manifest, the whole pseudonym key (as an HMAC, not the manifest's short id) and
        whether a quarantined source is allowed (without, the run stops)."""
        key = self.pseudonym_key
        return {
            **self.options(),
            "pseudonym_key": hmac.new(key, b"forensics cache", hashlib.sha256).hexdigest()
            if key
            else None,
            "allow_quarantine": self.allow_quarantine,
        }


def _catalog_and_subjects(case: Case) -> tuple[Catalog, Subjects | None]:
    catalog = load_catalog(case)
    return catalog, load_subjects(case, catalog)


def _beside(python: Callable[[], T], engine_work: Callable[[], U]) -> tuple[U, T]:
    """`engine_work` (the engine's, which releases Python's lock while it runs) and
    `python` (Python's own work, such as reading the 300,000 objects of a catalog) at the
    same time, on both cores. An error of `python` is raised first, as if it had run
    first (a bad catalog is reported before a bad log, as before)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(python)
        try:
            done = engine_work()
        except Exception:
            pending.result()
            raise
        return done, pending.result()


def out_outside_case(case: Case, out: Path) -> Path:
    """`out` when it is neither the case folder, nor inside it, nor a folder holding it.

    Evidence inside the case folder would be matched by the case's own globs on the next
    run and hashed as an input, and replacing a folder that holds the case would remove
    the inputs; so each is one line saying where to write instead."""
    root = case.root.resolve()
    real = out.absolute().resolve()
    if real == root:
        where = "is the case folder"
    elif root in real.parents:
        where = f"is inside the case folder {root}"
    elif real in root.parents:
        where = f"holds the case folder {root} (and so its inputs)"
    else:
        return out
    suggestion = root.parent / f"{root.name}-evidence"
    raise EvidenceError(
        f"--out {out}: {where}; write the evidence outside the case folder, e.g. --out {suggestion}"
    )


def investigate(settings: Settings, extra: Callable[[Path], None] | None = None) -> Path:
    """Run the whole investigation and write the evidence folder `settings.out`.

    `extra`, if given, is called with the staging folder after the evidence is written
    (the report uses it to render notebooks beside the evidence before anything is moved
    into place).
    """
    started = datetime.now(timezone.utc)
    cache = IngestCache.open(settings.cache) if settings.cache is not None else None
    try:
        stages = StageCache(cache, settings.case) if cache is not None and cache.usable else None
        if stages is None:
            _investigate(settings, started, cache, None, extra)
            return settings.out.absolute()
        key = stages.evidence_key(settings.evidence_options())
        if not _reused(settings, stages, key, started, extra):
            _investigate(settings, started, cache, stages, extra)
            stages.store_evidence(key, settings.out)
    except BaseException:
        if cache is not None:
            cache.abandon()
        raise
    finally:
        if cache is not None:
            cache.close()
    return settings.out.absolute()


class _NotCached(Exception):
    """The evidence is not in the cache (or its entry was not usable)."""


def _reused(
    settings: Settings,
    stages: StageCache,
    key: str,
    started: datetime,
    extra: Callable[[Path], None] | None,
) -> bool:
    """The evidence of an earlier run with the same inputs, parameters and code, copied
    from the cache into `settings.out` (`forensics/stage_cache.py`); False when there is
    none, nothing written."""
    cache = stages.cache
    try:
        with staged_output(settings.out) as stage:
            if not stages.reuse_evidence(key, stage, started, lambda: {"cache": cache.summary()}):
                raise _NotCached
            if settings.seal_key is not None:
                seal_manifest(stage, settings.seal_key)
            if extra is not None:
                extra(stage)
    except _NotCached:
        return False
    return True


def _investigate(
    settings: Settings,
    started: datetime,
    cache: IngestCache | None,
    stages: StageCache | None,
    extra: Callable[[Path], None] | None,
) -> None:
    """Every stage, in the order the data flows; the scope from the cache when its inputs
    are those of an earlier run."""
    case = settings.case
    con = engine.connect(memory_limit=settings.memory_limit)
    try:
        files, (catalog, subjects) = _beside(lambda: _catalog_and_subjects(case),
                                             lambda: ingest_into(con, case, cache))  # fmt: skip
        if cache is not None:
            cache.prune()
        warnings = accept(quarantined_sources(con, case, files), settings.allow_quarantine)
        named = queries.relation(con, "normalize/log_principals").fetchall()
        log_principals = {principal for (principal,) in named}
        changed = queries.relation(con, "normalize/permission_changes").to_arrow_table()
        changes = changes_from_rows(changed.to_pylist())
        if stages is None:
            scope = derive_scope(case, catalog, log_principals, changes)
        else:
            scope = stages.scope(
                stages.scope_key(log_principals, changes),
                lambda: derive_scope(case, catalog, log_principals, changes),
            )
        load_scope(con, catalog, scope, case.on_behalf_services)
        if settings.memory_limit == engine.AUTO:
            engine.fit_memory(con)  # the Python side has grown by the scope
        quarantined = con.table("quarantine").select("source_file, source_line, reason")
        coverage = build_coverage(
            con,
            case,
            catalog,
            scope.windows,
            quarantined.fetchall(),
            {c.source_file: c.lines for c in files},
        )
        schema = table_schema(catalog)
        reads_key = stages.reads_key(schema) if stages is not None else ""
        if stages is not None:
            stages.load_reads(con, reads_key)
        duplicates = reconstruct(con, None, settings.keep_literals, settings.pseudonym_key, schema)
        if stages is not None:
            stages.store_reads(con, reads_key)
        with staged_output(settings.out) as stage:
            outputs = write_evidence(con, stage) + [write_coverage(con, stage)]
            if subjects is not None:
                outputs += write_subject_evidence(con, stage, subjects, settings.pseudonym_key)
            write_manifest(
                stage,
                case,
                files,
                duplicates,
                outputs,
                settings.options(),
                started,
                scope.history_files,
                pseudonymized_texts(con, warnings),
                pseudonymized_texts(con, coverage.as_dict()),
                {"cache": cache.summary()} if cache is not None else None,
                cache.known_digest if cache is not None else None,
            )
            if settings.seal_key is not None:
                seal_manifest(stage, settings.seal_key)
            if extra is not None:
                extra(stage)
    finally:
        con.close()
