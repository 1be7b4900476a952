"""Executed notebooks as HTML pages: nbconvert's exporter, without its BeautifulSoup pass.

nbconvert's `HTMLExporter` renders its template, then parses the whole page with
BeautifulSoup only to add two things (an `alt` text on images that have none, and
`tabindex="0"` on output areas, so a keyboard can scroll them) and writes the tree back
out. At 1M events the report's pages hold ~95,000 tags: that pass took ~95% of the
conversion (5.6 of 5.9 CPU s over 16 pages, in the report's own process, beside the
kernels). `PageExporter` renders the same template and adds the same two attributes to
the tags the template wrote, by a pattern over the opening tags (everything a page shows
from the evidence is escaped, so no tag in it can match): the same page, parsed.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat import NotebookNode

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
#: The exporter's options for the report's pages: the offline template, no code or prompts.
PAGE_OPTIONS: dict[str, Any] = {
    "template_name": "offline",
    "extra_template_basedirs": [str(TEMPLATES_DIR)],
    "exclude_input": True,
    "exclude_input_prompt": True,
    "exclude_output_prompt": True,
}
#: nbconvert's text for an image without one.
NO_ALT = "No description has been provided for this image"

_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)([^>]*?)(/?)>")
_FOCUSABLE = re.compile(
    r'<div\b([^>]*\bclass="(?:[^"]*\s)?(?:jp-OutputArea-output|jp-Cell-inputWrapper)(?:\s[^"]*)?"'
    r"(?![^>]*\btabindex=)[^>]*)>"
)


def accessible(page: str) -> str:
    """`page` with nbconvert's two additions: `alt` on every image without one, and
    `tabindex="0"` on every output area and input wrapper (scrollable with the keyboard)."""
    page = _IMG_WITHOUT_ALT.sub(rf'<img\1 alt="{NO_ALT}"\2>', page)
    return _FOCUSABLE.sub(r'<div\1 tabindex="0">', page)


class PageExporter(HTMLExporter):
    """`HTMLExporter` whose `alt` and `tabindex` come from `accessible`, not from
    re-parsing the page (the rest of the conversion is nbconvert's own)."""

    def from_notebook_node(  # type: ignore[override]
        self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        """As `HTMLExporter.from_notebook_node` (the same filters), then `accessible`."""
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
        )
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return accessible(page), resources


_EXPORTERS = threading.local()


def exporter() -> PageExporter:
    """This thread's exporter of the report's pages, made once: a new one compiles its
    Jinja templates again (~0.5 s a page). Each page's own values go in through
    `resources`."""
    made = getattr(_EXPORTERS, "html", None)
    if made is None:
        made = PageExporter(**PAGE_OPTIONS)
        _EXPORTERS.html = made
    return made
