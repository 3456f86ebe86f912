"""The report of a sweep's or an optimiser's folder, from the tables it wrote.

A sweep: every variant side by side (the printed table's measures, with their 95%
intervals), each plotted measure against the first varied key with interval bands, and
double ten by street office and by hour for every variant. An optimiser: the plan
against the uniform plan office by office; a shift plan: hour by hour against the
scenario's own shifts. The numbers are the folder's own files' (``summary.csv``,
``runs_by_office.csv``, ``plan.json``, ``shifts.json``); nothing is recomputed but the
means over replications that the per-office and per-hour pictures show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import sim.output.report.figures as figures
from sim.analysis import measures as registry
from sim.errors import ResultsError
from sim.output.report.page import Page, esc
from sim.output.runtext import measure_text
from sim.viz.scales import compliance_scale

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")


def batch_report(folder: Path, kind: str) -> str:
    """The HTML report of a sweep (``kind`` "sweep") or optimiser ("optimize") folder."""
    if kind == "sweep":
        return sweep_page(folder).render()
    if (folder / "plan.json").is_file():
        return plan_page(folder).render()
    if (folder / "shifts.json").is_file():
        return shift_page(folder).render()
    raise ResultsError([f"{folder}: no finished plan (plan.json or shifts.json) to report yet"])


def _json(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError([f"{path}: cannot be read ({exc})"]) from None
    return data


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[k : k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


# ----------------------------------------------------------------------------- sweeps


def sweep_page(folder: Path) -> Page:
    meta = _json(folder / "sweep.json")
    summary = pd.read_csv(folder / "summary.csv")
    keys = list(meta.get("vary", {}))
    page = Page(
        f"{meta['scenario']}: sweep of {', '.join(keys) or 'one variant'}",
        f"{meta['days']:g} day(s) after {meta['warmup_hours']:g} h warm-up, "
        f"{meta['replications']} replication(s) per variant, seed {meta['seed']}; "
        "± and bands: 95% confidence intervals over replications",
    )
    page.add(
        "variants", "Variants side by side", _variant_table(summary, keys, meta["replications"])
    )
    page.add("bands", "Measures with their intervals", _bands(page, summary, keys))
    by_office = folder / "runs_by_office.csv"
    if by_office.is_file():
        target = meta["base_scenario"]["rules"]["target"]
        heat = _office_heat(page, by_office, keys, target)
        page.add("offices", "Double ten by street office", heat)
    by_hour = folder / "runs_by_hour.csv"
    if by_hour.is_file():
        page.add("hours", "Double ten by hour", _hour_lines(page, by_hour, keys))
    if meta.get("warnings"):
        page.add("warnings", "Warnings", "<ul class='warnings'>" + "".join(
            f"<li>{esc(w)}</li>" for w in meta["warnings"]) + "</ul>")  # fmt: skip
    page.footer = (
        f"<p>Written by chengguan-sim from {esc(folder)}/ (summary.csv, runs*.csv, sweep.json).</p>"
    )
    return page


def _label(row: Any, keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={row[k]}" for k in keys) or "base"


def _variant_table(summary: Any, keys: Sequence[str], replications: int) -> str:
    shown = registry.tabled()
    heads = [*keys, *(m.header for m in shown)]
    rows = []
    for _, row in summary.iterrows():
        cells = [f"<td data-value='{esc(row[k])}'>{esc(row[k])}</td>" for k in keys]
        for m in shown:
            value = row.get(m.name)
            value = None if value is None or value != value else float(value)
            half = row.get(f"{m.name}.ci95")
            half = None if half is None or half != half else float(half)
            cells.append(
                f"<td data-measure='{esc(m.name)}' data-value='{'' if value is None else value!r}'>"
                f"{esc(measure_text(m, value, half, replications=replications).strip())}</td>"
            )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    return (
        "<p class='note'>Click a column to sort.</p><div class='scroll'>"
        f"<table class='data sortable' id='variant-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _bands(page: Page, summary: Any, keys: Sequence[str]) -> str:
    """Each plotted measure against the first varied key, one line per other combination."""
    x_key = keys[0] if keys else None
    groups = summary.groupby(list(keys[1:]), sort=False) if len(keys) > 1 else [((), summary)]
    parts = ["<div class='row'>"]
    for m in registry.plotted():
        if m.name not in summary.columns:
            continue
        scale = 100.0 if m.unit == "share" else 1.0
        data: list[dict[str, Any]] = []
        for k, (gkey, part) in enumerate(groups):
            color = _PALETTE[k % len(_PALETTE)]
            x = [str(v) for v in part[x_key]] if x_key else ["base"]
            mean = [float(v) * scale for v in part[m.name]]
            half = [
                float(v) * scale if v == v else 0.0
                for v in part.get(f"{m.name}.ci95", [0.0] * len(part))
            ]
            name = (
                ", ".join(
                    f"{a}={b}"
                    for a, b in zip(
                        keys[1:], gkey if isinstance(gkey, tuple) else (gkey,), strict=False
                    )
                )
                or m.label
            )
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": x + x[::-1],
                    "y": [a + h for a, h in zip(mean, half, strict=True)]
                    + [a - h for a, h in zip(mean, half, strict=True)][::-1],
                    "fill": "toself",
                    "fillcolor": _rgba(color, 0.18),
                    "line": {"width": 0},
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
            data.append({"type": "scatter", "mode": "lines+markers", "x": x, "y": mean,
                         "name": name, "line": {"color": color},
                         "customdata": half,
                         "hovertemplate": "%{x}: %{y:.2f} ± %{customdata:.2f}<extra>"
                                          + esc(name) + "</extra>"})  # fmt: skip
        fig = {
            "data": data,
            "layout": {
                "title": {"text": m.label, "x": 0.01, "font": {"size": 13}},
                "xaxis": {"title": {"text": x_key or ""}, "type": "category"},
                "yaxis": {"title": {"text": "%" if m.unit == "share" else m.unit}},
                "legend": {"orientation": "h", "y": -0.3},
            },
        }
        parts.append(page.figure(f"band-{m.name}", fig, "figure small"))
    return "".join(parts) + "</div>"


def _variant_means(path: Path, keys: Sequence[str], by: str) -> tuple[list[str], Any]:
    frame = pd.read_csv(path, dtype={by: str})
    frame["variant_label"] = [_label(r, keys) for _, r in frame.iterrows()]
    means = frame.groupby(["variant_label", by], sort=False)["double_ten"].mean().unstack(by)
    order = list(dict.fromkeys(frame["variant_label"]))
    return order, means.loc[order]


def _office_heat(page: Page, path: Path, keys: Sequence[str], target: float) -> str:
    order, means = _variant_means(path, keys, "office")
    scale = compliance_scale(means.to_numpy().ravel().tolist(), target)
    span = scale.high - scale.low
    colors = [[(v - scale.low) / span, c] for v, c in scale.stops()]
    fig = {
        "data": [{
            "type": "heatmap",
            "x": list(means.columns),
            "y": order,
            "z": [[None if v != v else round(100 * v, 2) for v in row] for row in means.to_numpy()],
            "colorscale": colors,
            "zmin": 100 * scale.low,
            "zmax": 100 * scale.high,
            "hovertemplate": "%{y}<br>%{x}: %{z:.1f}%<extra></extra>",
            "colorbar": {"title": {"text": "double ten (%)"}},
        }],
        "layout": {"margin": {"l": 200, "r": 20, "t": 20, "b": 120}, "height": 200 + 28 * len(order)},
    }  # fmt: skip
    return page.figure("office-heat", fig, "figure tall") + (
        "<p class='note'>Mean over replications of each office's double ten, per variant.</p>"
    )


def _hour_lines(page: Page, path: Path, keys: Sequence[str]) -> str:
    order, means = _variant_means(path, keys, "hour")
    data = [
        {"type": "scatter", "mode": "lines+markers", "x": [f"{h}:00" for h in means.columns],
         "y": [None if v != v else 100 * v for v in means.loc[label]], "name": label}
        for label in order
    ]  # fmt: skip
    fig = {"data": data, "layout": {"yaxis": {"title": {"text": "double ten (%)"}},
                                    "legend": {"orientation": "h", "y": -0.25}}}  # fmt: skip
    return page.figure("hour-lines", fig)


# ----------------------------------------------------------------------------- plans


def plan_page(folder: Path) -> Page:
    """The staffing plan against the uniform plan, office by office."""
    plan = _json(folder / "plan.json")
    offices = plan["offices"]
    tot = plan["totals"]
    page = Page(
        f"{plan.get('scenario', folder.name)}: the least staffing that meets the target",
        f"{tot['staff']:,} staff against {tot['baseline_staff']:,} at the uniform plan "
        f"({tot['staff_change']:+,}); {tot['offices_meeting_target']} of {tot['offices']} "
        "street offices on target",
    )
    names = [f"{o['office']} {o.get('name_zh', '')}".strip() for o in offices]
    staff_fig = {
        "data": [
            {"type": "bar", "orientation": "h", "y": names, "x": [o["staff"] for o in offices],
             "name": "plan", "marker": {"color": figures.ADVISOR}},
            {"type": "bar", "orientation": "h", "y": names,
             "x": [o.get("baseline_staff") for o in offices], "name": "uniform plan",
             "marker": {"color": figures.BARS}},
        ],
        "layout": {"barmode": "group", "xaxis": {"title": {"text": "staff"}},
                   "yaxis": {"autorange": "reversed"}, "height": 160 + 36 * len(offices),
                   "margin": {"l": 200, "r": 20, "t": 20, "b": 50}},
    }  # fmt: skip
    page.add(
        "plan", "Plan against the uniform plan", page.figure("plan-staff", staff_fig, "figure tall")
    )
    if offices and "double_ten" in offices[0]:
        fig = _plan_double_ten(names, offices, plan.get("targets", {}).get("double_ten"))
        page.add(
            "clocks",
            "Double ten and its lower bound",
            page.figure("plan-clock", fig, "figure tall"),
        )
    page.add("table", "Office by office", _records_table(offices, "plan-table"))
    if plan.get("warnings"):
        page.add("warnings", "Warnings", "<ul class='warnings'>" + "".join(
            f"<li>{esc(w)}</li>" for w in plan["warnings"]) + "</ul>")  # fmt: skip
    page.footer = f"<p>Written by chengguan-sim from {esc(folder)}/plan.json.</p>"
    return page


def _pct(v: Any) -> float | None:
    return None if v is None else 100 * float(v)


def _plan_double_ten(
    names: Sequence[str], offices: Sequence[dict[str, Any]], target: float | None
) -> dict[str, Any]:
    """Each office's double ten under the plan, with a bar down to its 95% lower bound,
    and under the uniform plan."""
    plan = [_pct(o.get("double_ten")) for o in offices]
    lower = [_pct(o.get("double_ten.lower")) for o in offices]
    minus = [None if a is None or b is None else a - b for a, b in zip(plan, lower, strict=True)]
    error = {"type": "data", "symmetric": False, "array": [0] * len(plan), "arrayminus": minus}
    data = [
        {"type": "scatter", "mode": "markers", "y": list(names), "x": plan, "name": "plan",
         "marker": {"color": figures.ADVISOR, "size": 9}, "error_x": error},
        {"type": "scatter", "mode": "markers", "y": list(names), "name": "uniform plan",
         "x": [_pct(o.get("baseline_double_ten")) for o in offices],
         "marker": {"color": figures.BARS_DARK, "size": 8, "symbol": "diamond"}},
    ]  # fmt: skip
    layout: dict[str, Any] = {
        "xaxis": {"title": {"text": "double ten (%): mean, bar down to the 95% lower bound"}},
        "yaxis": {"autorange": "reversed"},
        "height": 160 + 30 * len(offices),
        "margin": {"l": 200, "r": 20, "t": 20, "b": 50},
    }
    if target is not None:
        layout["shapes"] = [_vertical(100 * target)]
    return {"data": data, "layout": layout}


def _vertical(x: float) -> dict[str, Any]:
    line = {"color": figures.TARGET, "dash": "dot", "width": 1.2}
    return {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": line}  # fmt: skip


def shift_page(folder: Path) -> Page:
    """The shift plan hour by hour against the scenario's own shifts."""
    data = _json(folder / "shifts.json")
    hours = data.get("hours", [])
    page = Page(
        f"{data.get('scenario', folder.name)}: the shift plan hour by hour",
        f"the plan's scenario: {data.get('scenario_file', '')}",
    )
    first = hours[0] if hours else {}
    roles = [k.removesuffix(".on_duty_new") for k in first if k.endswith(".on_duty_new")]
    clocks = [k.removesuffix(".new.lower") for k in first if k.endswith(".new.lower")]
    page.add("duty", "Units on duty, hour by hour", page.figure("shift-duty", _duty(hours, roles)))
    page.add(
        "on-time", "On time, hour by hour", page.figure("shift-on-time", _on_time(hours, clocks))
    )
    page.add("table", "The table", _records_table(hours, "shift-table"))
    page.footer = f"<p>Written by chengguan-sim from {esc(folder)}/shifts.json.</p>"
    return page


def _hourly_layout(title: str) -> dict[str, Any]:
    return {
        "xaxis": {"title": {"text": "hour"}},
        "yaxis": {"title": {"text": title}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.25},
    }


def _duty(hours: Sequence[dict[str, Any]], roles: Sequence[str]) -> dict[str, Any]:
    """Units on duty per hour: the scenario's own shifts, the plan, and the need."""
    x = [h["hour"] for h in hours]
    data = []
    for k, role in enumerate(roles):
        color = _PALETTE[k % len(_PALETTE)]
        for key, dash, name in (
            ("on_duty_old", "dash", "own shifts"),
            ("on_duty_new", "solid", "plan"),
            ("need", "dot", "need"),
        ):
            data.append({"type": "scatter", "mode": "lines", "x": x, "name": f"{role}: {name}",
                         "y": [h.get(f"{role}.{key}") for h in hours],
                         "line": {"color": color, "dash": dash, "shape": "hv"}})  # fmt: skip
    return {"data": data, "layout": _hourly_layout("units on duty")}


def _on_time(hours: Sequence[dict[str, Any]], clocks: Sequence[str]) -> dict[str, Any]:
    """Each clock's on-time share per hour: the plan (band down to its lower bound) and
    the scenario's own shifts."""
    x = [h["hour"] for h in hours]
    data: list[dict[str, Any]] = []
    for k, clock in enumerate(clocks):
        color = _PALETTE[k % len(_PALETTE)]
        new = [_pct(h.get(f"{clock}.new")) for h in hours]
        low = [_pct(h.get(f"{clock}.new.lower")) for h in hours]
        old = [_pct(h.get(f"{clock}.old")) for h in hours]
        data += [
            {"type": "scatter", "mode": "lines", "x": x + x[::-1], "y": new + low[::-1],
             "fill": "toself", "fillcolor": _rgba(color, 0.18), "line": {"width": 0},
             "hoverinfo": "skip", "showlegend": False},
            {"type": "scatter", "mode": "lines+markers", "x": x, "y": new,
             "name": f"{clock}: plan", "line": {"color": color}},
            {"type": "scatter", "mode": "lines", "x": x, "y": old,
             "name": f"{clock}: own shifts", "line": {"color": color, "dash": "dash"}},
        ]  # fmt: skip
    return {"data": data, "layout": _hourly_layout("on time (%); band: to the 95% lower bound")}


def _records_table(records: Sequence[dict[str, Any]], id: str) -> str:
    if not records:
        return "<p class='note'>No rows.</p>"
    cols = [k for k in records[0] if not isinstance(records[0][k], dict | list)]
    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td data-value='{esc(_raw(r.get(c)))}'>{esc(_fmt(r.get(c)))}</td>" for c in cols
        )
        + "</tr>"
        for r in records
    )
    return (
        f"<div class='scroll'><table class='data sortable' id='{esc(id)}'><thead><tr>{head}"
        f"</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _raw(v: Any) -> str:
    return "" if v is None else repr(v) if isinstance(v, float) else str(v)


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return str(v)
