"""What a planner reads: summary tables for the terminal and plots for the report.

Plots use the Agg backend (no screen needed). Chinese names are drawn with an installed
CJK font, else with the subset of Noto Sans CJK SC shipped in ``sim/fonts``; labels fall
back to pinyin only if neither can be loaded, never to boxes.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure

from sim.analysis import measures as registry
from sim.analysis.metrics import ROLE_PLURAL, clocks, load_note
from sim.engine.records import IncidentTable
from sim.scenario import DemandVolume, Rules
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


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:5.1f}%"


def _ci(value: float | None, half: float | None) -> str:
    if value is None:
        return "–"
    if half is None:
        return _pct(value)
    return _pct(value) + (f" ± {100 * half:.1f}" if half >= 0.0005 else " ± <0.1")


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, align: str) -> str:
    fill = " " * (width - display_width(text))
    return text + fill if align == "l" else fill + text


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None
) -> str:
    """A plain monospace table; ``align`` has one of 'l'/'r' per column."""
    cells = [[str(h) for h in headers]] + [["–" if v is None else str(v) for v in r] for r in rows]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)

    def fmt(r: list[str]) -> str:
        return "  ".join(_pad(c, w, a) for c, w, a in zip(r, widths, align, strict=True)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(cells[0]), sep, *(fmt(r) for r in cells[1:])])


def summary_text(s: dict[str, Any]) -> str:
    """The tables ``python -m sim run`` prints.

    Its lists of measures — the roles on the staff line, the clocks table, the lines
    under it and the street-office columns — are the registry's (:func:`registry.summarized`).
    """
    rules = s["scenario_resolved"]["rules"]
    ci = s.get("ci95", {})
    reps = int(s["replications"])
    staff = s["staff"]
    roles = ", ".join(
        f"{staff[role]} {m.words}"
        for m in registry.summarized("staff")
        if (role := m.name.removeprefix("headcount.")) in staff
    )
    head = (
        f"{s['scenario']}: {s['days']:g} day{'' if s['days'] == 1 else 's'} after "
        f"{s['warmup_hours']:g} h warm-up, seed {s['seed']}, "
        f"{s['replications']} replication(s), dispatch '{s['policy']}'\n"
        f"staff {staff['total']} ({staff['per_km2']:.1f} per km² over {staff['area_km2']:.1f} km²): "
        f"{roles}"
    )
    if "demand" in s:  # runs stored before the density form have no demand block
        head += "\n" + demand_text(s["demand"])
    overall = clocks_table(s, rules, ci)
    util_line = load_text(s)
    target = rules["target"]
    columns = registry.summarized("offices")
    areas = format_table(
        ["street office", *(m.words for m in columns), ""],
        [
            [
                place_label(a["office"], a.get("name_zh", "")),
                *(measure_text(m, a.get(m.name), replications=reps) for m in columns),
                "below target" if a["double_ten"] is not None and a["double_ten"] < target else "",
            ]
            for a in s["by_area"]
        ],
        align="l" + "r" * len(columns) + "l",
    )
    hours = format_table(
        ["hour", "incidents", "advisor", "enforcers", "double ten"],
        [
            [
                h["hour"] + ":00",
                _num(h["incidents"], 0),
                _pct(h["advisor_on_time"]),
                _pct(h["enforcer_on_time"]),
                _pct(h["double_ten"]),
            ]
            for h in s["by_hour"]
        ],
    )
    parts = [head, overall, util_line, "By street office", areas, "By hour of day", hours]
    if "evaluation" in s:
        from sim.viz.rankplot import summary_text as evaluation_text

        parts.append(evaluation_text(s["evaluation"], s["replications"]))
    if "enforcement" in s:
        from sim.viz.enforcementplot import summary_text as enforcement_text

        parts.append(enforcement_text(s["enforcement"], s["days"], reps))
    if s.get("warnings"):  # a plan that is valid but does less than it seems to
        parts.append("\n".join(["Warnings", *(f"  {w}" for w in s["warnings"])]))
    return "\n\n".join(parts)


def demand_text(demand: dict[str, Any]) -> str:
    """``demand 2,704 incidents a day = 2.38 per km of street over 1,136 km, plus 290 a day
    at 4 hotspots``: the background on the run's map, and the hotspots kept on it."""
    text = f"demand {DemandVolume.from_dict(demand).text()}"
    spots = demand["hotspots"]
    if spots:
        text += f", plus {demand['hotspot_incidents_per_day']:,.0f} a day at {spots} hotspot"
        text += "s" if spots > 1 else ""
    return text


def clocks_table(s: dict[str, Any], rules: dict[str, Any], ci: dict[str, float]) -> str:
    """The registry's clocks: each on-time share, then the measures of its ``cells``."""
    clocks = registry.summarized("clocks")
    width = max((len(m.summary.cells) for m in clocks if m.summary), default=0)
    deadlines = {"adv": rules["advisor_minutes"], "enf": rules["enforcer_minutes"]}
    reps = int(s["replications"])
    rows = []
    for m in clocks:
        cells = m.summary.cells if m.summary else ()
        rows.append(
            [
                m.words.format(**deadlines),
                measure_text(m, lookup(s, m.name), ci.get(m.name), replications=reps),
                *(measure_text(registry.RUN[c], lookup(s, c), replications=reps) for c in cells),
                *[""] * (width - len(cells)),
            ]
        )
    return format_table(["clock", "on time", "mean min", "p90 min", "count"][: 2 + width], rows)


_MISSING: Any = object()


def lookup(tree: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """The value at a measure's dotted name in a nested summary (``default`` if absent)."""
    node: Any = tree
    for key in name.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


def measure_text(
    m: registry.Measure, value: float | None, half: float | None = None, *, replications: int
) -> str:
    """A measure's value as the summary prints it: a share as a percentage, a number with
    the measure's decimals (a count of one replication as a whole number,
    :meth:`~sim.analysis.measures.Measure.digits_for`), each with its 95% CI half-width
    when there is one."""
    if m.unit == "share":
        return _ci(value, half)
    digits = m.digits_for(replications)
    text = _num(value, digits)
    return text if half is None or value is None else f"{text} ± {half:,.{digits}f}"


def load_text(s: dict[str, Any]) -> str:
    """The lines under the clocks table (the registry's ``lines``: utilisation, offered load
    against capacity, ...) and, when a role is over capacity, why."""
    ci = s.get("ci95", {})
    reps = int(s["replications"])
    lines = []
    shown = registry.summarized("lines")
    for _, same in itertools.groupby(shown, key=lambda m: (m.summary and m.summary.order, m.words)):
        group = list(same)
        items = []
        for m in group:
            value = lookup(s, m.name, _MISSING)
            if value is _MISSING or (m.summary and m.summary.nonzero and not value):
                continue
            role = next((p for p in m.name.split(".") if p in ROLE_PLURAL), None)
            if role is None:
                items.append(measure_text(m, value, ci.get(m.name), replications=reps).strip())
            else:  # one value per role, in one line
                items.append(f"{role} {measure_text(m, value, replications=reps).strip()}")
        if items:
            lines.append(f"{group[0].words}: " + ", ".join(items))
    load = s.get("overload", {})
    for r in (r for r in s["utilization"] if r in load):
        note = load_note(r, load[r])
        if note:
            lines.append(("warning: " if load[r]["status"] == "unstable" else "note: ") + note)
    return "\n".join(lines)


def days_text(days: float) -> str:
    """``1 day``, ``7 days``, ``0.5 days``."""
    return f"{days:g} day{'' if days == 1 else 's'}"


def _num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def plot_response_times(table: IncidentTable, rules: Rules, path: Path) -> None:
    """Distributions of both clocks with the deadlines marked."""
    style()
    c = clocks(table, rules)
    m = table["measured"]
    esc = m & table["escalated"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, mask, limit, title, color in (
        (
            axes[0],
            "advisor_response",
            m,
            rules.advisor_minutes,
            "Clock 1: instruction → advisor on scene",
            COLORS["advisor"],
        ),
        (
            axes[1],
            "enforcer_response",
            esc,
            rules.enforcer_minutes,
            "Clock 2: persuasion fails → enforcers on scene",
            COLORS["enforcer"],
        ),
    ):
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
    from matplotlib.colors import LinearSegmentedColormap, Normalize

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
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

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
    from matplotlib.lines import Line2D

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
