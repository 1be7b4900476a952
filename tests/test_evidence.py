"""Atomic, private evidence folders, and verification against the manifest."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from forensics import engine, queries
from forensics.errors import EvidenceError
from forensics.evidence import MANIFEST, csv_value, sha256_file, staged_output, verify
from tests.conftest import INCIDENT
from tests.test_statement_candidates import _reconstructed


def _fake_evidence(folder: Path, text: str) -> None:
    (folder / "a.csv").write_text(text)
    manifest = {"outputs": [{"path": "a.csv", "sha256": sha256_file(folder / "a.csv"), "rows": 1}]}
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_completed_block_replaces_previous_evidence(tmp_path: Path) -> None:
    target = tmp_path / "ev"
    with staged_output(target) as stage:
        _fake_evidence(stage, "old\n")
    with staged_output(target) as stage:
        assert stat.S_IMODE(os.stat(stage).st_mode) == 0o700
        _fake_evidence(stage, "new\n")
    assert (target / "a.csv").read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ev"]


def test_interrupted_run_leaves_previous_evidence_and_no_partial_files(tmp_path: Path) -> None:
    target = tmp_path / "ev"
    with staged_output(target) as stage:
        _fake_evidence(stage, "old\n")
    with pytest.raises(KeyboardInterrupt), staged_output(target) as stage:
        (stage / "a.csv").write_text("half")
        raise KeyboardInterrupt
    assert (target / "a.csv").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ev"]


def test_refuses_to_replace_a_folder_that_is_not_evidence(tmp_path: Path) -> None:
    target = tmp_path / "home"
    target.mkdir()
    (target / "thesis.tex").write_text("precious")
    with pytest.raises(EvidenceError, match="not an evidence folder"), staged_output(target):
        pass
    assert (target / "thesis.tex").read_text() == "precious"


def test_verify_names_changed_missing_and_extra_files(tmp_path: Path) -> None:
    _fake_evidence(tmp_path, "x\n")
    assert verify(tmp_path) == []
    (tmp_path / "a.csv").write_text("y\n")
    (tmp_path / "b.csv").write_text("z\n")
    problems = verify(tmp_path)
    assert any(p.startswith("a.csv: sha256 differs") for p in problems)
    assert any(p.startswith("b.csv: not listed") for p in problems)
    (tmp_path / "a.csv").unlink()
    assert "a.csv: missing" in verify(tmp_path)


def test_engine_spills_to_a_private_folder_not_the_working_directory() -> None:
    """Spilled pages hold event data: they must not land in the current folder."""
    from forensics import engine

    con = engine.connect()
    (folder,) = con.sql("SELECT current_setting('temp_directory')").fetchall()[0]
    assert Path(folder).is_dir() and Path(folder).stat().st_mode & 0o777 == 0o700
    assert Path(folder).resolve() != Path.cwd().resolve() / ".tmp"


#: (cell as logged, cell as written): the formula starts and the quote are prefixed with a
#: quote, nothing else is changed (a character that only looks like one, or one later in
#: the cell, is not a formula start).
CSV_CELLS = [
    ("=1+1", "'=1+1"),
    ("+31 6", "'+31 6"),
    ("-x", "'-x"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("'quoted", "''quoted"),
    ("a=1", "a=1"),
    (" =1", " =1"),
    ("\uff1d1", "\uff1d1"),  # fullwidth equals sign
    ("\u00e9=", "\u00e9="),
    ("", ""),
    (None, None),
    # around the range test that passes most cells untested (first byte >= 'A', or '.' to '<')
    ("@", "'@"),
    ("A", "A"),
    ("=", "'="),
    ("<x", "<x"),
    (">x", ">x"),
    (".5", ".5"),
    ("-", "'-"),
    (",x", ",x"),
    ("9", "9"),
    ("\x7f", "\x7f"),
]


@pytest.mark.parametrize(("cell", "written"), CSV_CELLS)
def test_csv_cell_neutralizes_formula_starts_only(cell: str | None, written: str | None) -> None:
    con = engine.connect(memory_limit="256MB")
    queries.execute(con, "evidence/csv_cell")
    ((value,),) = con.execute("SELECT csv_cell($cell::VARCHAR)", {"cell": cell}).fetchall()
    assert value == written
    assert value is None or csv_value(value) == cell


def test_csv_cell_prefixes_exactly_the_formula_starts_of_every_first_character() -> None:
    """Every Unicode scalar value as the whole cell and as the first character of one: the
    quote goes before exactly the seven formula starts (tab, CR, quote, +, -, =, @)."""
    con = engine.connect(memory_limit="256MB")
    queries.execute(con, "evidence/csv_cell")
    ((prefixed,),) = con.execute(
        "SELECT list(DISTINCT i ORDER BY i) FROM range(1, 1114112) r(i), "
        "(VALUES (''), ('x'), ('=')) t(rest), LATERAL (SELECT chr(i::INTEGER) || rest AS cell) "
        "WHERE (i < 55296 OR i > 57343) AND csv_cell(cell) IS DISTINCT FROM cell"
    ).fetchall()
    assert prefixed == [ord(c) for c in sorted("\t\r'+-=@")]


def test_csv_cell_over_sorted_rows_stays_a_projection() -> None:
    """No join in the plan of `csv_cell` over a sorted query: an IN list in the macro became
    a MARK join, and COPY then wrote the sorted rows of access_events.csv out of order."""
    con = engine.connect(memory_limit="256MB")
    queries.execute(con, "evidence/csv_cell")
    con.execute("CREATE TABLE t AS SELECT 'x' || i AS a FROM range(10) r(i)")
    plan = "\n".join(
        row[1]
        for row in con.execute(
            "EXPLAIN SELECT csv_cell(a) FROM (SELECT a FROM t ORDER BY a)"
        ).fetchall()
    )
    assert "Order By" in plan
    assert "JOIN" not in plan.upper()


#: (principal, object, via of each read, engine of each read) -> the `via` and `engines`
#: cells of exposure_enabled_reads.csv: the sorted distinct values (bytewise), NULL when
#: every value is NULL, as `string_agg(DISTINCT x, ';' ORDER BY x)` writes them.
VIA_CELLS = [
    ("one read", ["trino"], ["trino"], "trino", "trino"),
    ("repeated", ["view", "trino", "view"], ["hive", "hive", "trino"], "trino;view", "hive;trino"),
    ("all null", [None, None], [None, "hdfs"], None, "hdfs"),
    ("some null", [None, "hdfs"], ["hdfs", None], "hdfs", "hdfs"),
    ("empty text", ["", "x", ""], ["", ""], ";x", ""),
    ("bytewise", ["é", "z", "Z", "a b"], ["b", "B", "a"], "Z;a b;z;é", "B;a;b"),
]


@pytest.mark.parametrize(("principal", "vias", "engines", "via", "engine_cell"), VIA_CELLS)
def test_exposure_enabled_reads_via_and_engines_are_sorted_distinct_values(
    principal: str, vias: list, engines: list, via: str | None, engine_cell: str | None
) -> None:
    con = engine.connect(memory_limit="256MB")
    con.execute(
        "CREATE TABLE notable_reads AS SELECT $p AS principal, 'db.t' AS target, "
        "TIMESTAMP '2026-01-01' + INTERVAL (i) SECOND AS time, 1 AS event_count, "
        "v AS via, e AS engine, '*' AS columns, 'pii' AS categories, '*' AS partitions, "
        "'exposure_enabled' AS classification "
        "FROM (SELECT unnest($v::VARCHAR[]) AS v, unnest($e::VARCHAR[]) AS e, "
        "unnest(range(len($v::VARCHAR[]))) AS i)",
        {"p": principal, "v": vias, "e": engines},
    )
    con.execute("CREATE TABLE object_categories (object VARCHAR, sensitivity VARCHAR)")
    rows = queries.relation(con, "evidence/exposure_enabled_reads").fetchall()
    columns = queries.relation(con, "evidence/exposure_enabled_reads").columns
    assert [(r[columns.index("via")], r[columns.index("engines")]) for r in rows] == [
        (via, engine_cell)
    ]


def test_notable_reads_are_the_classified_details_of_their_classes() -> None:
    """reconstruct/notable_reads, which three evidence files and the data-subject queries read
    instead of every classified access, holds the bundled incident's exposure-enabled and
    secondary accesses with their details: the same rows as `classified_details` in the
    columns it keeps (each class present), and no other."""
    con = _reconstructed(INCIDENT / "case.yaml")
    columns = ", ".join(f'"{c}"' for c in con.table("notable_reads").columns)
    wanted = (
        f"SELECT {columns} FROM classified_details "
        "WHERE classification IN ('exposure_enabled', 'secondary')"
    )
    kept = "SELECT * FROM notable_reads"
    for a, b in ((kept, wanted), (wanted, kept)):
        assert con.sql(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchall() == [(0,)]
    classes = dict(
        con.sql("SELECT classification, count(*) FROM notable_reads GROUP BY ALL").fetchall()
    )
    assert set(classes) == {"exposure_enabled", "secondary"}
