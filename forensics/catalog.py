"""The warehouse's self-description from the case: objects, views, sensitivity, directory.

Each CSV is checked for its columns and values; a bad row is an `InputError` naming the
file, the line and what to fix, because a wrong catalog silently changes every finding.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from forensics.case import Case
from forensics.errors import InputError
from forensics.inputs import open_input, open_input_text
from forensics.names import is_object_name, principal_short

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*", re.IGNORECASE)
_SCHEME_RE2 = r"(?i)^[a-z][a-z0-9+.-]*://[^/]*"  # the same, for Arrow
_OBJECT_RE2 = r"^[a-z0-9_$][a-z0-9_$-]*\.[a-z0-9_$][a-z0-9_$-]*$"  # names.is_object_name
OBJECT_TYPES = ("table", "view")
PEOPLE_KINDS = ("human", "service")


class CatalogObject(NamedTuple):
    """A table or view of the warehouse, with its storage location (tables only). A named
    tuple: a catalog holds hundreds of thousands, made straight from Arrow's columns."""

    object: str
    type: str
    location: str | None


class CatalogObjects(Mapping[str, CatalogObject]):
    """The catalog's objects by name, kept as the columns Arrow read: a warehouse has
    hundreds of thousands, and most stages only ask whether a name is there or hand the
    whole table to the engine, so each `CatalogObject` is made when it is asked for. A
    name given twice keeps its first place and its last row, as a dict would."""

    def __init__(self, names: list[str], types: list[str], locations: list[str | None]) -> None:
        self._index = dict(zip(names, range(len(names)), strict=True))
        self._types, self._locations = types, locations

    def __getitem__(self, name: str) -> CatalogObject:
        i = self._index[name]
        return CatalogObject(name, self._types[i], self._locations[i])

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


@dataclass(frozen=True)
class Catalog:
    """Everything the case says about the warehouse and its people."""

    objects: Mapping[str, CatalogObject]
    view_definitions: dict[str, str]
    sensitivity: list[tuple[str, str, str]]  # (object, column, category)
    groups: dict[str, frozenset[str]]  # principal -> groups
    people: dict[str, tuple[str, str]] = field(default_factory=dict)  # principal -> (kind, org)
    #: optional columns of tables.csv: `columns`, `partition_columns` (`;`-joined, in the
    #: table's partition order) and `subject_column` (the column naming the data subject)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    partition_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    subject_columns: dict[str, str] = field(default_factory=dict)
    #: `objects` as Arrow read them (object, type, location; file order), when it did
    object_table: pa.Table | None = field(default=None, repr=False, compare=False)

    def principals(self) -> set[str]:
        """Every principal the directory knows."""
        return set(self.groups) | set(self.people)

    def objects_table(self) -> pa.Table:
        """`objects` as a table (object, type, location) in the catalog's order, for the
        engine: the one Arrow read when it holds exactly them (no name given twice)."""
        if self.object_table is not None and self.object_table.num_rows == len(self.objects):
            return self.object_table
        rows = list(self.objects.values())
        return pa.table(
            {
                "object": pa.array([o.object for o in rows], pa.string()),
                "type": pa.array([o.type for o in rows], pa.string()),
                "location": pa.array([o.location for o in rows], pa.string()),
            }
        )


def load_catalog(case: Case) -> Catalog:
    """Read the catalog and directory CSVs of a case.

    Arrow reads and checks each file column by column (a warehouse has hundreds of thousands
    of tables); a file it cannot take as it is (a short row, a bad value, anything not
    plain ASCII) is read row by row instead, which says what is wrong and on which line,
    and gives the same catalog otherwise."""
    fast = _objects_fast(case)
    return Catalog(
        objects=fast[0] if fast is not None else _objects(case),
        view_definitions=_views(case),
        sensitivity=sorted(set(_sensitivity_fast(case) or _sensitivity(case))),
        groups={p: frozenset(g) for p, g in (_groups_fast(case) or _groups(case)).items()},
        people=_people_fast(case) or _people(case),
        **_table_details(case),
        object_table=fast[1] if fast is not None else None,
    )


def _objects(case: Case) -> dict[str, CatalogObject]:
    objects = {}
    for line, row in _rows(case, case.tables, ("object", "type", "location")):
        obj = _object(case, case.tables, line, row["object"])
        kind = row["type"].strip().lower()
        if kind not in OBJECT_TYPES:
            raise _bad(case, case.tables, line, f"type must be table or view, not {kind!r}")
        location = storage_path(row["location"]) if kind == "table" else None
        objects[obj] = CatalogObject(obj, kind, location or None)
    return objects


TABLE_DETAILS = ("columns", "partition_columns", "subject_column")
_COLUMN = re.compile(r"^[a-z0-9_$]{1,128}$")


def _table_details(case: Case) -> dict[str, dict]:
    """The optional columns of tables.csv (`columns`, `partition_columns`,
    `subject_column`), by object; empty when the file has none of them."""
    details: dict[str, dict] = {"columns": {}, "partition_columns": {}, "subject_columns": {}}
    with open_input_text(case.tables, "utf-8", "replace", "") as f:
        header = next(csv.reader(f), [])
    present = [c for c in TABLE_DETAILS if c in header]
    if not present:
        return details
    for line, row in _rows(case, case.tables, ("object", *present)):
        obj = _object(case, case.tables, line, row["object"])
        for key in present:
            names = [n.strip().strip("`").lower() for n in (row[key] or "").split(";")]
            names = [n for n in names if n]
            bad = [n for n in names if not _COLUMN.match(n)]
            if bad:
                raise _bad(case, case.tables, line, f"{key}: {bad[0][:60]!r} is not a column name")
            if key == "subject_column" and len(names) > 1:
                raise _bad(case, case.tables, line, "subject_column: name one column")
            if names:
                target = "subject_columns" if key == "subject_column" else key
                details[target][obj] = names[0] if key == "subject_column" else tuple(names)
    return details


def _views(case: Case) -> dict[str, str]:
    views = {}
    for line, row in _rows(case, case.views, ("object", "definition")):
        views[_object(case, case.views, line, row["object"])] = row["definition"]
    return views


def _sensitivity(case: Case) -> list[tuple[str, str, str]]:
    sensitivity = []
    for line, row in _rows(case, case.sensitivity, ("object", "column", "category")):
        obj = _object(case, case.sensitivity, line, row["object"])
        category = row["category"].strip()
        if not category:
            raise _bad(case, case.sensitivity, line, "category is empty")
        sensitivity.append((obj, row["column"].strip().lower() or "*", category))
    return sensitivity


def _groups(case: Case) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for line, row in _rows(case, case.groups, ("principal", "group")):
        principal = _principal(case, case.groups, line, row["principal"])
        groups.setdefault(principal, set()).add(row["group"].strip())
    return groups


def _people(case: Case) -> dict[str, tuple[str, str]]:
    people = {}
    for line, row in _rows(case, case.people, ("principal", "kind", "org")):
        principal = _principal(case, case.people, line, row["principal"])
        kind = row["kind"].strip().lower()
        if kind not in PEOPLE_KINDS:
            raise _bad(case, case.people, line, f"kind must be human or service, not {kind!r}")
        people[principal] = (kind, row["org"].strip())
    return people


def _objects_fast(case: Case) -> tuple[CatalogObjects, pa.Table] | None:
    """`_objects` by Arrow, and the objects as Arrow's table; None: the row reader must
    read (or refuse) the file."""
    columns = _arrow_columns(case.tables, ("object", "type", "location"))
    if columns is None:
        return None
    names = _object_names(columns["object"])
    kinds = pc.utf8_lower(pc.utf8_trim_whitespace(columns["type"]))
    tables = pc.equal(kinds, "table")
    if names is None or not pc.all(pc.is_in(kinds, pa.array(OBJECT_TYPES))).as_py():
        return None
    paths = pc.replace_substring_regex(
        pc.utf8_trim_whitespace(columns["location"]), _SCHEME_RE2, ""
    )
    paths = pc.if_else(pc.equal(paths, "/"), paths, pc.utf8_rtrim(paths, "/"))
    locations = pc.if_else(
        pc.and_(tables, pc.not_equal(paths, "")), paths, pa.scalar(None, pa.string())
    )
    table = pa.table({"object": names, "type": kinds, "location": locations})
    objects = CatalogObjects(names.to_pylist(), kinds.to_pylist(), locations.to_pylist())
    return objects, table


def _sensitivity_fast(case: Case) -> list[tuple[str, str, str]] | None:
    """`_sensitivity` by Arrow; None: the row reader must read (or refuse) the file."""
    columns = _arrow_columns(case.sensitivity, ("object", "column", "category"))
    if columns is None:
        return None
    names = _object_names(columns["object"])
    categories = pc.utf8_trim_whitespace(columns["category"])
    if names is None or pc.any(pc.equal(categories, "")).as_py():
        return None
    cols = pc.utf8_lower(pc.utf8_trim_whitespace(columns["column"]))
    cols = pc.if_else(pc.equal(cols, ""), "*", cols)
    return list(zip(names.to_pylist(), cols.to_pylist(), categories.to_pylist(), strict=True))


def _groups_fast(case: Case) -> dict[str, set[str]] | None:
    """`_groups` by Arrow; None: the row reader must read (or refuse) the file."""
    columns = _arrow_columns(case.groups, ("principal", "group"))
    principals = None if columns is None else _principal_names(columns["principal"])
    if columns is None or principals is None:
        return None
    groups: dict[str, set[str]] = {}
    for principal, group in zip(
        principals.to_pylist(),
        pc.utf8_trim_whitespace(columns["group"]).to_pylist(),
        strict=True,
    ):
        groups.setdefault(principal, set()).add(group)
    return groups


def _people_fast(case: Case) -> dict[str, tuple[str, str]] | None:
    """`_people` by Arrow; None: the row reader must read (or refuse) the file."""
    columns = _arrow_columns(case.people, ("principal", "kind", "org"))
    principals = None if columns is None else _principal_names(columns["principal"])
    if columns is None or principals is None:
        return None
    kinds = pc.utf8_lower(pc.utf8_trim_whitespace(columns["kind"]))
    if not pc.all(pc.is_in(kinds, pa.array(PEOPLE_KINDS))).as_py():
        return None
    orgs = pc.utf8_trim_whitespace(columns["org"])
    return {
        principal: (kind, org)
        for principal, kind, org in zip(
            principals.to_pylist(), kinds.to_pylist(), orgs.to_pylist(), strict=True
        )
    }


def _arrow_columns(path: Path | None, columns: tuple[str, ...]) -> dict[str, pa.Array] | None:
    """The named columns of a CSV as strings, when Arrow reads it without a doubt: every
    row complete, the header naming them, every value plain ASCII without the control
    characters Python's `strip` treats as space. Otherwise None (and for a missing file,
    the empty columns)."""
    if path is None:
        return {c: pa.array([], pa.string()) for c in columns}
    try:
        with open_input(path) as f:
            if f.read(3) == b"\xef\xbb\xbf":
                return None  # a BOM: the row reader names the header it then sees
        table = pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                include_columns=list(columns),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, KeyError, OSError):
        return None
    found = {c: table.column(c).combine_chunks() for c in columns}
    for values in found.values():
        if len(values) and (
            not pc.all(pc.string_is_ascii(values)).as_py()
            or pc.any(pc.match_substring_regex(values, r"[\x1c-\x1f]")).as_py()
        ):
            return None
    return found


def _object_names(values: pa.Array) -> pa.Array | None:
    """`_object` for a column: the canonical names, or None when one is not a name."""
    names = pc.utf8_lower(pc.utf8_trim(pc.utf8_trim_whitespace(values), "`"))
    if len(names) and not pc.all(pc.match_substring_regex(names, _OBJECT_RE2)).as_py():
        return None
    return names


def _principal_names(values: pa.Array) -> pa.Array | None:
    """`_principal` for a column: the short names, or None when one is empty."""
    short = pc.utf8_lower(
        pc.replace_substring_regex(pc.utf8_trim_whitespace(values), r"(?s)[/@].*", "")
    )
    if len(short) and pc.any(pc.equal(short, "")).as_py():
        return None
    return short


def storage_path(location: str) -> str:
    """A location as the HDFS audit log writes paths: no scheme or authority, no trailing /."""
    path = _SCHEME.sub("", location.strip())
    return path.rstrip("/") if path != "/" else path


def _rows(case: Case, path: Path | None, columns: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    if path is None:
        return
    try:
        with open_input_text(path, newline="") as f:
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
