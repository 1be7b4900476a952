"""Exports: Timesketch JSON lines and notification.csv, checked against the evidence CSVs."""

from __future__ import annotations

import csv
import json
import stat
from datetime import datetime
from pathlib import Path

import pytest

from forensics.cli import main
from tests.conftest import INCIDENT

#: Timesketch's mandatory fields for a JSONL import (Timesketch docs, "Import from JSON/CSV").
TIMESKETCH_REQUIRED = ("message", "datetime", "timestamp_desc")


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "evidence"
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]) == 0
    return out


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_timesketch_lines_carry_the_required_fields_and_provenance(
    evidence: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ts.jsonl"
    assert main(["export", "timesketch", str(evidence), "--out", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    rows = {r["event_id"] + r["object"]: r for r in _csv(evidence / "access_events.csv")}
    assert len(lines) == len(rows)
    for event in lines:
        for field in TIMESKETCH_REQUIRED:
            assert isinstance(event[field], str) and event[field], field
        moment = datetime.fromisoformat(event["datetime"])
        assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0
        assert event["timestamp"] == int(moment.timestamp() * 1_000_000)
        row = rows[event["event_id"] + event["object"]]
        assert event["tag"] == [row["classification"]]
        assert event["source_file"] == row["source_file"]
        assert str(event["source_line"]) == row["source_line"]
        assert row["principal"] in event["message"] and row["object"] in event["message"]
        assert datetime.fromisoformat(row["time"].replace("Z", "+00:00")) == moment
    assert [e["datetime"] for e in lines] == sorted(e["datetime"] for e in lines)


def test_notification_lists_every_reader_with_their_event_ids(
    evidence: Path, tmp_path: Path
) -> None:
    out = tmp_path / "notification.csv"
    assert main(["export", "notification", str(evidence), "--out", str(out)]) == 0
    rows = _csv(out)
    people = {p["principal"]: p for p in _csv(evidence / "principals.csv")}
    assert [r["principal"] for r in rows] == sorted(people)
    events = _csv(evidence / "access_events.csv")
    for row in rows:
        person = people[row["principal"]]
        for column in ("kind", "org", "first_read", "last_read", "exposure_enabled_events"):
            assert row[column] == (
                person[column] or "unknown" if column == "kind" else person[column]
            )
        mine = [
            e
            for e in events
            if e["principal"] == row["principal"]
            and e["classification"] in ("exposure_enabled", "secondary")
        ]
        assert set(row["event_ids"].split(";")) == {e["event_id"] for e in mine}
        assert set(row["tables"].split(";")) == {e["object"] for e in mine}


def test_notification_cells_never_run_as_formulas(evidence: Path, tmp_path: Path) -> None:
    from forensics import export, findings

    ev = findings.load_evidence(evidence)
    ev.principals.loc[0, "org"] = '=HYPERLINK("http://x")'
    export.write_notification(ev, tmp_path / "n.csv")
    assert _csv(tmp_path / "n.csv")[0]["org"] == '\'=HYPERLINK("http://x")'


def test_export_to_a_missing_folder_is_one_clear_error(
    evidence: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "nowhere" / "ts.jsonl"
    assert main(["export", "timesketch", str(evidence), "--out", str(out)]) == 1
    assert "no such folder" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()
