"""Web pages of the report: tables as people read them, on screen and on paper.

Every table of the report goes through `table_html`: no pandas index column, one time
format (UTC), a sentence instead of an empty table, long cells wrapped instead of cut,
names linked to their pages, and every cell escaped (nothing from a log reaches a page in
an executable form). `STYLE` and `SCRIPT` are inlined into every page (the report loads
nothing from the network): print rules, and sortable, filterable tables.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pandas as pd

#: Rows a page shows of one table before it says how many more the evidence holds: a
#: person reads the first few hundred; at scale (45,000 exposed tables, 50,000 readers)
#: the CSV named in the sentence is the full list.
ROW_LIMIT = 500
#: Where the report's pages are listed for the notebooks: {"principal": {name: file}, ...}.
PAGES_FILE = "pages.json"

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.45;
  color:#1d1d1d;margin:0 auto;max-width:80em;padding:0 1.2em 3em}
nav.report-nav{font-size:.95em;padding:.6em 0;border-bottom:1px solid #ddd;margin-bottom:1em}
table.evidence{border-collapse:collapse;width:100%;margin:.6em 0 1.2em;font-size:.9em;
  table-layout:auto}
table.evidence th,table.evidence td{border:1px solid #d0d0d0;padding:.25em .45em;
  text-align:left;vertical-align:top;white-space:normal;overflow-wrap:break-word;
  word-break:normal;hyphens:none}
table.evidence th{background:#f1f1f1;cursor:pointer;user-select:none}
table.evidence th[aria-sort=ascending]::after{content:" \\25B2"}
table.evidence th[aria-sort=descending]::after{content:" \\25BC"}
table.evidence td.num{text-align:right;font-variant-numeric:tabular-nums}
table.evidence code,td.code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
input.table-filter{margin:.2em 0;padding:.2em .4em;width:min(24em,100%)}
table.evidence td.code{overflow-wrap:anywhere}
p.none{font-style:italic;color:#444}
pre.coverage-statement,.jp-OutputArea-output pre{white-space:pre-wrap;overflow-wrap:anywhere}
@media screen and (max-width:900px){
  body{padding:0 .5em 2em}
  table.evidence{font-size:.78em}
  table.evidence th,table.evidence td{padding:.2em .25em}
  .jp-Cell{padding:0!important}
  .jp-OutputArea-output{padding:0!important}
}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(14em,1fr));gap:.6em;
  margin:1em 0}
.figure{border:1px solid #d0d0d0;border-radius:4px;padding:.5em .7em}
.figure .value{font-size:1.6em;font-weight:600}
.figure a{text-decoration:none;color:inherit}
.meta{color:#444;font-size:.92em}
img{max-width:100%;height:auto}
.jp-OutputArea-output{overflow-x:visible!important}
.jp-RenderedHTMLCommon table.evidence td,.jp-RenderedHTMLCommon table.evidence th{
  text-align:left;white-space:normal;max-width:none}
.jp-RenderedHTMLCommon table.evidence td.num{text-align:right}
.glossary p{margin:.25em 0}
@media print{
  @page{size:A4 landscape;margin:10mm}
  body{max-width:none;padding:0;font-size:9pt}
  input.table-filter,nav.report-nav .screen-only{display:none}
  table.evidence{font-size:8pt;page-break-inside:auto}
  table.evidence tr{break-inside:avoid}
  table.evidence thead{display:table-header-group}
  a{color:inherit}
  h1,h2,h3{break-after:avoid}
  img{break-inside:avoid}
}
"""

SCRIPT = """
(function(){
  function key(cell){
    var t=cell.getAttribute('data-sort');if(t===null)t=cell.textContent.trim();
    var n=Number(t.replace(/,/g,''));return t!==''&&!isNaN(n)?[0,n,'']:[1,0,t.toLowerCase()];
  }
  function sortBy(table,col,th){
    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
    Array.prototype.forEach.call(th.parentNode.cells,function(c){c.removeAttribute('aria-sort')});
    th.setAttribute('aria-sort',dir===1?'ascending':'descending');
    rows.sort(function(a,b){
      var x=key(a.cells[col]),y=key(b.cells[col]);
      if(x[0]!==y[0])return (x[0]-y[0])*dir;
      if(x[1]!==y[1])return (x[1]-y[1])*dir;
      return x[2]<y[2]?-dir:x[2]>y[2]?dir:0;
    });
    rows.forEach(function(r){body.appendChild(r)});
  }
  document.querySelectorAll('table.evidence').forEach(function(table){
    var head=table.tHead;if(!head||!table.tBodies.length)return;
    Array.prototype.forEach.call(head.rows[0].cells,function(th,i){
      th.title='sort by this column';th.addEventListener('click',function(){sortBy(table,i,th)});
    });
    if(table.tBodies[0].rows.length<6)return;
    var box=document.createElement('input');box.type='search';box.className='table-filter';
    box.placeholder='filter these rows';box.setAttribute('aria-label','filter the table below');
    box.addEventListener('input',function(){
      var q=box.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows,function(r){
        r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';
      });
    });
    table.parentNode.insertBefore(box,table);
  });
})();
"""

_UNSAFE = re.compile(r"[^a-z0-9_-]+")
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]00:?00)")


def slug(name: str) -> str:
    """A file-name-safe form of a principal or object name (lower case, `-` for the rest)."""
    text = _UNSAFE.sub("-", str(name).lower()).strip("-")
    return text[:80] or "unnamed"


def unique_slugs(names: list[str]) -> dict[str, str]:
    """`slug` of each name, with `-2`, `-3`... added where two names give the same slug."""
    seen: dict[str, int] = {}
    out = {}
    for name in names:
        base = slug(name)
        seen[base] = seen.get(base, 0) + 1
        out[name] = base if seen[base] == 1 else f"{base}-{seen[base]}"
    return out


def when(moment: object) -> str:
    """A UTC time as the report writes every time: `2026-06-18 09:15:00 UTC`; '' if none."""
    if moment is None or (not isinstance(moment, str) and pd.isna(moment)):
        return ""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M:%S UTC")


def local(moment: object, zone: str) -> str:
    """The case's local time of a moment, `2026-06-18 02:15 PDT`; '' when the case's zone is
    UTC (nothing to add) or there is no moment. Minutes only: it stands beside the UTC time,
    which keeps the seconds."""
    if zone == "UTC" or moment is None or (not isinstance(moment, str) and pd.isna(moment)):
        return ""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(zone).strftime("%Y-%m-%d %H:%M %Z")


def when_local(moment: object, zone: str) -> str:
    """`when`, with the case's local time beside it when the case's zone is not UTC:
    `2026-06-18 09:15:00 UTC (2026-06-18 02:15 PDT)`. For sentences and windows a reader
    relates to their own day; evidence rows stay UTC."""
    there = local(moment, zone)
    return f"{when(moment)} ({there})" if there else when(moment)


def _cell(value: object) -> tuple[str, str, bool]:
    """(shown text, sort key, numeric?) of one cell."""
    if isinstance(value, datetime):  # pd.Timestamp too
        text = when(value)
        return text, text, False
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "", "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), str(value), False
    if isinstance(value, int | float):
        number = float(value)
        text = str(int(number)) if number.is_integer() else f"{number:.2f}"
        return text, text, True
    text = _ISO_TIME.sub(lambda m: when(m.group(0)), str(value))  # e.g. "start/end" spans
    return text, str(value), False


_BREAK_AFTER = re.compile(r"([/_.:,;=-])(?=[^\s])")


def _breakable(text: str) -> str:
    """Escaped `text` with optional line breaks after separators of long tokens (paths,
    ids, names), so a narrow column wraps at a sensible place instead of being cut.

    Written `<wbr/>`: nbconvert re-parses every page with BeautifulSoup, whose html.parser
    builder keeps a list of the void tags written without `/` and scans it at every end
    tag, so 20,000 bare `<wbr>` cost minutes (quadratic); the self-closed form is not listed."""
    if len(text) < 16:
        return text
    return " ".join(
        _BREAK_AFTER.sub(r"\1<wbr/>", word) if len(word) >= 16 else word for word in text.split(" ")
    )


def table_html(
    frame: pd.DataFrame,
    empty: str,
    *,
    links: Mapping[str, Mapping[str, str]] | None = None,
    code: tuple[str, ...] = ("query_redacted", "trace"),
    caption: str | None = None,
    table_id: str | None = None,
    limit: int = ROW_LIMIT,
    source: str | None = None,
) -> str:
    """`frame` as a sortable evidence table, or the sentence `empty` when it has no rows.

    `links` maps a column to {cell value: href}: such cells become links (names to their
    pages). Columns named in `code` are shown in a fixed-width font. Beyond `limit` rows
    the first are shown and a sentence says how many were left out and where all are
    (`source`, the evidence file)."""
    if frame is None or frame.empty:
        return f'<p class="none">{html.escape(empty)}</p>'
    cut = ""
    if len(frame) > limit:
        cut = f'<p class="meta">{html.escape(cut_note(limit, len(frame), source))}</p>'
        frame = frame.head(limit)
    links = links or {}
    ident = f' id="{html.escape(table_id, quote=True)}"' if table_id else ""
    head = "".join(f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            text, sort, numeric = _cell(value)
            shown = _breakable(html.escape(text))
            href = links.get(column, {}).get(text)
            if href:
                shown = f'<a href="{html.escape(href, quote=True)}">{shown}</a>'
            classes = " ".join(c for c, on in (("num", numeric), ("code", column in code)) if on)
            attrs = f' class="{classes}"' if classes else ""
            if sort != text:
                attrs += f' data-sort="{html.escape(sort, quote=True)}"'
            cells.append(f"<td{attrs}>{shown}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'{cut}<table class="evidence"{ident}>{title}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def cut_note(shown: int, total: int, source: str | None = None) -> str:
    """The sentence under a table cut at `shown` of `total` rows."""
    where = f"all are in {source}" if source else "the evidence files hold them all"
    return f"The first {shown:,} of {total:,} rows ({total - shown:,} more not shown); {where}."


def show(frame: pd.DataFrame, empty: str, **options: object):
    """`table_html` for a notebook cell: the table (or the "none" sentence) as output."""
    from IPython.display import HTML

    return HTML(table_html(frame, empty, **options))  # type: ignore[arg-type]


def page_links(evidence_dir: str | Path, prefix: str = "") -> dict[str, dict[str, str]]:
    """The report's pages per principal and object ({} outside a report), hrefs prefixed."""
    path = Path(evidence_dir) / "report" / PAGES_FILE
    if not path.is_file():
        return {}
    pages = json.loads(path.read_text(encoding="utf-8"))
    return {kind: {n: prefix + f for n, f in names.items()} for kind, names in pages.items()}


def head(title: str) -> str:
    """The `<head>` of a page written by the report itself (not a notebook)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
    )


def foot() -> str:
    """The end of a page: the inlined table script."""
    return f"<script>{SCRIPT}</script>\n</body></html>\n"
