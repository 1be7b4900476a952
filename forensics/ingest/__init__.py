"""Ingest: every log line of the case parsed into normalized events, or quarantined.

The counts reconcile per file: parsed + quarantined = lines. Duplicates are kept here and
removed by the engine (`forensics.engine`), which also counts them per file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from tqdm import tqdm

from forensics import engine
from forensics.case import Case, LogSource
from forensics.ingest import generic, hdfs, hiveserver2, lineage, metastore, ranger, solr, trino
from forensics.ingest.base import BadLine, LineContext
from forensics.ingest.bulk import BulkReader, first_line, numbered_lines
from forensics.ingest.bulk_csv import read_generic_csv
from forensics.ingest.bulk_generic import (
    finish_generic_views,
    read_generic_parquet,
    slow_records,
    start_generic,
)
from forensics.ingest.bulk_json import read_json_file, read_ranger_file
from forensics.ingest.bulk_text import read_text_file
from forensics.ingest.cache import Counts, IngestCache
from forensics.ingest.layouts import LOG4J_JSON, peel
from forensics.ingest.reader import read_lines
from forensics.inputs import open_input
from forensics.schema import Event, Quarantined, events_table, quarantine_table

Parser = Callable[[str, LineContext], list[Event]]
PARSERS: dict[str, Parser] = {
    ranger.FORMAT: ranger.parse,
    solr.FORMAT: ranger.parse_record,
    hdfs.FORMAT: hdfs.parse,
    metastore.FORMAT: metastore.parse,
    trino.FORMAT: trino.parse,
    lineage.FORMAT: lineage.parse,
    hiveserver2.FORMAT: hiveserver2.parse,
}


def _lines(path: Path, rel: str) -> Iterator[tuple[int, str | None, str | None]]:
    """Line formats: every physical line is one record."""
    for line in read_lines(path):
        yield line.number, line.text, line.problem


#: Line formats DuckDB reads in bulk (`forensics/ingest/bulk.py`), leaving the line parser the
#: lines it cannot decode exactly as the parser would.
BULK_READERS: dict[str, BulkReader] = {
    ranger.FORMAT: read_ranger_file,
    trino.FORMAT: partial(read_json_file, name="trino"),
    hdfs.FORMAT: partial(read_text_file, name="hdfs"),
    metastore.FORMAT: partial(read_text_file, name="metastore"),
}

#: `FileCounts.read_by`: the line parser read every line, or the bulk reader did (the line
#: parser then reads the lines it left, if any).
LINE_PARSER = "line parser"
BULK = "bulk"
CACHED = "ingest cache (the events of an earlier run's read of the same file)"

#: Formats with a reader of their own: one JSON document holding many records (Solr), or
#: log records spanning several lines (HiveServer2), each line still accounted for.
READERS = {solr.FORMAT: solr.documents, hiveserver2.FORMAT: hiveserver2.records}


@dataclass(frozen=True)
class FileCounts:
    """How the lines of one input log file were accounted for, and which path read them
    (`read_by`, for the manifest: either path gives the same events, so it is not compared)."""

    source_file: str
    format: str
    lines: int
    parsed: int
    quarantined: int
    read_by: str = field(default=LINE_PARSER, compare=False)


@dataclass(frozen=True)
class IngestResult:
    """Normalized events (duplicates still in), quarantined lines and per-file counts."""

    events: pa.Table
    quarantine: pa.Table
    files: tuple[FileCounts, ...]


def ingest(case: Case) -> IngestResult:
    """Parse every log file of the case into Arrow tables (for callers without an engine)."""
    con = engine.connect()
    try:
        files = ingest_into(con, case)
        events = con.table("raw_events").order("source_file, source_line, event_id")
        events_arrow = events.to_arrow_table()
        quarantine = con.table("quarantine").order("source_file, source_line").to_arrow_table()
        return IngestResult(events_arrow, quarantine, files)
    finally:
        con.close()


def _read_in_place(path: Path, fmt: str) -> bool:
    """Whether the file is a generic Parquet log, which `bulk_generic` scans where it lies
    rather than copying its rows into `raw_events`: there is nothing of it to cache, and a
    cache entry of it would hold only the rows the row parser read."""
    if fmt != generic.FORMAT:
        return False
    with open_input(path) as f:
        return f.read(4) == b"PAR1"


def ingest_into(
    con: duckdb.DuckDBPyConnection, case: Case, cache: IngestCache | None = None
) -> tuple[FileCounts, ...]:
    """Parse every log file of the case into the engine's `raw_events` and `quarantine`
    tables, file by file in the order of their paths relative to the case; memory stays
    bounded by one batch of events, whatever the size of the logs. Generic Parquet logs
    are not copied: `raw_events` is then a view that scans them (`bulk_generic`). With a
    `cache`, a file whose entry is there is loaded from it instead of read, and a file read
    is kept there (`forensics/ingest/cache.py`)."""
    jobs = sorted(
        (
            (case.relpath(path), path, source.format, i)
            for i, source in enumerate(case.logs)
            for path in source.files
        ),
    )
    engine.load_arrow(con, "raw_events", events_table([]))
    engine.load_arrow(con, "quarantine", quarantine_table([]))
    start_generic(con)
    sink = _Sink(con)
    counts = []
    quiet = not show_progress()
    overall = tqdm(
        total=sum(path.stat().st_size for _, path, _, _ in jobs),
        unit="B",
        unit_scale=True,
        desc="ingest",
        disable=quiet,
    )
    slots = {
        rel: cache.slot(rel, path, case.logs[i], case.timezone)
        for rel, path, fmt, i in jobs
        if cache is not None and not _read_in_place(path, fmt)
    }
    loaded = cache.load(con, [s for s in slots.values() if s is not None]) if cache else {}
    for rel, path, fmt, i in jobs:
        overall.set_postfix_str(rel, refresh=False)
        slot = slots.get(rel)
        if (kept := loaded.get(rel)) is not None:
            counts.append(
                FileCounts(
                    rel, fmt, kept.lines, kept.parsed, kept.quarantined, kept.read_by or CACHED
                )
            )
            overall.update(path.stat().st_size)
            continue
        if slot is not None:
            cache.begin(con, slot)
        layer = layered(path, fmt)
        bulk = _bulk(con, case, path, rel, fmt, i) if layer is None else None
        if bulk is not None:
            lines, rest, parse = bulk
            left, _, quarantined = _parse_records(sink, rest, parse, rel, fmt, case)
            read_by = BULK if not left else f"{BULK}; {left} line(s) by the {LINE_PARSER}"
            counts.append(FileCounts(rel, fmt, lines, lines - quarantined, quarantined, read_by))
        else:
            done = _parse_file(sink, path, rel, fmt, case, i, quiet)
            if layer is not None:
                done = replace(done, read_by=f"{LINE_PARSER}: its first line is behind a {layer}")
            counts.append(done)
        sink.flush()
        if slot is not None:
            c = counts[-1]
            cache.store(con, slot, Counts(c.lines, c.parsed, c.quarantined, c.read_by))
        overall.update(path.stat().st_size)
    overall.close()
    finish_generic_views(con)
    return tuple(counts)


#: Keys that make a JSON line the format's own record, not a shipper's envelope.
_RECORD_KEYS = {ranger.FORMAT: ranger.RECORD_KEYS, trino.FORMAT: trino.RECORD_KEYS}


def layered(path: Path, fmt: str) -> str | None:
    """The layer (`layouts.peel`) around the first line of a file that a bulk reader would
    read, when it is one only the line parser peels (a log shipper's JSON envelope, a
    syslog header; the log4j prefix of Ranger lines is the Ranger bulk reader's own): such
    a file goes to the line parser whole, which peels every line, instead of through a bulk
    read that would decode none of its lines."""
    if fmt not in BULK_READERS:
        return None
    text = first_line(path)
    found = peel(text, _RECORD_KEYS.get(fmt, frozenset())) if text is not None else None
    if found is None or (fmt == ranger.FORMAT and LOG4J_JSON.match(text or "")):
        return None
    return found[0]


def _bulk(
    con: duckdb.DuckDBPyConnection, case: Case, path: Path, rel: str, fmt: str, index: int
) -> tuple[int, Iterable[tuple[int, Any, str | None]], Callable] | None:
    """Read `path` in bulk where its format has a bulk reader: its line (or row) count, the
    records the bulk reader left to the parser, and that parser; None when the parser must
    read the whole file."""
    if fmt == generic.FORMAT:
        log = _generic_log(case.logs[index], index)
        done = read_generic_parquet(con, path, rel, case.timezone, log)
        if done is not None:
            rows = ((n, r, None) for n, r in slow_records(path, log, done[1]))
            return done[0], rows, log.parse
        done = read_generic_csv(con, path, rel, case.timezone, log)
        if done is None:
            return None
        return done[0], log.csv_records(numbered_lines(path, done[1]), rel), log.parse
    if fmt not in BULK_READERS:
        return None
    read = BULK_READERS[fmt](con, path, rel, case.timezone)
    if read is None:
        return None
    return read[0], numbered_lines(path, read[1]), PARSERS[fmt]


class _Sink:
    """Collects parsed events and quarantined lines, and appends them to the engine's
    tables a batch at a time."""

    BATCH = 100_000

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.events: list[Event] = []
        self.bad: list[Quarantined] = []

    def add(self, events: list[Event]) -> None:
        self.events.extend(events)
        if len(self.events) >= self.BATCH:
            self.flush()

    def quarantine(self, row: Quarantined) -> None:
        self.bad.append(row)

    def flush(self) -> None:
        if self.events:
            self.con.from_arrow(events_table(self.events)).insert_into("raw_events")
            self.events = []
        if self.bad:
            self.con.from_arrow(quarantine_table(self.bad)).insert_into("quarantine")
            self.bad = []


def _parse_file(
    sink: _Sink, path: Path, rel: str, fmt: str, case: Case, index: int, quiet: bool
) -> FileCounts:
    """Every record of one file through its format's parser."""
    read, parse = _reader(case.logs[index], index)
    records = tqdm(read(path, rel), desc=rel, unit=" records", leave=False, disable=quiet)
    lines, parsed, quarantined = _parse_records(sink, records, parse, rel, fmt, case)
    return FileCounts(rel, fmt, lines, parsed, quarantined)


def _parse_records(
    sink: _Sink,
    records: Iterable[tuple[int, Any, str | None]],
    parse: Callable,
    rel: str,
    fmt: str,
    case: Case,
) -> tuple[int, int, int]:
    """Each record parsed into the sink or quarantined with its reason; the counts."""
    lines = parsed = quarantined = 0
    for number, payload, problem in records:
        lines += 1
        reason = problem
        if payload is not None:
            try:
                sink.add(parse(payload, LineContext(rel, number, case.timezone)))
                parsed += 1
                continue
            except BadLine as exc:
                reason = str(exc)
        sink.quarantine(Quarantined(rel, number, fmt, reason or "unparseable"))
        quarantined += 1
    return lines, parsed, quarantined


def _reader(source: LogSource, index: int) -> tuple[Callable, Callable]:
    """How to split a source's files into records, and how to parse one record."""
    if source.format == generic.FORMAT:
        log = _generic_log(source, index)
        return log.records, log.parse
    return READERS.get(source.format, _lines), PARSERS[source.format]


def _generic_log(source: LogSource, index: int) -> generic.GenericLog:
    """The reader of a `generic` source, by its mapping (`logs[index]` in its errors)."""
    return generic.GenericLog(dict(source.mapping), source.time_format, f"logs[{index}]")


def show_progress() -> bool:
    """Progress bars on an interactive terminal only: quiet under CI, papermill and pipes
    (`FORENSICS_PROGRESS=0` or `1` overrides)."""
    setting = os.environ.get("FORENSICS_PROGRESS")
    if setting is not None:
        return setting == "1"
    return sys.stderr.isatty() and not os.environ.get("CI")
