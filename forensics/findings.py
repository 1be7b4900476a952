"""Findings: the evidence folder read back as DataFrames, and the numbers people ask for.

Notebooks and reports call these; they never recompute evidence, so what a report shows
is exactly what the evidence files say.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forensics.errors import EvidenceError
from forensics.evidence import EVIDENCE_FILES, MANIFEST

_TIME_COLUMNS = (
    "time",
    "first_read",
    "last_read",
    "first_exposure_enabled_read",
    "last_exposure_enabled_read",
)


@dataclass(frozen=True)
class Evidence:
    """The evidence files of one folder, as DataFrames with parsed UTC times."""

    folder: Path
    exposure_enabled_reads: pd.DataFrame
    access_events: pd.DataFrame
    objects: pd.DataFrame
    principals: pd.DataFrame
    derived_copies: pd.DataFrame
    unexplained_reads: pd.DataFrame
    quarantine: pd.DataFrame


def load_evidence(folder: str | Path) -> Evidence:
    """Read an evidence folder written by `forensics investigate`."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise EvidenceError(f"{folder}: no {MANIFEST}; run forensics investigate first")
    frames = {}
    for name in EVIDENCE_FILES:
        frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        for column in _TIME_COLUMNS:
            if column in frame:
                frame[column] = pd.to_datetime(frame[column].replace("", None), utc=True)
        for column in frame.columns:
            if (
                column.endswith(("_events", "_principals", "_read", "generation", "source_line"))
                and column not in _TIME_COLUMNS
            ):
                frame[column] = pd.to_numeric(frame[column].replace("", None))
        frames[name] = frame
    return Evidence(folder=folder, **frames)


def headline(ev: Evidence) -> pd.DataFrame:
    """The counts a regulator asks for first, each with the evidence file that backs it."""
    reads = ev.exposure_enabled_reads
    ee_events = ev.access_events[ev.access_events["classification"] == "exposure_enabled"]
    rows = [
        ("exposed objects", len(ev.objects), "objects.csv"),
        (
            "exposed objects read by someone only the exposure let in",
            reads["object"].nunique(),
            "exposure_enabled_reads.csv",
        ),
        (
            "principals with exposure-enabled reads",
            reads["principal"].nunique(),
            "exposure_enabled_reads.csv",
        ),
        (
            "exposure-enabled read events",
            int(reads["read_events"].sum()),
            "exposure_enabled_reads.csv",
        ),
        (
            "derived copies of exposed data",
            ev.derived_copies["derived_object"].nunique(),
            "derived_copies.csv",
        ),
        (
            "reads outside the windows (window may be wrong)",
            len(ev.unexplained_reads),
            "unexplained_reads.csv",
        ),
        ("input lines quarantined", len(ev.quarantine), "quarantine.csv"),
        ("first exposure-enabled read", _when(ee_events["time"].min()), "access_events.csv"),
        ("last exposure-enabled read", _when(ee_events["time"].max()), "access_events.csv"),
    ]
    return pd.DataFrame(rows, columns=["measure", "value", "evidence_file"])


def top_principals(ev: Evidence, n: int = 15) -> pd.DataFrame:
    """Principals by exposure-enabled read events, most first."""
    reads = ev.exposure_enabled_reads
    table = (
        reads.groupby("principal")
        .agg(
            objects=("object", "nunique"),
            read_events=("read_events", "sum"),
            first_read=("first_read", "min"),
            last_read=("last_read", "max"),
        )
        .reset_index()
        .sort_values(["read_events", "principal"], ascending=[False, True])
    )
    return table.head(n).reset_index(drop=True)


def top_objects(ev: Evidence, n: int = 15) -> pd.DataFrame:
    """Exposed objects by number of principals who read them only because of the exposure."""
    columns = [
        "object",
        "sensitivity",
        "exposure_enabled_principals",
        "exposure_enabled_events",
        "baseline_principals",
        "windows",
    ]
    table = ev.objects[columns].sort_values(
        ["exposure_enabled_principals", "exposure_enabled_events", "object"],
        ascending=[False, False, True],
    )
    return table.head(n).reset_index(drop=True)


def _when(moment: pd.Timestamp) -> str:
    return "" if pd.isna(moment) else moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
