"""Redaction: literals and comments never reach the evidence; names stay readable."""

from __future__ import annotations

import pytest

from forensics.redact import fingerprint, redact

CASES = [
    (
        "SELECT * FROM mci.keystrokes WHERE user_name = 'dana.k' AND n > 42",
        "SELECT * FROM mci.keystrokes WHERE user_name = ? AND n > ?",
    ),
    ("INSERT INTO t VALUES (1, 2.5, 'x', -3e4)", "INSERT INTO t VALUES (?, ?, ?, ?)"),
    ("select a -- note about dana\nfrom t", "select a \nfrom t"),
    ("select /* salary of bob */ a from t", "select   a from t"),
    ('SELECT * FROM "hive"."mci"."keystrokes" x', 'SELECT * FROM "hive"."mci"."keystrokes" x'),
    ('SELECT * FROM t WHERE name = "dana"', "SELECT * FROM t WHERE name = ?"),
    (
        "SELECT `weird col` FROM `db`.`t1` WHERE c2 = 'it''s'",
        "SELECT `weird col` FROM `db`.`t1` WHERE c2 = ?",
    ),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_literals_become_placeholders(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_fingerprint_is_the_same_for_other_literals_and_spacing() -> None:
    first = fingerprint("SELECT *  FROM t WHERE a = 'x'\n  AND b = 1")
    second = fingerprint("SELECT * FROM t WHERE a = 'something else' AND b = 99")
    assert first == second == "SELECT * FROM t WHERE a = ? AND b = ?"


def test_identifiers_with_digits_are_kept() -> None:
    assert redact("select t1.c2 from db3.t1") == "select t1.c2 from db3.t1"
