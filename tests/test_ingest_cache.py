"""The ingest cache: a rerun loads unchanged log files' events instead of reading them, and
the evidence is byte-identical with and without it, cold or warm; a damaged, foreign or
half-written entry is never trusted."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from forensics.case import LogSource
from forensics.cli import main
from forensics.evidence import COVERAGE, EVIDENCE_FILES, MANIFEST
from forensics.ingest import cache as cache_module
from forensics.ingest.cache import ENTRY, EVENTS, QUARANTINE, TAG, IngestCache
from tests.conftest import INCIDENT

LOGS = sorted(
    p.relative_to(INCIDENT).as_posix() for p in (INCIDENT / "logs").rglob("*") if p.is_file()
)
ADDED = "logs/ranger/hive_ranger_audit.20260618-09.log"
CSVS = [f"{name}.csv" for name in (*EVIDENCE_FILES, COVERAGE, "subjects_concerned")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled incident's evidence without a cache."""
    out = tmp_path_factory.mktemp("ref") / "evidence"
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(out), "--no-cache"]) == 0
    return out


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A cache filled by one run on the bundled incident (under umask 022), and what that
    run's manifest says of it; tests copy it (`_cache_copy`)."""
    root = tmp_path_factory.mktemp("cold")
    old = os.umask(0o022)
    try:
        case = str(INCIDENT / "case.yaml")
        assert (
            main(["investigate", case, "--out", str(root / "ev"), "--cache", str(root / "c")]) == 0
        )
    finally:
        os.umask(old)
    return root / "c", json.loads((root / "ev" / MANIFEST).read_text())["run"]["cache"]


def _cache_copy(cold: tuple[Path, dict], tmp_path: Path, stages: bool = False) -> Path:
    """A copy of the cold cache; without its stage entries (the scope, the evidence) unless
    `stages`, so that a rerun exercises the per-file entries."""
    target = tmp_path / "cache"
    shutil.copytree(cold[0], target, symlinks=True)
    if not stages:
        _drop_stages(target)
    return target


def _drop_stages(cache: Path) -> None:
    """The stage entries removed, as after a run with other parameters."""
    for entry in cache.glob("*-*"):
        if entry.name.startswith(("scope-", "evidence-")):
            shutil.rmtree(entry)


def _run(case: Path, out: Path, cache: Path, capsys, *extra: str) -> dict:
    """One run with `cache`; its manifest's cache section, and stderr under 'stderr'."""
    capsys.readouterr()
    assert main(["investigate", str(case), "--out", str(out), "--cache", str(cache), *extra]) == 0
    run = json.loads((out / MANIFEST).read_text())["run"]["cache"]
    return {**run, "stderr": capsys.readouterr().err}


def _same_evidence(a: Path, b: Path) -> None:
    """The same evidence bytes, and the same manifest but for its `run` section."""
    assert sorted(p.name for p in a.glob("*.csv")) == sorted(p.name for p in b.glob("*.csv"))
    for path in a.glob("*.csv"):
        assert path.read_bytes() == (b / path.name).read_bytes(), path.name
    first, second = (json.loads((f / MANIFEST).read_text()) for f in (a, b))
    first.pop("run"), second.pop("run")
    assert first == second


def _entries(cache: Path) -> dict[str, Path]:
    """Trusted-looking entries by the log file they hold."""
    found = {}
    for entry in cache.iterdir():
        if entry.is_dir() and len(entry.name) == 64:
            found[json.loads((entry / ENTRY).read_text())["material"]["source_file"]] = entry
    return found


def test_cold_and_warm_cache_give_the_bytes_of_no_cache(
    reference: Path, cold: tuple[Path, dict], tmp_path: Path, capsys
) -> None:
    assert cold[1]["stored"] == LOGS and cold[1]["from_cache"] == [] and cold[1]["warnings"] == []
    _same_evidence(reference, cold[0].parent / "ev")  # the inputs' counts included
    warm = _run(INCIDENT / "case.yaml", tmp_path / "warm", _cache_copy(cold, tmp_path), capsys)
    assert warm["from_cache"] == LOGS and warm["stored"] == [] and warm["stderr"] == ""
    assert set(CSVS) <= {p.name for p in reference.glob("*.csv")}
    _same_evidence(reference, tmp_path / "warm")


def test_a_new_file_is_the_only_one_read(
    reference: Path, cold: tuple[Path, dict], tmp_path: Path, capsys
) -> None:
    cache = _cache_copy(cold, tmp_path)
    shutil.rmtree(_entries(cache)[ADDED])  # as after a run before that file was written
    second = _run(INCIDENT / "case.yaml", tmp_path / "second", cache, capsys)
    assert second["stored"] == [ADDED]
    assert second["from_cache"] == [rel for rel in LOGS if rel != ADDED]
    _same_evidence(reference, tmp_path / "second")


def test_a_changed_zone_reads_every_file_again(
    incident: Path, cold: tuple[Path, dict], tmp_path: Path, capsys
) -> None:
    raw = yaml.safe_load(incident.read_text())
    raw["timezone"] = "Europe/Berlin"
    incident.write_text(yaml.safe_dump(raw))
    moved = _run(incident, tmp_path / "moved", _cache_copy(cold, tmp_path), capsys)
    assert moved["from_cache"] == [] and moved["stored"] == LOGS


def _key(rel="logs/a.log", sha="0" * 64, size=10, source=None, zone="UTC") -> str:
    source = source or LogSource("ranger-audit", "logs/*.log", ())
    material = cache_module.entry_material(rel, sha, size, source, ZoneInfo(zone))
    return json.dumps(material, sort_keys=True)


@pytest.mark.parametrize(
    "changed",
    [
        {"rel": "logs/b.log"},
        {"sha": "1" * 64},
        {"size": 11},
        {"zone": "Europe/Berlin"},
        {"source": LogSource("hdfs-audit", "logs/*.log", ())},
        {"source": LogSource("generic", "logs/*.log", (), (("time", "ts"),), None)},
        {"source": LogSource("generic", "logs/*.log", (), (("time", "t2"),), "epoch_ms")},
    ],
)
def test_what_decides_a_parse_is_in_the_key(changed: dict) -> None:
    base = {"source": LogSource("generic", "logs/*.log", (), (("time", "ts"),), "epoch_ms")}
    if "source" not in changed:
        assert _key(**changed) != _key()
    else:
        assert _key(**changed) != _key(**base)
    assert _key() == _key()  # and nothing else (no clock, no process) is


def test_the_key_follows_the_code_and_the_zone_rules() -> None:
    material = json.loads(_key(zone="America/Los_Angeles"))
    assert material["tool"] and material["dependencies"]["duckdb"]
    assert len(material["code"]) == 64 and len(material["zone_rules"]) == 64
    assert material["zone_rules"] != json.loads(_key(zone="Europe/Berlin"))["zone_rules"]


def _damage_events(entry: Path) -> None:
    data = (entry / EVENTS).read_bytes()
    (entry / EVENTS).write_bytes(data[: len(data) // 2])


def _garbage_description(entry: Path) -> None:
    (entry / ENTRY).write_text("{not json")


def _counts_off(entry: Path) -> None:
    meta = json.loads((entry / ENTRY).read_text())
    meta["counts"]["parsed"] += 1
    (entry / ENTRY).write_text(json.dumps(meta))


def _other_columns(entry: Path) -> None:
    """A quarantine file with the right digest but other columns: the events were already
    inserted when it fails, and must be taken back."""
    import duckdb

    duckdb.sql("SELECT 1 AS x").write_parquet(str(entry / QUARANTINE))
    meta = json.loads((entry / ENTRY).read_text())
    meta["files"][QUARANTINE]["sha256"] = cache_module.file_sha256(entry / QUARANTINE)
    meta["files"][QUARANTINE]["rows"] = meta["counts"]["quarantined"]
    (entry / ENTRY).write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_damage_events, "events.parquet differs"),
        (_garbage_description, "no readable entry.json"),
        (_counts_off, "do not reconcile"),
        (_other_columns, "other columns"),
        ("foreign", "another file"),
    ],
)
def test_a_damaged_or_foreign_entry_is_ignored_with_a_warning(
    reference: Path, cold: tuple[Path, dict], tmp_path: Path, capsys, damage, reason: str
) -> None:
    case, cache = INCIDENT / "case.yaml", _cache_copy(cold, tmp_path)
    entries = _entries(cache)
    victim = "logs/metastore/hivemetastore-audit.log"
    if damage == "foreign":  # another file's entry under this file's key
        shutil.rmtree(entries[victim])
        shutil.copytree(entries["logs/trino/query-completed.json"], entries[victim])
    else:
        damage(entries[victim])
    warm = _run(case, tmp_path / "warm", cache, capsys)
    assert warm["stored"] == [victim] and victim not in warm["from_cache"]
    assert len(warm["warnings"]) == 1 and reason in warm["warnings"][0]
    assert warm["stderr"].startswith("forensics: warning: cache entry")
    assert "Traceback" not in warm["stderr"] and warm["stderr"].count("\n") == 1
    _same_evidence(reference, tmp_path / "warm")
    assert _entries(cache)[victim].is_dir()  # written anew


_KILLED_RUN = """
import os, signal, sys
from forensics.ingest import cache
from forensics.investigation import Settings, investigate

def die(path):
    os.kill(os.getpid(), signal.SIGKILL)  # as `kill -9` would, in the middle of a write

cache.fsync_file = die
investigate(Settings.build(sys.argv[1], sys.argv[2], cache=sys.argv[3]))
"""


def test_a_killed_write_leaves_no_entry_a_later_run_trusts(
    reference: Path, tmp_path: Path, capsys
) -> None:
    cache = tmp_path / "cache"
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILLED_RUN,
            str(INCIDENT / "case.yaml"),
            str(tmp_path / "x"),
            cache,
        ],
        capture_output=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert child.returncode == -signal.SIGKILL
    left = [p.name for p in cache.iterdir() if p.name != TAG]
    assert left and all(name.startswith(".partial-") for name in left)
    run = _run(INCIDENT / "case.yaml", tmp_path / "after", cache, capsys)
    assert run["from_cache"] == [] and run["stored"] == LOGS
    assert not any(p.name.startswith(".partial-") for p in cache.iterdir())  # cleaned up
    _same_evidence(reference, tmp_path / "after")


def test_the_cache_is_private_and_tagged(cold: tuple[Path, dict]) -> None:
    cache = cold[0]
    assert (cache / TAG).read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    for path in [cache, *cache.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_the_default_cache_is_beside_the_evidence_and_no_cache_writes_none(
    reference: Path, tmp_path: Path, capsys
) -> None:
    case = str(INCIDENT / "case.yaml")
    assert main(["investigate", case, "--out", str(tmp_path / "ev")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ev", "ev.cache"]
    assert len(_entries(tmp_path / "ev.cache")) == len(LOGS)
    assert [p.name for p in reference.parent.iterdir()] == ["evidence"]  # --no-cache
    capsys.readouterr()
    assert (
        main(
            ["investigate", case, "--out", str(tmp_path / "x"), "--no-cache"]
            + ["--cache", str(tmp_path / "c")]
        )
        == 2
    )
    assert "not both" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["foreign folder", "symbolic link"])
def test_a_folder_that_is_not_a_cache_is_refused(tmp_path: Path, capsys, kind: str) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    given = mine
    if kind == "symbolic link":
        given = tmp_path / "link"
        given.symlink_to(tmp_path / "elsewhere")
    capsys.readouterr()
    status = main(
        ["investigate", str(INCIDENT / "case.yaml"), "--out", str(tmp_path / "ev")]
        + ["--cache", str(given)]
    )
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("forensics: error: ") and err.count("\n") == 1
    assert ("symbolic link" if kind == "symbolic link" else "not a forensics cache") in err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert not (tmp_path / "ev").exists() and not (tmp_path / "elsewhere").exists()


def test_a_cache_that_cannot_be_written_is_a_warning(
    reference: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cache_module, "_write_entry", full)
    run = _run(INCIDENT / "case.yaml", tmp_path / "ev", tmp_path / "cache", capsys)
    assert run["stored"] == [] and len(run["warnings"]) == len(LOGS)
    assert "No space left on device" in run["warnings"][0]
    assert _entries(tmp_path / "cache") == {}
    _same_evidence(reference, tmp_path / "ev")


def test_verify_still_rehashes_the_inputs_after_a_cached_run(
    incident: Path, cold: tuple[Path, dict], tmp_path: Path, capsys
) -> None:
    cache, out = _cache_copy(cold, tmp_path), tmp_path / "ev"
    assert _run(incident, out, cache, capsys)["from_cache"] == LOGS
    capsys.readouterr()
    assert main(["verify", str(out), "--case", str(incident)]) == 0
    with open(incident.parent / ADDED, "a") as f:
        f.write("\n")
    assert main(["verify", str(out), "--case", str(incident)]) == 1
    assert f"input {ADDED}: sha256 differs" in capsys.readouterr().out


def test_an_entry_is_not_kept_for_a_file_changed_while_read(tmp_path: Path) -> None:
    from forensics import engine
    from forensics.ingest.cache import Counts
    from forensics.schema import events_table, quarantine_table

    log = tmp_path / "a.log"
    log.write_text("x\n")
    cache = IngestCache.open(tmp_path / "cache")
    con = engine.connect()
    engine.load_arrow(con, "raw_events", events_table([]))
    engine.load_arrow(con, "quarantine", quarantine_table([]))
    slot = cache.slot("a.log", log, LogSource("ranger-audit", "*.log", (log,)), ZoneInfo("UTC"))
    cache.begin(con, slot)
    log.write_text("x\ny\n")
    cache.store(con, slot, Counts(1, 0, 1))
    assert cache.stored == [] and "changed while it was read" in cache.warnings[0]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [TAG]


def test_a_cache_folder_that_cannot_be_made_is_a_warning(
    reference: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    def read_only(folder: Path) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(cache_module, "_private_folders", read_only)
    run = _run(INCIDENT / "case.yaml", tmp_path / "ev", tmp_path / "cache", capsys)
    assert run["stored"] == run["from_cache"] == [] and len(run["warnings"]) == 1
    assert "Read-only file system" in run["warnings"][0] and run["stderr"].count("\n") == 1
    _same_evidence(reference, tmp_path / "ev")


def test_an_entry_a_grown_file_superseded_is_removed(
    incident: Path, cold: tuple[Path, dict], tmp_path: Path, capsys
) -> None:
    cache = _cache_copy(cold, tmp_path)
    before = _entries(cache)
    grown = "logs/metastore/hivemetastore-audit.log"
    with open(incident.parent / grown, "ab") as f:
        f.write(b"\n")  # a blank line: quarantined, the events the same
    run = _run(incident, tmp_path / "ev", cache, capsys)
    assert run["stored"] == [grown] and run["warnings"] == []
    after = _entries(cache)
    assert sorted(after) == LOGS and after[grown] != before[grown]
    assert not before[grown].exists()
    assert {rel: after[rel] for rel in LOGS if rel != grown} == {
        rel: before[rel] for rel in LOGS if rel != grown
    }


def test_generic_parquet_and_csv_logs_from_the_cache(tmp_path: Path, capsys) -> None:
    """Logs read through `generic`: the CSV (line reader) comes back from the cache, the
    Parquet is scanned in place every run and never cached (an entry would hold only the
    rows the row parser read: the others would be lost); the evidence is the same."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    case_dir = tmp_path / "case"
    shutil.copytree(INCIDENT, case_dir)
    (case_dir / "logs" / "other").mkdir()
    pq.write_table(
        pa.table(
            {
                "ts": pa.array([1781779500000, 1781780100000, None], pa.int64()),
                "who": ["pat", "Quinn", "pat"],
                "obj": ["mci.keystrokes", "MCI.Keystrokes", "mci.keystrokes"],
                "sql": ["SELECT * FROM mci.keystrokes WHERE k = 'secret'", None, None],
            }
        ),
        case_dir / "logs" / "other" / "access.parquet",
    )
    (case_dir / "logs" / "other" / "access.csv").write_text(
        "ts,who,obj\n2026-06-18T10:45:00Z,rita,mci.keystrokes\nbroken\n"
    )
    raw = yaml.safe_load((case_dir / "case.yaml").read_text())
    mapping = {"time": "ts", "principal": "who", "object": "obj"}
    raw["logs"] += [
        {"format": "generic", "path": "logs/other/*.parquet", "time_format": "epoch_ms",
         "mapping": {**mapping, "query_text": "sql"}},
        {"format": "generic", "path": "logs/other/*.csv", "mapping": mapping},
    ]  # fmt: skip
    case = case_dir / "case.yaml"
    case.write_text(yaml.safe_dump(raw))
    assert main(["investigate", str(case), "--out", str(tmp_path / "plain"), "--no-cache"]) == 0
    cold = _run(case, tmp_path / "cold", tmp_path / "cache", capsys)
    _drop_stages(tmp_path / "cache")
    warm = _run(case, tmp_path / "warm", tmp_path / "cache", capsys)
    # the CSV is parsed, so cached; the Parquet is scanned where it lies (no copy to keep)
    assert (
        "logs/other/access.csv" in cold["stored"] and "logs/other/access.csv" in warm["from_cache"]
    )
    parquet = "logs/other/access.parquet"
    assert parquet not in cold["stored"] + warm["stored"] + warm["from_cache"]
    assert warm["stored"] == []
    for out in ("cold", "warm"):
        _same_evidence(tmp_path / "plain", tmp_path / out)
    with open(tmp_path / "warm" / "access_events.csv", encoding="utf-8") as f:
        text = f.read()
    assert "logs/other/access.parquet" in text and "logs/other/access.csv" in text


def test_the_ranger_agent_fields_come_back_with_the_events(
    cold: tuple[Path, dict], tmp_path: Path
) -> None:
    """What ingest keeps for the coverage ledger (`ranger_agents`) comes from the cache too,
    so the ledger need not read a cached Ranger file again."""
    from forensics import engine
    from forensics.case import load_case
    from forensics.ingest import ingest_into

    case = load_case(INCIDENT / "case.yaml")
    tables = []
    for cache in (None, IngestCache.open(_cache_copy(cold, tmp_path))):
        con = engine.connect()
        ingest_into(con, case, cache)
        tables.append(con.sql("SELECT * FROM ranger_agents ORDER BY ALL").fetchall())
        con.close()
    assert cache is not None and len(cache.reused) == len(LOGS)
    assert tables[0] and tables[0] == tables[1]


@pytest.mark.parametrize("table", sorted({table for table, _ in cache_module.TABLES.values()}))
def test_an_entry_keeps_the_rows_in_the_order_they_were_added(table: str, tmp_path: Path) -> None:
    """The entry queries select a file's rows without sorting them: the engine's scan keeps
    the table's order (insertion order preserved), here across row groups scanned by
    several threads, and the rows written are exactly those from the mark on."""
    from forensics import engine, queries

    con = engine.connect(threads=4)
    con.sql(f"CREATE TABLE {table} AS SELECT range AS n FROM range(100000)")
    since = 100_000
    con.sql(f"INSERT INTO {table} SELECT 1000000 - range FROM range(300000)")  # descending
    con.sql(f"INSERT INTO {table} SELECT range FROM range(200000)")  # then ascending again
    query = dict(cache_module.TABLES.values())[table]
    queries.relation(con, query, since=since).write_parquet(str(tmp_path / "rows.parquet"))
    written = [n for (n,) in con.read_parquet(str(tmp_path / "rows.parquet")).fetchall()]
    con.close()
    assert written == [1_000_000 - i for i in range(300_000)] + list(range(200_000))


def test_each_input_is_hashed_once_per_run(
    reference: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest takes each input's sha256 from the cache keys' hashing of the same run
    (no input read again to hash it), and its digests are the files' own."""
    from forensics import evidence

    hashed: list[Path] = []
    for module, name in ((cache_module, "file_sha256"), (evidence, "sha256_file")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda p, real=real: hashed.append(Path(p)) or real(p))
    _run(INCIDENT / "case.yaml", tmp_path / "ev", tmp_path / "cache", capsys)
    manifest = json.loads((tmp_path / "ev" / MANIFEST).read_text())
    inputs = [INCIDENT / i["path"] for i in manifest["inputs"]]
    assert inputs and all(hashed.count(p) == 1 for p in inputs), inputs
    monkeypatch.undo()
    for item in manifest["inputs"]:
        assert item["sha256"] == evidence.sha256_file(INCIDENT / item["path"]), item["path"]
    _same_evidence(reference, tmp_path / "ev")


def test_a_digest_is_known_only_while_the_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text("one\n")
    cache = IngestCache.open(tmp_path / "cache")
    digest = cache.digest(path)
    assert cache.known_digest(path) == digest
    assert cache.known_digest(tmp_path / "other.log") is None
    path.write_text("two\n")
    os.utime(path, ns=(1, 1))
    assert cache.known_digest(path) is None
    assert cache.digest(path) == cache_module.file_sha256(path) != digest  # hashed again
    assert cache.known_digest(path) == cache.digest(path)


def test_a_failed_run_leaves_a_cache_folder_another_run_holds(tmp_path: Path) -> None:
    """Two runs sharing a new cache folder (two investigations into one --out): the one
    that fails (refused by the other's lock on the evidence folder) removes the folder it
    made only when no other run holds it; it removed it from under the other run, whose
    next cache write then failed with an internal error (FileNotFoundError)."""
    shared = tmp_path / "shared.cache"
    failed = IngestCache.open(shared)
    other = IngestCache.open(shared)
    assert failed.created and other.usable
    failed.abandon()
    assert (shared / TAG).is_file()  # kept: the other run holds it
    other.close()
    alone = IngestCache.open(tmp_path / "alone.cache")
    alone.abandon()
    assert not (tmp_path / "alone.cache").exists()  # made by the failed run alone, empty
