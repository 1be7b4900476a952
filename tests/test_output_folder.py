"""The output folder under attack (issue 19): whatever --out is and whatever happens to the
run, the previous evidence stays intact, nothing with event data is left behind, and the
user gets one line saying what to do.

Held before: an existing file, the case folder itself, the previous evidence after a kill.
Fixed: a symbolic link (a dangling one was an internal error), an unwritable folder and a
full disk (internal errors), two runs at once (they could swap each other's folders away),
and what a killed run left (its partial folder beside the output, its spill folder in the
temporary folder), and --out inside the case folder (the next run's globs read the evidence
back as input) or holding it (replacing it would remove the inputs)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from forensics.cli import main
from forensics.evidence import staged_output
from tests.conftest import INCIDENT

CASE = str(INCIDENT / "case.yaml")


def _investigate(out: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["investigate", CASE, "--out", str(out)])
    return status, capsys.readouterr().err


def _one_line_error(err: str, *fragments: str) -> None:
    assert err.startswith("forensics: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_an_existing_file_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "notes.txt"
    out.write_text("mine")
    status, err = _investigate(out, capsys)
    assert status == 1
    _one_line_error(err, "exists and is not an evidence folder")
    assert out.read_text() == "mine" and _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("where", "says"),
    [
        (".", "is the case folder"),
        ("out", "is inside the case folder"),
        ("logs/out", "is inside the case folder"),
        ("..", "holds the case folder"),
    ],
)
def test_out_in_or_around_the_case_folder_is_refused(
    incident: Path, capsys, where: str, says: str, tmp_path: Path
) -> None:
    # inside, evidence would be read back as input by the next run's globs; around it,
    # replacing the folder would remove the inputs
    root = incident.parent
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    for command in ("investigate", "report"):
        capsys.readouterr()
        assert main([command, str(incident), "--out", str(root / where)]) == 1
        _one_line_error(capsys.readouterr().err, says, "write the evidence outside", "-evidence")
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert not (root / "out").exists()


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symbolic_link_is_refused(tmp_path: Path, capsys, dangling: bool) -> None:
    real = tmp_path / "real"
    if not dangling:
        assert main(["investigate", CASE, "--out", str(real)]) == 0
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    status, err = _investigate(link, capsys)
    assert status == 1
    _one_line_error(err, "is a symbolic link")
    assert link.is_symlink() and real.exists() != dangling
    assert _leftovers(tmp_path) == []


@contextmanager
def _tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A small tmpfs mounted at `where` (root only), unmounted afterwards."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()[:80]})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def test_an_unwritable_folder_gives_one_line(tmp_path: Path, capsys) -> None:
    if os.geteuid() == 0:
        with _tmpfs(tmp_path / "ro", "ro,size=1m") as parent:
            status, err = _investigate(parent / "ev", capsys)
    else:
        parent = tmp_path / "ro"
        parent.mkdir(mode=0o500)
        status, err = _investigate(parent / "ev", capsys)
    assert status == 1
    _one_line_error(err, "the evidence cannot be written there", "choose another --out")


def test_a_full_disk_leaves_the_previous_evidence_intact(tmp_path: Path, capsys) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (a disk that fills up) needs root")
    with _tmpfs(tmp_path / "small", "size=512k,mode=0700") as disk:
        out = disk / "ev"
        status, err = _investigate(out, capsys)
        assert status == 0, err
        filler = disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, bytes(4096)):
                pass
        except OSError:
            pass  # the disk is full
        finally:
            os.close(fd)
        status, err = _investigate(out, capsys)
        assert status == 1
        _one_line_error(err, "the evidence cannot be written there", "No space left")
        filler.unlink()
        assert main(["verify", str(out)]) == 0
        assert _leftovers(disk) == []


def test_a_second_run_into_the_same_folder_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "ev"
    assert main(["investigate", CASE, "--out", str(out)]) == 0
    with staged_output(out) as stage:  # a run in progress, holding the folder
        (stage / "marker").write_text("first run")
        status, err = _investigate(out, capsys)
        assert status == 1
        _one_line_error(err, "another forensics run is writing this folder")
    assert (out / "marker").read_text() == "first run"
    assert _leftovers(tmp_path) == []


def test_two_concurrent_runs_leave_one_whole_folder(tmp_path: Path) -> None:
    out = tmp_path / "ev"
    cmd = [sys.executable, "-m", "forensics.cli", "investigate", CASE, "--out", str(out)]
    runs = [subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(), run.stderr.read()) for run in runs]
    assert any(status == 0 for status, _ in results), results
    for status, err in results:
        assert status == 0 or "another forensics run" in err, err
    assert main(["verify", str(out)]) == 0
    assert _leftovers(tmp_path) == []


def test_kill_9_mid_write_keeps_the_previous_evidence(tmp_path: Path) -> None:
    """Killed while its partial folder exists; the next run removes what it left, beside
    the output and in the temporary folder."""
    out = tmp_path / "ev"
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    cmd = [sys.executable, "-m", "forensics.cli", "investigate", CASE, "--out", str(out)]
    cmd.append("--no-cache")  # every run the engine's (a cached evidence has no spill folder)
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    killed_mid_write = False
    for _ in range(8):
        run = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
        while run.poll() is None:
            if list(tmp_path.glob(".ev.partial-*")):
                os.kill(run.pid, signal.SIGKILL)
                killed_mid_write = True
                break
            time.sleep(0.0005)
        run.wait()
        if killed_mid_write:
            break
    assert killed_mid_write, "the run never was caught writing"
    intact = {p.name: p.read_bytes() for p in out.iterdir()}
    assert intact == before
    assert main(["verify", str(out)]) == 0
    assert list(tmp_path.glob(".ev.partial-*"))  # what the kill left, with event data
    assert list(temp.glob(f"forensics-spill-{run.pid}-*"))
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    assert _leftovers(tmp_path) == []
    assert not list(temp.glob(f"forensics-spill-{run.pid}-*"))


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_files_are_private_under_any_umask(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "deep" / "ev"
    code = (
        "import os, sys; os.umask(int(sys.argv[1])); from forensics.cli import main; "
        "sys.exit(main(['investigate', sys.argv[2], '--out', sys.argv[3]]))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(umask), CASE, str(out)])
    assert done.returncode == 0
    for path in [out.parent, out, *out.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
