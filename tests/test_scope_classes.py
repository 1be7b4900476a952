"""The catalog-wide work per class of objects (issue 21's fixed costs): names split once
for every policy state, database-wide policies kept per database, a reverted state
decided by the same sets, the baseline's counts per class, the catalog's objects kept as
columns. Each answer is held to the per-object one it replaces."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from forensics.catalog import CatalogObject, CatalogObjects
from forensics.errors import PolicyError
from forensics.policy import PolicyEngine, load_service_def
from forensics.policy.allowed import allowed_sets
from forensics.policy.object_classes import ObjectNames
from forensics.policy.principal_sets import Directory
from forensics.scope import ANYONE, Baseline

HIVE = load_service_def("hive")
AT = datetime(2026, 6, 18, 10, tzinfo=timezone.utc)
OBJECTS = ["sales.orders", "sales.emp_x", "hr.emp_1", "hr.pay", "hr.a.b", "ops.logs"]
DIRECTORY = {"ann": frozenset({"hr"}), "bob": frozenset({"sales"}), "cy": frozenset(), ANYONE: ()}


def _policy(pid: int, db: str, table: str, **items) -> dict:
    return {"id": pid, "name": f"p{pid}", "resources": {
        "database": {"values": [db]}, "table": {"values": [table]}}, **items}  # fmt: skip


def _grant(**who) -> list[dict]:
    return [{"accesses": [{"type": "select", "isAllowed": True}], **who}]


def _engine() -> PolicyEngine:
    return PolicyEngine(
        [
            _policy(1, "hr", "*", policyItems=_grant(groups=["hr"])),  # whole database
            _policy(2, "*", "emp_*", policyItems=_grant(users=["bob"])),  # some tables
            _policy(3, "sales", "*", policyItems=_grant(groups=["sales"])),
            _policy(4, "ops", "*", denyPolicyItems=_grant(groups=["public"])),
            _policy(5, "*", "*", policyItems=_grant(users=["cy"])),
        ],
        HIVE,
    )


def test_object_names_split_once_as_split_object_does() -> None:
    names = ObjectNames([*OBJECTS, "hr.pay"])  # a name given twice counts once
    assert names.names == tuple(OBJECTS)
    assert names.split == [tuple(o.split(".", 1)) for o in OBJECTS]
    assert [names.dbs[d] for d in names.db_of.tolist()] == [o.split(".")[0] for o in OBJECTS]
    assert names.dbs == sorted({o.split(".")[0] for o in OBJECTS})
    for bad in ("nodot", ".t", "d."):
        with pytest.raises(PolicyError, match=f"object '{bad}' is not a db.table"):
            ObjectNames(["ok.t", bad])


def test_sets_from_shared_names_and_directory_equal_those_from_plain_lists() -> None:
    engine = _engine()
    plain = allowed_sets(engine, OBJECTS, DIRECTORY, AT)
    shared = allowed_sets(engine, ObjectNames(OBJECTS), Directory(DIRECTORY), AT)
    again = allowed_sets(engine, ObjectNames(OBJECTS), Directory(DIRECTORY), AT)
    assert shared.classes == plain.classes == again.classes
    assert shared.object_class.tolist() == plain.object_class.tolist()
    for obj in OBJECTS:
        for who in DIRECTORY:
            assert shared.policy_for(obj, who) == plain.policy_for(obj, who)
    # the policy naming some tables splits its databases' classes, per object
    assert plain.policy_for("hr.emp_1", "bob") == 2 and plain.policy_for("hr.pay", "bob") is None
    assert plain.class_of("hr.emp_1") != plain.class_of("hr.pay")
    assert plain.class_of("hr.pay") == plain.class_of("hr.a.b")
    assert plain.classes_of(["hr.pay", "nowhere.t"]).tolist() == [plain.class_of("hr.pay"), -1]


def test_baseline_counts_per_class_equal_the_counts_per_object() -> None:
    sets = allowed_sets(_engine(), OBJECTS, DIRECTORY, AT)
    baseline = Baseline(sets)
    by_object = [len(baseline.principals(o)) for o in OBJECTS]
    assert baseline.counts(OBJECTS, 4) == by_object
    assert [baseline.count(o, 4) for o in OBJECTS] == by_object
    assert baseline.counts(["nowhere.t"], 4) == [0]
    rows, members = baseline.classes(OBJECTS)
    for obj, k in rows:
        assert set(members[k]) == baseline.principals(obj)


def test_catalog_objects_keep_first_place_and_last_row_as_a_dict() -> None:
    names = ["a.x", "a.y", "a.x"]
    types = ["table", "view", "table"]
    locations = ["/w/x1", None, "/w/x2"]
    objects = CatalogObjects(names, types, locations)
    as_dict = {
        n: CatalogObject(n, t, loc) for n, t, loc in zip(names, types, locations, strict=True)
    }
    assert list(objects) == list(as_dict) == ["a.x", "a.y"]
    assert objects == as_dict and len(objects) == 2
    assert objects["a.x"].location == "/w/x2" and "a.y" in objects and "a.z" not in objects
    assert objects.get("a.z") is None
