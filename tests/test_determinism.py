"""Same inputs and options, same bytes: whatever the machine's zone, locale or file order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from forensics.cli import main
from forensics.evidence import COVERAGE, EVIDENCE_FILES
from tests.conftest import INCIDENT


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "evidence"
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]) == 0
    return out


def _same_evidence(a: Path, b: Path) -> None:
    for name in (*EVIDENCE_FILES, COVERAGE):
        assert (a / f"{name}.csv").read_bytes() == (b / f"{name}.csv").read_bytes(), name


def test_machine_zone_and_locale_do_not_matter(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    env = dict(os.environ, TZ="Asia/Kolkata", LC_ALL="C.UTF-8", LANG="de_DE.UTF-8")
    subprocess.run(
        [sys.executable, "-m", "forensics.cli", "investigate", str(INCIDENT / "case.yaml")]
        + ["--out", str(out)],
        env=env,
        check=True,
        capture_output=True,
    )
    _same_evidence(reference, out)


def test_order_of_log_entries_does_not_matter(
    reference: Path, incident: Path, tmp_path: Path
) -> None:
    case = yaml.safe_load(incident.read_text())
    case["logs"] = list(reversed(case["logs"]))
    incident.write_text(yaml.safe_dump(case))
    out = tmp_path / "evidence"
    assert main(["investigate", str(incident), "--out", str(out)]) == 0
    _same_evidence(reference, out)


def test_pseudonyms_are_consistent_and_hide_names(
    reference: Path, incident: Path, tmp_path: Path
) -> None:
    key = tmp_path / "key"
    key.write_text("a-secret-key-of-enough-length\n")
    out = tmp_path / "evidence"
    assert main(["investigate", str(incident), "--out", str(out), "--pseudonymize", str(key)]) == 0
    real = (reference / "exposure_enabled_reads.csv").read_text().splitlines()[1:]
    names = {line.split(",")[0] for line in real}
    assert names
    for name in (*EVIDENCE_FILES, COVERAGE):
        text = (out / f"{name}.csv").read_text()
        for principal in names:
            assert f",{principal}," not in text and not text.startswith(principal), (
                name,
                principal,
            )
    pseudo = (out / "exposure_enabled_reads.csv").read_text().splitlines()[1:]
    assert len(pseudo) == len(real)
    assert {line.split(",")[0] for line in pseudo} <= {
        line.split(",")[2] for line in (out / "access_events.csv").read_text().splitlines()[1:]
    }


def test_sealed_manifest_catches_an_edit(incident: Path, tmp_path: Path, capsys) -> None:
    key = tmp_path / "seal.key"
    key.write_text("another-secret-key-long-enough\n")
    out = tmp_path / "evidence"
    assert main(["investigate", str(incident), "--out", str(out), "--seal", str(key)]) == 0
    assert main(["verify", str(out), "--seal", str(key)]) == 0
    manifest = out / "manifest.json"
    manifest.write_text(
        manifest.read_text().replace('"keep_literals": false', '"keep_literals": true')
    )
    capsys.readouterr()
    assert main(["verify", str(out), "--seal", str(key)]) == 1
    assert "does not match its seal" in capsys.readouterr().out


def test_trace_prints_the_raw_line(reference: Path, capsys) -> None:
    rows = (reference / "access_events.csv").read_text().splitlines()[1:]
    event_id = rows[0].split(",")[0]
    capsys.readouterr()
    assert main(["trace", str(reference), event_id]) == 0
    printed = capsys.readouterr().out
    source_file = printed.split(":", 1)[0]
    assert (INCIDENT / source_file).is_file()


def test_the_memory_limit_changes_speed_not_evidence(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "evidence"
    args = ["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]
    assert main([*args, "--memory-limit", "64MiB"]) == 0
    _same_evidence(reference, out)


@pytest.mark.parametrize("given", ["2xx", "1e9", "10MB", "0.01GB", "GB", "9" * 80])
def test_a_bad_memory_limit_is_refused_with_what_to_give(
    given: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(tmp_path / "e")]
             + ["--memory-limit", given])  # fmt: skip
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--memory-limit" in err and ("such as 2GB" in err or "at least 64MB" in err)
    assert "Traceback" not in err and not (tmp_path / "e").exists()


def test_running_out_of_engine_memory_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB refuses a step that cannot spill: one line saying to raise the limit, no
    traceback, nothing written. (The error is DuckDB's own exception type.)"""
    import duckdb

    from forensics import pushdown

    def out_of_memory(*_args, **_kwargs):
        raise duckdb.OutOfMemoryException("could not allocate block of size 256.0 KiB")

    monkeypatch.setattr(pushdown, "investigate_where_kept", out_of_memory)
    out = tmp_path / "e"
    args = ["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]
    assert main([*args, "--memory-limit", "100MB"]) == 1
    err = capsys.readouterr().err
    assert "ran out of memory within its limit (100MB)" in err and "--memory-limit" in err
    assert "Traceback" not in err and not out.exists()
