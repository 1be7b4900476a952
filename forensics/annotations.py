"""Reviewers' annotations: notes on events, readers or tables, shown beside the evidence.

An optional `annotations:` CSV in the case (columns `event_id`, `principal`, `object`,
`status`, `comment`, `reviewer`; each row names at least one of the first three) records
what a reviewer concluded: `confirmed`, `benign` or `needs-follow-up`. It is an input of
the case, so the manifest hashes it; it never changes an evidence row. The report copies
the validated rows into `report/annotations.csv` for its pages.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from forensics.errors import InputError
from forensics.inputs import open_input_text
from forensics.names import principal_short
from forensics.privacy import NameRewriter, pseudonym

COLUMNS = ("event_id", "principal", "object", "status", "comment", "reviewer")
STATUSES = ("confirmed", "benign", "needs-follow-up")
REPORT_COPY = "annotations.csv"
_TARGETS = ("event_id", "principal", "object")


def load_annotations(path: Path) -> pd.DataFrame:
    """The annotations file's rows, validated; `InputError` names the line and the fix."""
    try:
        with open_input_text(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(
                    f"{path.name}: missing column(s) {', '.join(missing)}; "
                    f"the header must be {','.join(COLUMNS)}"
                )
            rows = []
            for line, row in enumerate(reader, start=2):
                rows.append(_checked(path, line, row))
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text; save it as UTF-8 CSV") from None
    except csv.Error as exc:
        raise InputError(f"{path.name}: not a CSV file ({exc})") from None
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _checked(path: Path, line: int, row: dict[str, str | None]) -> dict[str, str]:
    clean = {c: (row.get(c) or "").strip() for c in COLUMNS}
    if clean["status"] not in STATUSES:
        raise InputError(
            f"{path.name} line {line}: status {clean['status'][:40]!r} is not one of "
            f"{', '.join(STATUSES)}"
        )
    if not any(clean[c] for c in _TARGETS):
        raise InputError(
            f"{path.name} line {line}: names no event_id, principal or object; "
            "say what the annotation is about"
        )
    return clean


def stage_copy(
    source: Path | None,
    report_folder: Path,
    pseudonym_key: bytes | None = None,
    names: Iterable[str] = (),
) -> None:
    """Copy the validated annotations into the report's folder (0600), if the case has any.

    With `pseudonym_key` (a --pseudonymize run) the copy names principals as the evidence
    does: each `principal` by its pseudonym, and the principals' names inside the other
    cells (`names` and the annotated principals, as whole tokens: `privacy.NameRewriter`)."""
    if source is None:
        return
    table = load_annotations(source)
    if pseudonym_key is not None:
        named = [p for p in table["principal"] if p]
        rewrite = NameRewriter(pseudonym_key, [*names, *(principal_short(p) for p in named)])
        table["principal"] = [
            pseudonym(pseudonym_key, principal_short(p)) if p else p for p in table["principal"]
        ]
        for column in ("event_id", "object", "comment", "reviewer"):
            table[column] = [rewrite(v) for v in table[column]]
    target = report_folder / REPORT_COPY
    table.to_csv(target, index=False, lineterminator="\n")
    os.chmod(target, 0o600)


def report_annotations(evidence_dir: str | Path) -> pd.DataFrame:
    """The annotations a report was rendered with (empty outside a report or without any)."""
    path = Path(evidence_dir) / "report" / REPORT_COPY
    if not path.is_file():
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def about_principal(table: pd.DataFrame, events: pd.DataFrame, principal: str) -> pd.DataFrame:
    """Annotations on this principal or on one of their events (`events`: access_events)."""
    ids = set(events.loc[events["principal"] == principal, "event_id"])
    chosen = (table["principal"] == principal) | table["event_id"].isin(ids)
    return table[chosen].reset_index(drop=True)


def about_object(table: pd.DataFrame, events: pd.DataFrame, obj: str) -> pd.DataFrame:
    """Annotations on this table or on one of the events touching it."""
    ids = set(events.loc[events["object"] == obj, "event_id"])
    chosen = (table["object"] == obj) | table["event_id"].isin(ids)
    return table[chosen].reset_index(drop=True)
