"""Plots for people: titled, labelled, times in UTC, exposure windows shaded."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from forensics import findings
from forensics.findings import Evidence


def timeline(ev: Evidence, ax: plt.Axes | None = None) -> plt.Axes:
    """Exposure-enabled reads over time, one row per object, windows shaded."""
    events = ev.access_events[ev.access_events["classification"] == "exposure_enabled"]
    objects = sorted(set(ev.objects["object"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(11, _rows_height(len(objects))))
    rows = {obj: i for i, obj in enumerate(objects)}
    for _, row in ev.objects.iterrows():
        for window in str(row["windows"]).split(";"):
            start, _, end = window.partition("/")
            if start:
                y = rows[row["object"]]
                ax.fill_between(
                    [pd.Timestamp(start), pd.Timestamp(end) if end else events["time"].max()],
                    y - 0.4,
                    y + 0.4,
                    color="#f4c7c3",
                    linewidth=0,
                    label="exposure window" if y == 0 else None,
                )
    _shade_coverage(ax, ev, rows)
    if len(events):
        sns.scatterplot(
            x=events["time"],
            y=events["object"].map(rows),
            hue=events["engine"],
            ax=ax,
            s=40,
            zorder=3,
        )
    ax.set_yticks(range(len(objects)), objects, fontsize=_label_size(len(objects)))
    ax.set_ylim(-0.6, len(objects) - 0.4)
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("")
    ax.set_title(
        "Exposure-enabled reads by object (shaded: exposure windows; hatched: gaps in the logs)"
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.figure.tight_layout()
    return ax


def _shade_coverage(ax: plt.Axes, ev: Evidence, rows: dict[str, int]) -> None:
    """Gaps and expired ranges of the logs that overlap a window, as hatched grey bands
    across every object (a source's gap hides reads of any object); unaudited stretches of
    an object, cross-hatched on its row. Drawn within the windows' span only."""
    spans = findings.windows(ev)
    if ev.coverage.empty or spans.empty:
        return
    lo = spans["start"].min()
    hi = spans["end"].max() if spans["end"].notna().all() else ev.coverage["end"].max()
    if pd.isna(hi) or hi <= lo:
        return
    missing = findings.coverage_gaps(ev)
    labelled = set()
    for row in missing.itertuples():
        start = max(row.start, lo)
        end = min(row.end, hi) if pd.notna(row.end) else hi
        if end <= start:
            continue
        if row.status == "unaudited":
            if row.object not in rows:
                continue
            y = rows[row.object]
            ax.fill_between(
                [start, end], y - 0.4, y + 0.4, facecolor="none", edgecolor="#555555",
                hatch="xx", linewidth=0,
                label=None if "unaudited" in labelled else "unaudited (audit off)",
            )  # fmt: skip
            labelled.add("unaudited")
        else:
            ax.axvspan(
                start, end, facecolor="#bdbdbd", alpha=0.5, edgecolor="#616161", hatch="//",
                linewidth=0, label=None if "gap" in labelled else "gap in the logs",
            )  # fmt: skip
            labelled.add("gap")


def _rows_height(n: int) -> float:
    """Figure height that keeps one label per row readable, up to hundreds of rows."""
    return 1.4 + 0.28 * max(1, n)


def windows_gantt(ev: Evidence, ax: plt.Axes | None = None) -> plt.Axes:
    """Exposure windows per object as horizontal bars (UTC); open windows drawn to the end."""
    table = findings.windows(ev)
    objects = sorted(set(table["object"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(11, _rows_height(len(objects))))
    rows = {obj: i for i, obj in enumerate(objects)}
    last = table["end"].max() if table["end"].notna().any() else table["start"].max()
    for _, w in table.iterrows():
        end = w["end"] if pd.notna(w["end"]) else last
        ax.barh(rows[w["object"]], end - w["start"], left=w["start"], height=0.6, color="#d9534f")
    ax.set_yticks(range(len(objects)), objects, fontsize=_label_size(len(objects)))
    ax.invert_yaxis()
    ax.set_xlabel("time (UTC)")
    ax.set_title("Exposure windows per object (from the policy history)")
    ax.figure.autofmt_xdate()
    ax.figure.tight_layout()
    return ax


def reader_heatmap(ev: Evidence, n: int = 30, ax: plt.Axes | None = None) -> plt.Axes | None:
    """Exposure-enabled read events, top principals x top objects; None when there are none."""
    matrix = findings.reader_matrix(ev, n)
    if matrix.empty:
        return None
    if ax is None:
        _, ax = plt.subplots(
            figsize=(2.5 + 0.35 * matrix.shape[1], 2.5 + 0.3 * matrix.shape[0]), squeeze=True
        )
    sns.heatmap(
        matrix,
        annot=matrix.shape[0] * matrix.shape[1] <= 400,
        fmt="d",
        cmap="Reds",
        cbar_kws={"label": "read events"},
        linewidths=0.5,
        ax=ax,
    )
    size = _label_size(max(matrix.shape))
    ax.set_xticks(ax.get_xticks(), matrix.columns, rotation=90, fontsize=size)
    ax.set_yticks(ax.get_yticks(), matrix.index, rotation=0, fontsize=size)
    ax.set_xlabel("object")
    ax.set_ylabel("principal")
    ax.set_title(f"Exposure-enabled read events (top {n} principals and objects)")
    ax.figure.tight_layout()
    return ax


def category_bars(ev: Evidence, ax: plt.Axes | None = None) -> plt.Axes:
    """Distinct exposure-enabled readers per sensitivity category."""
    table = findings.by_category(ev)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, _rows_height(len(table))))
    sns.barplot(data=table, y="category", x="principals", color="#d9534f", ax=ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("distinct principals with exposure-enabled reads")
    ax.set_ylabel("sensitivity category")
    ax.set_title("Who read what kind of data only because of the exposure")
    ax.figure.tight_layout()
    return ax


def lineage(ev: Evidence, ax: plt.Axes | None = None) -> plt.Axes:
    """Derived copies as a graph: exposed sources on the left, each generation further right.

    Nodes of a generation are ordered by the position of what they were copied from, so
    arrows rarely cross; each arrow is labelled with who made the copy.
    """
    edges = ev.derived_copies
    level: dict[str, int] = {}
    for _, e in edges.sort_values("generation").iterrows():
        level.setdefault(e["source_object"], int(e["generation"]) - 1)
        level[e["derived_object"]] = max(level.get(e["derived_object"], 0), int(e["generation"]))
    parents: dict[str, list[str]] = {}
    for _, e in edges.iterrows():
        parents.setdefault(e["derived_object"], []).append(e["source_object"])
    rank: dict[str, float] = {}
    columns: dict[int, list[str]] = {}
    for lvl in sorted(set(level.values())):
        nodes = sorted(n for n, v in level.items() if v == lvl)
        nodes.sort(key=lambda n: min((rank.get(p, 0.0) for p in parents.get(n, [])), default=0))
        rank.update({n: float(i) for i, n in enumerate(nodes)})
        columns[lvl] = nodes
    height = max((len(v) for v in columns.values()), default=1)
    width = 4 + 3.2 * len(columns)
    if ax is None:
        _, ax = plt.subplots(figsize=(width, 1.5 + 0.9 * height))
    inch = width / (len(columns) + 1.4)  # inches per column
    where = {node: (lvl, -rank[node]) for lvl, nodes in columns.items() for node in nodes}

    def half(node: str) -> float:
        return (len(node) * 5.6 / 72 / 2 + 0.12) / inch

    for _, e in edges.iterrows():
        (x0, y0), (x1, y1) = where[e["source_object"]], where[e["derived_object"]]
        start = (x0 + half(e["source_object"]), y0)
        end = (x1 - half(e["derived_object"]), y1)
        ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": "#555555"})
        ax.text(
            start[0] + 0.6 * (end[0] - start[0]),
            start[1] + 0.6 * (end[1] - start[1]) + 0.08,
            e["principal"],
            ha="center",
            fontsize=8,
            color="#333333",
        )
    for node, (x, y) in where.items():
        ax.text(
            x,
            y,
            node,
            ha="center",
            va="center",
            fontsize=9,
            bbox={
                "boxstyle": "round",
                "fc": "#f4c7c3" if level[node] == 0 else "#fff3cd",
                "ec": "#888888",
            },
        )
    ax.set_xlim(-0.7, max(columns, default=0) + 0.7)
    ax.set_ylim(-height + 0.4, 0.6)
    ax.set_xticks(sorted(columns), [f"generation {c}" if c else "exposed" for c in sorted(columns)])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_title("Copies made from exposed data (arrow label: who made the copy)")
    ax.figure.tight_layout()
    return ax


def _label_size(n: int) -> float:
    """Smaller tick labels for many rows, never below 6 pt."""
    return max(6.0, min(10.0, 10.0 - (n - 20) * 0.08))
