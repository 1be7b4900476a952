"""The report: the investigation notebook executed by papermill beside the evidence.

The notebook reads the evidence files (it never recomputes them); its HTML rendering hides
the code so that people who will not open a notebook can read it.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter

from forensics.errors import ReportError
from forensics.investigation import Settings, investigate

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
MAIN_NOTEBOOK = NOTEBOOKS_DIR / "investigation.ipynb"


def run_report(settings: Settings) -> tuple[Path, Path]:
    """Investigate the case, then execute and render the notebook into the same folder."""
    folder = investigate(
        settings,
        extra=lambda stage: render_notebook(
            MAIN_NOTEBOOK, stage, {"case_path": str(settings.case.path), "evidence_dir": str(stage)}
        ),
    )
    return folder, folder / "report.html"


def render_notebook(notebook: Path, folder: Path, parameters: dict[str, object]) -> Path:
    """Execute `notebook` with `parameters` into `folder` and write its HTML (code hidden)."""
    declared = papermill.inspect_notebook(str(notebook))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ReportError(
            f"{notebook.name}: no parameter(s) {', '.join(unknown)}; "
            f"it accepts {', '.join(sorted(declared))}"
        )
    executed = folder / "report.ipynb"
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=str(folder),
        )
    except papermill.PapermillExecutionError as exc:
        raise ReportError(
            f"{notebook.name}: cell {exc.exec_count} failed with {exc.ename}: {exc.evalue}"
        ) from None
    html = folder / "report.html"
    body, _ = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    ).from_notebook_node(nbformat.read(executed, as_version=4))
    html.write_text(body, encoding="utf-8")
    for path in (executed, html):
        os.chmod(path, 0o600)
    return html
