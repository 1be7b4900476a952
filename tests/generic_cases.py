"""Shared by the tests that hold a bulk reader of generic logs to the row parser: a
one-log case around a log file, and the ingest of it by both paths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from forensics import ingest as ingest_module
from forensics.case import load_case
from forensics.ingest import ingest


def generic_case(
    folder: Path,
    log_name: str,
    write_log: Callable[[Path], None],
    mapping: dict,
    tz: str,
    time_format: str | None,
    case_name: str,
) -> Path:
    """A case of one generic log `logs/<log_name>` (written by `write_log`) over a
    one-table catalog; returns its case.yaml."""
    (folder / "catalog").mkdir(parents=True, exist_ok=True)
    (folder / "catalog" / "tables.csv").write_text("object,type,location\nmci.k,table,/w/k\n")
    (folder / "logs").mkdir(exist_ok=True)
    write_log(folder / "logs" / log_name)
    entry = {"format": "generic", "path": f"logs/{log_name}", "mapping": mapping}
    if time_format:
        entry["time_format"] = time_format
    case = {
        "case": case_name,
        "timezone": tz,
        "window": {"start": "2026-06-18T09:00:00Z", "end": "2026-06-18T13:00:00Z"},
        "catalog": {"tables": "catalog/tables.csv"},
        "logs": [entry],
    }
    (folder / "case.yaml").write_text(yaml.safe_dump(case))
    return folder / "case.yaml"


def bulk_and_parser(
    case: Path, monkeypatch: pytest.MonkeyPatch, bulk_reader: str
) -> tuple[tuple, tuple]:
    """(events, quarantine, counts) by the bulk reader and by the row parser alone (the
    bulk reader named `bulk_reader` in forensics.ingest made to decline every file)."""

    def read(result):
        events = sorted(result.events.to_pylist(), key=lambda e: (e["source_line"], e["event_id"]))
        return events, result.quarantine.to_pylist(), result.files

    bulk = read(ingest(load_case(case)))
    with monkeypatch.context() as m:
        m.setattr(ingest_module, bulk_reader, lambda *a, **k: None)
        parser = read(ingest(load_case(case)))
    return bulk, parser
