"""Generic CSV logs: the bulk reader (forensics/ingest/bulk_csv.py) gives exactly the events,
quarantine and counts of the row parser (forensics/ingest/generic.py), line for line.

Files are drawn from records at the edges of each rule (the values of
tests/test_ingest_bulk_generic.py as text, fields with commas, quotes and newlines, written
plain, always quoted, quoted when needed or with a stray quote) mixed with lines no record
has (blank, NUL bytes, invalid UTF-8, a lone quote, too few fields), in files with or
without a BOM (before the unmapped first column), CRLF line ends, a last newline or gzip,
read in blocks of 64 bytes or of the default size; the parser is the referee, run by
disabling the bulk reader.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics import ingest as ingest_module
from forensics.case import load_case
from forensics.ingest import bulk_text, ingest
from tests.generic_cases import bulk_and_parser, generic_case

WHO = ["alice", "Alice@CORP.EXAMPLE.COM", "svc/host@R", " bob", "bob\t", "j\u00fcrgen", "", "a,b"]
OBJ = ["mci.keystrokes", "MCI.Screens", "hive.mci.chats", "a.", "mci", "x.y-z", "", "m.k\n"]
VERB = ["SELECT", "select * from", "getObject", "DESCRIBE", "drop", "\u017felect", "", "in,sert"]
STATUS = ["allowed", "DENIED", "1", "0", "maybe", "", ' "ok"']
SQL = ["q1", "SELECT a, b FROM t", 'say "hi"', "two\nlines", "x\r\ny", " q2", "s\u00e9lect", ""]
IDS = ["e1", "e2", " e3", "", 'e"4']
COUNT = ["1", "3", "0", "-1", "", "2.0", " 4", "007", "99999999999999999999", "1e3"]
ISO = [
    "2026-06-18 10:45:01.123456", "2026-06-18T10:45:01", "2026-06-18T10:45:01Z",
    "2026-06-18 10:45:01.5", "2026-06-18 10:45", "2026-06-18", "2026-03-08 02:30:00",
    "2026-11-01 01:30:00", "1969-12-31 23:00:00", "2026-02-30 00:00:00", " 2026-06-18 10:00:00",
    "2026-06-18 10:00:00+02:00", "20260618T104501", "2026-06-18 24:00:00", "",
    "2026-06-18 10:45:01.1234567",
]  # fmt: skip
EPOCH = ["1781779500123", "1781779500", "0", "-5", "1.5e12", " 17", "007", "", "1781779500.25"]
POOLS = {"who": WHO, "obj": OBJ, "verb": VERB, "status": STATUS, "sql": SQL, "id": IDS, "n": COUNT}
HEADER = ["x", "t", "who", "obj", "verb", "status", "sql", "id", "n"]
MAPPING = {
    "time": "t", "principal": "who", "object": "obj", "action": "verb", "result": "status",
    "query_text": "sql", "event_id": "id", "event_count": "n",
}  # fmt: skip
#: Lines no record writer makes (each one physical line, without its end).
JUNK = [b"", b"   ", b"\t", b"\x00", b"a\x00,b", b"\xff\xfe,x", b'"', b'a,"b', b"only,three,fields",
        b"\xe2\x80\x83", b"\x0b", b'x"y,z"', b'"\x00', b'\xff"']  # fmt: skip


def _field(value: str, style: str) -> str:
    """A value as a CSV writer with `style` writes it (plain: as is, whatever it holds)."""
    needs = any(c in value for c in ',"\n\r') or value != value.strip()
    if style == "quoted" or (style == "minimal" and needs):
        return '"' + value.replace('"', '""') + '"'
    if style == "stray":  # the record goes on until a line with another odd quote
        return value + '"'
    return value


record = st.tuples(
    st.fixed_dictionaries({name: st.sampled_from(pool) for name, pool in POOLS.items()}),
    st.integers(0, 100),
    st.sampled_from(["minimal"] * 6 + ["quoted", "quoted", "plain", "stray"]),
)
unit = st.one_of(record, record, record, st.sampled_from(JUNK))


def _raw(units: list, times: list[str], newline: str, end: str) -> bytes:
    """The file's bytes: the header, then each unit as one line (a record's quoted newline
    makes it more)."""
    lines = [",".join(HEADER).encode()]
    for item in units:
        if isinstance(item, bytes):
            lines.append(item)
            continue
        values, pick, style = item
        row = ["0", times[pick % len(times)], *(values[name] for name in HEADER[2:])]
        stray = pick % len(row) if style == "stray" else -1
        written = [_field(v, "stray" if i == stray else style) for i, v in enumerate(row)]
        lines.append(",".join(written).encode())
    return newline.encode().join(lines) + end.encode()


def _case(folder: Path, data: bytes, tz: str, time_format: str | None) -> Path:
    return generic_case(
        folder, "access.csv", lambda p: p.write_bytes(data), MAPPING, tz, time_format, "bulk-csv"
    )


def _both(case: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple, tuple]:
    """(events, quarantine, counts) by the bulk reader and by the row parser."""
    return bulk_and_parser(case, monkeypatch, "read_generic_csv")


@pytest.mark.parametrize(
    ("time_format", "times"), [(None, ISO), ("epoch_ms", EPOCH), ("epoch_s", EPOCH)]
)
@pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles"])
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    units=st.lists(unit, min_size=1, max_size=30),
    newline=st.sampled_from(["\n", "\r\n"]),
    end=st.sampled_from(["", "\n"]),
    bom=st.booleans(),
    gzipped=st.booleans(),
    small=st.booleans(),
)
def test_bulk_reader_and_row_parser_agree(
    units, newline, end, bom, gzipped, small, tz, time_format, times, tmp_path_factory, monkeypatch
) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + _raw(units, times, newline, end)
    folder = tmp_path_factory.mktemp("csv")
    case = _case(folder, gzip.compress(data) if gzipped else data, tz, time_format)
    with monkeypatch.context() as m:
        if small:
            m.setattr(bulk_text, "_BLOCK", 64)  # records and quoted fields across blocks
        bulk, parser = _both(case, m)
    assert bulk == parser


def test_plain_lines_are_read_by_the_engine_and_the_rest_by_the_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk reader really reads: the parser is asked for the header, a record with a
    quoted newline (both its lines), a blank line, a line of other bytes and a short one,
    and nothing else."""
    lines = [
        "x,t,who,obj,verb,status,sql,id,n",
        '0,2026-06-18 10:00:00,alice,mci.k,SELECT,allowed,"SELECT a, b",e1,1',
        '0,2026-06-18 10:00:01,bob,mci.k,SELECT,allowed,"two',
        'lines",e2,1',
        "",
        "0,2026-06-18 10:00:02,j\u00fcrgen,mci.k,SELECT,allowed,q,e3,1",
        "0,2026-06-18 10:00:03,carl,mci.k",
        '0,2026-06-18 10:00:04,dan,mci.k,SELECT,allowed,"say ""hi""",e4,2',
    ]
    case = _case(tmp_path, "\n".join(lines).encode(), "UTC", None)
    asked: list[int] = []
    real = ingest_module.numbered_lines

    def spy(path, numbers):
        asked.extend(numbers)
        return real(path, numbers)

    monkeypatch.setattr(ingest_module, "numbered_lines", spy)
    result = ingest(load_case(case))
    assert asked == [1, 3, 4, 5, 6, 7]
    events = {e["source_line"]: e for e in result.events.to_pylist()}
    assert sorted(events) == [2, 3, 6, 8]
    assert events[2]["query_text"] == "SELECT a, b" and events[8]["query_text"] == 'say "hi"'
    assert events[8]["event_count"] == 2 and events[3]["query_text"] == "two\nlines"
    (counts,) = result.files
    assert (counts.lines, counts.parsed, counts.quarantined) == (8, 6, 2)
    assert counts.read_by == "bulk; 6 line(s) by the line parser"


def test_a_time_pattern_leaves_the_whole_file_to_the_parser(tmp_path: Path) -> None:
    """A strftime `time_format` is read by Python's strptime alone."""
    text = "x,t,who,obj,verb,status,sql,id,n\n0,18/06/2026 10:00,alice,mci.k,,,,,\n"
    case = _case(tmp_path, text.encode(), "UTC", "%d/%m/%Y %H:%M")
    result = ingest(load_case(case))
    assert [e["principal"] for e in result.events.to_pylist()] == ["alice"]
    assert result.files[0].read_by == "line parser"


PLAIN = b"0,2026-06-18 10:00:00,alice,mci.k,SELECT,allowed,q,e1,1"
HEAD = b"x,t,who,obj,verb,status,sql,id,n"


@pytest.mark.parametrize(
    "lines",
    [
        # a line the reader cannot decode ends an open record, whatever quotes it holds
        [
            HEAD,
            b'0,2026-06-18 10:00:00,bob,mci.k,SELECT,allowed,"a',
            b'"\x00',
            b'x,"y',
            PLAIN,
            b'"',
        ],
        [HEAD, b'0,2026-06-18 10:00:00,bob,mci.k,SELECT,allowed,"a', b"\xff\xfe", PLAIN, PLAIN],
        [HEAD, b'"\xff', b'0,2026-06-18 10:00:00,bob,mci.k,SELECT,allowed,"a', PLAIN, b'"', PLAIN],
        # a blank line inside a quoted field is part of it
        [HEAD, b'0,2026-06-18 10:00:00,bob,mci.k,SELECT,allowed,"a', b"", b'b",e9,1', PLAIN],
        # a quoted field open at the end of the file
        [HEAD, PLAIN, b'0,2026-06-18 10:00:00,bob,mci.k,SELECT,allowed,"a', PLAIN],
        # blank and undecodable lines before a header that spans two lines
        [b"", b"\x00", b'"x', b'",t,who,obj,verb,status,sql,id,n', PLAIN],
        [b'x,t,who,obj,verb,status,"sql",id,n', PLAIN, b"", b"  ", PLAIN],
    ],
    ids=[
        "nul-quote",
        "utf8",
        "utf8-quote",
        "blank-inside",
        "open-at-end",
        "header",
        "quoted-header",
    ],
)
@pytest.mark.parametrize("small", [False, True])
def test_records_across_lines_are_the_parser_s(
    lines: list[bytes], small: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quote state the bulk reader keeps from line to line (and block to block) is the
    parser's: no line inside another record is decoded as one."""
    case = _case(tmp_path, b"\n".join(lines), "UTC", None)
    with monkeypatch.context() as m:
        if small:
            m.setattr(bulk_text, "_BLOCK", 64)
        bulk, parser = _both(case, m)
    assert bulk == parser
    assert bulk[2][0].read_by.startswith("bulk")


def test_csv_and_parquet_logs_of_one_case_are_both_read_in_bulk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV log read in bulk beside a Parquet one (scanned in place): the events of both,
    as the row parser gives them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    case = _case(tmp_path, b"\n".join([HEAD, PLAIN, b"0,x,bob,mci.k,,,,,"]), "UTC", None)
    pq.write_table(
        pa.table({"who": ["carl", "dan "], "obj": ["mci.k", "mci.k"], "t": [1781779500123, 5]}),
        tmp_path / "logs" / "other.parquet",
    )
    raw = yaml.safe_load(case.read_text())
    raw["logs"].append(
        {
            "format": "generic",
            "path": "logs/other.parquet",
            "time_format": "epoch_ms",
            "mapping": {"time": "t", "principal": "who", "object": "obj"},
        }
    )
    case.write_text(yaml.safe_dump(raw))
    bulk = ingest(load_case(case))
    monkeypatch.setattr(ingest_module, "read_generic_csv", lambda *a, **k: None)
    monkeypatch.setattr(ingest_module, "read_generic_parquet", lambda *a, **k: None)
    parser = ingest(load_case(case))

    def key(result):
        rows = result.events.to_pylist()
        return sorted(rows, key=lambda e: (e["source_file"], e["source_line"])), result.files

    assert key(bulk) == key(parser)
    assert bulk.quarantine.to_pylist() == parser.quarantine.to_pylist()
    assert [e["principal"] for e in key(bulk)[0]] == ["alice", "carl", "dan"]
    assert [f.read_by.split(";")[0] for f in bulk.files] == ["bulk", "bulk"]


def test_a_bulk_read_csv_log_is_kept_whole_by_the_ingest_cache(tmp_path: Path) -> None:
    """The events DuckDB inserted and those the parser made are both in the file's cache
    entry: a rerun loads the same events, quarantine and counts from it."""
    from forensics import engine
    from forensics.ingest import ingest_into
    from forensics.ingest.cache import IngestCache

    lines = [HEAD, PLAIN, b"", b'0,2026-06-18 10:00:01,bob,mci.k,SELECT,allowed,"a, b",e2,2']
    case = load_case(_case(tmp_path, b"\n".join(lines), "UTC", None))

    def run() -> tuple:
        cache = IngestCache.open(tmp_path / "cache")
        con = engine.connect()
        try:
            files = ingest_into(con, case, cache)
            events = con.sql("SELECT * FROM raw_events ORDER BY source_line").fetchall()
            bad = con.sql("SELECT * FROM quarantine ORDER BY source_line").fetchall()
            return events, bad, files, cache.stored
        finally:
            con.close()

    cold, warm = run(), run()
    assert cold[2][0].read_by == "bulk; 2 line(s) by the line parser" and cold[3]
    assert warm[2][0].read_by == cold[2][0].read_by and not warm[3]  # loaded, not stored
    assert warm[:3] == cold[:3] and len(cold[0]) == 2 and len(cold[1]) == 1
