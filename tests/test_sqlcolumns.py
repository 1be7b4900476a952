"""Columns and partitions a statement read (`forensics.sqlcolumns`, `forensics.partitions`).

Columns are checked against Hive's own column lineage (`tests/data/hive_lineage/`, from
Hive's LineageLogger test outputs); partitions against Hive's partition layout and
pruning rules as tables of statement -> specs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forensics import partitions
from forensics.sqlcolumns import ColumnReader, TableRead, TableSchema

LINEAGE = Path(__file__).parent / "data" / "hive_lineage" / "cases.jsonl"


def _lineage_cases() -> list[tuple[dict, dict]]:
    headers, cases = {}, []
    for line in LINEAGE.read_text().splitlines():
        record = json.loads(line)
        if "source" in record:
            headers[record["file"]] = record
        else:
            cases.append((headers[record["file"]], record))
    return cases


#: Where we knowingly differ from Hive's lineage, and why: the columns we add or omit.
KNOWN = {
    # A grouping key that is not selected feeds no output column, so lineage omits it,
    # but the scan reads it (Hive's column pruner keeps it): we list it.
    "insert into table dest_l1 partition (ds='tomorrow') select min(cint)": {"+": {"csmallint"}},
    # Hive's lineage names every column of the table under a windowing function in these
    # two (the PTF input row); the statement references only these.
    "select cint, rank() over(order by cint)": {"-": {
        "cbigint", "cboolean1", "cboolean2", "cdouble", "cfloat", "csmallint", "cstring1",
        "cstring2", "ctimestamp1", "ctimestamp2", "ctinyint"}},
    "with v2 as   (select cdouble, count(cint) over() a": {"-": {
        "cboolean2", "cfloat", "csmallint", "cstring1", "cstring2", "ctimestamp1",
        "ctimestamp2", "ctinyint"}},
}  # fmt: skip


@pytest.mark.parametrize(
    ("header", "case"), _lineage_cases(), ids=lambda c: c.get("query", "")[:40]
)
def test_columns_agree_with_hive_lineage(header: dict, case: dict) -> None:
    views = {name: ("default", text) for name, text in case["views"].items()}
    reader = ColumnReader(TableSchema(header["schema"], header["partition_columns"], views))
    found = reader.read(case["query"], "default")
    assert found is not None
    got = {t: set(r.columns or ()) for t, r in found.items()}
    want = {t: set(c) for t, c in case["columns"].items()}
    query = " ".join(case["query"].split())
    known = next((k for p, k in KNOWN.items() if query.startswith(" ".join(p.split()))), None)
    if known:
        (table,) = want
        want[table] = (want[table] | known.get("+", set())) - known.get("-", set())
    assert got == want
    assert all(r.columns is not None for r in found.values())


def test_lineage_cases_cover_the_two_hive_files() -> None:
    cases = _lineage_cases()
    assert {h["file"] for h, _ in cases} == {"lineage2", "lineage3"}
    assert len(cases) >= 60
    assert len([c for _, c in cases if c["views"]]) >= 3  # reads through views


SCHEMA = TableSchema(
    columns={
        "mci.keystrokes": ["user_name", "key_text", "ts"],
        "mci.private_conversations": ["sender", "recipient", "msg_text"],
    },
    partition_columns={"mci.keystrokes": ["ds"], "mci.private_conversations": ["ds", "hr"]},
    views={
        "mci.summary": (
            "mci",
            "SELECT c.sender, c.recipient, count(*) AS n FROM private_conversations c "
            "GROUP BY c.sender, c.recipient",
        )
    },
)


@pytest.mark.parametrize(
    ("statement", "table", "columns", "specs"),
    [
        ("SELECT * FROM mci.keystrokes WHERE ds = '2026-06-17' AND user_name = 'dana'",
         "mci.keystrokes", ("ds", "key_text", "ts", "user_name"), ("ds=2026-06-17",)),
        ("SELECT key_text FROM mci.keystrokes WHERE ds IN ('2026-06-02', '2026-06-01')",
         "mci.keystrokes", ("ds", "key_text"), ("ds=2026-06-01|ds=2026-06-02",)),
        ("SELECT key_text FROM mci.keystrokes k WHERE k.ds = '1' OR k.ds = '2'",
         "mci.keystrokes", ("ds", "key_text"), ("ds=1|ds=2",)),
        ("SELECT key_text FROM mci.keystrokes WHERE ds = '1' OR user_name = 'x'",
         "mci.keystrokes", ("ds", "key_text", "user_name"), ("*",)),
        ("SELECT key_text FROM mci.keystrokes WHERE '2026-06-01' <= ds",
         "mci.keystrokes", ("ds", "key_text"), ("ds>=2026-06-01",)),
        ("SELECT key_text FROM mci.keystrokes WHERE ds BETWEEN '2026-06-01' AND '2026-06-03'",
         "mci.keystrokes", ("ds", "key_text"), ("ds<=2026-06-03/ds>=2026-06-01",)),
        ("SELECT count(*) FROM mci.keystrokes WHERE user_name = 'dana'",
         "mci.keystrokes", ("user_name",), ("*",)),
        ("SELECT count(*) FROM mci.keystrokes",
         "mci.keystrokes", (), ("*",)),
        ("SELECT msg_text FROM mci.private_conversations WHERE ds = 'a' AND hr = '03'",
         "mci.private_conversations", ("ds", "hr", "msg_text"), ("ds=a/hr=03",)),
        # a self-join narrowed on one side only reads every partition
        ("SELECT a.key_text FROM mci.keystrokes a JOIN mci.keystrokes b "
         "ON a.user_name = b.user_name WHERE a.ds = '1'",
         "mci.keystrokes", ("ds", "key_text", "user_name"), ("*",)),
        ("WITH k AS (SELECT user_name FROM mci.keystrokes WHERE ds = 'x') SELECT * FROM k",
         "mci.keystrokes", ("ds", "user_name"), ("ds=x",)),
        ("INSERT OVERWRITE DIRECTORY '/tmp/x' SELECT msg_text FROM mci.private_conversations",
         "mci.private_conversations", ("msg_text",), ("*",)),
        # through a view: the view's columns trace to the table's, unused ones pruned
        ("SELECT sender FROM mci.summary", "mci.private_conversations",
         ("recipient", "sender"), ("*",)),
        ("SELECT a FROM other.t", "other.t", ("a",), ("*",)),
        ("SELECT * FROM other.t", "other.t", None, ("*",)),
    ],
)  # fmt: skip
def test_columns_and_partitions_of_statements(statement, table, columns, specs) -> None:
    found = ColumnReader(SCHEMA).read(statement, "default")
    assert found is not None
    assert found[table].columns == columns
    assert found[table].partitions == specs


def test_an_unplaced_column_makes_only_its_candidate_tables_unknown() -> None:
    found = ColumnReader(SCHEMA).read(
        "SELECT x FROM other.t a JOIN mci.keystrokes k ON a.id = k.user_name", "default"
    )
    assert found["other.t"].columns is None
    assert found["mci.keystrokes"].columns == ("user_name",)


def test_an_unreadable_statement_is_none() -> None:
    assert ColumnReader(SCHEMA).read("dfs -cat /warehouse/x", "default") is None


@pytest.mark.parametrize(
    ("relative", "columns", "spec"),
    [
        ("ds=2026-06-01/000000_0", (), "ds=2026-06-01"),
        ("ds=2026-06-01/hr=03/000000_0", ("ds", "hr"), "ds=2026-06-01/hr=03"),
        ("ds=2026-06-01/hr=03/000000_0", ("ds",), "*"),  # not the catalog's layout
        ("000000_0", ("ds",), "*"),
        ("ds=2026-06-01%3A12/000000_0", ("ds",), "ds=2026-06-01%3A12"),  # Hive's escape
        ("/ds=a/delta_0000001_0000001/bucket_00000", ("ds",), "ds=a"),  # ACID folders
    ],
)
def test_partition_from_path(relative, columns, spec) -> None:
    assert partitions.from_path(relative, columns) == spec


@pytest.mark.parametrize(
    ("spec", "partition", "matches"),
    [
        ("*", "ds=2026-06-01", True),
        ("ds=2026-06-01", "ds=2026-06-01", True),
        ("ds=2026-06-01", "ds=2026-06-02", False),
        ("ds=2026-06-01|ds=2026-06-02", "ds=2026-06-02", True),
        ("ds>=2026-06-01", "ds=2026-05-31", False),
        ("ds<=2026-06-03/ds>=2026-06-01", "ds=2026-06-02", True),
        ("ds<=2026-06-03/ds>=2026-06-01", "ds=2026-06-04", False),
        ("ds=2026-06-01", "ds=2026-06-01/hr=03", True),  # a partial spec reads all under it
        ("ds=a/hr=03", "ds=a/hr=04", False),
        ("hr>9", "hr=10", True),  # numbers compare as numbers
        ("ds=2026-06-01", "", True),  # a table without partitions is read whole
    ],
)
def test_spec_matches(spec, partition, matches) -> None:
    assert partitions.spec_matches(spec, partition) is matches


SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "hive_statements.jsonl"
PLAIN = [
    "SELECT * FROM mci.keystrokes WHERE ds = '2026-06-17' LIMIT 100",
    "select count(*) from mci.keystrokes where ds >= '2026-06-17'",
    "SELECT user_name, key_text FROM keystrokes k WHERE k.ds IN ('a', 'b') ORDER BY key_text DESC",
    "SELECT user_name, count(*) AS n FROM mci.keystrokes GROUP BY user_name ORDER BY n",
    "CREATE TABLE sandbox.c AS SELECT * FROM mci.keystrokes WHERE '2026-06-01' <= ds",
    "INSERT OVERWRITE TABLE sandbox.c SELECT key_text FROM mci.keystrokes "
    "WHERE ds BETWEEN '1' AND '2'",
    "SELECT user_id, event_time FROM hive.mci.keystrokes LIMIT 500",
    "SELECT max(ts) FROM mci.keystrokes WHERE key_text LIKE '%pass%' AND user_name IS NOT NULL",
    "SELECT nope FROM mci.keystrokes",  # a column the catalog does not list: sqlglot decides
    "SELECT * FROM mci.summary",  # a view: sqlglot expands it
]


def _agreement_cases() -> list[tuple[str, str, TableSchema]]:
    cases = [(s, "mci", SCHEMA) for s in PLAIN]
    for header, case in _lineage_cases():
        schema = TableSchema(header["schema"], header["partition_columns"], {})
        cases.append((case["query"], "default", schema))
    corpus = TableSchema({}, {"default.srcpart": ["ds", "hr"]}, {})
    for line in SHARED_CORPUS.read_text().splitlines():
        record = json.loads(line)
        cases.append((record["query"], record["database"], corpus))
    return cases


def test_the_scanner_agrees_with_sqlglot_wherever_it_answers() -> None:
    """The plain-statement scanner (`forensics.sqlcolumns_scan`) against the sqlglot path
    on the Hive corpus, the lineage cases and plain statements over a described table."""
    from forensics.sqlcolumns_scan import scan

    answered = 0
    for text, database, schema in _agreement_cases():
        found = scan(text, database, schema.columns, schema.partition_columns)
        if found is None or found[0] in schema.views:
            continue  # the reader never asks the scanner about a view
        full = ColumnReader(schema)._analyze(text, database, "hive")
        if full is None:
            continue  # sqlglot cannot read it (`hour` as an alias): the scanner answers
        obj, columns, specs = found
        answered += 1
        assert full == {obj: TableRead(obj, columns, specs)}, text
    assert answered >= 1400


def test_reads_through_the_reader_are_the_same_with_and_without_the_scanner() -> None:
    reader = ColumnReader(SCHEMA)
    for text in PLAIN:
        assert reader.read(text, "mci") == ColumnReader(SCHEMA)._analyze(text, "mci", "hive"), text
