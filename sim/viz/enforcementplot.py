"""What a planner reads of the enforcement chain: its table and two figures.

The penalty funnel (escalations → cases → decisions → court referrals → rulings) and the
weekly incidents at each hotspot, with the "归零" campaign's days shaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from sim.viz.report import save, style

FUNNEL = (
    ("escalations", "escalations\n(team on scene)"),
    ("cases", "cases filed\n立案"),
    ("decisions", "penalty decisions\n处罚决定书"),
    ("court_referrals", "sent to court\n移交法院"),
    ("rulings", "court rulings\n行政裁定书"),
)


def plot_funnel(summary: dict[str, Any], path: Path) -> None:
    """Escalations → cases → decisions → referrals → rulings, on a log scale."""
    style()
    e = summary["enforcement"]
    values = [max(float(e[k]), 0.0) for k, _ in FUNNEL]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    y = np.arange(len(FUNNEL))[::-1]
    ax.barh(y, np.maximum(values, 0.1), color="#4c72b0")
    for yi, v in zip(y, values, strict=True):
        ax.text(max(v, 0.1) * 1.15, yi, f"{v:,.0f}", va="center")
    ax.set_yticks(y, [label for _, label in FUNNEL])
    ax.set_xscale("log")
    ax.set_xlim(0.5, max([*values, 1.0]) * 8)
    ax.set_xlabel("count over the run (log scale; mean over replications)")
    ax.set_title(f"{summary['scenario']}: the penalty funnel")
    save(fig, path)


def plot_hotspots_weekly(summary: dict[str, Any], path: Path) -> None:
    """Weekly incidents at each hotspot, with the campaign's weeks shaded."""
    style()
    e = summary["enforcement"]
    names = [h["name"] for h in summary["scenario_resolved"]["demand"]["hotspots"]]
    series = e["weekly_by_hotspot"]
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for name, counts in zip(names, series, strict=False):
        if counts:
            ax.plot(np.arange(1, len(counts) + 1), counts, marker="o", ms=3, label=name)
    camp = summary["scenario_resolved"]["enforcement"]["campaign"]
    if camp["enabled"]:
        a = camp["start_day"] / 7 + 0.5
        ax.axvspan(a, a + camp["days"] / 7, color="#f2c14e", alpha=0.25, label="归零 campaign")
    ax.set_xlabel("week of the run")
    ax.set_ylabel("incidents per week")
    ax.set_ylim(bottom=0)
    ax.set_title(f"{summary['scenario']}: weekly incidents at each hotspot")
    if series:
        ax.legend(fontsize=8, loc="upper right")
    save(fig, path)
