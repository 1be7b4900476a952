"""What each read read: the columns, the partitions and the categories of data.

After classification, the statements behind the reads the findings count are read once
each (`forensics.sqlcolumns`) and the files HDFS reads opened are placed in their
partitions (`forensics.partitions`); the engine then joins both to every access
(`queries/reconstruct/access_details.sql`), so the per-event work stays in the engine.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from forensics import queries
from forensics.catalog import Catalog
from forensics.engine import load_batches, stream_rows
from forensics.partitions import ALL, from_path
from forensics.sqlcolumns import ColumnReader, TableSchema

_STATEMENT_READS = [
    ("query_text", pa.string()),
    ("database", pa.string()),
    ("engine", pa.string()),
    ("object", pa.string()),
    ("columns", pa.string()),
    ("partitions", pa.string()),
]
_PATH_PARTITIONS = [("path", pa.string()), ("object", pa.string()), ("partition", pa.string())]
_DIALECTS = {"trino": "trino"}


def table_schema(catalog: Catalog) -> TableSchema:
    """The catalog as the column reader needs it: columns, partition columns, views."""
    return TableSchema(
        columns=catalog.columns,
        partition_columns=catalog.partition_columns,
        views={
            view: (view.split(".", 1)[0], text) for view, text in catalog.view_definitions.items()
        },
    )


def load_read_details(con: duckdb.DuckDBPyConnection, schema: TableSchema) -> None:
    """The `access_details` view: columns, partitions and categories of every access. The
    statements whose answers an earlier run kept (`known_reads`, from the stage cache) are
    not read again.

    The statements and the files are read batch by batch as the engine returns them, and
    each batch's answers go back into the engine at once: at 100M events they are millions
    of rows, which held whole as Python tuples were the run's peak of memory."""
    reader = ColumnReader(schema, remember=False)  # every text comes once: nothing to reuse

    def statement_reads(batch: list[tuple]) -> list[tuple]:
        rows = []
        for text, database, engine in batch:
            found = reader.read(text, database or "default", _DIALECTS.get(engine, "hive"))
            for obj, answer in sorted((found or {}).items()):
                columns = None if answer.columns is None else ";".join(answer.columns)
                rows.append((text, database, engine, obj, columns, ";".join(answer.partitions)))
        return rows

    def path_partitions(batch: list[tuple]) -> list[tuple]:
        rows = []
        for path, obj, location in batch:
            relative = path[len(location) :] if path.startswith(location + "/") else ""
            spec = from_path(relative, schema.partition_columns.get(obj, ())) if relative else ALL
            rows.append((path, obj, spec))
        return rows

    queries.execute(con, "reconstruct/known_reads")
    queries.execute(con, "reconstruct/read_statements")
    statements = stream_rows(queries.relation(con, "reconstruct/new_read_statements"))
    load_batches(con, "statement_reads", _STATEMENT_READS, map(statement_reads, statements))
    queries.execute(con, "reconstruct/known_statement_reads")
    paths = stream_rows(queries.relation(con, "reconstruct/read_paths"))
    load_batches(con, "path_partitions", _PATH_PARTITIONS, map(path_partitions, paths))
    queries.execute(con, "reconstruct/access_details")
