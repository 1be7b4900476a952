"""The warehouse's self-description from the case: objects, views, sensitivity, directory.

Each CSV is checked for its columns and values; a bad row is an `InputError` naming the
file, the line and what to fix, because a wrong catalog silently changes every finding.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from forensics.case import Case
from forensics.errors import InputError
from forensics.names import is_object_name, principal_short

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*", re.IGNORECASE)
OBJECT_TYPES = ("table", "view")
PEOPLE_KINDS = ("human", "service")


@dataclass(frozen=True)
class CatalogObject:
    """A table or view of the warehouse, with its storage location (tables only)."""

    object: str
    type: str
    location: str | None


@dataclass(frozen=True)
class Catalog:
    """Everything the case says about the warehouse and its people."""

    objects: dict[str, CatalogObject]
    view_definitions: dict[str, str]
    sensitivity: list[tuple[str, str, str]]  # (object, column, category)
    groups: dict[str, frozenset[str]]  # principal -> groups
    people: dict[str, tuple[str, str]] = field(default_factory=dict)  # principal -> (kind, org)

    def principals(self) -> set[str]:
        """Every principal the directory knows."""
        return set(self.groups) | set(self.people)


def load_catalog(case: Case) -> Catalog:
    """Read the catalog and directory CSVs of a case."""
    objects = {}
    for line, row in _rows(case, case.tables, ("object", "type", "location")):
        obj = _object(case, case.tables, line, row["object"])
        kind = row["type"].strip().lower()
        if kind not in OBJECT_TYPES:
            raise _bad(case, case.tables, line, f"type must be table or view, not {kind!r}")
        location = storage_path(row["location"]) if kind == "table" else None
        objects[obj] = CatalogObject(obj, kind, location or None)
    views = {}
    for line, row in _rows(case, case.views, ("object", "definition")):
        views[_object(case, case.views, line, row["object"])] = row["definition"]
    sensitivity = []
    for line, row in _rows(case, case.sensitivity, ("object", "column", "category")):
        obj = _object(case, case.sensitivity, line, row["object"])
        category = row["category"].strip()
        if not category:
            raise _bad(case, case.sensitivity, line, "category is empty")
        sensitivity.append((obj, row["column"].strip().lower() or "*", category))
    groups: dict[str, set[str]] = {}
    for line, row in _rows(case, case.groups, ("principal", "group")):
        principal = _principal(case, case.groups, line, row["principal"])
        groups.setdefault(principal, set()).add(row["group"].strip())
    people = {}
    for line, row in _rows(case, case.people, ("principal", "kind", "org")):
        principal = _principal(case, case.people, line, row["principal"])
        kind = row["kind"].strip().lower()
        if kind not in PEOPLE_KINDS:
            raise _bad(case, case.people, line, f"kind must be human or service, not {kind!r}")
        people[principal] = (kind, row["org"].strip())
    return Catalog(
        objects=objects,
        view_definitions=views,
        sensitivity=sorted(set(sensitivity)),
        groups={p: frozenset(g) for p, g in groups.items()},
        people=people,
    )


def storage_path(location: str) -> str:
    """A location as the HDFS audit log writes paths: no scheme or authority, no trailing /."""
    path = _SCHEME.sub("", location.strip())
    return path.rstrip("/") if path != "/" else path


def _rows(case: Case, path: Path | None, columns: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    if path is None:
        return
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(
                    f"{case.relpath(path)}: missing column(s) {', '.join(missing)}; "
                    f"the header must name {','.join(columns)}"
                )
            for row in reader:
                if None in row or any(row.get(c) is None for c in columns):
                    raise _bad(case, path, reader.line_num, "wrong number of fields")
                yield reader.line_num, row
    except UnicodeDecodeError:
        raise InputError(f"{case.relpath(path)}: not UTF-8; re-save the file as UTF-8") from None


def _object(case: Case, path: Path | None, line: int, value: str) -> str:
    name = value.strip().strip("`").lower()
    if not is_object_name(name):
        raise _bad(case, path, line, f"object {value[:60]!r} is not a db.table name")
    return name


def _principal(case: Case, path: Path | None, line: int, value: str) -> str:
    name = principal_short(value)
    if not name:
        raise _bad(case, path, line, "principal is empty")
    return name


def _bad(case: Case, path: Path | None, line: int, what: str) -> InputError:
    return InputError(f"{case.relpath(path) if path else '?'} line {line}: {what}")
