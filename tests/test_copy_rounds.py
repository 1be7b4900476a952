"""Copy-following on hand-made events when an exposed object becomes a copy: its accesses
are grouped before the first round (reconstruct/exposed_sources), and a round groups again
those of the objects it found to be copies (reconstruct/statement_sources), so a read of
the exposed copy made after it was written is secondary in the next round."""

from __future__ import annotations

from datetime import datetime, timezone

from forensics.reconstruct import follow_copies
from tests.test_classify import T0, _engine, _event

HOUR = 3_600_000


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).replace(tzinfo=None)


def test_an_exposed_object_written_from_another_is_a_copy_from_the_next_round() -> None:
    copy = "INSERT INTO mci.k_sub SELECT * FROM mci.k"
    ctas = "CREATE TABLE scratch.x AS SELECT * FROM mci.k_sub"
    events = [
        _event(event_id="c1", principal="carl", session_id="s1", query_text=copy),
        _event(event_id="c2", principal="carl", session_id="s1", query_text=copy, op="write",
               object="mci.k_sub", source_line=2),
        _event(event_id="d0", principal="dora", session_id="s0", object="mci.k_sub",
               query_text="SELECT * FROM mci.k_sub", source_line=3, time_ms=T0 - HOUR),
        _event(event_id="d1", principal="dora", session_id="s2", object="mci.k_sub",
               query_text=ctas, source_line=4, time_ms=T0 + HOUR),
        _event(event_id="d2", principal="dora", session_id="s2", object="scratch.x",
               query_text=ctas, op="write", source_line=5, time_ms=T0 + HOUR),
    ]  # fmt: skip
    con = _engine(events)
    edges = follow_copies(con)
    found = {(e[0], e[1]): (e[2], e[3], e[5]) for e in edges}
    assert found == {
        ("mci.k", "mci.k_sub"): ("carl", _at(T0), 1),
        # dora's read of mci.k_sub came after carl's copy: secondary, generation 2
        ("mci.k_sub", "scratch.x"): ("dora", _at(T0 + HOUR), 2),
    }
    sources = con.sql(
        "SELECT source_object, classification, principal FROM statement_sources ORDER BY ALL"
    ).fetchall()
    assert ("mci.k_sub", "secondary", "dora") in sources
    assert ("mci.k_sub", "exposure_enabled", "dora") in sources  # her read before the copy
    con.close()
