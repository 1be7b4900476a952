"""Plots for people: titled, labelled, times in UTC, exposure windows shaded."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from forensics.findings import Evidence


def timeline(ev: Evidence, ax: plt.Axes | None = None) -> plt.Axes:
    """Exposure-enabled reads over time, one row per object, windows shaded."""
    events = ev.access_events[ev.access_events["classification"] == "exposure_enabled"]
    objects = sorted(set(ev.objects["object"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 1.2 + 0.45 * max(1, len(objects))))
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
    if len(events):
        sns.scatterplot(
            x=events["time"],
            y=events["object"].map(rows),
            hue=events["engine"],
            ax=ax,
            s=40,
            zorder=3,
        )
    ax.set_yticks(range(len(objects)), objects)
    ax.set_ylim(-0.6, len(objects) - 0.4)
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("")
    ax.set_title("Exposure-enabled reads by object (shaded: exposure windows)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.figure.tight_layout()
    return ax
