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


def _police_rows(p: dict[str, Any] | None, whole: int) -> list[list[str]]:
    """Rows for the police units, when the scenario posts police."""
    if p is None:
        return []
    within = p["on_scene_within_target"]
    return [
        ["  police calls answered", f"{_n(p['answered'], whole)} of {_n(p['calls'], whole)}", ""],
        ["  mean wait for police (min)", _n(p["wait_min"], 1), ""],
        ["  police on scene in time", f"{_n(None if within is None else 100 * within, 1)}%", ""],
    ]


def _n(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def _total_row(
    m: Measure, e: dict[str, Any], ci: dict[str, float], days: float, replications: int
) -> list[str]:
    """A registry measure of the enforcement block: in the run, and a year at its rate."""
    name = m.name.removeprefix("enforcement.")
    value = lookup(e, name)
    yearly = m.unit in ("count", "yuan", "hours") and value is not None
    return [
        m.words,
        measure_text(m, value, ci.get(name), replications=replications),
        _n(value * 365 / days) if yearly else "",
    ]


def summary_text(e: dict[str, Any], days: float, replications: int) -> str:
    """The enforcement table ``python -m sim run`` prints: counts of one replication as
    whole numbers, means over several with a decimal."""
    ci = e.get("ci95", {})
    r = e["ratios"]
    act = e["offenders_active"]
    whole = 0 if replications <= 1 else 1  # decimals of a small count
    totals = format_table(
        ["measure", "in the run", "a year at this rate"],
        [
            *(_total_row(m, e, ci, days, replications) for m in registry.summarized("enforcement")),
            *_police_rows(e.get("police"), whole),
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
                _n(o["court_referrals"], whole),
                _n(o["offenders_active"]["start"]),
                _n(o["offenders_active"]["end"]),
            ]
            for o in e["by_office"]
        ],
        align="lrrrrrr",
    )
    head = "Enforcement chain (cases counted by the day they were filed"
    head += ")" if replications <= 1 else f"; means over {replications} replications)"
    parts = [head, totals, per, offices]
    if "campaign" in e:
        parts.append(campaign_text(e["campaign"], ci, replications))
    return "\n\n".join(parts)


def campaign_text(c: dict[str, Any], ci: dict[str, float], replications: int = 1) -> str:
    """The campaign in a few words: off, not in the run, or what it did in the run's days
    (weeks until its hotspots fall below 5% of their first week, and its cost)."""
    if not c.get("enabled", bool(c["days"])):
        return (
            f"归零 campaign: off; at its hotspots {_n(c['first_week'])} incidents in the first "
            f"week, {_n(c['last_week'])} in the last."
        )
    planned = c.get("planned_days", c["days"])
    if not c.get("in_run", True):
        return (
            f"归零 campaign: planned from day {c['first_day']:g} for {planned:g} days, after "
            "the run ends: not in the run, nothing of it simulated."
        )
    span = (
        f"{c['days']:g} of its {planned:g} days in the run"
        if c["days"] < planned
        else f"its {planned:g} days"
    )
    if c.get("weeks", 2) < 2:
        trend = "under two whole weeks of it in the run, too short for a weekly trend"
    else:
        weeks, half = c["weeks_to_5pct"], ci.get("campaign.weeks_to_5pct")
        reached = c.get("reached_in", 1 if weeks is not None else 0)
        first = f"5% of the first week ({_n(c['first_week'])})"
        if weeks is not None:
            ci_text = f" (95% CI ± {half:.1f})" if half is not None else ""
            trend = f"weekly incidents at its hotspots fall below {first} after {weeks:.1f} weeks"
            trend += ci_text
        elif reached:
            trend = (
                f"weekly incidents at its hotspots fell below {first} in {reached} of "
                f"{replications} replications only"
            )
        else:
            trend = (
                f"weekly incidents at its hotspots had not fallen below {first} by the run's end"
            )
        trend += f"; last week {_n(c['last_week'])}"
    return (
        f"归零 campaign, {span}: {trend}.\n"
        f"In the run it took {_n(c['cases'])} cases, {_n(c['fines_yuan'])} yuan of fines and "
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
