"""Sources whose lines were (nearly) all quarantined, and which known format they look like.

A log source declared with the wrong format (HDFS audit lines under `format:
ranger-audit`) quarantines every line and yields no event: an investigation that then
reports "nobody read the table" answers the wrong question. Such a source stops the run
with one line saying which format its lines look like, unless the investigator accepts it
(`--allow-quarantine`), and then it is recorded as a warning in the manifest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from forensics import queries
from forensics.case import Case
from forensics.errors import InputError
from forensics.ingest import FileCounts, hdfs, lineage, metastore, ranger, trino
from forensics.ingest.base import BadLine, LineContext
from forensics.ingest.bulk import numbered_lines
from forensics.ingest.reader import EMPTY_LINE

#: A source is stopped when at least this share of its lines was quarantined.
SHARE = 0.9
#: Quarantined lines read again per source to tell what they look like.
SAMPLE = 20
#: The line formats a sample is tried against (the multi-line and document formats,
#: hiveserver2-log, ranger-solr and generic, cannot be told from single lines).
LINE_PARSERS: dict[str, Callable[[str, LineContext], object]] = {
    ranger.FORMAT: ranger.parse,
    hdfs.FORMAT: hdfs.parse,
    metastore.FORMAT: metastore.parse,
    trino.FORMAT: trino.parse,
    lineage.FORMAT: lineage.parse,
}


@dataclass(frozen=True)
class QuarantinedSource:
    """A log source (`logs[index]` of the case) whose lines were nearly all quarantined."""

    index: int
    format: str
    path: str
    lines: int  # not blank
    quarantined: int  # not blank
    looks_like: str | None  # the known format most sampled lines parse as
    matched: int  # how many of the sampled lines parse as `looks_like`
    sampled: int
    first_reason: str

    def message(self) -> str:
        """One line: what happened, what the lines look like, what to do."""
        head = (
            f"logs[{self.index}] ({self.path}, format {self.format}): {self.quarantined} of "
            f"{self.lines} non-blank lines quarantined"
        )
        if self.looks_like is not None:
            return (
                f"{head}; they look like {self.looks_like} ({self.matched} of {self.sampled} "
                f"sampled lines parse as {self.looks_like}): set format: {self.looks_like}"
            )
        return f"{head}; they match no known line format (first reason: {self.first_reason})"


def quarantined_sources(
    con: duckdb.DuckDBPyConnection, case: Case, counts: Sequence[FileCounts]
) -> list[QuarantinedSource]:
    """The case's log sources with lines of which at least `SHARE` were quarantined, each
    with the known format its quarantined lines look like."""
    by_file = {c.source_file: c for c in counts}
    found = []
    for index, source in enumerate(case.logs):
        files = [(case.relpath(f), f) for f in source.files if case.relpath(f) in by_file]
        blank = sum(_blank_lines(con, rel) for rel, _ in files)
        lines = sum(by_file[rel].lines for rel, _ in files) - blank
        quarantined = sum(by_file[rel].quarantined for rel, _ in files) - blank
        if lines == 0 or quarantined < SHARE * lines:
            continue
        texts, reasons = _sample(con, files)
        looks_like, matched = looks_like_format(texts, case.timezone, exclude=source.format)
        found.append(
            QuarantinedSource(
                index=index,
                format=source.format,
                path=source.pattern,
                lines=lines,
                quarantined=quarantined,
                looks_like=looks_like,
                matched=matched,
                sampled=len(texts),
                first_reason=reasons[0] if reasons else "unreadable",
            )
        )
    return found


def looks_like_format(
    texts: Sequence[str], tz: ZoneInfo, exclude: str | None = None
) -> tuple[str | None, int]:
    """The known line format that most of `texts` parse as (at least half of them), and
    how many do; (None, 0) when none does."""
    best: tuple[str | None, int] = (None, 0)
    for fmt, parse in LINE_PARSERS.items():
        if fmt == exclude:
            continue
        parsed = 0
        for number, text in enumerate(texts, 1):
            try:
                parse(text, LineContext("sniff", number, tz))
            except (BadLine, ValueError):
                continue
            parsed += 1
        if parsed > best[1]:
            best = (fmt, parsed)
    return best if best[1] * 2 >= len(texts) and best[1] > 0 else (None, 0)


#: What a warehouse run's manifest says of this check (`events.format_check`).
WAREHOUSE_CHECK = (
    "the share of quarantined lines was checked per source file from the warehouse's own "
    "counts (quarantined lines against events); which known format the lines look like "
    "was not checked: the warehouse keeps no line texts"
)


def quarantined_in_warehouse(
    per_file: Sequence[Mapping[str, object]], quarantined: Mapping[str, int]
) -> list[str]:
    """The run-stopping message of each warehouse source file whose quarantined lines are
    at least `SHARE` of its lines, counting each event as a line (a line gives at least one
    event, so a file is never flagged for more than its lines' share)."""
    events = {str(r["source_file"]): int(r["events"] or 0) for r in per_file}  # type: ignore[call-overload]
    formats = {str(r["source_file"]): r.get("source_format") for r in per_file}
    messages = []
    for name in sorted(set(events) | set(quarantined)):
        bad, good = quarantined.get(name, 0), events.get(name, 0)
        if bad and bad >= SHARE * (bad + good):
            messages.append(
                f"warehouse source file {name} (format {formats.get(name) or 'unknown'}): "
                f"{bad} lines quarantined against {good} events; the warehouse keeps no line "
                "texts, so which format they look like cannot be told here: check how this "
                "source was normalized into the warehouse's events"
            )
    return messages


def accept(found: Sequence[QuarantinedSource], allow: bool) -> list[str]:
    """The manifest's warnings for the sources found; `InputError` unless `allow`."""
    return accept_messages([f.message() for f in found], allow)


def accept_messages(messages: Sequence[str], allow: bool) -> list[str]:
    """The manifest's warnings; `InputError` naming the first unless `allow`."""
    messages = list(messages)
    if messages and not allow:
        more = f" (and {len(messages) - 1} more such source(s))" if len(messages) > 1 else ""
        raise InputError(
            f"{messages[0]}{more}; or rerun with --allow-quarantine to accept it as a warning"
        )
    return messages


def _blank_lines(con: duckdb.DuckDBPyConnection, rel: str) -> int:
    """Quarantined blank lines of one file (left out of the counts: no sign of a format)."""
    ((blank,),) = queries.relation(
        con, "ingest/quarantine_blank", source_file=rel, blank=EMPTY_LINE
    ).fetchall()
    return int(blank)


def _sample(
    con: duckdb.DuckDBPyConnection, files: Sequence[tuple[str, Path]]
) -> tuple[list[str], list[str]]:
    """The text of the first quarantined lines of the files, and their reasons."""
    wanted: dict[str, list[int]] = defaultdict(list)
    reasons: list[str] = []
    for rel, _ in sorted(files):
        rows = queries.relation(
            con,
            "ingest/quarantine_sample",
            source_file=rel,
            limit=SAMPLE - len(reasons),
            blank=EMPTY_LINE,
        ).fetchall()
        wanted[rel] = [line for line, _ in rows]
        reasons += [reason for _, reason in rows]
        if len(reasons) >= SAMPLE:
            break
    texts = []
    for rel, path in sorted(files):
        if wanted.get(rel):
            texts += [t for _, t, _ in numbered_lines(path, wanted[rel]) if t is not None]
    return texts, reasons
