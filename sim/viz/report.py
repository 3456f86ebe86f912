"""What a planner reads: summary tables for the terminal and plots for the report.

Plots use the Agg backend (no screen needed). Chinese names are drawn with an installed
CJK font, else with the subset of Noto Sans CJK SC shipped in ``sim/fonts``; labels fall
back to pinyin only if neither can be loaded, never to boxes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure

from sim.analysis.metrics import clock_of, clocks
from sim.engine.records import IncidentTable
from sim.roles import CLOCKED_ROLES
from sim.scenario import Rules

_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)
COLORS = {"advisor": "#1f77b4", "enforcer": "#d62728", "double_ten": "#2ca02c", "target": "#555555"}


SHIPPED_CJK_FONT = Path(__file__).resolve().parents[1] / "fonts" / "NotoSansCJKsc-Subset.otf"


@cache
def cjk_font() -> str | None:
    """Name of a font that can draw Chinese: an installed one, else the shipped subset."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in _CJK_FONTS if name in installed), None)
    if found is None and SHIPPED_CJK_FONT.is_file():
        try:
            font_manager.fontManager.addfont(str(SHIPPED_CJK_FONT))
            found = font_manager.FontProperties(fname=SHIPPED_CJK_FONT).get_name()
        except (OSError, RuntimeError, ValueError):
            found = None
    return found


def place_label(name: str, name_zh: str = "") -> str:
    """``Nanyanglu 南阳路街道`` where Chinese can be drawn, else ``Nanyanglu``."""
    return f"{name} {name_zh}" if name_zh and cjk_font() else name


def style() -> None:
    """One look for every figure."""
    family = ["DejaVu Sans"] + ([cjk_font()] if cjk_font() else [])
    plt.rcParams.update(
        {
            "font.family": family,  # a list: glyphs missing from one come from the next
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.dpi": 110,
            "savefig.bbox": "tight",
        }
    )


def save(fig: Figure, path: Path) -> None:
    """Write a figure and free it."""
    fig.savefig(path, dpi=130, format="png")  # explicit: atomic writers use .tmp names
    plt.close(fig)


# the standard clocks' panel titles; another clock's is "Clock k: <its words>"
_CLOCK_TITLES = {
    "advisor": "Clock 1: instruction → advisor on scene",
    "enforcer": "Clock 2: persuasion fails → enforcers on scene",
}


def plot_response_times(table: IncidentTable, rules: Rules, path: Path) -> None:
    """Distributions of every clock (the double ten's two) with the deadlines marked."""
    style()
    c = clocks(table, rules)
    m = table["measured"]
    roles = [r for r in CLOCKED_ROLES if f"{r}_response" in c]
    fig, axes = plt.subplots(1, len(roles), figsize=(5.5 * len(roles), 4), squeeze=False)
    for k, (ax, role) in enumerate(zip(axes[0], roles, strict=True)):
        key, mask, limit = f"{role}_response", m & c[f"{role}_asked"], rules.minutes(role)
        title = _CLOCK_TITLES.get(role, f"Clock {k + 1}: {clock_of(role).words}")
        color = COLORS.get(role, COLORS["target"])
        v = c[key][mask]
        late_never = int((~np.isfinite(v)).sum())
        v = v[np.isfinite(v)]
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("minutes")
        if len(v) == 0:
            ax.text(0.5, 0.5, "no cases", transform=ax.transAxes, ha="center")
            continue
        top = max(limit * 2.5, float(np.percentile(v, 99)))
        bins = np.linspace(0, top, 60)
        ax.hist(v[v <= top], bins=bins, color=color, alpha=0.75)
        ax.axvline(limit, color="black", ls="--", lw=1.2)
        share = float((v <= limit).sum()) / (len(v) + late_never)
        note = f"  deadline {limit:g} min\n  {100 * share:.1f}% on time"
        beyond = int((v > top).sum()) + late_never
        if beyond:
            note += f"\n  {beyond:,} later than {top:.0f} min"
        ax.text(limit, ax.get_ylim()[1] * 0.95, note, va="top", fontsize=9)
        ax.set_xlim(0, top)
        ax.set_ylabel("incidents")
    save(fig, path)


def plot_by_hour(summary: dict[str, Any], path: Path) -> None:
    """On-time shares by hour of day over the incident volume."""
    style()
    rows = summary["by_hour"]
    target = summary["scenario_resolved"]["rules"]["target"]
    hours = np.arange(24)
    fig, ax = plt.subplots(figsize=(11, 4.2))
    vol = ax.twinx()
    vol.bar(hours, [r["incidents"] for r in rows], color="#cccccc", width=0.8, zorder=0)
    vol.set_ylabel("instructions (bars)", color="#777777")
    vol.grid(False)
    vol.spines["right"].set_visible(True)
    ax.set_zorder(vol.get_zorder() + 1)
    ax.patch.set_visible(False)
    for key, label in (
        ("advisor_on_time", "advisor ≤ deadline"),
        ("enforcer_on_time", "enforcers ≤ deadline"),
        ("double_ten", "double ten"),
    ):
        y = [np.nan if r[key] is None else 100 * r[key] for r in rows]
        ax.plot(
            hours, y, marker="o", ms=3.5, lw=1.8, label=label, color=COLORS[key.split("_on")[0]]
        )
    ax.axhline(
        100 * target, color=COLORS["target"], ls=":", lw=1.2, label=f"target {100 * target:g}%"
    )
    ax.set_xticks(hours, [f"{h:02d}" for h in hours])
    ax.set_xlabel("hour of day (instruction issued)")
    ax.set_ylabel("on time (%)")
    ax.set_ylim(0, 102)
    ax.set_title("On-time share by hour of day")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=9, ncols=4, frameon=False)
    save(fig, path)


def plot_by_office(summary: dict[str, Any], path: Path) -> None:
    """Double-ten share per street office, worst first, against the target."""
    style()
    rows = [r for r in summary["by_area"] if r["double_ten"] is not None]
    rows.sort(key=lambda r: r["double_ten"])
    target = summary["scenario_resolved"]["rules"]["target"]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(rows) + 1.6))
    y = np.arange(len(rows))
    vals = [100 * r["double_ten"] for r in rows]
    colors = [COLORS["enforcer"] if v < 100 * target else COLORS["double_ten"] for v in vals]
    ax.barh(y, vals, color=colors, alpha=0.85)
    adv = [np.nan if r["advisor_on_time"] is None else 100 * r["advisor_on_time"] for r in rows]
    ax.plot(adv, y, "|", color="black", ms=12, mew=2, label="advisor clock alone")
    ax.axvline(
        100 * target, color=COLORS["target"], ls=":", lw=1.2, label=f"target {100 * target:g}%"
    )
    ax.set_yticks(y, [place_label(r["office"], r.get("name_zh", "")) for r in rows])
    low = min([*vals, *[a for a in adv if a == a], 100 * target])
    left = max(0.0, 10 * np.floor((low - 5) / 10))
    ax.set_xlim(left, 100)
    for yi, v, r in zip(y.tolist(), vals, rows, strict=True):
        label = f"{v:.1f}%  (n={r['incidents']:,})"
        ax.text(left + 0.01 * (100 - left), yi, label, va="center", fontsize=8, color="white")
    ax.set_xlabel("incidents meeting every clock (%)")
    ax.set_title("Double-ten compliance by street office")
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08 - 0.5 / len(rows)),
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    ax.grid(axis="y", visible=False)
    save(fig, path)
