"""The classification as an investigator would write it in a notebook, with pandas.

    python benchmarks/pandas_reference.py INCIDENT_DIR

The benchmark's alternative (a): no engine, no query files; DataFrames, merges and a loop
for copies. It reads the normalized events of an incident written by
`benchmarks/synth_events.py` and the scope the generator knows (`expected/scope/`: the
windows, who could read each exposed object before, view bases, storage locations), so
it does the classification only; the policy evaluation that derives the scope is the
toolkit's alone. The rules are the evidence contract's, in its order: denied, metadata,
write, other, a service's file open on someone's behalf, a read of a derived copy
(secondary), baseline, inside the window (exposure-enabled), outside the window.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ON_BEHALF = {"hive", "presto", "spark", "trino"}
COLUMNS = [
    "event_id", "time", "source_file", "source_line", "engine", "principal", "op", "object",
    "path", "result", "session_id", "query_id", "query_text", "event_count", "dedup_key",
]  # fmt: skip


def load(root: Path) -> dict[str, pd.DataFrame]:
    """The events and the scope tables of an incident."""
    scope = root / "expected" / "scope"
    return {
        "events": pd.read_parquet(root / "events", columns=COLUMNS),
        "windows": pd.read_parquet(scope / "windows.parquet"),
        "baseline": pd.read_parquet(scope / "baseline.parquet"),
        "views": pd.read_parquet(scope / "view_bases.parquet"),
        "locations": pd.read_parquet(scope / "locations.parquet"),
    }


def resolve_paths(ev: pd.DataFrame, locations: pd.DataFrame) -> pd.Series:
    """The object of each event: the one it names, or the table whose storage location is
    the longest prefix of its path."""
    where = dict(zip(locations["location"], locations["object"], strict=True))
    found = {}
    for path in ev.loc[ev["object"].isna() & ev["path"].notna(), "path"].unique():
        parts = path.split("/")
        for n in range(len(parts), 1, -1):
            obj = where.get("/".join(parts[:n]))
            if obj is not None:
                found[path] = obj
                break
    return ev["object"].fillna(ev["path"].map(found))


def classify(data: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every access to an exposed object or a copy, classified; and the copies made."""
    ev = data["events"]
    # Same event delivered twice: keep the first copy (by file and line).
    ev["key"] = ev["dedup_key"].fillna(ev["event_id"])
    ev = ev.sort_values(["source_file", "source_line", "event_id"])
    ev = ev.drop_duplicates("key", keep="first")
    ev["object"] = resolve_paths(ev, data["locations"])
    ev["statement"] = np.where(
        ev["engine"] == "trino",
        "trino:" + ev["query_id"].fillna(""),
        ev["principal"] + "|" + ev["session_id"].fillna("") + "|" + ev["query_text"].fillna(""),
    )
    ev.loc[ev["query_text"].isna() & (ev["engine"] != "trino"), "statement"] = None

    # One row per object touched: the object itself, and for a view every table under it.
    ev = ev[ev["object"].notna()]
    direct = ev.assign(target=ev["object"], via_view=None)
    direct["via"] = direct["engine"].map({"hdfs": "path", "trino": "trino"}).fillna("direct")
    views = data["views"].rename(columns={"view": "object", "base": "target"})
    through = ev.merge(views, on="object")
    through["via_view"] = through["object"]
    through["via"] = "view:" + through["object"]
    access = pd.concat([direct, through], ignore_index=True)

    windows = data["windows"]
    exposed = set(windows["object"])
    base = data["baseline"]
    base_pairs = set(zip(base["object"], base["principal"], strict=True))
    start = dict(zip(windows["object"], windows["start"], strict=True))
    end = dict(zip(windows["object"], windows["end"], strict=True))

    writes = access[(access["op"] == "write") & access["statement"].notna()]
    made_at = access.groupby("statement")["time"].min()

    copies: dict[str, tuple[pd.Timestamp, int]] = {}
    while True:
        made = {o: t for o, (t, _) in copies.items()}
        created = pd.to_datetime(access["target"].map(made)).astype(access["time"].dtype)
        scope = access[
            access["target"].isin(exposed) | (created.notna() & (access["time"] >= created))
        ]
        scope = scope.copy()
        scope["copy_generation"] = scope["target"].map({o: g for o, (_, g) in copies.items()})
        baseline = [
            (t, p) in base_pairs or (v, p) in base_pairs
            for t, v, p in zip(scope["target"], scope["via_view"], scope["principal"], strict=True)
        ]
        in_window = np.zeros(len(scope), bool)
        for col in ("target", "via_view"):
            s, e = scope[col].map(start), scope[col].map(end)
            in_window |= (scope["time"] >= s) & (e.isna() | (scope["time"] < e)) & s.notna()
        scope["classification"] = np.select(
            [
                scope["result"] == "denied",
                scope["op"] == "metadata",
                scope["op"] == "write",
                scope["op"] == "other",
                (scope["engine"] == "hdfs") & scope["principal"].isin(ON_BEHALF),
                scope["copy_generation"].notna(),
                np.array(baseline, bool),
                in_window,
            ],
            [
                "denied",
                "metadata",
                "write",
                "other",
                "on_behalf",
                "secondary",
                "baseline",
                "exposure_enabled",
            ],  # fmt: skip
            "outside_window",
        )
        # Copies: what a statement wrote, when it read exposed data or an earlier copy.
        sources = scope[
            scope["classification"].isin(["exposure_enabled", "secondary"])
            & scope["statement"].notna()
        ]
        edges = sources[["statement", "target", "classification", "copy_generation"]].merge(
            writes[["statement", "target"]].drop_duplicates(), on="statement", suffixes=("", "_w")
        )
        edges = edges[edges["target"] != edges["target_w"]]
        edges["generation"] = np.where(
            edges["classification"] == "exposure_enabled", 1, edges["copy_generation"] + 1
        )
        edges["created"] = edges["statement"].map(made_at)
        found = {
            obj: (group["created"].min(), int(group["generation"].min()))
            for obj, group in edges.groupby("target_w")
        }
        if found == copies:
            break
        copies = found
    return scope, edges


def exposure_enabled(scope: pd.DataFrame) -> pd.DataFrame:
    """One row per (principal, object) with an exposure-enabled read, with read events."""
    reads = scope[scope["classification"] == "exposure_enabled"]
    pairs = reads.groupby(["principal", "target"], as_index=False)["event_count"].sum()
    pairs.columns = ["principal", "object", "read_events"]
    return pairs.sort_values(["principal", "object"], ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    root = Path((argv or sys.argv[1:])[0])
    scope, edges = classify(load(root))
    print(scope["classification"].value_counts().to_string())
    print(f"{len(exposure_enabled(scope)):,} exposure-enabled pairs, {len(edges):,} copy edges")
    return 0


if __name__ == "__main__":
    sys.exit(main())
