"""allowed_sets gives PolicyEngine.evaluate's decision for every (object, principal).

The reference is the single-request evaluator (forensics/policy/engine.py, itself checked
against Ranger's own cases in test_policy.py): random policy sets over small random
catalogs and directories are decided both ways and every pair is compared.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.errors import PolicyError
from forensics.policy import AccessRequest, PolicyEngine, load_policies, load_service_def
from forensics.policy.allowed import AllowedSets, allowed_sets
from forensics.policy.tags import service_tags_from_dict
from tests.conftest import INCIDENT

HIVE = load_service_def("hive")
AT = datetime(2026, 6, 18, 10, tzinfo=timezone.utc)
DATABASES = ["sales", "hr", "emp_x", "\u017fales"]  # the last: a long s, "sales" to Ranger
TABLES = ["emp_a", "EMP_b", "salary", "t1", "x.y", "home_U1", "u2_home"]
USERS = ["u0", "u1", "u2", "u3", "*", "public"]
GROUPS = ["g0", "g1", "g2", "public"]
ROLES = ["r0", "r1"]
DB_VALUES = ["sales", "SALES", "hr", "*", "*", "emp*", "s?les", "{USER}", "\u017fALES"]
TABLE_VALUES = [
    "emp_*",
    "salary",
    "*",
    "*",
    "t?",
    "EMP_B",
    "x.y",
    "{USER}",
    "u?",
    "home_{USER}",
    "{USER}_HOME",
    "home_{OWNER}",
    "{OWNER}_home",
]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y/%m/%d %H:%M:%S")


def _expected(
    engine: PolicyEngine, obj: str, principal: str, groups, access, owner=None, lean="deny"
):
    """The engine's deciding policy (None: denied), with the conditions a request from
    the logs cannot decide taken the way `lean` says."""
    db, table = obj.split(".", 1)
    decision = engine.evaluate(
        AccessRequest(
            resource={"database": db, "table": table},
            access_type=access,
            user=principal,
            groups=frozenset(groups),
            time=AT,
            owner=owner,
        ),
        lean=lean,
    )
    return decision.policy_id if decision.allowed else None


def _compare(engine, objects, directory, access="select", owners=None) -> AllowedSets:
    """Every pair decided both ways; the structure's other answers agree with them."""
    sets = allowed_sets(engine, objects, directory, AT, access=access, owners=owners)
    for obj in objects:
        expected = {}
        for principal, groups in directory.items():
            owner = (owners or {}).get(obj)
            want = _expected(engine, obj, principal, groups, access, owner)
            got = sets.policy_for(obj, principal)
            assert got == want, (obj, principal, got, want)
            maybe = _expected(engine, obj, principal, groups, access, owner, lean="allow")
            conditional = maybe if want is None else None
            assert sets.conditional_for(obj, principal) == conditional, (obj, principal)
            assert sets.allowed(obj, principal) == (want is not None)
            if want is not None:
                expected[principal] = want
        assert sets.principals_of(obj) == dict(sorted(expected.items()))
        assert sets.count(obj) == len(expected)
        assert sets.everyone(obj) == (len(expected) == len(directory))
    some = sorted(directory)[::2]
    rows = list(sets.rows(some))
    assert rows == [
        (o, p, pid) for o in dict.fromkeys(objects) for p, pid in sets.principals_of(o).items()
        if p in some
    ]  # fmt: skip
    return sets


# --- random policies -------------------------------------------------------------------

names = st.lists(st.sampled_from(USERS), max_size=2, unique=True)
items = st.lists(
    st.fixed_dictionaries(
        {
            "accesses": st.lists(
                st.sampled_from(["select", "update", "all", "_READ", "_UPDATE"]).map(
                    lambda a: {"type": a, "isAllowed": True}
                ),
                min_size=1,
                max_size=2,
            ),
            "users": st.lists(st.sampled_from(USERS + ["{USER}", "{OWNER}"]), max_size=2),
            "groups": st.lists(st.sampled_from(GROUPS), max_size=2),
            "roles": st.lists(st.sampled_from(ROLES), max_size=1),
            "conditions": st.sampled_from([[]] * 6 + [[{"type": "ip", "values": ["10.0.0.1"]}]]),
        }
    ),
    max_size=2,
)


def _resource(values: list[str]) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "values": st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True),
            "isExcludes": st.sampled_from([False, False, False, True]),
            "isRecursive": st.just(False),
        }
    )


@st.composite
def resources(draw) -> dict:
    shape = draw(st.sampled_from(["table"] * 6 + ["column"] * 2 + ["database", "udf"]))
    found = {"database": draw(_resource(DB_VALUES))}
    if shape == "udf":
        found["udf"] = {"values": ["*"]}
    if shape in ("table", "column"):
        found["table"] = draw(_resource(TABLE_VALUES))
    if shape == "column":
        found["column"] = draw(_resource(["*", "ssn", "name"]))
    return found


SCHEDULES = [
    [],
    [],
    [],
    [{"startTime": _stamp(AT - timedelta(days=1)), "endTime": _stamp(AT + timedelta(days=1))}],
    [{"startTime": _stamp(AT + timedelta(days=1)), "endTime": ""}],
    [{"startTime": "", "endTime": _stamp(AT - timedelta(hours=1)), "timeZone": "UTC"}],
] + [
    [  # recurring: in force at AT's hour on every day, or never at AT
        {
            "timeZone": "UTC",
            "recurrences": [
                {
                    "schedule": {"minute": "0", "hour": str(h), "dayOfMonth": "*"},
                    "interval": {"minutes": 30},
                }
            ],
        }
    ]
    for h in (AT.hour, (AT.hour + 2) % 24)
]


@st.composite
def policies(draw, first_id: int = 1) -> list[dict]:
    count = draw(st.integers(min_value=0, max_value=10))
    return [
        {
            "id": first_id + n,
            "name": draw(st.sampled_from(["a", "b", "c"])),
            "isEnabled": draw(st.sampled_from([True] * 5 + [False])),
            "policyType": draw(st.sampled_from([0] * 8 + [1])),
            "policyPriority": draw(st.sampled_from([0, 0, 1])),
            "isDenyAllElse": draw(st.sampled_from([False] * 5 + [True])),
            "resources": draw(resources()),
            "policyItems": draw(items),
            "denyPolicyItems": draw(items),
            "allowExceptions": draw(items),
            "denyExceptions": draw(items),
            "validitySchedules": draw(st.sampled_from(SCHEDULES)),
            "additionalResources": draw(st.lists(resources(), min_size=1, max_size=1))
            if draw(st.integers(0, 3)) == 0
            else [],
        }
        for n in range(count)
    ]


TAG_TYPES = ["PII", "PCI"]


@st.composite
def service_tag_exports(draw) -> dict:
    """A ServiceTags export tagging some databases and tables."""
    resources = draw(
        st.lists(
            st.sampled_from(
                [
                    {"database": {"values": ["hr"]}},
                    {"database": {"values": ["sales"]}, "table": {"values": ["emp_*"]}},
                    {"database": {"values": ["*"]}, "table": {"values": ["salary"]}},
                    {"database": {"values": ["hr"]}, "table": {"values": ["*"]},
                     "column": {"values": ["ssn"]}},
                ]
            ),
            max_size=3,
        )
    )  # fmt: skip
    return {
        "serviceResources": [
            {"id": i, "resourceElements": r} for i, r in enumerate(resources, start=1)
        ],
        "tags": {"1": {"type": "PII"}, "2": {"type": "PCI"}},
        "resourceToTagIds": {
            str(i): draw(st.lists(st.sampled_from([1, 2]), min_size=1, max_size=2, unique=True))
            for i in range(1, len(resources) + 1)
        },
    }


@st.composite
def worlds(draw) -> tuple[PolicyEngine, list[str], dict[str, frozenset[str]], dict | None]:
    objects = draw(
        st.lists(
            st.tuples(st.sampled_from(DATABASES), st.sampled_from(TABLES)).map(".".join),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    directory = {
        user: frozenset(draw(st.lists(st.sampled_from(GROUPS), max_size=2)))
        for user in draw(st.lists(st.sampled_from(USERS), min_size=1, unique=True))
    }
    roles = {role: draw(st.lists(st.sampled_from(USERS + GROUPS), max_size=3)) for role in ROLES}
    zones = None
    if draw(st.booleans()):
        zones = {
            "z1": {"resources": [{"database": ["hr"]}], "policies": draw(policies(100))},
            "z2": {
                "resources": [draw(st.sampled_from([{"database": ["h*"]}, {"table": ["t1"]}]))],
                "policies": draw(policies(200)),
            },
        }
    tag_policies, service_tags = None, None
    if draw(st.integers(0, 2)) == 0:  # tag policies on tags of databases and tables
        tag_policies = [
            dict(p, resources={"tag": {"values": [draw(st.sampled_from(TAG_TYPES))]}})
            for p in draw(policies(300))
        ]
        for p in tag_policies:
            for key in ("policyItems", "denyPolicyItems", "allowExceptions", "denyExceptions"):
                for item in p[key]:
                    item["accesses"] = [
                        {**a, "type": draw(st.sampled_from(["hive:", "hdfs:", ""])) + a["type"]}
                        for a in item["accesses"]
                    ]
        service_tags = service_tags_from_dict(draw(service_tag_exports()), HIVE, "tags")
    engine = PolicyEngine(
        draw(policies()),
        HIVE,
        roles=roles,
        super_users=draw(st.lists(st.sampled_from(USERS), max_size=1)),
        super_groups=draw(st.lists(st.sampled_from(GROUPS), max_size=1)),
        zones=zones,
        tag_policies=tag_policies,
        service_tags=service_tags,
    )
    owners = None
    if draw(st.booleans()):
        owners = {o: draw(st.sampled_from(USERS + ["nobody"])) for o in objects}
    return engine, objects, directory, owners


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), st.sampled_from(["select", "select", "update"]))
def test_every_decision_matches_the_evaluator(world, access) -> None:
    engine, objects, directory, owners = world
    _compare(engine, objects, directory, access=access, owners=owners)


# --- the bundled incident --------------------------------------------------------------


def _incident_directory() -> dict[str, frozenset[str]]:
    members: dict[str, set[str]] = {"*": set()}
    with open(INCIDENT / "directory" / "groups.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            members.setdefault(row["principal"], set()).add(row["group"])
    with open(INCIDENT / "directory" / "people.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            members.setdefault(row["principal"], set())
    return {p: frozenset(g) for p, g in members.items()}


@pytest.mark.parametrize("export", ["baseline.json", "change-1.json", "change-2.json"])
def test_bundled_incident_sets_match_the_evaluator(export: str) -> None:
    with open(INCIDENT / "catalog" / "tables.csv", encoding="utf-8") as f:
        objects = [row["object"] for row in csv.DictReader(f)]
    engine = PolicyEngine(load_policies(INCIDENT / "policies" / export), HIVE)
    sets = _compare(engine, objects, _incident_directory())
    assert any(sets.count(o) for o in objects)  # the exports do allow someone something
    assert len(sets.classes) < len(objects)  # objects share classes


# --- structure, notes, bad input -------------------------------------------------------


def _policy(pid: int, db: str, table: str, **items) -> dict:
    return {"id": pid, "name": f"p{pid}", "resources": {
        "database": {"values": [db]}, "table": {"values": [table]}}, **items}  # fmt: skip


def _grant(**who) -> list[dict]:
    return [{"accesses": [{"type": "select", "isAllowed": True}], **who}]


def test_objects_with_the_same_policies_share_one_class_and_sets_stay_compact() -> None:
    directory = {f"user{i:05d}": frozenset({f"team{i % 50}"}) for i in range(20_000)}
    objects = [f"db{d}.t{t}" for d in range(20) for t in range(50)]
    engine = PolicyEngine(
        [
            _policy(1, "db*", "*", policyItems=_grant(groups=["team1"])),
            _policy(2, "db1", "t1*", policyItems=_grant(groups=["public"])),
            _policy(3, "db2", "*", denyPolicyItems=_grant(users=["user00001"])),
        ],
        HIVE,
    )
    sets = allowed_sets(engine, objects, directory, AT)
    assert len(sets.classes) == 3  # db1.t1*, db2.*, everything else
    assert sets.count("db1.t10") == 20_000 and sets.everyone("db1.t10")
    assert sets.count("db0.t0") == 400 and sets.policy_for("db0.t0", "user00051") == 1
    assert sets.count("db2.t0") == 399 and not sets.allowed("db2.t0", "user00001")
    assert [pid for pid, _ in sets.grants("db1.t10")] == [1, 2]
    assert sets.bits("db1.t10") & ~sets.bits("db0.t0") == sets.grants("db1.t10")[1][1]
    assert list(sets.rows(["user00001", "user00002"]))[:2] == [
        ("db0.t0", "user00001", 1),
        ("db0.t1", "user00001", 1),
    ]


def test_a_conditional_grant_is_not_a_grant_anyway_and_is_kept_apart() -> None:
    """Who could read the table anyway: an item whose condition is decided per request
    (a client address) grants only under it, so the baseline does not count it, and the
    sets say a conditional grant exists; a conditional deny counts as denying."""
    ip = [{"type": "ip", "values": ["10.*"]}]
    engine = PolicyEngine(
        [
            _policy(1, "db", "*", policyItems=_grant(users=["ann"], conditions=ip)),
            _policy(2, "db", "*", policyItems=_grant(users=["bob", "cy"])),
            _policy(3, "db", "*", denyPolicyItems=_grant(users=["cy"], conditions=ip)),
        ],
        HIVE,
    )
    people = {"ann": frozenset(), "bob": frozenset(), "cy": frozenset(), "dee": frozenset()}
    sets = allowed_sets(engine, ["db.t"], people, AT)
    assert sets.principals_of("db.t") == {"bob": 2}
    assert (sets.conditional_for("db.t", "ann"), sets.conditional_for("db.t", "cy")) == (1, 2)
    assert sets.conditional_for("db.t", "bob") is None  # allowed whatever the conditions
    assert sets.conditional_for("db.t", "dee") is None  # no grant at all
    assert any("conditional grant" in n for n in sets.notes)


def test_a_policy_with_conditions_of_its_own_only_denies_in_the_baseline() -> None:
    ip = [{"type": "ip", "values": ["10.*"]}]
    gated = _policy(1, "db", "*", policyItems=_grant(users=["ann"]), conditions=ip)
    gated["denyPolicyItems"] = _grant(users=["bob"])
    engine = PolicyEngine([gated, _policy(2, "db", "*", policyItems=_grant(users=["bob"]))], HIVE)
    sets = allowed_sets(engine, ["db.t"], {"ann": frozenset(), "bob": frozenset()}, AT)
    assert sets.principals_of("db.t") == {}  # bob: denied if the conditions hold
    assert (sets.conditional_for("db.t", "ann"), sets.conditional_for("db.t", "bob")) == (1, 2)
    for who, want in (("ann", None), ("bob", None)):
        decision = engine.evaluate(AccessRequest({"database": "db", "table": "t"}, "select", who,
                                                 time=AT), lean="deny")  # fmt: skip
        assert (decision.policy_id if decision.allowed else None) == want


def test_notes_name_what_the_logs_cannot_decide() -> None:
    engine = PolicyEngine(
        [
            _policy(7, "db", "*", policyItems=_grant(groups=["g"], conditions=[{"type": "ip"}])),
            _policy(8, "db", "*", policyItems=_grant(users=["{OWNER}"])),
        ],
        HIVE,
    )
    sets = allowed_sets(engine, ["db.t"], {"ann": frozenset({"g"})}, AT)
    assert any("policies 7: items with conditions" in n for n in sets.notes)
    assert any("policies 8: {OWNER} items match no one" in n for n in sets.notes)
    assert not sets.allowed("db.t", "ann")
    owned = allowed_sets(engine, ["db.t"], {"ann": frozenset()}, AT, owners={"db.t": "ann"})
    assert owned.policy_for("db.t", "ann") == 8


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: allowed_sets(e, ["nodot"], {}, AT), "object 'nodot' is not a db.table"),
        (lambda e: allowed_sets(e, [".t"], {}, AT), "object '.t' is not a db.table"),
        (lambda e: allowed_sets(e, ["d.t"], {}, AT, access=""), "give an access type"),
        (lambda e: allowed_sets(e, ["d.t"], {}, AT.replace(tzinfo=None)), "time zone"),
        (lambda e: allowed_sets(e, ["d.t"], {"a": ()}, AT).allowed("d.u", "a"), "'d.u' was not"),
        (lambda e: allowed_sets(e, ["d.t"], {"a": ()}, AT).allowed("d.t", "b"), "'b' is not"),
        (lambda e: list(allowed_sets(e, ["d.t"], {}, AT).rows(["b"])), "'b' is not"),
    ],
)
def test_bad_input_is_one_policy_error(call, message: str) -> None:
    engine = PolicyEngine([_policy(1, "d", "t", policyItems=_grant(users=["a"]))], HIVE)
    with pytest.raises(PolicyError, match=message):
        call(engine)


def test_a_service_without_tables_is_refused() -> None:
    engine = PolicyEngine([], load_service_def("hdfs"))
    with pytest.raises(PolicyError, match="no database > table hierarchy"):
        allowed_sets(engine, ["d.t"], {"a": frozenset()}, AT)


@pytest.mark.parametrize(
    ("database", "table", "excludes"),
    [
        ("{USER}", "*", False),
        ("*", "home_{USER}", False),
        ("*", "{USER}_HOME", False),
        ("*", "{USER}_home", True),
        ("*", "h?me_{USER}", False),
        ("u{USER}", "*", False),
    ],
)
def test_user_macro_in_resources_matches_per_principal(database, table, excludes) -> None:
    directory = {u: frozenset() for u in ["u1", "U2", "ann", "*", "\u017fam", "am", "x?"]}
    objects = ["u1.t", "ann.home_u1", "db.home_U2", "db.u1_home", "db.ann_HOME", "uam.t"]
    objects += ["db.home_sam", "db.home_x1", "db.home_", "db._home", "uu1.t"]
    tables = {"values": [table], "isExcludes": excludes}
    policy = _policy(1, database, "-", policyItems=_grant(groups=["public"]))
    policy["resources"]["table"] = tables
    sets = _compare(PolicyEngine([policy], HIVE), objects, directory)
    assert sum(sets.count(o) for o in objects) > 0
