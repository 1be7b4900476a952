"""The coverage stage takes Ranger's agent fields (`agentHost`, `agent`, `seq_num`) from what
ingest's bulk reader kept (bare JSON lines, or lines behind a log4j prefix), and reads a
Ranger file again only when ingest did not keep them (a file read line by line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics import engine, queries
from forensics.case import load_case
from forensics.catalog import load_catalog
from forensics.coverage import build_coverage
from forensics.ingest import ingest_into
from tests.test_coverage import _at, lines, ranger, write_case

EVENTS = [
    ranger(_at(10), handler=7, seq=0),
    ranger(_at(10.001), handler=7, seq=1),
    ranger(_at(10.002), handler=7, seq=4),  # 2 and 3 lost
    ranger(_at(11), handler=9, seq=0, host="hs2-02.corp.example.com"),
]


def _ledger(case_file: Path, blank_logs_before_coverage: bool) -> list[tuple]:
    case = load_case(case_file)
    con = engine.connect()
    files = ingest_into(con, case)
    kept = con.sql("SELECT agent_host, seq_num FROM ranger_agents ORDER BY seq_num").fetchall()
    assert kept == [
        ("hs2-01.corp.example.com", 0),
        ("hs2-02.corp.example.com", 0),
        ("hs2-01.corp.example.com", 1),
        ("hs2-01.corp.example.com", 4),
    ]
    if blank_logs_before_coverage:  # any reading of the file now finds nothing
        for source in case.logs:
            for path in source.files:
                path.write_text("")
    build_coverage(con, case, load_catalog(case), [], [], {f.source_file: f.lines for f in files})
    rows = queries.load("evidence/coverage").sql
    return con.sql(rows).fetchall()


#: The prefix Ranger's log4j destination writes before each JSON record.
LOG4J = "2026-06-18 10:00:00,000 INFO  xaaudit.hive: "


@pytest.mark.parametrize("prefix", ["", LOG4J], ids=["bare", "log4j"])
def test_agent_fields_come_from_ingest_not_from_the_files_again(
    tmp_path: Path, prefix: str
) -> None:
    logged = [prefix + line for line in lines(EVENTS)]
    case = write_case(tmp_path / "case", {"logs/ranger/a.log": logged})
    again = write_case(tmp_path / "again", {"logs/ranger/a.log": logged})
    ledger = _ledger(case, blank_logs_before_coverage=True)
    assert ledger == _ledger(again, blank_logs_before_coverage=False)
    sources = {(r[0], r[1]) for r in ledger}
    assert sources == {
        ("ranger-audit", "hs2-01.corp.example.com"),
        ("ranger-audit", "hs2-02.corp.example.com"),
    }
    gaps = [r for r in ledger if r[4] == "gap"]
    assert len(gaps) == 1 and gaps[0][5].startswith("seq_num 2-3 missing")
