"""Reading Ranger's policy-engine case files (`test_policyengine_*.json`): shared by the
conformance test over the files in `../shared/` and the one over all of Ranger's."""

from __future__ import annotations

from forensics.policy import apply_policy_deltas


def split(text: str | None) -> set[str]:
    """A comma-separated config value (super users, super groups) as a set of names."""
    return {part.strip() for part in (text or "").split(",") if part.strip()}


def suites(data: dict) -> list[tuple[str, list[dict], dict, list[dict]]]:
    """(label, policies, zones, tests): the file's policies, then after its deltas."""
    zones = data.get("securityZones") or {}
    found = [("initial", data["policies"], zones, data.get("tests") or [])]
    update = data.get("updatedPolicies")
    if update:
        new_zones = {}
        for name, zone in (update.get("securityZones") or zones).items():
            before = (zones.get(name) or {}).get("policies") or []
            new_zones[name] = {
                "resources": zone.get("resources") or (zones.get(name) or {}).get("resources"),
                "policies": apply_policy_deltas(before, zone.get("policyDeltas") or []),
            }
        policies = apply_policy_deltas(data["policies"], update.get("policyDeltas") or [])
        found.append(("after deltas", policies, new_zones, data.get("updatedTests") or []))
    return found
