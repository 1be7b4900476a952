"""The bulk readers (DuckDB) give exactly the events of the line parser, or defer to it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import forensics.ingest as ingest_module
from forensics import engine, queries
from forensics.case import load_case
from forensics.cli import main
from forensics.ingest import IngestResult, bulk_json, bulk_text, hdfs, ingest, layouts, metastore
from forensics.ingest.bulk import numbered_lines
from forensics.ingest.bulk_json import read_json_file
from forensics.ingest.bulk_text import read_text_file
from forensics.ingest.reader import read_lines
from forensics.schema import events_table
from tests import layout_wrappers
from tests.conftest import INCIDENT


def _line_parser_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "BULK_READERS", {})


def _rows(result: IngestResult) -> tuple[list[dict], list[dict], tuple]:
    return result.events.to_pylist(), result.quarantine.to_pylist(), result.files


def read_ranger_file(
    con: duckdb.DuckDBPyConnection, path: Path, rel: str, tz: ZoneInfo
) -> tuple[int, list[int]] | None:
    return read_json_file(con, path, rel, tz, name="ranger")


def test_bundled_incident_same_events_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    case = load_case(INCIDENT / "case.yaml")
    bulk = _rows(ingest(case))
    _line_parser_only(monkeypatch)
    assert bulk == _rows(ingest(case))


def test_bulk_read_leaves_only_odd_lines_to_the_line_parser(tmp_path: Path) -> None:
    case = load_case(INCIDENT / "case.yaml")
    con = engine.connect()
    engine.load_arrow(con, "raw_events", ingest(case).events.slice(0, 0))
    ranger = INCIDENT / "logs" / "ranger"
    clean = read_ranger_file(con, ranger / "hive_ranger_audit.20260618-08.log", "a", case.timezone)
    assert clean == (7, [])
    cut = ranger / "hive_ranger_audit.20260618-09.log"  # its last line is cut short
    assert read_ranger_file(con, cut, "b", case.timezone) == (18, [18])
    lines = (ranger / "hive_ranger_audit.20260618-08.log").read_text().splitlines()
    damaged = tmp_path / "damaged.log"
    damaged.write_bytes(
        "\n".join([lines[0], "", " \t", "@@ garbage", lines[1] + "\r", "{bad"]).encode()
        + b"\n\xc3\x28\n"
        + lines[2].encode()
    )
    assert read_ranger_file(con, damaged, "c", case.timezone) == (8, [2, 3, 4, 6, 7])


def _case(folder: Path, lines: list[str], tz: str = "America/Los_Angeles") -> Path:
    (folder / "catalog").mkdir(parents=True, exist_ok=True)
    (folder / "catalog" / "tables.csv").write_text("object,type,location\nmci.k,table,/w/k\n")
    (folder / "logs").mkdir(exist_ok=True)
    (folder / "logs" / "ranger.log").write_text("".join(line + "\n" for line in lines))
    case = {
        "case": "bulk",
        "timezone": tz,
        "window": {"start": "2026-03-08T09:00:00Z", "end": "2026-11-01T13:00:00Z"},
        "catalog": {"tables": "catalog/tables.csv"},
        "logs": [{"format": "ranger-audit", "path": "logs/ranger.log"}],
    }
    (folder / "case.yaml").write_text(yaml.safe_dump(case))
    return folder / "case.yaml"


BASE = {
    "repoType": 3,
    "repo": "cm_hive",
    "reqUser": "alice",
    "evtTime": "2026-06-18 09:15:02.123",
    "access": "SELECT",
    "resource": "mci/keystrokes/keys,user_id",
    "resType": "@column",
    "action": "select",
    "result": 1,
    "policy": 6,
    "sess": "s-1",
    "cliIP": "10.0.0.1",
    "reqData": "SELECT keys FROM mci.keystrokes",
    "id": "e-1",
    "event_count": 1,
}
# Values each field may take in a line: the plain ones and the odd ones a real log holds.
VARIANTS = {
    "repoType": [3, 1, 5, "3", 3.0, True, None],
    "reqUser": [
        "alice",
        "Bob@CORP.EXAMPLE.COM",
        "svc_etl/host.example.com@R",
        " carl ",
        "",
        7,
        "Ünal",
        "@SUM(1+1)",  # names no principal: quarantined
        "/x",
        "=cmd|' /C calc'!A0",  # principal "=cmd|' ", neutralized in the CSVs
    ],
    "evtTime": [
        "2026-06-18 09:15:02.123",
        "2026-06-18 09:15:02.1",
        "2026-06-18 09:15:02.123456",
        "2026-11-01 01:30:00.000",  # ambiguous in Los Angeles: the first 01:30
        "2026-03-08 02:30:00.000",  # does not exist in Los Angeles
        "2026-06-18T16:15:02.123Z",
        "2026-13-18 09:15:02.123",
        "2026-06-18 09:15:02",
        None,
    ],
    "access": ["SELECT", "select", "CREATE", "USE", "DROP", "open", "READ_EXECUTE", "", None, 1],
    "resource": [
        "mci/keystrokes",
        "mci/keystrokes/keys,user_id",
        "MCI/`Keys`/a, b,,C",
        "mci",
        "mci/keystrokes/",
        "/warehouse/mci.db/keystrokes/000000_0",
        "mci/tbl/col/x",
        "mci/Ü/a",
        "",
        None,
    ],
    "resType": ["@table", "@column", "@database", "path", "", None],
    "action": ["select", "read", "write", "execute", None],
    "result": [1, 0, 2, "1", 1.0, None],
    "policy": [6, -1, "6", 6.5, None],
    "reqData": [
        "SELECT keys FROM mci.keystrokes",
        "  describe mci.keystrokes",
        "\x0bshow tables",
        "EXPLAIN SELECT 1",
        "showcase",
        "",
        None,
    ],
    "id": ["e-1", "", None, 12],
    "event_count": [1, 3, 0, -2, "4", None],
    "cliIP": ["10.0.0.1", "", None],
}


DAMAGED = ["", "  \t", "{bad", "@@ garbage", '{"repoType":3,"reqUser":"a"', "[1, 2]", "{}", "null"]
LAYERS = layout_wrappers.SHIPPERS + layout_wrappers.LOG4J_JSON


@st.composite
def layered(draw: st.DrawFn, line: st.SearchStrategy[str]) -> str:
    """A generated line behind one or two of the layers real collections add."""
    text = draw(line)
    for wrap in draw(st.lists(st.sampled_from(LAYERS), min_size=1, max_size=2)):
        text = wrap(text)
    return text


def layered_bytes(line: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """`layered` for the byte lines of the text formats' strategies."""
    return layered(line.map(lambda b: b.decode("utf-8"))).map(lambda t: t.encode("utf-8"))


@st.composite
def ranger_line(draw: st.DrawFn) -> str:
    record = dict(BASE)
    for field, values in VARIANTS.items():
        if draw(st.integers(0, 3)) == 0:  # most lines stay plain, so both paths are exercised
            value = draw(st.sampled_from(values))
            if value is None and draw(st.booleans()):
                record.pop(field, None)
            else:
                record[field] = value
    record["id"] = (
        f"{record.get('id')}-{draw(st.integers(0, 3))}" if record.get("id") else record.get("id")
    )
    return json.dumps(record)


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(
        st.one_of(ranger_line(), st.sampled_from(DAMAGED), layered(ranger_line())),
        min_size=1,
        max_size=25,
    )
)
def test_bulk_and_line_parser_agree(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    case = load_case(_case(tmp_path_factory.mktemp("bulk"), lines))
    bulk = _rows(ingest(case))
    with pytest.MonkeyPatch.context() as patch:
        _line_parser_only(patch)
        assert bulk == _rows(ingest(case))


@settings(max_examples=30, deadline=None)
@given(
    first=ranger_line(),
    lines=st.lists(
        st.one_of(
            ranger_line().map(layout_wrappers.log4j_kafka_appender),
            ranger_line().map(layout_wrappers.log4j_xaaudit),
            st.sampled_from(DAMAGED).map(layout_wrappers.log4j_xaaudit),
            st.sampled_from(DAMAGED),
            layered(ranger_line()),
        ),
        max_size=15,
    ),
)
def test_bulk_and_line_parser_agree_behind_log4j(
    tmp_path_factory: pytest.TempPathFactory, first: str, lines: list[str]
) -> None:
    # the first line behind a log4j prefix: the file takes ranger_log4j_rows
    lines = [layout_wrappers.log4j_kafka_appender(first), *lines]
    case = load_case(_case(tmp_path_factory.mktemp("log4j"), lines))
    bulk = _rows(ingest(case))
    with pytest.MonkeyPatch.context() as patch:
        _line_parser_only(patch)
        assert bulk == _rows(ingest(case))


def test_dst_times_read_as_the_line_parser_reads_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    times = ["2026-11-01 01:30:00.000", "2026-03-08 02:30:00.000", "2026-06-18 09:15:02.123"]
    lines = [json.dumps({**BASE, "evtTime": t, "id": f"e-{i}"}) for i, t in enumerate(times)]
    case = load_case(_case(tmp_path, lines))
    got = [e["time"].isoformat() for e in ingest(case).events.to_pylist()]
    # first 01:30 of the repeated hour is PDT (UTC-7); 02:30 that never happened reads as PST
    assert got == ["2026-11-01T08:30:00", "2026-03-08T10:30:00", "2026-06-18T16:15:02.123000"]


# --- HDFS audit, metastore audit, Trino events ---------------------------------------------


def _format_case(folder: Path, fmt: str, data: bytes, *, gz: bool = False) -> Path:
    """A case whose one log file of format `fmt` holds `data` (gzipped when `gz`)."""
    (folder / "catalog").mkdir(parents=True, exist_ok=True)
    (folder / "catalog" / "tables.csv").write_text("object,type,location\nmci.k,table,/w/k\n")
    (folder / "logs").mkdir(exist_ok=True)
    (folder / "logs" / "audit.log").write_bytes(gzip.compress(data) if gz else data)
    case = {
        "case": "bulk",
        "timezone": "America/Los_Angeles",
        "window": {"start": "2026-03-08T09:00:00Z", "end": "2026-11-01T13:00:00Z"},
        "catalog": {"tables": "catalog/tables.csv"},
        "logs": [{"format": fmt, "path": "logs/audit.log"}],
    }
    (folder / "case.yaml").write_text(yaml.safe_dump(case))
    return folder / "case.yaml"


def _outcome(case_file: Path) -> object:
    """What ingest makes of a case: its events, quarantine and counts, or the error the line
    parser raised (a parser that fails on a line must fail the same way either way)."""
    try:
        return _rows(ingest(load_case(case_file)))
    except Exception as exc:  # noqa: BLE001 - compared, not hidden
        return type(exc).__name__, str(exc)


def _same_either_way(case_file: Path) -> None:
    bulk = _outcome(case_file)
    with pytest.MonkeyPatch.context() as patch:
        _line_parser_only(patch)
        assert bulk == _outcome(case_file)


# Byte-level damage a log file suffers, applied to a generated line.
def _damaged(line: bytes, how: int) -> bytes:
    half = len(line) // 2
    return [
        line,
        line + b"\r",  # CRLF
        line + b"\r\r",
        line[:half] + b"\r" + line[half:],
        line.replace(b"\t", b"\r\t", 1),
        line.replace(b" ", b"\x0b", 1),
        line.replace(b"\t", b"\x1f\t", 1),
        line[:half] + b"\x00" + line[half:],
        line[:half] + b"\xc3\x28" + line[half:],  # invalid UTF-8
        line.replace(b"=", "=\u00a0".encode(), 1),  # a non-breaking space: str.strip() drops it
        line[:half] + "ü".encode() + line[half:],
        line[:half],  # cut short
        b"",
        b"  \t",
        b"@@ garbage",
    ][how]


@st.composite
def _files(draw: st.DrawFn, line: st.SearchStrategy[bytes]) -> tuple[bytes, bool]:
    """A log file of generated lines, most plain, some damaged; gzipped or not, with or
    without a last newline."""
    lines = draw(st.lists(line, min_size=1, max_size=12))
    damage = st.one_of(st.just(0), st.just(0), st.integers(0, 14))
    data = b"\n".join(_damaged(x, draw(damage)) for x in lines)
    if draw(st.booleans()):
        data += b"\n"
    return data, draw(st.integers(0, 4)) == 0


class _Odd:
    """Which aspects of a generated line are odd (none, one or two): every other aspect
    stays plain, so the line still takes the bulk path unless its oddity sends it away."""

    def __init__(self, draw: st.DrawFn, aspects: list[str]) -> None:
        self.draw = draw
        self.aspects = set(draw(st.lists(st.sampled_from(aspects), max_size=2)))

    def pick(self, aspect: str, plain: object, odd: list) -> object:
        return self.draw(st.sampled_from(odd)) if aspect in self.aspects else plain


HDFS_COMMANDS = sorted(
    {"open", "Open", "rename", "listStatus", "getfileinfo", "setPermission", "weird", ""}
    | {
        "rename (options=[TO_TRASH])",
        "Rename (options=[OVERWRITE, TO_TRASH])",
        "rename (options=[])",
    }
    | {"rename(options=[NONE])", "open (x)", "delete (", " (options=[TO_TRASH])"}
    | hdfs._METADATA
    | hdfs._WRITE
)


HDFS_UGIS = [
    "alice",
    "hive/hs2-01.corp.example.com@CORP.EXAMPLE.COM (auth:KERBEROS)",
    "erik (auth:PROXY) via hue/hue-01@CORP.EXAMPLE.COM (auth:KERBEROS)",
    "erik (auth:PROXY) via  hue (auth:KERBEROS)",
    "erik via hue via hive",
    "erik (auth:PROXY) via hue",
    "erik via",
    "Bob",
    "",
    "@x",
]


@st.composite
def hdfs_line(draw: st.DrawFn) -> bytes:
    odd = _Odd(draw, ["ts", "head", "sep", "shape", *(k for k, _ in HDFS_FIELDS)])
    ts = odd.pick(
        "ts",
        "2026-06-18 09:15:02,123",
        [
            "2026-06-18T09:15:02,123",
            "2026-11-01 01:30:00,000",  # ambiguous in Los Angeles: the first 01:30
            "2026-03-08 02:30:00,000",  # does not exist in Los Angeles
            "2026-06-18 09:15:02.123",
            "2026-13-18 09:15:02,123",  # the line parser raises: so must the bulk path
            "0999-06-18 09:15:02,123",
            "2026-06-18 09:15:60,123",
        ],
    )
    head = odd.pick(
        "head",
        "INFO FSNamesystem.audit:",
        [
            "WARN org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit:",
            "INFO  [IPC Server handler 3] FSNamesystem.audit:",
            "INFO audit:",
            "INFO x.audit:",
            "INFO a.audit:b.audit:",
            "INFO FSNamesystem.Audit:",
            "INFO ipc.Server: call",
        ],
    )
    fields = [(k, odd.pick(k, values[0], values[1:])) for k, values in HDFS_FIELDS]
    sep = odd.pick("sep", " ", ["\t", "  "])
    return (ts + " " + head + sep + _fields(draw, odd, fields)).encode()


HDFS_FIELDS = [
    ("allowed", ["true", "false", "TRUE", "maybe", ""]),
    ("ugi", ["alice@CORP.EXAMPLE.COM (auth:KERBEROS)", *HDFS_UGIS]),
    ("ip", ["/10.0.0.1", "10.0.0.1", "null", "", "//10.0.0.2"]),
    ("cmd", ["open", *HDFS_COMMANDS]),
    ("src", ["/w/mci.db/k/ds=1/000000_0", "null", "", "/w/a b", "/w/x=y", "/w/a= b"]),
    ("dst", ["null", "/w/mci.db/k2", ""]),
    ("perm", ["null", "alice:hadoop:rwxr-x---", ""]),
    ("proto", ["rpc", "webhdfs"]),
    ("callerContext", ["CLI", "null", "HIVE_QUERY_ID:hive_1", ""]),
]


def _fields(draw: st.DrawFn, odd: _Odd, fields: list[tuple[str, object]]) -> str:
    """Tab-separated key=value fields, in their plain order and shape or rearranged."""
    shape = odd.pick("shape", "plain", ["drop", "repeat", "swap", "space", "extra", "bare", "tab"])
    i = draw(st.integers(0, len(fields) - 1))
    parts = [f"{k}={v}" for k, v in fields]
    if shape == "drop":
        del parts[i]
    elif shape == "repeat":
        parts.insert(draw(st.integers(0, len(parts))), f"{fields[i][0]}=other")
    elif shape == "swap":
        j = draw(st.integers(0, len(parts) - 1))
        parts[i], parts[j] = parts[j], parts[i]
    elif shape == "space":
        k, v = fields[i]
        parts[i] = draw(st.sampled_from([f" {k}={v}", f"{k} ={v}", f"{k}= {v}", f"{k}={v} "]))
    elif shape == "extra":
        parts.insert(i, "enc=none")
    elif shape == "bare":
        parts.insert(i, "nokey")
    elif shape == "tab":
        parts.append("")
    return "\t".join(parts)


METASTORE_CALLS = [
    "get_table : db=default tbl=test",
    "get_table : tbl=hive.mci.keystrokes",
    "source:10.1.1.1 get_table : db=Mci tbl=`Keys`",
    "create_table: Table(tableName:Keys, dbName:MCI, owner:x)",
    "alter_table: db=a tbl=b newtbl=c",
    "drop_table : db=`Mci` tbl=`K`",
    "get_all_databases",
    "get_database: mci",
    "add_partition : tbl=a.b.c.d",
    "get_table : tbl=onlyname",
    "Truncate_Table : tbl=x.y",
    "123",
    "",
    "source:10.1.1.1",
]


@st.composite
def metastore_line(draw: st.DrawFn) -> bytes:
    odd = _Odd(draw, ["ts", "head", "sep", "shape", "trailing", "ugi", "ip", "cmd"])
    ts = odd.pick(
        "ts",
        "2021-08-24T10:24:39,473",
        [
            "2021-08-24 10:24:39.473",
            "2021-08-24 10:24:39",
            "20/10/30 15:18:07",
            "69/01/01 00:00:00",
            "68/12/31 23:59:59",
            "2026-11-01 01:30:00",
            "2026-03-08T02:30:00,500",
            "2021-02-30 10:00:00",
            "2021-08-24 24:00:00",
            "2021-08-24 10:24:60",
            "21/13/01 10:00:00",
        ],
    )
    head = odd.pick(
        "head",
        " INFO [pool-6-thread-181] HiveMetaStore.audit:",
        [
            " INFO HiveMetaStore.audit:",
            " WARN org.apache.hadoop.hive.metastore.HiveMetaStore.audit:",
            "  INFO  [main] metastore.HiveMetaStore.audit:",
            " INFO HiveMetaStore.Audit:",
            " INFO  [main]: HiveMetaStore.audit (HiveMetaStore.java:logAuditEvent(305)) -",
            " INFO  [1f0c main] HiveMetaStore.audit (HiveMetaStore.java:logAuditEvent(349)) -",
            " INFO  HiveMetaStore.audit (HiveMetaStore.java:logAuditEvent(388)) -",
            " INFO  [main]: HiveMetaStore.audit (HiveMetaStore.java) -",
            " INFO  [main]: HiveMetaStore.audit (HiveMetaStore.java:logAuditEvent(305))-",
            " INFO  [main]:: HiveMetaStore.audit:",
        ],
    )
    fields = [
        ("ugi", odd.pick("ugi", "alice", ["hive/host@R", "", "Bob (auth:KERBEROS)", "@x"])),
        ("ip", odd.pick("ip", "10.255.0.137", ["unknown-ip-addr", ""])),
        ("cmd", odd.pick("cmd", METASTORE_CALLS[0], METASTORE_CALLS[1:])),
    ]
    sep = odd.pick("sep", " ", ["\t"])
    trailing = odd.pick("trailing", "\t", ["", "\t\t"])
    return (ts + head + sep + _fields(draw, odd, fields) + trailing).encode()


TRINO_BASE = {
    "metadata": {"queryId": "q_1", "query": "SELECT a FROM hive.mci.k", "queryState": "FINISHED"},
    "context": {
        "user": "alice",
        "principal": "alice@CORP.EXAMPLE.COM",
        "remoteClientAddress": "10.0.0.1",
    },
    "ioMetadata": {
        "inputs": [{"catalogName": "hive", "schema": "mci", "table": "k", "columns": ["a", "b"]}],
        "output": None,
    },
    "createTime": "2026-06-16T00:00:09.985Z",
}
TRINO_VARIANTS = {
    ("metadata", "queryId"): ["q_2", "", None, 5, "Ü"],
    ("metadata", "query"): ["", None, 7, "SELECT 'ü'"],
    ("metadata", "updateType"): ["INSERT", "CREATE TABLE", "", 3, None],
    ("context", "user"): ["Bob@R", "svc/host@R", "", None, " carl", "Ünal", 7, "@SUM(1+1)"],
    ("context", "principal"): ["", None, 3, "Ünal@R"],
    ("context", "remoteClientAddress"): ["", None, 0],
    ("createTime",): [
        "2026-06-16T00:00:09Z",
        "2026-06-16 00:00:09.9+02:00",
        "2026-06-16T00:00:09.1234567Z",
        "2026-06-16T00:00:09.123456-07:30",
        "2026-11-01T01:30:00",  # no zone: read in the case zone, the first 01:30
        "2026-03-08T02:30:00.5",  # no zone, in the gap
        "2026-06-16T00:00:09,985Z",
        "20260616T000009Z",
        1781000000,
        1781000000.5,
        True,
        "nope",
        "",
        None,
        "2026-02-30T00:00:00Z",
        "1970-01-01T00:30:00.0005+01:00",
        "2026-06-16T00:00:60Z",
    ],
    ("ioMetadata", "inputs"): [
        [],
        None,
        {},
        {"a": 1},
        "x",
        [None],
        [{"catalogName": "hive", "schema": "Mci", "table": "`Keys`", "columns": None}],
        [{"schema": "mci", "table": "k", "columns": [{"column": "B"}, {"column": "a"}, "b"]}],
        [{"schema": "mci", "table": "k", "columns": [None, "", {"column": None}, {}, 0]}],
        [{"schema": "mci", "table": "k", "columns": "a,b"}],
        [{"schema": "mci", "table": "k", "columns": [5]}],
        [{"schema": "mci", "table": "k", "columns": ["Ü", "x"]}],
        [{"schema": "", "table": "k"}, {"schema": "mci"}, {"table": "k"}],
        [{"schema": "mci", "table": 5}],
        [{"schema": "müller", "table": "k"}],
        [
            {"schema": "a", "table": "b"},
            {"schema": "c", "table": "d", "columns": [{"column": "x"}]},
        ],
    ],
    ("ioMetadata", "output"): [
        {"catalogName": "hive", "schema": "mci", "table": "out"},
        {},
        "x",
        {"schema": 3, "table": "t"},
        {"schema": "MCI", "table": "Ü"},
    ],
    ("ioMetadata",): [None, {}, "x", [], {"inputs": None}],
    ("failureInfo",): [
        {"errorCode": {"name": "PERMISSION_DENIED"}},
        {"errorCode": {"name": "OTHER"}},
        {"errorCode": None},
        {"errorCode": {}},
        {"errorCode": "x"},
        {"errorCode": {"name": 5}},
        "x",
        {},
        None,
    ],
}
TRINO_DAMAGED = ['{"metadata": {"queryId": "q"', "[]", "{}", "null", '{"metadata": "x"}', "NaN"]


@st.composite
def trino_line(draw: st.DrawFn) -> bytes:
    record = json.loads(json.dumps(TRINO_BASE))
    odd = _Odd(draw, [".".join(path) for path in TRINO_VARIANTS] + ["damaged"])
    if "damaged" in odd.aspects:
        return draw(st.sampled_from(TRINO_DAMAGED)).encode()
    for path, values in TRINO_VARIANTS.items():
        if ".".join(path) in odd.aspects:
            value = draw(st.sampled_from(values))
            parent = record
            for key in path[:-1]:
                parent = parent[key] if isinstance(parent.get(key), dict) else {}
            if value is None and draw(st.booleans()):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
    if draw(st.integers(0, 4)) == 0:  # the Kafka event listener's wrapper
        record = {"eventPayload": record, "eventMetadata": {"env": "prod"}}
    return json.dumps(record, ensure_ascii=draw(st.booleans())).encode()


@pytest.mark.parametrize(
    ("fmt", "line"),
    [
        ("hdfs-audit", st.one_of(hdfs_line(), layered_bytes(hdfs_line()))),
        ("metastore-audit", st.one_of(metastore_line(), layered_bytes(metastore_line()))),
        ("trino-event", st.one_of(trino_line(), layered_bytes(trino_line()))),
    ],
)
def test_bulk_and_line_parser_agree_on_every_format(
    tmp_path_factory: pytest.TempPathFactory, fmt: str, line: st.SearchStrategy[bytes]
) -> None:
    @settings(max_examples=60, deadline=None)
    @given(file=_files(line), block=st.sampled_from([100, 1000, bulk_text._BLOCK]))
    def agree(file: tuple[bytes, bool], block: int) -> None:
        data, gz = file
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bulk_text, "_BLOCK", block)  # small blocks: lines across reads
            _same_either_way(_format_case(tmp_path_factory.mktemp("bulk"), fmt, data, gz=gz))

    agree()


HDFS_PLAIN = (
    "2026-06-18 09:15:02,123 INFO FSNamesystem.audit: allowed=true\tugi=alice (auth:KERBEROS)"
    "\tip=/10.0.0.1\tcmd=open\tsrc=/w/k/000000_0\tdst=null\tperm=null\tproto=rpc\tcallerContext=CLI"
)
METASTORE_PLAIN = (
    "2021-08-24T10:24:39,473  INFO [pool-6-thread-1] HiveMetaStore.audit: ugi=alice"
    "\tip=10.0.0.1\tcmd=get_table : db=mci tbl=k\t"
)
TRINO_PLAIN = json.dumps(TRINO_BASE)


# Lines next to the plain shape that a bulk reader could get subtly wrong.
@pytest.mark.parametrize(
    ("fmt", "line"),
    [
        ("hdfs-audit", HDFS_PLAIN.replace("ugi=", "ugi= ")),
        ("hdfs-audit", HDFS_PLAIN.replace("\tip=", " \tip=")),
        ("hdfs-audit", HDFS_PLAIN + " "),
        ("hdfs-audit", HDFS_PLAIN.replace("ugi=", " ugi=")),
        ("hdfs-audit", HDFS_PLAIN.replace("\tip=", "\x0b\tip=")),
        ("hdfs-audit", HDFS_PLAIN.replace("\tip=", "\r\tip=")),
        ("hdfs-audit", HDFS_PLAIN.replace("\tproto=rpc", "")),
        ("hdfs-audit", HDFS_PLAIN.replace("\tproto=rpc\tcallerContext=CLI", "")),
        ("hdfs-audit", HDFS_PLAIN.replace("\tproto=rpc", "") + "\tproto=rpc"),
        ("hdfs-audit", HDFS_PLAIN + "\tcallerContext=other"),
        (
            "hdfs-audit",
            HDFS_PLAIN.replace("cmd=open", "cmd=rename").replace("dst=null", "dst=/w/b"),
        ),
        ("hdfs-audit", HDFS_PLAIN.replace("audit: ", "audit:\t")),
        ("hdfs-audit", HDFS_PLAIN.replace("audit: ", "audit:")),
        ("hdfs-audit", HDFS_PLAIN.split("\t")[0].replace("allowed=true", "")),
        ("hdfs-audit", HDFS_PLAIN.replace(",123", ",123 ")),
        ("metastore-audit", METASTORE_PLAIN.replace("ugi=", "ugi= ")),
        ("metastore-audit", METASTORE_PLAIN.replace("cmd=", "cmd= ")),
        ("metastore-audit", METASTORE_PLAIN.rstrip("\t") + " "),
        ("metastore-audit", METASTORE_PLAIN.replace("\t", "\t\t", 1)),
        ("metastore-audit", METASTORE_PLAIN.replace("get_table : ", "get_table:")),
        ("metastore-audit", METASTORE_PLAIN.replace("get_table : ", "source:1.2.3.4  get_table ")),
        ("metastore-audit", METASTORE_PLAIN.replace("db=mci tbl=k", "tbl=k db=mci tbl=j")),
        ("metastore-audit", METASTORE_PLAIN.replace("db=mci tbl=k", "db=a.b\ttbl=c")),
        ("metastore-audit", METASTORE_PLAIN.replace("2021-08-24T", "2021-08-24 ")),
        ("metastore-audit", METASTORE_PLAIN.replace(",473", "")),
        (
            "metastore-audit",
            METASTORE_PLAIN.replace("2021-08-24T10:24:39,473", "00/02/29 10:24:39"),
        ),
        (
            "metastore-audit",
            METASTORE_PLAIN.replace("2021-08-24T10:24:39,473", "01/02/29 10:24:39"),
        ),
        ("trino-event", TRINO_PLAIN.replace('"alice"', '"alice "')),
        ("trino-event", TRINO_PLAIN.replace('"alice"', '"\\u0041lice"')),
        ("trino-event", TRINO_PLAIN.replace('"k"', '"K\\u0130"')),
        pytest.param(
            "trino-event",
            TRINO_PLAIN.replace('"q_1"', '"q_1", "queryId": "q_2"'),
            marks=pytest.mark.xfail(
                strict=True, reason="known: DuckDB keeps a repeated key's first value"
            ),
        ),
        pytest.param(
            "trino-event",
            TRINO_PLAIN.replace('"b"]', '"b",]'),
            marks=pytest.mark.xfail(strict=True, reason="known: DuckDB accepts a trailing comma"),
        ),
        ("trino-event", TRINO_PLAIN.replace('.985Z"', '.985+05:30"')),
        ("trino-event", TRINO_PLAIN.replace('.985Z"', '.985-00:00"')),
        ("trino-event", TRINO_PLAIN.replace(': "', ':\t"', 1)),
        # real layouts (tests/test_layouts.py): the line parser's, or decoded alike
        (
            "hdfs-audit",
            HDFS_PLAIN.replace("cmd=open", "cmd=rename (options=[TO_TRASH])").replace(
                "dst=null", "dst=/w/b"
            ),
        ),
        ("hdfs-audit", HDFS_PLAIN.replace("cmd=open", "cmd=rename (options=[TO_TRASH])")),
        (
            "hdfs-audit",
            HDFS_PLAIN.replace("cmd=open", "cmd=concat").replace("dst=null", "dst=/w/c"),
        ),
        (
            "hdfs-audit",
            HDFS_PLAIN.replace("(auth:KERBEROS)", "(auth:PROXY) via hue/h@R (auth:KERBEROS)"),
        ),
        ("hdfs-audit", layout_wrappers.syslog_3164(HDFS_PLAIN)),
        # a user that names no principal: quarantined either way
        ("hdfs-audit", HDFS_PLAIN.replace("ugi=alice", "ugi=@SUM(1+1)")),
        ("hdfs-audit", HDFS_PLAIN.replace("ugi=alice", "ugi=/x")),
        ("metastore-audit", METASTORE_PLAIN.replace("ugi=alice", "ugi=@SUM(1+1)")),
        ("trino-event", TRINO_PLAIN.replace('"alice"', '"@SUM(1+1)"')),
        ("hdfs-audit", layout_wrappers.filebeat(HDFS_PLAIN)),
        (
            "metastore-audit",
            METASTORE_PLAIN.replace(
                "HiveMetaStore.audit:",
                "HiveMetaStore.audit (HiveMetaStore.java:logAuditEvent(305)) -",
            ),
        ),
        ("metastore-audit", METASTORE_PLAIN.replace("thread-1]", "thread-1]:")),
        ("metastore-audit", layout_wrappers.rsyslog_traditional(METASTORE_PLAIN)),
        ("trino-event", json.dumps({"eventPayload": TRINO_BASE, "eventMetadata": {}})),
        ("trino-event", layout_wrappers.logstash(TRINO_PLAIN)),
        ("trino-event", TRINO_PLAIN.replace('"a", "b"', '"b", "A", "a", "B"')),
    ],
)
def test_bulk_and_line_parser_agree_on_lines_near_the_plain_shape(
    tmp_path: Path, fmt: str, line: str
) -> None:
    plain = {"hdfs-audit": HDFS_PLAIN, "metastore-audit": METASTORE_PLAIN}.get(fmt, TRINO_PLAIN)
    _same_either_way(_format_case(tmp_path, fmt, f"{plain}\n{line}\n{plain}\n".encode()))


@pytest.mark.parametrize("log4j", [False, True])
def test_a_user_that_names_no_principal_is_quarantined_either_way(
    tmp_path: Path, log4j: bool
) -> None:
    # `@SUM(1+1)` has nothing before its '@': not an event of an empty principal, but a
    # quarantined line with the reason; `=cmd|' /C calc'!A0` names "=cmd|' " (kept, and
    # neutralized in the CSVs)
    users = ["@SUM(1+1)", "/x", "=cmd|' /C calc'!A0", "alice"]
    lines = [json.dumps({**BASE, "reqUser": u, "id": f"e-{i}"}) for i, u in enumerate(users)]
    if log4j:
        lines = [layout_wrappers.log4j_kafka_appender(line) for line in lines]
    case_file = _case(tmp_path, lines)
    _same_either_way(case_file)
    result = ingest(load_case(case_file))
    assert sorted(e["principal"] for e in result.events.to_pylist()) == ["=cmd|' ", "alice"]
    reasons = {q["source_line"]: q["reason"] for q in result.quarantine.to_pylist()}
    inside = " (inside: log4j prefix)" if log4j else ""
    assert reasons == {
        1: f"reqUser '@SUM(1+1)' names no principal (nothing before its first '/' or '@'){inside}",
        2: f"reqUser '/x' names no principal (nothing before its first '/' or '@'){inside}",
    }


def test_log4j_ranger_rows_decode_as_bare_ranger_rows() -> None:
    # one decoding of the JSON fields, whether the line was bare or behind a log4j prefix:
    # both row queries end in the one table macro, and neither holds a copy of its checks
    bare = queries.load("ingest/ranger_rows").sql
    log4j = queries.load("ingest/ranger_log4j_rows").sql
    shared = queries.load("ingest/ranger_typed").sql
    for sql in (bare, log4j):
        assert sql.rstrip().endswith("SELECT * FROM ranger_typed('raw')")
        assert "regexp_full_match" not in sql and "typed AS (" not in sql
    assert "FROM query_table(raw)" in shared and "AS fast" in shared
    prefix = layouts.LOG4J_JSON.pattern.replace("(?=\\{)", "\\{")
    assert f"'{prefix}'" in log4j


def test_ranger_lines_behind_log4j_are_read_in_bulk(tmp_path: Path) -> None:
    lines = [json.dumps({**BASE, "id": f"e-{i}"}) for i in range(5)]
    wrapped = [
        layout_wrappers.log4j_kafka_appender(line) if i % 2 else layout_wrappers.log4j_xaaudit(line)
        for i, line in enumerate(lines)
    ]
    case = load_case(_case(tmp_path / "w", ["", *wrapped, lines[0], "@@ garbage"]))
    con = engine.connect()
    engine.load_arrow(con, "raw_events", ingest(case).events.slice(0, 0))
    path = case.logs[0].files[0]
    assert bulk_json.read_ranger_file(con, path, "r", case.timezone) == (
        8,
        [1, 7, 8],
    )  # blank, bare, bad
    bare = load_case(_case(tmp_path / "b", lines))
    got, expected = ingest(case).events.to_pylist(), ingest(bare).events.to_pylist()
    for event in got + expected:
        event.pop("source_file"), event.pop("source_line")
    assert sorted(got, key=str) == sorted(expected + expected[:1], key=str)


@pytest.mark.parametrize(
    ("sql", "patterns"),
    [
        ("ingest/hdfs_rows", [hdfs._LINE.pattern.removesuffix("(?P<fields>.*)$")]),
        (
            "ingest/metastore_rows",
            [
                metastore._LINE.pattern.removesuffix("(?P<fields>.*)$"),
                metastore._CMD.pattern,
                metastore._DB_TBL.pattern,
                metastore._TABLE_OBJECT.pattern,
                metastore._QUALIFIED_TBL.pattern,
            ],
        ),
    ],
)
def test_bulk_sql_matches_lines_with_the_line_parsers_own_patterns(
    sql: str, patterns: list[str]
) -> None:
    text = queries.load(sql).sql
    for pattern in patterns:
        assert f"'{pattern}'" in text


@settings(max_examples=30, deadline=None)
@given(
    data=st.lists(
        st.sampled_from([b"a", b"\n", b"\r", b"\x00", b"\xff", b" ", "é".encode()]), max_size=40
    ),
    gz=st.booleans(),
)
def test_numbered_lines_reads_lines_as_the_line_reader_does(
    tmp_path_factory: pytest.TempPathFactory, data: list[bytes], gz: bool
) -> None:
    path = tmp_path_factory.mktemp("lines") / "log"
    path.write_bytes(gzip.compress(b"".join(data)) if gz else b"".join(data))
    expected = [tuple(line) for line in read_lines(path)]
    wanted = [n for n, _, _ in expected if n % 2]
    assert list(numbered_lines(path, wanted)) == [e for e in expected if e[0] % 2]


def test_text_bulk_read_leaves_only_odd_lines_to_the_line_parser(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    case = load_case(INCIDENT / "case.yaml")
    con = engine.connect()
    engine.load_arrow(con, "raw_events", ingest(case).events.slice(0, 0))
    logs = INCIDENT / "logs"
    hdfs_logs, metastore_logs = logs / "hdfs", logs / "metastore"
    read = read_text_file(con, hdfs_logs / "hdfs-audit.log", "a", case.timezone, name="hdfs")
    assert read == (7, [])
    rotated = hdfs_logs / "hdfs-audit.log.1.gz"  # line 2: another logger's line
    assert read_text_file(con, rotated, "b", case.timezone, name="hdfs") == (4, [2])
    audit = metastore_logs / "hivemetastore-audit.log"
    assert read_text_file(con, audit, "c", case.timezone, name="metastore") == (5, [])
    monkeypatch.setattr(bulk_text, "_BLOCK", 1 << 16)  # events inserted before the cut
    cut = tmp_path / "cut.log.gz"  # a gzip stream cut short: the line parser reads it all
    cut.write_bytes(gzip.compress((HDFS_PLAIN + "\n").encode() * 50_000)[:-100])
    before = con.sql("SELECT count(*) FROM raw_events").fetchall()
    assert read_text_file(con, cut, "cut", case.timezone, name="hdfs") is None
    assert con.sql("SELECT count(*) FROM raw_events").fetchall() == before
    trino = logs / "trino" / "query-completed.json"
    assert read_json_file(con, trino, "t", case.timezone, name="trino") == (4, [])


def test_hdfs_dst_times_read_as_the_line_parser_reads_them(tmp_path: Path) -> None:
    stamps = ["2026-11-01 01:30:00,000", "2026-03-08 02:30:00,000", "2026-06-18 09:15:02,123"]
    data = "".join(HDFS_PLAIN.replace("2026-06-18 09:15:02,123", t) + "\n" for t in stamps)
    case = load_case(_format_case(tmp_path, "hdfs-audit", data.encode()))
    got = [e["time"].isoformat() for e in ingest(case).events.to_pylist()]
    # first 01:30 of the repeated hour is PDT (UTC-7); 02:30 that never happened reads as PST
    assert got == ["2026-11-01T08:30:00", "2026-03-08T10:30:00", "2026-06-18T16:15:02.123000"]


# --- files behind a shipper's envelope or a syslog header: routed to the line parser -------


def _plain_line(fmt: str, i: int) -> str:
    return {
        "ranger-audit": json.dumps({**BASE, "id": f"e-{i}"}),
        "hdfs-audit": HDFS_PLAIN.replace("000000_0", f"00000{i}_0"),
        "metastore-audit": METASTORE_PLAIN.replace("tbl=k", f"tbl=k{i}"),
        "trino-event": TRINO_PLAIN.replace('"q_1"', f'"q_{i}"'),
    }[fmt]


@pytest.mark.parametrize("wrap", layout_wrappers.SHIPPERS, ids=lambda w: w.__name__)
@pytest.mark.parametrize("fmt", ["ranger-audit", "hdfs-audit", "metastore-audit", "trino-event"])
def test_a_file_behind_a_shipper_or_syslog_goes_to_the_line_parser_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, wrap: Callable[[str], str]
) -> None:
    lines = [wrap(_plain_line(fmt, i)) for i in range(3)] + [_plain_line(fmt, 9)]
    case_file = _format_case(tmp_path, fmt, "".join(f"{x}\n" for x in lines).encode())
    _same_either_way(case_file)  # the referee: the same events, quarantine and counts

    def no_bulk(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bulk reader read a file behind a layer")

    monkeypatch.setitem(ingest_module.BULK_READERS, fmt, no_bulk)
    result = ingest(load_case(case_file))
    (counts,) = result.files
    assert (counts.lines, counts.parsed, counts.quarantined) == (4, 4, 0)
    assert counts.read_by.startswith("line parser: its first line is behind a ")
    assert result.events.num_rows >= 4


def test_the_manifest_says_which_path_read_each_log(tmp_path: Path) -> None:
    out = tmp_path / "ev"
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    read_by = {i["path"]: i["read_by"] for i in manifest["inputs"] if "read_by" in i}
    assert read_by["logs/trino/query-completed.json"] == "bulk"
    # its last line is cut short: the bulk reader leaves it to the line parser
    assert read_by["logs/ranger/hive_ranger_audit.20260618-09.log"] == (
        "bulk; 1 line(s) by the line parser"
    )
    assert set(read_by) == {i["path"] for i in manifest["inputs"] if i["path"].startswith("logs/")}


def test_ranger_events_keep_the_order_of_their_lines(tmp_path: Path) -> None:
    """The bulk read inserts a Ranger file's events in line order, the same on every run
    (so the ingest cache's entry is too): its rows are scanned once, not buffered for two
    readers, which handed them on in blocks of 2,048 rows in whatever order threads took."""
    path = tmp_path / "ranger.log"
    lines = (json.dumps({**BASE, "id": f"e-{i}", "reqUser": f"u{i % 97}"}) for i in range(30_000))
    path.write_text("".join(line + "\n" for line in lines))
    con = engine.connect()
    engine.load_arrow(con, "raw_events", events_table([]))
    assert read_ranger_file(con, path, "r.log", ZoneInfo("UTC")) == (30_000, [])
    order = con.sql("SELECT source_line FROM raw_events ORDER BY rowid").fetchall()
    assert [line for (line,) in order] == list(range(1, 30_001))
