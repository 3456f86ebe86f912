"""The fitted scenario: the base scenario with its demand replaced by the fit.

What changes: ``demand`` (background volume and hourly profile, weekday profile and day
effect when the data call for them, category shares with the base's on-scene times and
success rates kept, office intensities and mixes, the fitted hotspots), the name and the
description. What names the base's hotspots is carried over to the fitted hotspot that
covers it (which takes its name) or dropped with a note: ``enforcement.offenders.hotspots``
and ``enforcement.campaign.hotspots``. Every file the base names is rewritten relative to
the folder the fitted scenario is written to, so it runs from there.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

from sim.fit.model import Fit
from sim.scenario import Scenario, file_fields

INTENSITY_TOLERANCE = 0.005  # offices closer to 1 than this keep the plain spread


def round_shares(shares: dict[str, float], digits: int = 6) -> dict[str, float]:
    """Shares rounded so that they still sum to exactly 1 (the largest takes the rest)."""
    kept = {k: round(v, digits) for k, v in shares.items() if round(v, digits) > 0}
    if not kept:
        return {}
    top = max(kept, key=lambda k: kept[k])
    kept[top] = round(kept[top] + 1.0 - sum(kept.values()), digits)
    return kept


def _weights(values: Any, digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in values]


def demand_block(base: Scenario, fit: Fit) -> dict[str, Any]:
    """``demand`` of the fitted scenario."""
    bg = fit.background
    shares = round_shares(bg.categories.as_dict())
    categories = {}
    for name, cat in base.demand.categories.items():
        categories[name] = {**cat.model_dump(mode="json"), "share": shares.get(name, 0.0)}
    # the background as a density, so the scenario keeps its load on another map
    volume: dict[str, Any] = (
        {"density": {"per_street_km": float(f"{bg.per_day / fit.street_km:.6g}")}}
        if fit.street_km > 0
        else {"incidents_per_day": round(bg.per_day, 3)}
    )
    out: dict[str, Any] = {**volume, "hourly_profile": _weights(bg.hourly_share * 24)}
    if fit.weekday.used:
        out["weekday_profile"] = _weights(fit.weekday.share * 7)
    if fit.dispersion.day_effect_cv:
        out["day_effect"] = {"cv": round(fit.dispersion.day_effect_cv, 4)}
    out["categories"] = categories
    offices: dict[str, Any] = {}
    for o in fit.offices:
        entry: dict[str, Any] = {}
        if abs(o.intensity - 1.0) > INTENSITY_TOLERANCE:
            entry["intensity"] = round(o.intensity, 4)
        if o.own_mix:
            entry["categories"] = round_shares(o.categories.as_dict())
        if entry:
            offices[o.name] = entry
    if offices:
        out["offices"] = offices
    out["hotspots"] = [_hotspot(h) for h in fit.hotspots]
    return out


def _hotspot(h: Any) -> dict[str, Any]:
    where = (
        {"lon": round(h.lon, 7), "lat": round(h.lat, 7)}
        if h.lon is not None
        else {"x": round(h.x, 1), "y": round(h.y, 1)}
    )
    out = {
        "name": h.name,
        **where,
        "radius_m": round(h.radius_m, 1),
        "incidents_per_hour": round(h.incidents_per_hour, 4),
        "start": h.start,
        "end": h.end,
    }
    if h.categories:
        out["categories"] = round_shares(h.categories)
    return out


def _carry_hotspot_sections(data: dict[str, Any], fit: Fit) -> list[str]:
    """Sections naming the base's hotspots follow the fitted hotspot that took the name."""
    kept = {h.base_name for h in fit.hotspots if h.base_name}
    notes = []
    offenders = data.get("enforcement", {}).get("offenders", {})
    groups = offenders.get("hotspots") if isinstance(offenders, dict) else None
    if isinstance(groups, dict):
        for name in [n for n in groups if n not in kept]:
            del groups[name]
            notes.append(
                f"enforcement.offenders.hotspots.{name}: no fitted hotspot covers it; dropped"
            )
    campaign = data.get("enforcement", {}).get("campaign")
    if isinstance(campaign, dict) and isinstance(campaign.get("hotspots"), list):
        named = campaign["hotspots"]
        gone = [n for n in named if n not in kept]
        campaign["hotspots"] = [n for n in named if n in kept]
        notes += [
            f"enforcement.campaign.hotspots: {n}: no fitted hotspot covers it; dropped"
            for n in gone
        ]
        if gone and not campaign["hotspots"]:
            campaign["enabled"] = False
            notes.append("enforcement.campaign: none of its hotspots was found; turned off")
    return notes


def rewrite_paths(data: dict[str, Any], base_dir: Path, out_dir: Path) -> None:
    """Every file the scenario names, relative to ``out_dir`` instead of ``base_dir``."""
    for dotted in file_fields():
        parent: Any = data
        keys = dotted.split(".")
        for key in keys[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or not isinstance(parent.get(keys[-1]), str):
            continue
        path = Path(parent[keys[-1]]).expanduser()
        absolute = path if path.is_absolute() else (base_dir / path).resolve()
        try:
            parent[keys[-1]] = os.path.relpath(absolute, out_dir.resolve())
        except ValueError:  # another drive on Windows: keep it absolute
            parent[keys[-1]] = str(absolute)


def fitted_scenario(
    base: Scenario, raw: dict[str, Any] | None, fit: Fit, out_dir: Path, source: str | Path
) -> tuple[dict[str, Any], list[str]]:
    """The fitted scenario as plain data, and notes on what was carried over or dropped.

    ``raw`` is the base file as written (kept as close as possible); ``None`` takes the
    base with every default filled in (when command-line overrides changed it).
    """
    data = copy.deepcopy(raw) if raw is not None else base.resolved()
    stem = re.sub(r"[^\w-]", "_", Path(source).stem).strip("_") or "log"
    data["name"] = f"{stem}_fit"[:64]
    data["description"] = (
        f"{base.name} with its demand fitted by python -m sim fit to {Path(source).name} "
        f"({fit.log.n:,} cases; see fit.txt)"
    )
    data["demand"] = demand_block(base, fit)
    notes = _carry_hotspot_sections(data, fit)
    rewrite_paths(data, base.base_dir, out_dir)
    return data, notes
