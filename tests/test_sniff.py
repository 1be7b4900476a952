"""A log source whose lines are (nearly) all quarantined stops the run, saying which format
its lines look like, unless accepted with --allow-quarantine (then a manifest warning)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forensics.cli import main
from forensics.ingest.sniff import looks_like_format
from tests import layout_wrappers as w
from tests.test_ingest import (
    HDFS_OPEN,
    LA,
    METASTORE_ISO,
    METASTORE_OLD,
    RANGER_HIVE,
    TRINO_NEW,
)


def _declare(case: Path, old: str, new: str) -> None:
    text = case.read_text()
    assert old in text
    case.write_text(text.replace(old, new))


HDFS_AS_RANGER = (
    '{format: hdfs-audit, path: "logs/hdfs/hdfs-audit.log*"}',
    '{format: ranger-audit, path: "logs/hdfs/hdfs-audit.log*"}',
)


def test_hdfs_logs_declared_as_ranger_audit_stop_the_run(
    incident: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _declare(incident, *HDFS_AS_RANGER)
    out = tmp_path / "ev"
    assert main(["investigate", str(incident), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one line
    assert (
        "logs[1] (logs/hdfs/hdfs-audit.log*, format ranger-audit): 11 of 11 non-blank lines" in err
    )
    assert "they look like hdfs-audit (10 of 11 sampled lines parse as hdfs-audit)" in err
    assert "set format: hdfs-audit" in err and "--allow-quarantine" in err
    assert not out.exists()  # nothing written


def test_allow_quarantine_records_a_warning(
    incident: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _declare(incident, *HDFS_AS_RANGER)
    out = tmp_path / "ev"
    assert main(["investigate", str(incident), "--out", str(out), "--allow-quarantine"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    (warning,) = manifest["warnings"]
    assert warning.startswith("logs[1] (logs/hdfs/hdfs-audit.log*, format ranger-audit)")
    assert "they look like hdfs-audit" in warning
    assert f"forensics: warning: {warning}" in capsys.readouterr().err


def test_a_sound_case_has_no_warning(incident: Path, tmp_path: Path) -> None:
    out = tmp_path / "ev"
    assert main(["investigate", str(incident), "--out", str(out)]) == 0
    assert json.loads((out / "manifest.json").read_text())["warnings"] == []


def test_lines_of_no_known_format(
    incident: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (incident.parent / "logs" / "trino" / "query-completed.json").write_text(
        "Exception in thread main\n  at org.example.Main\n"
    )
    assert main(["investigate", str(incident), "--out", str(tmp_path / "ev")]) == 2
    err = capsys.readouterr().err
    assert (
        "logs[3] (logs/trino/*.json, format trino-event): 2 of 2 non-blank lines quarantined" in err
    )
    assert "they match no known line format (first reason: not a JSON object" in err


def test_blank_lines_are_no_sign_of_a_wrong_format(incident: Path, tmp_path: Path) -> None:
    trino = incident.parent / "logs" / "trino" / "query-completed.json"
    trino.write_text("\n \n" + trino.read_text() + "\n\n\n\n\n\n\n\n\n\n")
    (incident.parent / "logs" / "trino" / "empty.json").write_text("\n\n")
    assert main(["investigate", str(incident), "--out", str(tmp_path / "ev")]) == 0


def test_a_mostly_quarantined_source_stops_the_run_too(
    incident: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trino = incident.parent / "logs" / "trino" / "query-completed.json"
    good = trino.read_text().splitlines()[0]  # 1 parsed line among 10: 90% quarantined
    trino.write_text("\n".join([good] + [w.syslog_3164(RANGER_HIVE)] * 9) + "\n")
    assert main(["investigate", str(incident), "--out", str(tmp_path / "ev")]) == 2
    err = capsys.readouterr().err
    assert "9 of 10 non-blank lines quarantined; they look like ranger-audit (9 of 9" in err


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([HDFS_OPEN] * 3, ("hdfs-audit", 3)),
        ([METASTORE_ISO, METASTORE_OLD], ("metastore-audit", 2)),
        ([RANGER_HIVE, w.filebeat(RANGER_HIVE), "garbage"], ("ranger-audit", 2)),
        ([w.log4j_kafka_appender(RANGER_HIVE)], ("ranger-audit", 1)),
        ([TRINO_NEW, HDFS_OPEN, HDFS_OPEN], ("hdfs-audit", 2)),
        ([TRINO_NEW, "x", "y"], (None, 0)),  # fewer than half
        (["x"], (None, 0)),
        ([], (None, 0)),
    ],
)
def test_looks_like_format(lines: list[str], expected: tuple) -> None:
    assert looks_like_format(lines, LA) == expected


def test_the_declared_format_is_not_offered(incident: Path) -> None:
    assert looks_like_format([HDFS_OPEN], LA, exclude="hdfs-audit") == (None, 0)
