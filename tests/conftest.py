"""Shared test fixtures: the bundled incident, the shared reference material, the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
INCIDENT = ROOT / "fixtures" / "incident-small"


@pytest.fixture()
def incident(tmp_path: Path) -> Path:
    """A private copy of the bundled incident; returns its case file."""
    target = tmp_path / "incident"
    shutil.copytree(INCIDENT, target)
    return target / "case.yaml"
