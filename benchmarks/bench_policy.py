"""`make bench-policy`: the baseline at incident scale, and its agreement with the evaluator.

A seeded warehouse (300,000 tables in 2,000 databases; 50,000 principals in 2,000 groups;
2,000 Ranger policies of the kinds real services carry: database-wide grants, table
wildcards such as `emp_*`, excludes, deny policies with exceptions, a few public grants,
higher-priority overrides, deny-all-else, column-only and disabled policies, roles and
super users; tag policies on PII/PCI/EXPIRES_ON tags of about 7% of the databases, one
of them opening PII to everyone) is generated in a fresh subprocess, which then times
`forensics.policy.allowed_sets` for the 45,000 exposed objects x 50,000 principals and
reports its peak RSS (`ru_maxrss`).

A second subprocess checks 100,000 random (object, principal) requests against
`PolicyEngine.evaluate` (must agree 100%). One full evaluation walks all 2,000 policies,
so the requests are drawn as 1,000 objects x 100 principals and each object's requests go
to a copy of the engine holding only the policies the engine's own `match_type` says
apply to it (the others are skipped by `evaluate` anyway); 2,000 further requests go to
the full engine, to show the narrowing changes nothing.

Prints a Markdown table and writes it to `benchmarks/results/policy.md`.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "policy.md"
AT = datetime(2026, 6, 1, tzinfo=timezone.utc)
DOMAINS = ("fin", "hr", "mkt", "ops", "eng", "sales", "legal", "risk")
PREFIXES = ("emp_", "cust_", "txn_", "log_", "tmp_", "stg_", "agg_", "pub_", "ref_", "dim_")


class Params:
    """The size of the generated warehouse (the incident's scale by default)."""

    def __init__(self, quick: bool = False) -> None:
        scale = 10 if quick else 1
        self.databases = 2_000 // scale
        self.tables = 300_000 // scale
        self.exposed = 45_000 // scale
        self.principals = 50_000 // scale
        self.groups = 2_000 // scale
        self.policies = 2_000 // scale
        self.requests = 100_000 // scale
        self.full_requests = 2_000 // scale
        self.seed = 20260601


def warehouse(params: Params) -> tuple[list[str], list[str], dict, list[dict], dict, tuple]:
    """(all objects, exposed objects, directory, policies, roles, (super users, super
    groups)), the same for the same parameters."""
    rng = random.Random(params.seed)
    dbs = [f"{DOMAINS[i % len(DOMAINS)]}_{i:04d}" for i in range(params.databases)]
    per_db = params.tables // params.databases
    objects = [
        f"{db}.{PREFIXES[(j * 7 + i) % len(PREFIXES)]}{j:03d}"
        for i, db in enumerate(dbs)
        for j in range(per_db)
    ]
    exposed = sorted(rng.sample(objects, params.exposed))
    groups = [f"grp_{i:04d}" for i in range(params.groups)]
    directory = {
        f"u{i:05d}": frozenset(rng.sample(groups, rng.randint(1, 4)))
        for i in range(params.principals)
    }
    users = sorted(directory)
    roles = {
        f"role_{i:03d}": frozenset(rng.sample(groups, 3) + rng.sample(users, 5)) for i in range(100)
    }
    supers = (frozenset(users[:3]), frozenset([groups[-1]]))
    members: dict[str, list[str]] = {}
    for user in users:
        for group in directory[user]:
            members.setdefault(group, []).append(user)
    policies: list[dict] = []
    grants: list[dict] = []
    for pid in range(1, params.policies + 1):
        policies.append(_policy(pid, rng, dbs, groups, users, sorted(roles), members, grants))
        if policies[-1]["name"].startswith("db "):
            grants.append(policies[-1])
    return objects, exposed, directory, policies, roles, supers


def _items(rng: random.Random, groups: list[str], users: list[str], roles: list[str]) -> list:
    return [
        {
            "accesses": [
                {"type": rng.choice(["select", "select", "all", "update"]), "isAllowed": True}
            ],
            "users": rng.sample(users, rng.choice([0, 0, 1, 3])),
            "groups": rng.sample(groups, rng.randint(1, 3)),
            "roles": rng.sample(roles, rng.choice([0, 0, 0, 1])),
            "conditions": [],
            "delegateAdmin": False,
        }
        for _ in range(rng.choice([1, 1, 2]))
    ]


def _except(
    rng: random.Random, items: list[dict], members: dict[str, list[str]], groups: list[str]
) -> list[dict]:
    """An exception item naming some members of the item's first group (and maybe a
    group), so that it excepts people the item names."""
    named = sorted(members.get(items[0]["groups"][0], []))
    return [
        {
            "accesses": [{"type": "select", "isAllowed": True}],
            "users": rng.sample(named, min(len(named), 5)),
            "groups": rng.sample(groups, rng.choice([0, 1])),
        }
    ]


def _policy(
    pid: int,
    rng: random.Random,
    dbs: list[str],
    groups: list[str],
    users: list[str],
    roles: list[str],
    members: dict[str, list[str]],
    grants: list[dict],
) -> dict:
    """One policy of a realistic mix, by kind; deny policies and exceptions mostly aim at
    people an earlier grant lets in, as real ones do."""
    kind = rng.choices(
        [
            "db",
            "wild",
            "exclude",
            "deny",
            "public",
            "override",
            "deny_all_else",
            "column",
            "domain",
        ],
        weights=[55, 15, 6, 8, 1, 3, 1, 6, 5],
    )[0]
    db_values = rng.sample(dbs, rng.choice([1, 1, 1, 2, 3]))
    table = {"values": ["*"]}
    column = {"values": ["*"]}
    allow = _items(rng, groups, users, roles)
    deny: list = []
    deny_exceptions: list = []
    allow_exceptions: list = []
    priority, deny_all_else = 0, False
    if kind == "wild":
        table = {"values": rng.sample(["emp_*", "cust_*", "txn_0*", "agg_?1*", "dim_*"], 2)}
    elif kind == "exclude":
        table = {"values": ["tmp_*", "stg_*"], "isExcludes": True}
    elif kind == "deny":
        table = {"values": [rng.choice(["emp_*", "*", "cust_*"])]}
        deny, allow = allow, []
        if grants:  # "of those granted this database, deny one group emp_*, except ..."
            base = rng.choice(grants)
            db_values = base["resources"]["database"]["values"]
            deny = [{**deny[0], "groups": base["policyItems"][0]["groups"][:1]}]
        deny_exceptions = _except(rng, deny, members, groups)
    elif kind == "public":
        table = {"values": ["pub_*"]}
        allow = [{"accesses": [{"type": "select", "isAllowed": True}], "groups": ["public"]}]
    elif kind == "override":
        priority = 1
        if rng.random() < 0.5:
            deny, allow = allow, []
    elif kind == "deny_all_else":
        table = {"values": [rng.choice(["emp_0*", "txn_1*"])]}
        deny_all_else = True
    elif kind == "column":
        column = {"values": ["ssn", "salary"]}
    elif kind == "domain":
        db_values = [f"{rng.choice(DOMAINS)}_{rng.randint(0, 19):02d}*"]
        allow_exceptions = _except(rng, allow, members, groups)
    if allow and rng.random() < 0.05:
        allow_exceptions = _except(rng, allow, members, groups)
    return {
        "id": pid,
        "name": f"{kind} {pid:04d}",
        "isEnabled": rng.random() > 0.01,
        "policyType": 0,
        "policyPriority": priority,
        "isDenyAllElse": deny_all_else,
        "resources": {"database": {"values": db_values}, "table": table, "column": column},
        "policyItems": allow,
        "denyPolicyItems": deny,
        "allowExceptions": allow_exceptions,
        "denyExceptions": deny_exceptions,
        "validitySchedules": (
            [{"startTime": "2026/01/01 00:00:00", "endTime": "2026/03/01 00:00:00"}]
            if rng.random() < 0.01
            else []
        ),
    }


def tagging(params: Params, directory: dict) -> tuple[list[dict], dict]:
    """(tag policies, ServiceTags export): PII on 5% of the databases, PCI on the `txn_`
    and `cust_` tables of 2% more, EXPIRES_ON with a date attribute on a few; tag
    policies allowing groups, denying some with exceptions, one opening PII to `public`
    at a lower priority than the resource overrides, the same for the same parameters."""
    rng = random.Random(params.seed + 7)
    dbs = [f"{DOMAINS[i % len(DOMAINS)]}_{i:04d}" for i in range(params.databases)]
    groups = sorted({g for gs in directory.values() for g in gs})
    resources, links = [], {}
    for db in rng.sample(dbs, len(dbs) // 20):
        resources.append(
            {"id": len(resources) + 1, "resourceElements": {"database": {"values": [db]}}}
        )
        links[str(len(resources))] = [1]
    for db in rng.sample(dbs, len(dbs) // 50):
        resources.append(
            {
                "id": len(resources) + 1,
                "resourceElements": {
                    "database": {"values": [db]},
                    "table": {"values": ["txn_*", "cust_*"]},
                },
            }
        )
        links[str(len(resources))] = [2] + ([3] if rng.random() < 0.3 else [])
    tags = {
        "1": {"type": "PII"},
        "2": {"type": "PCI"},
        "3": {"type": "EXPIRES_ON", "attributes": {"expiry_date": "2026/05/01"}},
    }

    def item(kind: str, chosen: list[str]) -> dict:
        return {"accesses": [{"type": f"hive:{kind}"}], "groups": chosen, "users": []}

    tag_policies = []
    for pid in range(100):
        kind = ("PII", "PCI", "EXPIRES_ON")[pid % 3]
        policy = {
            "id": 100_000 + pid,
            "name": f"tag {kind} {pid}",
            "resources": {"tag": {"values": [kind]}},
            "policyItems": [item("select", rng.sample(groups, 3))],
        }
        if pid % 4 == 0:
            policy["denyPolicyItems"] = [item("select", rng.sample(groups, 2))]
            policy["denyExceptions"] = [item("select", rng.sample(groups, 1))]
        tag_policies.append(policy)
    tag_policies.append(
        {
            "id": 100_100,
            "name": "PII readable by all (the mis-set one)",
            "resources": {"tag": {"values": ["PII"]}},
            "policyItems": [item("select", ["public"])],
        }
    )
    export = {"serviceResources": resources, "tags": tags, "resourceToTagIds": links}
    return tag_policies, export


def _engine(policies: list[dict], roles: dict, supers: tuple, tagged: tuple | None = None):
    from forensics.policy import PolicyEngine, load_service_def
    from forensics.policy.tags import service_tags_from_dict

    hive = load_service_def("hive")
    tag_policies, export = tagged if tagged is not None else (None, None)
    return PolicyEngine(
        policies,
        hive,
        roles=roles,
        super_users=supers[0],
        super_groups=supers[1],
        tag_policies=tag_policies,
        service_tags=service_tags_from_dict(export, hive, "tags") if export else None,
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_baseline(params: Params) -> dict:
    """Generate, then time `allowed_sets` for the exposed objects x every principal."""
    from forensics.policy import allowed_sets

    started = time.perf_counter()
    _, exposed, directory, policies, roles, supers = warehouse(params)
    generated = time.perf_counter() - started
    tagged = tagging(params, directory)
    rss_before = _rss_mb()
    started = time.perf_counter()
    engine = _engine(policies, roles, supers, tagged)
    compiled = time.perf_counter() - started
    started = time.perf_counter()
    sets = allowed_sets(engine, exposed, directory, AT)
    computed = time.perf_counter() - started
    logged = sorted(random.Random(1).sample(sorted(directory), len(directory) // 10))
    started = time.perf_counter()
    rows = sum(1 for _ in sets.rows(logged))
    rowed = time.perf_counter() - started
    pairs = sum(sets.count(o) for o in exposed)
    return {
        "generate_s": generated,
        "engine_s": compiled,
        "allowed_sets_s": computed,
        "rows_s": rowed,
        "rows": rows,
        "logged": len(logged),
        "classes": len(sets.classes),
        "allowed_pairs": pairs,
        "rss_before_mb": rss_before,
        "rss_mb": _rss_mb(),
        "notes": list(sets.notes),
    }


def child_agreement(params: Params) -> dict:
    """Random requests decided by `PolicyEngine.evaluate` and by `allowed_sets`."""
    from forensics.policy import AccessRequest, allowed_sets

    _, exposed, directory, policies, roles, supers = warehouse(params)
    engine = _engine(policies, roles, supers, tagging(params, directory))
    rng = random.Random(params.seed + 1)
    users = sorted(directory)
    chosen = sorted(rng.sample(exposed, params.requests // 100))
    started = time.perf_counter()
    sets = allowed_sets(engine, chosen, directory, AT)
    ours = time.perf_counter() - started

    def request(obj: str, user: str) -> AccessRequest:
        db, table = obj.split(".", 1)
        return AccessRequest({"database": db, "table": table}, "select", user, directory[user], AT)

    def agrees(evaluator, obj: str, user: str) -> bool:
        decision = evaluator.evaluate(request(obj, user))
        return sets.policy_for(obj, user) == (decision.policy_id if decision.allowed else None)

    known = frozenset(users)
    members: dict[str, list[str]] = {}
    for user in users:
        for group in directory[user]:
            members.setdefault(group, []).append(user)
    same = total = allowed = denied_by_policy = 0
    started = time.perf_counter()
    for obj in chosen:
        narrowed = copy.copy(engine)
        probe = request(obj, users[0])
        narrowed.policies = [p for p in engine.policies if engine.match_type(p, probe) is not None]
        for user in _principals(rng, users, known, members, narrowed.policies, 100):
            total += 1
            same += agrees(narrowed, obj, user)
            allowed += sets.allowed(obj, user)
            decision = narrowed.evaluate(request(obj, user))
            denied_by_policy += not decision.allowed and decision.policy_id != -1
    narrowed_s = time.perf_counter() - started
    full_same = 0
    started = time.perf_counter()
    for _ in range(params.full_requests):
        full_same += agrees(engine, rng.choice(chosen), rng.choice(users))
    full_s = time.perf_counter() - started
    return {
        "requests": total,
        "agree": same,
        "allowed": allowed,
        "denied_by_policy": denied_by_policy,
        "full_requests": params.full_requests,
        "full_agree": full_same,
        "full_ms_per_request": 1000 * full_s / params.full_requests,
        "narrowed_s": narrowed_s,
        "allowed_sets_s": ours,
    }


def _principals(
    rng: random.Random,
    users: list[str],
    known: frozenset[str],
    members: dict[str, list[str]],
    policies: list,
    count: int,
) -> list[str]:
    """Half drawn at random, half from the people the object's policies name (so that
    allowed and explicitly denied requests are well represented)."""
    named: set[str] = set()
    for policy in policies:
        for item in policy.allow + policy.deny + policy.allow_exceptions + policy.deny_exceptions:
            named.update(u for u in item.users if u in known)
            named.update(u for g in item.groups for u in members.get(g, ()))
    picked = rng.sample(sorted(named), min(len(named), count // 2))
    return picked + rng.sample(users, count - len(picked))


def run_child(kind: str, quick: bool) -> dict:
    """One measurement in a fresh interpreter, so its peak RSS is its own."""
    args = [sys.executable, __file__, "--child", kind] + (["--quick"] if quick else [])
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"bench-policy: the {kind} run failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(params: Params, base: dict, agree: dict) -> str:
    """The results as Markdown."""
    total = params.exposed * params.principals
    ok = agree["agree"] == agree["requests"] and agree["full_agree"] == agree["full_requests"]
    per_request = agree["full_ms_per_request"] / 1000
    lines = [
        "# Baseline authorization at scale (`make bench-policy`)",
        "",
        f"{params.tables:,} tables in {params.databases:,} databases, {params.principals:,} "
        f"principals in {params.groups:,} groups, {params.policies:,} policies and 101 tag "
        "policies on the PII/PCI/EXPIRES_ON tags of about 7% of the databases; the baseline "
        f"of {params.exposed:,} exposed objects x {params.principals:,} principals "
        f"({total:,} decisions).",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| `allowed_sets` (match, classes, decide) | {base['allowed_sets_s']:.2f} s |",
        f"| compile the engine ({params.policies:,} policies) | {base['engine_s']:.2f} s |",
        f"| peak RSS of the run (generation included) | {base['rss_mb']:,.0f} MB |",
        f"| peak RSS after generation, before the baseline | {base['rss_before_mb']:,.0f} MB |",
        f"| object classes (distinct applicable policy sets) | {base['classes']:,} |",
        f"| allowed (object, principal) pairs held | {base['allowed_pairs']:,} |",
        f"| rows for {base['logged']:,} principals seen in logs | {base['rows']:,} in "
        f"{base['rows_s']:.1f} s |",
        f"| agreement with `PolicyEngine.evaluate` ({agree['requests']:,} random requests, "
        f"narrowed engine) | {agree['agree']:,}/{agree['requests']:,} |",
        f"| ... of which allowed / denied by a policy | {agree['allowed']:,} / "
        f"{agree['denied_by_policy']:,} |",
        f"| agreement, full engine ({agree['full_requests']:,} requests) | "
        f"{agree['full_agree']:,}/{agree['full_requests']:,} |",
        f"| one full `evaluate` ({params.policies:,} policies) | "
        f"{agree['full_ms_per_request']:.2f} ms |",
        f"| the same baseline by `evaluate` alone (estimate) | "
        f"{total * per_request / 3600:,.0f} h |",
        "",
        f"Targets: <= 30 s and <= 2,048 MB; 100% agreement. This run: "
        f"{'met' if ok and base['allowed_sets_s'] <= 30 and base['rss_mb'] <= 2048 else 'NOT met'}"
        ".",
    ]
    if base["notes"]:
        lines += ["", "Notes from `allowed_sets`: " + "; ".join(base["notes"]) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the scale; no file")
    parser.add_argument("--child", choices=["baseline", "agreement"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    params = Params(args.quick)
    if args.child:
        sys.path.insert(0, str(HERE.parent))
        work = child_baseline if args.child == "baseline" else child_agreement
        print(json.dumps(work(params)))
        return
    base, agree = run_child("baseline", args.quick), run_child("agreement", args.quick)
    text = table(params, base, agree)
    print(text)
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
    if agree["agree"] != agree["requests"] or agree["full_agree"] != agree["full_requests"]:
        sys.exit("bench-policy: allowed_sets disagrees with PolicyEngine.evaluate")


if __name__ == "__main__":
    main()
