"""Access logs from other systems, as CSV or Parquet, through a column mapping in the case.

A `generic` log entry names which column holds each event field (`mapping:`) and how its
times are written (`time_format:`: a strftime pattern, `epoch_s`, `epoch_ms`, or ISO-8601
when absent). Rules, documented in docs/case-and-evidence.md:

- CSV (optionally gzipped) has a header row; RFC 4180 quoting, so a quoted field may span
  lines. Every physical line is accounted for: the header and the continuation lines of a
  multi-line record count as parsed; a record that cannot be read is quarantined on the
  line where it starts (and its continuation lines with it).
- Parquet (recognized by its `PAR1` magic): the unit of account is the row; `source_line`
  is the row number, 1-based.
- `result` reads allowed/denied, 1/0, true/false, success/failure, allow/deny; without a
  result column every row is an allowed access. `action` sets the kind of access by its
  verb (SELECT/read/open/query: read; INSERT/write/create/update: write; DESCRIBE/SHOW/
  get*/list*: metadata; anything else: other); without an action column every row is a read.
  An `op` column (read, write, metadata, other) gives the kind itself, for logs that
  already say it (a verb such as SELECT on a database alone is metadata, not a read).
- `event_count` (a whole number, at least 1) is how many accesses a summarized row stands
  for, as Ranger's `event_count`; without it every row is one.
- `object` is `db.table` (a three-part `catalog.db.table` keeps its last two parts), or
  `database` and `table` columns give it; `path` names a storage path instead.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq

from forensics.errors import InputError
from forensics.ingest.base import BadLine, LineContext
from forensics.ingest.reader import local_to_epoch_ms, read_lines
from forensics.inputs import check_input, open_input
from forensics.names import object_name, principal_short
from forensics.schema import (
    ALLOWED,
    DENIED,
    OP_METADATA,
    OP_OTHER,
    OP_READ,
    OP_WRITE,
    OPS,
    Event,
)

FORMAT = "generic"
_ALLOWED = frozenset({"allowed", "allow", "1", "true", "success", "succeeded", "ok", "granted"})
_DENIED = frozenset({"denied", "deny", "0", "false", "failure", "failed", "error", "rejected"})
_READ = re.compile(r"^(select|read|open|query|scan|get_?object|download)\b", re.IGNORECASE)
_WRITE = re.compile(
    r"^(insert|write|create|update|merge|delete|put|upload|ctas|copy|unload)\b", re.IGNORECASE
)
_METADATA = re.compile(r"^(describe|desc|show|get|list|explain|stat)", re.IGNORECASE)

Record = dict[str, object]
#: The times an event may have: those of Python's datetime (years 1 to 9999), in epoch ms.
_FIRST_MS = -62_135_596_800_000
_LAST_MS = 253_402_300_800_000


def _parquet_rows(path: Path, rel: str) -> Iterator[tuple[int, Record | None, str | None]]:
    check_input(path)
    try:
        table = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(
            f"{rel}: not a readable Parquet file ({type(exc).__name__}); "
            "re-export it or give it as CSV"
        ) from None
    yield 0, {name: None for name in table.schema_arrow.names}, None
    number = 0
    for batch in table.iter_batches(batch_size=65_536):
        for row in batch.to_pylist():
            number += 1
            yield number, row, None


#: A physical line as `reader.read_lines` gives it: number, text, why it has none.
LineTuple = tuple[int, str | None, str | None]


def _csv_rows(
    lines: Iterable[LineTuple], rel: str
) -> Iterator[tuple[int, Record | None, str | None]]:
    """Rows of CSV `lines` keyed by its header; the header row and continuation lines yield
    empty records. The first thing yielded is the header as a record of column names.
    `lines` may skip whole records (the bulk reader's leftovers, `bulk_csv`): a record
    depends on its own lines only."""
    header: list[str] | None = None
    pending: list[tuple[int, str]] = []
    for at, text, problem in lines:
        if text is None and problem != "empty line" and not pending:
            yield at, None, problem
            continue
        if text is None and problem != "empty line":
            for number, _ in pending:
                yield number, None, f"record broken by line {at}: {problem}"
            yield at, None, problem
            pending = []
            continue
        if text is None and not pending:
            yield at, None, "empty line"
            continue
        pending.append((at, text or ""))
        joined = "\n".join(text for _, text in pending)
        if joined.count('"') % 2:
            continue  # a quoted field goes on to the next line
        first, fields = pending[0][0], next(csv.reader(io.StringIO(joined)), [])
        follow = [number for number, _ in pending[1:]]
        pending = []
        if header is None:
            header = [name.strip() for name in fields]
            if len(set(header)) != len(header) or not all(header):
                raise InputError(
                    f"{rel} line {first}: the header row has empty or repeated column names; "
                    "a generic CSV log needs one header row naming its columns"
                )
            yield 0, {name: None for name in header}, None
            yield first, {}, None
        elif len(fields) != len(header):
            yield first, None, f"{len(fields)} fields where the header has {len(header)}"
        else:
            yield first, dict(zip(header, fields, strict=True)), None
        for number in follow:
            yield number, ({} if header is not None else None), None
    for number, _ in pending:
        yield number, None, "quoted field never closed (file cut short?)"


def csv_header(path: Path, rel: str) -> tuple[list[str], int] | None:
    """A CSV file's column names, as the row parser reads them (its first record), and the
    number of the header's last line; None when the file has no header record."""
    names: list[str] | None = None
    last = 0
    for number, record, _ in _csv_rows(read_lines(path), rel):
        if names is None:
            if number == 0:
                names = list(record or ())
            continue
        if record != {}:
            break  # the first record after the header's lines
        last = number
    return (names, last) if names is not None else None


class GenericLog:
    """Reads a CSV or Parquet log and turns each record into an event, by the case's
    mapping of event fields to columns (`key` names the case entry in errors)."""

    def __init__(self, mapping: Mapping[str, str], time_format: str | None, key: str) -> None:
        self.mapping = dict(mapping)
        self.time_format = time_format
        self.key = key

    def records(self, path: Path, rel: str) -> Iterator[tuple[int, Record | None, str | None]]:
        """(line or row number, the record by column name, why it cannot be read), after
        checking that every mapped column exists in the file."""
        with open_input(path) as f:
            parquet = f.read(4) == b"PAR1"
        if parquet:
            yield from self._checked(_parquet_rows(path, rel), rel)
        else:
            yield from self.csv_records(read_lines(path), rel)

    def csv_records(
        self, lines: Iterable[LineTuple], rel: str
    ) -> Iterator[tuple[int, Record | None, str | None]]:
        """`records` of CSV `lines` (all of a file's, or the records the bulk reader left)."""
        yield from self._checked(_csv_rows(lines, rel), rel)

    def _checked(
        self, rows: Iterable[tuple[int, Record | None, str | None]], rel: str
    ) -> Iterator[tuple[int, Record | None, str | None]]:
        for number, record, problem in rows:
            if number == 0:  # the file's columns
                self.check_columns(set(record or ()), rel)
                continue
            yield number, record, problem

    def check_columns(self, columns: set[str], rel: str) -> None:
        """InputError naming the first mapped column the file lacks."""
        missing = sorted(f for f, c in self.mapping.items() if c not in columns)
        if missing:
            field = missing[0]
            raise InputError(
                f"{rel}: no column {self.mapping[field]!r} for {self.key}.mapping.{field}; "
                f"the file has {', '.join(sorted(columns))[:200]}"
            )

    def parse(self, record: Record, ctx: LineContext) -> list[Event]:
        """The event of one record; the header and continuation lines give none."""
        if not record:
            return []
        user = self._text(record, "principal", required=True)
        assert user is not None
        obj, path = self._target(record)
        action = self._text(record, "action") or ""
        event_id = self._text(record, "event_id")
        return [
            Event(
                event_id=event_id or ctx.event_id("generic"),
                time_ms=self._time(record, ctx),
                source_format=FORMAT,
                source_file=ctx.source_file,
                source_line=ctx.line,
                engine=(self._text(record, "engine") or "generic").lower(),
                principal=principal_short(user),
                principal_raw=user,
                op=self._op(record, action),
                action=action or "read",
                object=obj,
                columns=self._columns(record),
                path=path,
                result=self._result(record),
                policy_id=None,
                client_ip=self._text(record, "client_ip"),
                session_id=self._text(record, "session_id"),
                query_id=self._text(record, "query_id"),
                query_text=self._text(record, "query_text"),
                event_count=self._event_count(record),
                dedup_key=f"generic:{event_id}" if event_id else None,
            )
        ]

    def _value(self, record: Record, field: str) -> object:
        column = self.mapping.get(field)
        if column is None:
            return None
        value = record.get(column)
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    def _text(self, record: Record, field: str, required: bool = False) -> str | None:
        value = self._value(record, field)
        if value is None:
            if required:
                raise BadLine(f"empty {field} (column {self.mapping[field]!r})")
            return None
        return str(value).strip()

    def _time(self, record: Record, ctx: LineContext) -> int:
        value = self._value(record, "time")
        if value is None:
            raise BadLine(f"empty time (column {self.mapping['time']!r})")
        ms = self._epoch_ms(value, ctx)
        if not _FIRST_MS <= ms < _LAST_MS:
            raise BadLine(f"time {str(value)[:40]!r} is outside the years 1 to 9999")
        return ms

    def _epoch_ms(self, value: object, ctx: LineContext) -> int:
        if isinstance(value, datetime):
            return local_to_epoch_ms(value, ctx.tz)
        text = str(value).strip()
        try:
            if self.time_format == "epoch_s":
                return round(float(text) * 1000)
            if self.time_format == "epoch_ms":
                return int(float(text))
            if self.time_format:
                return local_to_epoch_ms(datetime.strptime(text, self.time_format), ctx.tz)
            return local_to_epoch_ms(datetime.fromisoformat(text.replace("Z", "+00:00")), ctx.tz)
        except (ValueError, OverflowError):
            wanted = self.time_format or "ISO-8601"
            raise BadLine(f"time {text[:40]!r} does not match {wanted}") from None

    def _target(self, record: Record) -> tuple[str | None, str | None]:
        path = self._text(record, "path")
        name = self._text(record, "object")
        if name is not None:
            parts = [p for p in name.split(".") if p]
            if len(parts) < 2:
                raise BadLine(f"object {name[:60]!r} is not db.table")
            return object_name(parts[-2], parts[-1]), path
        database, table = self._text(record, "database"), self._text(record, "table")
        if database and table:
            return object_name(database, table), path
        if path is None:
            raise BadLine("no object and no path on this row")
        return None, path

    def _columns(self, record: Record) -> str | None:
        text = self._text(record, "columns")
        if not text:
            return None
        return ";".join(sorted({c.strip().lower() for c in re.split(r"[,;]", text) if c.strip()}))

    def _op(self, record: Record, action: str) -> str:
        """The kind of access: the `op` column when mapped, else the action's verb."""
        text = self._text(record, "op")
        if text is None:
            return _op(action)
        if text.lower() not in OPS:
            raise BadLine(f"op {text[:30]!r} is none of {', '.join(OPS)}")
        return text.lower()

    def _event_count(self, record: Record) -> int:
        """How many accesses the row stands for (1 without an event_count column)."""
        text = self._text(record, "event_count")
        if text is None:
            return 1
        try:
            count = float(text)
        except ValueError:
            count = 0.0
        if count < 1 or count != int(count) or count > 2**62:
            raise BadLine(f"event_count {text[:30]!r} is not a whole number of at least 1")
        return int(count)

    def _result(self, record: Record) -> str:
        text = self._text(record, "result")
        if text is None:
            return ALLOWED
        low = text.lower()
        if low in _ALLOWED:
            return ALLOWED
        if low in _DENIED:
            return DENIED
        raise BadLine(f"result {text[:30]!r} is neither allowed nor denied")


def _op(action: str) -> str:
    """The kind of access an action verb names; no action means a read."""
    if not action or _READ.match(action):
        return OP_READ
    if _WRITE.match(action):
        return OP_WRITE
    if _METADATA.match(action):
        return OP_METADATA
    return OP_OTHER
