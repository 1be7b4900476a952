"""The report's first page (`index.html`) and the findings summary, as HTML.

Both open with the answer: the case, when and with what the evidence was produced, one
paragraph in plain words, headline figures that each link to the table listing exactly
the rows they count, then the details. Built from `narrative` (the words) and `webpage`
(the tables); every value is escaped.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from forensics import annotations, findings, narrative
from forensics.findings import Evidence
from forensics.narrative import Figure, RunInfo
from forensics.webpage import cut_note, foot, head, table_html

#: Above this many rows a front-page table shows the first rows (the most reads first where
#: that is the order) and names the file with all.
ROW_LIMIT = 200


@dataclass(frozen=True)
class Link:
    """One page of the report as the index lists it."""

    path: str
    title: str
    group: str = "pages"


def meta_html(info: RunInfo) -> str:
    """The line that says which evidence this is: case, run, tool, manifest fingerprint."""
    extras = []
    if info.pseudonymized:
        extras.append("principals pseudonymized")
    extras.append("query literals kept" if info.literals_kept else "query literals redacted")
    return (
        '<p class="meta">'
        f"Case <strong>{html.escape(info.case)}</strong> · evidence produced "
        f"{html.escape(info.started)} · forensics {html.escape(info.tool_version)} · "
        f"manifest.json sha256 <code>{html.escape(info.manifest_sha256)}</code> · "
        f"{html.escape('; '.join(extras))}. {html.escape(narrative.zone_note(info.timezone))}</p>"
    )


def figures_html(figures: Sequence[Figure], href_of: Mapping[str, str]) -> str:
    """The headline numbers as cards; each links to the rows it counts."""
    cards = []
    for fig in figures:
        href = href_of.get(fig.key, f"#{fig.anchor}")
        cards.append(
            f'<div class="figure" data-figure="{html.escape(fig.key, quote=True)}">'
            f'<a href="{html.escape(href, quote=True)}"><span class="value">{fig.value:,}'
            f"</span> {html.escape(fig.label)}</a>"
            f'<div class="meta">{html.escape(fig.source)}</div></div>'
        )
    return f'<div class="figures">{"".join(cards)}</div>'


@dataclass(frozen=True)
class Section:
    """One table behind a headline figure, before the pages it links to are known:
    `links` maps a column to the kind of page ("principal", "object") its names link to."""

    anchor: str
    title: str
    intro: str
    frame: pd.DataFrame
    empty: str
    source: str
    links: Mapping[str, str]

    def cell_links(self, pages: Mapping[str, Mapping[str, str]]) -> dict[str, Mapping[str, str]]:
        """{column: {name: href}} for this table, from the report's pages per kind."""
        return {column: pages.get(kind, {}) for column, kind in self.links.items()}


class Answer:
    """What the index, the findings page and the one-page report show of the evidence `ev`
    (the meta line, the paragraph, the figures, the tables behind them, the limits, the
    coverage), each part computed once, when first asked: at 1M events the whole takes
    ~1.2 s of CPU, which the index and the findings page each spent on the same answer."""

    def __init__(self, ev: Evidence) -> None:
        self.ev = ev

    @cached_property
    def info(self) -> RunInfo:
        return narrative.run_info(self.ev.folder)

    @cached_property
    def summary(self) -> str:
        return narrative.summary(self.ev)

    @cached_property
    def figures(self) -> list[Figure]:
        return narrative.figures(self.ev)

    @cached_property
    def sections(self) -> list[Section]:
        return _sections(self.ev)

    @cached_property
    def limits(self) -> list[str]:
        return narrative.limits(self.ev, self.info, self.coverage)

    @cached_property
    def coverage(self) -> str:
        return findings.coverage_statement(self.ev)

    @cached_property
    def gaps(self) -> pd.DataFrame:
        return findings.coverage_gaps(self.ev)

    def section(self, anchor: str) -> Section:
        """The table behind a figure, by its anchor."""
        return next(s for s in self.sections if s.anchor == anchor)


def _section(section: Section, links: Mapping[str, Mapping[str, str]], prefix: str) -> str:
    """One table behind a figure, cut at `ROW_LIMIT` rows with a sentence saying so."""
    frame, source = section.frame, section.source
    note = ""
    if len(frame) > ROW_LIMIT:
        text = cut_note(ROW_LIMIT, len(frame), source)
        note = (
            f'<p class="meta">{html.escape(text.removesuffix(source + "."))}'
            f'<a href="{html.escape(prefix + source, quote=True)}">{html.escape(source)}</a>.</p>'
        )
        frame = frame.head(ROW_LIMIT)
    table = table_html(
        frame, section.empty, links=section.cell_links(links), table_id=section.anchor + "-table"
    )
    return (
        f'<section id="{section.anchor}"><h2>{html.escape(section.title)}</h2>'
        f"<p>{html.escape(section.intro)} "
        f'From <a href="{html.escape(prefix + source, quote=True)}">{html.escape(source)}</a>.'
        f"</p>{note}{table}</section>"
    )


def sections_html(
    found: Answer, links: Mapping[str, Mapping[str, str]], prefix: str = ""
) -> tuple[str, dict[str, str]]:
    """The tables behind the headline figures, and where a figure must link instead of its
    table (the evidence file) when the table is too long to show whole."""
    parts = [_section(section, links, prefix) for section in found.sections]
    return "\n".join(parts), _long_tables(found.sections, prefix)


def _long_tables(sections: Sequence[Section], prefix: str) -> dict[str, str]:
    """{section anchor: evidence file} of the sections too long to show whole."""
    return {s.anchor: prefix + s.source for s in sections if len(s.frame) > ROW_LIMIT}


#: The links of the tables naming readers: a reader to their page, a copy to its table's.
_READERS = {"principal": "principal", "copy": "object"}


def _sections(ev: Evidence) -> list[Section]:
    """Each table behind a headline figure."""
    return [
        Section(
            "objects",
            "Exposed tables and views",
            "Every table or view that was exposed, its windows and how many read it.",
            narrative.exposed_objects(ev),
            "No table or view was exposed.",
            "objects.csv",
            {"object": "object"},
        ),
        Section(
            "exposure-readers",
            "Who read exposed data only because of the exposure",
            "Every reader (not only those with their own page), most reads first.",
            narrative.exposure_readers(ev),
            "No one read an exposed table only because of the exposure.",
            "principals.csv",
            _READERS,
        ),
        Section(
            "categories",
            "Kinds of data read only because of the exposure",
            "Readers and reads per sensitivity category.",
            findings.by_category(ev),
            "No sensitive data was read only because of the exposure.",
            "exposure_enabled_reads.csv",
            {},
        ),
        Section(
            "copies",
            "Copies made from exposed data",
            "Tables and directories written from exposed data (or from a copy of it).",
            narrative.copies(ev),
            "No copy of exposed data was made.",
            "derived_copies.csv",
            {"made_by": "principal"},
        ),
        Section(
            "copy-readers",
            "Who read only copies",
            "Readers of copies who did not read the exposed tables themselves.",
            narrative.copy_readers(ev),
            "No one else read a copy.",
            "principals.csv",
            _READERS,
        ),
        Section(
            "denied",
            "Denied attempts",
            "Attempts the policy refused (no data returned).",
            narrative.events_of(ev, "denied"),
            "No attempt was denied.",
            "access_events.csv",
            _READERS,
        ),
        Section(
            "outside",
            "Reads outside the windows",
            "Allowed reads by someone the baseline does not allow, outside every window.",
            ev.unexplained_reads[["time", "principal", "object", "engine", "via", "event_id"]],
            "No read fell outside the windows.",
            "unexplained_reads.csv",
            _READERS,
        ),
        Section(
            "quarantine",
            "Log lines that could not be read",
            "Each with its file, line and reason.",
            ev.quarantine,
            "Every log line was read.",
            "quarantine.csv",
            {},
        ),
        Section(
            "unparsed",
            "Statements that could not be analysed",
            "Copies they made, if any, are not followed.",
            ev.unparsed_statements.drop(columns=["query_redacted"], errors="ignore"),
            "Every statement in scope was analysed.",
            "unparsed_statements.csv",
            _READERS,
        ),
    ]


def _figure_links(figures: Sequence[Figure], long_tables: Mapping[str, str]) -> dict[str, str]:
    return {f.key: long_tables[f.anchor] for f in figures if f.anchor in long_tables}


def coverage_html(found: Answer) -> str:
    """The coverage section: what the logs covered of each window, and every gap."""
    gaps = table_html(
        found.gaps,
        "No gap in the logs, expired range or unaudited object overlaps an exposure window.",
        table_id="coverage-table",
    )
    return (
        '<section id="coverage"><h2>Coverage of the logs</h2>'
        f'<pre class="coverage-statement">{html.escape(found.coverage)}</pre>{gaps}</section>'
    )


def annotations_html(folder: str | Path, links: Mapping[str, Mapping[str, str]]) -> str:
    """Every reviewer's annotation of the case, or a sentence saying there are none."""
    table = annotations.report_annotations(folder)
    body = table_html(
        table,
        "The case has no annotations.csv: no reviewer's notes are shown.",
        links={"principal": links.get("principal", {}), "object": links.get("object", {})},
        table_id="annotations-table",
    )
    return (
        '<section id="annotations"><h2>Reviewers\' annotations</h2><p>Notes from the '
        "case's annotations file (hashed in the manifest as an input); they never change "
        f"an evidence row.</p>{body}</section>"
    )


def limits_html(sentences: Sequence[str]) -> str:
    """What the logs could not show."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return f'<section id="limits"><h2>What the logs could not show</h2><ul>{items}</ul></section>'


def glossary_html() -> str:
    """The words the report uses, defined."""
    items = "".join(
        f"<p><strong>{html.escape(term)}</strong>: {html.escape(text)}</p>"
        for term, text in narrative.GLOSSARY.items()
    )
    return f'<section id="glossary" class="glossary"><h2>Glossary</h2>{items}</section>'


def timeline_png(ev: Evidence, png: bytes | None = None) -> str:
    """The timeline plot as an inline PNG `<img>` (the page must load nothing); `png`: the
    image already drawn (`plots.timeline_png`), else it is drawn here."""
    import matplotlib

    matplotlib.use("Agg")

    from forensics import plots

    data = base64.b64encode(png if png is not None else plots.timeline_png(ev)).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" alt="Timeline of every access to the '
        'exposed tables, by classification, with the exposure windows shaded">'
    )


def summary_html(ev: Evidence) -> str:
    """The plain-words paragraph."""
    return _summary_paragraph(narrative.summary(ev))


def _summary_paragraph(text: str) -> str:
    return f'<p class="summary">{html.escape(text)}</p>'


def opening_html(
    found: Answer,
    links: Mapping[str, Mapping[str, str]],
    prefix: str = "",
    figure_page: str = "",
) -> str:
    """Meta line, paragraph and figures; figures link to `figure_page#anchor` (the page
    holding the tables behind them), or to the evidence file (`prefix` + its name) when
    that table is cut."""
    href_of = {f.key: f"{figure_page}#{f.anchor}" for f in found.figures}
    href_of.update(_figure_links(found.figures, _long_tables(found.sections, prefix)))
    return (
        meta_html(found.info)
        + _summary_paragraph(found.summary)
        + figures_html(found.figures, href_of)
    )


def answer_html(
    found: Answer, links: Mapping[str, Mapping[str, str]], prefix: str = ""
) -> tuple[str, str]:
    """(the opening: meta, paragraph, figures; the tables behind the figures)."""
    sections, _ = sections_html(found, links, prefix)
    return opening_html(found, links, prefix), sections


def findings_html(
    folder: str | Path,
    link_prefix: str = "../",
    page_prefix: str = "",
    found: Answer | None = None,
) -> str:
    """The findings page's content: the answer (`found`: the one the index showed, else
    computed here), numbered quotable findings, the tables behind the figures, the limits
    and the glossary."""
    from forensics.webpage import page_links

    found = found or Answer(findings.load_evidence(folder))
    opening, sections = answer_html(found, page_links(folder, page_prefix), link_prefix)
    sentences = narrative.findings_sentences(found.ev)
    numbered = (
        "<ol>" + "".join(f"<li>{html.escape(s)}</li>" for s in sentences) + "</ol>"
        if sentences
        else '<p class="none">The evidence records no read that only the exposure allowed '
        "and no copy of exposed data.</p>"
    )
    return (
        opening
        + f"<h2>Findings</h2>{numbered}"
        + sections
        + limits_html(found.limits)
        + coverage_html(found)
        + glossary_html()
    )


def written(path: str) -> str:
    """For a notebook: the HTML the report wrote at `path` for it (computed once for every
    page that shows it), or "" without a path (then the notebook computes it)."""
    return Path(path).read_text(encoding="utf-8") if path else ""


def index_html(
    folder: Path,
    pages: Sequence[Link],
    top: int,
    links: Mapping[str, Mapping[str, str]],
    timeline: bytes | None = None,
    found: Answer | None = None,
) -> str:
    """The whole `index.html`: the answer first (`found`: computed here when not given),
    the timeline (`timeline`: the PNG already drawn, else drawn here), the pages, the
    details."""
    found = found or Answer(findings.load_evidence(folder))
    info = found.info
    opening, sections = answer_html(found, links)
    groups: dict[str, list[Link]] = {}
    for page in pages:
        groups.setdefault(page.group, []).append(page)
    lists = []
    for group, members in groups.items():
        items = "".join(
            f'<li><a href="{html.escape(p.path, quote=True)}">{html.escape(p.title)}</a></li>'
            for p in members
        )
        lists.append(f"<h3>{html.escape(group)}</h3><ol>{items}</ol>")
    readers = len(found.section("exposure-readers").frame)
    note = (
        f"Readers with a page of their own: the {min(top, readers)} with the most reads only "
        f"the exposure allowed (forensics report --top {top}); all {readers} are listed in "
        'the table "Who read exposed data only because of the exposure" below, with their '
        "rows in access_events.csv."
    )
    title = f"{info.case}: who read the exposed data"
    return (
        head(title)
        + f"<body><h1>{html.escape(title)}</h1>"
        + opening
        + f'<section id="timeline"><h2>Timeline</h2>{timeline_png(found.ev, timeline)}</section>'
        + f'<section id="pages"><h2>Pages of this report</h2><p>{html.escape(note)}</p>'
        + "".join(lists)
        + "</section>"
        + sections
        + annotations_html(folder, links)
        + limits_html(found.limits)
        + coverage_html(found)
        + glossary_html()
        + foot()
    )
