"""What a planner reads: summary tables for the terminal and plots for the report.

Plots use the Agg backend (no screen needed). Chinese names are drawn with an installed
CJK font, else with the subset of Noto Sans CJK SC shipped in ``sim/fonts``; labels fall
back to pinyin only if neither can be loaded, never to boxes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.analysis.metrics import clock_of, clocks
from sim.engine.records import IncidentTable
from sim.output.text import days_text
from sim.roles import CLOCKED_ROLES
from sim.scenario import Rules
from sim.viz import scales

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


def scale_colormap(scale: scales.Scale) -> tuple[Any, Any]:
    """A matplotlib colour map and norm drawing ``scale`` (:mod:`sim.viz.scales`) from
    its low to its high end, colours as its stops say."""
    span = scale.high - scale.low
    stops = [((v - scale.low) / span, c) for v, c in scale.stops()]
    return LinearSegmentedColormap.from_list("scale", stops), Normalize(scale.low, scale.high)


def _thin_faces(color: str, counts: Sequence[float]) -> list[str]:
    """Marker faces: the colour, or hollow where a share rests on a thin sample."""
    return [scales.THIN_COLOUR if scales.is_thin(n) else color for n in counts]


def pooled_count(row: Mapping[str, Any], key: str, replications: int) -> int:
    """The cases a pooled share of a breakdown row rests on: its count is a mean per
    replication (:func:`sim.analysis.metrics.breakdown`), its share pools them all."""
    return round(float(row.get(key) or 0) * replications)


def plot_by_hour(summary: dict[str, Any], path: Path) -> None:
    """On-time shares by hour of day over the incident volume, with each line's sample:
    instructions for the advisor clock and double ten, escalations for the enforcer clock."""
    style()
    rows = summary["by_hour"]
    target = summary["scenario_resolved"]["rules"]["target"]
    hours = np.arange(24)
    fig, ax = plt.subplots(figsize=(11, 4.6))
    vol = ax.twinx()
    reps = int(summary["replications"])
    n_inst = [r["incidents"] for r in rows]
    n_esc = [r.get("escalated", 0) for r in rows]
    vol.bar(hours, n_inst, color="#dddddd", width=0.8, zorder=0)
    vol.bar(hours, n_esc, color="#e8a3a3", width=0.8, zorder=0)
    per = " per replication" if reps > 1 else ""
    vol.set_ylabel(f"instructions and escalations{per} (bars)", color="#777777")
    vol.set_ylim(0, max([*n_inst, 1]) * 1.05)
    vol.grid(False)
    vol.spines["right"].set_visible(True)
    ax.set_zorder(vol.get_zorder() + 1)
    ax.patch.set_visible(False)
    values: list[float | None] = []
    handles: list[Any] = []
    pooled = {k: [pooled_count(r, k, reps) for r in rows] for k in ("incidents", "escalated")}
    for key, label, counts in (
        ("advisor_on_time", "advisor ≤ deadline", pooled["incidents"]),
        ("enforcer_on_time", "enforcers ≤ deadline (of the escalations)", pooled["escalated"]),
        ("double_ten", "double ten", pooled["incidents"]),
    ):
        color = COLORS[key.split("_on")[0]]
        y = [np.nan if r[key] is None else 100 * r[key] for r in rows]
        values += [r[key] for r in rows]
        ax.plot(hours, y, lw=1.6, color=color, zorder=2)
        ax.scatter(hours, y, s=22, color=_thin_faces(color, counts), edgecolors=color, zorder=3)
        handles.append(Line2D([], [], color=color, marker="o", ms=4.5, label=label))
    ax.axhline(100 * target, color=COLORS["target"], ls=":", lw=1.2)
    handles += [
        Line2D([], [], color=COLORS["target"], ls=":", label=f"target {100 * target:g}%"),
        Patch(color="#dddddd", label=f"instructions{per} ({sum(n_inst):,.0f})"),
        Patch(
            color="#e8a3a3",
            label=f"escalations{per}: the enforcer line's sample ({sum(n_esc):,.0f})",
        ),
    ]
    if any(scales.is_thin(n) for n in pooled["escalated"]):
        handles.append(
            Line2D([], [], color="black", marker="o", mfc="white", ls="",
                   label=f"hollow: fewer than {scales.THIN_SAMPLE} cases in the hour")
        )  # fmt: skip
    low, high = scales.share_axis(values, target)
    ax.set_ylim(100 * low, 100 * high + 1)
    ax.set_xticks(hours, [f"{h:02d}" for h in hours])
    ax.set_xlabel("hour of day (instruction issued)")
    ax.set_ylabel("on time (%)")
    over = days_text(summary["days"]) + (f" × {reps} replications" if reps > 1 else "")
    ax.set_title(f"On-time share by hour of day ({over})")
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.15), fontsize=8.5,
              ncols=3, frameon=False)  # fmt: skip
    save(fig, path)


def plot_by_office(summary: dict[str, Any], path: Path) -> None:
    """Double-ten share per street office, worst first, against the target: points on an
    axis of at least 20 points, coloured by the compliance scale, each with its sample."""
    style()
    rows = [r for r in summary["by_area"] if r["double_ten"] is not None]
    rows.sort(key=lambda r: r["double_ten"])
    target = summary["scenario_resolved"]["rules"]["target"]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(rows) + 1.8))
    y = np.arange(len(rows))
    vals = [r["double_ten"] for r in rows]
    adv = [r["advisor_on_time"] for r in rows]
    scale = scales.compliance_scale(vals, target)
    low, high = scales.share_axis([*vals, *adv], target)
    ax.hlines(y, 100 * low, [100 * v for v in vals], color="#e6e6e6", lw=1, zorder=1)
    reps = int(summary["replications"])
    n = [pooled_count(r, "incidents", reps) for r in rows]
    faces = [
        scales.THIN_COLOUR if scales.is_thin(k) else scale.colour(v)
        for k, v in zip(n, vals, strict=True)
    ]
    ax.scatter([100 * v for v in vals], y, s=70, c=faces, edgecolors="#333333", lw=0.8, zorder=3)
    ax.plot([np.nan if a is None else 100 * a for a in adv], y, "|", color="black", ms=11, mew=1.6)
    ax.axvline(100 * target, color=COLORS["target"], ls=":", lw=1.2)
    ax.set_yticks(y, [place_label(r["office"], r.get("name_zh", "")) for r in rows])
    ax.set_xlim(100 * low, 100 * high + 0.5)
    for yi, v, k in zip(y.tolist(), vals, n, strict=True):
        ax.annotate(f"{100 * v:.1f}%  n={k:,}", (100 * high + 0.5, yi),
                    xytext=(6, 0), textcoords="offset points", va="center", fontsize=8,
                    annotation_clip=False)  # fmt: skip
    ax.set_xlabel("incidents meeting every clock (%)")
    ax.set_title("Double-ten compliance by street office", loc="left")
    handles = [
        Line2D([], [], marker="o", ls="", mfc=scale.colour(target), mec="#333333",
               label="double ten (colour: distance from the target)"),
        Line2D([], [], marker="|", ls="", color="black", ms=11, mew=1.6,
               label="advisor clock alone"),
        Line2D([], [], color=COLORS["target"], ls=":", label=f"target {100 * target:g}%"),
    ]  # fmt: skip
    if any(scales.is_thin(k) for k in n):
        handles.append(
            Line2D([], [], marker="o", ls="", mfc="white", mec="#333333",
                   label=f"hollow: fewer than {scales.THIN_SAMPLE} instructions")
        )  # fmt: skip
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.6 / len(rows) - 0.08),
              ncols=2, fontsize=8, frameon=False)  # fmt: skip
    ax.grid(axis="y", visible=False)
    save(fig, path)
