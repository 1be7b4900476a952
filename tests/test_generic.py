"""Generic CSV/Parquet access logs read through the case's column mapping."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from forensics.case import load_case
from forensics.cli import main
from forensics.errors import InputError
from forensics.ingest import ingest
from tests.conftest import INCIDENT

MAPPING = {
    "time": "ts",
    "principal": "user_name",
    "object": "object_name",
    "action": "operation",
    "result": "status",
    "query_text": "sql",
    "event_id": "event_uuid",
}
HEADER = "ts,user_name,object_name,operation,status,sql,event_uuid\n"


def _case(
    folder: Path,
    body: str,
    mapping: dict | None = None,
    time_format: str | None = None,
    name: str = "access.csv",
) -> Path:
    (folder / "catalog").mkdir(parents=True, exist_ok=True)
    (folder / "catalog" / "tables.csv").write_text("object,type,location\nmci.k,table,/w/k\n")
    (folder / "logs").mkdir(exist_ok=True)
    target = folder / "logs" / name
    if isinstance(body, str):
        target.write_text(body, encoding="utf-8")
    entry = {"format": "generic", "path": f"logs/{name}", "mapping": mapping or MAPPING}
    if time_format:
        entry["time_format"] = time_format
    case = {
        "case": "generic-test",
        "timezone": "America/Los_Angeles",
        "window": {"start": "2026-06-18T09:00:00Z", "end": "2026-06-18T13:00:00Z"},
        "catalog": {"tables": "catalog/tables.csv"},
        "logs": [entry],
    }
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(case))
    return path


def test_csv_rows_become_events_and_every_line_is_accounted_for(tmp_path: Path) -> None:
    body = (
        HEADER
        + "2026-06-18T10:45:00Z,Pat@CORP.EXAMPLE.COM,mci.keystrokes,SELECT,success,"
        + '"SELECT *\nFROM mci.keystrokes",e-1\n'
        + "2026-06-18 03:50:00,quinn,warehouse.mci.private_conversations,query,FAILED,,e-2\n"
        + "2026-06-18T11:00:00+02:00,rita,mci.k,DESCRIBE,ok,,e-3\n"
        + "not a time,sam,mci.k,read,ok,,e-4\n"
        + "2026-06-18T11:00:00Z,tom,mci.k,read\n"
        + "2026-06-18T11:00:00Z,uma,mci.k,read,maybe,,e-6\n"
        + "2026-06-18T11:00:00Z,,mci.k,read,ok,,e-7\n"
    )
    ingested = ingest(load_case(_case(tmp_path, body)))
    events = ingested.events.to_pylist()
    got = [
        (
            e["principal"],
            e["principal_raw"],
            e["object"],
            e["op"],
            e["result"],
            e["source_line"],
            e["time"].isoformat(),
        )
        for e in events
    ]
    assert got == [
        (
            "pat",
            "Pat@CORP.EXAMPLE.COM",
            "mci.keystrokes",
            "read",
            "allowed",
            2,
            "2026-06-18T10:45:00",
        ),
        ("quinn", "quinn", "mci.private_conversations", "read", "denied", 4, "2026-06-18T10:50:00"),
        ("rita", "rita", "mci.k", "metadata", "allowed", 5, "2026-06-18T09:00:00"),
    ]
    assert events[0]["query_text"] == "SELECT *\nFROM mci.keystrokes"
    assert events[0]["dedup_key"] == "generic:e-1"
    reasons = {q["source_line"]: q["reason"] for q in ingested.quarantine.to_pylist()}
    assert reasons == {
        6: "time 'not a time' does not match ISO-8601",
        7: "4 fields where the header has 7",
        8: "result 'maybe' is neither allowed nor denied",
        9: "empty principal (column 'user_name')",
    }
    (counts,) = ingested.files
    assert (counts.lines, counts.parsed, counts.quarantined) == (9, 5, 4)


def test_unclosed_quote_quarantines_the_rest(tmp_path: Path) -> None:
    body = HEADER + '2026-06-18T10:45:00Z,pat,mci.k,read,ok,"SELECT\n1,e-1\n'
    ingested = ingest(load_case(_case(tmp_path, body)))
    assert ingested.events.num_rows == 0
    assert [q["source_line"] for q in ingested.quarantine.to_pylist()] == [2, 3]
    assert ingested.files[0].lines == 3


def test_parquet_with_epoch_times(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    table = pa.table(
        {
            "when_ms": pa.array([1781779500000, None], pa.int64()),
            "who": ["pat", "quinn"],
            "db": ["MCI", "mci"],
            "tbl": ["Keystrokes", "k"],
        }
    )
    pq.write_table(table, tmp_path / "logs" / "access.parquet")
    mapping = {"time": "when_ms", "principal": "who", "database": "db", "table": "tbl"}
    case = _case(tmp_path, None, mapping, "epoch_ms", name="access.parquet")  # type: ignore[arg-type]
    ingested = ingest(load_case(case))
    (event,) = ingested.events.to_pylist()
    assert (event["principal"], event["object"], event["time"].isoformat()) == (
        "pat",
        "mci.keystrokes",
        "2026-06-18T10:45:00",
    )
    assert [(q["source_line"], q["reason"]) for q in ingested.quarantine.to_pylist()] == [
        (2, "empty time (column 'when_ms')")
    ]


@pytest.mark.parametrize(
    ("op", "count", "expected"),
    [
        ("metadata", "1", ("metadata", 1)),  # the op column outranks the SELECT verb
        ("READ", "3", ("read", 3)),  # a summarized row stands for 3 accesses
        ("", "", ("read", 1)),  # empty cells: the verb decides, one access
        ("peek", "1", "op 'peek' is none of read, write, metadata, other"),
        ("read", "0", "event_count '0' is not a whole number of at least 1"),
        ("read", "2.5", "event_count '2.5' is not a whole number of at least 1"),
        ("read", "x", "event_count 'x' is not a whole number of at least 1"),
    ],
)
def test_op_and_event_count_columns(tmp_path: Path, op: str, count: str, expected) -> None:
    mapping = dict(MAPPING, op="kind", event_count="n")
    body = (
        HEADER.replace("\n", ",kind,n\n")
        + f"2026-06-18T10:45:00Z,pat,mci.k,SELECT,1,,e1,{op},{count}\n"
    )
    ingested = ingest(load_case(_case(tmp_path, body, mapping)))
    if isinstance(expected, str):
        assert ingested.events.num_rows == 0
        assert [q["reason"] for q in ingested.quarantine.to_pylist()] == [expected]
    else:
        (event,) = ingested.events.to_pylist()
        assert (event["op"], event["event_count"]) == expected


def test_mapped_column_missing_from_the_file_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = _case(tmp_path, "ts,user,obj\n2026-06-18T10:45:00Z,pat,mci.k\n")
    with pytest.raises(InputError, match=r"no column 'operation' for logs\[0\]\.mapping\.action"):
        ingest(load_case(case))
    out = tmp_path.with_name(tmp_path.name + "-ev")  # beside the case folder
    assert main(["investigate", str(case), "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "logs[0].mapping.action" in err
    assert not out.exists()


def test_generic_reader_joins_the_bundled_incident(tmp_path: Path) -> None:
    """A read that only another system's log recorded is an exposure-enabled read."""
    case_dir = tmp_path / "case"
    shutil.copytree(INCIDENT, case_dir)
    (case_dir / "logs" / "other").mkdir()
    row = (
        "2026-06-18T10:45:00Z,pat,mci.keystrokes,SELECT,success,SELECT * FROM mci.keystrokes,e-1\n"
    )
    (case_dir / "logs" / "other" / "access.csv").write_text(HEADER + row + row)  # delivered twice
    case = yaml.safe_load((case_dir / "case.yaml").read_text())
    case["logs"].append({"format": "generic", "path": "logs/other/*.csv", "mapping": MAPPING})
    (case_dir / "case.yaml").write_text(yaml.safe_dump(case, sort_keys=False))
    out = tmp_path / "ev"
    assert main(["investigate", str(case_dir / "case.yaml"), "--out", str(out)]) == 0
    with open(out / "exposure_enabled_reads.csv", encoding="utf-8", newline="") as f:
        rows = {(r["principal"], r["object"]): r for r in csv.DictReader(f)}
    pat = rows[("pat", "mci.keystrokes")]
    assert (pat["read_events"], pat["first_read"], pat["engines"]) == (
        "1",
        "2026-06-18T10:45:00.000Z",
        "generic",
    )
    assert len(rows) == 9  # the eight of the bundled answers and pat
    manifest = json.loads((out / "manifest.json").read_text())
    (entry,) = [f for f in manifest["inputs"] if f["path"] == "logs/other/access.csv"]
    assert (entry["lines"], entry["parsed"], entry["duplicates"]) == (3, 3, 1)
