"""Ranger audit documents exported from Solr (the Solr audit destination).

A Solr query export is one JSON document, `{"responseHeader": .., "response": {"numFound":
N, "start": 0, "docs": [...]}}`, or a bare JSON array of documents; it is often written on
one line. The unit of account here is the document, not the physical line: each document
is parsed or quarantined, and its `source_line` is the line on which it starts. The
documents carry the same fields as Ranger's file destination (`evtTime` in ISO-8601 UTC),
and the same `id`, so an event delivered to both is counted once.

An export cut short quarantines what cannot be read, like a truncated log line. A whole
export that holds fewer documents than Solr found (`numFound`: Solr returns 10 rows
unless asked for more) is refused with what to do, rather than read as if it were whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from forensics.errors import InputError
from forensics.ingest.reader import read_text

FORMAT = "ranger-solr"
_DOCS = re.compile(r'"docs"\s*:\s*\[')
_NUM_FOUND = re.compile(r'"numFound"\s*:\s*(\d+)')
_START = re.compile(r'"start"\s*:\s*(\d+)')


def documents(path: Path, rel: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line where the document starts, the document or None, why it is unreadable)."""
    text = read_text(path)
    stripped = text.lstrip()
    if stripped.startswith("["):
        begin = len(text) - len(stripped) + 1
        expected = None
    else:
        match = _DOCS.search(text)
        if match is None:
            yield 1, None, "not a Solr export (no response.docs array and not a JSON array)"
            return
        begin = match.end()
        found = _NUM_FOUND.search(text, 0, match.start())
        start = _START.search(text, 0, match.start())
        expected = int(found.group(1)) - (int(start.group(1)) if start else 0) if found else None
    decoder = json.JSONDecoder()
    pos, count, closed = begin, 0, False
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            yield _line(text, pos), None, "export ends inside the docs array (file cut short)"
            break
        if text[pos] == "]":
            closed = True
            break
        line = _line(text, pos)
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield line, None, f"document not valid JSON ({exc.msg}); the rest cannot be read"
            break
        count += 1
        if not isinstance(doc, dict):
            yield line, None, "document is not a JSON object"
            continue
        yield line, doc, None
    if closed and expected is not None and count < expected:
        raise InputError(
            f"{rel}: the Solr export holds {count} of the {expected} documents Solr found; "
            "export all of them (rows=N or cursorMark paging) before investigating"
        )


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1
