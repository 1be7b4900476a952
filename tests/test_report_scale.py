"""What keeps the report fast at scale, and the page check of benchmarks/report_scale.py:
the evidence read once per process (and again when a file changes), one kernel for every
page with nothing carried from one page to the next, long tables cut with a sentence."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from forensics import findings
from forensics.report import render_notebook, shared_kernel
from forensics.webpage import table_html
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import report_scale  # noqa: E402  (the benchmark's page check)


def test_evidence_is_read_again_when_a_file_changes(report: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    shutil.copytree(report, folder, ignore=shutil.ignore_patterns("report*", "index.html"))
    first = findings.load_evidence(folder)
    again = findings.load_evidence(folder)
    assert again.access_events is not first.access_events  # a copy each time ...
    again.access_events.loc[0, "principal"] = "changed in place"
    assert findings.load_evidence(folder).access_events.loc[0, "principal"] != "changed in place"
    lines = (folder / "quarantine.csv").read_text().splitlines()
    (folder / "quarantine.csv").write_text("\n".join(lines[:-1]) + "\n")  # one row fewer
    assert len(findings.load_evidence(folder).quarantine) == len(first.quarantine) - 1


def _notebook(path: Path, *sources: str) -> Path:
    node = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('mark = "x"')
    params.metadata["tags"] = ["parameters"]
    node.cells = [params, *(nbformat.v4.new_code_cell(s) for s in sources)]
    node.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "P"}
    nbformat.write(node, path)
    return path


def test_pages_share_one_kernel_but_not_their_names(tmp_path: Path) -> None:
    first = _notebook(tmp_path / "a.ipynb", "import os\nleft_behind = os.getpid()\nprint(mark)")
    second = _notebook(
        tmp_path / "b.ipynb",
        "import os\nprint(os.getpid(), 'left_behind' in globals(), mark)",
    )
    with shared_kernel(tmp_path) as km:
        render_notebook(first, tmp_path, {"mark": "one"}, "a", "A", km=km)
        render_notebook(second, tmp_path, {"mark": "two"}, "b", "B", km=km)
    outputs = [
        nbformat.read(tmp_path / f"{stem}.ipynb", as_version=4).cells[-1].outputs[0]["text"]
        for stem in ("a", "b")
    ]
    assert outputs[0].strip() == "one"
    pid, leaked, mark = outputs[1].split()
    assert leaked == "False" and mark == "two"
    assert not km.has_kernel  # shut down with the report


def test_page_check_counts_rows_and_flags_a_long_table(report: Path, tmp_path: Path) -> None:
    checks = report_scale.check_report(report)
    assert {c.page for c in checks} >= {"index.html", "report.html", "report/90_findings.html"}
    assert report_scale.problems(checks, 1000, 8_000_000) == []
    index = next(c for c in checks if c.page == "index.html")
    assert index.tables == len(findings_tables(report / "index.html")) and index.images == 1
    long = tmp_path / "long"
    (long / "report").mkdir(parents=True)
    frame = pd.DataFrame({"principal": [f"u{i:05d}" for i in range(1500)]})
    (long / "index.html").write_text(table_html(frame, "none", limit=1200, source="x.csv"))
    (found,) = report_scale.problems(report_scale.check_report(long), 1000, 8_000_000)
    assert "index.html: a table of 1,200 rows" in found
    (cut,) = report_scale.check_report(long)
    assert cut.cut_notes == 1 and cut.largest_table_rows == 1200


def findings_tables(page: Path) -> list[str]:
    from tests.pages import parse_page

    return [t.ident for t in parse_page(page).tables]


@pytest.mark.parametrize("limit", [500])
def test_default_cut_names_the_file_with_every_row(limit: int) -> None:
    frame = pd.DataFrame({"object": [f"db.t{i}" for i in range(limit + 7)]})
    page = table_html(frame, "none", source="objects.csv")
    assert page.count("<tr>") == limit + 1
    assert f"The first {limit} of {limit + 7} rows (7 more not shown); all are in objects.csv" in (
        page
    )
