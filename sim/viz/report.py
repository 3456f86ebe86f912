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
                *(measure_text(m, a.get(m.name)) for m in columns),
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

        parts.append(enforcement_text(s["enforcement"], s["days"]))
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
    rows = []
    for m in clocks:
        cells = m.summary.cells if m.summary else ()
        rows.append(
            [
                m.words.format(**deadlines),
                measure_text(m, lookup(s, m.name), ci.get(m.name)),
                *(measure_text(registry.RUN[c], lookup(s, c)) for c in cells),
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


def measure_text(m: registry.Measure, value: float | None, half: float | None = None) -> str:
    """A measure's value as the summary prints it: a share as a percentage, a number with
    the measure's decimals, each with its 95% CI half-width when there is one."""
    if m.unit == "share":
        return _ci(value, half)
    text = _num(value, m.digits)
    return text if half is None or value is None else f"{text} ± {half:,.{m.digits}f}"


def load_text(s: dict[str, Any]) -> str:
    """The lines under the clocks table (the registry's ``lines``: utilisation, offered load
    against capacity, ...) and, when a role is over capacity, why."""
    ci = s.get("ci95", {})
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
                items.append(measure_text(m, value, ci.get(m.name)).strip())
            else:  # one value per role, in one line
                items.append(f"{role} {measure_text(m, value).strip()}")
        if items:
            lines.append(f"{group[0].words}: " + ", ".join(items))
    load = s.get("overload", {})
    for r in (r for r in s["utilization"] if r in load):
        note = load_note(r, load[r])
        if note:
            lines.append(("warning: " if load[r]["status"] == "unstable" else "note: ") + note)
    return "\n".join(lines)


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
