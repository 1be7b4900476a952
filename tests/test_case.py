"""The case file: a valid one loads; every mistake is one line naming the key, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from forensics.case import load_case
from forensics.cli import main
from forensics.errors import CaseError

VALID = {
    "case": "mci-test",
    "timezone": "Europe/Berlin",
    "window": {"start": "2026-06-18T09:00:00Z", "end": "2026-06-18T13:00:00Z"},
    "catalog": {"tables": "catalog/tables.csv"},
    "logs": [{"format": "ranger-audit", "path": "logs/*.log"}],
}


def _write_case(folder: Path, case: dict) -> Path:
    (folder / "catalog").mkdir(exist_ok=True)
    (folder / "catalog" / "tables.csv").write_text("object,type,location\nmci.k,table,/w/k\n")
    (folder / "logs").mkdir(exist_ok=True)
    (folder / "logs" / "a.log").write_text("")
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(case))
    return path


def test_valid_case_loads_with_utc_times(tmp_path: Path) -> None:
    case = load_case(_write_case(tmp_path, VALID))
    assert case.name == "mci-test"
    assert case.window is not None
    assert case.window[0].isoformat() == "2026-06-18T09:00:00+00:00"
    assert [case.relpath(f) for f in case.logs[0].files] == ["logs/a.log"]


def test_time_without_offset_is_read_in_case_timezone(tmp_path: Path) -> None:
    raw = dict(VALID, window={"start": "2026-06-18 11:00:00", "end": "2026-06-18 15:00:00"})
    case = load_case(_write_case(tmp_path, raw))
    assert case.window is not None
    assert case.window[0].isoformat() == "2026-06-18T09:00:00+00:00"  # CEST = UTC+2


BAD_CASES = [
    ({"colour": "red"}, "colour: unknown key"),
    ({"logs": [{"format": "syslog", "path": "logs/*.log"}]}, "logs[0].format: unknown format"),
    ({"logs": [{"format": "ranger-audit", "path": "nope/*.log"}]}, "logs[0].path: glob"),
    (
        {"catalog": {"tables": "catalog/missing.csv"}},
        "catalog.tables: file 'catalog/missing.csv' not found",
    ),
    (
        {"window": {"start": "2026-06-18T13:00:00Z", "end": "2026-06-18T09:00:00Z"}},
        "window.end: must be after window.start",
    ),
    ({"timezone": "Mars/Olympus"}, "timezone: unknown zone"),
    ({"case": "Bad Name!"}, "case: must be an identifier"),
    ({"window": {"start": "yesterday", "end": "2026-06-18T13:00:00Z"}}, "window.start:"),
    ({"window": None}, "window: required unless policies"),
    ({"catalog": {"tables": "catalog/tables.csv", "owners": "x.csv"}}, "catalog.owners: unknown"),
]


@pytest.mark.parametrize(("change", "message"), BAD_CASES, ids=[m for _, m in BAD_CASES])
def test_bad_case_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict, message: str
) -> None:
    raw = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    case_path = _write_case(tmp_path, raw)
    with pytest.raises(CaseError, match=r"^" + message.replace("[", r"\[").replace("]", r"\]")):
        load_case(case_path)
    out = tmp_path / "evidence"
    status = main(["investigate", str(case_path), "--out", str(out)])
    err = capsys.readouterr().err
    assert status != 0
    assert err.count("\n") == 1 and err.startswith("forensics: error: ")
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("case: x\n  bad: [\n")
    with pytest.raises(CaseError, match="line"):
        load_case(path)
