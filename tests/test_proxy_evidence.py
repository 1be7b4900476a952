"""The real user of a proxied HDFS access (`erik (auth:PROXY) via hue/...`) reaches the
evidence as `via_principal`, and is pseudonymized like every principal."""

from __future__ import annotations

import csv
from pathlib import Path

from forensics.cli import main
from forensics.privacy import pseudonym

HUE = "hue/hue-01.corp.example.com@CORP.EXAMPLE.COM"  # the bundled incident's proxy


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_proxied_access_names_the_service_it_went_through(incident: Path, tmp_path: Path) -> None:
    out = tmp_path / "ev"
    assert main(["investigate", str(incident), "--out", str(out)]) == 0
    rows = _rows(out / "access_events.csv")
    proxied = [r for r in rows if r["via_principal"]]
    assert proxied and {(r["principal"], r["via_principal"]) for r in proxied} == {("erik", HUE)}
    assert all(r["engine"] == "hdfs" for r in proxied)
    header = list(rows[0])
    assert header.index("via_principal") == header.index("principal_raw") + 1


def test_via_principal_is_pseudonymized(incident: Path, tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("k" * 32)
    out = tmp_path / "ev"
    assert main(["investigate", str(incident), "--out", str(out), "--pseudonymize", str(key)]) == 0
    proxied = [r for r in _rows(out / "access_events.csv") if r["via_principal"]]
    assert proxied
    assert {r["via_principal"] for r in proxied} == {pseudonym(b"k" * 32, "hue")}
    assert "hue" not in (out / "access_events.csv").read_text()
