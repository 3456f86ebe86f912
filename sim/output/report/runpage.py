"""The report of one run: headline, maps, hours, offices, enforcement, evaluation, replay.

Every number shown is read from ``summary.json`` (the folder's :class:`RunFolder`) and
carries its raw value and measure name in ``data-value`` / ``data-measure`` attributes,
so a test can hold the page to the file. Measures are labelled and formatted through
the registry (:mod:`sim.analysis.measures`), as the printed summary is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import yaml

import sim.output.report.figures as figures
from sim.analysis import measures as registry
from sim.analysis.measures import lookup
from sim.analysis.replay import ROLES, Replay, ReplayOptions, build_replay
from sim.output.report.inputs import EVALUATION, RunFolder
from sim.output.report.page import Page, esc
from sim.output.report.replaydata import COLORS, replay_block
from sim.output.runtext import campaign_text, load_text, measure_text
from sim.output.text import pct, place_label
from sim.roles import BY_NAME
from sim.scenario import Rules
from sim.viz import scales
from sim.viz.scales import compliance_scale

FUNNEL = (
    ("escalations", "escalations (team on scene)"),
    ("cases", "cases filed 立案"),
    ("decisions", "penalty decisions 处罚决定书"),
    ("court_referrals", "sent to court 移交法院"),
    ("rulings", "court rulings 行政裁定书"),
)


@dataclass(frozen=True)
class Shown:
    """Measures as the page shows them: the printed summary's format for a run of this
    many replications (a count of one replication is a whole number), each number tagged
    with its measure and its raw value from the summary (``data-measure``, ``data-value``)."""

    replications: int

    def text(self, m: registry.Measure, value: Any, half: float | None = None) -> str:
        return measure_text(m, value, half, replications=self.replications).strip()

    def span(self, m: registry.Measure, value: Any, half: float | None = None) -> str:
        return f"<span {_tag(m, value)}>{esc(self.text(m, value, half))}</span>"

    def cell(self, m: registry.Measure, value: Any) -> str:
        return f"<td {_tag(m, value)}>{esc(self.text(m, value))}</td>"


def _tag(m: registry.Measure, value: Any) -> str:
    raw = "" if value is None else repr(value)
    return f'data-measure="{esc(m.name)}" data-value="{esc(raw)}"'


def shown(s: Mapping[str, Any]) -> Shown:
    return Shown(int(s["replications"]))


def run_page(run: RunFolder, day: int | None = None) -> Page:
    """The whole report of a run folder (``day``: the day to replay; default the worst)."""
    s = run.summary
    head = (
        f"{s['days']:g} day{'' if s['days'] == 1 else 's'} after {s['warmup_hours']:g} h warm-up, "
        f"seed {s['seed']}, {s['replications']} replication(s), dispatch '{s['policy']}'"
    )
    page = Page(f"{s['scenario']}: double-ten report", head, scripts=["player.js"])
    page.add("headline", "Headline", headline(s))
    page.add("map", "Where: street offices and grids", maps(page, run))
    page.add("hours", "When: by hour of day", hours(page, s))
    page.add("offices", "By street office", office_table(s))
    if "note" not in s["enforcement"]:  # a note says why there is no enforcement chain
        page.add("enforcement", "Cases, fines and the court", enforcement(page, s))
    if s.get("evaluation", {}).get("months"):
        page.add("evaluation", "Monthly evaluation and the black flag", evaluation(page, run))
    page.add("replay", "Replay of a day", replay(page, run, day))
    page.add("scenario", "The scenario as run", scenario(s))
    page.footer = footer(run)
    return page


# ----------------------------------------------------------------------------- headline


def headline(s: Mapping[str, Any]) -> str:
    rules = s["scenario_resolved"]["rules"]
    show = shown(s)
    ci = s.get("ci95", {})
    deadlines = registry.deadlines(rules)
    cards = []
    for m in registry.summarized("clocks"):
        value = lookup(s, m.name)
        below = value is not None and value < rules["target"]
        cells = m.summary.cells if m.summary else ()
        detail = ", ".join(
            f"{word} {show.span(registry.RUN[c], lookup(s, c))}"
            for word, c in zip(("mean min", "p90 min", "n ="), cells, strict=False)
        )
        cards.append(
            f'<div class="card {"below" if below else "met"}">'
            f'<div class="label">{esc(m.words.format(**deadlines))}</div>'
            f'<div class="value">{show.span(m, value, ci.get(m.name))}</div>'
            f'<div class="detail">{detail}</div></div>'
        )
    cards.append(staff_card(s))
    ci_note = (
        f"± are 95% confidence half-widths over {s['replications']} replications."
        if s["replications"] > 1
        else "One replication: run with --replications R for confidence intervals."
    )
    lines = [ln for ln in load_text(dict(s)).splitlines() if ln]
    notes = [ln for ln in lines if ln.startswith(("note:", "warning:"))]
    said = [ln for ln in lines if ln not in notes]
    warnings = [*s.get("warnings", []), *notes]
    evaluation_note = s.get("evaluation", {}).get("note")
    if evaluation_note:
        warnings.append(evaluation_note)
    return (
        f'<div class="cards">{"".join(cards)}</div>'
        f'<p class="note">Target: {100 * rules["target"]:g}% of instructions on each clock. {ci_note}</p>'
        + ("<ul class='lines'>" + "".join(f"<li>{esc(x)}</li>" for x in said) + "</ul>")
        + (
            "<h3>Warnings and load</h3><ul class='warnings'>"
            + "".join(f"<li>{esc(w)}</li>" for w in warnings)
            + "</ul>"
            if warnings
            else "<p class='note'>No warnings: every role stayed within its capacity.</p>"
        )
    )


def staff_card(s: Mapping[str, Any]) -> str:
    staff = s["headcount"]
    show = shown(s)
    roles = ", ".join(
        f"{show.span(m, staff[m.role])} {esc(m.words)} {esc(BY_NAME[m.role].name_zh)}"
        for m in registry.summarized("staff")
        if m.role is not None and m.role in staff
    )
    total = registry.RUN["headcount.total"]
    density = registry.RUN["headcount.per_km2"]
    area = registry.RUN["area_km2"]
    return (
        '<div class="card"><div class="label">staff</div>'
        f'<div class="value">{show.span(total, staff["total"])}</div>'
        f'<div class="detail">{show.span(density, staff["per_km2"])} per km² over '
        f"{show.span(area, s['area_km2'])} km²: {roles}</div></div>"
    )


# ----------------------------------------------------------------------------- maps


def _office_hover(row: Mapping[str, Any], extra: Mapping[str, Any], show: Shown) -> str:
    lines = [f"<b>{esc(place_label(row['office'], row.get('name_zh', '')))}</b>"]
    for m in registry.summarized("offices"):
        lines.append(f"{esc(m.label)}: {esc(show.text(m, row.get(m.name)))}")
    staff = row.get("staff", {})
    if staff:
        lines.append("staff: " + ", ".join(f"{v} {BY_NAME[r].plural}" for r, v in staff.items()))
    if extra:
        lines.append(
            f"evaluation: score {extra['score']:.1f}, mean rank {extra['mean_rank']:.1f}, "
            f"black flag {pct(extra['p_black_flag'], digits=0)} of months"
        )
    return "<br>".join(lines)


def _grid_hover(row: Mapping[str, Any], show: Shown) -> str:
    lines = [f"<b>grid {esc(row['grid'])}</b>"]
    for m in registry.summarized("offices"):
        lines.append(f"{esc(m.label)}: {esc(show.text(m, row.get(m.name)))}")
    return "<br>".join(lines)


def maps(page: Page, run: RunFolder) -> str:
    s, geo = run.summary, run.geometry
    target = s["scenario_resolved"]["rules"]["target"]
    by_area = {r["office"]: r for r in s["by_area"]}
    by_grid = {r["grid"]: r for r in s["by_grid"]}
    evaluated = {o["office"]: o for o in s.get("evaluation", {}).get("offices", [])}
    offices = [by_area.get(n, {"office": n}) for n in geo.offices.column("office")]
    grids = [by_grid.get(n, {"grid": n}) for n in geo.grids.column("grid")]
    scale = compliance_scale([r.get("double_ten") for r in [*offices, *grids]], target)
    hot = [
        dict(zip(geo.hotspots, vals, strict=True))
        for vals in zip(*geo.hotspots.values(), strict=True)
    ]
    office_fig = figures.area_map(
        figures.AreaLayer(
            geo.offices.shapes,
            [place_label(r["office"], r.get("name_zh", "")) for r in offices],
            [r.get("double_ten") for r in offices],
            [_office_hover(r, evaluated.get(r["office"], {}), shown(s)) for r in offices],
        ),
        scale,
        title=f"Street offices: double ten (target {100 * target:g}%)",
        hotspots=hot,
    )
    grid_fig = figures.area_map(
        figures.AreaLayer(
            geo.grids.shapes,
            [r["grid"] for r in grids],
            [r.get("double_ten") for r in grids],
            [_grid_hover(r, shown(s)) for r in grids],
        ),
        scale,
        title="Grids: double ten",
        outlines=geo.offices.shapes,
    )
    below = sum(1 for r in grids if r.get("double_ten") is not None and r["double_ten"] < target)
    return (
        '<div class="row">'
        + page.figure("map-offices", office_fig, "figure map")
        + page.figure("map-grids", grid_fig, "figure map")
        + "</div>"
        f"<p class='note'>Colour: the share of instructions meeting both clocks, red below "
        f"the target and green above, on a scale from {100 * scale.low:g}% to 100% that "
        f"does not stretch small differences: {below} of {len(grids)} grids are below the "
        "target. Hover over an area for its figures; drag to pan, scroll to zoom. "
        "Hotspots are dotted circles.</p>"
    )


# ----------------------------------------------------------------------------- hours


def hours(page: Page, s: Mapping[str, Any]) -> str:
    target = s["scenario_resolved"]["rules"]["target"]
    rules = s["scenario_resolved"]["rules"]
    deadlines = registry.deadlines(rules)
    words = {m.name: m.words.format(**deadlines) for m in registry.summarized("clocks")}
    fig = figures.by_hour(s["by_hour"], target, words)
    return page.figure("by-hour", fig) + (
        "<p class='note'>Lines: on-time shares by the hour the instruction was issued "
        "(hover for the sample each share rests on: instructions for the advisor clock and "
        "the double ten, escalations for the enforcer clock). Bars: the counts.</p>"
    )


# ----------------------------------------------------------------------------- offices


def office_table(s: Mapping[str, Any]) -> str:
    target = s["scenario_resolved"]["rules"]["target"]
    show = shown(s)
    columns = registry.summarized("offices")
    evaluated = {o["office"]: o for o in s.get("evaluation", {}).get("offices", [])}
    enf = {o["office"]: o for o in s["enforcement"].get("by_office") or []}
    extra: list[tuple[str, registry.Measure, str]] = []
    if evaluated:
        extra += [
            ("mean_rank", registry.OFFICE["evaluation_rank"], "mean rank"),
            ("p_black_flag", registry.OFFICE["black_flag"], "black flag"),
        ]
    heads = ["street office", "km²", "staff", *(m.header for m in columns)]
    heads += [h for _, _, h in extra] + (["cases", "fines (yuan)"] if enf else [])
    rows = []
    for r in s["by_area"]:
        staff = sum(r.get("staff", {}).values())
        below = r["double_ten"] is not None and r["double_ten"] < target
        cells = [
            f"<td data-value='{esc(r['office'])}'>{esc(place_label(r['office'], r.get('name_zh', '')))}</td>",
            f"<td data-value='{r['area_km2']}'>{r['area_km2']:.2f}</td>",
            f"<td data-value='{staff}'>{staff:,}</td>",
            *(show.cell(m, r.get(m.name)) for m in columns),
        ]
        e = evaluated.get(r["office"], {})
        cells += [show.cell(m, e.get(key)) for key, m, _ in extra]
        if enf:
            o = enf.get(r["office"], {})
            cells += [show.cell(registry.RUN["enforcement.cases"], o.get("cases"))]
            cells += [show.cell(registry.RUN["enforcement.fines_yuan"], o.get("fines_yuan"))]
        rows.append(
            f"<tr class='{'below' if below else ''}' data-office='{esc(r['office'])}'>{''.join(cells)}</tr>"
        )
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    return (
        "<p class='note'>Click a column to sort. Rows in red are below the target.</p>"
        f"<div class='scroll'><table class='data sortable' id='office-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


# ----------------------------------------------------------------------------- enforcement


def enforcement(page: Page, s: Mapping[str, Any]) -> str:
    e = s["enforcement"]
    ci = e.get("ci95", {})
    show = shown(s)
    steps = [(label, float(e[key] or 0)) for key, label in FUNNEL]
    rows = "".join(
        f"<tr><td>{esc(m.words)}</td><td>"
        f"{show.span(m, lookup(s, m.name), ci.get(m.name.removeprefix('enforcement.')))}</td></tr>"
        for m in registry.summarized("enforcement")
    )
    names = [h["name"] for h in s["scenario_resolved"]["demand"]["hotspots"]]
    camp = s["scenario_resolved"]["enforcement"]["campaign"]
    weeks = max((len(x) for x in e.get("weekly_by_hotspot", [])), default=0)
    window, past = None, ""
    if camp["enabled"]:
        band = scales.clip_band(camp["start_day"], camp["start_day"] + camp["days"], s["days"])
        if not band.starts_late:  # weeks of the run, 1 = days 0-7: the band in week units
            window = (band.start / 7 + 0.5, band.end / 7 + 0.5)
        if band.goes_on:
            past = " The campaign (shaded) goes on past the end of the run."
    parts = [
        "<div class='row'>",
        page.figure("funnel", figures.funnel(steps), "figure small"),
        "<div style='flex:1 1 300px'><table class='data'><thead><tr><th>measure</th>"
        f"<th>in the run</th></tr></thead><tbody>{rows}</tbody></table></div></div>",
    ]
    if scales.time_bins(s["days"]).unit == "week" and weeks >= 2:
        parts += [
            "<h3>Weekly incidents at each hotspot</h3>",
            page.figure("weekly", figures.weekly(names, e["weekly_by_hotspot"], window)),
            f"<p class='note'>Incidents per week of the run at each hotspot.{past}</p>",
        ]
    elif names:
        parts.append(
            f"<p class='note'>A weekly curve at each hotspot needs a run of at least "
            f"{scales.MIN_WEEKS} whole weeks.</p>"
        )
    if "note" not in e["campaign"]:  # a note says why there is none
        parts.append(f"<p>{esc(campaign_text(e['campaign'], ci, s['replications']))}</p>")
    return "".join(parts)


# ----------------------------------------------------------------------------- evaluation


def evaluation(page: Page, run: RunFolder) -> str:
    ev = run.summary["evaluation"]
    offices = sorted(ev["offices"], key=lambda o: -o["p_black_flag"])
    names = [place_label(o["office"], o.get("name_zh", "")) for o in offices]
    parts = [
        f"<p>{ev['months']} evaluated month(s) of {ev['month_days']:g} days; the offices' scores "
        f"lie within {ev['score_spread']:.1f} points. The chance of the black flag is the share "
        "of evaluated months (over replications) an office came last.</p>",
        "<div class='row'>",
        page.figure(
            "black-flag",
            figures.black_flag(
                names,
                [o["p_black_flag"] for o in offices],
                [o["mean_rank"] for o in offices],
                [
                    _flag_text(o["p_black_flag"], run.summary["replications"], ev["months"])
                    for o in offices
                ],
                scales.flag_legend(run.summary["replications"], ev["months"]),
            ),
        ),
    ]
    ranks = _monthly_ranks(run)
    if ranks and len(ranks[0]) >= 2:
        months, by_office = ranks
        parts.append(page.figure("ranking", figures.ranking(months, by_office, len(ev["offices"]))))
    parts.append("</div>")
    return "".join(parts)


def _flag_text(p: float, replications: int, months: int) -> str:
    """A black-flag chance as a count of months (one replication) or a share (several)."""
    return scales.flag_text(round(p * replications * months), replications, months)


def _monthly_ranks(run: RunFolder) -> tuple[list[int], dict[str, list[float]]] | None:
    """Each office's rank by month, first replication, from ``evaluation.csv``."""
    path = run.path / EVALUATION
    if not path.is_file():
        return None
    frame = pd.read_csv(path, usecols=["replication", "month", "office", "name_zh", "rank"])
    frame = frame[frame["replication"] == frame["replication"].min()]
    months = sorted(int(m) for m in frame["month"].unique())
    out: dict[str, list[float]] = {}
    for (office, zh), part in frame.groupby(["office", "name_zh"], sort=True):
        ordered = part.sort_values("month")
        out[place_label(str(office), str(zh))] = [float(x) for x in ordered["rank"]]
    return months, out


# ----------------------------------------------------------------------------- replay


def replay_of(run: RunFolder, day: int | None) -> Replay:
    """The replay of ``day`` (default: the worst measured day) from a run folder."""
    s, geo = run.summary, run.geometry
    sc = s["scenario_resolved"]
    travel = sc["travel"]
    speeds = {
        r: travel["speed_kmh"][travel["mode"][r]] * 1000 / 60 for r in ROLES if r in travel["mode"]
    }
    posts = _posts(geo.posts, geo.streets.index())
    options = ReplayOptions(speeds, s["warmup_hours"] * 60, s["days"], day)
    return build_replay(run.incidents(), Rules(**sc["rules"]), geo.streets, posts, options)


def replay(page: Page, run: RunFolder, day: int | None) -> str:
    sc = run.summary["scenario_resolved"]
    geo = run.geometry
    rep = replay_of(run, day)
    page.data["replay-data"] = replay_block(rep, sc["rules"], geo.offices.shapes, geo.hotspots)
    worst = day is None
    said = (
        f"day {rep.day} of {rep.days}, the measured day with the lowest double ten"
        if worst
        else f"day {rep.day} of {rep.days}"
    )
    legend = "".join(
        f"<div class='legend-item'><span class='swatch' style='background:{COLORS[k]}'>"
        f"</span>{esc(text)}</div>"
        for k, text in (
            ("unreported", "problem not yet reported (ring)"),
            ("waiting", "instructed, waiting for an advisor"),
            ("late", "late: past a clock's deadline"),
            ("advisor", f"{_role_words(ROLES[0])} on scene"),
            ("escalated", "escalated, enforcers on the way"),
            ("team", f"{_role_words(ROLES[1])} on scene"),
            ("closed", "closed (ring, for 30 minutes)"),
        )
    ) + "".join(
        f"<div class='legend-item'><span class='swatch' style='background:{BY_NAME[r].colour}'>"
        f"</span>{esc(_role_words(r))} riding ({_SHAPES[BY_NAME[r].marker]})</div>"
        for r in rep.trips
    )
    share = pct(rep.double_ten)
    return (
        f"<p>Replaying {esc(said)} (replication 1): double ten {share} over "
        f"{rep.incidents_measured:,} instructions. {_rides(rep)} Rebuild with another day: "
        f"<code>python -m sim report RESULTS_DIR --day D</code>.</p>{_thinned_note(rep)}"
        "<div class='controls'><button id='replay-play' type='button'>Play</button>"
        "<label>speed <select id='replay-speed'><option value='1'>1 min/s</option>"
        "<option value='5'>5 min/s</option><option value='15' selected>15 min/s</option>"
        "<option value='60'>60 min/s</option></select></label>"
        "<span id='replay-clock'></span>"
        "<input id='replay-time' type='range' min='0' max='1440' step='1' value='0' "
        "aria-label='time of day'></div>"
        "<div class='replay'><canvas id='replay-canvas'></canvas><div class='side'>"
        f"<table class='counts' id='replay-counts'></table><h3>Legend</h3>{legend}"
        + page.figure(
            "daily", figures.daily(rep.daily, rep.day, sc["rules"]["target"]), "figure small"
        )
        + "</div></div>"
    )


_SHAPES = {"^": "triangle", "s": "square", "D": "diamond", "o": "circle"}


def _role_words(role: str) -> str:
    return f"{BY_NAME[role].singular} {BY_NAME[role].name_zh}"


def _rides(rep: Replay) -> str:
    """How the units ride: along the streets, or in straight lines where routing a city's
    rides would cost too much (:data:`~sim.analysis.replay.ROUTE_BUDGET`)."""
    if rep.routed:
        return (
            "Units ride along the streets (shortest path from their post at their role's "
            "speed) and back."
        )
    return (
        "Units ride in straight lines from their post to the scene and back, each ride as "
        "long as it took in the run (routing this map's rides along its streets would cost "
        "too much)."
    )


def _thinned_note(rep: Replay) -> str:
    """Say so when the map shows a sample of the day's incidents (:data:`MAX_SHOWN`)."""
    shown = len(rep.incidents["occurred"])
    if shown >= rep.incidents_active:
        return ""
    return (
        f"<p class='note' id='replay-thinned'>This day has {rep.incidents_active:,} incidents "
        f"on the map at some time (those occurring during it and any still open from before); "
        "the replay shows "
        f"an evenly spaced sample of {shown:,} of them (about one in "
        f"{rep.incidents_active / shown:.0f}, in the order they occurred) and the rides of "
        "their units, so the page stays small. The running counts are of the sample; the "
        "day's double ten above and the daily chart are of every incident.</p>"
    )


def _posts(posts: Mapping[str, Sequence[Any]], index: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Each role's post nodes in unit order (numbered as the streets)."""
    out: dict[str, np.ndarray] = {}
    roles = posts.get("role", [])
    for role in ROLES:
        pairs = sorted(
            (int(u), index.get(str(n), -1))
            for r, u, n in zip(roles, posts["unit"], posts["node"], strict=True)
            if r == role
        )
        out[role] = np.array([p[1] for p in pairs], dtype=np.int64)
    return out


# ----------------------------------------------------------------------------- scenario


def scenario(s: Mapping[str, Any]) -> str:
    text = yaml.safe_dump(s["scenario_resolved"], allow_unicode=True, sort_keys=False, width=100)
    return (
        "<details><summary>The resolved scenario (every default filled in)</summary>"
        f"<pre class='yaml'>{esc(text)}</pre></details>"
    )


def footer(run: RunFolder) -> str:
    sources = run.manifest.get("sources", {})
    src = "; ".join(f"{esc(k)}: {esc(v)}" for k, v in sources.items())
    return (
        f"<p>Written by chengguan-sim from {esc(run.name)}/ ({esc(', '.join(run.files))})."
        + (f" Sources: {src}." if src else "")
        + " Charts: plotly.js (MIT), inlined. Chinese glyphs: Noto Sans CJK SC (SIL OFL 1.1),"
        " embedded subset. Works offline: this file loads nothing from the network.</p>"
    )
