"""The report as a person sees it: rendered by headless Chromium, not blank, no errors.

Chromium is Debian's package, installed by `make setup` when absent; Playwright drives it.
"""

from __future__ import annotations

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
    page.click("text=Findings")
    assert page.url.endswith("report/90_findings.html")
    assert page.locator("table a[href='../objects.csv']").count() >= 1
    page.close()
