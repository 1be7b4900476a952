"""A HiveServer2 result read as Arrow columns (forensics/thrift_rows.py).

The Thrift columns are built by hand with the values and null bit sets the protocol
defines (bit i % 8 of byte i // 8 set: row i is null); on the real Spark Thrift Server,
the columns read batch by batch give the rows pyhive's own row-by-row fetch gives.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from TCLIService import ttypes

from forensics import warehouse
from forensics.thrift_rows import column_array, fetch_arrow
from tests.conftest import ThriftServer

T = ttypes
COLUMNS = [
    # (a Thrift column, the type the result's schema names, the values it holds)
    (T.TColumn(stringVal=T.TStringColumn(["a", "", "c"], b"\x02")), "STRING_TYPE",
     ["a", None, "c"]),
    (T.TColumn(stringVal=T.TStringColumn(["a", "b"], b"")), "STRING_TYPE", ["a", "b"]),
    (T.TColumn(i64Val=T.TI64Column([1, 0, 3], b"\x00")), "BIGINT_TYPE", [1, 0, 3]),
    (T.TColumn(i64Val=T.TI64Column([7, 0], b"\x02")), "BIGINT_TYPE", [7, None]),
    (T.TColumn(i32Val=T.TI32Column([5, 6], b"\x01")), "INT_TYPE", [None, 6]),
    (T.TColumn(boolVal=T.TBoolColumn([True, False, False], b"\x04")), "BOOLEAN_TYPE",
     [True, False, None]),
    (T.TColumn(doubleVal=T.TDoubleColumn([0.5], b"")), "DOUBLE_TYPE", [0.5]),
    # the ninth row's bit is the first of the second byte
    (T.TColumn(stringVal=T.TStringColumn([str(i) for i in range(10)], b"\x81\x01")),
     "STRING_TYPE", [None, "1", "2", "3", "4", "5", "6", None, None, "9"]),
    (T.TColumn(stringVal=T.TStringColumn(
        ["2026-06-18 09:15:02.13", "2026-06-18 09:15:02", ""], b"\x04")), "TIMESTAMP_TYPE",
     [datetime(2026, 6, 18, 9, 15, 2, 130000), datetime(2026, 6, 18, 9, 15, 2), None]),
    (T.TColumn(stringVal=T.TStringColumn(["1.50", ""], b"\x02")), "DECIMAL_TYPE",
     [Decimal("1.50"), None]),
    (T.TColumn(stringVal=T.TStringColumn([], b"")), "STRING_TYPE", []),
]  # fmt: skip


@pytest.mark.parametrize(("column", "kind", "values"), COLUMNS)
def test_a_thrift_column_becomes_its_values_with_its_nulls(column, kind, values) -> None:
    assert column_array(column, kind).to_pylist() == values


def test_a_column_without_values_is_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        column_array(T.TColumn(), "STRING_TYPE")


QUERY = (
    "SELECT id, CAST(id AS STRING) AS text, IF(id % 3 = 0, NULL, concat('p', id)) AS maybe, "
    "id % 2 = 0 AS even, IF(id % 5 = 0, NULL, id) AS sparse, "
    "timestamp_millis(1781774102000 + id * 1001) AS at "
    "FROM range(2345) ORDER BY id"
)


def test_columns_batch_by_batch_are_pyhives_rows(thrift_server: ThriftServer) -> None:
    """Several batches (500 rows asked per fetch, the last one short): the same rows, in
    the same order, with the same nulls and times, as pyhive's own fetch."""
    wh = warehouse.HiveWarehouse(thrift_server.profile())
    seen: list[int] = []
    try:
        cursor = wh.con.cursor()
        cursor.execute(QUERY)
        expected = cursor.fetchall()
        cursor.close()
        cursor = wh.con.cursor()
        cursor.execute(QUERY)
        found = fetch_arrow(cursor, 500, seen.append)
        cursor.close()
    finally:
        wh.close()
    assert found.column_names == ["id", "text", "maybe", "even", "sparse", "at"]
    assert seen == [500, 1000, 1500, 2000, 2345]
    assert len(expected) == 2345
    assert list(zip(*(c.to_pylist() for c in found.columns), strict=True)) == expected


def test_a_statement_without_rows_is_an_empty_table(thrift_server: ThriftServer) -> None:
    wh = warehouse.HiveWarehouse(thrift_server.profile())
    try:
        empty = wh.query("SELECT 1 AS one WHERE false")
        assert (empty.num_rows, empty.column_names) == (0, ["one"])
        assert wh.query("SELECT 1 AS one").to_pylist() == [{"one": 1}]
    finally:
        wh.close()
