"""What a fit writes as data: ``fit.json`` and ``hotspots.geojson``.

``incidents_per_day`` and ``hourly_profile`` describe the whole log (hotspots included),
so they compare with the log; ``background`` is what the fitted scenario draws besides
its hotspots. Counts are the log's own; rates are in full (unsampled) units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.fit.model import Fit, FittedHotspot
from sim.fit.scenario import round_shares

WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _f(x: float | None, digits: int = 6) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def _pairs(a: np.ndarray, digits: int = 6) -> list[list[float | None]]:
    return [[_f(lo, digits), _f(hi, digits)] for lo, hi in a]


def stamp(wall: float) -> str:
    return str(pd.Timestamp(wall, unit="s").floor("s"))


def hotspot_dict(h: FittedHotspot) -> dict[str, Any]:
    return {
        "name": h.name,
        "lon": _f(h.lon, 7),
        "lat": _f(h.lat, 7),
        "x": _f(h.x, 1),
        "y": _f(h.y, 1),
        "radius_m": _f(h.radius_m, 1),
        "start": h.start,
        "end": h.end,
        "incidents_per_hour": _f(h.incidents_per_hour, 4),
        "categories": round_shares(h.categories),
        "excess_cases": _f(h.excess_cases, 1),
        "p_value": float(f"{h.p_value:.3g}"),
        "base_hotspot": h.base_name,
    }


def fit_json(fit: Fit, source: str, notes: list[str]) -> dict[str, Any]:
    """Everything the fit found, as plain JSON data."""
    v, w, d = fit.volume, fit.weekday, fit.dispersion
    spans = fit.exposure.spans
    return {
        "log": source,
        "kind": fit.log.kind,
        "rows": fit.log.rows.as_dict(),
        # the 200 most frequent (a free-text column can hold millions of distinct values)
        "unmapped_categories": dict(fit.log.unmapped_categories.most_common(200)),
        "window": {
            "start": stamp(min(s[1] for s in spans)),
            "end": stamp(max(s[2] for s in spans)),
            "days": _f(fit.exposure.days, 4),
            "segments": len(spans),
        },
        "sample_fraction": fit.fraction,
        "incidents_per_day": _f(v.per_day, 4),
        "incidents_per_day_ci95": [_f(v.ci95[0], 4), _f(v.ci95[1], 4)],
        "hourly_profile": [round(float(x), 6) for x in v.hourly_share],
        "hourly_profile_ci95": _pairs(v.hourly_ci95),
        "weekday_profile": [round(float(x), 6) for x in w.share],
        "weekday_profile_ci95": _pairs(w.ci95),
        "weekday_test": {"chi2": _f(w.chi2, 4), "p_value": _f(w.p_value), "used": w.used},
        "categories": {k: round(x, 6) for k, x in fit.categories.as_dict().items()},
        "categories_ci95": dict(
            zip(fit.categories.names, _pairs(fit.categories.ci95), strict=True)
        ),
        "channels": None if fit.channels is None else fit.channels.as_dict(),
        "channels_unknown": int((fit.log.channel < 0).sum()) if fit.log.has_channel else None,
        "hotspots": [hotspot_dict(h) for h in fit.hotspots],
        "dispersion": {
            "days": d.days,
            "daily_index": _f(d.daily_index, 4),
            "daily_p_value": _f(d.daily_p),
            "hourly_index": _f(d.hourly_index, 4),
            "hourly_p_value": _f(d.hourly_p),
            "overdispersed": d.overdispersed,
            "day_effect_cv": _f(d.day_effect_cv, 4),
            "note": d.note,
        },
        "trend": None
        if fit.trend is None
        else {
            "stretch_starts": [stamp(t) for t in fit.trend.starts],
            "incidents_per_day": [_f(r, 4) for r in fit.trend.per_day],
            "chi2": _f(fit.trend.chi2, 4),
            "p_value": _f(fit.trend.p_value),
            "changed": fit.trend.changed,
            "note": fit.trend.note,
        },
        "background": {
            "incidents_per_day": _f(fit.background.per_day, 4),
            "hourly_profile": [round(float(x), 6) for x in fit.background.hourly_share],
            "categories": {k: round(x, 6) for k, x in fit.background.categories.as_dict().items()},
        },
        "offices": [
            {
                "name": o.name,
                "cases": o.cases,
                "street_km": _f(o.street_km, 3),
                "intensity": _f(o.intensity, 4),
                "own_categories": o.own_mix,
                "p_value": _f(o.p_value),
            }
            for o in fit.offices
        ],
        "snapped_m": {
            "median": _f(float(np.median(fit.moved_m)) if len(fit.moved_m) else None, 1),
            "p95": _f(float(np.percentile(fit.moved_m, 95)) if len(fit.moved_m) else None, 1),
        },
        "notes": notes,
    }


def hotspots_geojson(fit: Fit) -> dict[str, Any]:
    """The fitted hotspots as GeoJSON points (as ``demand.hotspots_from`` reads them).

    On a map without a coordinate system the points are in map metres and say so.
    """
    feats = []
    for h in fit.hotspots:
        props = {k: v for k, v in hotspot_dict(h).items() if k not in ("lon", "lat", "x", "y")}
        if h.lon is not None and h.lat is not None:
            coords = [round(h.lon, 7), round(h.lat, 7)]
        else:
            coords = [round(h.x, 1), round(h.y, 1)]
        if h.lon is None:
            props["coordinates"] = "map metres: the map has no coordinate system"
        props["categories"] = props["categories"] or None
        feats.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": coords},
            }
        )
    return {"type": "FeatureCollection", "features": feats}
