"""Ingest: every log line of the case parsed into normalized events, or quarantined.

The counts reconcile per file: parsed + quarantined = lines. Duplicates are kept here and
removed by the engine (`forensics.engine`), which also counts them per file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from tqdm import tqdm

from forensics.case import Case, LogSource
from forensics.ingest import generic, hdfs, lineage, metastore, ranger, solr, trino
from forensics.ingest.base import BadLine, LineContext
from forensics.ingest.reader import read_lines
from forensics.schema import Event, Quarantined, events_table, quarantine_table

Parser = Callable[[str, LineContext], list[Event]]
PARSERS: dict[str, Parser] = {
    ranger.FORMAT: ranger.parse,
    solr.FORMAT: ranger.parse_record,
    hdfs.FORMAT: hdfs.parse,
    metastore.FORMAT: metastore.parse,
    trino.FORMAT: trino.parse,
    lineage.FORMAT: lineage.parse,
}


def _lines(path: Path, rel: str) -> Iterator[tuple[int, str | None, str | None]]:
    """Line formats: every physical line is one record."""
    for line in read_lines(path):
        yield line.number, line.text, line.problem


#: Formats whose unit is not the line (one JSON document holding many records).
READERS = {solr.FORMAT: solr.documents}


@dataclass(frozen=True)
class FileCounts:
    """How the lines of one input log file were accounted for."""

    source_file: str
    format: str
    lines: int
    parsed: int
    quarantined: int


@dataclass(frozen=True)
class IngestResult:
    """Normalized events (duplicates still in), quarantined lines and per-file counts."""

    events: pa.Table
    quarantine: pa.Table
    files: tuple[FileCounts, ...]


def ingest(case: Case) -> IngestResult:
    """Parse every log file of the case, in the order of their paths relative to the case."""
    jobs = sorted(
        (
            (case.relpath(path), path, source.format, i)
            for i, source in enumerate(case.logs)
            for path in source.files
        ),
    )
    events: list[Event] = []
    bad: list[Quarantined] = []
    counts = []
    quiet = not show_progress()
    overall = tqdm(
        total=sum(path.stat().st_size for _, path, _, _ in jobs),
        unit="B",
        unit_scale=True,
        desc="ingest",
        disable=quiet,
    )
    for rel, path, fmt, i in jobs:
        read, parse = _reader(case.logs[i], i)
        lines = parsed = quarantined = 0
        overall.set_postfix_str(rel, refresh=False)
        records = read(path, rel)
        for number, payload, problem in tqdm(
            records, desc=rel, unit=" records", leave=False, disable=quiet
        ):
            lines += 1
            reason = problem
            if payload is not None:
                try:
                    events.extend(parse(payload, LineContext(rel, number, case.timezone)))
                    parsed += 1
                    continue
                except BadLine as exc:
                    reason = str(exc)
            bad.append(Quarantined(rel, number, fmt, reason or "unparseable"))
            quarantined += 1
        counts.append(FileCounts(rel, fmt, lines, parsed, quarantined))
        overall.update(path.stat().st_size)
    overall.close()
    return IngestResult(events_table(events), quarantine_table(bad), tuple(counts))


def _reader(source: LogSource, index: int) -> tuple[Callable, Callable]:
    """How to split a source's files into records, and how to parse one record."""
    if source.format == generic.FORMAT:
        log = generic.GenericLog(dict(source.mapping), source.time_format, f"logs[{index}]")
        return log.records, log.parse
    return READERS.get(source.format, _lines), PARSERS[source.format]


def show_progress() -> bool:
    """Progress bars on an interactive terminal only: quiet under CI, papermill and pipes
    (`FORENSICS_PROGRESS=0` or `1` overrides)."""
    setting = os.environ.get("FORENSICS_PROGRESS")
    if setting is not None:
        return setting == "1"
    return sys.stderr.isatty() and not os.environ.get("CI")
