"""An input swapped for a FIFO or device after the case file was loaded (issue 19).

The case loader refuses FIFOs and devices a path or glob names (tests/test_hostile.py), but
a file can be replaced later: before ingest reads it, before the manifest hashes it, before
`verify` or `trace` open it. Opening a FIFO blocks until someone writes to it and a device
never ends, so every reader opens inputs through `reader.open_input`, which refuses them
without blocking. Each test has a watchdog that writes to the FIFO after a while: a reader
that blocks then fails the test instead of hanging the suite.
"""

from __future__ import annotations

import gzip
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from forensics import engine
from forensics.case import load_case
from forensics.cli import main
from forensics.errors import InputError
from forensics.evidence import sha256_file
from forensics.ingest import generic, hiveserver2, ingest, solr
from forensics.ingest.bulk import blocks, numbered_lines, scan_lines
from forensics.ingest.bulk_json import read_json_file, read_ranger_file
from forensics.ingest.bulk_text import read_text_file
from forensics.ingest.reader import is_gzip, read_lines, read_text
from forensics.inputs import input_text, open_input, open_input_text
from forensics.investigation import Settings, investigate
from tests.conftest import INCIDENT

UTC = ZoneInfo("UTC")


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO, with a watchdog that unblocks a reader stuck on it after 20 seconds."""
    path = tmp_path / "audit.log"
    os.mkfifo(path)
    done = threading.Event()

    def unblock() -> None:
        if not done.wait(20):
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # a blocked reader gets EOF
            os.close(fd)

    watchdog = threading.Thread(target=unblock, daemon=True)
    watchdog.start()
    yield path
    done.set()
    watchdog.join()


def _engine_with_tables() -> object:
    con = engine.connect()
    engine.load_arrow(
        con, "raw_events", ingest(load_case(INCIDENT / "case.yaml")).events.slice(0, 0)
    )
    return con


def _text(path: Path) -> str:
    with open_input_text(path) as f:
        return f.read()


READERS: dict[str, Callable[[Path], object]] = {
    "open_input": lambda p: open_input(p).close(),
    "is_gzip (compression sniffing)": is_gzip,
    "read_lines": lambda p: list(read_lines(p)),
    "read_text (whole-file documents)": read_text,
    "blocks (bulk readers)": lambda p: list(blocks(p, "none")),
    "scan_lines (JSON bulk line count)": lambda p: scan_lines(p, "none"),
    "numbered_lines (the parser's lines, sniffing's sample)": lambda p: list(
        numbered_lines(p, [1])
    ),
    "sha256_file (manifest, verify, trace)": sha256_file,
    "input_text (policies, service config)": input_text,
    "open_input_text (catalog, directory, subjects, annotations)": _text,
    "solr documents": lambda p: list(solr.documents(p, "x")),
    "hiveserver2 records": lambda p: list(hiveserver2.records(p, "x")),
    "generic records": lambda p: list(
        generic.GenericLog({"time": "t", "principal": "u", "object": "o"}, None, "logs[0]").records(
            p, "x"
        )
    ),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_every_reader_refuses_a_fifo_without_blocking(fifo: Path, reader: str) -> None:
    with pytest.raises(InputError, match="is not a regular file any more"):
        READERS[reader](fifo)


@pytest.mark.parametrize(
    "bulk",
    [
        partial(read_json_file, name="trino"),
        read_ranger_file,
        partial(read_text_file, name="hdfs"),
    ],
    ids=["duckdb read_json (trino)", "ranger", "text (hdfs)"],
)
def test_bulk_readers_refuse_a_fifo_without_blocking(fifo: Path, bulk: Callable) -> None:
    with pytest.raises(InputError, match="is not a regular file any more"):
        bulk(_engine_with_tables(), fifo, "audit.log", UTC)


def test_a_device_is_refused() -> None:
    with pytest.raises(InputError, match="is not a regular file any more"):
        open_input(Path("/dev/zero"))


def test_a_regular_file_reads_as_before(tmp_path: Path) -> None:
    plain, packed = tmp_path / "a.log", tmp_path / "b.log"
    plain.write_bytes(b"one\ntwo\n")
    packed.write_bytes(gzip.compress(b"one\ntwo\n"))
    assert [line.text for line in read_lines(plain)] == ["one", "two"]
    assert [line.text for line in read_lines(packed)] == ["one", "two"]
    assert is_gzip(packed) and not is_gzip(plain)


def _swap_for_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def test_a_log_swapped_after_loading_stops_the_run_with_one_line(tmp_path: Path, capsys) -> None:
    # the case is loaded (the log a regular file), then the log becomes a FIFO: the
    # investigation stops with one line naming it, writes nothing, and does not hang
    case_dir = tmp_path / "case"
    shutil.copytree(INCIDENT, case_dir)
    case = load_case(case_dir / "case.yaml")
    log = case_dir / "logs" / "ranger" / "hive_ranger_audit.20260618-08.log"
    _swap_for_fifo(log)
    watchdog = threading.Timer(20, lambda: os.close(os.open(log, os.O_WRONLY | os.O_NONBLOCK)))
    watchdog.start()
    try:
        with pytest.raises(InputError, match="hive_ranger_audit.20260618-08.log: is not a regular"):
            ingest(case)
    finally:
        watchdog.cancel()


@pytest.mark.parametrize(
    "swapped",
    [
        "catalog/tables.csv",
        "catalog/views.csv",
        "directory/people.csv",
        "directory/groups.csv",
        "policies/change-1.json",
        "catalog/subjects.csv",
        "logs/hdfs/hdfs-audit.log.1.gz",
        "logs/trino/query-completed.json",
    ],
)
def test_any_input_swapped_after_loading_stops_the_run(tmp_path: Path, swapped: str) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(INCIDENT, case_dir)
    settings = Settings.build(case_dir / "case.yaml", tmp_path / "ev")  # loaded: all regular
    path = case_dir / swapped
    _swap_for_fifo(path)
    watchdog = threading.Timer(20, lambda: os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK)))
    watchdog.start()
    try:
        with pytest.raises(InputError, match=f"{path.name}: is not a regular file any more"):
            investigate(settings)
    finally:
        watchdog.cancel()
    assert not (tmp_path / "ev").exists()


def test_verify_refuses_an_input_swapped_for_a_fifo(tmp_path: Path, capsys) -> None:
    case_dir = tmp_path / "case"
    shutil.copytree(INCIDENT, case_dir)
    out = tmp_path / "ev"
    assert main(["investigate", str(case_dir / "case.yaml"), "--out", str(out)]) == 0
    _swap_for_fifo(case_dir / "logs" / "trino" / "query-completed.json")
    capsys.readouterr()
    assert main(["verify", str(out), "--case", str(case_dir / "case.yaml")]) != 0
    err = capsys.readouterr().err
    assert err.startswith("forensics: error: ") and err.count("\n") == 1, err
    assert "query-completed.json" in err and "not a regular file" in err
