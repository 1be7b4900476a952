"""The scale generator (benchmarks/synth.py) and the ingest benchmark (bench_ingest.py).

The generator's planted answer comes from its own bookkeeping; these tests check that the
toolkit reads every line it writes (except the lines it broke on purpose) and finds exactly
the exposure-enabled reads it planted.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from forensics.case import load_case
from forensics.cli import main as forensics_main
from forensics.ingest import ingest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SMALL = dict(events=20_000, tables=240, exposed=60, principals=100, tables_per_db=20)


def _module(name: str):
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synth():
    return _module("synth")


@pytest.fixture(scope="module")
def generated(synth, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated incident; returns its case file."""
    root = tmp_path_factory.mktemp("synth") / "case"
    synth.generate(synth.Params(**SMALL), root)
    return root / "case.yaml"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_same_seed_gives_byte_identical_files(synth, generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    synth.generate(synth.Params(**SMALL), again)
    first, second = _files(generated.parent), _files(again)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    other = tmp_path / "other"
    synth.generate(synth.Params(**{**SMALL, "seed": 2}), other)
    changed = _files(other)
    assert changed["logs/hdfs/hdfs-audit.log"] != first["logs/hdfs/hdfs-audit.log"]


def test_every_line_parses_except_the_planted_corrupt_ones(generated: Path) -> None:
    root = generated.parent
    summary = json.loads((root / "expected" / "summary.json").read_text())
    corrupt = {
        (r["source_file"], int(r["source_line"])) for r in _csv(root / "expected/corrupt_lines.csv")
    }
    assert len(corrupt) == summary["corrupt"] == 5

    result = ingest(load_case(generated))

    quarantined = set(
        zip(
            result.quarantine.column("source_file").to_pylist(),
            result.quarantine.column("source_line").to_pylist(),
            strict=True,
        )
    )
    assert quarantined == corrupt
    written = {f["path"]: f for f in summary["files"]}
    assert {c.source_file for c in result.files} == set(written)
    for counts in result.files:
        assert counts.lines == written[counts.source_file]["lines"]
        assert counts.parsed + counts.quarantined == counts.lines
    assert sum(c.lines for c in result.files) == SMALL["events"] + summary["duplicates"] + 5
    # One normalized event per record and per replayed line (Trino events here name one table).
    assert result.events.num_rows == SMALL["events"] + summary["duplicates"]


def test_investigate_finds_exactly_the_planted_exposure_enabled_reads(
    generated: Path, tmp_path: Path
) -> None:
    root = generated.parent
    planted = _csv(root / "expected" / "exposure_enabled_reads.csv")
    # The story is not trivial: every path to a read is planted, and many one-off readers.
    vias = {v for row in planted for v in row["via"].split(";")}
    assert {"direct", "path", "trino"} <= vias and any(v.startswith("view:") for v in vias)
    assert sum(1 for row in planted if row["read_events"] == "1") > len(planted) / 3
    assert any(int(row["read_events"]) > 1 for row in planted)

    out = tmp_path / "evidence"
    assert forensics_main(["investigate", str(generated), "--out", str(out)]) == 0

    found = _csv(out / "exposure_enabled_reads.csv")
    key = ("principal", "object", "first_read", "last_read", "read_events")
    assert [tuple(r[k] for k in key) for r in found] == [tuple(r[k] for k in key) for r in planted]
    # via, engines and sensitivity too (the generator plants no columns or partitions:
    # the columns those reads read are checked in tests/test_subjects.py)
    assert [{k: r[k] for k in planted[0]} for r in found] == planted
    manifest = json.loads((out / "manifest.json").read_text())
    duplicates = sum(i.get("duplicates", 0) for i in manifest["inputs"])
    summary = json.loads((root / "expected" / "summary.json").read_text())
    assert duplicates == summary["duplicates"]
    classes = {r["classification"] for r in _csv(out / "access_events.csv")}
    assert {"exposure_enabled", "baseline", "denied", "metadata", "on_behalf"} <= classes
    # The generated logs lose nothing but the planted corrupt lines: any coverage gap is a
    # file those lines cut short, never a quiet hour, a seq_num or a rotation.
    corrupt = {r["source_file"] for r in _csv(root / "expected" / "corrupt_lines.csv")}
    gaps = [r for r in _csv(out / "coverage.csv") if r["status"] == "gap"]
    assert all(g["reason"].split(" cut short:")[0] in corrupt for g in gaps), gaps


def test_generator_refuses_sizes_it_cannot_tell_a_story_with(synth, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--exposed"):
        synth.generate(synth.Params(**{**SMALL, "exposed": 240}), tmp_path / "x")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="not a synthetic incident"):
        synth.generate(synth.Params(**SMALL), tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_bench_ingest_quick_prints_its_table(tmp_path: Path, capsys) -> None:
    bench = _module("bench_ingest")
    out = tmp_path / "ingest.md"
    assert bench.main(["--quick", "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = [line for line in printed.splitlines() if line.startswith("| 100,000 |")]
    assert [row.split("|")[2].strip() for row in rows] == list(bench.FORMATS)
    for row in rows:
        cells = [c.strip() for c in row.split("|")[1:-1]]
        assert float(cells[5]) > 0 and float(cells[9]) > 0  # seconds, ours and duckdb
        assert cells[-1].endswith("x")
    assert out.read_text().count("| 100,000 |") == 4
    # The incident is cached: a second run reuses it instead of generating it again.
    cached = sorted((tmp_path / "cache").glob("incident-*"))
    assert len(cached) == 1 and (cached[0] / "expected" / "summary.json").is_file()
    # The toolkit measured is the committed one, extracted beside the incidents.
    assert [t.name.startswith("tree-") for t in (tmp_path / "cache").glob("tree-*")] == [True]
