"""Several runs side by side: the headline measures, the clocks by hour, the offices, maps.

Plan A against plan B: each run's numbers are its own ``summary.json``'s, shown in a
column (with its 95% interval when it has several replications), the hourly clocks as
one line per run, double ten per street office as grouped bars, and a map per run on
one colour scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sim.output.report.figures as figures
from sim.analysis import measures as registry
from sim.analysis.measures import lookup
from sim.errors import ArgumentError
from sim.output.folders import owned_file
from sim.output.report.inputs import RunFolder, read_run
from sim.output.report.page import Page, esc
from sim.output.report.runpage import shown
from sim.output.text import pct, place_label
from sim.viz.scales import compliance_scale

_CLOCKS = registry.summarized("clocks")
# the clocks' on-time shares, then each clock's cells (mean, p90, count), each role's
# utilisation, and the rest: every name a path in summary.json
_COMPARED = tuple(
    dict.fromkeys(
        [
            *(m.name for m in _CLOCKS),
            *(c for m in _CLOCKS if m.summary for c in m.summary.cells),
            *(m.name for m in registry.RUN.values() if m.name.startswith("utilization.")),
            "discovery.never_found",
            "enforcement.cases",
            "enforcement.fines_yuan",
            "headcount.total",
            "headcount.per_km2",
        ]
    )
)


def write_comparison(folders: Sequence[Path], out: Path, *, force: bool = False) -> Path:
    """Write one page comparing the runs in ``folders`` to ``out``."""
    runs = [read_run(Path(f)) for f in folders]
    names = [r.path.name for r in runs]
    if len(set(names)) != len(names):
        names = [str(r.path) for r in runs]
    text = compare_page(runs, names).render()
    with owned_file(out, command="report", force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


def compare_page(runs: Sequence[RunFolder], names: Sequence[str]) -> Page:
    targets = {r.summary["scenario_resolved"]["rules"]["target"] for r in runs}
    if len(targets) > 1:
        raise ArgumentError(["folders: the runs hold their clocks to different targets"], [])
    target = targets.pop()
    page = Page(f"Comparing {len(runs)} runs", " · ".join(names))
    page.add("headline", "Side by side", _table(runs, names))
    page.add("hours", "By hour of day", _hours(page, runs, names, target))
    page.add("offices", "By street office", _offices(page, runs, names, target))
    page.add("maps", "Maps", _maps(page, runs, names, target))
    page.footer = (
        "<p>Written by chengguan-sim from "
        + esc(", ".join(str(r.path) for r in runs))
        + ". Charts: plotly.js (MIT), inlined; Chinese glyphs: Noto Sans CJK SC (SIL OFL 1.1),"
        " embedded subset. Works offline.</p>"
    )
    return page


def _table(runs: Sequence[RunFolder], names: Sequence[str]) -> str:
    head = "".join(f"<th>{esc(n)}</th>" for n in names)
    rows = []
    for name in _COMPARED:
        m = registry.RUN[name]
        cells = "".join(
            f"<td>{shown(r.summary).span(m, lookup(r.summary, name), _ci(r.summary, name))}</td>"
            for r in runs
        )
        rows.append(f"<tr><td>{esc(m.label)}</td>{cells}</tr>")
    about = "".join(
        f"<td>{esc(r.summary['scenario'])}, {r.summary['days']:g} d, "
        f"{r.summary['replications']} rep., seed {r.summary['seed']}</td>"
        for r in runs
    )
    return (
        "<table class='data' id='compare-table'><thead><tr><th>measure</th>"
        f"{head}</tr></thead><tbody><tr><td>run</td>{about}</tr>{''.join(rows)}</tbody></table>"
        "<p class='note'>± are 95% confidence half-widths where a run has several "
        "replications; compare runs with common seeds, or replicate them.</p>"
    )


def _ci(summary: dict[str, Any], name: str) -> float | None:
    half: float | None = summary.get("ci95", {}).get(name)
    return half


def _hours(page: Page, runs: Sequence[RunFolder], names: Sequence[str], target: float) -> str:
    parts = ["<div class='row'>"]
    for m in registry.summarized("clocks"):
        data = [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [f"{h['hour']}:00" for h in r.summary["by_hour"]],
                "y": [None if h[m.name] is None else 100 * h[m.name] for h in r.summary["by_hour"]],
                "name": name,
            }
            for r, name in zip(runs, names, strict=True)
        ]
        fig: dict[str, Any] = {
            "data": data,
            "layout": {
                "title": {"text": m.label, "x": 0.01, "font": {"size": 13}},
                "yaxis": {"title": {"text": "on time (%)"}},
                "legend": {"orientation": "h", "y": -0.25},
                "shapes": [figures._target_line(target)],
            },
        }
        parts.append(page.figure(f"hours-{m.name}", fig, "figure small"))
    return "".join(parts) + "</div>"


def _offices(page: Page, runs: Sequence[RunFolder], names: Sequence[str], target: float) -> str:
    data = []
    for r, name in zip(runs, names, strict=True):
        rows = r.summary["by_area"]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "y": [place_label(o["office"], o.get("name_zh", "")) for o in rows],
                "x": [None if o["double_ten"] is None else 100 * o["double_ten"] for o in rows],
                "name": name,
                "hovertemplate": "%{y}: %{x:.1f}%<extra>" + esc(name) + "</extra>",
            }
        )
    fig = {
        "data": data,
        "layout": {
            "barmode": "group",
            "xaxis": {"title": {"text": "double ten (%)"}},
            "yaxis": {"autorange": "reversed"},
            "height": 120 + 22 * len(runs) * len(runs[0].summary["by_area"]),
            "margin": {"l": 220, "r": 20, "t": 20, "b": 50},
            "shapes": [{**figures._target_line(target), "xref": "x", "yref": "paper",
                        "x0": 100 * target, "x1": 100 * target, "y0": 0, "y1": 1}],
        },
    }  # fmt: skip
    return page.figure("offices-compare", fig, "figure tall")


def _maps(page: Page, runs: Sequence[RunFolder], names: Sequence[str], target: float) -> str:
    values = [o["double_ten"] for r in runs for o in r.summary["by_area"]]
    scale = compliance_scale(values, target)
    parts = ["<div class='row'>"]
    for k, (r, name) in enumerate(zip(runs, names, strict=True)):
        by_area = {o["office"]: o for o in r.summary["by_area"]}
        rows = [by_area.get(n, {"office": n}) for n in r.geometry.offices.column("office")]
        fig = figures.area_map(
            figures.AreaLayer(
                r.geometry.offices.shapes,
                [place_label(o["office"], o.get("name_zh", "")) for o in rows],
                [o.get("double_ten") for o in rows],
                [
                    f"<b>{esc(place_label(o['office'], o.get('name_zh', '')))}</b><br>{esc(name)}: "
                    f"double ten {pct(o.get('double_ten'))}"
                    for o in rows
                ],
            ),
            scale,
            title=name,
        )
        parts.append(page.figure(f"map-{k}", fig, "figure map"))
    return "".join(parts) + "</div>"
