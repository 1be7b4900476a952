"""The stage cache: a rerun reuses the scope and, with nothing changed, the whole evidence;
the evidence is byte-identical with no cache, cold, warm and after any one input changed;
a stale, damaged or foreign entry is never used; a failed run leaves no empty cache."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import yaml

from forensics import stage_cache
from forensics.case import load_case
from forensics.cli import main
from forensics.errors import InputError
from forensics.evidence import MANIFEST
from forensics.ingest import cache as cache_module
from forensics.ingest.cache import ENTRY, TAG, IngestCache
from forensics.stage_cache import SCOPE_FILE, StageCache
from tests.conftest import INCIDENT

LOGS = sorted(
    p.relative_to(INCIDENT).as_posix() for p in (INCIDENT / "logs").rglob("*") if p.is_file()
)
METASTORE = "logs/metastore/hivemetastore-audit.log"


def _run(case: Path, out: Path, cache: Path | None, capsys, *extra: str) -> dict:
    """One run (with `cache`, or none); its manifest's cache section and stderr."""
    capsys.readouterr()
    flags = ["--cache", str(cache)] if cache is not None else ["--no-cache"]
    assert main(["investigate", str(case), "--out", str(out), *flags, *extra]) == 0
    run = json.loads((out / MANIFEST).read_text())["run"].get("cache", {})
    return {**run, "stderr": capsys.readouterr().err}


def _evidence(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}


def _same_evidence(a: Path, b: Path) -> None:
    """The same evidence bytes, and the same manifest but for its `run` section."""
    assert _evidence(a) == _evidence(b)
    first, second = (json.loads((f / MANIFEST).read_text()) for f in (a, b))
    first.pop("run"), second.pop("run")
    assert first == second


def _stage_entries(cache: Path, kind: str) -> list[Path]:
    return sorted(cache.glob(f"{kind}-*"))


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The bundled incident's evidence without a cache, and a cache filled by one run."""
    root = tmp_path_factory.mktemp("stages")
    case = str(INCIDENT / "case.yaml")
    assert main(["investigate", case, "--out", str(root / "ref"), "--no-cache"]) == 0
    assert main(["investigate", case, "--out", str(root / "ev"), "--cache", str(root / "c")]) == 0
    return root / "ref", root / "c"


def _copy(cache: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cache"
    shutil.copytree(cache, target, symlinks=True)
    return target


def test_a_warm_rerun_copies_the_evidence_byte_for_byte(
    cold: tuple[Path, Path], tmp_path: Path, capsys
) -> None:
    reference, filled = cold
    manifest = json.loads((filled.parent / "ev" / MANIFEST).read_text())["run"]["cache"]
    assert manifest["stages_stored"] == ["reads", "scope"] and manifest["stages_from_cache"] == []
    _same_evidence(reference, filled.parent / "ev")
    assert len(_stage_entries(filled, "evidence")) == len(_stage_entries(filled, "scope")) == 1
    warm = _run(INCIDENT / "case.yaml", tmp_path / "warm", _copy(filled, tmp_path), capsys)
    assert warm["stages_from_cache"] == ["evidence"] and warm["from_cache"] == []
    assert warm["stored"] == warm["stages_stored"] == [] and warm["stderr"] == ""
    _same_evidence(reference, tmp_path / "warm")
    assert main(["verify", str(tmp_path / "warm"), "--case", str(INCIDENT / "case.yaml")]) == 0


def _log(case: Path) -> None:
    with open(case.parent / METASTORE, "ab") as f:
        f.write(b"not an audit line\n")  # quarantined: the evidence changes


def _catalog(case: Path) -> None:
    path = case.parent / "catalog" / "sensitivity.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if "screen_snapshots" not in line))


def _policy(case: Path) -> None:
    path = case.parent / "policies" / "change-2.json"
    export = json.loads(path.read_text())
    export["policies"][0]["policyItems"][0]["users"] = ["quinn"]
    path.write_text(json.dumps(export))


def _parameters(case: Path) -> None:
    raw = yaml.safe_load(case.read_text())
    raw["policies"][2]["at"] = "2026-06-18T14:00:00Z"  # the last change an hour later
    case.write_text(yaml.safe_dump(raw))


@pytest.mark.parametrize(
    ("change", "stages", "read"),
    [
        (_log, ["reads", "scope"], [METASTORE]),  # nobody new named, no permission changed
        (_catalog, ["reads"], []),  # the sensitivity list: no column or view changed
        (_policy, ["reads"], []),
        (_parameters, ["reads"], []),
    ],
)
def test_one_changed_input_redoes_what_reads_it(
    cold: tuple[Path, Path], incident: Path, tmp_path: Path, capsys, change, stages, read
) -> None:
    reference, filled = cold
    change(incident)
    cache = _copy(filled, tmp_path)
    rerun = _run(incident, tmp_path / "rerun", cache, capsys)
    assert rerun["stages_from_cache"] == stages and rerun["warnings"] == []
    assert rerun["stored"] == read
    assert rerun["from_cache"] == [rel for rel in LOGS if rel not in read]
    _run(incident, tmp_path / "plain", None, capsys)
    _same_evidence(tmp_path / "plain", tmp_path / "rerun")
    assert _evidence(tmp_path / "rerun") != _evidence(reference)  # the change mattered
    # one entry per case file (the filled cache's, this copy's); the next run uses it
    assert len(_stage_entries(cache, "evidence")) == 2
    again = _run(incident, tmp_path / "again", cache, capsys)
    assert again["stages_from_cache"] == ["evidence"]
    _same_evidence(tmp_path / "plain", tmp_path / "again")


def test_the_toolkits_code_digest_is_in_every_key(
    cold: tuple[Path, Path], tmp_path: Path, capsys, monkeypatch
) -> None:
    reference, filled = cold
    edited = lambda: "e" * 64  # noqa: E731  (as after an edit of a parser or a query)
    monkeypatch.setattr(cache_module, "code_digest", edited)
    monkeypatch.setattr(stage_cache, "code_digest", edited)
    rerun = _run(INCIDENT / "case.yaml", tmp_path / "rerun", _copy(filled, tmp_path), capsys)
    assert rerun["stages_from_cache"] == rerun["from_cache"] == []
    assert rerun["stored"] == LOGS and rerun["stages_stored"] == ["reads", "scope"]
    _same_evidence(reference, tmp_path / "rerun")


@pytest.mark.parametrize(
    "flags", [["--keep-literals"], ["--allow-quarantine"], ["--pseudonymize", "KEY"]]
)
def test_an_option_that_changes_the_evidence_is_in_its_key(
    cold: tuple[Path, Path], tmp_path: Path, capsys, flags: list[str]
) -> None:
    reference, filled = cold
    if "KEY" in flags:
        key = tmp_path / "pseudonym.key"
        key.write_bytes(b"k" * 32)
        key.chmod(0o600)
        flags = [*flags[:-1], str(key)]
    rerun = _run(INCIDENT / "case.yaml", tmp_path / "r", _copy(filled, tmp_path), capsys, *flags)
    assert rerun["stages_from_cache"] == ["reads", "scope"] and rerun["from_cache"] == LOGS
    _run(INCIDENT / "case.yaml", tmp_path / "plain", None, capsys, *flags)
    _same_evidence(tmp_path / "plain", tmp_path / "r")


def test_every_file_the_case_names_is_in_the_keys(tmp_path: Path) -> None:
    """Any file in the case (tags exports, annotations, a field added later) is hashed into
    both keys; the logs are in the evidence's key, not in the scope's."""
    case = load_case(INCIDENT / "case.yaml")
    notes = tmp_path / "notes.yaml"
    notes.write_text("a: 1\n")
    cache = IngestCache.open(tmp_path / "cache")

    def keys(c) -> tuple[str, str]:
        stages = StageCache(cache, c)
        return stages.evidence_key({}), stages.scope_key({"pat"}, [])

    base = keys(case)
    assert keys(case) == base  # nothing else (no clock, no process) is in them
    annotated = keys(dataclasses.replace(case, annotations=notes))
    assert annotated[0] != base[0] and annotated[1] != base[1]
    notes.write_text("a: 2\n")
    edited = keys(dataclasses.replace(case, annotations=notes))
    assert edited[0] != annotated[0] and edited[1] != annotated[1]
    fewer = keys(dataclasses.replace(case, logs=case.logs[:1]))
    assert fewer[0] != base[0] and fewer[1] == base[1]
    stages = StageCache(cache, case)
    assert stages.scope_key({"pat", "quinn"}, []) != stages.scope_key({"pat"}, [])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _damage_csv(entry: Path) -> None:
    _flip(entry / "access_events.csv")


def _damage_csv_and_its_entry(entry: Path) -> None:
    """A file changed and `entry.json` rewritten to match: the manifest's digest catches it."""
    _damage_csv(entry)
    meta = json.loads((entry / ENTRY).read_text())
    meta["files"]["access_events.csv"] = cache_module.file_sha256(entry / "access_events.csv")
    (entry / ENTRY).write_text(json.dumps(meta))


def _damage_manifest(entry: Path) -> None:
    """The manifest's digest of a file changed to that of the changed file."""
    _damage_csv(entry)
    manifest = json.loads((entry / MANIFEST).read_text())
    for out in manifest["outputs"]:
        if out["path"] == "access_events.csv":
            out["sha256"] = cache_module.file_sha256(entry / "access_events.csv")
    (entry / MANIFEST).write_text(json.dumps(manifest))


def _garbage(entry: Path) -> None:
    (entry / ENTRY).write_text("{not json")


def _missing(entry: Path) -> None:
    (entry / "principals.csv").unlink()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_damage_csv, "access_events.csv differs from its manifest"),
        (_damage_csv_and_its_entry, "access_events.csv differs from its manifest"),
        (_damage_manifest, "manifest.json differs from what was written"),
        (_garbage, "no readable entry.json"),
        (_missing, "principals.csv differs from what was written"),
        ("foreign", "written for another key"),
    ],
)
def test_a_damaged_or_foreign_evidence_entry_is_never_used(
    cold: tuple[Path, Path], tmp_path: Path, capsys, damage, reason: str
) -> None:
    reference, filled = cold
    cache = _copy(filled, tmp_path)
    (entry,) = _stage_entries(cache, "evidence")
    if damage == "foreign":  # another key's entry under this key's name
        meta = json.loads((entry / ENTRY).read_text())
        meta["key"] = "0" * 64
        (entry / ENTRY).write_text(json.dumps(meta))
    else:
        damage(entry)
    rerun = _run(INCIDENT / "case.yaml", tmp_path / "rerun", cache, capsys)
    assert rerun["stages_from_cache"] == ["reads", "scope"] and rerun["from_cache"] == LOGS
    assert len(rerun["warnings"]) == 1 and reason in rerun["warnings"][0], rerun["warnings"]
    assert rerun["stderr"].startswith("forensics: warning: cache entry evidence-")
    assert "Traceback" not in rerun["stderr"]
    _same_evidence(reference, tmp_path / "rerun")
    (stored,) = _stage_entries(cache, "evidence")  # made anew, whole
    assert _run(INCIDENT / "case.yaml", tmp_path / "next", cache, capsys)["warnings"] == []


def _without_evidence(cold: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """The reference evidence, and a copy of the filled cache without its evidence entry
    (as after a run with other options): the next run redoes the stages after ingest."""
    reference, filled = cold
    cache = _copy(filled, tmp_path)
    for entry in _stage_entries(cache, "evidence"):
        shutil.rmtree(entry)
    return reference, cache


@pytest.mark.parametrize("damage", ["flipped", "foreign pickle"])
def test_a_damaged_scope_entry_is_never_used(
    cold: tuple[Path, Path], tmp_path: Path, capsys, damage: str
) -> None:
    reference, cache = _without_evidence(cold, tmp_path)
    (entry,) = _stage_entries(cache, "scope")
    if damage == "flipped":
        _flip(entry / SCOPE_FILE)
    else:  # whole and listed with its digest, but not a scope
        import pickle

        (entry / SCOPE_FILE).write_bytes(pickle.dumps({"windows": []}))
        meta = json.loads((entry / ENTRY).read_text())
        meta["files"][SCOPE_FILE] = cache_module.file_sha256(entry / SCOPE_FILE)
        (entry / ENTRY).write_text(json.dumps(meta))
    rerun = _run(INCIDENT / "case.yaml", tmp_path / "rerun", cache, capsys)
    assert rerun["stages_from_cache"] == ["reads"] and rerun["stages_stored"] == ["scope"]
    assert len(rerun["warnings"]) == 1 and "cache entry scope-" in rerun["warnings"][0]
    _same_evidence(reference, tmp_path / "rerun")


def test_a_failed_run_leaves_no_cache_folder_it_made_empty(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    def fails(*args, **kwargs):
        raise InputError("logs/x.log: unreadable; fix it")

    monkeypatch.setattr("forensics.investigation.ingest_into", fails)
    out = tmp_path / "ev"
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]) == 2
    assert "fix it" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither ev nor ev.cache
    kept = tmp_path / "kept"  # a folder that was there before is left as it was
    kept.mkdir()
    (kept / TAG).write_text(cache_module.TAG_TEXT)
    assert main(["investigate", str(INCIDENT / "case.yaml"), "--out", str(out)]
                + ["--cache", str(kept)]) == 2  # fmt: skip
    assert [p.name for p in kept.iterdir()] == [TAG]


def test_a_failed_run_keeps_the_entries_of_the_stages_it_completed(
    incident: Path, tmp_path: Path, capsys
) -> None:
    """A catalog error comes after the logs were read: their entries are right, and the
    rerun after the fix reads no log again; no evidence entry is written for the failure."""
    tables = incident.parent / "catalog" / "tables.csv"
    good = tables.read_text()
    tables.write_text("not,a,catalog\n")
    cache = tmp_path / "cache"
    assert main(["investigate", str(incident), "--out", str(tmp_path / "ev")]
                + ["--cache", str(cache)]) == 2  # fmt: skip
    assert not (tmp_path / "ev").exists() and _stage_entries(cache, "evidence") == []
    tables.write_text(good)
    rerun = _run(incident, tmp_path / "ev", cache, capsys)
    assert rerun["from_cache"] == LOGS and rerun["stages_stored"] == ["reads", "scope"]
    (first,) = _stage_entries(cache, "evidence")
    _log(incident)  # a rerun with other inputs: its entry supersedes the case file's last
    again = _run(incident, tmp_path / "ev", cache, capsys)
    assert again["stages_from_cache"] == ["reads", "scope"]
    (second,) = _stage_entries(cache, "evidence")
    assert second != first and _stage_entries(cache, "scope") != []


def _reader_calls(monkeypatch) -> list[str]:
    """The texts the column reader is asked about from now on."""
    from forensics.sqlcolumns import ColumnReader

    asked: list[str] = []
    read = ColumnReader.read

    def counted(self, text, *rest, **kw):
        asked.append(text)
        return read(self, text, *rest, **kw)

    monkeypatch.setattr(ColumnReader, "read", counted)
    return asked


def _forget_half(entry: Path) -> set[str]:
    """The entry made to hold every other statement (and only their answers), its
    description rewritten to match; the texts it no longer holds."""
    import duckdb

    statements, reads = (str(entry / n) for n in (stage_cache.READ_STATEMENTS,
                                                    stage_cache.STATEMENT_READS))  # fmt: skip
    con = duckdb.connect()
    rows = con.sql(f"SELECT * FROM read_parquet('{statements}') ORDER BY ALL").fetchall()
    kept = rows[::2]
    con.sql(f"CREATE TABLE k AS SELECT * FROM read_parquet('{statements}') LIMIT 0")
    con.executemany("INSERT INTO k VALUES (?, ?, ?)", kept)
    con.sql(f"CREATE TABLE r AS SELECT * FROM read_parquet('{reads}') SEMI JOIN k USING "
            "(query_text, database, engine)")  # fmt: skip
    con.table("k").write_parquet(statements)
    con.table("r").write_parquet(reads)
    meta = json.loads((entry / ENTRY).read_text())
    for name in (stage_cache.READ_STATEMENTS, stage_cache.STATEMENT_READS):
        meta["files"][name] = cache_module.file_sha256(entry / name)
    (entry / ENTRY).write_text(json.dumps(meta))
    return {r[0] for r in rows[1::2]}


def test_a_rerun_reads_only_the_statements_no_earlier_run_read(
    cold: tuple[Path, Path], incident: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """The statements' answers come from the cache, those it lacks are read, and the
    evidence is the same bytes as a run without any cache."""
    _, filled = cold
    _log(incident)  # the evidence's key changes, the catalog does not
    _run(incident, tmp_path / "plain", None, capsys)
    cache = _copy(filled, tmp_path)
    (entry,) = _stage_entries(cache, "reads")
    forgotten = _forget_half(entry)
    assert forgotten  # the incident has statements to read
    asked = _reader_calls(monkeypatch)
    rerun = _run(incident, tmp_path / "rerun", cache, capsys)
    assert sorted(set(asked)) == sorted(forgotten) and rerun["warnings"] == []
    assert rerun["stages_from_cache"] == ["reads", "scope"] and rerun["stages_stored"] == ["reads"]
    _same_evidence(tmp_path / "plain", tmp_path / "rerun")
    (replaced,) = _stage_entries(cache, "reads")  # the same key, now with every statement
    assert replaced == entry and not list(cache.glob(".partial-*"))
    asked.clear()
    again = _run(incident, tmp_path / "again", cache, capsys, "--keep-literals")
    assert asked == [] and again["stages_stored"] == []
    _run(incident, tmp_path / "plain-literals", None, capsys, "--keep-literals")
    _same_evidence(tmp_path / "plain-literals", tmp_path / "again")


def test_a_damaged_reads_entry_is_never_used(
    cold: tuple[Path, Path], tmp_path: Path, capsys, monkeypatch
) -> None:
    reference, cache = _without_evidence(cold, tmp_path)
    (entry,) = _stage_entries(cache, "reads")
    _flip(entry / stage_cache.STATEMENT_READS)
    asked = _reader_calls(monkeypatch)
    rerun = _run(INCIDENT / "case.yaml", tmp_path / "rerun", cache, capsys)
    assert asked and rerun["stages_from_cache"] == ["scope"]
    assert len(rerun["warnings"]) == 1 and "cache entry reads-" in rerun["warnings"][0]
    assert "statement_reads.parquet differs" in rerun["warnings"][0]
    _same_evidence(reference, tmp_path / "rerun")


def test_the_reads_key_follows_the_catalogs_columns_partitions_and_views(
    tmp_path: Path,
) -> None:
    from forensics.sqlcolumns import TableSchema

    stages = StageCache(IngestCache.open(tmp_path / "cache"), load_case(INCIDENT / "case.yaml"))
    base = TableSchema({"db.t": ("a", "b")}, {"db.t": ("dt",)}, {"db.v": ("db", "SELECT a")})
    key = stages.reads_key(base)
    assert stages.reads_key(TableSchema(dict(base.columns), dict(base.partition_columns),
                                        dict(base.views))) == key  # fmt: skip
    for other in (
        dataclasses.replace(base, columns={"db.t": ("a", "c")}),
        dataclasses.replace(base, partition_columns={"db.t": ()}),
        dataclasses.replace(base, views={"db.v": ("db", "SELECT b")}),
    ):
        assert stages.reads_key(other) != key
