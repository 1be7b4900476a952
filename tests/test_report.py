"""The report: notebook executed by papermill, outputs checked, HTML beside the evidence."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from forensics.errors import ReportError
from forensics.report import MAIN_NOTEBOOK, NOTEBOOKS_DIR, render_notebook
from tests.pages import parse_page


def _outputs(notebook: nbformat.NotebookNode) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts.append(data.get("text/plain", "") + data.get("text/html", ""))
            texts.append(output.get("text", ""))
    return "\n".join(texts).replace("<wbr/>", "")  # optional line breaks are not text


def test_report_notebook_shows_the_evidence_numbers(report: Path) -> None:
    executed = nbformat.read(report / "report.ipynb", as_version=4)
    text = _outputs(executed)
    with open(report / "exposure_enabled_reads.csv", newline="") as f:
        reads = list(csv.DictReader(f))
    principals = {r["principal"] for r in reads}
    assert "tables and views were exposed" in text
    assert "only because of the exposure" in text
    for principal in principals:
        assert principal in text, principal
    images = [
        o for c in executed.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert images, "the timeline plot is missing"


def test_report_html_hides_code(report: Path) -> None:
    html = (report / "report.html").read_text()
    assert "<title>Exposure investigation, on one page</title>" in html
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


def test_missing_evidence_names_the_folder_looked_at(tmp_path: Path) -> None:
    """A relative evidence_dir is read from papermill's working directory, not from the
    notebook's folder: the message names the absolute folder and that directory."""
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(ReportError) as info:
        render_notebook(MAIN_NOTEBOOK, run, {"evidence_dir": "../out/nowhere"})
    message = str(info.value)
    assert f"../out/nowhere (relative to {run})" in message
    assert "no manifest.json" in message and "\n" not in message


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


def _top_readers(report: Path, n: int) -> list[str]:
    totals: dict[str, int] = {}
    for row in _csv(report / "exposure_enabled_reads.csv"):
        totals[row["principal"]] = totals.get(row["principal"], 0) + int(row["read_events"])
    return sorted(totals, key=lambda p: (-totals[p], p))[:n]


def _top_objects(report: Path, n: int) -> list[str]:
    rows = sorted(
        _csv(report / "objects.csv"),
        key=lambda r: (
            -int(r["exposure_enabled_principals"]),
            -int(r["exposure_enabled_events"]),
            r["object"],
        ),
    )
    return [r["object"] for r in rows[:n]]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")


def test_index_links_every_page_in_reading_order(report: Path) -> None:
    index = parse_page(report / "index.html")
    links = [href for href in index.links_in("pages") if not href.startswith("#")]
    assert links[0] == "report.html"
    assert links[1:6] == [
        "report/00_scope.html",
        "report/10_who_read_what.html",
        "report/40_copies.html",
        "report/50_subjects.html",
        "report/90_findings.html",
    ]
    assert links[6:] == [f"report/20_reader-{_slug(p)}.html" for p in _top_readers(report, 2)] + [
        f"report/30_object-{_slug(o)}.html" for o in _top_objects(report, 2)
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
    totals = {r["principal"] for r in _csv(report / "exposure_enabled_reads.csv")}
    events = _csv(report / "access_events.csv")
    for principal in _top_readers(report, 2):
        text, _ = _executed(report, f"20_reader-{_slug(principal)}")
        assert f"Reader {principal}</h1>" in text
        for row in events:
            if row["principal"] == principal:
                assert row["object"] in text and row["source_file"] in text
                assert f"forensics trace . {row['event_id']}" in text
        others = totals - {principal}
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
    for name in ("objects.csv", "principals.csv", "derived_copies.csv", "quarantine.csv"):
        assert f'href="../{name}"' in page
    findings_page = parse_page(report / "report" / "90_findings.html")
    assert findings_page.figures["objects"] == len(_csv(report / "objects.csv"))
    assert "Glossary" in findings_page.text.split("Findings")[-1]


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
    events = _csv(report / "access_events.csv")
    for obj in _top_objects(report, 2):
        text, _ = _executed(report, f"30_object-{_slug(obj)}")
        assert f"Table {obj}</h1>" in text
        readers = {e["principal"] for e in events if e["object"] == obj}
        assert readers and all(p in text for p in readers)


@pytest.mark.parametrize("count", [40, 90])
def test_plot_labels_do_not_overlap_and_the_rest_is_summarized(report: Path, count: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from forensics import findings, plots

    ev = findings.load_evidence(report)
    base = ev.objects.iloc[0]
    many = pd.DataFrame(
        [
            {**base.to_dict(), "object": f"db{i // 10}.table_with_a_long_name_{i:02d}"}
            for i in range(count)
        ]
    )
    big = findings.Evidence(**{**ev.__dict__, "objects": many})
    rows_with_events = len(set(ev.access_events["object"]))
    for draw, tables in ((plots.timeline, count + rows_with_events), (plots.windows_gantt, count)):
        ax = draw(big)
        ax.figure.canvas.draw()
        labels = [t for t in ax.get_yticklabels() if t.get_text()]
        assert len(labels) == min(tables, plots.TOP_ROWS), draw.__name__
        if tables > plots.TOP_ROWS:
            hidden = tables - plots.TOP_ROWS + 1
            assert labels[-1].get_text().startswith(f"{hidden:,} other tables"), draw.__name__
        boxes = sorted((t.get_window_extent() for t in labels), key=lambda b: b.y0)
        for low, high in zip(boxes, boxes[1:], strict=False):
            assert low.y1 <= high.y0 + 0.5, draw.__name__
        assert "UTC" in ax.get_xlabel()
        months = {t.get_text() for t in ax.get_xticklabels()} | {
            ax.xaxis.get_offset_text().get_text()
        }
        assert any("Jun" in m for m in months), (draw.__name__, months)
        matplotlib.pyplot.close(ax.figure)


def test_timeline_shows_every_classification(report: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from forensics import findings, plots

    ev = findings.load_evidence(report)
    ax = plots.timeline(ev)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    counts: dict[str, int] = {}
    for row in _csv(report / "access_events.csv"):
        counts[row["classification"]] = counts.get(row["classification"], 0) + 1
    for cls, n in counts.items():
        assert f"{plots.CLASSES[cls][0]} ({n} log events)" in legend, cls
    markers = {plots.CLASSES[c][2] for c in counts}
    assert len(markers) == len(counts)  # a marker of its own per class
    matplotlib.pyplot.close(ax.figure)


def test_heatmap_colour_bar_has_whole_numbers_only(report: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from forensics import findings, plots

    ax = plots.reader_heatmap(findings.load_evidence(report), 2)
    ax.figure.canvas.draw()
    ticks = ax.collections[0].colorbar.get_ticks()
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    readers = {r["principal"] for r in _csv(report / "exposure_enabled_reads.csv")}
    assert rows[-1] == f"{len(readers) - 2} other readers"
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

    def failing_second(notebook, folder, parameters, stem="report", title=None, kernel=None):
        calls.append(stem)
        if len(calls) == 2:
            raise ReportError(f"{notebook.name}: cell 3 failed with ValueError: boom")
        return real(notebook, folder, parameters, stem, title, kernel=kernel)

    monkeypatch.setattr(report_module, "render_notebook", failing_second)
    assert main(["report", str(INCIDENT / "case.yaml"), "--out", str(out), "--top", "1"]) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence", "evidence.cache"]


def _expected_figures(report: Path) -> dict[str, int]:
    """The headline figures counted straight from the evidence CSVs (not by the toolkit)."""
    people = _csv(report / "principals.csv")
    reads = _csv(report / "exposure_enabled_reads.csv")
    events = _csv(report / "access_events.csv")
    categories = {c for r in reads for c in (r["sensitivity"] or "(none)").split(";")}
    return {
        "objects": len(_csv(report / "objects.csv")),
        "readers": sum(int(p["exposure_enabled_events"]) > 0 for p in people),
        "reads": sum(int(r["read_events"]) for r in reads),
        "categories": len(categories),
        "copies": len({c["derived_object"] for c in _csv(report / "derived_copies.csv")}),
        "copy_readers": sum(
            int(p["exposure_enabled_events"]) == 0 and int(p["secondary_events"]) > 0
            for p in people
        ),
        "denied": sum(e["classification"] == "denied" for e in events),
        "outside": len(_csv(report / "unexplained_reads.csv")),
        "quarantined": len(_csv(report / "quarantine.csv")),
        "unparsed": len(_csv(report / "unparsed_statements.csv")),
    }


@pytest.mark.parametrize("page", ["index.html", "report/90_findings.html"])
def test_headline_figures_equal_the_evidence_and_the_rows_they_link_to(
    report: Path, page: str
) -> None:
    parsed = parse_page(report / page)
    expected = _expected_figures(report)
    assert parsed.figures == expected
    assert expected["readers"] < len(_csv(report / "principals.csv"))  # copy readers apart
    for key, value in expected.items():
        anchor = parsed.figure_links[key]
        assert anchor.startswith("#"), (key, anchor)
        section = anchor[1:]
        if value == 0:
            assert f"{section}-table" not in parsed.ids, key
            continue
        table = parsed.table(f"{section}-table")
        if key == "reads":
            assert sum(int(v) for v in table.column("reads")) == value
        else:
            assert len(table.rows) == value, key


def test_index_lists_every_reader_and_says_who_has_a_page(report: Path) -> None:
    index = parse_page(report / "index.html")
    listed = index.table("exposure-readers-table").column("principal")
    listed += index.table("copy-readers-table").column("principal")
    assert sorted(listed) == sorted(p["principal"] for p in _csv(report / "principals.csv"))
    assert "--top 2" in index.text and "all 7 are listed" in index.text
    readers = index.links_in("exposure-readers")
    for principal in _top_readers(report, 2):
        assert f"report/20_reader-{_slug(principal)}.html" in readers


def _pages(report: Path) -> list[Path]:
    return [report / "index.html", report / "report.html", *sorted(report.glob("report/*.html"))]


def test_every_page_is_titled_links_back_and_every_link_resolves(report: Path) -> None:
    titles = set()
    for path in _pages(report):
        page = parse_page(path)
        assert page.title and page.title != "Notebook", path.name
        titles.add(page.title)
        if path.name != "index.html":
            assert page.links[0][1] in ("index.html", "../index.html"), path.name
        for _, href in page.links:
            assert "://" not in href, (path.name, href)  # nothing from the network
            target, _, anchor = href.partition("#")
            file = (path.parent / target).resolve() if target else path
            assert file.is_file(), (path.name, href)
            if anchor:
                assert anchor in parse_page(file).ids, (path.name, href)
    assert len(titles) == len(_pages(report))


def test_pages_show_one_time_format_no_nat_and_no_index_column(report: Path) -> None:
    iso = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
    for path in _pages(report):
        page = parse_page(path)
        assert "NaT" not in page.text, path.name
        assert "+00:00" not in page.text, path.name
        # the coverage statement (findings.coverage_statement, printed) keeps ISO times
        assert not iso.search(page.prose), (path.name, iso.search(page.prose))
        for table in page.tables:
            assert table.header and all(table.header), (path.name, table.ident, table.header)


def test_empty_results_are_sentences(report: Path) -> None:
    index = parse_page(report / "index.html")
    assert "Every statement in scope was analysed." in index.text  # unparsed_statements: none
    reader = parse_page(report / "report" / f"20_reader-{_slug(_top_readers(report, 1)[0])}.html")
    assert "made no copy of exposed data" in reader.text


def _fake_pages(monkeypatch) -> list[str]:
    """render_notebook replaced by a stand-in (the CLI's progress is what is tested)."""
    from forensics import report as report_module

    done: list[str] = []

    def fake(notebook, folder, parameters, stem="report", title=None, kernel=None):
        done.append(stem)
        (folder / f"{stem}.html").write_text("<title>x</title>")
        return report_module.Page(f"{stem}.html", title or stem)

    monkeypatch.setattr(report_module, "render_notebook", fake)
    return done


@pytest.mark.parametrize("terminal", ["1", "0"])
def test_report_shows_progress_and_a_closing_summary_only_on_a_terminal(
    tmp_path: Path, monkeypatch, capsys, terminal: str
) -> None:
    from forensics.cli import main
    from tests.conftest import INCIDENT

    monkeypatch.setenv("FORENSICS_PROGRESS", terminal)
    done = _fake_pages(monkeypatch)
    out = tmp_path / "ev"
    assert main(["report", str(INCIDENT / "case.yaml"), "--out", str(out), "--top", "1"]) == 0
    captured = capsys.readouterr()
    readers = sum(int(p["exposure_enabled_events"]) > 0 for p in _csv(out / "principals.csv"))
    summary = f"{readers:>8,}  people or accounts read them only because of the exposure"
    if terminal == "1":
        assert f"report page {len(done)}/{len(done)}: " in captured.err
        assert summary in captured.out
    else:
        assert "report page" not in captured.err and summary not in captured.out
        assert captured.out.splitlines()[0].startswith("evidence: ")


def _readme_papermill() -> str:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    return next(li for li in readme.splitlines() if li.startswith(".venv/bin/papermill "))


def test_readme_papermill_command_works_from_the_repository_root(
    report: Path, tmp_path: Path
) -> None:
    from tests.conftest import ROOT

    command = _readme_papermill()
    assert '"$PWD/out/incident-small"' in command
    command = command.replace('"$PWD/out/incident-small"', f'"{report}"')
    command = command.replace("out/carl.ipynb", str(tmp_path / "carl.ipynb"))
    subprocess.run(command, shell=True, cwd=ROOT, check=True, capture_output=True, timeout=300)
    assert "Reader carl</h1>" in _outputs(nbformat.read(tmp_path / "carl.ipynb", as_version=4))


def test_a_wrong_relative_evidence_dir_says_where_it_looked(tmp_path: Path, monkeypatch) -> None:
    from forensics import findings
    from forensics.errors import EvidenceError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(EvidenceError, match=f"relative to {tmp_path}.*absolute path"):
        findings.load_evidence("../out/incident-small")


def test_a_long_table_shows_its_first_rows_and_says_how_many_there_are() -> None:
    import pandas as pd

    from forensics.webpage import table_html

    frame = pd.DataFrame({"principal": [f"user{i:04d}" for i in range(2500)]})
    page = table_html(frame, "none", limit=2000)
    assert page.count("<tr>") == 2001  # header + 2000 rows
    assert "The first 2,000 of 2,500 rows (500 more not shown)" in page
    named = table_html(frame, "none", source="principals.csv")
    assert named.count("<tr>") == 501 and "all are in principals.csv" in named
    assert table_html(frame.head(0), "No one.") == '<p class="none">No one.</p>'


def test_findings_sentences_stop_at_a_limit_and_say_how_many_more(report: Path) -> None:
    from forensics import findings, narrative

    ev = findings.load_evidence(report)
    every = narrative.findings_sentences(ev)
    short = narrative.findings_sentences(ev, most=2)
    readers = sum(int(p["exposure_enabled_events"]) > 0 for p in _csv(report / "principals.csv"))
    assert len(every) > len(short)
    assert f"{readers - 2} more readers, listed in the table" in " ".join(short)
