"""What a planner reads of the enforcement chain: its table and two figures.

The penalty funnel (escalations → cases → decisions → court referrals → rulings) and the
weekly incidents at each hotspot, with the "归零" campaign's days shaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from sim.engine.campaign import binned_counts
from sim.output.text import days_text
from sim.viz import scales
from sim.viz.report import save, style

if TYPE_CHECKING:
    from sim.engine.records import IncidentTable

FUNNEL = (
    ("escalations", "escalations\n(team on scene)"),
    ("cases", "cases filed\n立案"),
    ("decisions", "penalty decisions\n处罚决定书"),
    ("court_referrals", "sent to court\n移交法院"),
    ("rulings", "court rulings\n行政裁定书"),
)


def plot_funnel(summary: dict[str, Any], path: Path) -> None:
    """Escalations → cases → decisions → referrals → rulings: points on a log scale (a bar
    on a log axis has no zero to start from), each with its count and its share of the
    step before."""
    style()
    e = summary["enforcement"]
    values = [max(float(e[k]), 0.0) for k, _ in FUNNEL]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    y = np.arange(len(FUNNEL))[::-1]
    shown = np.maximum(values, 0.5)  # a zero sits at the left edge, labelled 0
    ax.scatter(shown, y, s=60, color="#4c72b0", zorder=3)
    whole = summary["replications"] <= 1
    for i, (yi, v) in enumerate(zip(y, values, strict=True)):
        text = f"{v:,.0f}" if whole or v >= 100 else f"{v:,.1f}"
        if i and values[i - 1]:
            text += f"  ({100 * v / values[i - 1]:.1f}% of the step before)"
        ax.annotate(text, (max(v, 0.5), yi), xytext=(8, 0), textcoords="offset points",
                    va="center", fontsize=9)  # fmt: skip
    ax.set_yticks(y, [label for _, label in FUNNEL])
    ax.set_xscale("log")
    ax.set_xlim(0.5, max([*values, 1.0]) * 30)
    mean = "; mean over replications" if not whole else ""
    ax.set_xlabel(f"count over the run (log scale{mean})")
    ax.grid(axis="y", visible=False)
    ax.set_title(f"{summary['scenario']}: the penalty funnel")
    save(fig, path)


def hotspot_counts(
    table: IncidentTable, n_sites: int, bins: scales.Bins, warmup_min: float
) -> np.ndarray:
    """Incidents at each hotspot per bin of ``bins`` from the end of the warm-up, the mean
    over replications (``n_sites × bins.count``)."""
    reps = int(table["replication"].max()) + 1 if len(table) else 1
    width = bins.days * 1440.0
    end = warmup_min + bins.count * width
    out = np.zeros((n_sites, bins.count))
    for k in range(n_sites):
        at = table["hotspot"] == k
        for r in range(reps):
            occurred = table["occurred"][at & (table["replication"] == r)]
            out[k] += binned_counts(occurred, warmup_min, end, width)
    return out / reps


def _campaign_days(summary: dict[str, Any]) -> tuple[float, float] | None:
    """The campaign's first day (after the warm-up) and its planned days, when it is on."""
    camp = summary["scenario_resolved"]["enforcement"]["campaign"]
    if not (camp["enabled"] and summary["scenario_resolved"]["enforcement"]["enabled"]):
        return None
    block = summary.get("enforcement", {}).get("campaign", {})
    return float(block.get("first_day", camp["start_day"])), float(
        block.get("planned_days", camp["days"])
    )


def plot_hotspots_weekly(summary: dict[str, Any], table: IncidentTable, path: Path) -> None:
    """Incidents at each hotspot over the run, with the campaign's days shaded.

    Per week when the run has three whole weeks, per day when it has two whole days, else
    one total per hotspot (:func:`sim.viz.scales.time_bins`); the campaign band covers only
    the days simulated and says when the campaign goes on past them.
    """
    style()
    names = [h["name"] for h in summary["scenario_resolved"]["demand"]["hotspots"]]
    names = names[: int(table["hotspot"].max()) + 1] if len(table) else []
    days = float(summary["days"])
    bins = scales.time_bins(days)
    counts = hotspot_counts(table, len(names), bins, summary["warmup_hours"] * 60.0)
    fig, ax = plt.subplots(figsize=(10, 4.4))
    reps = summary["replications"]
    mean = " (mean over replications)" if reps > 1 else ""
    if not names:
        ax.text(0.5, 0.5, "no hotspots in this scenario", transform=ax.transAxes, ha="center")
        ax.set_axis_off()
    elif bins.unit == "run":
        y = np.arange(len(names))[::-1]
        ax.barh(y, counts[:, 0], color="#4c72b0")
        for yi, v in zip(y, counts[:, 0], strict=True):
            ax.annotate(f"{v:,.0f}", (v, yi), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=9)  # fmt: skip
        ax.set_yticks(y, names)
        ax.set_xlabel(f"incidents in the run's {days_text(days)}{mean}")
        ax.grid(axis="y", visible=False)
        ax.set_title(
            f"{summary['scenario']}: incidents at each hotspot (a run of {days_text(days)}: "
            "too short for a trend over days)",
            fontsize=11,
        )
    else:
        x = np.arange(1, bins.count + 1)
        for name, row in zip(names, counts, strict=True):
            ax.plot(x, row, marker="o", ms=3.5, label=name)
        _campaign_band(ax, summary, bins, days)
        ax.set_xlim(0.5, bins.count + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(f"{bins.unit} of the run (after the warm-up)")
        ax.set_ylabel(f"incidents per {bins.unit}{mean}")
        ax.set_ylim(0, max(float(counts.max()), 1.0) * 1.15)
        ax.set_title(f"{summary['scenario']}: incidents per {bins.unit} at each hotspot")
        ax.legend(fontsize=8, loc="upper right")
    save(fig, path)


def _campaign_band(ax: Any, summary: dict[str, Any], bins: scales.Bins, days: float) -> None:
    """Shade the campaign's days that were simulated; say what lies outside the run."""
    camp = _campaign_days(summary)
    if camp is None:
        return
    first, planned = camp
    band = scales.clip_band(first, first + planned, days)
    if band.starts_late:
        ax.text(0.01, 0.97, f"归零 campaign from day {first:g}: after the run's end, not in it",
                transform=ax.transAxes, va="top", fontsize=8.5, color="#8a6d00")  # fmt: skip
        return
    lo, hi = band.start / bins.days + 0.5, band.end / bins.days + 0.5
    label = "归零 campaign" + (f" (days {first:g}–{first + planned:g})" if band.goes_on else "")
    ax.axvspan(lo, hi, color="#f2c14e", alpha=0.25, label=label, lw=0)
    if band.goes_on:
        ax.annotate(f"goes on to day {first + planned:g} →", (hi, 0.02), xycoords=("data", "axes fraction"),
                    ha="right", va="bottom", fontsize=8.5, color="#8a6d00")  # fmt: skip
