"""The engine's default memory limit: chosen from the machine and what the process holds,
so that a run stays within its budget without a flag; `--memory-limit` still overrides."""

from __future__ import annotations

import pytest

from forensics import engine


def _limit_bytes(con) -> int:
    ((text,),) = con.sql("SELECT current_setting('memory_limit')").fetchall()
    number, unit = text.split()
    return int(float(number) * {"MiB": 2**20, "GiB": 2**30, "KiB": 2**10}[unit])


def test_auto_is_a_limit_the_cli_accepts() -> None:
    assert engine.memory_limit("auto") == engine.AUTO == engine.DEFAULT_MEMORY_LIMIT
    assert engine.memory_limit(" AUTO ") == engine.AUTO
    with pytest.raises(ValueError, match="or auto"):
        engine.memory_limit("automatic")


def test_the_default_limit_leaves_the_process_within_its_budget() -> None:
    con = engine.connect()
    try:
        limit = _limit_bytes(con)
    finally:
        con.close()
    budget = min(engine.PEAK_BUDGET, engine._physical_memory() // 2)
    assert 256 * 2**20 <= limit <= budget - 256 * 2**20


def test_the_engine_gets_less_when_python_holds_more() -> None:
    """What the Python side holds comes out of the engine's share (refit by fit_memory)."""
    con = engine.connect()
    try:
        before = _limit_bytes(con)
        held = b"x" * (300 * 2**20)  # written, so resident
        engine.fit_memory(con)
        after = _limit_bytes(con)
        assert len(held) and after <= before - 200 * 2**20
        del held
    finally:
        con.close()


def test_an_explicit_limit_is_kept() -> None:
    con = engine.connect(memory_limit="700MiB")
    try:
        assert _limit_bytes(con) == 700 * 2**20
    finally:
        con.close()
