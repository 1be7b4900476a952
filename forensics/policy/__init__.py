"""Ranger policy evaluation: Ranger's decision for a request, from a policy export.

`servicedef` describes a service's resources and access types, `matchers` compares
resource values, `engine` decides, `io` reads exports and request lines.
"""

from forensics.policy.allowed import AllowedSets as AllowedSets
from forensics.policy.allowed import allowed_sets as allowed_sets
from forensics.policy.engine import AccessRequest, Decision, PolicyEngine
from forensics.policy.io import (
    apply_policy_deltas,
    check_requests,
    load_policies,
    load_roles,
    parse_request,
)
from forensics.policy.servicedef import ServiceDef, load_service_def, service_def_from_dict

__all__ = [
    "AccessRequest",
    "Decision",
    "PolicyEngine",
    "apply_policy_deltas",
    "ServiceDef",
    "check_requests",
    "load_policies",
    "load_roles",
    "load_service_def",
    "parse_request",
    "service_def_from_dict",
]
