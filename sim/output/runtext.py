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
        parts.append(enforcement_text(s["enforcement"], s["days"]))
    return "\n\n".join(parts)


def clocks_table(s: dict[str, Any], rules: dict[str, Any], ci: dict[str, float]) -> str:
    """The registry's clocks: each on-time share, then the measures of its ``cells``."""
    clocks = registry.summarized("clocks")
    width = max((len(m.summary.cells) for m in clocks if m.summary), default=0)
    deadlines = registry.deadlines(rules)
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


def measure_text(m: Measure, value: float | None, half: float | None = None) -> str:
    """A measure's value as the summary prints it: a share as a percentage, a number with
    the measure's decimals, each with its 95% CI half-width when there is one."""
    if m.unit == "share":
        return _ci(value, half)
    text = num(value, m.digits)
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
            if m.role is None:
                items.append(measure_text(m, value, ci.get(m.name)).strip())
            elif _in_run(s, m.role):  # one value per role, in one line
                items.append(f"{m.role} {measure_text(m, value).strip()}")
        if items:
            lines.append(f"{group[0].words}: " + ", ".join(items))
    load = s.get("overload", {})
    for r in (r for r in s["utilization"] if r in load and _in_run(s, r)):
        note = load_note(r, load[r])
        if note:
            lines.append(("warning: " if load[r]["status"] == "unstable" else "note: ") + note)
    return "\n".join(lines)


# ------------------------------------------------------------ enforcement


def _police_rows(p: dict[str, Any] | None) -> list[list[str]]:
    """Rows for the police units, when the scenario posts police."""
    if p is None or "note" in p:
        return []
    within = p["on_scene_within_target"]
    return [
        ["  police calls answered", f"{num(p['answered'], 1)} of {num(p['calls'], 1)}", ""],
        ["  mean wait for police (min)", num(p["wait_min"], 1), ""],
        ["  police on scene in time", f"{num(None if within is None else 100 * within, 1)}%", ""],
    ]


def _total_row(m: Measure, e: dict[str, Any], ci: dict[str, float], days: float) -> list[str]:
    """A registry measure of the enforcement block: in the run, and a year at its rate."""
    name = m.name.removeprefix("enforcement.")
    value = lookup(e, name)
    yearly = m.unit in ("count", "yuan", "hours") and value is not None
    return [
        m.words,
        measure_text(m, value, ci.get(name)),
        num(value * 365 / days, 0) if yearly else "",
    ]


def enforcement_text(e: dict[str, Any], days: float) -> str:
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
        f"decisions per case {num(r['decisions_per_case'], 3)}, "
        f"yuan per decision {num(r['yuan_per_decision'], 0)}, "
        f"cases sent to court {num(sent, 2)}%, referrals ruled {num(ruled, 1)}%\n"
        f"incidents by known offenders {num(100 * (e['repeat_share'] or 0), 1)}%; "
        f"offenders on the street {num(act['start'], 0)} at the start, {num(act['end'], 0)} at the end"
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
                num(o["cases"], 0),
                num(o["decisions"], 0),
                num(o["fines_yuan"], 0),
                num(o["court_referrals"], 1),
                num(o["offenders_active"]["start"], 0),
                num(o["offenders_active"]["end"], 0),
            ]
            for o in e["by_office"]
        ],
        align="lrrrrrr",
    )
    parts = ["Enforcement chain (cases counted by the day they were filed)", totals, per, offices]
    if "note" not in e["campaign"]:
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
        f"of the first week ({num(c['first_week'], 0)}) after {reached}; "
        f"last week {num(c['last_week'], 0)}.\n"
        f"It took {num(c['cases'], 0)} cases, {num(c['fines_yuan'], 0)} yuan of fines and "
        f"{num(c['enforcer_hours'], 0)} enforcer-hours ({num(c['joint_person_hours'], 0)} of joint "
        f"enforcement on site, {num(c['enforcer_team_hours'], 0)} of teams on its incidents)."
    )


# ------------------------------------------------------------ evaluation


def evaluation_text(block: Mapping[str, Any], replications: int) -> str:
    """The ranking ``python -m sim run`` prints: last month (replication 0) with its flags."""
    if not block.get("months"):
        return f"Monthly evaluation: {block.get('note', 'none')}"
    per = {o["office"]: o for o in block["offices"]}
    many = replications > 1
    rows = []
    for r in block["last_month"]:
        o = per[r["office"]]
        d = o["difficulty"]
        mark = {"red": "RED", "black": "BLACK"}.get(r["flag"], "")
        rows.append(
            [
                r["rank"],
                place_label(r["office"], r["name_zh"]),
                f"{r['total']:.1f}",
                f"{r['third_party']:.1f}",
                f"{r['digital']:.1f}",
                mark,
                f"{r['fund_yuan']:+,.0f}" if r["fund_yuan"] else "",
                r["escalation"],
                *([f"{100 * o['p_black_flag']:.0f}%", f"{o['mean_rank']:.1f}"] if many else []),
                f"{d['street_km']:.0f}",
                f"{d['hotspot_incidents_per_day']:.0f}",
                f"{d['street_m_per_staff']:,.0f}" if d["street_m_per_staff"] is not None else "–",
            ]
        )
    headers = [
        "rank", "street office", "total", "3rd party", "digital", "flag", "fund ¥", "escalation",
        *(["P(black)", "mean rank"] if many else []), "street km", "hotspot/day", "street m/staff",
    ]  # fmt: skip
    table = format_table(headers, rows, align="rlrrrllr" + ("rr" if many else "") + "rrr")
    m = block["months"]
    head = (
        f"Monthly evaluation: month {m} of {m} ({block['month_days']:g} days each"
        + (
            f"; the last {block['days_not_evaluated']:g} days are not a whole month"
            if block["days_not_evaluated"]
            else ""
        )
        + "), replication 0"
        + (f"; P(black) and mean rank over {replications} replications × {m} months" if many else "")
    )  # fmt: skip
    return f"{head}\n{table}"
