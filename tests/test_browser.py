"""The report as a person sees it: rendered by headless Chromium, not blank, no errors.

Chromium is Debian's package, installed by `make setup` when absent; Playwright drives it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail("chromium is not installed; run `make setup` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


def _visit(browser, url: str, shot: Path) -> tuple[list[str], np.ndarray]:
    """Open `url`, return the errors the page reported and its screenshot as pixels."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url, wait_until="load")
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    return errors, matplotlib.image.imread(shot)


def test_index_and_findings_render_without_errors(browser, report: Path, tmp_path: Path) -> None:
    errors, pixels = _visit(browser, (report / "index.html").as_uri(), tmp_path / "index.png")
    assert errors == []
    assert pixels.std() > 0.01, "the index page rendered blank"
    for page in ("report.html", "report/90_findings.html", "report/10_who_read_what.html"):
        errors, pixels = _visit(browser, (report / page).as_uri(), tmp_path / "page.png")
        assert [e for e in errors if "favicon" not in e] == [], page
        assert pixels.std() > 0.01, f"{page} rendered blank"
        assert pixels.shape[0] > 900, f"{page} is shorter than one screen: content missing?"


def test_index_links_open_the_pages(browser, report: Path) -> None:
    page = browser.new_page()
    page.goto((report / "index.html").as_uri())
    page.click("a:has-text('Findings: the summary to quote')")
    assert page.url.endswith("report/90_findings.html")
    assert page.locator("section#objects a[href='../objects.csv']").count() >= 1
    page.click("[data-figure=readers] a")
    assert page.url.endswith("90_findings.html#exposure-readers")
    page.close()


PDFTOTEXT = shutil.which("pdftotext")
WIDTHS = (1400, 800)


def _done_when_pages(report: Path) -> dict[str, str]:
    from tests.test_report import _slug, _top_readers

    reader = _top_readers(report, 1)[0]
    return {
        "index.html": "mci-2026-06: who read the exposed data",
        "report/90_findings.html": "Findings: the summary to quote",
        f"report/20_reader-{_slug(reader)}.html": f"Reader {reader}: every logged access, in order",
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_fit_the_screen_with_every_column_visible(browser, report: Path, width: int) -> None:
    from tests.test_report import _expected_figures

    for path, title in _done_when_pages(report).items():
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.goto((report / path).as_uri(), wait_until="load")
        assert errors == [], path
        assert page.title() == title
        # no horizontal scroll, and every header cell of every table inside the window
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
        right = page.evaluate(
            "Math.max(0, ...Array.from(document.querySelectorAll('table.evidence th'))"
            ".map(th => th.getBoundingClientRect().right))"
        )
        assert 0 < right <= width, (path, width, right)
        shown = page.evaluate(
            "Object.fromEntries(Array.from(document.querySelectorAll('[data-figure]'))"
            ".map(d => [d.dataset.figure, Number(d.querySelector('.value')"
            ".textContent.replace(/,/g, ''))]))"
        )
        if "20_reader" not in path:  # the index and the findings open with the figures
            assert shown == _expected_figures(report), path
        for href in page.evaluate(
            "Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
        ):
            target = href.split("#", 1)[0]
            assert target.startswith("file://"), (path, href)
            assert Path(target[len("file://") :]).is_file(), (path, href)
        page.screenshot(path=str(report.parent / f"{Path(path).stem}-{width}.png"), full_page=True)
        page.close()


def test_tables_sort_and_filter_without_network(browser, report: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((report / "index.html").as_uri(), wait_until="load")
    table = page.locator("#exposure-readers-table")
    column = (
        "Array.from(document.querySelectorAll('#exposure-readers-table tbody tr'))"
        ".filter(r => r.style.display !== 'none').map(r => r.cells[0].textContent)"
    )
    table.locator("th", has_text="principal").click()
    names = page.evaluate(column)
    assert names == sorted(names) and len(names) == 7
    table.locator("th", has_text="principal").click()
    assert page.evaluate(column) == sorted(names, reverse=True)
    page.locator("#exposure-readers input.table-filter").fill("engineering")
    filtered = page.evaluate(column)
    people = [r for r in _csv_rows(report / "principals.csv") if r["org"] == "engineering"]
    assert sorted(filtered) == sorted(
        p["principal"] for p in people if int(p["exposure_enabled_events"]) > 0
    )
    assert all(url.startswith(("file://", "data:")) for url in requests)
    page.close()


def _csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_printed_pages_keep_every_evidence_column(report: Path, tmp_path: Path) -> None:
    import subprocess

    if PDFTOTEXT is None:
        pytest.fail("pdftotext is not installed; run `make setup` (it installs poppler-utils)")
    from tests.test_report import _slug, _top_readers

    reader = _top_readers(report, 1)[0]
    for path in _done_when_pages(report):
        pdf = tmp_path / f"{Path(path).stem}.pdf"
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                *FLAGS,
                f"--user-data-dir={tmp_path / 'profile'}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf}",
                (report / path).as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        # reading order (not -layout): a wrapped cell's lines stay together
        text = subprocess.run(
            [PDFTOTEXT, str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        flat = " ".join(text.split())
        squashed = re.sub(r"[\s-]", "", text)  # cells wrap at spaces and hyphens
        assert len(flat) > 500, path
        if "20_reader" in path:
            # the last columns (log line, trace command) of every event are on paper
            for row in _csv_rows(report / "access_events.csv"):
                if row["principal"] == reader:
                    # wrapped at its hyphens, which pdftotext drops at line ends
                    assert row["event_id"].replace("-", "") in squashed, row
                    log_line = f"{row['source_file']}:{row['source_line']}"
                    assert log_line.replace("-", "") in squashed, row
        else:
            for row in _csv_rows(report / "quarantine.csv"):  # the widest table's last column
                assert row["reason"].split(" (")[0] in flat, (path, row["reason"])
            for row in _csv_rows(report / "principals.csv"):
                assert row["principal"] in flat
        assert f"20_reader-{_slug(reader)}" in path or "Glossary" in flat
