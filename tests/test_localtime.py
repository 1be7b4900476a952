"""The case's local time beside UTC: recorded in the manifest, shown where a reader needs it
(first page, findings, windows), never in the evidence files."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from forensics import findings, narrative
from forensics.errors import EvidenceError
from forensics.webpage import local, when_local
from tests.conftest import INCIDENT
from tests.pages import parse_page

ZONE = "America/Los_Angeles"  # the bundled incident's `timezone:`


def _local(iso_utc: str) -> str:
    """The expected bracket for a UTC time of the evidence, computed with the stdlib."""
    moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).astimezone(ZoneInfo(ZONE))
    return moment.strftime("(%Y-%m-%d %H:%M %Z)")


def _windows(report: Path) -> list[dict[str, str]]:
    with open(report / "exposure_windows.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_manifest_records_the_case_timezone(report: Path) -> None:
    assert "timezone: America/Los_Angeles" in (INCIDENT / "case.yaml").read_text()
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["timezone"] == ZONE


def test_local_time_stands_beside_utc_and_crosses_midnight() -> None:
    assert when_local("2026-06-18T09:15:00Z", ZONE) == (
        "2026-06-18 09:15:00 UTC (2026-06-18 02:15 PDT)"
    )
    # 03:30 UTC is the evening before in Los Angeles, and winter time is PST
    assert local("2026-01-10T03:30:00Z", ZONE) == "2026-01-09 19:30 PST"
    assert local("2026-06-18T22:00:00Z", "Asia/Tokyo") == "2026-06-19 07:00 JST"
    assert when_local("2026-06-18T09:15:00Z", "UTC") == "2026-06-18 09:15:00 UTC"
    assert when_local(None, ZONE) == "" and local(float("nan"), ZONE) == ""


@pytest.mark.parametrize("page", ["index.html", "report/90_findings.html"])
def test_first_page_and_findings_show_local_times_of_windows_and_reads(
    report: Path, page: str
) -> None:
    text = parse_page(report / page).text
    assert f"the case's local time ({ZONE})" in text
    for window in _windows(report):
        assert _local(window["start"]) in text, window["start"]
    with open(report / "principals.csv", newline="") as f:
        first = min(row["first_read"] for row in csv.DictReader(f) if row["first_read"])
    assert f"{first[:10]} {first[11:19]} UTC {_local(first)}" in text


def test_scope_page_windows_carry_local_time(report: Path) -> None:
    scope = parse_page(report / "report" / "00_scope.html")
    table = next(t for t in scope.tables if "start" in t.header and "end" in t.header)
    for cell, window in zip(table.column("start"), _windows(report), strict=True):
        assert cell.endswith(_local(window["start"])), cell


def test_evidence_files_stay_utc(report: Path) -> None:
    for name in ("access_events.csv", "exposure_windows.csv", "principals.csv"):
        text = (report / name).read_text()
        assert "PDT" not in text and "PST" not in text and "-07:00" not in text, name


def test_a_manifest_without_timezone_reads_as_utc_and_a_damaged_one_is_named(
    report: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "ev"
    folder.mkdir()
    for path in report.glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    manifest = json.loads((report / "manifest.json").read_text())
    del manifest["timezone"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    ev = findings.load_evidence(folder)
    assert narrative.case_zone(ev) == "UTC"
    assert "(" not in narrative.windows_text(ev.objects["windows"][0], "UTC")
    assert "All times are UTC." in narrative.reader_heading(ev, "carl")
    manifest["timezone"] = "Mars/Olympus"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(EvidenceError, match="Mars/Olympus.*not a known zone"):
        narrative.case_zone(ev)
