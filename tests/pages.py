"""A rendered report page read back as the tests need it (stdlib HTML parser, no browser):
its title, visible text, links (per section), element ids, headline figures and tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path


@dataclass
class Table:
    """One `<table>`: its id, header cells and body rows as text."""

    ident: str
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def column(self, name: str) -> list[str]:
        return [row[self.header.index(name)] for row in self.rows]


@dataclass
class Page:
    title: str = ""
    text: str = ""
    prose: str = ""  # the text outside <pre> blocks (printed statements keep their own form)
    links: list[tuple[str, str]] = field(default_factory=list)  # (section id, href)
    ids: set[str] = field(default_factory=set)
    figures: dict[str, int] = field(default_factory=dict)
    figure_links: dict[str, str] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)

    def links_in(self, section: str) -> list[str]:
        return [href for where, href in self.links if where == section]

    def table(self, ident: str) -> Table:
        return next(t for t in self.tables if t.ident == ident)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[str] = []
        self.sections: list[str] = []
        self.figure: str | None = None
        self.in_value = False
        self.cell: list[str] | None = None
        self.row: list[str] | None = None
        self.in_head = False
        self.skip = 0
        self.text: list[str] = []
        self.prose: list[str] = []
        self.in_pre = 0
        self.title: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.page.ids.add(str(a["id"]))
        if tag in ("script", "style"):
            self.skip += 1
        if tag == "pre":
            self.in_pre += 1
        if tag == "title":
            self.in_title = True
        if tag == "section":
            self.sections.append(str(a.get("id", "")))
        if tag == "a" and a.get("href"):
            self.page.links.append((self.sections[-1] if self.sections else "", str(a["href"])))
            if self.figure is not None and self.figure not in self.page.figure_links:
                self.page.figure_links[self.figure] = str(a["href"])
        if tag == "div" and a.get("data-figure"):
            self.figure = str(a["data-figure"])
        if tag == "span" and a.get("class") == "value":
            self.in_value = True
            self.value: list[str] = []
        if tag == "table":
            self.page.tables.append(Table(str(a.get("id", ""))))
        if tag == "thead":
            self.in_head = True
        if tag == "tr":
            self.row = []
        if tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip -= 1
        if tag == "pre":
            self.in_pre -= 1
        if tag == "title":
            self.in_title = False
        if tag == "section" and self.sections:
            self.sections.pop()
        if tag == "span" and self.in_value:
            self.in_value = False
            self.page.figures[str(self.figure)] = int("".join(self.value).replace(",", ""))
        if tag == "a" and self.figure in self.page.figures:
            self.figure = None  # the figure's own link is closed
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        if tag == "tr" and self.row is not None and self.page.tables:
            table = self.page.tables[-1]
            if self.in_head:
                table.header = self.row
            else:
                table.rows.append(self.row)
            self.row = None
        if tag == "thead":
            self.in_head = False
        if tag in ("p", "div", "li", "tr", "h1", "h2", "h3", "td", "th"):
            self.text.append("\n" if tag != "td" else " ")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self.skip:
            return
        self.text.append(data)
        if not self.in_pre:
            self.prose.append(data)
        if self.in_value:
            self.value.append(data)
        if self.cell is not None:
            self.cell.append(data)


def parse_page(path: Path) -> Page:
    """The page at `path`, read back."""
    reader = _Reader()
    reader.feed(path.read_text(encoding="utf-8"))
    reader.page.title = "".join(reader.title).strip()
    reader.page.text = "".join(reader.text)
    reader.page.prose = "".join(reader.prose)
    return reader.page
