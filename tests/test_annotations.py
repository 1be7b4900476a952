"""Reviewers' annotations: validated, hashed into the manifest, shown, never evidence."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import nbformat
import pytest

from forensics import annotations
from forensics.cli import main
from forensics.errors import InputError
from forensics.privacy import load_key, pseudonym
from forensics.report import NOTEBOOKS_DIR, render_notebook

HEADER = "event_id,principal,object,status,comment,reviewer\n"


def _case_with(incident: Path, text: str) -> Path:
    (incident.parent / "annotations.csv").write_text(HEADER + text)
    case = incident.read_text() + "annotations: annotations.csv\n"
    incident.write_text(case)
    return incident


def _carl_event(evidence: Path) -> str:
    with open(evidence / "access_events.csv", newline="") as f:
        return next(r["event_id"] for r in csv.DictReader(f) if r["principal"] == "carl")


def test_annotations_are_hashed_shown_and_never_change_the_evidence(
    incident: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    assert main(["investigate", str(incident), "--out", str(plain)]) == 0
    event = _carl_event(plain)
    _case_with(
        incident,
        f'{event},,,confirmed,"read keystrokes <script>alert(1)</script>",hr-1\n'
        ",,mci.keystrokes,needs-follow-up,ask the owner,hr-2\n",
    )
    annotated = tmp_path / "annotated"
    assert main(["investigate", str(incident), "--out", str(annotated)]) == 0
    for csv_file in plain.glob("*.csv"):  # evidence rows unchanged
        assert (annotated / csv_file.name).read_bytes() == csv_file.read_bytes(), csv_file.name
    manifest = json.loads((annotated / "manifest.json").read_text())
    assert "annotations.csv" in {i["path"] for i in manifest["inputs"]}

    report_dir = annotated / "report"
    report_dir.mkdir()
    annotations.stage_copy(incident.parent / "annotations.csv", report_dir)
    render_notebook(
        NOTEBOOKS_DIR / "20_principal.ipynb",
        report_dir,
        {"evidence_dir": str(annotated), "principal": "carl"},
        "carl",
    )
    page = (report_dir / "carl.html").read_text().replace("<wbr/>", "")
    assert "confirmed" in page and "hr-1" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    executed = nbformat.read(report_dir / "carl.ipynb", as_version=4)
    texts = [
        o.get("data", {}).get("text/html", "") for c in executed.cells for o in c.get("outputs", [])
    ]
    shown = next(t for t in texts if "hr-1" in t)
    assert "needs-follow-up" not in shown  # the object's note is not carl's


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",carl,,maybe,,r\n", "line 2: status 'maybe' is not one of"),
        (",,,benign,,r\n", "line 2: names no event_id, principal or object"),
    ],
)
def test_a_bad_annotation_is_one_line_naming_the_row(tmp_path: Path, row: str, message) -> None:
    path = tmp_path / "annotations.csv"
    path.write_text(HEADER + row)
    with pytest.raises(InputError, match=message):
        annotations.load_annotations(path)


def test_a_missing_column_says_which(tmp_path: Path) -> None:
    path = tmp_path / "annotations.csv"
    path.write_text("event_id,status\nx,benign\n")
    with pytest.raises(InputError, match="missing column.*principal"):
        annotations.load_annotations(path)


def test_a_pseudonymized_report_names_annotated_people_by_their_pseudonyms(
    incident: Path, tmp_path: Path
) -> None:
    key = tmp_path / "key"
    key.write_text("0123456789abcdef-not-a-real-key\n")
    case = _case_with(
        incident,
        ",carl,,confirmed,carl copied it for dora to /tmp/dora_export,olga\n"
        ",,mci.keystrokes,benign,ask Carl,olga\n",
    )
    out = tmp_path / "ev"
    args = ["report", str(case), "--out", str(out), "--top", "1", "--pseudonymize", str(key)]
    assert main(args) == 0
    with open(out / "report" / "annotations.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    carl = pseudonym(load_key(key, "pseudonym"), "carl")
    assert rows[0]["principal"] == carl  # as access_events.csv names him
    assert carl in (out / "access_events.csv").read_text()
    assert rows[1]["comment"] == f"ask {carl}"
    names = re.compile(r"(?<![^\W_])(carl|dora|olga)(?![^\W_])", re.I)
    for path in sorted((out / "report").iterdir()) + [out / "index.html"]:
        text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", path.read_text())
        assert not names.search(text), path.name
