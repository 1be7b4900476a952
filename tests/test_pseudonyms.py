"""Principals' names inside paths and identifiers (`privacy.NameRewriter`): the rule that
--pseudonymize applies to every text cell of the evidence (tests/test_second_leak.py checks
a whole report)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from forensics.cli import main
from forensics.privacy import NameRewriter, load_key, pseudonym

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

KEY = b"0123456789abcdef-test"
NAMES = ["dora", "carl", "svc_etl", "Kim", "first.last", "+cmd|' ", "t"]


@pytest.fixture(scope="module")
def rewrite() -> NameRewriter:
    return NameRewriter(KEY, NAMES)


def p(name: str) -> str:
    return pseudonym(KEY, name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/tmp/dora_export", f"/tmp/{p('dora')}_export"),
        ("hdfs://nn:8020/user/dora/x.csv", f"hdfs://nn:8020/user/{p('dora')}/x.csv"),
        ("/home/Dora/", f"/home/{p('dora')}/"),  # names are compared without case
        ("scratch.dora_copy", f"scratch.{p('dora')}_copy"),
        ("dora-laptop.corp", f"{p('dora')}-laptop.corp"),
        ("kim@CORP.EXAMPLE.COM", f"{p('kim')}@CORP.EXAMPLE.COM"),
        (
            "CREATE TABLE t AS SELECT * FROM svc_etl_tmp.a",
            f"CREATE TABLE t AS SELECT * FROM {p('svc_etl')}_tmp.a",
        ),
        ("first.last wrote", f"{p('first.last')} wrote"),
        # not a whole token: kept
        ("sales.carlsberg_sales", "sales.carlsberg_sales"),
        ("doradora", "doradora"),
        ("/data/kimchi", "/data/kimchi"),
        ("first.lastly", "first.lastly"),
        # a name of one letter is never looked for inside texts (every time has a T)
        ("2026-06-18T09:00:00.000Z", "2026-06-18T09:00:00.000Z"),
        # a pseudonym is never rewritten again; a name with no letter at an end is not a token
        (p("carl"), p("carl")),
        ("=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"),
        ("", ""),
        (None, None),
    ],
)
def test_names_are_rewritten_as_whole_tokens(
    rewrite: NameRewriter, text: str | None, expected: str | None
) -> None:
    assert rewrite(text) == expected


def test_the_same_pseudonym_as_the_principal_column() -> None:
    # the column `principal` holds pseudonym(key, short name): a path names the same one
    assert NameRewriter(KEY, ["dora"])("/tmp/dora") == "/tmp/" + pseudonym(KEY, "dora")


def test_without_names_nothing_changes() -> None:
    assert NameRewriter(KEY, [])("/tmp/dora_export") == "/tmp/dora_export"


def test_policy_changers_are_pseudonymized_in_the_windows(tmp_path: Path) -> None:
    # the users who opened or closed a window by changing a policy (Ranger's admin audit)
    # are named in `opened_by` ("policy 1 v3 update by mallory") and `*_by_users`
    key = tmp_path / "key"
    key.write_text("0123456789abcdef-not-a-real-key\n")
    out = tmp_path / "ev"
    case = FIXTURES / "policy-history" / "case.yaml"
    assert main(["investigate", str(case), "--out", str(out), "--pseudonymize", str(key)]) == 0
    changers = re.compile(r"(?<![^\W_])(mallory|bob|carol)(?![^\W_])", re.I)
    for path in sorted(out.iterdir()):
        assert not changers.search(path.read_text(encoding="utf-8")), path.name
    with open(out / "exposure_windows.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    mallory = pseudonym(load_key(key, "pseudonym"), "mallory")
    assert any(r["opened_by"] == f"policy 1 v3 update by {mallory}" for r in rows), rows
    assert any(r["opened_by_users"] == mallory for r in rows), rows
