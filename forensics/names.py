"""Canonical names for principals and objects, as the evidence contract defines them."""

from __future__ import annotations

import re

_REALM_OR_HOST = re.compile(r"[/@]")
_IDENT = re.compile(r"^[a-z0-9_$][a-z0-9_$.-]*$")


def principal_short(raw: str) -> str:
    """`alice@CORP.EXAMPLE.COM` -> `alice`; `svc_etl/host@REALM` -> `svc_etl`; lower-cased."""
    return _REALM_OR_HOST.split(raw.strip(), maxsplit=1)[0].lower()


def object_name(database: str, table: str) -> str:
    """`db.table`, lower-case, without backquotes (Hive names are case-insensitive)."""
    return f"{database.strip('`').lower()}.{table.strip('`').lower()}"


def trino_object(catalog: str | None, schema: str | None, table: str | None) -> str | None:
    """A Trino `catalog.schema.table` as the Hive object `schema.table` it names."""
    if not schema or not table:
        return None
    return object_name(schema, table)


def is_object_name(value: str) -> bool:
    """True for a well-formed `db.table` name (used to validate parameters)."""
    return value.count(".") == 1 and all(_IDENT.match(part) for part in value.split("."))
