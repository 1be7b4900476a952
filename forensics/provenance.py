"""Provenance: from an evidence row back to the raw log line it came from.

The input is re-hashed first: a line is only shown from a file whose sha256 still matches
the manifest, so what is shown is what the evidence was computed from.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from forensics.case import inside
from forensics.errors import EvidenceError
from forensics.evidence import csv_value, read_manifest, sha256_file
from forensics.ingest.reader import read_lines

_EVENT_ID = re.compile(r"^[A-Za-z0-9_.:#@/-]{1,256}$")


@dataclass(frozen=True)
class Trace:
    """One raw input line behind an evidence row."""

    source_file: str
    source_line: int
    text: str


def trace(folder: Path, event_id: str, case_file: Path | None = None) -> list[Trace]:
    """The raw input lines of `event_id` (one per distinct source line), hash-checked."""
    if not _EVENT_ID.match(event_id):
        raise EvidenceError(f"event id {event_id[:80]!r} is not an event id of access_events.csv")
    manifest = read_manifest(folder)
    case_file = case_file or Path(manifest.get("run", {}).get("case_file", ""))
    if not case_file.is_file():
        raise EvidenceError(f"{folder}: case file unknown or moved; give it with --case CASE")
    sources = sorted(
        {
            (row["source_file"], int(row["source_line"]))
            for row in _rows(folder / "access_events.csv")
            if row["event_id"] == event_id
        }
    )
    if not sources:
        raise EvidenceError(f"event {event_id!r} is not in {folder}/access_events.csv")
    inputs = {i["path"]: i for i in manifest.get("inputs", [])}
    result = []
    for rel, number in sources:
        path = case_file.parent / inside(rel, "source_file")
        recorded = inputs.get(rel)
        if recorded is None or not path.is_file():
            raise EvidenceError(f"input {rel}: not found beside the case file")
        if sha256_file(path) != recorded["sha256"]:
            raise EvidenceError(f"input {rel}: changed since the evidence was produced")
        line = next((ln for ln in read_lines(path) if ln.number == number), None)
        if line is None or line.text is None:
            raise EvidenceError(f"input {rel}: has no readable line {number}")
        result.append(Trace(rel, number, line.text))
    return result


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return [{k: csv_value(v) for k, v in row.items()} for row in csv.DictReader(f)]
