"""Corrupted copies of the bundled incident's real-format logs: nothing lost, nothing raises.

Hypothesis damages the log files the way real incidents deliver them (cut lines, garbage,
NUL bytes, invalid UTF-8, CRLF line ends, replayed lines, empty files, gzip cut short) and
checks that every physical line is either parsed or quarantined, once, in every format.
"""

from __future__ import annotations

import gzip
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.case import load_case
from forensics.ingest import ingest
from forensics.ingest.reader import count_lines
from tests.conftest import INCIDENT

LOGS = sorted(p.relative_to(INCIDENT) for p in (INCIDENT / "logs").rglob("*") if p.is_file())

DAMAGE = st.sampled_from(
    [
        "cut_line",
        "garbage",
        "nul",
        "bad_utf8",
        "crlf",
        "replay",
        "empty_line",
        "truncate_file",
        "empty_file",
    ]
)


def _damage(data: bytes, how: str, where: int) -> bytes:
    """One kind of damage at a position chosen by hypothesis."""
    lines = data.split(b"\n")
    i = where % max(1, len(lines))
    if how == "cut_line":
        lines[i] = lines[i][: len(lines[i]) // 2]
    elif how == "garbage":
        lines.insert(i, b"@@ \x01 not a log line }{")
    elif how == "nul":
        lines[i] = lines[i][:5] + b"\x00" + lines[i][5:]
    elif how == "bad_utf8":
        lines[i] = lines[i][:3] + b"\xc3\x28\xff" + lines[i][3:]
    elif how == "crlf":
        return data.replace(b"\n", b"\r\n")
    elif how == "replay":
        lines.insert(i, lines[i])
    elif how == "empty_line":
        lines.insert(i, b"")
    elif how == "truncate_file":
        return data[: where % max(1, len(data))]
    elif how == "empty_file":
        return b""
    return b"\n".join(lines)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    damages=st.lists(
        st.tuples(st.sampled_from(LOGS), DAMAGE, st.integers(0, 10_000)), min_size=1, max_size=4
    ),
    cut_gzip=st.booleans(),
)
def test_corrupted_logs_lose_nothing(
    tmp_path_factory: pytest.TempPathFactory, damages: list, cut_gzip: bool
) -> None:
    case_dir = tmp_path_factory.mktemp("corrupt") / "case"
    shutil.copytree(INCIDENT, case_dir)
    damaged: dict = {}
    for rel, how, where in damages:
        raw = (case_dir / rel).read_bytes()
        zipped = raw[:2] == b"\x1f\x8b"
        data = damaged.get(rel, gzip.decompress(raw) if zipped else raw)
        damaged[rel] = _damage(data, how, where)
    for rel, data in damaged.items():
        zipped = (case_dir / rel).read_bytes()[:2] == b"\x1f\x8b"
        out = gzip.compress(data, mtime=0) if zipped else data
        if zipped and cut_gzip:
            out = out[: max(10, len(out) * 2 // 3)]
        (case_dir / rel).write_bytes(out)
    case = load_case(case_dir / "case.yaml")
    result = ingest(case)
    quarantined: dict[str, int] = {}
    for row in result.quarantine.to_pylist():
        quarantined[row["source_file"]] = quarantined.get(row["source_file"], 0) + 1
    parsed_lines: dict[str, set[int]] = {}
    for row in result.events.to_pylist():
        parsed_lines.setdefault(row["source_file"], set()).add(row["source_line"])
    for counts in result.files:
        path = case_dir / counts.source_file
        if counts.format != "ranger-solr":
            assert counts.lines == count_lines(path), counts.source_file
        assert counts.parsed + counts.quarantined == counts.lines, counts.source_file
        assert quarantined.get(counts.source_file, 0) == counts.quarantined, counts.source_file
        bad = {
            r["source_line"]
            for r in result.quarantine.to_pylist()
            if r["source_file"] == counts.source_file
        }
        assert not bad & parsed_lines.get(counts.source_file, set()), "a line both ways"
