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
from forensics.errors import ReportError
from forensics.kernels import Kernels, shared_kernel
from forensics.report import render_notebook, render_pages
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
    with shared_kernel(tmp_path) as kernel:
        render_notebook(first, tmp_path, {"mark": "one"}, "a", "A", kernel=kernel)
        render_notebook(second, tmp_path, {"mark": "two"}, "b", "B", kernel=kernel)
    outputs = [
        nbformat.read(tmp_path / f"{stem}.ipynb", as_version=4).cells[-1].outputs[0]["text"]
        for stem in ("a", "b")
    ]
    assert outputs[0].strip() == "one"
    pid, leaked, mark = outputs[1].split()
    assert leaked == "False" and mark == "two"
    assert not kernel.manager.has_kernel  # shut down with the report


def test_pages_talk_to_their_kernel_through_its_one_client(tmp_path: Path, monkeypatch) -> None:
    """A new client per page waited at least 0.4 s for the kernel (twice a page)."""
    page = _notebook(tmp_path / "page.ipynb", "print(mark)")
    with shared_kernel(tmp_path) as kernel:
        made: list[object] = []
        monkeypatch.setattr(kernel.manager, "client", lambda *a, **k: made.append(a))
        for stem in ("a", "b"):
            render_notebook(page, tmp_path, {"mark": stem}, stem, stem, kernel=kernel)
    assert made == []
    for stem in ("a", "b"):
        node = nbformat.read(tmp_path / f"{stem}.ipynb", as_version=4)
        assert node.cells[-1].outputs[0]["text"].strip() == stem


def test_kernels_started_ahead_are_warm_and_move_to_the_pages_folder(tmp_path: Path) -> None:
    """Kernels started before the evidence exists (during the investigation) have the
    pages' imports done, their start-up objects left out of collections, and run each page
    in the folder a kernel of its own would have started in."""
    page = _notebook(
        tmp_path / "page.ipynb",
        "import gc, os, sys\n"
        "print(mark, os.getcwd(), 'forensics.plots' in sys.modules, gc.get_freeze_count() > 0)",
    )
    pages = tmp_path / "pages"
    pages.mkdir()
    started = Kernels(2)
    try:
        jobs = [(page, tmp_path, {"mark": str(i)}, f"p{i}", f"Page {i}", "pages") for i in (1, 2)]
        render_pages(jobs, pages, 2, started=started)
        kept = [started.take(n, tmp_path) for n in range(2)]
    finally:
        started.close()
    for i in (1, 2):
        printed = nbformat.read(tmp_path / f"p{i}.ipynb", as_version=4).cells[-1].outputs[0]
        assert printed["text"].split() == [str(i), str(pages), "True", "True"]
    assert not any(kernel.manager.has_kernel for kernel in kept)  # all ended by close


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
    assert cut.cut_notes == 1 and cut.largest_table_rows == 1200 and cut.cut_unnamed == 0
    (long / "index.html").write_text(table_html(frame, "none", limit=10))  # no CSV named
    (found,) = report_scale.problems(report_scale.check_report(long), 1000, 8_000_000)
    assert "index.html: 1 cut table(s) name no CSV with every row" in found


def _waits_for(mine: Path, other: Path) -> str:
    """A cell that marks `mine` and returns only once `other` is marked (by a page in
    another kernel): it can finish only if both pages run at the same time."""
    return (
        "import os, pathlib, time\n"
        f"pathlib.Path({str(mine)!r}).touch()\n"
        "deadline = time.monotonic() + 120\n"
        f"while not pathlib.Path({str(other)!r}).exists():\n"
        "    assert time.monotonic() < deadline, 'the other page never ran alongside'\n"
        "    time.sleep(0.05)\n"
        "print(mark, os.getpid())"
    )


def test_pages_render_in_two_kernels_at_once_and_come_back_in_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.mark", tmp_path / "b.mark"
    first = _notebook(tmp_path / "a.ipynb", _waits_for(a, b))
    second = _notebook(tmp_path / "b.ipynb", _waits_for(b, a))
    plain = _notebook(tmp_path / "c.ipynb", "import os\nprint(mark, os.getpid())")
    jobs = [
        (first, tmp_path, {"mark": "one"}, "p1", "Page one", "pages"),
        (second, tmp_path, {"mark": "two"}, "p2", "Page two", "pages"),
        (plain, tmp_path, {"mark": "three"}, "p3", "Page three", "pages"),
    ]
    done: list[tuple[int, int]] = []
    pages = render_pages(jobs, tmp_path, 2, on_page=lambda i, n, _: done.append((i, n)))
    assert [p.path for p in pages] == ["p1.html", "p2.html", "p3.html"]
    assert [p.title for p in pages] == ["Page one", "Page two", "Page three"]
    assert done == [(1, 3), (2, 3), (3, 3)]
    printed = [
        nbformat.read(tmp_path / f"p{i}.ipynb", as_version=4).cells[-1].outputs[0]["text"].split()
        for i in (1, 2, 3)
    ]
    assert [mark for mark, _ in printed] == ["one", "two", "three"]
    assert printed[0][1] != printed[1][1]  # two kernels


def test_a_failing_page_stops_the_others_and_is_raised(tmp_path: Path) -> None:
    good = _notebook(tmp_path / "good.ipynb", "print(mark)")
    bad = _notebook(tmp_path / "bad.ipynb", "raise ValueError('boom')")
    jobs = [
        (good, tmp_path, {"mark": "x"}, "p1", "One", "pages"),
        (bad, tmp_path, {"mark": "x"}, "p2", "Two", "pages"),
        (good, tmp_path, {"mark": "x"}, "p3", "Three", "pages"),
    ]
    with pytest.raises(ReportError, match="bad.ipynb: cell .* failed with ValueError: boom"):
        render_pages(jobs, tmp_path, 1)
    assert (tmp_path / "p1.html").is_file() and not (tmp_path / "p3.html").exists()


def test_a_page_waiting_for_its_input_goes_after_the_pages_ready(tmp_path: Path) -> None:
    page = _notebook(tmp_path / "p.ipynb", "print(mark)")
    jobs = [(page, tmp_path, {"mark": str(i)}, f"p{i}", f"Page {i}", "pages") for i in (1, 2, 3)]
    ran: list[str] = []
    waited: list[str] = []
    pages = render_pages(
        jobs,
        tmp_path,
        1,
        on_page=lambda _, __, title: ran.append(title),
        before=lambda job: waited.append(job[3]),
        ready=lambda job: job[3] != "p1",  # p1's input is never ready: it waits, last
    )
    assert ran == ["Page 2", "Page 3", "Page 1"] and waited == ["p2", "p3", "p1"]
    assert [p.path for p in pages] == ["p1.html", "p2.html", "p3.html"]


def test_the_timeline_is_drawn_once_and_shown_on_every_page_that_has_it(report: Path) -> None:
    images = {
        page: report_scale._IMAGE.findall((report / page).read_text(encoding="utf-8"))
        for page in ("index.html", "report.html", "report/10_who_read_what.html")
    }
    timeline = images["index.html"][0]
    assert timeline and all(timeline in found for found in images.values())
    assert not (report / "report" / "timeline.png").exists()  # not left beside the pages


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


def test_two_kernels_unless_the_evidence_would_crowd_memory(tmp_path: Path, monkeypatch) -> None:
    from forensics import report as report_module

    events = tmp_path / "access_events.csv"
    events.write_text("time,principal\n")
    monkeypatch.setattr(report_module.os, "cpu_count", lambda: 2)
    assert report_module.kernels(tmp_path) == 2
    monkeypatch.setattr(report_module.os, "cpu_count", lambda: 1)
    assert report_module.kernels(tmp_path) == 1
    monkeypatch.setattr(report_module.os, "cpu_count", lambda: 8)
    assert report_module.kernels(tmp_path) == report_module.MAX_KERNELS
    with events.open("r+b") as f:  # a sparse file: the size without the bytes
        f.truncate(report_module.ONE_KERNEL_ABOVE_BYTES + 1)
    assert report_module.kernels(tmp_path) == 1


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("ann", "db.b"), ("ann", "db.a"), ("ann", "db.b")], {"ann": "db.a and db.b"}),
        ([("bob", "db.z"), ("ann", "db.y")], {"ann": "db.y", "bob": "db.z"}),
        (
            [("ann", f"db.t{i}") for i in (9, 8, 7, 6, 5, 4, 3, 2, 1, 0)],
            {"ann": "db.t0, db.t1, db.t2, db.t3, db.t4, db.t5, db.t6, db.t7 and 2 others"},
        ),
        ([], {}),
    ],
)
def test_readers_tables_are_named_once_each_in_order(pairs: list, expected: dict) -> None:
    """The tables column of the readers' table, computed in one pass for every reader."""
    from forensics import narrative

    events = pd.DataFrame(pairs, columns=["principal", "object"], dtype=object)
    assert narrative._tables_read(events).to_dict() == expected


def test_kernels_read_the_evidence_ahead_of_the_first_page(report: Path, tmp_path: Path) -> None:
    """Once the evidence is written, every started kernel reads it at once (kept by
    `findings.load_evidence`), while the report's process is still listing the pages."""
    page = _notebook(
        tmp_path / "page.ipynb",
        "from forensics import findings\nprint(mark, *(key[0] for key in findings._LAST))",
    )
    started = Kernels(1)
    try:
        started.take(0, tmp_path)  # started (read_ahead skips a kernel still starting)
        started.read_ahead(report)
        render_pages(
            [(page, tmp_path, {"mark": "x"}, "p", "P", "pages")], tmp_path, 1, started=started
        )
    finally:
        started.close()
    printed = nbformat.read(tmp_path / "p.ipynb", as_version=4).cells[-1].outputs[0]["text"]
    assert printed.split() == ["x", str(report.resolve())]


def test_pages_show_the_answer_written_once_beside_the_index(report: Path) -> None:
    """The report writes the one-page report's opening and the findings page's content from
    the answer the index shows; each page shows what its notebook would have computed, and
    no file made for them is left beside the pages."""
    from forensics import frontpage, webpage
    from forensics.report import MADE_ONCE

    found = frontpage.Answer(findings.load_evidence(report))
    links = webpage.page_links(report, "report/")
    one_page = (report / "report.html").read_text(encoding="utf-8")
    assert frontpage.opening_html(found, links, figure_page="index.html") in one_page
    page = (report / "report" / "90_findings.html").read_text(encoding="utf-8")
    assert frontpage.findings_html(report, "../") in page
    assert not any((report / "report" / file).exists() for file, _ in MADE_ONCE.values())


def test_the_answer_is_computed_once_for_the_index_and_the_findings_page(
    report: Path, monkeypatch
) -> None:
    from forensics import frontpage, narrative

    calls: list[str] = []
    for module, name in (
        (narrative, "summary"),
        (narrative, "figures"),
        (narrative, "limits"),
        (findings, "coverage_statement"),
    ):
        real = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a)
        )
    found = frontpage.Answer(findings.load_evidence(report))
    first = frontpage.findings_html(report, found=found)
    index = frontpage.index_html(report, [], 2, {}, b"png", found)
    assert sorted(calls) == ["coverage_statement", "figures", "limits", "summary"]
    monkeypatch.undo()
    assert first == frontpage.findings_html(report)  # the same as computed without it
    assert found.summary in index and found.summary in first


def test_a_notebook_shows_what_the_report_wrote_for_it_else_nothing(tmp_path: Path) -> None:
    from forensics import frontpage

    written = tmp_path / "findings.part.html"
    written.write_text("<p>written</p>", encoding="utf-8")
    assert frontpage.written(str(written)) == "<p>written</p>"
    assert frontpage.written("") == ""  # the notebook computes it


@pytest.mark.parametrize(
    "cells",
    [
        ["'=1+1", "plain", "''quoted", "'@sum", ""],  # some cells quoted by csv_cell
        ["plain", "x'y", ""],  # none: the column is left as read
        ["'", "'-", "'\t"],
    ],
)
def test_evidence_cells_read_back_as_logged(cells: list[str]) -> None:
    """A quoted cell loses its one leading quote, as `csv_value` says, in every column that
    has one; a quote inside a cell stays."""
    from forensics.evidence import csv_value

    frame = pd.DataFrame({"quoted": cells, "other": ["a'"] * len(cells)}, dtype="str")
    findings._unquote(frame)
    assert frame["quoted"].tolist() == [csv_value(c) for c in cells]
    assert frame["other"].tolist() == ["a'"] * len(cells)
