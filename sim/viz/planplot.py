"""The staffing plan as a picture: density per office and the achieved bound vs the target."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.analysis.measures import TARGETS
from sim.viz.scales import share_axis

if TYPE_CHECKING:
    from sim.output.plantext import PlanLike


def plot_plan(plan: PlanLike, path: Path) -> None:
    """Density per office (plan vs uniform) and the achieved lower bound vs the target."""
    # deferred: the staffing optimiser imports this module at start; matplotlib loads only
    # when a plan is drawn
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from sim.viz.report import COLORS, place_label, save, style

    style()
    t = plan.table.sort_values("density")
    meta = plan.meta
    m = next(iter(meta["targets"]))
    target = meta["targets"][m]
    y = np.arange(len(t))
    fig, (a1, a2) = plt.subplots(
        1, 2, figsize=(12, 0.36 * len(t) + 2.8), sharey=True, layout="constrained"
    )
    ok = [bool(v) for v in t["meets_target"]]
    colors = [COLORS["double_ten"] if v else COLORS["enforcer"] for v in ok]
    a1.barh(y, t["density"], color=colors, alpha=0.85)
    a1.plot(t["baseline_staff"] / t["area_km2"], y, "|", color="black", ms=12, mew=2)
    for yi, (d, n) in enumerate(zip(t["density"], t["staff"], strict=True)):
        a1.text(0.3, yi, f"{d:.1f}/km² · {n} staff", va="center", fontsize=8, color="white")
    a1.set_yticks(y, [place_label(o, z) for o, z in zip(t["office"], t["name_zh"], strict=True)])
    a1.set_xlabel("staff per km² (all roles)")
    a1.set_title("Staff density per street office", fontsize=11)
    a1.grid(axis="y", visible=False)
    conf = f"{meta['confidence']:.0%}"
    plan_vals = np.array([np.nan if v is None else 100 * float(v) for v in t[f"{m}.lower"]], float)
    base_vals = np.array(
        [np.nan if v is None else 100 * float(v) for v in t[f"baseline_{m}.lower"]], float
    )
    # points, not bars cut off at 92%: the axis spans at least 20 points (sim.viz.scales)
    a2.hlines(y, np.fmin(plan_vals, base_vals), np.fmax(plan_vals, base_vals), color="#dddddd")
    a2.scatter(base_vals, y, s=45, color="#aaaaaa", zorder=3)
    a2.scatter(plan_vals, y, s=60, c=colors, edgecolors="#333333", lw=0.6, zorder=4)
    a2.axvline(100 * target, color=COLORS["target"], ls=":", lw=1.3)
    shares = [v / 100 for v in (*plan_vals, *base_vals) if np.isfinite(v)]
    if TARGETS[m].ceiling:
        a2.set_xlim(0, 100.5)
    else:
        low, high = share_axis(shares, target)
        a2.set_xlim(100 * low, 100 * high + 0.5)
    bound = "upper" if TARGETS[m].ceiling else "lower"
    a2.set_xlabel(f"{TARGETS[m].label}: {conf} {bound} confidence bound (%)")
    a2.set_title(f"Achieved {TARGETS[m].label} per street office", fontsize=11)
    a2.grid(axis="y", visible=False)
    handles = [
        *([Patch(color=COLORS["double_ten"], alpha=0.85, label="plan: office meets the target")]
          if any(ok) else []),
        *([Patch(color=COLORS["enforcer"], alpha=0.85, label="plan: office below the target")]
          if not all(ok) else []),
        Line2D([], [], color="#aaaaaa", marker="o", ls="",
               label=f"uniform {meta['baseline_density']:g} per km² (bound)"),
        Line2D([], [], color="black", marker="|", ls="", ms=12, mew=2,
               label=f"uniform {meta['baseline_density']:g} per km² (density)"),
        Line2D([], [], color=COLORS["target"], ls=":", label=f"target {100 * target:g}%"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncols=5, fontsize=8, frameon=False)
    tot = plan.totals
    status = (
        "every office meets the target"
        if tot["offices_meeting_target"] == tot["offices"]
        else f"TARGET NOT MET in {tot['offices'] - tot['offices_meeting_target']} office(s)"
    )
    fig.suptitle(
        f"{meta['scenario']}: {tot['staff']:,} staff in the plan ({status}) vs "
        f"{tot['baseline_staff']:,} at a uniform {meta['baseline_density']:g}/km² · "
        f"{meta['replications']} replications × {meta['days']:g} day(s)",
        fontsize=11,
    )
    save(fig, path)
