"""The tables ``python -m sim run`` prints and writes to ``summary.txt``, from ``summary.json``.

The lists of measures in them (the roles on the staff line, the clocks table, the lines
under it, the street-office columns, the enforcement table) are the registry's
(:func:`sim.analysis.measures.summarized`); the rest reads the summary's own fields. Only
text: nothing here loads matplotlib.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from sim.analysis import measures as registry
from sim.analysis.measures import Measure, lookup
from sim.analysis.metrics import clock_of, load_note
from sim.output.text import DASH, format_table, num, pct, place_label
from sim.roles import CLOCKED_ROLES
from sim.scenario import DemandVolume

_MISSING: Any = object()
_ON_TIME = {f"{role}_on_time" for role in CLOCKED_ROLES}


def _in_run(s: Mapping[str, Any], role: str | None) -> bool:
    """Whether a clocked role is in the run (an optional one: when posted); its count of
    the incidents that asked for it is null where it is not."""
    return role is None or lookup(s, clock_of(role).count) is not None


def _pct(x: float | None) -> str:
    return pct(x, width=5)


def _ci(value: float | None, half: float | None) -> str:
    if value is None:
        return DASH
    if half is None:
        return _pct(value)
    return _pct(value) + (f" ± {100 * half:.1f}" if half >= 0.0005 else " ± <0.1")


def summary_text(s: dict[str, Any]) -> str:
    """The tables ``python -m sim run`` prints.

    Its lists of measures — the roles on the staff line, the clocks table, the lines
    under it and the street-office columns — are the registry's (:func:`registry.summarized`).
    """
    rules = s["scenario_resolved"]["rules"]
    ci = s.get("ci95", {})
    reps = int(s["replications"])
    staff = s["headcount"]
    roles = ", ".join(
        f"{staff[m.role]} {m.words}" for m in registry.summarized("staff") if m.role in staff
    )
    head = (
        f"{s['scenario']}: {s['days']:g} day{'' if s['days'] == 1 else 's'} after "
        f"{s['warmup_hours']:g} h warm-up, seed {s['seed']}, "
        f"{s['replications']} replication(s), dispatch '{s['policy']}'\n"
        f"staff {staff['total']} ({staff['per_km2']:.1f} per km² over {s['area_km2']:.1f} km²): "
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
    clocks = [m for m in registry.OFFICE.values() if m.name in _ON_TIME and _in_run(s, m.role)]
    hours = format_table(
        ["hour", "incidents", *(m.header for m in clocks), "double ten"],
        [
            [
                h["hour"] + ":00",
                num(h["incidents"], 0),
                *(_pct(h[m.name]) for m in clocks),
                _pct(h["double_ten"]),
            ]
            for h in s["by_hour"]
        ],
    )
    parts = [head, overall, util_line, "By street office", areas, "By hour of day", hours]
    if "evaluation" in s:
        parts.append(evaluation_text(s["evaluation"], s["replications"]))
    if "note" not in s["enforcement"]:  # a note says why there is no enforcement chain
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
    deadlines = registry.deadlines(rules)
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


def measure_text(
    m: Measure, value: float | None, half: float | None = None, *, replications: int
) -> str:
    """A measure's value as the summary prints it: a share as a percentage, a number with
    the measure's decimals (a count of one replication as a whole number,
    :meth:`~sim.analysis.measures.Measure.digits_for`), each with its 95% CI half-width
    when there is one."""
    if m.unit == "share":
        return _ci(value, half)
    digits = m.digits_for(replications)
    text = num(value, digits)
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
            role = m.role
            if role is None:
                items.append(measure_text(m, value, ci.get(m.name), replications=reps).strip())
            elif _in_run(s, role):  # one value per role, in one line
                items.append(f"{role} {measure_text(m, value, replications=reps).strip()}")
        if items:
            lines.append(f"{group[0].words}: " + ", ".join(items))
    load = s.get("overload", {})
    for r in (r for r in s["utilization"] if r in load and _in_run(s, r)):
        note = load_note(r, load[r])
        if note:
            lines.append(("warning: " if load[r]["status"] == "unstable" else "note: ") + note)
    return "\n".join(lines)


# ------------------------------------------------------------ enforcement


def _police_rows(p: dict[str, Any] | None, whole: int) -> list[list[str]]:
    """Rows for the police units, when the scenario posts police."""
    if p is None or "note" in p:
        return []
    within = p["on_scene_within_target"]
    return [
        ["  police calls answered", f"{_n(p['answered'], whole)} of {_n(p['calls'], whole)}", ""],
        ["  mean wait for police (min)", _n(p["wait_min"], 1), ""],
        ["  police on scene in time", f"{_n(None if within is None else 100 * within, 1)}%", ""],
    ]


def _n(x: float | None, digits: int = 0) -> str:
    return num(x, digits)


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


def enforcement_text(e: dict[str, Any], days: float, replications: int) -> str:
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
    if "offenders_from" in e:  # a replayed log: whom its cases are against, in one line
        per += f"\n{e['offenders_from']}"
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
    if "note" not in e["campaign"]:  # a note says why there is none
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


# ------------------------------------------------------------ evaluation


def _difficulty_cells(d: Mapping[str, Any]) -> list[str]:
    m_per = d["street_m_per_staff"]
    return [
        f"{d['street_km']:.0f}",
        f"{d['hotspot_incidents_per_day']:.0f}",
        f"{m_per:,.0f}" if m_per is not None else "–",
    ]


DIFFICULTY = ["street km", "hotspot/day", "street m/staff"]


def evaluation_text(block: Mapping[str, Any], replications: int) -> str:
    """The ranking ``python -m sim run`` prints, each column over one stated thing.

    One replication: the last month's ranking, scores, flag, fund and escalation, beside
    the months each office got a flag over the run. Several: only what is pooled over
    replications × months (mean rank, chance of each flag, mean scores and fund), sorted by
    mean rank, so that no one run's rank stands beside a pooled chance.
    """
    if not block.get("months"):
        return f"Monthly evaluation: {block.get('note', 'none')}"
    m = block["months"]
    part = (
        f"; the last {block['days_not_evaluated']:g} day"
        f"{' is' if block['days_not_evaluated'] == 1 else 's are'} not a whole month"
        if block["days_not_evaluated"]
        else ""
    )
    head = f"Monthly evaluation: {m} month{'s' if m != 1 else ''} of {block['month_days']:g} days{part}"
    table = _pooled_table(block, replications) if replications > 1 else _last_month_table(block)
    return f"{head}\n{table}"


def _last_month_table(block: Mapping[str, Any]) -> str:
    """One run: the last month's ranking, and the flags over all its months."""
    m = block["months"]
    per = {o["office"]: o for o in block["offices"]}
    escalate = any(r["escalation"] for r in block["last_month"])
    rows = []
    for r in block["last_month"]:
        o = per[r["office"]]
        rows.append(
            [
                r["rank"],
                place_label(r["office"], r["name_zh"]),
                f"{r['total']:.1f}",
                f"{r['third_party']:.1f}",
                f"{r['digital']:.1f}",
                {"red": "RED", "black": "BLACK"}.get(r["flag"], ""),
                f"{r['fund_yuan']:+,.0f}" if r["fund_yuan"] else "",
                *([r["escalation"]] if escalate else []),
                _months(o["p_red_flag"] * m),
                _months(o["p_black_flag"] * m),
                *_difficulty_cells(o["difficulty"]),
            ]
        )
    headers = [
        "rank", "street office", "total", "3rd party", "digital", "flag", "fund ¥",
        *(["escalation"] if escalate else []), "red", "black", *DIFFICULTY,
    ]  # fmt: skip
    table = format_table(headers, rows, align="rlrrrll" + ("l" if escalate else "") + "rrrrr")
    return (
        f"rank to fund{' and escalation' if escalate else ''}: month {m}, the last; "
        f"red, black: months with that flag, of the {m}; street km to street m/staff: the "
        f"office's streets and staff\n{table}"
    )


def _months(x: float) -> str:
    return str(round(x)) if round(x) else ""


def _pooled_table(block: Mapping[str, Any], replications: int) -> str:
    """Several replications: every column pooled over replications × months."""
    m = block["months"]
    offices = sorted(block["offices"], key=lambda o: (o["mean_rank"], o["office"]))
    rows = [
        [
            f"{o['mean_rank']:.1f}",
            place_label(o["office"], o["name_zh"]),
            f"{o['score']:.1f}",
            f"{o['third_party']:.1f}",
            f"{o['digital']:.1f}",
            f"{100 * o['p_red_flag']:.0f}%",
            f"{100 * o['p_black_flag']:.0f}%",
            f"{o['fund_yuan_per_month']:+,.0f}" if o["fund_yuan_per_month"] else "",
            *_difficulty_cells(o["difficulty"]),
        ]
        for o in offices
    ]
    headers = [
        "mean rank", "street office", "total", "3rd party", "digital", "P(red)", "P(black)",
        "fund ¥/month", *DIFFICULTY,
    ]  # fmt: skip
    table = format_table(headers, rows, align="rlrrrrrrrrr")
    return (
        f"mean rank to fund: over {replications} replications × {m} months (scores are "
        f"means, P(...) the share of the office's months with that flag); street km to street "
        f"m/staff: the office's streets and staff\n{table}"
    )
