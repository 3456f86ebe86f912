"""What ``python -m sim fit`` prints and writes as ``fit.txt``, and the folder it writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from sim.atomic import write_text_atomic
from sim.caselog.clean import top_values
from sim.fit.summary import WEEKDAYS, hotspots_geojson, stamp
from sim.output.folders import results_folder
from sim.output.strictjson import dumps
from sim.output.text import format_table

if TYPE_CHECKING:
    from sim.fit.model import Fit
    from sim.fit.run import FitResult


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def rows_text(fit: Fit) -> str:
    r = fit.log.rows
    details = {}
    if fit.log.unmapped_categories:
        details["unmapped category"] = top_values(fit.log.unmapped_categories)
    left = r.lines(details)
    text = f"rows: {r.read:,} read, {r.used:,} used"
    return text + ("; left out:\n" + "\n".join(f"  {x}" for x in left) if left else "")


def fit_text(result: FitResult, source: str, base: str, notes: list[str]) -> str:
    """The fit in words and tables."""
    fit = result.fit
    v, bg = fit.volume, fit.background
    spans = fit.exposure.spans
    hot_day = sum(h.incidents_per_hour * len(h.found.hours) for h in fit.hotspots)
    lines = [
        f"Fit of {source} on the map of {base}",
        rows_text(fit),
        f"window: {stamp(min(s[1] for s in spans))} to {stamp(max(s[2] for s in spans))}, "
        f"{fit.exposure.days:,.1f} days observed"
        + (f" in {len(spans)} segments" if len(spans) > 1 else "")
        + (f"; sample fraction {fit.fraction:g}" if fit.fraction < 1 else ""),
        f"incidents per day: {v.per_day:,.1f} (95% CI {v.ci95[0]:,.1f} to {v.ci95[1]:,.1f}), "
        "the whole log",
        f"  background {bg.per_day:,.1f} a day over the streets "
        f"({bg.per_day / max(fit.street_km, 1e-9):.3g} per km of street over "
        f"{fit.street_km:,.0f} km), {len(fit.hotspots)} hotspot(s) {hot_day:,.1f} a day",
        "",
        "hour  share  (95% CI)        background",
    ]
    for h in range(24):
        lo, hi = v.hourly_ci95[h]
        lines.append(
            f"{h:02d}    {_pct(v.hourly_share[h]):>5}  ({_pct(lo)}–{_pct(hi)})"
            f"{'':<4}{_pct(bg.hourly_share[h]):>5}"
        )
    lines += [
        "",
        "weekday: "
        + " ".join(f"{d} {_pct(s)}" for d, s in zip(WEEKDAYS, fit.weekday.share, strict=True)),
        f"  {fit.weekday.note}",
        f"dispersion: {fit.dispersion.note}",
    ]
    if fit.trend is not None:
        lines.append(f"trend: {fit.trend.note}")
    if fit.dispersion.hourly_index is not None:
        lines.append(
            f"  hours within a day: index {fit.dispersion.hourly_index:.2f} "
            f"(p = {fit.dispersion.hourly_p:.2g})"
        )
    lines += [
        "",
        format_table(
            ["category", "log", "95% CI", "background"],
            [
                [n, _pct(s), f"{_pct(ci[0])}–{_pct(ci[1])}", _pct(b)]
                for n, s, ci, b in zip(
                    fit.categories.names,
                    fit.categories.share,
                    fit.categories.ci95,
                    bg.categories.share,
                    strict=True,
                )
            ],
        ),
    ]
    lines += _channels(fit) + _hotspots(fit, format_table) + _offices(fit, format_table)
    if len(fit.moved_m):
        lines.append(
            f"\nsnapped to the nearest street node: median {np.median(fit.moved_m):.0f} m, "
            f"95% within {np.percentile(fit.moved_m, 95):.0f} m"
        )
    lines += ["", *[f"note: {n}" for n in notes]]
    return "\n".join(lines)


def _channels(fit: Fit) -> list[str]:
    if fit.channels is None:
        return [
            "",
            "channels: the log has no channel column"
            if not fit.log.has_channel
            else "channels: no source could be mapped to patrol, citizen or camera",
        ]
    unknown = int((fit.log.channel < 0).sum())
    text = ", ".join(
        f"{n} {_pct(s)}" for n, s in zip(fit.channels.names, fit.channels.share, strict=True)
    )
    more = ""
    if unknown:
        more = f"; {unknown:,} cases of unmapped sources ({top_values(fit.log.unmapped_channels)})"
    return ["", f"channels: {text}{more}"]


def _hotspots(fit: Fit, table: Any) -> list[str]:
    if not fit.hotspots:
        return ["", "hotspots: none found"]
    rows = []
    for h in fit.hotspots:
        where = f"{h.lon:.5f}, {h.lat:.5f}" if h.lon is not None else f"{h.x:.0f}, {h.y:.0f} m"
        top = ", ".join(
            f"{k} {_pct(v)}" for k, v in sorted(h.categories.items(), key=lambda kv: -kv[1])[:3]
        )
        rows.append(
            [
                h.name,
                where,
                f"{h.radius_m:.0f}",
                f"{h.start}–{h.end}",
                f"{h.incidents_per_hour:.3g}",
                f"{h.excess_cases:.0f}",
                top,
            ]
        )
    return [
        "",
        table(
            ["hotspot", "where", "radius m", "hours", "per hour", "cases", "categories"],
            rows,
            "llrlrrl",
        ),
    ]


def _offices(fit: Fit, table: Any) -> list[str]:
    rows = [
        [
            o.name,
            f"{o.cases:,}",
            f"{o.street_km:.1f}",
            f"{o.intensity:.2f}",
            "own mix" if o.own_mix else "",
        ]
        for o in fit.offices
    ]
    return [
        "",
        table(["street office", "cases", "street km", "intensity", "categories"], rows, "lrrrl"),
    ]


class _Dumper(yaml.SafeDumper):
    """Short lists and small mappings of plain values on one line, as people write them."""


def _flow(value: Any) -> bool:
    plain = (str, int, float, bool, type(None))
    if isinstance(value, list):
        return all(isinstance(v, plain) for v in value)
    return (
        isinstance(value, dict)
        and len(value) <= 8
        and all(isinstance(v, plain) for v in value.values())
    )


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=_flow(value))


def _represent_dict(dumper: yaml.SafeDumper, value: dict[Any, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=_flow(value))


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)


def scenario_yaml(data: dict[str, Any]) -> str:
    """A scenario as YAML, keys in their order, numbers and short lists on one line."""
    text: str = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return text


@dataclass(frozen=True)
class FitFiles:
    """What a fit writes besides its pictures: the fitted scenario, fit.json, fit.txt."""

    scenario: dict[str, Any]
    summary: dict[str, Any]
    text: str


@dataclass(frozen=True)
class WriteOptions:
    """``check(scenario_path)`` runs on the written scenario before the folder is put in
    place (the work folder sits beside ``out``, so relative paths hold); if it raises,
    nothing is installed."""

    plots: bool = True
    force: bool = False
    check: Callable[[Path], None] | None = None


def write_fit(result: FitResult, out: Path, files: FitFiles, options: WriteOptions) -> Path:
    """Write a fit's folder atomically: scenario.yaml, hotspots.geojson, fit.json, fit.txt
    and the pictures."""
    from sim.viz import fitplot  # deferred: matplotlib loads only when pictures are drawn

    with results_folder(out, "fit", command="fit", force=options.force) as tmp:
        header = "# Fitted by python -m sim fit; fit.txt says how and with what confidence.\n"
        write_text_atomic(tmp / "scenario.yaml", header + scenario_yaml(files.scenario))
        if options.check is not None:
            options.check(tmp / "scenario.yaml")
        write_text_atomic(tmp / "hotspots.geojson", dumps(hotspots_geojson(result.fit)))
        write_text_atomic(tmp / "fit.json", dumps(files.summary))
        write_text_atomic(tmp / "fit.txt", files.text + "\n")
        if options.plots:
            fit = result.fit
            fitplot.plot_profiles(fit, tmp / "fit_profiles.png")
            fitplot.plot_categories(fit, tmp / "fit_categories.png")
            fitplot.draw_hotspots(fit, result.street_map, tmp / "fit_hotspots.png")
            fitplot.plot_dispersion(fit, tmp / "fit_dispersion.png")
    return out
