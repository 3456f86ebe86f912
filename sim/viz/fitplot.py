"""Pictures of a fit: profiles against the log, categories, hotspots on the map, dispersion.

Each shows the log (points with 95% intervals) beside what the fitted scenario draws
(lines or markers), so a planner sees at a glance where the model follows the data and
where it does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle
from scipy import stats

from sim.viz import report
from sim.viz.basemap import draw_streets, map_figure, map_style, save_map, scale_bar_and_north

if TYPE_CHECKING:
    from sim.fit.model import Fit
    from sim.world.build import StreetMap

LOG_COLOR = "#1f4e79"
FIT_COLOR = "#c0392b"
HOT_COLOR = "#e67e22"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_POINTS = 50_000


def fitted_hourly_rate(fit: Fit) -> np.ndarray:
    """Incidents per hour of each hour of day the fitted scenario draws (hotspots included)."""
    rate = fit.background.per_day * fit.background.hourly_share
    for h in fit.hotspots:
        rate = rate + np.where(h.found.hour_mask(), h.incidents_per_hour, 0.0)
    out: np.ndarray = rate
    return out


def plot_profiles(fit: Fit, path: Path) -> None:
    """Observed vs fitted incidents by hour of day and by weekday, with 95% intervals."""
    report.style()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [3, 1.3]})
    v = fit.volume
    hours = np.arange(24)
    obs = v.hourly_rate
    ci = v.hourly_ci95 * v.per_day
    ax1.errorbar(
        hours + 0.5,
        obs,
        yerr=[obs - ci[:, 0], ci[:, 1] - obs],
        fmt="o",
        ms=4,
        color=LOG_COLOR,
        ecolor="#7f9fbf",
        capsize=2,
        label="log (95% interval)",
    )
    ax1.step(
        np.arange(25),
        np.append(fitted_hourly_rate(fit), fitted_hourly_rate(fit)[-1]),
        where="post",
        color=FIT_COLOR,
        lw=1.8,
        label="fitted scenario",
    )
    bg = fit.background.per_day * fit.background.hourly_share
    ax1.step(
        np.arange(25),
        np.append(bg, bg[-1]),
        where="post",
        color=FIT_COLOR,
        lw=1,
        ls="--",
        label="of which background",
    )
    ax1.set_xlim(0, 24)
    ax1.set_xticks(range(0, 25, 3))
    ax1.set_xlabel("hour of day")
    ax1.set_ylabel("incidents per hour")
    ax1.set_title("By hour of day")
    ax1.legend(frameon=False, fontsize=8, loc="upper left")
    w = fit.weekday
    per = v.per_day * 7 * w.share
    wci = v.per_day * 7 * w.ci95
    ax2.errorbar(
        np.arange(7),
        per,
        yerr=[per - wci[:, 0], wci[:, 1] - per],
        fmt="o",
        color=LOG_COLOR,
        ecolor="#7f9fbf",
        capsize=2,
    )
    fitted = per if w.used else np.full(7, v.per_day)
    ax2.plot(np.arange(7), fitted, color=FIT_COLOR, lw=1.8)
    ax2.set_ylim(0, None)
    ax2.set_xticks(range(7), WEEKDAYS)
    ax2.set_ylabel("incidents per day")
    ax2.set_title("By weekday" + ("" if w.used else " (not used)"))
    fig.suptitle(
        f"{v.per_day:,.1f} incidents a day (95% CI {v.ci95[0]:,.1f}–{v.ci95[1]:,.1f}) over "
        f"{fit.exposure.days:,.1f} days; {fit.log.n:,} cases",
        fontsize=11,
    )
    fig.tight_layout()
    report.save(fig, path)


def plot_categories(fit: Fit, path: Path) -> None:
    """Category shares in the log (95% intervals) and in the fitted background."""
    report.style()
    c = fit.categories
    order = np.argsort(c.share)
    y = np.arange(len(order))
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(order) + 1.6))
    share = c.share[order] * 100
    lo, hi = c.ci95[order, 0] * 100, c.ci95[order, 1] * 100
    ax.barh(y, share, color="#a9c4de", label="log")
    ax.errorbar(share, y, xerr=[share - lo, hi - share], fmt="none", ecolor=LOG_COLOR, capsize=2)
    ax.plot(
        fit.background.categories.share[order] * 100,
        y,
        "d",
        color=FIT_COLOR,
        label="fitted background",
    )
    ax.set_yticks(y, [c.names[i] for i in order])
    ax.set_xlabel("share of incidents (%)")
    ax.legend(frameon=False, loc="lower right")
    ax.set_title("Categories")
    fig.tight_layout()
    report.save(fig, path)


def draw_hotspots(fit: Fit, street_map: StreetMap, path: Path) -> None:
    """The log's cases on the streets, with the fitted hotspots' circles and hours."""
    with map_style():
        fig, ax, _ = map_figure(street_map)
        net = street_map.net
        draw_streets(ax, net, net.street_classes(), alpha=0.6, scale=0.6, zorder=1)
        rng = np.random.default_rng(0)
        node = fit.node
        if len(node) > MAX_POINTS:  # a drawn sample: millions of dots say no more
            node = rng.choice(node, MAX_POINTS, replace=False)
        jitter = rng.normal(0, 4, (len(node), 2))
        ax.scatter(
            net.x[node] + jitter[:, 0],
            net.y[node] + jitter[:, 1],
            s=2,
            color=LOG_COLOR,
            alpha=min(1.0, 3000 / max(len(node), 1)),
            lw=0,
            zorder=3,
        )
        for h in fit.hotspots:
            ax.add_patch(Circle((h.x, h.y), h.radius_m, fill=False, ec=HOT_COLOR, lw=2, zorder=5))
            ax.annotate(
                f"{h.name}\n{h.start}–{h.end}, {h.incidents_per_hour:.2g}/h",
                (h.x, h.y + h.radius_m),
                ha="center",
                va="bottom",
                fontsize=8,
                zorder=6,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
            )
        shown = "" if len(node) == len(fit.node) else f" ({len(node):,} drawn)"
        ax.set_title(
            f"{fit.log.n:,} cases{shown} and {len(fit.hotspots)} fitted hotspot(s)", fontsize=11
        )
        scale_bar_and_north(fig, ax)
        save_map(fig, path)


def plot_dispersion(fit: Fit, path: Path) -> None:
    """Daily counts against the fitted expectation, and their histogram against Poisson."""
    report.style()
    d = fit.dispersion
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    n, e = d.daily_counts, d.daily_expected
    if len(n):
        # a long window reads better week by week (whole weeks of whole days)
        step, unit = (7, "week") if len(n) > 120 else (1, "day")
        m = len(n) // step * step
        nn, ee = n[:m].reshape(-1, step).sum(axis=1), e[:m].reshape(-1, step).sum(axis=1)
        days = np.arange(len(nn))
        band = np.column_stack([stats.poisson.ppf(0.025, ee), stats.poisson.ppf(0.975, ee)])
        ax1.fill_between(
            days, band[:, 0], band[:, 1], color="#f2c4bd", step="mid", label="Poisson 95% range"
        )
        ax1.plot(days, nn, ".", color=LOG_COLOR, ms=3, label=f"cases per {unit}")
        ax1.plot(days, ee, color=FIT_COLOR, lw=1, label="expected")
        ax1.set_xlabel(f"whole {unit} of the window")
        ax1.set_ylabel(f"cases per {unit} (in the log)")
        ax1.legend(frameon=False, fontsize=8, loc="upper left")
        k = np.arange(int(n.max()) + 2)
        ax2.hist(n, bins=np.arange(len(k) + 1) - 0.5, color="#a9c4de", label="days")
        mean = float(e.mean())
        ax2.plot(
            k, len(n) * stats.poisson.pmf(k, mean), "o-", color=FIT_COLOR, ms=3, label="Poisson"
        )
        if d.day_effect_cv:
            r = 1.0 / d.day_effect_cv**2
            ax2.plot(
                k,
                len(n) * stats.nbinom.pmf(k, r, r / (r + mean)),
                "s--",
                color=HOT_COLOR,
                ms=3,
                label=f"with day effect (cv {d.day_effect_cv:.2f})",
            )
        ax2.set_xlabel("cases per day (in the log)")
        ax2.set_ylabel("days")
        ax2.legend(frameon=False, fontsize=8, loc="upper right")
    fig.suptitle(
        f"Is it Poisson? {d.note[0].upper()}{d.note[1:]} (an index of 1 is Poisson)", fontsize=10
    )
    fig.tight_layout()
    report.save(fig, path)
