"""Ranger 2.x policy constructs, each from Ranger's documented semantics: marker access
types, additional resources, matcher options, conditions, audit flags."""

from __future__ import annotations

import pytest

from forensics.policy import AccessRequest, PolicyEngine, load_service_def
from forensics.policy.servicedef import marker_grants, service_def_from_dict

HIVE = load_service_def("hive")
HDFS = load_service_def("hdfs")


def _item(accesses: list[str], users=(), groups=(), **extra) -> dict:
    return {
        "accesses": [{"type": a, "isAllowed": True} for a in accesses],
        "users": list(users),
        "groups": list(groups),
        **extra,
    }


def _hive_policy(pid: int, db: str, table: str = "*", **extra) -> dict:
    return {
        "id": pid,
        "name": f"p{pid}",
        "resources": {
            "database": {"values": [db]},
            "table": {"values": [table]},
            "column": {"values": ["*"]},
        },
        **extra,
    }


def _ask(engine, user, access, db="db", table="t", **extra):
    resource = {"database": db, "table": table} if table else {"database": db}
    return engine.evaluate(AccessRequest(resource, access, user, **extra))


# -- marker access types ------------------------------------------------------------------


def test_markers_are_built_from_categories_with_implied_grants() -> None:
    raw = {
        "resources": [{"name": "path"}],
        "accessTypes": [
            {"name": "read", "category": "READ"},
            {"name": "write", "category": "UPDATE"},
            {"name": "execute", "category": "READ"},
            {"name": "admin", "category": "MANAGE", "impliedGrants": ["write"]},
            {"name": "other"},  # no category: only under _ALL
        ],
    }
    grants = marker_grants(raw)
    assert grants["_READ"] == {"read", "execute"}
    assert grants["_UPDATE"] == {"write"}
    assert grants["_MANAGE"] == {"admin", "write"}  # the implied grant comes along
    assert grants["_CREATE"] == grants["_DELETE"] == frozenset()
    assert grants["_ALL"] == {"read", "write", "execute", "admin", "other"}


def test_markers_the_service_definition_carries_win() -> None:
    raw = {
        "resources": [{"name": "path"}],
        "accessTypes": [{"name": "read", "category": "READ"}],
        "markerAccessTypes": [{"name": "_READ", "impliedGrants": ["read", "peek"]}],
    }
    assert service_def_from_dict(raw).grants("_READ") == {"_READ", "read", "peek"}


def test_a_read_marker_grants_select_not_update() -> None:
    engine = PolicyEngine([_hive_policy(1, "db", policyItems=[_item(["_READ"], ["ann"])])], HIVE)
    assert _ask(engine, "ann", "select").policy_id == 1
    assert not _ask(engine, "ann", "update").allowed
    assert _ask(engine, "ann", "_READ").allowed  # a request may name the marker itself
    assert not _ask(engine, "ann", "_UPDATE").allowed


def test_a_deny_marker_denies_every_access_of_its_category() -> None:
    policies = [
        _hive_policy(1, "db", policyItems=[_item(["all"], ["ann"])]),
        _hive_policy(2, "db", denyPolicyItems=[_item(["_UPDATE", "_DELETE"], ["ann"])]),
    ]
    engine = PolicyEngine(policies, HIVE)
    assert _ask(engine, "ann", "select").allowed
    for access in ("update", "write", "drop"):
        decision = _ask(engine, "ann", access)
        assert (decision.allowed, decision.policy_id) == (False, 2)
    assert _ask(engine, "ann", "alter").allowed  # alter is CREATE in Hive's definition


def test_hdfs_read_marker_covers_execute() -> None:
    policy = {
        "id": 3,
        "name": "p3",
        "resources": {"path": {"values": ["/data"], "isRecursive": True}},
        "policyItems": [_item(["_READ"], ["ann"])],
    }
    engine = PolicyEngine([policy], HDFS)
    request = AccessRequest({"path": "/data/x"}, "execute", "ann")
    assert engine.evaluate(request).allowed
    assert not engine.evaluate(AccessRequest({"path": "/data/x"}, "write", "ann")).allowed


@pytest.mark.parametrize("marker", ["_ALL", "_READ"])
def test_markers_reach_allowed_sets(marker: str) -> None:
    from datetime import datetime, timezone

    from forensics.policy import allowed_sets

    engine = PolicyEngine([_hive_policy(1, "db", policyItems=[_item([marker], ["ann"])])], HIVE)
    sets = allowed_sets(
        engine, ["db.t", "x.t"], {"ann": [], "bob": []}, datetime(2026, 1, 1, tzinfo=timezone.utc)
    )
    assert sets.policy_for("db.t", "ann") == 1
    assert not sets.allowed("db.t", "bob")
    assert not sets.allowed("x.t", "ann")
