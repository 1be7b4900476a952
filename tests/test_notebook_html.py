"""The report's pages converted without nbconvert's BeautifulSoup pass: the same page,
parsed, with the same `alt` texts and `tabindex` attributes."""

from __future__ import annotations

import base64

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

from forensics.notebook_html import NO_ALT, PAGE_OPTIONS, accessible, exporter
from forensics.webpage import SCRIPT, STYLE, table_html

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()


def _output(kind: str) -> nbformat.NotebookNode:
    """One output of each kind a report page shows."""
    if kind == "image":
        return nbformat.v4.new_output("display_data", {"image/png": PNG, "text/plain": "<Fig>"})
    if kind == "table":  # cells from a log: escaped, so no tag in them is a tag
        import pandas as pd

        frame = pd.DataFrame({"principal": ['<img src=x onerror="1">', '<div class="jp-Cell">']})
        return nbformat.v4.new_output(
            "execute_result", {"text/html": table_html(frame, "none"), "text/plain": "t"}
        )
    if kind == "image in html":  # an image the page wrote with its own alt text
        html = f'<p>before</p><img src="data:image/png;base64,{PNG}" alt="Timeline">'
        return nbformat.v4.new_output("display_data", {"text/html": html, "text/plain": "i"})
    return nbformat.v4.new_output("stream", name="stdout", text="Coverage: complete.\n")


def _notebook(kinds: list[str]) -> nbformat.NotebookNode:
    node = nbformat.v4.new_notebook()
    node.cells = [nbformat.v4.new_markdown_cell("# A page\n\nSome *text* <b>bold</b>.")]
    for kind in kinds:
        cell = nbformat.v4.new_code_cell("x")
        cell.outputs = [_output(kind)]
        node.cells.append(cell)
    return node


def _resources() -> dict:
    return {
        "metadata": {"name": "A page"},
        "index_href": "../index.html",
        "report_style": STYLE,
        "report_script": SCRIPT,
    }


@pytest.mark.parametrize(
    "kinds",
    [["image"], ["table"], ["image in html"], ["text"], ["image", "table", "text", "image"]],
)
def test_pages_parse_as_nbconvert_writes_them(kinds: list[str]) -> None:
    node = _notebook(kinds)
    nbconvert = HTMLExporter(**PAGE_OPTIONS)  # nbconvert's own exporter, the same options
    theirs, _ = nbconvert.from_notebook_node(node, resources=_resources())
    ours, _ = exporter().from_notebook_node(node, resources=_resources())
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs
    soup = BeautifulSoup(ours, features="html.parser")
    assert all(img.get("alt") for img in soup.find_all("img"))
    outputs = soup.select("div.jp-OutputArea-output")
    assert len(outputs) == len(kinds)
    assert all(div.get("tabindex") == "0" for div in outputs)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ('<img src="a.png">', f'<img src="a.png" alt="{NO_ALT}">'),
        ('<img src="a.png"/>', f'<img src="a.png" alt="{NO_ALT}"/>'),
        ('<img alt="kept" src="a.png">', '<img alt="kept" src="a.png">'),
        ('<div class="jp-OutputArea-output">', '<div class="jp-OutputArea-output" tabindex="0">'),
        (
            '<div class="jp-RenderedImage jp-OutputArea-output x" data-k="1">',
            '<div class="jp-RenderedImage jp-OutputArea-output x" data-k="1" tabindex="0">',
        ),
        ('<div class="jp-Cell-inputWrapper">', '<div class="jp-Cell-inputWrapper" tabindex="0">'),
        ('<div class="jp-OutputArea-output" tabindex="0">', None),  # already focusable
        ('<div class="jp-OutputArea-outputs">', None),  # another class
        ('<div class="jp-OutputArea">', None),
        ("&lt;img src=x&gt; &lt;div class=&quot;jp-OutputArea-output&quot;&gt;", None),
    ],
)
def test_accessible_adds_only_what_nbconvert_adds(page: str, expected: str | None) -> None:
    assert accessible(page) == (page if expected is None else expected)
