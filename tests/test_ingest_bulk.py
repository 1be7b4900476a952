"""The bulk Ranger reader (DuckDB) gives exactly the events of the line parser, or defers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import forensics.ingest as ingest_module
from forensics import engine
from forensics.case import load_case
from forensics.ingest import IngestResult, ingest
from forensics.ingest.bulk import read_ranger_file
from tests.conftest import INCIDENT


def _line_parser_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "read_ranger_file", lambda *args: None)


def _rows(result: IngestResult) -> tuple[list[dict], list[dict], tuple]:
    return result.events.to_pylist(), result.quarantine.to_pylist(), result.files


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
@given(lines=st.lists(st.one_of(ranger_line(), st.sampled_from(DAMAGED)), min_size=1, max_size=25))
def test_bulk_and_line_parser_agree(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    case = load_case(_case(tmp_path_factory.mktemp("bulk"), lines))
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
