"""The benchmark's Spark comparison runs the toolkit's own query files: `benchmarks/spark_sql.py`
rewrites what sqlglot cannot transpile from DuckDB's dialect, with the same meaning."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from forensics import engine, queries
from forensics.case import load_case
from forensics.catalog import load_catalog
from forensics.reconstruct import MAY_WRITE, load_scope, reconstruct
from forensics.scope import derive_scope

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _translator_module():
    if "spark_sql" not in sys.modules:
        spec = importlib.util.spec_from_file_location("spark_sql", BENCHMARKS / "spark_sql.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["spark_sql"] = module
        spec.loader.exec_module(module)
    return sys.modules["spark_sql"]


def _one(sql: str, schema: dict | None = None, **params) -> str:
    translator = _translator_module().Translator(params=params)
    ((statement, _target, _kind),) = translator.statements(sql, schema or {})
    return statement


def test_a_scalar_macro_call_becomes_its_body_with_the_arguments():
    translator = _translator_module().Translator()
    assert translator.statements("CREATE MACRO twice(x) AS x + x", {}) == []
    ((sql, _, _),) = translator.statements("SELECT twice(a.n) AS m FROM a", {})
    assert sql == "SELECT (a.n + a.n) AS m FROM a"


def test_a_table_macro_becomes_a_subquery_of_the_table_named():
    translator = _translator_module().Translator()
    translator.statements(
        "CREATE MACRO rows_of(t) AS TABLE SELECT x FROM query_table(t) WHERE x > 0", {}
    )
    ((sql, _, _),) = translator.statements("SELECT r.x FROM rows_of(numbers) r", {})
    assert sql == "SELECT r.x FROM (SELECT x FROM numbers WHERE x > 0) AS r"


def test_stars_with_exclude_and_replace_are_expanded_from_the_schema():
    schema = {"t": {"a": "string", "b": "string", "c": "bigint"}}
    sql = _one("SELECT * EXCLUDE (b) REPLACE (c + 1 AS c) FROM t", schema)
    assert sql == "SELECT t.a AS a, t.c + 1 AS c FROM t AS t"


def test_layouts_filters_in_windows_and_ordered_distinct_lists_take_sparks_form():
    assert _one("SELECT strftime(t, '%Y-%m-%dT%H:%M:%S.%gZ') FROM x") == (
        "SELECT DATE_FORMAT(t, 'yyyy-MM-dd\\'T\\'HH:mm:ss.SSS\\'Z\\'') FROM x"
    )
    assert _one("SELECT count(*) FILTER (WHERE a = 1) OVER (PARTITION BY b) FROM x") == (
        "SELECT COUNT(CASE WHEN a = 1 THEN 1 END) OVER (PARTITION BY b) FROM x"
    )
    assert _one("SELECT string_agg(DISTINCT v, ';' ORDER BY v) FROM x") == (
        "SELECT ARRAY_JOIN(ARRAY_SORT(COLLECT_SET(v)), ';') FROM x"
    )


def test_regular_expressions_lists_and_open_timestamps_keep_duckdbs_meaning():
    sql = _one(
        "SELECT regexp_full_match(m, '[a-z]*'), regexp_replace(m, '(x)([0-9]+)', '\\1?', 'g'), "
        "len(string_split(p, '/')), list_slice(string_split(p, '/'), 1, 3), "
        "CAST('infinity' AS TIMESTAMP) FROM x"
    )
    assert "m RLIKE '^(?:[a-z]*)$'" in sql  # Spark's RLIKE finds; DuckDB's full match anchors
    assert "'$1?'" in sql  # Java's group reference
    assert "SIZE(SPLIT(" in sql
    assert "SLICE(SPLIT(p, CONCAT('\\\\Q', '/', '\\\\E')), 1, (3 - 1 + 1))" in sql
    assert "CAST('9999-12-31 23:59:59.999' AS TIMESTAMP" in sql


def test_parameters_become_the_literals_the_toolkit_binds():
    assert _one("SELECT $n + 1, $s", n=2, s="a'b") == "SELECT 2 + 1, 'a\\'b'"


def test_recursive_queries_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="WITH RECURSIVE"):
        _one(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION SELECT n + 1 FROM r WHERE n < 3) "
            "SELECT n FROM r"
        )


def test_every_benchmarked_query_file_translates_but_the_recursive_one(tmp_path):
    """On the schemas of a real run's tables and views (the star expansion needs them)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_investigate
        import synth
        import synth_events
    finally:
        sys.path.remove(str(BENCHMARKS))
    root = tmp_path / "incident"
    small = dict(events=5_000, tables=120, exposed=30, principals=100, tables_per_db=20)
    synth_events.generate(synth.Params(**small), root)
    case = load_case(root / "case.yaml")
    catalog = load_catalog(case)
    con = engine.connect()
    bench_investigate.raw_events_view(con, root / "events")
    named = {p for (p,) in con.sql("SELECT DISTINCT principal FROM raw_events").fetchall()}
    load_scope(con, catalog, derive_scope(case, catalog, named), case.on_behalf_services)
    reconstruct(con, None)
    schema: dict[str, dict[str, str]] = {}
    for table, column in con.sql(
        "SELECT table_name, column_name FROM information_schema.columns"
    ).fetchall():
        schema.setdefault(table, {})[column] = "string"
    con.close()
    translator = _translator_module().Translator(
        params={"may_write": MAY_WRITE, "keep_literals": 0}
    )
    refused = []
    for name, _ in bench_investigate.SPARK_QUERIES:
        try:
            translator.statements(queries.load(name).sql, schema)
        except ValueError:
            refused.append(name)
    assert refused == ["reconstruct/object_categories"]
    assert set(translator.macros) == {"statement_key_of", "access_to"}
