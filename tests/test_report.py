"""The report: notebook executed by papermill, outputs checked, HTML beside the evidence."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from forensics.cli import main
from forensics.errors import ReportError
from forensics.report import MAIN_NOTEBOOK, render_notebook
from tests.conftest import INCIDENT


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "evidence"
    assert main(["report", str(INCIDENT / "case.yaml"), "--out", str(out)]) == 0
    return out


def _outputs(notebook: nbformat.NotebookNode) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts.append(data.get("text/plain", "") + data.get("text/html", ""))
            texts.append(output.get("text", ""))
    return "\n".join(texts)


def test_report_notebook_shows_the_evidence_numbers(report: Path) -> None:
    executed = nbformat.read(report / "report.ipynb", as_version=4)
    text = _outputs(executed)
    with open(report / "exposure_enabled_reads.csv", newline="") as f:
        reads = list(csv.DictReader(f))
    principals = {r["principal"] for r in reads}
    assert "exposed objects" in text
    assert "principals with exposure-enabled reads" in text
    for principal in principals:
        assert principal in text, principal
    images = [
        o for c in executed.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert images, "the timeline plot is missing"


def test_report_html_hides_code(report: Path) -> None:
    html = (report / "report.html").read_text()
    assert "Exposure investigation" in html
    assert "load_evidence" not in html


def test_parameters_are_declared_for_papermill() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(MAIN_NOTEBOOK)],
        capture_output=True,
        text=True,
        check=True,
    )
    for name in ("case_path", "evidence_dir", "top_n"):
        assert name in result.stdout


def test_misspelled_parameter_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no parameter"):
        render_notebook(MAIN_NOTEBOOK, tmp_path, {"evidence_directory": "x"})
    assert not any(tmp_path.iterdir())


def test_failing_cell_is_reported_with_its_number(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"cell \d+ failed"):
        render_notebook(MAIN_NOTEBOOK, tmp_path, {"evidence_dir": str(tmp_path / "none")})
