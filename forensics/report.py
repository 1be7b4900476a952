"""The report: the notebooks executed by papermill beside the evidence, linked by an index.

`report.html` is the one-page investigation notebook; `report/` holds the suite (scope,
who read what, one page per top reader, copies, findings), each executed and rendered
with its code hidden, and `index.html` links them all. The notebooks read the evidence
files (they never recompute them). Everything is rendered into the evidence's staging
folder, so a failing notebook leaves neither a half-written report nor new evidence.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter

from forensics import findings
from forensics.errors import ReportError
from forensics.investigation import Settings
from forensics.pushdown import investigate_where_kept

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
MAIN_NOTEBOOK = NOTEBOOKS_DIR / "investigation.ipynb"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SUITE = ("00_scope", "10_who_read_what", "40_copies", "50_subjects", "90_findings")
PRINCIPAL_NOTEBOOK = "20_principal"
OBJECT_NOTEBOOK = "30_object"
REPORT_DIR = "report"
DEFAULT_TOP_READERS = 5


@dataclass(frozen=True)
class Page:
    """One rendered notebook: its file (relative to the evidence folder) and its title."""

    path: str
    title: str


def run_report(
    settings: Settings,
    top_readers: int = DEFAULT_TOP_READERS,
    profile: str | None = None,
    profiles: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Path, Path]:
    """Investigate the case, then execute and render the notebooks into the same folder.

    With a warehouse profile (`profile`, else the case's), the events are read where they
    are kept, as `forensics investigate --profile` does; the notebooks only ever read the
    evidence, so the report is the same whichever engine produced it."""
    if not isinstance(top_readers, int) or not 0 <= top_readers <= 1000:
        raise ReportError(f"top readers must be a whole number from 0 to 1000, not {top_readers}")
    folder = investigate_where_kept(
        settings, profile, profiles, progress, extra=lambda stage: render_suite(stage, top_readers)
    )
    return folder, folder / "index.html"


def render_suite(folder: Path, top_readers: int = DEFAULT_TOP_READERS) -> list[Page]:
    """Every notebook of the report for the evidence in `folder`, and `index.html`."""
    pages = [
        render_notebook(MAIN_NOTEBOOK, folder, {"evidence_dir": str(folder)}, "report"),
    ]
    sub = folder / REPORT_DIR
    sub.mkdir(mode=0o700)
    params = {"evidence_dir": str(folder)}
    for name in SUITE:
        extra = {"link_prefix": "../"} if name == "90_findings" else {}
        pages.append(_suite_page(name, sub, {**params, **extra}, name))
    ev = findings.load_evidence(folder)
    for i, principal in enumerate(findings.top_principals(ev, top_readers)["principal"]):
        page = _suite_page(
            PRINCIPAL_NOTEBOOK, sub, {**params, "principal": principal}, f"20_reader-{i + 1:02d}"
        )
        pages.append(page)
    for i, obj in enumerate(findings.top_objects(ev, top_readers)["object"]):
        page = _suite_page(
            OBJECT_NOTEBOOK, sub, {**params, "object": obj}, f"30_object-{i + 1:02d}"
        )
        pages.append(page)
    write_index(folder, pages)
    return pages


def _suite_page(name: str, sub: Path, parameters: dict[str, object], stem: str) -> Page:
    page = render_notebook(NOTEBOOKS_DIR / f"{name}.ipynb", sub, parameters, stem)
    return Page(f"{REPORT_DIR}/{page.path}", page.title)


def render_notebook(
    notebook: Path, folder: Path, parameters: dict[str, object], stem: str = "report"
) -> Page:
    """Execute `notebook` with `parameters` into `folder/<stem>.ipynb` and render its HTML."""
    declared = papermill.inspect_notebook(str(notebook))
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ReportError(
            f"{notebook.name}: no parameter(s) {', '.join(unknown)}; "
            f"it accepts {', '.join(sorted(declared))}"
        )
    executed = folder / f"{stem}.ipynb"
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=str(folder),
            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no transport chatter
        )
    except papermill.PapermillExecutionError as exc:
        executed.unlink(missing_ok=True)
        raise ReportError(
            f"{notebook.name}: cell {exc.exec_count} failed with {exc.ename}: {exc.evalue}"
        ) from None
    node = nbformat.read(executed, as_version=4)
    out = folder / f"{stem}.html"
    body, _ = HTMLExporter(
        template_name="offline",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    ).from_notebook_node(node)
    out.write_text(body, encoding="utf-8")
    for path in (executed, out):
        os.chmod(path, 0o600)
    return Page(out.name, _title(node, notebook.stem, parameters))


def write_index(folder: Path, pages: list[Page]) -> Path:
    """`index.html`: a plain list of the report's pages, in reading order."""
    items = "\n".join(
        f'<li><a href="{html.escape(p.path, quote=True)}">{html.escape(p.title)}</a></li>'
        for p in pages
    )
    index = folder / "index.html"
    index.write_text(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Exposure investigation'
        "</title>\n<style>body{font-family:sans-serif;max-width:48em;margin:2em auto}"
        "li{margin:.4em 0}</style></head>\n<body><h1>Exposure investigation</h1>\n"
        "<p>Each page reads the evidence files in this folder; times are UTC.</p>\n"
        f"<ol>\n{items}\n</ol>\n</body></html>\n",
        encoding="utf-8",
    )
    os.chmod(index, 0o600)
    return index


def _title(node: nbformat.NotebookNode, fallback: str, parameters: dict[str, object]) -> str:
    """The notebook's first heading, with the principal or object it was run for."""
    title = fallback
    for cell in node.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            title = cell.source.splitlines()[0][2:].strip()
            break
    subject = parameters.get("principal") or parameters.get("object")
    return f"{title}: {subject}" if subject else title
