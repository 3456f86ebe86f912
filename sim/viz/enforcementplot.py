"""What a planner reads of the enforcement chain: its table and two figures.

The penalty funnel (escalations → cases → decisions → court referrals → rulings) and the
weekly incidents at each hotspot, with the "归零" campaign's days shaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from sim.analysis import measures as registry
from sim.analysis.measures import Measure
from sim.viz.report import format_table, lookup, measure_text, place_label, save, style

FUNNEL = (
    ("escalations", "escalations\n(team on scene)"),
    ("cases", "cases filed\n立案"),
    ("decisions", "penalty decisions\n处罚决定书"),
    ("court_referrals", "sent to court\n移交法院"),
    ("rulings", "court rulings\n行政裁定书"),
)


def _police_rows(p: dict[str, Any] | None) -> list[list[str]]:
    """Rows for the police units, when the scenario posts police."""
    if p is None:
        return []
    within = p["on_scene_within_target"]
    return [
        ["  police calls answered", f"{_n(p['answered'], 1)} of {_n(p['calls'], 1)}", ""],
        ["  mean wait for police (min)", _n(p["wait_min"], 1), ""],
        ["  police on scene in time", f"{_n(None if within is None else 100 * within, 1)}%", ""],
    ]


def _n(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def _total_row(m: Measure, e: dict[str, Any], ci: dict[str, float], days: float) -> list[str]:
    """A registry measure of the enforcement block: in the run, and a year at its rate."""
    name = m.name.removeprefix("enforcement.")
    value = lookup(e, name)
    yearly = m.unit in ("count", "yuan", "hours") and value is not None
    return [m.words, measure_text(m, value, ci.get(name)), _n(value * 365 / days) if yearly else ""]


def summary_text(e: dict[str, Any], days: float) -> str:
    """The enforcement table ``python -m sim run`` prints."""
    ci = e.get("ci95", {})
    r = e["ratios"]
    act = e["offenders_active"]
    totals = format_table(
        ["measure", "in the run", "a year at this rate"],
        [
            *(_total_row(m, e, ci, days) for m in registry.summarized("enforcement")),
            *_police_rows(e.get("police")),
        ],
        align="lrr",
    )
    sent = None if r["referred_per_case"] is None else 100 * r["referred_per_case"]
    ruled = None if r["ruled_per_referral"] is None else 100 * r["ruled_per_referral"]
    per = (
        f"decisions per case {_n(r['decisions_per_case'], 3)}, "
        f"yuan per decision {_n(r['yuan_per_decision'])}, "
        f"cases sent to court {_n(sent, 2)}%, referrals ruled {_n(ruled, 1)}%\n"
        f"incidents by known offenders {_n(100 * (e['repeat_share'] or 0), 1)}%; "
        f"offenders on the street {_n(act['start'])} at the start, {_n(act['end'])} at the end"
    )
    offices = format_table(
        [
            "street office",
            "cases",
            "decisions",
            "fines (yuan)",
            "to court",
            "offenders start",
            "end",
        ],
        [
            [
                place_label(o["office"]),
                _n(o["cases"]),
                _n(o["decisions"]),
                _n(o["fines_yuan"]),
                _n(o["court_referrals"], 1),
                _n(o["offenders_active"]["start"]),
                _n(o["offenders_active"]["end"]),
            ]
            for o in e["by_office"]
        ],
        align="lrrrrrr",
    )
    parts = ["Enforcement chain (cases counted by the day they were filed)", totals, per, offices]
    if "campaign" in e:
        parts.append(campaign_text(e["campaign"], ci))
    return "\n\n".join(parts)


def campaign_text(c: dict[str, Any], ci: dict[str, float]) -> str:
    """Weeks until the campaign's hotspots fall below 5% of their first week, and its cost."""
    weeks = c["weeks_to_5pct"]
    half = ci.get("campaign.weeks_to_5pct")
    reached = (
        f"{weeks:.1f} weeks" + (f" (95% CI ± {half:.1f})" if half is not None else "")
        if weeks is not None
        else "not reached in every replication"
    )
    return (
        f"归零 campaign over {c['days']:g} days: weekly incidents at its hotspots fall below 5% "
        f"of the first week ({_n(c['first_week'])}) after {reached}; last week {_n(c['last_week'])}.\n"
        f"It took {_n(c['cases'])} cases, {_n(c['fines_yuan'])} yuan of fines and "
        f"{_n(c['enforcer_hours'])} enforcer-hours ({_n(c['joint_person_hours'])} of joint "
        f"enforcement on site, {_n(c['enforcer_team_hours'])} of teams on its incidents)."
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
