"""The Makefile: `make demo` installs only the runtime; `make lab` works as root."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT


def _plan(target: str) -> str:
    """The commands `make` would run for `target` on a fresh machine (nothing run)."""
    if shutil.which("make") is None:
        pytest.fail("make is not installed")
    return subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_demo_installs_the_runtime_without_the_dev_extras() -> None:
    plan = _plan("demo")
    assert "pip install --quiet -e ." in plan
    assert "[dev]" not in plan and "apt-get" not in plan
    assert "forensics report" in plan


def test_test_target_installs_the_dev_extras() -> None:
    assert "pip install --quiet -e '.[dev]'" in _plan("test")


@pytest.mark.parametrize(("uid", "flag"), [("0", "--allow-root"), ("1000", "")])
def test_lab_allows_root_only_as_root(uid: str, flag: str) -> None:
    line = next(li for li in _plan("lab").splitlines() if "jupyter lab" in li)
    expression = line.split("notebooks/", 1)[1]
    shown = subprocess.run(
        ["sh", "-c", f"id() {{ echo {uid}; }}; echo {expression}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown == flag
