"""Plots for people: titled, labelled, times in UTC, exposure windows shaded."""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from forensics import findings
from forensics.findings import Evidence

#: Every classification of access_events.csv: (plain label, colour, marker), most telling first.
CLASSES = {
    "exposure_enabled": ("read only the exposure allowed", "#c0392b", "o"),
    "secondary": ("read of a copy", "#8e44ad", "D"),
    "outside_window": ("read outside the windows", "#e67e22", "X"),
    "denied": ("denied attempt", "#7f8c8d", "x"),
    "baseline": ("read allowed anyway (baseline)", "#2471a3", "s"),
    "write": ("write (a copy made)", "#117864", "^"),
    "metadata": ("metadata call", "#95a5a6", "."),
    "on_behalf": ("file read by a service for a user", "#b7950b", "+"),
}
#: Rows (objects) a plot draws before it summarizes the rest as one row.
TOP_ROWS = 60


def _top_rows(names: pd.Series, weight: pd.Series, keep: int) -> tuple[list[str], int]:
    """The `keep` names with the most weight (ties by name), and how many others there are."""
    ranked = (
        pd.DataFrame({"name": names, "weight": weight})
        .groupby("name")["weight"]
        .sum()
        .reset_index()
        .sort_values(["weight", "name"], ascending=[False, True])
    )
    if len(ranked) <= keep:
        return sorted(ranked["name"]), 0
    return sorted(ranked["name"].head(keep - 1)), len(ranked) - (keep - 1)


def timeline(
    ev: Evidence,
    ax: plt.Axes | None = None,
    rows: int = TOP_ROWS,
) -> plt.Axes:
    """Every access to an exposed table (or a copy) over time: one row per table, one lane
    per classification (colour and marker), same-second events stacked, exposure windows
    shaded per row, gaps in the logs (coverage.csv) hatched across all rows and unaudited
    stretches on their row.

    Beyond `rows` tables, the ones with fewest reads only the exposure allowed share one
    last row, "N other tables"."""
    events = ev.access_events[ev.access_events["time"].notna()]
    exposed = ev.objects["object"]
    # rank tables by reads only the exposure allowed (then by any access); every exposed
    # table counts once so one without events still gets a row when there is room
    names = pd.concat([events["object"], exposed], ignore_index=True)
    weight = pd.concat(
        [
            (events["classification"] == "exposure_enabled").map({True: 1000, False: 1}),
            pd.Series(1, index=exposed.index),
        ],
        ignore_index=True,
    )
    kept, others = _top_rows(names, weight, rows)
    labels = kept + ([f"{others:,} other tables"] if others else [])
    row_of = {name: i for i, name in enumerate(kept)}
    y = events["object"].map(row_of).fillna(len(kept) if others else -1)
    present = [c for c in CLASSES if (events["classification"] == c).any()]
    present += sorted(set(events["classification"].unique()) - set(CLASSES))
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 1.6 + 0.45 * max(1, len(labels))))
    end_of_data = events["time"].max() if len(events) else None
    spans = findings.windows(ev)
    for _, w in spans[spans["object"].isin(row_of)].iterrows():  # the rows drawn only
        if w["object"] in row_of:
            r = row_of[w["object"]]
            end = w["end"] if pd.notna(w["end"]) else end_of_data or w["start"]
            ax.fill_between(
                [w["start"], end],
                r - 0.45,
                r + 0.45,
                color="#fadbd8",
                linewidth=0,
                label="exposure window" if r == min(row_of.values()) else None,
            )
    _shade_coverage(ax, ev, row_of, spans)
    lane = 0.8 / max(1, len(present))
    for k, cls in enumerate(present):
        chosen = (events["classification"] == cls) & (y >= 0)
        if not chosen.any():
            continue
        mine = events[chosen]
        stack = mine.groupby([mine["object"], mine["time"].dt.floor("min")]).cumcount()
        offset = (k - (len(present) - 1) / 2) * lane + (stack % 4) * lane / 5
        label, colour, marker = CLASSES.get(cls, (cls, "#000000", "o"))
        xs, ys = _distinct_points(_utc_naive(mine["time"]), (y[chosen] + offset).to_numpy())
        ax.scatter(
            xs,
            ys,
            s=28,
            color=colour,
            marker=marker,
            label=f"{label} ({int(chosen.sum()):,} log events)",
            zorder=3,
            linewidths=1.2,
        )
        if cls == "exposure_enabled" and chosen.sum() <= 40:
            for t, yy, who in zip(mine["time"], y[chosen] + offset, mine["principal"], strict=True):
                ax.annotate(
                    who,
                    (t, yy),
                    xytext=(4, 2),
                    textcoords="offset points",
                    fontsize=7,
                    color=colour,
                )
    ax.set_yticks(range(len(labels)), labels, fontsize=_label_size(len(labels)))
    ax.set_ylim(len(labels) - 0.5, -0.5)
    _date_axis(ax)
    ax.set_ylabel("")
    ax.set_title("Every access to the exposed tables and their copies, by classification")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
    ax.figure.tight_layout()
    return ax


#: Resolution of the timeline image the report draws once and shows on every page.
TIMELINE_DPI = 110


def timeline_png(ev: Evidence) -> bytes:
    """The timeline as PNG bytes: the report draws it once (at 1M events ~2 s of CPU) and
    shows the same image on the index, the one-page report and "who read what"."""
    import io

    ax = timeline(ev)
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=TIMELINE_DPI, bbox_inches="tight")
    plt.close(ax.figure)
    return buffer.getvalue()


def show_timeline(ev: Evidence, image: str = "") -> object:
    """For a notebook: the timeline image at path `image` (the one the report drew for this
    evidence), or, without one, the timeline drawn here (shown by the inline backend)."""
    if image:
        from IPython.display import Image

        return Image(filename=image)
    timeline(ev)
    return None


#: Beyond this many events of a class the timeline draws one marker per distinct position
#: at a resolution finer than a pixel (1/4000 of the time span) instead of one per event.
DISTINCT_ABOVE = 5000


def _distinct_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The markers to draw: every point, or for many points each distinct (time bin, lane)
    once, bins of 1/4000 of the span (under a pixel at the figure's width): the picture is
    the same and 240,000 events draw in a second instead of ten."""
    if len(x) <= DISTINCT_ABOVE:
        return x, y
    ns = x.astype("datetime64[ns]").astype("int64")
    step = max(1_000_000_000, (int(ns.max()) - int(ns.min())) // 4000)
    points = pd.DataFrame({"bin": ns // step, "y": y}).drop_duplicates()
    return (points["bin"].to_numpy() * step).astype("datetime64[ns]"), points["y"].to_numpy()


def _utc_naive(times: pd.Series) -> np.ndarray:
    """UTC times as numpy datetime64 (no zone): matplotlib converts those as one array,
    while zone-aware ones go through Python one by one (240,000 events: ~8 s)."""
    return times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()


def _date_axis(ax: plt.Axes) -> None:
    """Times on the x axis with day and month (UTC), never bare hours."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=9, tz="UTC")
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator, tz="UTC", show_offset=True)
    formatter.formats = ["%Y", "%b %Y", "%d %b", "%d %b %H:%M", "%d %b %H:%M", "%H:%M:%S"]
    formatter.zero_formats = ["", "%Y", "%b %Y", "%d %b", "%d %b %H:%M", "%d %b %H:%M"]
    formatter.offset_formats = ["", "%Y", "%b %Y", "%d %b %Y", "%d %b %Y", "%d %b %Y %H:%M"]
    ax.xaxis.set_major_formatter(formatter)
    ax.set_xlabel("time (UTC)")


def _shade_coverage(ax: plt.Axes, ev: Evidence, rows: dict[str, int], spans: pd.DataFrame) -> None:
    """Gaps and expired ranges of the logs that overlap a window, as hatched grey bands
    across every object (a source's gap hides reads of any object); unaudited stretches of
    an object, cross-hatched on its row. Drawn within the windows' span only (`spans`:
    `findings.windows(ev)`)."""
    if ev.coverage.empty or spans.empty:
        return
    lo = spans["start"].min()
    hi = spans["end"].max() if spans["end"].notna().all() else ev.coverage["end"].max()
    if pd.isna(hi) or hi <= lo:
        return
    missing = findings.coverage_gaps(ev, spans=spans)
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


def windows_gantt(ev: Evidence, ax: plt.Axes | None = None, rows: int = TOP_ROWS) -> plt.Axes:
    """Exposure windows per object as horizontal bars (UTC); open windows drawn to the end;
    beyond `rows` tables the rest share one row."""
    table = findings.windows(ev)
    reads = ev.objects.set_index("object")["exposure_enabled_events"]
    kept, others = _top_rows(table["object"], table["object"].map(reads).fillna(0) + 1, rows)
    labels = kept + ([f"{others:,} other tables (windows drawn together)"] if others else [])
    if ax is None:
        _, ax = plt.subplots(figsize=(11, _rows_height(len(labels))))
    row_of = {obj: i for i, obj in enumerate(kept)}
    last = table["end"].max() if table["end"].notna().any() else table["start"].max()
    start = mdates.date2num(_utc_naive(table["start"]))
    width = mdates.date2num(_utc_naive(table["end"].fillna(last))) - start
    rows_of = table["object"].map(row_of).fillna(len(kept)).to_numpy()
    for r in sorted(set(rows_of)):  # one collection per row: 45,000 windows draw in a second
        mine = rows_of == r
        # each distinct bar once: the windows of the "other tables" row are thousands of
        # copies of a handful, and drawing them all took 20 s for the same picture
        spans = sorted(set(zip(start[mine], width[mine], strict=True)))
        ax.broken_barh(spans, (r - 0.3, 0.6), color="#d9534f")
    ax.xaxis_date(tz="UTC")
    ax.set_yticks(range(len(labels)), labels, fontsize=_label_size(len(labels)))
    ax.set_ylim(len(labels) - 0.5, -0.5)
    _date_axis(ax)
    ax.set_title("Exposure windows per table (from the policy history)")
    ax.figure.tight_layout()
    return ax


def reader_heatmap(ev: Evidence, n: int = 30, ax: plt.Axes | None = None) -> plt.Axes | None:
    """Exposure-enabled read events, top principals x top objects; None when there are none."""
    matrix = findings.reader_matrix(ev, n)
    if matrix.empty:
        return None
    matrix = _with_others(ev, matrix, n)
    if ax is None:
        _, ax = plt.subplots(
            figsize=(max(6.5, 2.5 + 0.35 * matrix.shape[1]), 2.5 + 0.3 * matrix.shape[0]),
            squeeze=True,
        )
    # the colours follow the named readers and tables; the sums of the others (far larger
    # at scale) would otherwise wash every named cell out. Looked up in sets of the distinct
    # names: `isin` of the reads' column makes an Arrow scalar of each of its 19,000 rows.
    readers = set(ev.exposure_enabled_reads["principal"].unique())
    tables = set(ev.exposure_enabled_reads["object"].unique())
    core = matrix.loc[[p in readers for p in matrix.index], [o in tables for o in matrix.columns]]
    sns.heatmap(
        matrix,
        annot=matrix.shape[0] * matrix.shape[1] <= 400,
        fmt="d",
        cmap="Reds",
        vmin=0,
        vmax=max(1, int(core.to_numpy().max())) if core.size else None,
        cbar_kws={"label": "read events", "ticks": MaxNLocator(integer=True), "extend": "max"},
        linewidths=0.5,
        ax=ax,
    )
    size = _label_size(max(matrix.shape))
    ax.set_xticks(ax.get_xticks(), matrix.columns, rotation=90, fontsize=size)
    ax.set_yticks(ax.get_yticks(), matrix.index, rotation=0, fontsize=size)
    ax.set_xlabel("table")
    ax.set_ylabel("reader")
    ax.set_title(f"Reads only the exposure allowed: top {n} readers x tables")
    ax.figure.tight_layout()
    return ax


def _with_others(ev: Evidence, matrix: pd.DataFrame, n: int) -> pd.DataFrame:
    """`matrix` with every top-`n` reader and table (0 where none of the other top ones
    met), and a last row and column summing the readers and tables left out."""
    reads = ev.exposure_enabled_reads
    top_o = reads.groupby("object")["read_events"].sum().sort_values(ascending=False).head(n)
    matrix = matrix.reindex(
        index=sorted(findings.top_principals(ev, n)["principal"]),
        columns=sorted(top_o.index),
        fill_value=0,
    )
    inside_p = reads["principal"].isin(matrix.index)
    inside_o = reads["object"].isin(matrix.columns)
    out = matrix.astype(int)
    rest_p = reads.loc[~inside_p, "principal"].nunique()
    rest_o = reads.loc[~inside_o, "object"].nunique()
    if rest_p:
        row = reads[~inside_p & inside_o].groupby("object")["read_events"].sum()
        out.loc[f"{rest_p:,} other readers"] = row.reindex(out.columns).fillna(0).astype(int)
    if rest_o:
        column = reads[~inside_o].groupby("principal")["read_events"].sum()
        out[f"{rest_o:,} other tables"] = column.reindex(out.index).fillna(0).astype(int)
        if rest_p:
            out.loc[out.index[-1], out.columns[-1]] = int(
                reads.loc[~inside_p & ~inside_o, "read_events"].sum()
            )
    return out


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
