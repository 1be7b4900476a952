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


# -- additional resources ----------------------------------------------------------------


def test_additional_resources_extend_a_policy_to_other_resource_sets() -> None:
    policy = _hive_policy(2, "default", "test*", policyItems=[_item(["select"], ["ann"])])
    policy["additionalResources"] = [
        {
            "database": {"values": ["db1"]},
            "table": {"values": ["tbl*"]},
            "column": {"values": ["*"]},
        }
    ]
    engine = PolicyEngine([policy], HIVE)
    assert _ask(engine, "ann", "select", "default", "test1").policy_id == 2
    assert _ask(engine, "ann", "select", "db1", "tbl9").policy_id == 2
    assert not _ask(engine, "ann", "select", "db1", "other").allowed
    assert not _ask(engine, "ann", "select", "default", "tbl9").allowed  # sets do not mix
    assert _ask(engine, "ann", "", "db1", None).allowed  # USE db1: below a set


def test_a_deny_in_additional_resources_denies_there_only() -> None:
    allow = _hive_policy(1, "*", policyItems=[_item(["select"], ["ann"])])
    deny = _hive_policy(3, "default", "test2", denyPolicyItems=[_item(["select"], ["ann"])])
    deny["additionalResources"] = [
        {
            "database": {"values": ["db1"]},
            "table": {"values": ["tbl2"]},
            "column": {"values": ["*"]},
        }
    ]
    engine = PolicyEngine([allow, deny], HIVE)
    assert _ask(engine, "ann", "select", "db1", "tbl2").policy_id == 3
    assert not _ask(engine, "ann", "select", "db1", "tbl2").allowed
    assert _ask(engine, "ann", "select", "db1", "tbl3").allowed


# -- matcher options ------------------------------------------------------------------------


def _service(**options) -> object:
    return service_def_from_dict(
        {
            "resources": [
                {"name": "database", "parent": "", "matcherOptions": options},
                {"name": "table", "parent": "database", "matcherOptions": options},
            ],
            "accessTypes": [{"name": "select", "category": "READ"}],
        }
    )


@pytest.mark.parametrize(
    ("options", "value", "name", "expected"),
    [
        ({}, "Sales*", "sales_2026", True),  # Ranger's defaults: wildcards, ignore case
        ({"ignoreCase": "false"}, "Sales*", "sales_2026", False),
        ({"wildCard": "false"}, "sales*", "sales_2026", False),
        ({"wildCard": "false"}, "sales*", "sales*", True),
        ({}, "home_{USER}", "home_ann", True),
        ({}, "home_{USER}", "home_bob", False),
        ({}, "{OWNER}_db", "olga_db", True),
        ({}, "home_\\{USER}", "home_{USER}", True),  # escaped: a literal brace
        ({"replaceTokens": "false"}, "home_{USER}", "home_ann", False),
        ({"tokenDelimiterStart": "%", "tokenDelimiterEnd": "%"}, "home_%USER%", "home_ann", True),
        ({"tokenDelimiterPrefix": "rgr:"}, "home_{rgr:USER}", "home_ann", True),
        ({"tokenDelimiterPrefix": "rgr:"}, "home_{USER}", "home_ann", False),
        ({}, "home_{GROUP}", "home_x", False),  # a token with no value stays as written
    ],
)
def test_matcher_options_and_tokens(options, value, name, expected) -> None:
    service = _service(**options)
    policy = {
        "id": 1,
        "name": "p",
        "resources": {"database": {"values": [value]}, "table": {"values": ["t"]}},
        "policyItems": [_item(["select"], ["ann"])],
    }
    engine = PolicyEngine([policy], service)
    request = AccessRequest({"database": name, "table": "t"}, "select", "ann", owner="olga")
    assert engine.evaluate(request).allowed is expected


def test_without_wildcards_a_star_is_a_name() -> None:
    service = _service(wildCard="false")
    policy = {
        "id": 1,
        "name": "p",
        "resources": {"database": {"values": ["*"]}, "table": {"values": ["*"]}},
        "policyItems": [_item(["select"], ["ann"])],
    }
    engine = PolicyEngine([policy], service)

    def ask(db: str, table: str) -> bool:
        return engine.evaluate(
            AccessRequest({"database": db, "table": table}, "select", "ann")
        ).allowed

    assert not ask("sales", "t")
    # A requested "*" asks for every value (Ranger's `isAllValuesRequested`), which only a
    # match-any policy value covers; without wildcards the policy's "*" is a name.
    assert not ask("*", "*")


def test_path_separator_and_recursion() -> None:
    service = service_def_from_dict(
        {
            "resources": [
                {
                    "name": "key",
                    "parent": "",
                    "type": "path",
                    "matcherOptions": {"pathSeparatorChar": ":", "wildCard": "true"},
                }
            ],
            "accessTypes": [{"name": "read"}],
        }
    )

    def policy(recursive: bool) -> dict:
        return {
            "id": 1,
            "name": "p",
            "resources": {"key": {"values": ["app:logs"], "isRecursive": recursive}},
            "policyItems": [_item(["read"], ["ann"])],
        }

    def ask(engine, key: str) -> bool:
        return engine.evaluate(AccessRequest({"key": key}, "read", "ann")).allowed

    recursive = PolicyEngine([policy(True)], service)
    assert ask(recursive, "app:logs") and ask(recursive, "app:logs:2026:06")
    assert not ask(recursive, "app:logsX") and not ask(recursive, "app")
    flat = PolicyEngine([policy(False)], service)
    assert ask(flat, "app:logs") and not ask(flat, "app:logs:2026")


def test_owner_token_in_resources_reaches_allowed_sets() -> None:
    from datetime import datetime, timezone

    from forensics.policy import allowed_sets

    policy = _hive_policy(1, "{OWNER}_db", policyItems=[_item(["select"], ["ann"])])
    engine = PolicyEngine([policy], HIVE)
    sets = allowed_sets(
        engine,
        ["olga_db.t", "olga_db.u", "bob_db.t"],
        {"ann": [], "olga": [], "bob": []},
        datetime(2026, 1, 1, tzinfo=timezone.utc),
        owners={"olga_db.t": "olga", "olga_db.u": "bob", "bob_db.t": "bob"},
    )
    assert sets.policy_for("olga_db.t", "ann") == 1
    assert not sets.allowed("olga_db.u", "ann")  # owned by bob: the value reads bob_db
    assert sets.policy_for("bob_db.t", "ann") == 1


# -- isAuditEnabled -------------------------------------------------------------------------


def test_a_read_only_an_audit_off_policy_covers_is_not_audited() -> None:
    silent = _hive_policy(1, "hr", policyItems=[_item(["select"], ["ann"])], isAuditEnabled=False)
    loud = _hive_policy(2, "ops", policyItems=[_item(["select"], ["ann"])])
    engine = PolicyEngine([silent, loud], HIVE)
    decision = _ask(engine, "ann", "select", "hr")
    assert (decision.allowed, decision.policy_id, decision.audited) == (True, 1, False)
    assert _ask(engine, "ann", "select", "ops").audited
    assert not _ask(engine, "bob", "select", "hr").audited  # denied, and still unaudited
    assert not _ask(engine, "ann", "select", "elsewhere").audited  # no policy at all
    # an audit-on policy that also covers the table audits the read, whoever decides
    audited = PolicyEngine([silent, loud, _hive_policy(3, "h*")], HIVE)
    assert _ask(audited, "ann", "select", "hr").audited


def test_audit_gaps_list_audit_off_policies_with_resources_and_items(incident) -> None:
    import json

    from forensics.case import load_case
    from forensics.policy.audit import audit_gaps
    from forensics.scope import audit_gaps_by_state

    silent = _hive_policy(7, "hr", policyItems=[_item(["select"], [], ["hr"])])
    silent.update(isAuditEnabled=False, denyPolicyItems=[_item(["update"], ["eve"])])
    silent["additionalResources"] = [{"database": {"values": ["pay"]}}]
    off = dict(silent, id=8, isEnabled=False)
    (gap,) = audit_gaps([silent, off, _hive_policy(9, "x")])
    assert (gap.policy_id, gap.allows) == (7, True)
    assert [set(r) for r in gap.resources] == [{"database", "table", "column"}, {"database"}]
    assert [(i.kind, i.accesses, i.groups, i.users) for i in gap.items] == [
        ("allow", ("select",), ("hr",), ()),
        ("deny", ("update",), (), ("eve",)),
    ]
    export = incident.parent / "policies" / "change-1.json"
    raw = json.loads(export.read_text())
    raw["policies"][0]["isAuditEnabled"] = False
    export.write_text(json.dumps(raw))
    states = audit_gaps_by_state(load_case(incident))
    assert [len(gaps) for _, _, gaps in states] == [0, 1, 0]
    assert states[1][2][0].policy_id == raw["policies"][0]["id"]


# -- conditions ----------------------------------------------------------------------------


def _conditioned(condition: dict, kind: str = "policyItems", **extra) -> PolicyEngine:
    item = _item(["select"], ["ann"], conditions=[condition])
    policies = [_hive_policy(1, "db", **{kind: [item]}, **extra)]
    return PolicyEngine(policies, HIVE)


@pytest.mark.parametrize(
    ("values", "ip", "allowed"),
    [
        (["10.1.2.3"], "10.1.2.3", True),
        (["10.1.2.3"], "10.1.2.4", False),
        (["10.1.*"], "10.1.200.9", True),
        (["10.1.*.*"], "10.10.0.1", False),
        (["*"], "192.0.2.1", True),
        (["fe80:*"], "FE80::1", True),
        (["10.1.2.3"], "", True),  # Ranger: a request without an address matches
    ],
)
def test_ip_range_conditions_are_decided_from_the_client_address(values, ip, allowed) -> None:
    engine = _conditioned({"type": "ip-range", "values": values})
    decision = engine.evaluate(
        AccessRequest({"database": "db", "table": "t"}, "select", "ann", client_ip=ip)
    )
    assert (decision.allowed, decision.undecidable) == (allowed, ())


def test_an_unknown_client_address_makes_the_decision_undecidable() -> None:
    engine = _conditioned({"type": "ip-range", "values": ["10.1.*"]})
    decision = engine.evaluate(AccessRequest({"database": "db", "table": "t"}, "select", "ann"))
    assert not decision.allowed
    assert decision.undecidable and "client address is not known" in decision.undecidable[0]
    # someone the item does not name is decided: the condition cannot matter for bob
    other = engine.evaluate(AccessRequest({"database": "db", "table": "t"}, "select", "bob"))
    assert (other.allowed, other.undecidable) == (False, ())


def test_a_condition_that_cannot_change_the_answer_leaves_it_decided() -> None:
    conditioned = _item(["select"], ["ann"], conditions=[{"type": "custom", "values": ["x"]}])
    policies = [
        _hive_policy(1, "db", denyPolicyItems=[_item(["select"], ["ann"])]),
        _hive_policy(2, "db", policyItems=[conditioned]),
    ]
    decision = _ask(PolicyEngine(policies, HIVE), "ann", "select")
    assert (decision.allowed, decision.policy_id, decision.undecidable) == (False, 1, ())


def test_a_custom_condition_class_is_undecidable_never_guessed() -> None:
    raw = {
        "resources": [{"name": "database"}, {"name": "table", "parent": "database"}],
        "accessTypes": [{"name": "select"}],
        "policyConditions": [
            {"name": "country", "evaluator": "com.example.CountryMatcher"},
            {
                "name": "office-hours",
                "evaluator": "org.apache.ranger.plugin.conditionevaluator.RangerTimeOfDayMatcher",
            },
        ],
    }
    service = service_def_from_dict(raw)

    def engine(condition: dict) -> PolicyEngine:
        policy = {
            "id": 1,
            "name": "p",
            "resources": {"database": {"values": ["db"]}, "table": {"values": ["*"]}},
            "policyItems": [_item(["select"], ["ann"], conditions=[condition])],
        }
        return PolicyEngine([policy], service)

    from datetime import datetime, timezone

    request = AccessRequest({"database": "db", "table": "t"}, "select", "ann")
    country = engine({"type": "country", "values": ["US"]}).evaluate(request)
    assert country.undecidable and "runs code at request time" in country.undecidable[0]
    hours = engine({"type": "office-hours", "values": ["9am-5pm"]})
    at = datetime(2026, 6, 18, 10, 30, tzinfo=timezone.utc)
    assert hours.evaluate(AccessRequest(request.resource, "select", "ann", time=at)).allowed
    late = at.replace(hour=19)
    assert not hours.evaluate(AccessRequest(request.resource, "select", "ann", time=late)).allowed


@pytest.mark.parametrize(
    ("expression", "roles", "groups", "allowed"),
    [
        ("IS_IN_ROLE('fin') && IS_IN_ROLE('hr')", {"fin", "hr"}, set(), True),
        ("IS_IN_ROLE('fin') && IS_IN_ROLE('hr') ", {"fin"}, set(), False),
        ("IS_IN_GROUP('ops') || IS_IN_ROLE('hr')", set(), {"ops"}, True),
        ("!IS_IN_ANY_GROUP()", set(), {"ops"}, False),
        ("if ( IS_IN_GROUP('ops') ) ctx.result = true;", set(), {"ops"}, True),
        ("ctx.result = IS_IN_GROUP('ops');", set(), set(), False),
    ],
)
def test_simple_expressions_are_decided(expression, roles, groups, allowed) -> None:
    item = _item(["select"], ["ann"], conditions=[{"type": "_expression", "values": [expression]}])
    roster = {role: ["ann"] for role in roles}
    engine = PolicyEngine([_hive_policy(1, "db", policyItems=[item])], HIVE, roles=roster)
    decision = _ask(engine, "ann", "select", groups=frozenset(groups))
    assert (decision.allowed, decision.undecidable) == (allowed, ())


def test_a_script_reading_enriched_context_is_undecidable() -> None:
    script = "var c = ctx.getRequestContextAttribute('GEO'); ctx.result = c == 'US';"
    engine = _conditioned({"type": "_expression", "values": [script]})
    decision = _ask(engine, "ann", "select")
    assert decision.undecidable and "context enrichers" in decision.undecidable[0]


def test_an_expression_beyond_the_simple_forms_is_undecidable() -> None:
    script = "var c = ctx.getUser(); ctx.result = c == 'ann';"
    engine = _conditioned({"type": "_expression", "values": [script]})
    decision = _ask(engine, "ann", "select")
    assert decision.undecidable and "beyond the simple forms" in decision.undecidable[0]


@pytest.mark.parametrize(
    ("evaluator", "values", "tags", "allowed"),
    [
        ("RangerAnyOfExpectedTagsPresentConditionEvaluator", ["PII", "PCI"], ("PCI",), True),
        ("RangerAnyOfExpectedTagsPresentConditionEvaluator", ["PII"], ("PCI",), False),
        ("RangerTagsAllPresentConditionEvaluator", ["PII", "PCI"], ("PCI", "PII", "X"), True),
        ("RangerTagsAllPresentConditionEvaluator", ["PII", "PCI"], ("PCI",), False),
        ("RangerNoneOfExpectedTagsPresentConditionEvaluator", ["PII"], ("PCI",), True),
        ("RangerNoneOfExpectedTagsPresentConditionEvaluator", ["PII"], ("PII",), False),
    ],
)
def test_tag_conditions(evaluator, values, tags, allowed) -> None:
    from forensics.policy.conditions import ResourceTag

    raw = {
        "resources": [{"name": "database"}, {"name": "table", "parent": "database"}],
        "accessTypes": [{"name": "select"}],
        "policyConditions": [
            {
                "name": "tags",
                "evaluator": f"org.apache.ranger.plugin.conditionevaluator.{evaluator}",
            }
        ],
    }
    policy = {
        "id": 1,
        "name": "p",
        "resources": {"database": {"values": ["db"]}, "table": {"values": ["*"]}},
        "policyItems": [
            _item(["select"], ["ann"], conditions=[{"type": "tags", "values": values}])
        ],
    }
    engine = PolicyEngine([policy], service_def_from_dict(raw))
    resource = {"database": "db", "table": "t"}
    known = tuple(ResourceTag(t) for t in tags)
    decision = engine.evaluate(AccessRequest(resource, "select", "ann", tags=known))
    assert (decision.allowed, decision.undecidable) == (allowed, ())
    unknown = engine.evaluate(AccessRequest(resource, "select", "ann"))
    assert unknown.undecidable and "tags are not known" in unknown.undecidable[0]


def test_policy_level_conditions_gate_the_whole_policy() -> None:
    engine = PolicyEngine(
        [
            _hive_policy(
                1,
                "db",
                policyItems=[_item(["select"], ["ann"])],
                conditions=[{"type": "ip-range", "values": ["10.*"]}],
            )
        ],
        HIVE,
    )
    inside = AccessRequest({"database": "db", "table": "t"}, "select", "ann", client_ip="10.0.0.1")
    outside = AccessRequest({"database": "db", "table": "t"}, "select", "ann", client_ip="11.0.0.1")
    assert engine.evaluate(inside).allowed
    assert not engine.evaluate(outside).allowed
    assert not engine.evaluate(outside).audited  # Ranger checks them before auditing


def test_self_or_descendants_scope_counts_policies_below_the_resource() -> None:
    engine = PolicyEngine(
        [_hive_policy(1, "db", "t1", policyItems=[_item(["select"], ["ann"])])], HIVE
    )
    plain = AccessRequest({"database": "db"}, "select", "ann")
    below = AccessRequest({"database": "db"}, "select", "ann", scope="SELF_OR_DESCENDANTS")
    assert not engine.evaluate(plain).allowed
    assert engine.evaluate(below).policy_id == 1
    assert not engine.evaluate(
        AccessRequest({"database": "db"}, "update", "ann", scope="SELF_OR_DESCENDANTS")
    ).allowed


def test_request_expressions_in_resource_values() -> None:
    from datetime import datetime, timezone

    from forensics.policy import allowed_sets

    home = _hive_policy(1, "home_${{USER._name}}", policyItems=[_item(["select"], ["public"])])
    home["policyItems"][0]["groups"] = ["public"]
    attr = _hive_policy(2, "dept_${{USER.dept}}", policyItems=[_item(["select"], [], ["public"])])
    engine = PolicyEngine([home, attr], HIVE)
    assert _ask(engine, "ann", "select", "home_ann").policy_id == 1
    assert not _ask(engine, "bob", "select", "home_ann").allowed
    given = _ask(engine, "ann", "select", "dept_fin", user_attributes={"dept": "fin"})
    assert given.policy_id == 2
    unknown = _ask(engine, "ann", "select", "dept_fin")
    assert unknown.undecidable and "request attributes" in unknown.undecidable[0]
    assert _ask(engine, "ann", "select", "sales").undecidable == ()  # cannot match anyway
    sets = allowed_sets(
        engine, ["home_ann.t", "dept_fin.t"], {"ann": [], "bob": []},
        datetime(2026, 1, 1, tzinfo=timezone.utc),
    )  # fmt: skip
    assert sets.principals_of("home_ann.t") == {"ann": 1}
    assert sets.principals_of("dept_fin.t") == {}
    assert any("user attributes not given" in n for n in sets.notes)


# -- resource element matching scopes, empty and list values ------------------------------


def _path_engine(values: list[str], recursive: bool) -> PolicyEngine:
    policy = {
        "id": 7,
        "name": "p7",
        "resources": {"path": {"values": values, "isRecursive": recursive}},
        "policyItems": [_item(["read"], ["ann"])],
    }
    return PolicyEngine([policy], HDFS)


@pytest.mark.parametrize(
    ("values", "recursive", "path", "scope", "allowed"),
    [
        (["/tmp/ab"], False, "/tmp", "SELF_OR_CHILD", True),  # the folder holding /tmp/ab
        (["/tmp/ab"], False, "/tmp/", "SELF_OR_CHILD", True),  # a trailing separator too
        (["/tmp/ab"], False, "/tmp", "SELF", False),  # without the scope: an ancestor
        (["/tmp/a/b"], False, "/tmp", "SELF_OR_CHILD", False),  # a grandchild is not
        (["/user/dir/sub"], True, "/user/dir", "SELF_OR_CHILD", True),
        (["/user/*/x"], False, "/user/bob", "SELF_OR_CHILD", True),  # wildcard parent
        (["/home/ann"], True, "/ho", "SELF_OR_PREFIX", True),  # a prefix of the path
        (["/home/ann"], True, "/hx", "SELF_OR_PREFIX", False),
        (["/home/ann"], True, "/ho", "SELF_OR_CHILD", False),
    ],
)
def test_element_matching_scopes(values, recursive, path, scope, allowed) -> None:
    """Ranger's `resourceElementMatchingScopes` (S3, ADLS and Kafka plugins ask "may the
    user reach something under this path/prefix"): CHILD and PREFIX matches count only
    under their scope."""
    engine = _path_engine(values, recursive)
    request = AccessRequest({"path": path}, "read", "ann", element_scopes={"path": scope})
    assert engine.evaluate(request).allowed is allowed


def test_prefix_scope_on_an_empty_value_asks_for_any_name() -> None:
    """Kafka's "any topic" check: `""` with SELF_OR_PREFIX is a prefix of every name a
    policy gives; without the scope `""` (all values) only a `*` policy covers."""
    policy = _hive_policy(1, "sales", "t", policyItems=[_item(["select"], ["ann"])])
    engine = PolicyEngine([policy], HIVE)
    prefix = {"database": "SELF_OR_PREFIX"}
    assert _ask(engine, "ann", "select", db="", table="t", element_scopes=prefix).allowed
    assert not _ask(engine, "ann", "select", db="", table="t").allowed


def test_a_list_value_matches_when_one_of_its_values_does() -> None:
    """Atlas sends an entity's type with its supertypes (`["hive_table", "DataSet"]`): a
    policy on any one of them applies (`RangerDefaultResourceMatcher`, collections)."""
    policy = _hive_policy(1, "DataSet", policyItems=[_item(["select"], ["ann"])])
    engine = PolicyEngine([policy], HIVE)
    assert _ask(engine, "ann", "select", db=["hive_table", "DataSet"]).allowed
    assert not _ask(engine, "ann", "select", db=["hive_table", "Process"]).allowed


def _hive_with_together() -> object:
    import json

    from forensics.policy.servicedef import DATA_DIR

    raw = json.loads((DATA_DIR / "servicedef-hive.json").read_text())
    raw["policyConditions"] = [
        *(raw.get("policyConditions") or []),
        {
            "name": "accessed-together",
            "evaluator": "org.apache.ranger.plugin.conditionevaluator."
            "RangerHiveResourcesAccessedTogetherCondition",
        },
    ]
    return service_def_from_dict(raw, "hive")


@pytest.mark.parametrize(
    ("columns", "denied"),
    [
        (["ssn", "name"], True),  # both named columns in one query
        (["ssn"], False),  # one of them alone
        (["ssn", "city"], False),  # with a column the condition does not name
    ],
)
def test_accessed_together_is_decided_from_the_requested_resources(columns, denied) -> None:
    """Ranger's `RangerHiveResourcesAccessedTogetherCondition` compares every resource of
    the query (the request context's REQUESTED_RESOURCES): it holds when they match its
    `db.table.column` values two or more times."""
    together = {"type": "accessed-together", "values": ["db.t.ssn", "db.t.name"]}
    deny = _item(["select"], groups=["public"], conditions=[together])
    policies = [
        _hive_policy(1, "db", denyPolicyItems=[deny]),
        _hive_policy(2, "db", policyItems=[_item(["select"], ["ann"])]),
    ]
    engine = PolicyEngine(policies, _hive_with_together())
    query = {"requestedResources": [
        {"elements": {"database": "db", "table": "t", "column": c}} for c in columns
    ]}  # fmt: skip
    resource = {"database": "db", "table": "t", "column": columns[0]}
    decision = engine.evaluate(
        AccessRequest(resource, "select", "ann", context={"REQUESTED_RESOURCES": query})
    )
    assert (decision.allowed, decision.undecidable) == (not denied, ())
    unknown = engine.evaluate(AccessRequest(resource, "select", "ann"))
    assert unknown.undecidable and "REQUESTED_RESOURCES" in unknown.undecidable[0]
