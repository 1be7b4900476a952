"""The report: notebook executed by papermill, outputs checked, HTML beside the evidence."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from forensics.errors import ReportError
from forensics.report import MAIN_NOTEBOOK, NOTEBOOKS_DIR, render_notebook


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


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _executed(report: Path, stem: str) -> tuple[str, int]:
    """The text outputs of an executed suite notebook and how many images it shows."""
    node = nbformat.read(report / "report" / f"{stem}.ipynb", as_version=4)
    images = sum(
        1 for c in node.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    )
    return _outputs(node), images


def test_index_links_every_page_in_reading_order(report: Path) -> None:
    index = (report / "index.html").read_text()
    links = [part.split('"', 1)[0] for part in index.split('href="')[1:]]
    assert links[0] == "report.html"
    assert links[1:6] == [
        "report/00_scope.html",
        "report/10_who_read_what.html",
        "report/40_copies.html",
        "report/50_subjects.html",
        "report/90_findings.html",
    ]
    assert links[6:] == [
        "report/20_reader-01.html",
        "report/20_reader-02.html",
        "report/30_object-01.html",
        "report/30_object-02.html",
    ]
    for link in links:
        page = (report / link).read_text()
        assert "Traceback" not in page, link
        assert "findings.load_evidence" not in page, link


def test_scope_page_shows_every_exposed_object_and_the_unexplained_read(report: Path) -> None:
    text, images = _executed(report, "00_scope")
    for row in _csv(report / "objects.csv"):
        assert row["object"] in text
    for row in _csv(report / "unexplained_reads.csv"):
        assert row["principal"] in text and row["source_file"] in text
    assert images == 1


def test_who_read_what_page_has_every_reader_and_its_plots(report: Path) -> None:
    text, images = _executed(report, "10_who_read_what")
    for row in _csv(report / "exposure_enabled_reads.csv"):
        assert row["principal"] in text
        for category in row["sensitivity"].split(";"):
            assert category in text
    assert images == 3  # timeline, heatmap, categories


def test_reader_pages_follow_the_top_readers(report: Path) -> None:
    reads = _csv(report / "exposure_enabled_reads.csv")
    totals: dict[str, int] = {}
    for row in reads:
        totals[row["principal"]] = totals.get(row["principal"], 0) + int(row["read_events"])
    top = sorted(totals, key=lambda p: (-totals[p], p))[:2]
    events = _csv(report / "access_events.csv")
    for i, principal in enumerate(top, start=1):
        text, _ = _executed(report, f"20_reader-{i:02d}")
        assert principal in text
        for row in events:
            if row["principal"] == principal:
                assert row["object"] in text and row["source_file"] in text
        others = set(totals) - {principal}
        assert not any(f" {other} " in text for other in others)


def test_copies_page_draws_the_lineage_and_names_secondary_readers(report: Path) -> None:
    text, images = _executed(report, "40_copies")
    for row in _csv(report / "derived_copies.csv"):
        assert row["derived_object"] in text
    secondary = {
        r["principal"]
        for r in _csv(report / "access_events.csv")
        if r["classification"] == "secondary"
    }
    assert secondary and all(p in text for p in secondary)
    assert images == 1


def test_findings_page_links_each_number_to_its_evidence_file(report: Path) -> None:
    page = (report / "report" / "90_findings.html").read_text()
    for name in ("objects.csv", "exposure_enabled_reads.csv", "derived_copies.csv"):
        assert f'href="../{name}"' in page
    text, _ = _executed(report, "90_findings")
    objects = _csv(report / "objects.csv")
    assert f"exposed objects</td>\n      <td>{len(objects)}<" in text


@pytest.mark.parametrize("principal", ["'; DROP TABLE x; --", "../../etc/passwd", "nobody"])
def test_principal_page_refuses_a_bad_principal(report: Path, tmp_path: Path, principal) -> None:
    with pytest.raises(ReportError, match="principal"):
        render_notebook(
            NOTEBOOKS_DIR / "20_principal.ipynb",
            tmp_path,
            {"evidence_dir": str(report), "principal": principal},
        )
    assert not list(tmp_path.glob("*.html"))


def test_object_pages_follow_the_top_objects(report: Path) -> None:
    objects = sorted(
        _csv(report / "objects.csv"),
        key=lambda r: (
            -int(r["exposure_enabled_principals"]),
            -int(r["exposure_enabled_events"]),
            r["object"],
        ),
    )[:2]
    events = _csv(report / "access_events.csv")
    for i, row in enumerate(objects, start=1):
        text, _ = _executed(report, f"30_object-{i:02d}")
        assert row["object"] in text
        readers = {e["principal"] for e in events if e["object"] == row["object"]}
        assert readers and all(p in text for p in readers)


def test_plot_labels_do_not_overlap_at_sixty_objects(report: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from forensics import findings, plots

    ev = findings.load_evidence(report)
    base = ev.objects.iloc[0]
    many = pd.DataFrame(
        [
            {**base.to_dict(), "object": f"db{i // 10}.table_with_a_long_name_{i:02d}"}
            for i in range(60)
        ]
    )
    big = findings.Evidence(**{**ev.__dict__, "objects": many})
    for draw in (plots.timeline, plots.windows_gantt):
        ax = draw(big)
        ax.figure.canvas.draw()
        boxes = [t.get_window_extent() for t in ax.get_yticklabels() if t.get_text()]
        assert len(boxes) == 60
        boxes.sort(key=lambda b: b.y0)
        for low, high in zip(boxes, boxes[1:], strict=False):
            assert low.y1 <= high.y0 + 0.5, draw.__name__
        assert "UTC" in ax.get_xlabel()
        matplotlib.pyplot.close(ax.figure)


def test_scope_page_lists_baseline_readers(report: Path) -> None:
    text, _ = _executed(report, "00_scope")
    baseline = {
        r["principal"]
        for r in _csv(report / "access_events.csv")
        if r["classification"] == "baseline"
    }
    assert baseline and all(p in text for p in baseline)


def test_failing_notebook_leaves_previous_evidence_and_no_partial_report(
    tmp_path: Path, monkeypatch
) -> None:
    from forensics import report as report_module
    from forensics.cli import main
    from tests.conftest import INCIDENT

    out = tmp_path / "evidence"
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = report_module.render_notebook
    calls = []

    def failing_second(notebook, folder, parameters, stem="report"):
        calls.append(stem)
        if len(calls) == 2:
            raise ReportError(f"{notebook.name}: cell 3 failed with ValueError: boom")
        return real(notebook, folder, parameters, stem)

    monkeypatch.setattr(report_module, "render_notebook", failing_second)
    assert main(["report", str(INCIDENT / "case.yaml"), "--out", str(out), "--top", "1"]) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["evidence"]
