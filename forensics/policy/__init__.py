"""Ranger policy evaluation: Ranger's decision for a request, from a policy export.

`servicedef` describes a service's resources and access types, `matchers` compares
resource values, `schedule` says when validity schedules hold, `conditions` decides policy
conditions (or says why it cannot), `tags` finds a resource's tags and prepares the tag
service's policies, `request` is what is asked and answered, `compiled` is a policy ready
for evaluation, `engine` decides (with `tag_eval` for tag policies and `any_access` for
requests without an access type), `allowed` decides for a whole directory at once,
`audit` lists what is decided without an audit record, `io` reads exports and requests.
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
from forensics.policy.tags import ServiceTags, load_service_tags, service_tags_from_dict

__all__ = [
    "AccessRequest",
    "Decision",
    "PolicyEngine",
    "apply_policy_deltas",
    "ServiceDef",
    "ServiceTags",
    "load_service_tags",
    "service_tags_from_dict",
    "check_requests",
    "load_policies",
    "load_roles",
    "load_service_def",
    "parse_request",
    "service_def_from_dict",
]
