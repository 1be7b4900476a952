"""Layouts: the record behind the prefixes and envelopes real log collections add.

A line reaches the investigator as the bare record a service wrote, or behind one or more
of these layers (`../shared/formats.md` section 8, each confirmed upstream):

- a log4j prefix before a JSON record: Ranger's log4j audit destination and its Kafka
  appender (Ranger wiki, "Configuring Kafka log4j appender with Apache Ranger Audits":
  `%d{ISO8601} %-5p [%t]: %c{2} (%F:%M(%L)) - %m%n`; apache/ranger
  `agents-audit/dest-log4j`: the audit JSON is the logged message);
- a log shipper's JSON envelope whose `message` (Filebeat, Logstash, Fluentd, Vector) or
  `log` (Fluent Bit, Docker's json-file driver) holds the original line;
- Fluentd's `out_file` prefix `<time>\\t<tag>\\t` before that envelope;
- a syslog header: RFC 5424, RFC 3164 (rsyslog's traditional file format, with or
  without `<PRI>`), rsyslog's high-precision file format.

Each format's parser reads a line as the bare record first; only a line that is not one
(`NotRecord`, or any `BadLine` for an envelope) is peeled, a layer at a time, and read
again. So a line the bare parser reads is never touched (the bulk readers, which decode
bare records only, agree by construction), the events are those of the bare record with
the envelope's file and line as their provenance, and a line no layer explains is
quarantined with the bare reason and the layers that were found around it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TypeVar

from forensics.ingest.base import BadLine, LineContext, NotRecord

T = TypeVar("T")

#: Layers peeled at most (an envelope inside a syslog line inside an envelope ...).
MAX_LAYERS = 4
#: What a quarantine reason says was looked for when no layer was found.
KNOWN = "log4j prefix, log-shipper JSON envelope, syslog header"

_ENVELOPE_FIELDS = ("message", "log")
_FLUENTD = re.compile(r"^\S+\t\S+\t(?=\{)")
_PRI = r"(?:<\d{1,3}>)?"
_TAG = r"(?:[^\s:\[\]]+(?:\[\d+\])?: )?"
_SYSLOG = (
    (
        "syslog (RFC 5424) header",
        re.compile(
            r"^<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?\ufeff?(?=\S)"
        ),
    ),
    (
        "syslog (rsyslog file format) header",
        re.compile(
            rf"^{_PRI}\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}:\d{{2}}(?:\.\d{{1,9}})?"
            rf"(?:Z|[+-]\d{{2}}:\d{{2}}) \S+ {_TAG}(?=\S)"
        ),
    ),
    (
        "syslog (RFC 3164) header",
        re.compile(rf"^{_PRI}[A-Z][a-z]{{2}} [ \d]\d \d{{2}}:\d{{2}}:\d{{2}} \S+ {_TAG}(?=\S)"),
    ),
    ("syslog priority", re.compile(r"^<\d{1,3}>(?=\S)")),
)
#: `<date> <LEVEL> ... - {` or `... : {`: the JSON message of a log4j line (the Ranger bulk
#: reader, queries/ingest/ranger_log4j_rows.sql, decodes the same prefix).
LOG4J_JSON = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[,.]\d{3})?|\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})"
    r"\s+(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s.*?(?: - |: )(?=\{)"
)


def parse_within(
    text: str,
    ctx: LineContext,
    parse_bare: Callable[[str, LineContext], T],
    record_keys: frozenset[str] = frozenset(),
) -> T:
    """What `parse_bare` makes of the record in `text`, bare or behind known layers.

    `record_keys`: top-level keys that make a JSON object the format's own record rather
    than a shipper's envelope (an object with one of them is never unwrapped)."""
    try:
        return parse_bare(text, ctx)
    except BadLine as exc:
        first = exc
    layers: list[str] = []
    body = text
    reason: BadLine = first
    for _ in range(MAX_LAYERS):
        peeled = peel(body, record_keys)
        if peeled is None:
            break
        layer, body = peeled
        layers.append(layer)
        try:
            return parse_bare(body, ctx)
        except BadLine as exc:
            reason = exc
    if not layers:
        if isinstance(first, NotRecord):
            raise NotRecord(f"{first}, nor one behind a known layout ({KNOWN})") from None
        raise first
    raise BadLine(f"{reason} (inside: {', '.join(layers)})") from None


def peel(text: str, record_keys: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """The outermost known layer around `text`: its name and what it holds, or None."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        inner = _envelope_message(stripped, record_keys)
        if inner is not None:
            return inner
    match = _FLUENTD.match(text)
    if match:
        return "Fluentd out_file prefix", text[match.end() :]
    for name, pattern in _SYSLOG:
        match = pattern.match(text)
        if match:
            return name, text[match.end() :]
    match = LOG4J_JSON.match(text)
    if match:
        return "log4j prefix", text[match.end() :]
    return None


def _envelope_message(text: str, record_keys: frozenset[str]) -> tuple[str, str] | None:
    """The original line a shipper's JSON envelope holds, or None when `text` is not one."""
    try:
        record = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(record, dict) or record_keys.intersection(record):
        return None
    for field in _ENVELOPE_FIELDS:
        value = record.get(field)
        if isinstance(value, str) and value.strip():
            return f"JSON envelope field {field}", value.rstrip("\r\n")
    return None
