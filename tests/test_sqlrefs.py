"""The SQL stage: Hive's own conventions, and accuracy over Hive's own hook outputs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from forensics import sqlrefs
from forensics.cli import main
from forensics.errors import InputError
from forensics.sqlrefs import Extraction, ViewCatalog, extract_objects, objects_jsonl

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "hive_statements.jsonl"

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
    # CTE scoping: nested WITH, a CTE defined in a subquery does not hide the outer table,
    # a CTE used only by an unused CTE is not run, a CTE does not see itself
    (
        "WITH a AS (SELECT * FROM t), b AS (SELECT * FROM a), c AS (SELECT * FROM u) "
        "SELECT * FROM (WITH d AS (SELECT * FROM b) SELECT * FROM d) x",
        "db",
        ["db.t"],
        [],
        "query",
    ),
    (
        "SELECT * FROM (WITH c AS (SELECT * FROM x) SELECT * FROM c) s JOIN c ON 1 = 1",
        "d",
        ["d.c", "d.x"],
        [],
        "query",
    ),
    (
        "WITH u AS (SELECT * FROM z), v AS (SELECT * FROM u) SELECT * FROM t",
        "d",
        ["d.t"],
        [],
        "query",
    ),
    ("WITH a AS (SELECT * FROM a) SELECT * FROM a", "d", ["d.a"], [], "query"),
    (
        "WITH q AS (SELECT * FROM src) FROM q INSERT OVERWRITE TABLE a SELECT * "
        "INSERT INTO TABLE b SELECT *",
        "d",
        ["d.src"],
        ["d.a", "d.b"],
        "insert",
    ),
    # DISTRIBUTE BY / SORT BY at the top level and MAP/REDUCE script clauses
    ("SELECT key, value FROM src DISTRIBUTE BY key SORT BY value", "d", ["d.src"], [], "query"),
    (
        "FROM (FROM src MAP src.key, src.value USING 'cat' AS (k, v) DISTRIBUTE BY k) m "
        "INSERT OVERWRITE TABLE out REDUCE m.k, m.v USING 'python r.py' AS k, v",
        "d",
        ["d.src"],
        ["d.out"],
        "insert",
    ),
    (
        "INSERT OVERWRITE TABLE dest SELECT TRANSFORM(*) USING 'cat' AS d STRING "
        "ROW FORMAT SERDE 'org.x.Serde' WITH SERDEPROPERTIES ('a' = 'b') FROM src",
        "d",
        ["d.src"],
        ["d.dest"],
        "insert",
    ),
    (
        "MERGE INTO tgt t USING src s ON t.k = s.k WHEN MATCHED THEN UPDATE SET v = s.v "
        "WHEN NOT MATCHED THEN INSERT VALUES (s.k, s.v)",
        "d",
        ["d.src", "d.tgt"],
        ["d.tgt"],
        "merge",
    ),
    (
        "ANALYZE TABLE acid PARTITION (ds = '2008-04-08') COMPUTE STATISTICS",
        "d",
        ["d.acid"],
        ["d.acid"],
        "other",
    ),
    ("INSERT INTO TABLE t VALUES (1, 'a'), (2, 'b')", "d", [], ["d.t"], "insert"),
    (
        "INSERT OVERWRITE TABLE t PARTITION (ds = '1', hr) SELECT a.k, b.v FROM x a "
        "JOIN other.y b ON (a.k = b.k), z WHERE a.k IN (SELECT k FROM w)",
        "d",
        ["d.w", "d.x", "d.z", "other.y"],
        ["d.t"],
        "insert",
    ),
    (
        "SELECT * FROM src TABLESAMPLE (BUCKET 1 OUT OF 2 ON key) s",
        "d",
        ["d.src"],
        [],
        "query",
    ),
    (
        "USE `Other`; EXPLAIN EXTENDED SELECT extract(year FROM d) FROM t",
        "d",
        ["other.t"],
        [],
        "query",
    ),
    (
        "CREATE TABLE o AS WITH u AS (SELECT * FROM z) SELECT * FROM u",
        "d",
        ["d.z"],
        ["d.o"],
        "ctas",
    ),
    ("IMPORT EXTERNAL TABLE db2.t FROM '/exports/t'", "d", [], ["db2.t"], "import"),
    ("SHOW TABLES", "d", [], [], "other"),
    # DDL: Hive lists the objects it changes as outputs, but nothing is read or copied
    ("DROP TABLE IF EXISTS mci.keystrokes", "d", [], ["mci.keystrokes"], "drop"),
    ("DROP VIEW v", "d", [], ["d.v"], "drop"),
    ("DROP DATABASE mci CASCADE", "d", [], [], "drop"),
    ("TRUNCATE TABLE t PARTITION (ds='1')", "d", [], ["d.t"], "truncate"),
    ("ALTER TABLE t RENAME TO x.u", "d", [], ["d.t", "x.u"], "alter"),
    ("ALTER TABLE t SET LOCATION '/w/t'", "d", [], ["d.t"], "alter"),
    ("ALTER VIEW v AS SELECT * FROM mci.k", "d", ["mci.k"], ["d.v"], "create_view"),
    ("DROP TABLE a; CREATE TABLE a AS SELECT * FROM s", "d", ["d.s"], ["d.a"], "ctas"),
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
    assert extract_objects("-- only a comment").status == "unparsed"


@pytest.mark.parametrize("sql", ["dfs -cat /secret/file", "ADD FILE /tmp/x.py", "hello"])
def test_commands_that_touch_files_or_are_no_statement_are_unparsed(sql: str) -> None:
    found = extract_objects(sql, "d")
    assert found.status == "unparsed" and found.reason


@pytest.mark.parametrize("sql", ["SET hive.exec.parallel=true", "SHOW TABLES", "DESCRIBE t"])
def test_session_and_metadata_commands_touch_nothing(sql: str) -> None:
    found = extract_objects(sql, "d")
    assert (found.reads, found.writes, found.status) == ((), (), "parsed")


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
    """Exact-set accuracy over all 6,958 statements of Hive's own hook outputs; the target
    is 99.5%, reached (99.94% at the time of writing: the misses depend on runtime state)."""
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
    # target: >= 99.5% exact-set; reached 99.94% (6,954/6,958), so the target is the bar
    assert right / len(rows) >= 0.995


def test_fingerprint_is_literal_free() -> None:
    found = extract_objects("SELECT * FROM t WHERE name = 'Dana'  AND n = 4", "d")
    assert found.fingerprint == "SELECT * FROM t WHERE name = ? AND n = ?"


def _by_sqlglot(sql: str, db: str) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """The sqlglot path's answer for one statement, bypassing the fast scanner."""
    tree, problem = sqlrefs._parse(sql)
    assert tree is not None, problem
    found = sqlrefs._from_tree(tree, sql, db, sqlrefs.EMPTY_CATALOG)
    return found.reads, found.writes, found.kind


SCANNED = [
    "SELECT a FROM t1 x, db.t2 y WHERE x.k = y.k",
    "SELECT * FROM (SELECT * FROM a UNION ALL SELECT * FROM `b`) s JOIN c ON (s.k = c.k)",
    "FROM src INSERT OVERWRITE TABLE a PARTITION (ds = '1') SELECT key INSERT INTO b SELECT v",
    "SELECT (SELECT max(k) FROM m) FROM t WHERE EXISTS (SELECT 1 FROM e WHERE e.k = t.k)",
    "SELECT rank() OVER (PARTITION BY a ORDER BY b) FROM t LEFT SEMI JOIN u ON t.a = u.a",
    "SELECT 'from x', \"join y\" FROM t WHERE s = 'a\\'b FROM z'",
    "INSERT OVERWRITE TABLE t PARTITION (ds = '1') IF NOT EXISTS SELECT * FROM s CLUSTER BY k",
    "SELECT 1",
]


@pytest.mark.parametrize("sql", SCANNED)
def test_fast_scanner_agrees_with_sqlglot(sql: str) -> None:
    scanned = sqlrefs._scan(sql, "d")
    assert scanned is not None, "expected the scanner to answer"
    reads, writes, kind = scanned
    assert (tuple(sorted(reads)), tuple(sorted(writes)), kind) == _by_sqlglot(sql, "d")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT extract(year FROM d) FROM t",
        "SELECT * FROM a JOIN b ON a.k = b.k, c",
        "WITH x AS (SELECT 1) SELECT * FROM x",
        "SELECT c FROM t LATERAL VIEW explode(arr) v AS c",
        "SELECT * FROM t WHERE a = 'unterminated",
        "SELECT * FROM t WHERE a IS DISTINCT FROM b",
        "SELECT * FROM noop(ON t PARTITION BY a)",
        "INSERT OVERWRITE DIRECTORY '/x' SELECT * FROM t",
        "INSERT INTO t (a, b) SELECT a, b FROM s",
        "SELECT * FROM `db.t`",
    ],
)
def test_fast_scanner_leaves_the_rest_to_sqlglot(sql: str) -> None:
    assert sqlrefs._scan(sql, "d") is None


def test_path_literals_are_not_merged_by_the_cache() -> None:
    first = extract_objects("INSERT OVERWRITE DIRECTORY '/tmp/a' SELECT * FROM t", "d")
    second = extract_objects("INSERT OVERWRITE DIRECTORY '/tmp/b' SELECT * FROM t", "d")
    assert (first.path_writes, second.path_writes) == (("/tmp/a",), ("/tmp/b",))


def test_export_writes_a_path() -> None:
    found = extract_objects("EXPORT TABLE mci.t PARTITION (ds = '1') TO '/exports/t'", "d")
    assert (found.reads, found.writes, found.path_writes) == (("mci.t",), (), ("/exports/t",))


def test_import_without_table_is_unparsed_not_empty() -> None:
    found = extract_objects("IMPORT FROM '/exports/t'", "d")
    assert found.status == "unparsed" and "IMPORT" in (found.reason or "")


def test_corpus_view_catalog_resolves_each_view_where_it_was_created() -> None:
    views = ViewCatalog.from_corpus(
        {
            "v1.outer_v": {
                "database": "v1",
                "statement": "CREATE VIEW outer_v AS SELECT * FROM inner_v",
            },
            "v1.inner_v": {
                "database": "v1",
                "statement": "CREATE VIEW inner_v AS -- note\nSELECT * FROM base JOIN db9.x",
            },
        }
    )
    found = extract_objects("SELECT * FROM v1.outer_v", "default", views)
    assert found.reads == ("db9.x", "v1.base", "v1.inner_v", "v1.outer_v")


def test_fingerprint_field_is_lazy_and_settable() -> None:
    assert Extraction((), ()).fingerprint == ""
    assert Extraction((), (), fingerprint="SELECT ?").fingerprint == "SELECT ?"
    found = extract_objects("SELECT a FROM t WHERE b = 'x'", "fp")
    assert found.fingerprint == "SELECT a FROM t WHERE b = ?"


def test_unexpected_tree_shapes_are_unparsed(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise AttributeError("no such node")

    monkeypatch.setattr(sqlrefs, "_from_tree", broken)
    found = extract_objects("SELECT * FROM t LATERAL VIEW explode(a) v AS c", "crash_db")
    assert found.status == "unparsed" and "AttributeError" in (found.reason or "")
    assert found.reads == () and found.writes == ()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": 1, "query": 5}', "line 1: query must be a string"),
        ('{"id": 1, "query": "select 1", "database": 3}', "line 1: database must be a string"),
        ('{"id": 1, "query": "select 1", "views": {"d.v": "x"}}', "line 1: views must map"),
        ('{"query": "select 1"}', "line 1: missing field id"),
        ("[1, 2]", "line 1: missing field query"),
    ],
)
def test_objects_jsonl_names_what_to_fix(line: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        list(objects_jsonl([line]))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("-- don't\nSELECT * FROM a WHERE x = '1'", "-- don't\nSELECT * FROM b WHERE x = '1'"),
        ("SELECT * FROM `sales 2024` WHERE y = 3", "SELECT * FROM `sales 2025` WHERE y = 3"),
        ("SELECT * FROM café1 WHERE y = 3", "SELECT * FROM café2 WHERE y = 3"),
    ],
)
def test_cache_never_merges_statements_that_name_other_objects(first: str, second: str) -> None:
    assert extract_objects(first, "d").reads != extract_objects(second, "d").reads


def test_circular_or_shared_view_definitions_terminate() -> None:
    views = ViewCatalog.from_definitions(
        {"a.v1": "SELECT * FROM a.v2", "a.v2": "SELECT * FROM v1 JOIN b ON 1 = 1"}
    )
    assert extract_objects("SELECT * FROM a.v1", "d", views).reads == ("a.b", "a.v1", "a.v2")


def test_a_view_read_from_tokens_marks_the_statement_fallback() -> None:
    views = ViewCatalog.from_definitions({"a.broken": "SELECT * FROM a.t WHERE ((( x"})
    found = extract_objects("SELECT * FROM a.broken", "d", views)
    assert found.reads == ("a.broken", "a.t")
    assert found.status == "fallback" and "a.broken" in (found.reason or "")
