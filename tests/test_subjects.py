"""Data subjects concerned: columns, partitions and the owner's list of who is in them.

`fixtures/subjects-index/` (reads narrowed to partitions, an index of subject ids) has its
answers worked out by hand below from the list in its generator's docstring; the bundled
incident's (subject counts) are in `fixtures/incident-small/expected/`.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forensics.case import load_case
from forensics.catalog import load_catalog
from forensics.cli import main
from forensics.errors import CaseError, InputError
from forensics.privacy import pseudonym, subject_pseudonym
from forensics.reads import table_schema
from forensics.sqlcolumns import ColumnReader
from forensics.subjects import load_subjects, owner_queries, subject_queries
from forensics.warehouse import read_only

ROOT = Path(__file__).resolve().parents[1]
INCIDENT = ROOT / "fixtures" / "incident-small"
INDEXED = ROOT / "fixtures" / "subjects-index"


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _run(case: Path, out: Path, *options: str) -> Path:
    assert main(["investigate", str(case), "--out", str(out), *options]) == 0
    return out


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(INDEXED / "case.yaml", tmp_path_factory.mktemp("indexed") / "ev")


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(INCIDENT / "case.yaml", tmp_path_factory.mktemp("bundled") / "ev")


def _concerned(folder: Path) -> dict[str, dict]:
    return {r["category"]: r for r in _rows(folder / "subjects_concerned.csv")}


def test_bounds_by_category_from_an_index(indexed: Path) -> None:
    # keystrokes: carl read key_text of ds=2026-06-17 only (e01, e04: 40 + 50 records);
    # the object holds e01..e05 (210 records). dora's read touched no sensitive column.
    # screenshots: kim's file lies in ds=2026-06-16 (e02, e06), the object adds e07.
    # performance: jack read the unpartitioned table whole (e01, e08).
    # (all): dora adds ds=2026-06-18 (e05) to the lower bound.
    want = {
        "(all)": ("6", "8", "157", "220"),
        "keystrokes": ("2", "5", "90", "210"),
        "performance": ("2", "2", "4", "4"),
        "screenshots": ("2", "3", "3", "6"),
    }
    got = {
        c: (r["subjects_lower"], r["subjects_upper"], r["records_lower"], r["records_upper"])
        for c, r in _concerned(indexed).items()
    }
    assert got == want
    assert {r["basis"] for r in _concerned(indexed).values()} == {"index"}


def test_a_read_of_one_partition_counts_only_its_subjects(indexed: Path) -> None:
    parts = {(r["object"], r["partition"]): r for r in _rows(indexed / "subject_partitions.csv")}
    assert parts[("mci.screen_snapshots", "ds=2026-06-16")]["bound"] == "lower"
    assert parts[("mci.screen_snapshots", "ds=2026-06-17")]["bound"] == "upper"
    assert parts[("mci.keystrokes", "ds=2026-06-16")]["bound"] == "upper"
    subjects = {r["subject"]: r for r in _rows(indexed / "affected_subjects.csv")}
    assert {s for s, r in subjects.items() if r["bound"] == "upper"} == {"e03", "e07"}
    assert set(subjects) == {f"e0{i}" for i in range(1, 9)}
    assert subjects["e01"]["objects"] == "hr.performance_reviews;mci.keystrokes"
    assert subjects["e01"]["readers"] == "3"  # carl, dora, jack; ana is baseline


def test_a_read_of_no_sensitive_column_is_listed_without_categories(indexed: Path) -> None:
    reads = {r["principal"]: r for r in _rows(indexed / "exposure_enabled_reads.csv")}
    assert reads["dora"]["columns"] == "ds;typed_at;user_name"
    assert reads["dora"]["categories"] == ""
    assert reads["dora"]["partitions"] == "ds>=2026-06-17"
    assert reads["carl"]["categories"] == "keystrokes"
    assert reads["kim"]["partitions"] == "ds=2026-06-16"


@pytest.mark.parametrize("folder", ["indexed", "bundled"])
def test_every_number_traces_to_exposure_enabled_reads(folder: str, request) -> None:
    out = request.getfixturevalue(folder)
    events = {r["event_id"]: r for r in _rows(out / "access_events.csv")}
    for name in ("subjects_concerned", "subject_partitions"):
        rows = _rows(out / f"{name}.csv")
        assert rows
        for row in rows:
            ids = row["event_ids"].split(";")
            assert ids and all(events[i]["classification"] == "exposure_enabled" for i in ids)


def test_bundled_incident_subjects_match_written_down_answers(bundled: Path) -> None:
    want = _rows(INCIDENT / "expected" / "subjects_concerned.csv")
    columns = list(want[0])
    got = [{c: r[c] for c in columns} for r in _rows(bundled / "subjects_concerned.csv")]
    assert got == want
    assert _rows(bundled / "affected_subjects.csv") == []  # counts name nobody


def test_subject_ids_are_pseudonymized(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("k" * 32)
    one = _run(INDEXED / "case.yaml", tmp_path / "a", "--pseudonymize", str(key))
    two = _run(INDEXED / "case.yaml", tmp_path / "b", "--pseudonymize", str(key))
    rows = _rows(one / "affected_subjects.csv")
    assert len(rows) == 8 and all(re.fullmatch(r"s-[0-9a-f]{16}", r["subject"]) for r in rows)
    assert rows == _rows(two / "affected_subjects.csv")
    assert subject_pseudonym(b"k" * 32, "e01") in {r["subject"] for r in rows}
    for path in one.glob("*.csv"):
        assert not re.search(r"\be0[1-8]\b", path.read_text()), path.name
    assert subject_pseudonym(b"k" * 32, "carl") != pseudonym(b"k" * 32, "carl")


def test_pseudonyms_leave_the_numbers_unchanged(tmp_path: Path, indexed: Path) -> None:
    key = tmp_path / "key"
    key.write_text("k" * 32)
    out = _run(INDEXED / "case.yaml", tmp_path / "a", "--pseudonymize", str(key))
    plain = [
        {k: v for k, v in r.items() if k != "event_ids"}
        for r in _rows(indexed / "subjects_concerned.csv")
    ]
    hidden = [
        {k: v for k, v in r.items() if k != "event_ids"}
        for r in _rows(out / "subjects_concerned.csv")
    ]
    assert plain == hidden


@pytest.mark.parametrize("fixture", [INCIDENT, INDEXED])
def test_statement_columns_agree_with_rangers_column_resources(fixture: Path) -> None:
    """Wherever a Ranger event names columns of a table and its statement is known, what
    the statement read of that table is what Ranger lists."""
    catalog = load_catalog(load_case(fixture / "case.yaml"))
    reader = ColumnReader(table_schema(catalog))
    checked = 0
    for log in sorted((fixture / "logs" / "ranger").glob("*.log")):
        for line in log.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # the bundled incident's line cut short by a crash
            parts = record["resource"].split("/")
            if record.get("resType") != "@column" or len(parts) != 3:
                continue
            obj = f"{parts[0]}.{parts[1]}"
            if catalog.objects[obj].type != "table":
                continue  # Ranger names a view's own columns
            found = reader.read(record["reqData"], parts[0])
            assert found is not None, record["reqData"]
            assert found[obj].columns == tuple(sorted(parts[2].split(","))), record["reqData"]
            checked += 1
    assert checked >= 3


def test_fixture_is_what_its_generator_writes(tmp_path: Path) -> None:
    script = ROOT / "fixtures" / "make_subjects_index.py"
    subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=script.parent,
    )
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written
    for relative in written:
        assert (tmp_path / relative).read_bytes() == (INDEXED / relative).read_bytes(), relative


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("subjects: {counts: a.csv, index: b.csv}", "subjects: must be"),
        ("subjects: {people: catalog/subjects.csv}", "subjects: must be"),
        ("subjects: {counts: missing.csv}", "subjects.counts: file"),
    ],
)
def test_case_subjects_key_errors(tmp_path: Path, entry: str, message: str) -> None:
    shutil.copytree(INCIDENT, tmp_path / "case")
    path = tmp_path / "case" / "case.yaml"
    text = path.read_text().replace("subjects: {counts: catalog/subjects.csv}", entry)
    path.write_text(text)
    with pytest.raises(CaseError, match=re.escape(message)):
        load_case(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("object,partition,subjects\n", "missing column(s) records"),
        ("object,partition,subjects,records\nmci.keystrokes,ds=1,x,2\n", "line 2: subjects 'x'"),
        ("object,partition,subjects,records\nmci.keystrokes,ds=1,-1,2\n", "line 2: subjects"),
        ("object,partition,subjects,records\nkeystrokes,ds=1,1,2\n", "line 2: object"),
        ("object,partition,subjects,records\nmci.keystrokes,2026-06-01,1,2\n", "not a partition"),
        ("object,partition,subjects,records\nmci.keystrokes,ds=1,1\n", "wrong number"),
        ("object,partition,subjects,records\nmci.nokeys,ds=1,1,2\n", "not a table of the"),
        ("object,partition,subjects,records\nmci.keystrokes,day=1,1,2\n", "must name ds"),
        ("object,partition,subjects,records\nmci.keystrokes,,1,2\n", "not none"),
    ],
)
def test_a_bad_subjects_file_is_refused_with_its_line(tmp_path: Path, text, message) -> None:
    shutil.copytree(INCIDENT, tmp_path / "case")
    (tmp_path / "case" / "catalog" / "subjects.csv").write_text(text)
    case = load_case(tmp_path / "case" / "case.yaml")
    with pytest.raises(InputError, match=re.escape(message)):
        load_subjects(case, load_catalog(case))
    assert (
        main(["investigate", str(tmp_path / "case" / "case.yaml"), "--out", str(tmp_path / "ev")])
        == 2
    )
    assert not (tmp_path / "ev").exists()


def test_owner_queries_are_read_only_one_per_exposed_table() -> None:
    case = load_case(INCIDENT / "case.yaml")
    counts = owner_queries(case)
    index = owner_queries(case, index=True)
    assert len(counts) == len(index) == 5  # exposed tables; the view and audit_config not
    for query in counts + index:
        tree = read_only(query.rstrip(";"), "hive")
        assert [s.alias_or_name for s in tree.selects][:2] == ["object", "partition"]
    assert "COUNT(DISTINCT `user_name`)" in counts[2] and "GROUP BY" in counts[2]
    assert "`subject_id`" in index[0] and "`partition`" in index[0]


def test_owner_queries_need_a_subject_column() -> None:
    catalog = load_catalog(load_case(INCIDENT / "case.yaml"))
    with pytest.raises(InputError, match="no subject column"):
        subject_queries(catalog, ["mci.audit_config"])
    (query,) = subject_queries(catalog, ["mci.audit_config"], subject_column="key")
    assert "COUNT(DISTINCT `key`)" in query
    with pytest.raises(InputError, match="no subject column"):
        subject_queries(catalog, ["mci.audit_config"], subject_column="key; DROP TABLE x")


def test_cli_prints_the_owner_queries(capsys) -> None:
    assert main(["subjects", "query", str(INCIDENT / "case.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.count("SELECT") == 5 and "FROM `mci`.`keystrokes`" in out


def test_subjects_page_and_findings_section_show_the_bounds(report: Path) -> None:
    rows = _rows(report / "subjects_concerned.csv")
    for stem in ("50_subjects", "90_findings"):
        page = (report / "report" / f"{stem}.html").read_text()
        assert "subjects_concerned.csv" in page
        for row in rows:
            assert f"<td>{row['category']}</td>" in page, stem
            assert f"<td>{row['subjects_upper']}</td>" in page, stem
    assert (
        'href="../subjects_concerned.csv"' in (report / "report" / "90_findings.html").read_text()
    )


def test_object_page_shows_columns_and_partitions_read(report: Path) -> None:
    first = sorted((report / "report").glob("30_object-*.html"))[0]  # named by slug
    page = first.read_text().replace("<wbr/>", "").replace("<wbr>", "")
    assert "Columns and partitions read" in page
    events = _rows(report / "access_events.csv")
    obj = next(o for o in ("mci.keystrokes", "mci.private_conversations") if o in page)
    columns = {c for e in events if e["object"] == obj for c in e["columns"].split(";")}
    assert columns - {"*"} and all(c in page for c in columns - {"*"})


def test_findings_without_subjects_say_they_are_not_known(tmp_path: Path) -> None:
    from forensics import findings

    shutil.copytree(INCIDENT, tmp_path / "case")
    path = tmp_path / "case" / "case.yaml"
    path.write_text(path.read_text().replace("subjects: {counts: catalog/subjects.csv}\n", ""))
    out = _run(path, tmp_path / "ev")
    assert not (out / "subjects_concerned.csv").exists()
    ev = findings.load_evidence(out)
    assert findings.subjects_concerned(ev) is None
    assert "not known" in findings.subjects_html(ev)
    assert findings.object_columns(ev, "mci.keystrokes")["columns"].str.len().min() > 0
