"""The report's Plotly figures, as plain figure dicts (``data`` and ``layout``).

Each takes the numbers as ``summary.json`` (or a sweep's or optimiser's tables) holds
them and only arranges them: nothing here computes a measure. Colours are those of the
PNG figures (:data:`sim.viz.report.COLORS`-like constants below) and the compliance scale
of :mod:`sim.viz.scales`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from sim.viz.scales import THIN_COLOUR, Scale, is_thin, share_axis

ADVISOR, ENFORCER, DOUBLE_TEN, TARGET = "#1f77b4", "#d62728", "#2ca02c", "#555555"
BARS, BARS_DARK = "#d0d0d0", "#9a9a9a"
HOTSPOT = "#c51b7d"
NO_DATA = "#d9d9d9"  # an area with no incident measured
SIMPLIFY_M = 2.0  # boundary detail finer than this (metres) is not drawn
Fig = dict[str, Any]


def _rings(geom: BaseGeometry) -> tuple[list[float | None], list[float | None]]:
    """Exterior rings of a (multi)polygon as x, y lists, parts separated by None."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    geom = shapely.simplify(geom, SIMPLIFY_M, preserve_topology=True)  # a map file's detail
    parts = getattr(geom, "geoms", [geom])
    for part in parts:
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        if xs:
            xs.append(None)
            ys.append(None)
        x, y = part.exterior.coords.xy
        xs += [round(v, 1) for v in x]
        ys += [round(v, 1) for v in y]
    return xs, ys


def _map_layout(height: int = 560) -> dict[str, Any]:
    return {
        "xaxis": {"visible": False},
        "yaxis": {"visible": False, "scaleanchor": "x", "scaleratio": 1},
        "hovermode": "closest",
        "showlegend": False,
        "height": height,
        "margin": {"l": 4, "r": 4, "t": 36, "b": 4},
        "dragmode": "pan",
        "hoverlabel": {"align": "left"},
    }


def colorbar_trace(scale: Scale, title: str) -> dict[str, Any]:
    """An invisible trace carrying the compliance colour bar, in percent."""
    span = scale.high - scale.low
    return {
        "type": "scatter",
        "x": [None],
        "y": [None],
        "mode": "markers",
        "hoverinfo": "skip",
        "marker": {
            "colorscale": [[(v - scale.low) / span, c] for v, c in scale.stops()],
            "cmin": 100 * scale.low,
            "cmax": 100 * scale.high,
            "color": [100 * scale.centre],
            "showscale": True,
            "colorbar": {
                "title": {"text": title, "side": "right"},
                "tickvals": [100 * t for t in scale.ticks],
                "ticktext": [
                    f"{100 * t:g}%" + (" target" if t == scale.centre else "") for t in scale.ticks
                ],
                "thickness": 14,
                "len": 0.8,
            },
        },
    }


@dataclass(frozen=True)
class AreaLayer:
    """Areas to fill on a map: a shape, name, value (a share) and hover text each."""

    shapes: Sequence[BaseGeometry]
    names: Sequence[str]
    values: Sequence[float | None]
    hover: Sequence[str]


def area_map(
    areas: AreaLayer,
    scale: Scale,
    *,
    title: str,
    outlines: Sequence[BaseGeometry] = (),
    hotspots: Sequence[Mapping[str, Any]] = (),
) -> Fig:
    """One filled shape per area, coloured on ``scale``, its details on hover."""
    data: list[dict[str, Any]] = []
    rows = zip(areas.shapes, areas.names, areas.values, areas.hover, strict=True)
    for geom, name, value, text in rows:
        x, y = _rings(geom)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": y,
                "fill": "toself",
                "fillcolor": NO_DATA if value is None else scale.colour(value),
                "line": {"color": "#ffffff", "width": 0.8},
                "hoveron": "fills",
                "hoverinfo": "text",
                "text": text,
                "name": name,
            }
        )
    if outlines:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for geom in outlines:
            x, y = _rings(geom)
            xs += [*x, None]
            ys += [*y, None]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": xs,
                "y": ys,
                "line": {"color": "#2b2b2b", "width": 1.4},
                "hoverinfo": "skip",
                "name": "street offices",
            }
        )
    for h in hotspots:
        angle = [2 * math.pi * k / 48 for k in range(49)]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [round(h["x"] + h["radius_m"] * math.cos(a), 1) for a in angle],
                "y": [round(h["y"] + h["radius_m"] * math.sin(a), 1) for a in angle],
                "line": {"color": HOTSPOT, "width": 1.6, "dash": "dot"},
                "hoverinfo": "text",
                "hoveron": "points",
                "text": f"hotspot: {h['name']}",
                "name": h["name"],
            }
        )
    data.append(colorbar_trace(scale, "double ten"))
    layout = _map_layout()
    layout["title"] = {"text": title, "x": 0.01, "font": {"size": 14}}
    return {"data": data, "layout": layout}


def by_hour(rows: Sequence[Mapping[str, Any]], target: float, words: Mapping[str, str]) -> Fig:
    """On-time shares by hour with the instructions and escalations each rests on."""
    hours = [f"{r['hour']}:00" for r in rows]
    n = [r["incidents"] for r in rows]
    esc = [r["escalated"] for r in rows]
    data: list[dict[str, Any]] = [
        _bars(hours, n, "instructions", BARS),
        _bars(hours, esc, "escalations (the enforcer clock's sample)", BARS_DARK),
    ]
    for key, color, sample in (
        ("advisor_on_time", ADVISOR, n),
        ("enforcer_on_time", ENFORCER, esc),
        ("double_ten", DOUBLE_TEN, n),
    ):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": hours,
                "y": [None if r[key] is None else 100 * r[key] for r in rows],
                "name": words[key],
                "line": {"color": color, "width": 2},
                "marker": {"size": 5},
                "customdata": sample,
                "hovertemplate": "%{y:.1f}% on time (n = %{customdata:,.0f})<extra>"
                + words[key]
                + "</extra>",
            }
        )
    layout = {
        "yaxis": {"title": {"text": "on time (%)"}, "range": [0, 102]},
        "yaxis2": {
            "title": {"text": "count (bars)"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
        },
        "xaxis": {"title": {"text": "hour of day (instruction issued)"}},
        "barmode": "overlay",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": -0.2},
        "shapes": [_target_line(target)],
        "annotations": [_target_note(target)],
    }
    return {"data": data, "layout": layout}


def _bars(x: Sequence[Any], y: Sequence[Any], name: str, color: str) -> dict[str, Any]:
    return {
        "type": "bar",
        "x": list(x),
        "y": list(y),
        "name": name,
        "yaxis": "y2",
        "marker": {"color": color},
        "opacity": 0.6,
        "hovertemplate": "%{y:,.0f}<extra>" + name + "</extra>",
    }


def _target_line(target: float) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": 100 * target,
        "y1": 100 * target,
        "line": {"color": TARGET, "dash": "dot", "width": 1.2},
    }


def _target_note(target: float) -> dict[str, Any]:
    return {
        "xref": "paper",
        "x": 1,
        "y": 100 * target,
        "yref": "y",
        "text": f"target {100 * target:g}%",
        "showarrow": False,
        "xanchor": "right",
        "yanchor": "bottom",
        "font": {"size": 11, "color": TARGET},
    }


def funnel(steps: Sequence[tuple[str, float]]) -> Fig:
    """Escalations → cases → decisions → referrals → rulings, on a log scale."""
    labels = [s[0] for s in steps][::-1]
    values = [s[1] for s in steps][::-1]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": [max(v, 0.1) for v in values],
                "y": labels,
                "text": [f"{v:,.0f}" for v in values],
                "textposition": "outside",
                "cliponaxis": False,
                "marker": {"color": "#4c72b0"},
                "hovertemplate": "%{y}: %{text}<extra></extra>",
            }
        ],
        "layout": {
            "xaxis": {
                "type": "log",
                "title": {"text": "count over the run (log scale)"},
                "range": [math.log10(0.5), math.log10(max([*values, 1.0]) * 8)],
            },
            "margin": {"l": 230, "r": 40, "t": 20, "b": 50},
        },
    }


def weekly(
    names: Sequence[str], series: Sequence[Sequence[float]], campaign: tuple[float, float] | None
) -> Fig:
    """Weekly incidents at each hotspot, the campaign's weeks shaded."""
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": list(range(1, len(s) + 1)),
            "y": list(s),
            "name": name,
            "hovertemplate": "week %{x}: %{y:,.0f} incidents<extra>" + name + "</extra>",
        }
        for name, s in zip(names, series, strict=False)
        if s
    ]
    shapes = []
    if campaign is not None:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": campaign[0],
                "x1": campaign[1],
                "y0": 0,
                "y1": 1,
                "fillcolor": "#f2c14e",
                "opacity": 0.25,
                "line": {"width": 0},
            }
        )
    return {
        "data": data,
        "layout": {
            "xaxis": {"title": {"text": "week of the run"}, "dtick": 1},
            "yaxis": {"title": {"text": "incidents per week"}, "rangemode": "tozero"},
            "shapes": shapes,
            "legend": {"orientation": "h", "y": -0.25},
        },
    }


def ranking(months: Sequence[int], ranks: Mapping[str, Sequence[float]], n: int) -> Fig:
    """Each street office's rank month by month (first replication), best at the top."""
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": list(months),
            "y": list(r),
            "name": name,
            "hovertemplate": "month %{x}: rank %{y}<extra>" + name + "</extra>",
        }
        for name, r in ranks.items()
    ]
    return {
        "data": data,
        "layout": {
            "xaxis": {"title": {"text": "month"}, "dtick": 1},
            "yaxis": {"title": {"text": "rank"}, "range": [n + 0.5, 0.5], "dtick": 1},
            "legend": {"font": {"size": 10}},
        },
    }


def black_flag(
    names: Sequence[str],
    p: Sequence[float],
    mean_rank: Sequence[float],
    text: Sequence[str],
    axis: str,
) -> Fig:
    """Each office's black flags (a count of months, or a share over replications)."""
    return {
        "data": [
            {
                "type": "bar",
                "x": [100 * v for v in p],
                "y": list(names),
                "orientation": "h",
                "customdata": [[t, r] for t, r in zip(text, mean_rank, strict=True)],
                "marker": {"color": "#333333"},
                "hovertemplate": "%{y}: black flag %{customdata[0]}, mean rank "
                "%{customdata[1]:.1f}<extra></extra>",
            }
        ],
        "layout": {
            "xaxis": {"title": {"text": f"black flag: {axis} (%)"}, "range": [0, 100]},
            "yaxis": {"autorange": "reversed"},
            "margin": {"l": 200, "r": 20, "t": 20, "b": 50},
        },
    }


def daily(rows: Sequence[Mapping[str, Any]], chosen: int, target: float) -> Fig:
    """Every measured day's double ten as points on a share axis (rule 5 of
    :mod:`sim.viz.scales`: it ends at 100%, holds the target and spans at least 20 points,
    so a few points' spread between days does not fill the plot; bars would have to start
    at zero); a day resting on fewer than ``THIN_SAMPLE`` instructions is a hollow mark
    (rule 4); the replayed day marked."""
    shares = [r["double_ten"] for r in rows]
    low, high = share_axis(shares, target)
    point = {
        "type": "scatter",
        "mode": "lines+markers" if len(rows) > 1 else "markers",
        "x": [r["day"] for r in rows],
        "y": [None if v is None else 100 * v for v in shares],
        "line": {"color": BARS_DARK, "width": 1},
        "marker": {
            "size": [9 if r["day"] == chosen else 5 for r in rows],
            "color": [
                THIN_COLOUR
                if is_thin(r["incidents"])
                else ENFORCER
                if r["day"] == chosen
                else DOUBLE_TEN
                for r in rows
            ],
            "line": {
                "color": [ENFORCER if r["day"] == chosen else DOUBLE_TEN for r in rows],
                "width": 1,
            },
        },
        "customdata": [r["incidents"] for r in rows],
        "hovertemplate": "day %{x}: %{y:.1f}% (n = %{customdata:,.0f})<extra></extra>",
        "showlegend": False,
    }
    return {
        "data": [point],
        "layout": {
            "xaxis": {"title": {"text": "measured day (large red: replayed)"}},
            "yaxis": {
                "title": {"text": "double ten (%)"},
                "range": [100 * low - 1, 100 * high + 1],
            },
            "shapes": [_target_line(target)],
            "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
            "height": 220,
        },
    }
