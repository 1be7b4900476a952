"""The SQL stage: Hive's own conventions, and accuracy over Hive's own hook outputs."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from forensics.cli import main
from forensics.errors import InputError
from forensics.sqlrefs import ViewCatalog, extract_objects, objects_jsonl
from tests.conftest import SHARED

CORPUS = SHARED / "corpus" / "hive_statements.jsonl"

CASES = [
    # (statement, database, reads, writes, kind)
    ("SELECT * FROM t", "mci", ["mci.t"], [], "query"),
    ("USE hr; SELECT * FROM reviews", "default", ["hr.reviews"], [], "query"),
    ("select * from `MCI`.`Key Strokes` k", "default", ["mci.key strokes"], [], "query"),
    (
        "WITH a AS (SELECT * FROM x), b AS (SELECT * FROM y) SELECT * FROM a",
        "d",
        ["d.x"],
        [],
        "query",
    ),
    ("WITH t AS (SELECT * FROM real_t) SELECT * FROM t", "d", ["d.real_t"], [], "query"),
    (
        "FROM src INSERT OVERWRITE TABLE a SELECT key INSERT OVERWRITE TABLE b SELECT value",
        "d",
        ["d.src"],
        ["d.a", "d.b"],
        "insert",
    ),
    (
        "SELECT TRANSFORM(key, value) USING 'cat' AS (k, v) FROM src",
        "d",
        ["d.src"],
        [],
        "query",
    ),
    (
        "SELECT k, c FROM src LATERAL VIEW explode(arr) t AS c",
        "d",
        ["d.src"],
        [],
        "query",
    ),
    (
        "SELECT rank() OVER (DISTRIBUTE BY a SORT BY b) FROM part",
        "d",
        ["d.part"],
        [],
        "query",
    ),
    ("UPDATE acid SET a = 1 WHERE b = 2", "d", ["d.acid"], ["d.acid"], "update"),
    ("DELETE FROM acid WHERE b = 2", "d", ["d.acid"], ["d.acid"], "delete"),
    ("ANALYZE TABLE t COMPUTE STATISTICS", "d", ["d.t"], ["d.t"], "other"),
    ("ANALYZE TABLE t COMPUTE STATISTICS FOR COLUMNS a", "d", ["d.t"], [], "other"),
    ("LOAD DATA LOCAL INPATH '/x' OVERWRITE INTO TABLE t", "d", [], ["d.t"], "load"),
    ("EXPORT TABLE t TO '/exports/t'", "d", ["d.t"], [], "export"),
    ("IMPORT TABLE t2 FROM '/exports/t'", "d", [], ["d.t2"], "import"),
    (
        "CREATE TABLE analytics.kc AS SELECT * FROM mci.keystrokes",
        "d",
        ["mci.keystrokes"],
        ["analytics.kc"],
        "ctas",
    ),
    ("CREATE VIEW v AS SELECT * FROM base", "d", ["d.base"], ["d.v"], "create_view"),
    ("EXPLAIN EXTENDED SELECT * FROM t", "d", ["d.t"], [], "query"),
    ("-- a note\nSELECT * /* x */ FROM t; SELECT 1 FROM u", "d", ["d.t", "d.u"], [], "query"),
    (
        "SELECT * FROM noop(on part partition by a order by b)",
        "d",
        ["d.part"],
        [],
        "query",
    ),
]


@pytest.mark.parametrize(("sql", "db", "reads", "writes", "kind"), CASES)
def test_hive_conventions(sql, db, reads, writes, kind) -> None:
    found = extract_objects(sql, db)
    assert (list(found.reads), list(found.writes), found.kind) == (reads, writes, kind)
    assert found.status in ("parsed", "fallback")


def test_directory_write_is_a_path_copy() -> None:
    found = extract_objects(
        "INSERT OVERWRITE LOCAL DIRECTORY '/tmp/out' SELECT msg FROM mci.private_conversations"
    )
    assert found.path_writes == ("/tmp/out",)
    assert found.reads == ("mci.private_conversations",)
    assert found.writes == ()


def test_views_expand_recursively_each_in_its_own_database() -> None:
    views = ViewCatalog.from_definitions(
        {
            "mci.summary": "SELECT * FROM conversations",
            "reports.top": "SELECT * FROM mci.summary JOIN people p ON 1 = 1",
        }
    )
    found = extract_objects("SELECT * FROM reports.top", "default", views)
    assert found.reads == ("mci.conversations", "mci.summary", "reports.people", "reports.top")


def test_unparseable_text_says_so() -> None:
    found = extract_objects("this is not ( sql at all")
    assert found.status == "unparsed" and found.reason
    assert extract_objects("").status == "unparsed"


def test_repeats_with_other_literals_use_the_cache() -> None:
    first = extract_objects("SELECT * FROM t WHERE a = 1", "d")
    second = extract_objects("SELECT * FROM t WHERE a = 2", "d")
    assert first is second


def test_objects_jsonl_keeps_order_and_names_bad_lines() -> None:
    lines = [
        json.dumps({"id": "b", "query": "select * from y", "database": "d", "views": {}}),
        json.dumps({"id": "a", "query": "insert into z select * from x", "database": "d"}),
    ]
    out = list(objects_jsonl(lines))
    assert [(r["id"], r["reads"], r["writes"]) for r in out] == [
        ("b", ["d.y"], []),
        ("a", ["d.x"], ["d.z"]),
    ]
    with pytest.raises(InputError, match="line 2: not valid JSON"):
        list(objects_jsonl([lines[0], "{oops"]))
    with pytest.raises(InputError, match="line 1: missing field query"):
        list(objects_jsonl(['{"id": 1}']))


def test_cli_one_statement(capsys) -> None:
    assert main(["sql", "objects", "--sql", "SELECT * FROM k", "--database", "mci"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["reads"] == ["mci.k"] and record["status"] == "parsed"


@pytest.mark.skipif(not CORPUS.is_file(), reason="shared corpus not present")
def test_corpus_accuracy(capsys) -> None:
    rows = [json.loads(line) for line in CORPUS.open()]
    right = reads_right = writes_right = 0
    by_type: Counter = Counter()
    wrong_by_type: Counter = Counter()
    for row in rows:
        views = ViewCatalog.from_corpus(row["views"]) if row["views"] else None
        found = extract_objects(row["query"], row["database"], views)
        r = sorted(found.reads) == row["reads"]
        w = sorted(found.writes) == row["writes"]
        reads_right += r
        writes_right += w
        right += r and w
        by_type[row["type"]] += 1
        wrong_by_type[row["type"]] += not (r and w)
    with capsys.disabled():
        print(
            f"\ncorpus: {right}/{len(rows)} exact ({right / len(rows):.2%}), "
            f"reads {reads_right / len(rows):.2%}, writes {writes_right / len(rows):.2%}; "
            + ", ".join(
                f"{t} {by_type[t] - wrong_by_type[t]}/{by_type[t]}" for t in sorted(by_type)
            )
        )
    assert right / len(rows) >= 0.995


def test_fingerprint_is_literal_free() -> None:
    found = extract_objects("SELECT * FROM t WHERE name = 'Dana'  AND n = 4", "d")
    assert found.fingerprint == "SELECT * FROM t WHERE name = ? AND n = ?"
