"""A sweep's plots: each default measure (sim.analysis.measures) against the varied key."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis import measures as registry
from sim.roles import CLOCKED_ROLES
from sim.viz.scales import share_axis

if TYPE_CHECKING:
    import pandas as pd

AXIS_LABELS = {
    "staff.per_km2": "staff density (staff per km², all roles)",
    "demand.incidents_per_day": "instructions per day (district)",
    "demand.density.per_street_km": "instructions per day per km of street",
    "demand.density.per_km2": "instructions per day per km²",
    "dispatch.policy": "dispatch policy",
    "discovery.citizen.probability": "chance a citizen reports a problem",
    "travel.speed_kmh.ebike": "e-bike speed (km/h)",
    "travel.mode.advisor": "advisor travel mode",
    "travel.mode.enforcer": "enforcer travel mode",
    "staff.mix.advisor": "advisor share of staff",
    "staff.enforcer_team_size": "enforcers per team",
}


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def x_key(summary: pd.DataFrame, keys: Sequence[str]) -> str | None:
    """The varied key to put on the x-axis: the first numeric one with several values."""
    multi = [k for k in keys if summary[k].nunique(dropna=False) > 1]
    numeric = [k for k in multi if _numeric(list(summary[k]))]
    choice = numeric or multi
    return choice[0] if choice else None


_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
            "#7f7f7f")  # fmt: skip


def plot_measure(
    ax: Any,
    summary: pd.DataFrame,
    keys: Sequence[str],
    measure: str,
    rules: dict[str, Any],
    title: str,
) -> None:
    """One measure against the x key with 95% CI bands, one line per other combination."""
    xk = x_key(summary, keys)
    if xk is None:
        return
    others = [k for k in keys if k != xk and summary[k].nunique(dropna=False) > 1]
    known = registry.RUN.get(measure)
    share = known.unit == "share" if known is not None else not measure.endswith(".mean")
    numeric_x = _numeric(list(summary[xk]))
    cats = list(dict.fromkeys(summary[xk]))
    groups = summary.groupby(others, sort=False, dropna=False) if others else [((), summary)]
    n_groups = len(groups) if others else 1
    for i, (gkey, part) in enumerate(groups):
        gvals = gkey if isinstance(gkey, tuple) else (gkey,)
        label = ", ".join(f"{k}={v}" for k, v in zip(others, gvals, strict=True)) or None
        part = part.sort_values(xk) if numeric_x else part
        x = (
            np.asarray(part[xk], dtype=float)
            if numeric_x
            else np.array([cats.index(v) for v in part[xk]], float)
        )
        y, low, high = _band(part, measure, share)
        color = _color(measure, known) if n_groups == 1 else _PALETTE[i % len(_PALETTE)]
        if numeric_x:
            ax.plot(x, y, marker="o", ms=4, lw=1.8, color=color, label=label)
            ax.fill_between(x, low, high, color=color, alpha=0.18, lw=0)
        else:
            off = (i - (n_groups - 1) / 2) * min(0.15, 0.6 / n_groups)
            yerr = np.vstack([y - low, high - y])
            ax.errorbar(x + off, y, yerr=yerr, fmt="o", ms=5, capsize=4, color=color, label=label)
    if share:
        _share_axis(ax, float(rules["target"]))
    else:
        _minutes_axis(ax, summary, measure, known, rules)
    if not numeric_x:
        ax.set_xticks(range(len(cats)), [str(c) for c in cats])
        ax.set_xlim(-0.5, len(cats) - 0.5)
    ax.set_xlabel(AXIS_LABELS.get(xk, xk))
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, loc="best")


def _band(part: pd.DataFrame, measure: str, share: bool) -> tuple[np.ndarray, ...]:
    """A measure's means and its 95% band (a share in per cent, within 0-100%)."""
    scale = 100.0 if share else 1.0
    y = np.array([np.nan if v is None else float(v) * scale for v in part[measure]], dtype=float)
    ci_col = part.get(f"{measure}.ci95")
    ci = np.array(
        [
            0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) * scale
            for v in ci_col
        ]
        if ci_col is not None
        else np.zeros(len(part)),
        dtype=float,
    )
    low, high = y - ci, y + ci
    if share:  # a share's interval stays within 0-100%
        low, high = np.clip(low, 0.0, 100.0), np.clip(high, 0.0, 100.0)
    return y, low, high


def _color(measure: str, known: registry.Measure | None) -> str:
    """The colour of a measure drawn alone: its own, or its clock's."""
    from sim.viz.report import COLORS  # deferred (matplotlib): see write_plots

    if known is not None and known.color is not None:
        return COLORS.get(known.color, _PALETTE[0])
    if known is None:
        prefixes = ("double_ten", *CLOCKED_ROLES)
        return next((COLORS[k] for k in prefixes if measure.startswith(k)), _PALETTE[0])
    return _PALETTE[0]


def _share_axis(ax: Any, target: float) -> None:
    from sim.viz.report import COLORS  # deferred (matplotlib): see write_plots

    ax.axhline(
        100 * target, color=COLORS["target"], ls=":", lw=1.3, label=f"target {100 * target:g}%"
    )
    ax.set_ylabel("instructions on time (%)")
    lo, _ = ax.get_ylim()  # autoscaled below every band drawn
    bottom, top = share_axis([max(lo, 0.0) / 100], target)  # at least 20 points
    ax.set_ylim(100 * bottom - (1.0 if bottom == 0 else 0.0), 100 * top + 1)


def _minutes_axis(
    ax: Any, summary: pd.DataFrame, measure: str, known: registry.Measure | None,
    rules: dict[str, Any],
) -> None:  # fmt: skip
    from sim.viz.report import COLORS  # deferred (matplotlib): see write_plots

    deadline = known.deadline if known is not None else None
    deadline = deadline or next(
        (f"{r}_minutes" for r in CLOCKED_ROLES if measure.startswith(r)),
        f"{CLOCKED_ROLES[-1]}_minutes",
    )
    limit = float(rules[deadline])
    ax.axhline(limit, color=COLORS["target"], ls=":", lw=1.3, label=f"deadline {limit:g} min")
    vals = [float(v) for v in summary[measure] if v is not None and math.isfinite(float(v))]
    if vals and min(vals) > 0 and max(vals) / min(vals) > 20:
        ax.set_yscale("log")  # a collapsed variant would flatten all the others
        ax.set_ylabel("minutes (log scale)")
    else:
        ax.set_ylabel("minutes")
        ax.set_ylim(bottom=0)


def _staff_axis(ax: Any, summary: pd.DataFrame, xk: str) -> None:
    """Total staff on a top axis when the x-axis is the density."""
    if xk != "staff.per_km2" or "headcount.total" not in summary.columns:
        return
    pairs = sorted(
        {(float(x), float(h)) for x, h in zip(summary[xk], summary["headcount.total"], strict=True)}
    )
    xs = [p[0] for p in pairs]
    if len(set(xs)) != len(xs):
        return
    top = ax.secondary_xaxis("top")
    top.set_xticks(xs, [f"{h:,.0f}" for _, h in pairs], fontsize=8)
    top.set_xlabel("total staff", fontsize=8)


def write_plots(
    summary: pd.DataFrame, keys: Sequence[str], rules: dict[str, Any], folder: Path, subtitle: str
) -> list[Path]:
    """One PNG per measure plus ``overview.png``; nothing when nothing was varied."""
    # deferred: the sweep API imports this module at start (labels, x_key); matplotlib
    # loads only when a plot is drawn
    import matplotlib.pyplot as plt

    from sim.viz.report import save, style

    xk = x_key(summary, keys)
    if xk is None:
        return []
    style()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    fmt = registry.deadlines(rules)
    plots = [(m.name, m.plot) for m in registry.plotted() if m.plot is not None]
    for measure, plot in plots:
        if measure not in summary.columns:
            continue
        fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
        plot_measure(ax, summary, keys, measure, rules, plot.title.format(**fmt))
        _staff_axis(ax, summary, xk)
        fig.supxlabel(subtitle, fontsize=8, color="#555555")
        save(fig, folder / f"{plot.file}.png")
        written.append(folder / f"{plot.file}.png")
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), layout="constrained")
    for ax, (measure, plot) in zip(axes.flat, plots[:4], strict=True):
        plot_measure(ax, summary, keys, measure, rules, plot.title.format(**fmt))
    fig.suptitle(f"What-if sweep: {subtitle}", fontsize=11)
    save(fig, folder / "overview.png")
    written.append(folder / "overview.png")
    return written
