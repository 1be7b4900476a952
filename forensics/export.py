"""Exports of the evidence for the tools investigators already use.

- Timesketch: JSON lines with its mandatory fields (`message`, `datetime` in ISO 8601,
  `timestamp_desc`), the classification as a `tag`, and the provenance of every event
  (`event_id`, `source_file`, `source_line`) so a Timesketch event leads back to the log.
- `notification.csv`: every reader (of exposed data or of a copy) with organisation, kind,
  tables, categories, first and last read and the event ids, the list HR or a privacy
  office works from.

Both read the evidence folder only; files are written atomically and private (0600).
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from forensics.errors import EvidenceError
from forensics.findings import Evidence

#: What each classification means, as the Timesketch message says it.
MEANING = {
    "exposure_enabled": "read only the exposure allowed",
    "secondary": "read of a copy of exposed data",
    "outside_window": "read outside the exposure windows (a window may be wrong)",
    "denied": "denied attempt",
    "baseline": "read the baseline policy allows anyway",
    "write": "write (a copy of exposed data was made)",
    "metadata": "metadata call, not a read",
    "on_behalf": "file read by a service on behalf of a user",
}
NOTIFICATION_COLUMNS = (
    "principal",
    "kind",
    "org",
    "tables",
    "categories",
    "first_read",
    "last_read",
    "exposure_enabled_events",
    "secondary_events",
    "event_ids",
)
_PROVENANCE = ("event_id", "source_file", "source_line", "query_id", "client_ip")


def timesketch_events(ev: Evidence, case: str) -> Iterator[dict[str, object]]:
    """One Timesketch event per row of access_events.csv, in time order."""
    events = ev.access_events.sort_values(["time", "event_id"])
    for row in events.to_dict("records"):
        moment = row["time"]
        if pd.isna(moment):
            continue
        cls = str(row["classification"])
        yield {
            "message": (
                f"{row['principal']} {str(row['action']).lower()} {row['object']} "
                f"({row['engine']}, {row['via']}, {row['result']}): {MEANING.get(cls, cls)}"
            ),
            "datetime": moment.isoformat(timespec="microseconds"),
            "timestamp": int(moment.value // 1000),  # microseconds since the epoch
            "timestamp_desc": f"{row['engine']} access time",
            "tag": [cls],
            "case": case,
            "principal": row["principal"],
            "object": row["object"],
            "engine": row["engine"],
            "action": row["action"],
            "via": row["via"],
            "result": row["result"],
            "classification": cls,
            "query_redacted": row["query_redacted"],
            **{k: _plain(row.get(k)) for k in _PROVENANCE},
        }


def notification(ev: Evidence) -> pd.DataFrame:
    """Every reader of exposed data or of a copy, as the people who notify need them."""
    kinds = ("exposure_enabled", "secondary")
    events = ev.access_events[ev.access_events["classification"].isin(kinds)]
    per = events.groupby("principal").agg(
        tables=("object", lambda v: ";".join(sorted(set(v)))),
        event_ids=("event_id", lambda v: ";".join(sorted(set(v)))),
    )
    people = ev.principals
    table = pd.DataFrame(
        {
            "principal": people["principal"],
            "kind": people["kind"].replace("", "unknown"),
            "org": people["org"],
            "tables": people["principal"].map(per["tables"]).fillna(""),
            "categories": people["sensitivity"],
            "first_read": people["first_read"].map(_iso),
            "last_read": people["last_read"].map(_iso),
            "exposure_enabled_events": people["exposure_enabled_events"],
            "secondary_events": people["secondary_events"],
            "event_ids": people["principal"].map(per["event_ids"]).fillna(""),
        }
    )
    return table.sort_values("principal").reset_index(drop=True)[list(NOTIFICATION_COLUMNS)]


def write_timesketch(ev: Evidence, case: str, out: Path) -> int:
    """Write the Timesketch JSON lines to `out`; returns the number of events."""
    count = 0
    with _atomic(out) as f:
        for event in timesketch_events(ev, case):
            f.write(json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def write_notification(ev: Evidence, out: Path) -> int:
    """Write notification.csv to `out`; returns the number of readers."""
    table = notification(ev)
    with _atomic(out) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(NOTIFICATION_COLUMNS)
        for record in table.itertuples(index=False, name=None):
            writer.writerow([_inert(v) for v in record])
    return len(table)


class _atomic:
    """A private text file that replaces `path` only when the block completes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __enter__(self):
        folder = self.path.parent
        if not folder.is_dir():
            raise EvidenceError(f"{folder}: no such folder; create it or choose another --out")
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=folder)
        os.chmod(self.tmp, 0o600)
        self.file = os.fdopen(fd, "w", encoding="utf-8", newline="")
        return self.file

    def __exit__(self, kind, value, traceback) -> None:
        self.file.close()
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)


def _iso(moment: object) -> str:
    return (
        "" if pd.isna(moment) else pd.Timestamp(moment).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    )


def _plain(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _inert(value: object) -> object:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else value
    if isinstance(text, str) and text[:1] in ("=", "+", "@", "\t", "\r"):
        return "'" + text
    return text
