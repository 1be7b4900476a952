"""Not a second leak: what a log writer plants in the evidence and the report stays inert.

A hostile copy of the bundled incident (tests/hostile_case.py) is investigated and
reported once (one page per kind): every CSV cell is safe to open in a spreadsheet, every
report page shows the planted HTML as text and loads nothing from the network, trace and
verify still work on the neutralized cells; a pseudonymized report names no real person
anywhere.
"""

from __future__ import annotations

import csv
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from forensics import findings
from forensics.cli import main
from tests.conftest import INCIDENT
from tests.hostile_case import HOSTILE_IDS, HOSTILE_PRINCIPALS, ROOT_LOG, build

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The hostile case file and its evidence folder with a report (one page per kind)."""
    root = tmp_path_factory.mktemp("hostile-report")
    case = build(root / "case")
    out = root / "evidence"
    assert main(["report", str(case), "--out", str(out), "--top", "1"]) == 0
    return case, out


def _cells(folder: Path) -> list[tuple[str, str, str]]:
    """(file, column, cell) for every cell of every evidence CSV."""
    cells = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                cells += [(path.name, column, value) for column, value in row.items()]
    return cells


def test_no_csv_cell_starts_a_formula(hostile: tuple[Path, Path]) -> None:
    _, out = hostile
    cells = _cells(out)
    assert not [c for c in cells if c[2].startswith(FORMULA_START)]
    shown = {value for _, column, value in cells if column == "principal"}
    for short in HOSTILE_PRINCIPALS.values():
        expected = "'" + short if short.startswith(FORMULA_START) else short
        assert expected in shown, short
    neutralized = {(f, c) for f, c, v in cells if v.startswith("'")}
    for column in ("principal", "principal_raw", "event_id", "client_ip", "source_file"):
        assert ("access_events.csv", column) in neutralized, column
    assert ("access_events.csv", "query_redacted") in neutralized


def test_trace_and_verify_read_through_the_neutralized_cells(
    hostile: tuple[Path, Path], capsys
) -> None:
    case, out = hostile
    assert main(["verify", str(out), "--case", str(case)]) == 0
    raw_lines = (case.parent / ROOT_LOG).read_text().splitlines()
    for event_id in HOSTILE_IDS:
        capsys.readouterr()
        assert main(["trace", "--case", str(case), str(out), "--", event_id]) == 0
        printed = capsys.readouterr().out
        number = next(i for i, line in enumerate(raw_lines, 1) if f'"id": "{event_id}"' in line)
        assert printed == f"{ROOT_LOG}:{number}: {raw_lines[number - 1]}\n"


def test_notebooks_read_the_logged_values(hostile: tuple[Path, Path]) -> None:
    _, out = hostile
    ev = findings.load_evidence(out)
    assert set(HOSTILE_PRINCIPALS.values()) <= set(ev.access_events["principal"])
    assert set(HOSTILE_IDS) <= set(ev.access_events["event_id"])
    assert ROOT_LOG in set(ev.access_events["source_file"])


class _Page(HTMLParser):
    """Every element, attribute and bit of text of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


NETWORK = re.compile(r"^\s*(https?:|ftp:|//)", re.IGNORECASE)


def _pages(out: Path) -> list[Path]:
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 8 and out / "index.html" in pages
    return pages


def test_every_page_shows_planted_html_as_text(hostile: tuple[Path, Path]) -> None:
    _, out = hostile
    seen = ""
    for path in _pages(out):
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        assert not [t for t in page.tags if t[0] in ("img", "b") and "onerror" in str(t[1])]
        handlers = [(t, a) for t, attrs in page.tags for a in attrs if a.lower().startswith("on")]
        assert not handlers, (path.name, handlers)
        assert not any("alert" in s for s in page.scripts), path.name
        seen += "".join(page.text)
    assert "<script>alert(1)<" in seen  # the principal, as text
    assert "<img src=x onerror=alert(1)>" in seen  # the backquoted name, as text


def test_no_page_loads_anything_from_the_network(hostile: tuple[Path, Path]) -> None:
    _, out = hostile
    for path in _pages(out):
        text = path.read_text(encoding="utf-8")
        page = _Page()
        page.feed(text)
        for tag, attrs in page.tags:
            for name in ("src", "href", "data", "srcset", "action", "poster"):
                value = attrs.get(name) or ""
                if tag == "a" and name == "href":
                    continue  # a link is followed only when clicked, never loaded
                assert not NETWORK.match(value), (path.name, tag, name, value)
        css = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # licence comments name URLs
        assert not re.search(r"@import|url\(\s*['\"]?(https?:|//)", css, re.I), path.name


@pytest.mark.parametrize("incident", ["bundled", "hostile"])
def test_pseudonymized_report_names_no_real_person(tmp_path: Path, incident: str) -> None:
    """Every file of the evidence and report (CSV, manifest, pages, executed notebooks'
    stored outputs, file names) is free of every principal's name, also inside paths and
    identifiers (`/tmp/dora_export`: a name is a whole token, `_` separates), and of the
    hostile principals' logged forms; the directory's service accounts (`hive`, `trino`)
    name software and are kept."""
    key = tmp_path / "pseudonym.key"
    key.write_text("0123456789abcdef-not-a-real-key\n")
    out = tmp_path / "evidence"
    case = INCIDENT / "case.yaml" if incident == "bundled" else build(tmp_path / "case")
    assert (
        main(["report", str(case), "--out", str(out), "--top", "1", "--pseudonymize", str(key)])
        == 0
    )
    with open(INCIDENT / "directory" / "people.csv", newline="") as f:
        people = {r["principal"] for r in csv.DictReader(f) if r["kind"] != "service"}
    tokens = people | ({"tabby"} if incident == "hostile" else set())
    names = re.compile(r"(?<![^\W_])(" + "|".join(sorted(tokens)) + r")(?![^\W_])", re.I)
    logged = [] if incident == "bundled" else [*HOSTILE_PRINCIPALS, *HOSTILE_PRINCIPALS.values()]
    logged = [n.strip() for n in logged if n.strip() not in ("tabby", "TABBY")]
    checked = 0
    for path in sorted(out.rglob("*")):
        assert not names.search(path.name), path
        if path.is_dir():
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            node = json.loads(text)
            for cell in node["cells"]:
                for output in cell.get("outputs", []):
                    output.get("data", {}).pop("image/png", None)
            text = json.dumps(node, ensure_ascii=False)
        text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", text)
        found = sorted({m.group(1) for m in names.finditer(text)})
        assert not found, (path.relative_to(out), found)
        shown = html.unescape(text).lower()
        assert not [n for n in logged if n.lower() in shown], path.relative_to(out)
        checked += 1
    assert checked >= 20
    copies = (out / "derived_copies.csv").read_text()
    assert "/tmp/p-" in copies and "_export" in copies  # dora's export folder, renamed
