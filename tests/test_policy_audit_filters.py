"""Audit filters (`ranger.plugin.audit.filters`) decided as Ranger decides them: every case
of Ranger's own audit-filter test files (tests/data/ranger/, copied unmodified) gets
Ranger's `isAudited`, and the order of the list decides between filters that both match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forensics.errors import PolicyError
from forensics.policy import AccessRequest
from forensics.policy.audit import PLUGIN_AUDIT_FILTER, filtered_audit, parse_audit_filters
from tests.ranger_cases import suites
from tests.test_policy_conformance import _decide, _engine, _request

DATA = Path(__file__).resolve().parent / "data" / "ranger"
FILES = ["test_policyengine_audit_filter_hdfs.json", "test_policyengine_audit_filter_hive.json"]


def _cases(name: str):
    data = json.loads((DATA / name).read_text())
    filters = parse_audit_filters((data.get("serviceConfig") or {}).get(PLUGIN_AUDIT_FILTER), name)
    tag_config = (data.get("tagPolicyInfo") or {}).get("serviceConfig") or {}
    tag_filters = parse_audit_filters(tag_config.get(PLUGIN_AUDIT_FILTER), name)
    for _, policies, zones, tests in suites(data):
        engine = _engine(data, policies, zones)
        for test in tests:
            if "result" in test:
                yield engine, filters, tag_filters, test


@pytest.mark.parametrize("name", FILES)
def test_every_audit_filter_case_gets_rangers_is_audited(name: str) -> None:
    checked = 0
    for engine, filters, tag_filters, test in _cases(name):
        decision = _decide(engine, test)
        assert decision.allowed == test["result"]["isAllowed"], test["name"]
        audited = filtered_audit(
            engine,
            _request(test),
            decision,
            filters,
            tag_filters,
            action=test["request"].get("action"),
        )
        assert audited == test["result"].get("isAudited", True), test["name"]
        checked += 1
    assert checked >= 9


def test_without_filters_the_policies_audit_stands() -> None:
    (engine, _, _, test), *_ = _cases(FILES[0])
    decision = _decide(engine, test)
    assert filtered_audit(engine, _request(test), decision, ()) is decision.audited


def _one_table_engine():
    data = json.loads((DATA / FILES[1]).read_text())
    ((_, policies, zones, _),) = suites(data)
    return _engine(data, policies, zones)


READ = AccessRequest(
    resource={"database": "hr", "table": "emp"}, access_type="select", user="user1"
)


@pytest.mark.parametrize(
    ("listed", "audited"),
    [
        # the first filter that matches decides, whatever comes after it
        ([{"users": ["user1"], "isAudited": True}, {"isAudited": False}], True),
        ([{"isAudited": False}, {"users": ["user1"], "isAudited": True}], False),
        # a filter that does not match is passed over
        ([{"users": ["user9"], "isAudited": True}, {"isAudited": False}], False),
        ([{"accessResult": "DENIED", "isAudited": False}], True),  # the policies' answer
        # a filter without isAudited decides nothing: the next one does
        ([{"users": ["user1"]}, {"isAudited": False}], False),
        # resources: the table, its database only (an ancestor: no match), another table
        (
            [
                {
                    "resources": {"database": {"values": ["hr"]}, "table": {"values": ["e*"]}},
                    "isAudited": False,
                }
            ],
            False,
        ),  # fmt: skip
        ([{"resources": {"database": {"values": ["hr"]}}, "isAudited": False}], True),
        (
            [
                {
                    "resources": {"database": {"values": ["hr"]}, "table": {"values": ["x"]}},
                    "isAudited": False,
                }
            ],
            True,
        ),  # fmt: skip
        # actions and access types: either may match
        ([{"accessTypes": ["select"], "isAudited": False}], False),
        ([{"actions": ["METADATA OPERATION"], "isAudited": False}], True),
        ([{"groups": ["public"], "isAudited": False}], False),
    ],
)
def test_filters_in_list_order(listed: list[dict], audited: bool) -> None:
    engine = _one_table_engine()
    decision = engine.evaluate(READ)
    assert decision.allowed and decision.audited
    filters = parse_audit_filters(json.dumps(listed), "test")
    assert filtered_audit(engine, READ, decision, filters, action="QUERY") is audited


def test_a_malformed_filter_list_is_one_clear_error() -> None:
    with pytest.raises(PolicyError, match="not a JSON list of filters"):
        parse_audit_filters("[{'isAudited': false", "svc")
    with pytest.raises(PolicyError, match="accessResult must be one of"):
        parse_audit_filters("[{'accessResult': 'MAYBE'}]", "svc")
