"""Partitions: which partitions of a table a read could have returned rows from.

A read names its partitions in one of two ways. An HDFS `open` names a file under the
table's location, and Hive lays partitions out as `k=v` folders (`.../ds=2026-06-01/
000000_0`, values escaped as Hive's `FileUtils.escapePathName` does). A statement narrows
by predicates on the table's partition columns (`WHERE ds = '2026-06-01'`, `ds IN (..)`,
`ds >= '..'`, `BETWEEN`), which Hive's partition pruner turns into the partitions it
reads. Anything else (no predicate, a predicate on a data column, an `OR` across columns)
reads every partition.

The evidence keeps only the partition spec: `ds=2026-06-01` (Hive's partition name, which
the metastore already lists) or a range on a partition column (`ds>=2026-06-01`), never a
literal compared with a data column (`user_name = 'dana.k'` stays inside the run).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

#: The spec of a read that nothing narrows: every partition of the object.
ALL = "*"
#: Comparison operators a condition may use; `=` may list several values.
OPERATORS = ("=", ">=", ">", "<=", "<")
# Characters Hive escapes in partition path names (FileUtils.charToEscape), plus `;`,
# which separates specs in an evidence cell.
_ESCAPE = set("\"#%'*/:=?\\\x7f{}[]^;") | {chr(c) for c in range(1, 32)}
_CONDITION = re.compile(r"^([a-z0-9_]+)(>=|<=|=|>|<)(.*)$")


@dataclass(frozen=True)
class Condition:
    """One partition column compared with constants: `=` with one or more values, or a
    one-sided range."""

    column: str
    op: str
    values: tuple[str, ...]

    def spec(self) -> str:
        """The condition as the evidence writes it (values escaped as Hive names paths)."""
        return "|".join(f"{self.column}{self.op}{escape(v)}" for v in self.values)

    def holds(self, value: str) -> bool:
        """Whether a partition whose column has `value` satisfies the condition."""
        if self.op == "=":
            return value in self.values
        bound = self.values[0]
        left, right = _comparable(value, bound)
        return {
            ">=": left >= right,
            ">": left > right,
            "<=": left <= right,
            "<": left < right,
        }[self.op]


def _comparable(a: str, b: str) -> tuple:
    """Numbers compare as numbers (Hive casts to the column's type), text as text."""
    try:
        return float(a), float(b)
    except ValueError:
        return a, b


def escape(value: str) -> str:
    """A partition value as Hive writes it in a partition name (`%XX` for special chars)."""
    return "".join(f"%{ord(c):02X}" if c in _ESCAPE else c for c in value)


def spec_of(conditions: Iterable[Condition]) -> str:
    """A conjunction of conditions as one spec, `/`-joined in column order."""
    return "/".join(c.spec() for c in sorted(conditions, key=lambda c: (c.column, c.op)))


def parse_spec(spec: str) -> dict[str, list[tuple[str, str]]]:
    """A spec back into `column -> [(op, value)]` (a `|` lists alternative `=` values)."""
    parsed: dict[str, list[tuple[str, str]]] = {}
    for part in spec.split("/"):
        for alternative in part.split("|"):
            found = _CONDITION.match(alternative)
            if found:
                column, op, value = found.groups()
                parsed.setdefault(column, []).append((op, unquote(value)))
    return parsed


def partition_values(name: str) -> dict[str, str]:
    """A partition name `ds=2026-06-01/hr=03` as its column values (unescaped); `` = none."""
    values = {}
    for part in name.split("/"):
        if "=" in part:
            key, value = part.split("=", 1)
            values[unquote(key).lower()] = unquote(value)
    return values


def spec_matches(spec: str, partition: str) -> bool:
    """Whether the partition named `partition` is among those `spec` reads.

    `*` reads every partition; a spec's conditions on columns the partition does not name
    cannot exclude it (a table without partitions is read whole)."""
    if spec == ALL:
        return True
    values = partition_values(partition)
    for column, conditions in parse_spec(spec).items():
        if column not in values:
            continue
        if conditions[0][0] == "=":
            if values[column] not in {v for op, v in conditions if op == "="}:
                return False
        elif not all(Condition(column, op, (v,)).holds(values[column]) for op, v in conditions):
            return False
    return True


def any_matches(specs: Sequence[str], partition: str) -> bool:
    """Whether any of a read's specs (`;`-split) reads the partition."""
    return any(spec_matches(s, partition) for s in specs)


def from_path(relative: str, partition_columns: Sequence[str] = ()) -> str:
    """The partition a file lies in, from its path below the table location.

    `relative` is the path after the location (`ds=2026-06-01/hr=03/000000_0`). The leading
    `k=v` folders name the partition; the catalog's partition columns, when it lists them,
    must be those keys in order. A file directly under the location, or a layout that does
    not match, reads `*` (the partition is not known)."""
    folders = [p for p in relative.strip("/").split("/")[:-1] if p]
    keys, parts = [], []
    for folder in folders:
        if "=" not in folder:
            break
        key, value = folder.split("=", 1)
        keys.append(unquote(key).lower())
        parts.append(f"{unquote(key).lower()}={escape(unquote(value))}")
    if not parts:
        return ALL
    if partition_columns and tuple(keys) != tuple(partition_columns)[: len(keys)]:
        return ALL
    return "/".join(parts)
