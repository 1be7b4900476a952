"""Ranger Admin's record of policy changes, read into a timeline of policy changes.

Two records are read (`docs/case-and-evidence.md`, "Policy history", shows their shapes):

- `ranger-policy-versions`: the policies Ranger Admin keeps for every version
  (`GET /service/plugins/policy/{id}/version/{n}`: a whole `RangerPolicy` with `id`,
  `version`, `updateTime`, `updatedBy`) and, optionally, each policy's version list
  (`GET .../policy/{id}/versionList`: `{"value": "1,2,3"}`), which proves none is missing.
- `ranger-admin-audit`: Ranger Admin's audit of changes (`GET /service/assets/report`:
  `{"vXTrxLogs": [...]}`), one row per changed attribute (`attributeName`, `previousValue`,
  `newValue`) or, in the v2 form, one row per change with `changeInfo.attributes`.

Each change knows its time, policy id, version, admin user and action; applying the
changes in time order to the policies in force gives the policy set after every change.
Anything that makes the history inconsistent is a `PolicyError` naming file and entry: an
investigation must not reason from a history with holes in it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from forensics.errors import PolicyError
from forensics.inputs import input_text

POLICY_VERSIONS, ADMIN_AUDIT = "ranger-policy-versions", "ranger-admin-audit"
CREATE, UPDATE, DELETE = "create", "update", "delete"
#: Ranger's class type of a policy in its admin audit (`AppConstants.CLASS_TYPE_RANGER_POLICY`).
POLICY_CLASS = 1020
#: Admin audit actions on policies (`RangerPolicyService`), as create, update or delete.
AUDIT_ACTIONS = {
    "create": CREATE,
    "import create": CREATE,
    "update": UPDATE,
    "delete": DELETE,
    "import delete": DELETE,
}
#: Admin audit attribute names (`RangerPolicyService.trxLogAttrs`) -> policy field.
AUDIT_FIELDS = {
    "Policy Name": "name",
    "Policy Description": "description",
    "Policy Status": "isEnabled",
    "Policy Resources": "resources",
    "Policy Conditions": "conditions",
    "Policy Items": "policyItems",
    "DenyPolicy Items": "denyPolicyItems",
    "Allow Exceptions": "allowExceptions",
    "Deny Exceptions": "denyExceptions",
    "Masked Policy Items": "dataMaskPolicyItems",
    "Row level filter Policy Items": "rowFilterPolicyItems",
    "Audit Status": "isAuditEnabled",
    "Policy Labels": "policyLabels",
    "Validity Schedules": "validitySchedules",
    "Priority": "policyPriority",
    "Zone Name": "zoneName",
    "Deny All Other Accesses": "isDenyAllElse",
}
_LISTS = frozenset(
    {
        "conditions",
        "policyItems",
        "denyPolicyItems",
        "allowExceptions",
        "denyExceptions",
        "dataMaskPolicyItems",
        "rowFilterPolicyItems",
        "policyLabels",
        "validitySchedules",
    }
)
_BOOLS = frozenset({"isEnabled", "isAuditEnabled", "isDenyAllElse"})
#: The admin audit and the version history of one change may differ by this much.
SAME_CHANGE = timedelta(seconds=2)
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class PolicyChange:
    """One change of one policy: when, which, by whom, and what it became.

    `policy` is the whole policy after the change (version history); `fields` only the
    attributes the change set (admin audit). A delete carries neither."""

    time: datetime
    policy_id: int
    action: str  # CREATE, UPDATE or DELETE
    user: str
    version: int | None  # None: the admin audit does not say; derived when applied
    where: str  # file and entry, for messages
    name: str = ""
    policy: Mapping[str, Any] | None = field(default=None, compare=False)
    fields: Mapping[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class AppliedChange:
    """A change as applied to the policies in force, with the version it produced."""

    change: PolicyChange
    version: int | None

    def label(self) -> str:
        """How evidence names the change: `policy 7 v3 update by mallory`."""
        c = self.change
        v = f" v{self.version}" if self.version is not None and c.action != DELETE else ""
        return f"policy {c.policy_id}{v} {c.action} by {c.user}"


@dataclass(frozen=True)
class HistoryFile:
    """How the entries of one history file were accounted for (the manifest lists these)."""

    path: str  # as the case names it
    format: str
    entries: int  # policy versions, version lists or audit rows read
    policy_changes: int  # the changes they make up (an audit transaction is one change)
    other_objects: int  # audit rows about users, services, zones...: not policy changes


@dataclass(frozen=True)
class PolicyHistory:
    """The changes of every history file, in time order, and how each file was read."""

    changes: tuple[PolicyChange, ...]
    files: tuple[HistoryFile, ...]

    @property
    def entries(self) -> int:
        """Policy versions, version lists and audit rows read, in all files."""
        return sum(f.entries for f in self.files)

    @property
    def other_objects(self) -> int:
        """Audit rows about something other than a policy, in all files."""
        return sum(f.other_objects for f in self.files)


Namer = Callable[[Path], str]


def load_history(sources: Iterable[tuple[str, Sequence[Path]]], name: Namer = str) -> PolicyHistory:
    """Read every `(format, files)` source into one timeline of policy changes.

    Where both records cover a policy, its versions carry the policy text; the audit must
    agree with them (same change within two seconds, same admin user) and adds what the
    versions cannot show: deletions."""
    versions: list[PolicyChange] = []
    audit: list[PolicyChange] = []
    listed: dict[int, tuple[set[int], str]] = {}
    counts = []
    for fmt, files in sources:
        for path in files:
            raw = _json(path, name)
            if fmt == POLICY_VERSIONS:
                found, lists = _read_versions(raw, path, name)
                versions += found
                entries, other = len(found) + len(lists), 0
                for policy_id, numbers in lists.items():
                    listed.setdefault(policy_id, (set(), name(path)))[0].update(numbers)
            elif fmt == ADMIN_AUDIT:
                found, entries, other = _read_audit(raw, path, name)
                audit += found
            else:
                raise PolicyError(f"policy history {name(path)}: unknown format {fmt!r}")
            counts.append(HistoryFile(name(path), fmt, entries, len(found), other))
    versions = _check_versions(versions, listed)
    changes = _merge(versions, audit)
    return PolicyHistory(tuple(changes), tuple(counts))


def _json(path: Path, name: Namer) -> Any:
    try:
        return json.loads(input_text(Path(path)))
    except OSError as exc:
        raise PolicyError(f"policy history {name(path)}: cannot be read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise PolicyError(
            f"policy history {name(path)}: not valid JSON{line}; give Ranger Admin's output"
        ) from None


def _read_versions(
    raw: Any, path: Path, name: Namer
) -> tuple[list[PolicyChange], dict[int, list[int]]]:
    """A per-version policy file (one policy, a list, or `{"policies": [...]}`), or a
    version list file `{"value": "1,2,3"}` whose policy id is the number in its name."""
    if isinstance(raw, dict) and set(raw) == {"value"}:
        return [], {_listed_policy(path, name): _version_list(raw["value"], path, name)}
    if isinstance(raw, dict) and isinstance(raw.get("policies"), list):
        raw = raw["policies"]
    policies = raw if isinstance(raw, list) else [raw]
    changes = []
    for i, policy in enumerate(policies, start=1):
        where = f"{name(path)} policy #{i}" if isinstance(raw, list) else name(path)
        changes.append(_version_change(policy, where))
    return changes, {}


def _listed_policy(path: Path, name: Namer) -> int:
    """The policy a version list belongs to: the number in its file name, else its folder's."""
    for text in (path.stem, path.parent.name):
        found = _DIGITS.findall(text)
        if len(found) == 1:
            return int(found[0])
    raise PolicyError(
        f"policy history {name(path)}: a version list does not say its policy; "
        "name the file after the policy id, e.g. policy-7-versionList.json"
    )


def _version_list(value: Any, path: Path, name: Namer) -> list[int]:
    if not isinstance(value, str) or not all(
        v.strip().isdigit() for v in value.split(",") if v.strip()
    ):
        raise PolicyError(
            f'policy history {name(path)}: "value" must list version numbers, e.g. "1,2,3"'
        )
    return [int(v) for v in value.split(",") if v.strip()]


def _version_change(policy: Any, where: str) -> PolicyChange:
    """One `RangerPolicy` of the version history as the change that produced it."""
    if not isinstance(policy, dict):
        raise PolicyError(f"policy history {where}: expected a Ranger policy object")
    for key in ("id", "version"):
        if not _is_int(policy.get(key)):
            raise PolicyError(f"policy history {where}: no policy {key}; give Ranger's policy")
    if policy.get("updateTime") in (None, ""):
        raise PolicyError(
            f"policy history {where}: version {policy['version']} of policy {policy['id']} "
            "has no updateTime; the change cannot be placed in time"
        )
    if not isinstance(policy.get("resources"), dict):
        raise PolicyError(f"policy history {where}: policy {policy['id']} has no resources")
    version = int(policy["version"])
    return PolicyChange(
        time=instant(policy["updateTime"], f"policy history {where} updateTime"),
        policy_id=int(policy["id"]),
        action=CREATE if version == 1 else UPDATE,
        user=str(policy.get("updatedBy") or policy.get("createdBy") or ""),
        version=version,
        where=where,
        name=str(policy.get("name", "")),
        policy=policy,
    )


def _check_versions(
    changes: list[PolicyChange], listed: Mapping[int, tuple[set[int], str]]
) -> list[PolicyChange]:
    """One change per (policy, version); later versions later in time; every listed
    version present."""
    by_key: dict[tuple[int, int], PolicyChange] = {}
    for change in changes:
        assert change.version is not None
        key = (change.policy_id, change.version)
        seen = by_key.get(key)
        if seen is not None and _canonical(seen.policy) != _canonical(change.policy):
            raise PolicyError(
                f"policy history {change.where}: version {change.version} of policy "
                f"{change.policy_id} differs from the one in {seen.where}; keep one"
            )
        by_key.setdefault(key, change)
    ordered = sorted(by_key.values(), key=lambda c: (c.policy_id, c.version))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.policy_id == after.policy_id and after.time < before.time:
            raise PolicyError(
                f"policy history {after.where}: version {after.version} of policy "
                f"{after.policy_id} is dated before version {before.version} "
                f"({before.where}); versions are out of order"
            )
    for policy_id, (numbers, where) in sorted(listed.items()):
        missing = sorted(n for n in numbers if (policy_id, n) not in by_key)
        if missing:
            raise PolicyError(
                f"policy history {where}: policy {policy_id} lists version {missing[0]} "
                "but no file holds it; fetch it from .../policy/{id}/version/{n}"
            )
    return ordered


def _read_audit(raw: Any, path: Path, name: Namer) -> tuple[list[PolicyChange], int, int]:
    """Admin audit rows of policies, grouped into changes (one per transaction)."""
    rows = raw.get("vXTrxLogs") if isinstance(raw, dict) else raw
    if not isinstance(rows, list):
        raise PolicyError(
            f'policy history {name(path)}: expected Ranger\'s {{"vXTrxLogs": [...]}} '
            "(GET /service/assets/report) or a list of its rows"
        )
    groups: dict[tuple, list[tuple[str, dict]]] = {}
    other = 0
    for i, row in enumerate(rows, start=1):
        where = f"{name(path)} vXTrxLogs[{i - 1}]"
        if not isinstance(row, dict):
            raise PolicyError(f"policy history {where}: expected an audit row object")
        if row.get("objectClassType") != POLICY_CLASS:
            other += 1
            continue
        action = AUDIT_ACTIONS.get(str(row.get("action", "")).strip().lower())
        if action is None:
            raise PolicyError(
                f"policy history {where}: action {row.get('action')!r} is not a policy "
                "create, update or delete"
            )
        if not _is_int(row.get("objectId")):
            raise PolicyError(f"policy history {where}: no objectId (the policy id)")
        if row.get("createDate") in (None, ""):
            raise PolicyError(f"policy history {where}: no createDate; the change has no time")
        time = instant(row["createDate"], f"policy history {where} createDate")
        user = str(row.get("owner") or row.get("createdBy") or row.get("updatedBy") or "")
        key = (row.get("transactionId") or time, int(row["objectId"]), action, user)
        groups.setdefault(key, []).append((where, row))
    return [_audit_change(key, members) for key, members in groups.items()], len(rows), other


def _audit_change(key: tuple, members: list[tuple[str, dict]]) -> PolicyChange:
    """The rows of one transaction on one policy as one change with its new attributes."""
    _, policy_id, action, user = key
    where, first = members[0]
    fields: dict[str, Any] = {}
    for row_where, row in members:
        attributes = _attributes(row, row_where)
        for attribute, new_value in attributes:
            target = AUDIT_FIELDS.get(attribute)
            if target is not None and action != DELETE:
                fields[target] = _field_value(target, new_value, row_where, attribute)
    return PolicyChange(
        time=min(instant(r["createDate"], w) for w, r in members),
        policy_id=policy_id,
        action=action,
        user=user,
        version=None,
        where=where,
        name=str(first.get("objectName") or ""),
        fields=fields,
    )


def _attributes(row: dict, where: str) -> list[tuple[str, Any]]:
    """(attribute, new value) of a row: v1 holds one, v2 a `changeInfo.attributes` list."""
    info = row.get("changeInfo")
    if info is None:
        name = row.get("attributeName")
        return [] if name in (None, "") else [(str(name), row.get("newValue"))]
    attributes = info.get("attributes") if isinstance(info, dict) else None
    if not isinstance(attributes, list) or not all(isinstance(a, dict) for a in attributes):
        raise PolicyError(f"policy history {where}: changeInfo.attributes must be a list")
    return [(str(a.get("attributeName", "")), a.get("newValue")) for a in attributes]


def _field_value(target: str, value: Any, where: str, attribute: str) -> Any:
    """An audited attribute's new value as the policy field holds it (JSON text decoded)."""
    if target in _LISTS or target == "resources":
        if value in (None, ""):
            return {} if target == "resources" else []
        try:
            decoded = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            raise PolicyError(
                f"policy history {where}: {attribute} newValue is not valid JSON"
            ) from None
        expected = dict if target == "resources" else list
        if not isinstance(decoded, expected):
            raise PolicyError(f"policy history {where}: {attribute} newValue has the wrong shape")
        return decoded
    if target in _BOOLS:
        return str(value).strip().lower() not in ("false", "0", "disabled")
    if target == "policyPriority":
        return int(value) if str(value or "0").strip().isdigit() else 0
    return "" if value is None else str(value)


def _merge(versions: list[PolicyChange], audit: list[PolicyChange]) -> list[PolicyChange]:
    """Both records as one timeline: for a policy with versions the audit only adds its
    deletions, and each audited create or update must match one of its versions."""
    with_versions: dict[int, list[PolicyChange]] = {}
    for change in versions:
        with_versions.setdefault(change.policy_id, []).append(change)
    merged = list(versions)
    for change in audit:
        own = with_versions.get(change.policy_id)
        if own is None or change.action == DELETE:
            merged.append(change)
            continue
        match = [c for c in own if abs(c.time - change.time) <= SAME_CHANGE]
        if not match:
            raise PolicyError(
                f"policy history {change.where}: the audit records a {change.action} of "
                f"policy {change.policy_id} at {_show(change.time)} that no policy version "
                "shows; fetch the missing version or check the clocks"
            )
        if change.user and match[0].user and change.user != match[0].user:
            raise PolicyError(
                f"policy history {change.where}: the audit says {change.user} changed "
                f"policy {change.policy_id} at {_show(change.time)}, its version "
                f"{match[0].version} says {match[0].user} ({match[0].where})"
            )
    order = {CREATE: 0, UPDATE: 1, DELETE: 2}
    return sorted(
        merged, key=lambda c: (c.time, c.policy_id, order[c.action], c.version or 0, c.where)
    )


def apply_changes(
    state: dict[int, dict], changes: Sequence[PolicyChange]
) -> tuple[AppliedChange, ...]:
    """Apply changes (one instant, time order) to `state` (policy id -> policy), in place.

    A change to a policy the state does not hold, a second create, or a version that does
    not follow the one in force is a `PolicyError`: some of the history is missing."""
    applied = []
    for change in changes:
        current = state.get(change.policy_id)
        what = f"policy history {change.where}: policy {change.policy_id}"
        if change.action == DELETE:
            if current is None:
                raise PolicyError(f"{what} is deleted but was never created; history is missing")
            del state[change.policy_id]
            applied.append(AppliedChange(change, _version(current)))
            continue
        if change.action == CREATE and current is not None:
            raise PolicyError(f"{what} is created but already exists; history is inconsistent")
        if change.action == UPDATE and current is None:
            raise PolicyError(
                f"{what} is updated but the history never created it and the baseline "
                "does not hold it; give the export or history from before"
            )
        policy = _new_policy(change, current, what)
        state[change.policy_id] = policy
        applied.append(AppliedChange(change, _version(policy)))
    return tuple(applied)


def _new_policy(change: PolicyChange, current: dict | None, what: str) -> dict:
    """The policy after `change`: its version's text, or the audited fields applied."""
    old = _version(current) if current is not None else None
    if change.policy is not None:
        new = change.version
        if old is not None and new is not None and new != old + 1:
            gap = "is missing" if new > old + 1 else "is out of order"
            raise PolicyError(
                f"{what} goes from version {old} to {new}: a version {gap} in the history"
            )
        return dict(change.policy)
    fields = dict(change.fields or {})
    if current is None:
        if "resources" not in fields:
            raise PolicyError(f"{what} is created without Policy Resources in the audit")
        policy: dict[str, Any] = {"id": change.policy_id, "name": change.name}
        policy["policyType"] = _policy_type(fields)
    else:
        policy = copy.deepcopy(current)
    policy.update(fields)
    policy["version"] = 1 if current is None else (old + 1 if old is not None else None)
    return policy


def _policy_type(fields: Mapping[str, Any]) -> int:
    """The audit does not log `policyType`; masking and row-filter items tell it."""
    if fields.get("dataMaskPolicyItems"):
        return 1
    if fields.get("rowFilterPolicyItems"):
        return 2
    return 0


def _version(policy: Mapping[str, Any] | None) -> int | None:
    value = (policy or {}).get("version")
    return int(value) if _is_int(value) else None


def instant(value: Any, where: str) -> datetime:
    """A Ranger time as aware UTC: epoch milliseconds (policies) or ISO-8601 text (audit,
    `yyyy-MM-dd'T'HH:mm:ss'Z'`); text without an offset is UTC, as Ranger writes it."""
    if _is_int(value) or isinstance(value, float):
        try:
            return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise PolicyError(f"{where}: {value!r} is not a time") from None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise PolicyError(
                f"{where}: {value[:40]!r} is not a time; expected e.g. 2026-07-02T10:00:00Z"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    raise PolicyError(f"{where}: {value!r} is not a time")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _canonical(policy: Mapping[str, Any] | None) -> str:
    return json.dumps(policy, sort_keys=True)


def _show(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
