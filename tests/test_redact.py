"""Redaction: literals and comments never reach the evidence; names stay readable."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics import reconstruct
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
    # issue 19: what a red team tried (each kept the literal, or the path, before the fix
    # where marked "fixed"; the others held)
    ('SELECT * FROM t WHERE a = "it\\"s Dana"', "SELECT * FROM t WHERE a = ?"),
    ("SELECT * FROM t WHERE a = 'it\\'s Dana'", "SELECT * FROM t WHERE a = ?"),
    ("SELECT 1 -- 'Dana' \"Secret\"\nFROM t", "SELECT ? \nFROM t"),
    ("SELECT /* WHERE n = 'Dana' */ a FROM t", "SELECT   a FROM t"),
    ("SELECT * FROM t WHERE name = 'Dana Sec", "SELECT * FROM t WHERE name = ?"),  # fixed
    ('SELECT * FROM t WHERE name = "Dana Sec', "SELECT * FROM t WHERE name = ?"),  # fixed
    ("dfs -cat /user/dana/salary_2026.txt", "dfs -cat ?"),  # fixed
    ("  DFS -put -f /tmp/export.csv /data/x", "DFS -put -f ? ?"),  # fixed
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


# The engine redacts texts of a plain shape itself (queries/reconstruct/redactions_plain.sql)
# and leaves the rest to `redact`; the two must give the same text for every input.
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "hive_statements.jsonl"


def _engine_redactions(texts: list[str], keep_literals: bool = False) -> dict[str, str | None]:
    con = duckdb.connect()
    con.execute("CREATE TABLE classified (query_text VARCHAR)")
    con.executemany("INSERT INTO classified VALUES (?)", [[t] for t in texts])
    reconstruct.redact_texts(con, keep_literals)
    plain = dict(con.sql("SELECT * FROM redactions_plain").fetchall())
    final = dict(con.sql("SELECT * FROM redactions").fetchall())
    con.close()
    assert set(final) == {t for t in texts if t is not None}
    assert all(final[t] == (t if keep_literals else redact(t)) for t in final)
    return plain


def test_engine_and_python_redact_the_corpus_alike() -> None:
    if not CORPUS.is_file():
        pytest.skip("../shared/corpus is not beside the project")
    texts = [json.loads(line)["query"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    plain = _engine_redactions(texts)
    done_by_engine = [t for t, r in plain.items() if r is not None]
    assert len(done_by_engine) > len(texts) // 4  # the engine's share is not trivially empty
    assert all(plain[t] == redact(t) for t in done_by_engine)


def test_engine_redacts_typical_log_statements_and_leaves_odd_ones() -> None:
    plain = _engine_redactions(
        [
            "SELECT count(*) FROM dw_0970.t_00005 WHERE ds >= '2026-06-18' LIMIT 10",
            "select a, b+1 from t where x in (1,2, 3) and y <> 'a b -- c /* d'",
            "select 'it''s'",  # a quote inside a string
            "select 1e5, 2.5, .5 from t",  # numbers sqlparse reads as one token
            "select a -- comment\nfrom t",
            'select "x" from t',
            "select `a 1` from t",
            "select 'a\\'b' from t",
            "dfs ls dana",  # a dfs command: only its options are kept, by redact.py
            None,
        ]
    )
    assert plain["SELECT count(*) FROM dw_0970.t_00005 WHERE ds >= '2026-06-18' LIMIT 10"] == (
        "SELECT count(*) FROM dw_0970.t_00005 WHERE ds >= ? LIMIT ?"
    )
    assert plain["select a, b+1 from t where x in (1,2, 3) and y <> 'a b -- c /* d'"] == (
        "select a, b+? from t where x in (?,?, ?) and y <> ?"
    )
    odd = [t for t, r in plain.items() if r is None]
    assert len(odd) == 7


def test_keep_literals_keeps_every_text() -> None:
    plain = _engine_redactions(["select 1 from t where a = 'x'", "select `b` from t"], True)
    assert plain == {"select 1 from t where a = 'x'": "select 1 from t where a = 'x'"} | {
        "select `b` from t": "select `b` from t"
    }


_PIECES = st.sampled_from(
    [" ", "  ", "\n", "\t", "select", "from", "t_1", "db2.t", "x", "_a9", "1", "42", "007",
     "1.5", ".5", "1e5", "2col", "'s'", "''", "'a''b'", "'é -- /* ?'", "'", '"q"', "`b 1`",
     "-", "--", "/*", "*/", "#", "\\", ",", "(", ")", "*", "=", "<", ">", "!", ";", "+", ".",
     "?", "$", ":", "[0]", "{", "é", "\x01", "\r"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_PIECES, max_size=12).map("".join), min_size=1, max_size=20))
def test_engine_and_python_redact_generated_texts_alike(texts: list[str]) -> None:
    _engine_redactions(texts)
