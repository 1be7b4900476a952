"""Shared test fixtures: the bundled incident, the shared reference material, the CLI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# Property-based tests draw the same examples on every run unless asked otherwise, so a CI
# run is reproducible; HYPOTHESIS_PROFILE=explore draws new ones (and remembers failures).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
INCIDENT = ROOT / "fixtures" / "incident-small"


@pytest.fixture()
def incident(tmp_path: Path) -> Path:
    """A private copy of the bundled incident; returns its case file."""
    target = tmp_path / "incident"
    shutil.copytree(INCIDENT, target)
    return target / "case.yaml"


@pytest.fixture(scope="session")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled incident's evidence folder with its full report (two pages per kind)."""
    from forensics.cli import main

    out = tmp_path_factory.mktemp("report") / "evidence"
    assert main(["report", str(INCIDENT / "case.yaml"), "--out", str(out), "--top", "2"]) == 0
    return out
