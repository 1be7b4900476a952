"""Pushdown: the investigation run where the normalized events are kept.

When the events already live in a warehouse table (the columns of `schema.EVENT_SCHEMA`,
named `events`, beside a `quarantine` table of the lines that were not parsed), pulling
billions of rows onto a laptop is not an option. The warehouse selects the slice the
reconstruction needs (`queries/warehouse/event_slice.sql`): events of the exposed objects,
of the views over them and of their storage paths, every event of the statements that
touched them and every copy of a twice-delivered event. The embedded engine then runs the
same reconstruction on the slice. Derived copies are only known once the reconstruction has
found them, so the slice grows round by round until no new copy appears; the evidence is
then the same, byte for byte, as the embedded run over all events.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import duckdb
import pyarrow as pa

from forensics import engine, warehouse
from forensics.catalog import Catalog, load_catalog
from forensics.coverage.counts import warehouse_coverage
from forensics.errors import QueryError
from forensics.evidence import (
    MANIFEST,
    seal_manifest,
    staged_output,
    write_coverage,
    write_evidence,
    write_manifest,
)
from forensics.ingest import IngestResult
from forensics.ingest.sniff import WAREHOUSE_CHECK, accept_messages, quarantined_in_warehouse
from forensics.investigation import Settings, investigate
from forensics.policy.posix import changes_from_rows
from forensics.pushdown_full import reconstruct_in_warehouse
from forensics.reads import table_schema
from forensics.reconstruct import MAX_GENERATIONS, load_scope, reconstruct, view_bases
from forensics.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from forensics.scope import Scope, derive_scope
from forensics.subjects import load_subjects, write_subject_evidence
from forensics.warehouse import as_schema

#: A regular expression that matches nothing, in Java's, RE2's and Trino's syntax alike.
NOTHING = r"\z."
#: Longest pattern sent as one parameter (the `text` kind allows 10,000 characters).
PATTERN_LIMIT = 9_000
_IDENTITY = [f.name for f in EVENT_SCHEMA]
_ORDER = [("source_file", "ascending"), ("source_line", "ascending"), ("event_id", "ascending")]


@dataclass
class Stages:
    """Which stage ran where (the warehouse or here), how long, and what it fetched.

    Recorded in the manifest (`events.stages`): the rows and bytes each stage read back
    from the warehouse (bytes as read from the server's socket, where the driver lets
    them be counted)."""

    wh: warehouse.Warehouse
    done: list[dict] = dataclasses.field(default_factory=list)
    stack: list[list] = dataclasses.field(default_factory=list)

    @contextmanager
    def __call__(self, name: str, where: str) -> Iterator[None]:
        """Time and count the block; a stage inside another is its own entry, and the
        outer one counts only the rest (its seconds, rows and bytes are its own)."""
        fetched = getattr(self.wh, "fetched", None) or warehouse.Fetched()
        rows, size = fetched.rows, fetched.bytes
        started = time.perf_counter()
        inner = [0.0, 0, 0]  # seconds, rows, bytes of the stages inside this one
        self.stack.append(inner)
        try:
            yield
        finally:
            self.stack.pop()
        seconds = time.perf_counter() - started
        total = [seconds, fetched.rows - rows, fetched.bytes - size]
        if self.stack:
            self.stack[-1][:] = [a + b for a, b in zip(self.stack[-1], total, strict=True)]
        entry: dict[str, object] = {
            "stage": name,
            "where": where,
            "seconds": round(total[0] - inner[0], 3),
            "rows_fetched": total[1] - inner[1],
        }
        if isinstance(self.wh, warehouse.HiveWarehouse):
            entry["bytes_fetched"] = total[2] - inner[2]
        self.done.append(entry)


@dataclass(frozen=True)
class Slice:
    """The events fetched from the warehouse, and what was asked for to get them."""

    events: pa.Table
    objects: tuple[str, ...]
    locations: tuple[str, ...]
    rounds: int


def investigate_where_kept(
    settings: Settings,
    profile: str | None = None,
    profiles: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """The investigation on the engine the profile names (`profile`, else the case's).

    Without a profile, or with a `duckdb` one, the logs are parsed and investigated by the
    embedded engine (`investigation.investigate`); otherwise the events are read where
    they are kept. `extra` is called with the staging folder, as `investigate` does.
    """
    name = profile or settings.case.profile
    chosen = warehouse.profile_named(name, profiles) if name is not None else None
    if chosen is None or chosen.engine == "duckdb":
        return investigate(settings, extra)
    wh = warehouse.connect(chosen, progress=progress)
    try:
        return investigate_in_warehouse(settings, wh, extra)
    finally:
        wh.close()


def investigate_in_warehouse(
    settings: Settings,
    wh: warehouse.Warehouse,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Run the investigation on the events kept in `wh` and write `settings.out`.

    The evidence files are those `investigation.investigate` writes; the manifest also
    says where the events came from and that the case's log files were not parsed here.
    """
    started = datetime.now(timezone.utc)
    stages = Stages(wh)
    case = settings.case
    with stages("case and catalog", "local"):
        catalog = load_catalog(case)
        subjects = load_subjects(case, catalog)
    with stages("principals and permission changes", "warehouse"):
        rows = warehouse.run(wh, "warehouse/principals").to_pylist()
        principals = [r["principal"] for r in rows]
        changes = changes_from_rows(warehouse.run(wh, "warehouse/permission_changes").to_pylist())
    with stages("scope", "local"):
        scope = derive_scope(case, catalog, principals, changes)
    with stages("quarantine and source files", "warehouse"):
        quarantine = as_schema(
            warehouse.run(wh, "warehouse/quarantine"), QUARANTINE_SCHEMA, "quarantine"
        )
        per_file = warehouse.run(wh, "warehouse/source_files").to_pylist()
        warnings = accept_messages(
            quarantined_in_warehouse(per_file, _quarantined_per_file(quarantine)),
            settings.allow_quarantine,
        )
    con = engine.connect(memory_limit=settings.memory_limit)
    try:
        with stages("load scope", "local"):
            load_scope(con, catalog, scope, case.on_behalf_services)
        profile = getattr(wh, "profile", None)
        if profile is not None and profile.pushdown == "full":
            fetched = reconstruct_in_warehouse(
                con,
                wh,
                catalog,
                scope,
                quarantine,
                view_bases(catalog),
                case.on_behalf_services,
                settings.keep_literals,
                settings.pseudonym_key,
                table_schema(catalog),
                stages,
            )
        else:
            found = reconstruct_from_warehouse(
                con, wh, catalog, scope, quarantine, settings, stages
            )
            fetched = {
                "events": found.events.num_rows,
                "rounds": found.rounds,
                "objects": list(found.objects),
                "locations": list(found.locations),
            }
        with stages("coverage", "warehouse"):
            coverage = warehouse_coverage(con, wh, case, catalog, scope.windows)
        with staged_output(settings.out) as stage:
            with stages("evidence", "local"):
                outputs = write_evidence(con, stage) + [write_coverage(con, stage)]
                if subjects is not None:
                    outputs += write_subject_evidence(con, stage, subjects, settings.pseudonym_key)
            write_manifest(
                stage,
                case,
                (),
                {},
                outputs,
                settings.options(),
                started,
                scope.history_files,
                warnings,
                coverage=coverage.as_dict(),
            )
            record_source(stage, case_logs(settings), wh, fetched, per_file, quarantine, stages)
            if settings.seal_key is not None:
                seal_manifest(stage, settings.seal_key)
            if extra is not None:
                extra(stage)
    finally:
        con.close()
    return settings.out.absolute()


def reconstruct_from_warehouse(
    con: duckdb.DuckDBPyConnection,
    wh: warehouse.Warehouse,
    catalog: Catalog,
    scope: Scope,
    quarantine: pa.Table,
    settings: Settings,
    stages: Stages | None = None,
) -> Slice:
    """Fetch the slice round by round and reconstruct on it until no new copy is found.

    Round one asks for the exposed objects; each later round adds the derived copies the
    previous reconstruction found (and the views over them, and their locations). Only
    what was not asked for before is fetched again.
    """
    bases = view_bases(catalog)
    schema = table_schema(catalog)
    wanted = set(scope.exposed)
    asked_objects: set[str] = set()
    asked_locations: set[str] = set()
    rows: dict[tuple, dict] = {}
    stages = stages or Stages(wh)
    for round_no in range(1, MAX_GENERATIONS + 2):
        objects = with_views(wanted, bases)
        locations = locations_of(objects, catalog)
        with stages(f"event slice, round {round_no}", "warehouse"):
            for row in fetch(wh, objects - asked_objects, locations - asked_locations):
                rows.setdefault(tuple(row[name] for name in _IDENTITY), row)
        asked_objects |= objects
        asked_locations |= locations
        with stages(f"reconstruct, round {round_no}", "local"):
            events = as_schema(pa.Table.from_pylist(list(rows.values())), EVENT_SCHEMA, "events")
            events = events.sort_by(_ORDER)
            ingested = IngestResult(events, quarantine, ())
            reconstruct(con, ingested, settings.keep_literals, None, schema)
        copies = set(con.table("copy_edges").to_arrow_table().column("derived_object").to_pylist())
        if copies <= wanted:
            if settings.pseudonym_key is not None:  # applied once, on the final slice
                with stages("reconstruct with pseudonyms", "local"):
                    reconstruct(
                        con, ingested, settings.keep_literals, settings.pseudonym_key, schema
                    )
            return Slice(
                events, tuple(sorted(asked_objects)), tuple(sorted(asked_locations)), round_no
            )
        wanted |= copies
    raise QueryError(
        f"derived copies still growing after {MAX_GENERATIONS} rounds; "
        "check the warehouse's events for a statement loop"
    )


def with_views(objects: Iterable[str], bases: Iterable[tuple[str, str]]) -> set[str]:
    """The objects and every view defined over one of them (reads through it count)."""
    wanted = set(objects)
    return wanted | {view for view, base in bases if base in wanted}


def locations_of(objects: Iterable[str], catalog: Catalog) -> set[str]:
    """Storage locations whose files belong to the objects; a directory copy is its own."""
    found = set()
    for name in objects:
        entry = catalog.objects.get(name)
        if entry is not None and entry.location:
            found.add(entry.location)
        elif name.startswith("/"):
            found.add(name.rstrip("/") or "/")
    return found


def fetch(wh: warehouse.Warehouse, objects: set[str], locations: set[str]) -> list[dict]:
    """Rows of the warehouse's slice for these objects and locations (nothing if none)."""
    object_patterns = patterns(sorted(objects), exact=True)
    location_patterns = patterns(sorted(locations), exact=False)
    rows: list[dict] = []
    for i in range(max(len(object_patterns), len(location_patterns))):
        objects_re = object_patterns[i] if i < len(object_patterns) else NOTHING
        locations_re = location_patterns[i] if i < len(location_patterns) else NOTHING
        found = warehouse.run(
            wh, "warehouse/event_slice", objects=objects_re, locations=locations_re
        )
        rows += found.to_pylist()
    return rows


def patterns(names: list[str], exact: bool) -> list[str]:
    """Regular expressions matching exactly these names (or paths under these locations).

    Each name is quoted literally with `\\Q...\\E` (Java, RE2 and Trino all read it), so
    nothing in a name is a regular-expression operator; long lists are split so that no
    pattern exceeds `PATTERN_LIMIT`.
    """
    tail = r")\z" if exact else r")(/|\z)"
    chunks: list[list[str]] = []
    size = 0
    for name in names:
        if "\\E" in name or "\n" in name or "\x00" in name:
            raise QueryError(f"{name[:60]!r}: cannot be matched safely on the warehouse")
        quoted = "\\Q" + name + "\\E"
        if not chunks or size + len(quoted) + 1 > PATTERN_LIMIT - 12:
            chunks.append([])
            size = 0
        chunks[-1].append(quoted)
        size += len(quoted) + 1
    return ["^(" + "|".join(chunk) + tail for chunk in chunks]


def case_logs(settings: Settings) -> set[str]:
    """The case's log files (relative paths): listed in the manifest, not parsed here."""
    case = settings.case
    return {case.relpath(f) for source in case.logs for f in source.files}


def record_source(
    stage: Path,
    logs: set[str],
    wh: warehouse.Warehouse,
    fetched: dict[str, object],
    per_file: list[dict],
    quarantine: pa.Table,
    stages: Stages | None = None,
) -> None:
    """Say in the manifest where the events came from and what the warehouse accounted for.

    The log files of the case were hashed, not parsed: each is marked `parsed_elsewhere`,
    and `events` gives the warehouse's own count per source file (events and quarantined
    lines), the profile and engine (never a secret), and what was fetched.
    """
    path = stage / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for entry in manifest["inputs"]:
        if entry["path"] in logs:
            entry["parsed_elsewhere"] = True
    quarantined = _quarantined_per_file(quarantine)
    files = sorted({r["source_file"] for r in per_file} | set(quarantined))
    formats = {r["source_file"]: r["source_format"] for r in per_file}
    counts = {r["source_file"]: r["events"] for r in per_file}
    profile = getattr(wh, "profile", None)
    source = {
        "parsed": "elsewhere: normalized events were read from the warehouse; the case's "
        "log files were hashed, not parsed, by this run",
        "profile": profile.name if profile is not None else None,
        "engine": profile.engine if profile is not None else wh.dialect,
        "database": profile.database if profile is not None else None,
        "tables": ["events", "quarantine"],
        "format_check": WAREHOUSE_CHECK,
        "driver": _driver(profile.engine if profile is not None else wh.dialect),
        "warehouse_files": [
            {
                "source_file": name,
                "format": formats.get(name),
                "events": int(counts.get(name, 0)),
                "quarantined": quarantined.get(name, 0),
            }
            for name in files
        ],
        "pushdown": profile.pushdown if profile is not None else "slice",
        "fetched": fetched,
        "stages": list(stages.done) if stages is not None else [],
    }
    ordered: dict[str, object] = {}
    for key, value in manifest.items():
        ordered[key] = value
        if key == "inputs":
            ordered["events"] = source
    path.write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")
    os.chmod(path, 0o600)


def _quarantined_per_file(quarantine: pa.Table) -> dict[str, int]:
    """The warehouse's quarantined lines per source file."""
    counts: dict[str, int] = {}
    for name in quarantine.column("source_file").to_pylist():
        counts[name] = counts.get(name, 0) + 1
    return counts


def _driver(engine_name: str) -> dict[str, str]:
    """The client library that talked to the warehouse, and its version."""
    dist = "duckdb" if engine_name == "duckdb" else "PyHive"
    try:
        return {"name": dist, "version": metadata.version(dist)}
    except metadata.PackageNotFoundError:
        return {"name": dist, "version": "not installed"}
