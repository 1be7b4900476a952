"""The scale generator writes Ranger's own `id`/`seq_num` scheme, and the coverage ledger
finds the hour of audit it planted as lost (`--lost-hour`) and no other gap."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest

from forensics.cli import main as forensics_main
from tests.test_synth import SMALL, _module

LOST_HOUR = 36  # inside the exposure window of the small incident (hours 34-38)


@pytest.fixture(scope="module")
def lossy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated incident whose hs2-02 audit of one hour was lost, investigated."""
    synth = _module("synth")
    root = tmp_path_factory.mktemp("lossy") / "case"
    synth.generate(synth.Params(**SMALL, lost_hour=LOST_HOUR), root)
    out = root.parent / "evidence"
    assert forensics_main(["investigate", str(root / "case.yaml"), "--out", str(out)]) == 0
    return root


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _records(root: Path) -> list[dict]:
    found = []
    for path in sorted((root / "logs" / "ranger").iterdir()):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # the planted corrupt lines
    return found


def test_ids_and_seq_nums_are_rangers(lossy: Path) -> None:
    """One handler per access check (RangerHiveAuthorizer creates one per call): a UUID of
    its own, counter 0, seq_num 1 (populateDefaults runs at creation and at logging)."""
    records = [r for r in _records(lossy) if "id" in r]
    assert len(records) > 10_000
    handlers = set()
    for record in records:
        handler, _, counter = record["id"].rpartition("-")
        assert (counter, record["seq_num"]) == ("0", 1)
        assert len(handler) == 36 and handler[14] == "4"  # a version-4 UUID
        handlers.add(handler)
    replayed = json.loads((lossy / "expected" / "summary.json").read_text())["duplicates"]
    assert len(handlers) == len(records) - replayed  # replays repeat an id, nothing else does


def test_the_lost_hour_is_the_only_gap_besides_the_cut_file(lossy: Path) -> None:
    summary = json.loads((lossy / "expected" / "summary.json").read_text())
    lost = summary["lost"]
    gaps = [r for r in _csv(lossy.parent / "evidence" / "coverage.csv") if r["status"] == "gap"]
    corrupt = {r["source_file"] for r in _csv(lossy / "expected" / "corrupt_lines.csv")}
    cut = [g for g in gaps if g["reason"].split(" cut short:")[0] in corrupt]
    (found,) = [g for g in gaps if g not in cut]
    assert found["source"] == lost["source"]

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    # from the last event before the hour to the first after it: the hour, within minutes
    assert 0 <= (at(lost["start"]) - at(found["start"])).total_seconds() < 600
    assert 0 <= (at(found["end"]) - at(lost["end"])).total_seconds() < 600
    assert found["windows_overlapped"]  # inside the exposure window


def test_the_answer_leaves_out_what_was_lost(lossy: Path) -> None:
    planted = _csv(lossy / "expected" / "exposure_enabled_reads.csv")
    found = _csv(lossy.parent / "evidence" / "exposure_enabled_reads.csv")
    key = ("principal", "object", "first_read", "last_read", "read_events")
    assert [tuple(r[k] for k in key) for r in found] == [tuple(r[k] for k in key) for r in planted]
