"""Service definitions: the resource hierarchy, matcher options and access types of a service.

Ranger drives evaluation from the service definition, and so do we: which resources form
a path (`database` > `table` > `column`), whether names are compared case-insensitively
and with wildcards, which resources are paths (recursive matching), and which access
types a grant implies (`all` implies every other Hive access).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forensics.errors import PolicyError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
BUNDLED = ("hive", "hdfs")
#: Ranger's marker access types (`ServiceDefUtil.ACCESS_TYPE_MARKERS`), in its order.
MARKERS = ("_CREATE", "_READ", "_UPDATE", "_DELETE", "_MANAGE", "_ALL")


@dataclass(frozen=True)
class ResourceDef:
    """One resource of the hierarchy and how its values are matched."""

    name: str
    parent: str
    wildcard: bool = True
    ignore_case: bool = True
    is_path: bool = False
    separator: str = "/"
    replace_tokens: bool = True  # `{USER}`/`{OWNER}` in values stand for the request's
    token_start: str = "{"
    token_end: str = "}"
    token_escape: str = "\\"
    token_prefix: str = ""
    replace_expressions: bool = True  # `${{USER._name}}` in values stands for the user


@dataclass(frozen=True)
class ServiceDef:
    """A service's resources (by name) and what each access type implies."""

    name: str
    resources: Mapping[str, ResourceDef]
    implied: Mapping[str, frozenset[str]] = field(default_factory=dict)
    access_types: frozenset[str] = frozenset()
    access_order: tuple[str, ...] = ()
    #: condition type -> (evaluator class's simple name, evaluator options)
    conditions: Mapping[str, tuple[str, Mapping[str, str]]] = field(default_factory=dict)

    def hierarchies(self) -> list[tuple[str, ...]]:
        """Every chain of resources from a root to a leaf, e.g. (database, table, column)."""
        children: dict[str, list[str]] = {}
        for res in self.resources.values():
            children.setdefault(res.parent, []).append(res.name)
        chains: list[tuple[str, ...]] = []

        def walk(chain: tuple[str, ...]) -> None:
            below = children.get(chain[-1], [])
            if not below:
                chains.append(chain)
            for child in below:
                walk((*chain, child))

        for root in children.get("", []):
            walk((root,))
        return chains

    def grants(self, access: str) -> frozenset[str]:
        """The access types a grant of `access` gives: itself and what it implies."""
        return frozenset({access}) | self.implied.get(access, frozenset())


def load_service_def(name_or_path: str) -> ServiceDef:
    """The bundled definition of `hive` or `hdfs`, or a Ranger service-def JSON file."""
    path = DATA_DIR / f"servicedef-{name_or_path}.json" if name_or_path in BUNDLED else None
    path = path or Path(name_or_path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"service definition {path}: cannot be read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise PolicyError(f"service definition {path}: not valid JSON ({exc.msg})") from None
    return service_def_from_dict(raw, str(path))


def service_def_from_dict(raw: Any, where: str = "service definition") -> ServiceDef:
    """A `ServiceDef` from the JSON of a Ranger service definition."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("resources"), list):
        raise PolicyError(f"{where}: expected an object with a list of resources")
    resources = {}
    for item in raw["resources"]:
        options = item.get("matcherOptions") or {}
        resources[item["name"]] = ResourceDef(
            name=item["name"],
            parent=item.get("parent") or "",
            wildcard=_flag(options.get("wildCard", True)),
            ignore_case=_flag(options.get("ignoreCase", True)),
            is_path=bool(
                item.get("isPath")
                or item.get("type") == "path"
                or any(k in str(item.get("matcher", "")) for k in ("Path", "URL"))
            ),
            separator=str(options.get("pathSeparatorChar", "/")) or "/",
            replace_tokens=_flag(options.get("replaceTokens", True)),
            replace_expressions=_flag(options.get("replaceReqExpressions", True)),
            token_start=_char(options.get("tokenDelimiterStart"), "{"),
            token_end=_char(options.get("tokenDelimiterEnd"), "}"),
            token_escape=_char(options.get("tokenDelimiterEscape"), "\\"),
            token_prefix=str(options.get("tokenDelimiterPrefix") or ""),
        )
    implied = {}
    names: list[str] = []
    for access in raw.get("accessTypes") or []:
        names.append(access["name"])
        if access.get("impliedGrants"):
            implied[access["name"]] = frozenset(access["impliedGrants"])
    implied.update(marker_grants(raw))
    conditions = {
        str(c["name"]): (
            str(c.get("evaluator") or "").rsplit(".", 1)[-1],
            dict(c.get("evaluatorOptions") or {}),
        )
        for c in raw.get("policyConditions") or []
        if isinstance(c, Mapping) and c.get("name")
    }
    return ServiceDef(
        name=str(raw.get("name", "")),
        resources=resources,
        implied=implied,
        access_types=frozenset(names),
        access_order=tuple(names),
        conditions=conditions,
    )


def marker_grants(raw: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Ranger 2.5's marker access types (`_CREATE`, `_READ`, `_UPDATE`, `_DELETE`,
    `_MANAGE`, `_ALL`) and what each grants: the service definition's own
    `markerAccessTypes` when it carries them (Ranger Admin sends them to plugins), else
    built as `ServiceDefUtil.getMarkerAccessTypes` does: every access type with its
    implied grants under `_ALL`, and under `_<CATEGORY>` those of that category."""
    given = raw.get("markerAccessTypes")
    if isinstance(given, list) and given:
        return {
            str(m["name"]): frozenset(m.get("impliedGrants") or ())
            for m in given
            if isinstance(m, Mapping) and m.get("name") in MARKERS
        }
    grants: dict[str, set[str]] = {marker: set() for marker in MARKERS}
    for access in raw.get("accessTypes") or []:
        name = access.get("name")
        if not name or name in MARKERS:
            continue
        given_too = {name, *(access.get("impliedGrants") or ())}
        grants["_ALL"] |= given_too
        category = str(access.get("category") or "").upper()
        if f"_{category}" in grants and category != "ALL":
            grants[f"_{category}"] |= given_too
    return {marker: frozenset(found) for marker, found in grants.items()}


def _char(value: object, default: str) -> str:
    """A one-character matcher option (Ranger takes the first character)."""
    return str(value)[0] if value not in (None, "") else default


def _flag(value: object) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"
