"""Policy files in, decisions out: Ranger Admin exports, roles exports, request lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from forensics.errors import PolicyError
from forensics.inputs import input_text
from forensics.policy.engine import AccessRequest, PolicyEngine
from forensics.policy.history import instant
from forensics.policy.servicedef import load_service_def
from forensics.policy.tags import load_service_tags

SERVICES = ("hive", "hdfs")


def load_policies(path: str | Path) -> list[dict]:
    """The policies of a Ranger Admin export (`{"policies": [...]}`) or a bare list."""
    try:
        raw = json.loads(input_text(Path(path)))
    except OSError as exc:
        raise PolicyError(f"policies {path}: cannot be read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise PolicyError(f"policies {path}: not valid JSON{where}; give a Ranger export") from None
    policies = raw.get("policies") if isinstance(raw, dict) else raw
    if not isinstance(policies, list) or not all(isinstance(p, dict) for p in policies):
        raise PolicyError(
            f"policies {path}: expected a Ranger Admin export "
            '{"policies": [...]} or a list of policies'
        )
    for i, policy in enumerate(policies):
        if not isinstance(policy.get("resources"), dict):
            raise PolicyError(f"policies {path}: policy #{i + 1} has no resources mapping")
    return policies


def load_roles(path: str | Path) -> dict[str, frozenset[str]]:
    """Role name -> its users and groups, from a Ranger roles export."""
    try:
        raw = json.loads(input_text(Path(path)))
    except (OSError, json.JSONDecodeError) as exc:
        raise PolicyError(f"roles {path}: cannot be read as JSON ({exc})") from None
    roles = raw.get("rangerRoles", raw.get("roles")) if isinstance(raw, dict) else raw
    if not isinstance(roles, list):
        raise PolicyError(f'roles {path}: expected {{"rangerRoles": [...]}} or a list of roles')
    return {
        str(role["name"]): frozenset(
            str(m["name"]) for key in ("users", "groups") for m in role.get(key) or []
        )
        for role in roles
    }


def check_requests(
    policies_path: str | Path,
    lines: Iterable[str],
    service_def_path: str | None = None,
    roles_path: str | None = None,
    tag_policies_path: str | None = None,
    tags_path: str | None = None,
) -> Iterator[dict[str, Any]]:
    """One decision per request line, in input order (the `policy check` command); with
    the tag service's policies and a ServiceTags export, tag policies decide too. A
    decision resting on a condition the request cannot decide lists it in `undecidable`."""
    policies = load_policies(policies_path)
    roles = load_roles(roles_path) if roles_path else None
    tag_policies = load_policies(tag_policies_path) if tag_policies_path else None
    engines: dict[str, PolicyEngine] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        request_id, service, request = parse_request(line, number)
        if service not in engines:
            service_def = load_service_def(service_def_path or service)
            tags = load_service_tags(Path(tags_path), service_def, tags_path) if tags_path else None
            engines[service] = PolicyEngine(
                policies, service_def, roles=roles, tag_policies=tag_policies, service_tags=tags
            )
        decision = engines[service].evaluate(request)
        result = {
            "id": request_id,
            "allowed": decision.allowed,
            "policy_id": decision.policy_id,
            "reason": decision.reason,
        }
        if decision.undecidable:
            result["undecidable"] = list(decision.undecidable)
        if not decision.audited:
            result["audited"] = False
        yield result


def parse_request(line: str, number: int) -> tuple[Any, str, AccessRequest]:
    """One request line: `{"id", "service", "user", "groups", "access", "resource", "owner",
    "time", "client_ip"}` (time ISO-8601 or epoch ms; client_ip as the audit's cliIP)."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"request line {number}: not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise PolicyError(f"request line {number}: expected a JSON object")
    missing = [k for k in ("id", "user", "resource") if k not in raw]
    if missing:
        raise PolicyError(f"request line {number}: missing {', '.join(missing)}")
    service = raw.get("service", "hive")
    if service not in SERVICES:
        raise PolicyError(f"request line {number}: service must be hive or hdfs, not {service!r}")
    resource = raw["resource"]
    if not isinstance(resource, dict) or not all(isinstance(v, str) for v in resource.values()):
        raise PolicyError(f"request line {number}: resource must map names to strings")
    groups = raw.get("groups") or []
    if not isinstance(groups, list):
        raise PolicyError(f"request line {number}: groups must be a list")
    when = None
    if raw.get("time") is not None:
        when = instant(raw["time"], f"request line {number} time")
    ip = raw.get("client_ip")
    if ip is not None and not isinstance(ip, str):
        raise PolicyError(f"request line {number}: client_ip must be text")
    request = AccessRequest(
        resource=resource,
        access_type=str(raw.get("access", "")),
        user=str(raw["user"]),
        groups=frozenset(str(g) for g in groups),
        owner=raw.get("owner"),
        time=when,
        client_ip=ip,
    )
    return raw["id"], service, request


POLICY_CREATE, POLICY_UPDATE, POLICY_DELETE = 0, 1, 2


def apply_policy_deltas(policies: list[dict], deltas: Iterable[dict]) -> list[dict]:
    """The policies after Ranger's incremental `policyDeltas` (create, update, delete by id).

    Ranger Admin ships policy changes to plugins as deltas; replaying them lets an
    investigation evaluate the policies as they stood after a given change.
    """
    by_id = {policy.get("id"): policy for policy in policies}
    for number, delta in enumerate(deltas, start=1):
        policy = delta.get("policy") or {}
        change = delta.get("changeType")
        if "id" not in policy or change not in (POLICY_CREATE, POLICY_UPDATE, POLICY_DELETE):
            raise PolicyError(f"policy delta #{number}: needs a changeType 0-2 and a policy id")
        if change == POLICY_DELETE:
            by_id.pop(policy["id"], None)
        else:
            by_id[policy["id"]] = policy
    return list(by_id.values())
