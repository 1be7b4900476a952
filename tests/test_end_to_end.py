"""The bundled incident end to end, compared with answers written down by hand.

`fixtures/incident-small/expected/` was written from the incident's story, not by running
this code; each file lists the key columns of one evidence file (see its README).
"""

from __future__ import annotations

import csv
import json
import os
import stat
from collections import Counter
from pathlib import Path

import pytest

from forensics.cli import main
from forensics.evidence import COVERAGE, EVIDENCE_FILES, MANIFEST
from forensics.subjects import SUBJECT_FILES
from tests.conftest import INCIDENT

EXPECTED = INCIDENT / "expected"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _project(rows: list[dict[str, str]], columns: list[str]) -> list[tuple[str, ...]]:
    return sorted(tuple(row[c] for c in columns) for row in rows)


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("e2e") / "evidence"
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(
    "name", ["exposure_enabled_reads", "objects", "derived_copies", "unexplained_reads"]
)
def test_evidence_matches_written_down_answers(evidence: Path, name: str) -> None:
    expected = _rows(EXPECTED / f"{name}.csv")
    columns = list(expected[0].keys()) if expected else []
    actual = _rows(evidence / f"{name}.csv")
    assert _project(actual, columns) == _project(expected, columns)


def test_access_event_classes_match(evidence: Path) -> None:
    expected = {
        r["classification"]: int(r["events"]) for r in _rows(EXPECTED / "access_event_classes.csv")
    }
    actual = Counter(r["classification"] for r in _rows(evidence / "access_events.csv"))
    assert {k: v for k, v in actual.items()} == {k: v for k, v in expected.items() if v}


def test_quarantine_matches(evidence: Path) -> None:
    expected = _project(_rows(EXPECTED / "quarantine.csv"), ["source_file", "source_line"])
    actual = _rows(evidence / "quarantine.csv")
    assert _project(actual, ["source_file", "source_line"]) == expected
    assert all(r["reason"] for r in actual)


def test_manifest_counts_reconcile(evidence: Path) -> None:
    manifest = json.loads((evidence / MANIFEST).read_text())
    logs = {i["path"]: i for i in manifest["inputs"] if "lines" in i}
    for row in _rows(EXPECTED / "input_counts.csv"):
        entry = logs[row["source_file"]]
        for key in ("lines", "parsed", "quarantined", "duplicates"):
            assert entry[key] == int(row[key]), (row["source_file"], key)
    for entry in logs.values():
        assert entry["parsed"] + entry["quarantined"] == entry["lines"]
    outputs = {o["path"]: o for o in manifest["outputs"]}
    # the bundled incident has a subjects: input, so the subject files are written too
    assert set(outputs) == {f"{n}.csv" for n in (*EVIDENCE_FILES, COVERAGE, *SUBJECT_FILES)}
    for name, entry in outputs.items():
        assert entry["rows"] == len(_rows(evidence / name))


def test_every_row_traces_to_an_input_line(evidence: Path) -> None:
    for name in ("access_events", "derived_copies", "unexplained_reads", "quarantine"):
        for row in _rows(evidence / f"{name}.csv"):
            source = INCIDENT / row["source_file"]
            assert source.is_file(), row
            assert int(row["source_line"]) >= 1


def test_literals_are_redacted(evidence: Path) -> None:
    rows = _rows(evidence / "access_events.csv")
    statements = [r["query_redacted"] for r in rows if r["query_redacted"]]
    assert statements
    assert not any("'" in s for s in statements)
    assert not any("2026-06-17" in s for s in statements)


def test_evidence_is_private(evidence: Path) -> None:
    assert stat.S_IMODE(os.stat(evidence).st_mode) == 0o700
    for path in evidence.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path.name


def test_rerun_is_byte_identical(evidence: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(again)]) == 0
    for name in EVIDENCE_FILES:
        assert (again / f"{name}.csv").read_bytes() == (evidence / f"{name}.csv").read_bytes()
    first = json.loads((evidence / MANIFEST).read_text())
    second = json.loads((again / MANIFEST).read_text())
    first.pop("run"), second.pop("run")
    assert first == second


def test_verify_catches_one_changed_byte(evidence: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in evidence.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    assert main(["verify", str(copy), "--case", str(INCIDENT / "case.yaml")]) == 0
    target = copy / "exposure_enabled_reads.csv"
    data = bytearray(target.read_bytes())
    data[-2] = ord("9") if data[-2] != ord("9") else ord("8")
    target.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["verify", str(copy)]) == 1
    out = capsys.readouterr()
    assert "exposure_enabled_reads.csv" in out.out


def test_fixture_is_what_its_generator_writes(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = INCIDENT.parent / "make_incident_small.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, capture_output=True)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written
    for relative in written:
        assert (tmp_path / relative).read_bytes() == (INCIDENT / relative).read_bytes(), relative


def test_unparsed_statements_are_listed_not_dropped(incident: Path, tmp_path: Path) -> None:
    ranger = incident.parent / "logs" / "ranger" / "hive_ranger_audit.20260618-08.log"
    lines = ranger.read_text().splitlines()
    record = json.loads(lines[2])  # ana reads mci.keystrokes (baseline)
    record.update(
        id="added-unparsed-1",
        reqData="dfs -cat 'secret name' | grep -v x",  # a Hive CLI command, not a query
    )
    ranger.write_text("\n".join([*lines, json.dumps(record)]) + "\n")
    out = tmp_path / "evidence"
    assert main(["investigate", str(incident), "--out", str(out)]) == 0
    rows = _rows(out / "unparsed_statements.csv")
    assert [(r["principal"], r["source_line"]) for r in rows] == [("ana", "8")]
    assert rows[0]["reason"] and "secret name" not in rows[0]["reason"]
    assert "secret name" not in rows[0]["query_redacted"]


def test_bundled_incident_has_no_unparsed_statements(evidence: Path) -> None:
    assert _rows(evidence / "unparsed_statements.csv") == []
