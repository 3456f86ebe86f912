"""Fit a demand model to a case log placed on the map: the whole fit, in one place.

:func:`fit_log` runs the steps in order — window and exposure, volume and profiles,
dispersion, categories and channels, then hotspots and the background in two passes
(the first against a plain background, the second against the background with the
first pass's hotspots and office intensities taken out) — and returns a :class:`Fit`.
Counts stay in the log's own (sampled) units until the end; rates are divided by the
sampling fraction once, when they become incidents per day or per hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.caselog.errors import LogError
from sim.caselog.log import CaseLog
from sim.fit import profiles
from sim.fit.hotspots import Background, Cases, FoundHotspot, ScanOptions, find_hotspots
from sim.fit.spatial import OfficeFit, Shares, intensities, office_mixes
from sim.fit.window import Exposure, observe
from sim.world.areas import Areas
from sim.world.network import StreetNetwork
from sim.world.snap import SnappedLog


@dataclass(frozen=True)
class FitOptions:
    """How to fit: the window (wall-clock seconds), the sampling fraction, the scan."""

    window: tuple[float, float] | None = None
    sample_fraction: float = 1.0
    scan: ScanOptions = field(default_factory=ScanOptions)
    alpha: float = 0.01  # level of the tests (weekday, dispersion, office mixes)


@dataclass(frozen=True)
class FittedHotspot:
    """A hotspot in full units, named, in map metres (and lon/lat when the map has a CRS)."""

    name: str
    x: float
    y: float
    lon: float | None
    lat: float | None
    radius_m: float
    start: str
    end: str
    incidents_per_hour: float
    categories: dict[str, float]
    excess_cases: float
    p_value: float
    found: FoundHotspot
    base_name: str | None = None  # the BASE hotspot it stands for, if any


@dataclass(frozen=True)
class BackgroundFit:
    """Demand outside the hotspots, as the fitted scenario draws it (full units)."""

    per_day: float
    hourly_share: np.ndarray
    categories: Shares


@dataclass(frozen=True, eq=False)
class Fit:
    log: CaseLog
    node: np.ndarray
    moved_m: np.ndarray
    exposure: Exposure
    fraction: float
    volume: profiles.Volume
    weekday: profiles.Weekday
    dispersion: profiles.Dispersion
    trend: profiles.Trend | None
    categories: Shares
    channels: Shares | None
    hotspots: list[FittedHotspot]
    offices: list[OfficeFit]
    background: BackgroundFit
    street_km: float  # of the map the log was placed on
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BaseHotspot:
    """A hotspot of the base scenario, for carrying its name over to a fitted one."""

    name: str
    x: float
    y: float
    radius_m: float


def fit_log(
    snapped: SnappedLog,
    net: StreetNetwork,
    areas: Areas,
    options: FitOptions,
    base_hotspots: list[BaseHotspot] | None = None,
) -> Fit:
    """Fit the demand model to ``snapped`` (a log placed on ``net``)."""
    keep = np.ones(snapped.n, dtype=bool)
    if options.window is not None:
        wall = snapped.log.wall
        keep = (wall >= options.window[0]) & (wall < options.window[1])
    log = snapped.log.select(keep, "outside the window")
    node, moved = snapped.node[keep], snapped.moved_m[keep]
    if log.n == 0:
        raise LogError(["no case falls in the window", *log.rows.lines()])
    log, exp = observe(log, options.window)
    if exp.days * 24 < 1:
        raise LogError(["the log spans less than an hour: give the window it covers (--window)"])
    f = options.sample_fraction
    vol = profiles.volume(log, exp, f)
    first = profiles.dispersion(log, exp, vol, None, options.alpha)
    week = profiles.weekday(vol, exp, first.daily_index or 1.0, options.alpha)
    disp = profiles.dispersion(log, exp, vol, week, options.alpha)
    vol = profiles.volume(log, exp, f, disp.daily_index or 1.0)
    trend = profiles.trend(log, exp, f, options.alpha)
    cats = Shares.of(
        log.categories, np.bincount(log.category, minlength=len(log.categories)).astype(float)
    )
    channels = None
    if log.has_channel and (log.channel >= 0).any():
        known = log.channel[log.channel >= 0]
        channels = Shares.of(
            log.channels, np.bincount(known, minlength=len(log.channels)).astype(float)
        )
    cases = Cases(
        node,
        log.hours(),
        log.category.astype(np.int64),
        net.x,
        net.y,
        exp.hour_hours,
        len(log.categories),
    )
    found, theta, bg = _two_passes(cases, areas, net, cats, options.scan)
    hot = _name(found, net, log.categories, f, base_hotspots or [])
    offices = _offices(Placed(log, node, net, areas), theta, found, bg, options.alpha)
    background = _background(cases, found, f, log.categories)
    return Fit(
        log,
        node,
        moved,
        exp,
        f,
        vol,
        week,
        disp,
        trend,
        cats,
        channels,
        hot,
        offices,
        background,
        net.road_length_km,
    )


def _two_passes(
    cases: Cases, areas: Areas, net: StreetNetwork, cats: Shares, scan: ScanOptions
) -> tuple[list[FoundHotspot], np.ndarray, Background]:
    """Hotspots against the plain background, then against the background without them."""
    length = net.node_weights()
    n_off = len(areas.office_names)
    street = np.bincount(areas.node_office, weights=length, minlength=n_off)
    street_share = street / max(street.sum(), 1e-12)
    hour_counts = np.bincount(cases.hour, minlength=24).astype(float)
    bg = Background(
        length / max(length.sum(), 1e-12),
        hour_counts / hour_counts.sum(),
        float(len(cases.node)),
        cats.share,
    )
    theta = np.ones(n_off)
    found: list[FoundHotspot] = []
    for _ in range(2):
        found = find_hotspots(cases, bg, scan)
        office_bg = np.bincount(areas.node_office[cases.node], minlength=n_off).astype(float)
        for h in found:
            office_bg[areas.node_office[_nearest(net, h.x, h.y)]] -= h.excess
        theta, _ = intensities(np.clip(office_bg, 0.0, None), street_share)
        place = length * theta[areas.node_office]
        bg_hours = _background_hours(cases, found, hour_counts)
        bg_cats = np.clip(
            cats.counts - sum((h.categories for h in found), np.zeros(len(cats.counts))), 0, None
        )
        bg = Background(
            place / max(place.sum(), 1e-12),
            bg_hours / max(bg_hours.sum(), 1e-12),
            float(max(len(cases.node) - sum(h.excess for h in found), 1.0)),
            bg_cats / max(bg_cats.sum(), 1e-12),
        )
    return found, theta, bg


def _nearest(net: StreetNetwork, x: float, y: float) -> int:
    return int(np.argmin((net.x - x) ** 2 + (net.y - y) ** 2))


def _hotspot_hours(found: list[FoundHotspot], hour_hours: np.ndarray) -> np.ndarray:
    """Cases the hotspots give each hour of day over the window (sampled units)."""
    out = np.zeros(24)
    for h in found:
        out += np.where(h.hour_mask(), h.rate * hour_hours, 0.0)
    return out


def _background_hours(cases: Cases, found: list[FoundHotspot], counts: np.ndarray) -> np.ndarray:
    """Background cases by hour of day: the cases less what the hotspots give, but never
    fewer than the cases outside every hotspot's circle (those are background for sure)."""
    outside = np.ones(len(cases.node), dtype=bool)
    for h in found:
        d = np.hypot(cases.node_x[cases.node] - h.x, cases.node_y[cases.node] - h.y)
        outside &= d > h.radius_m
    floor = np.bincount(cases.hour[outside], minlength=24).astype(float)
    out: np.ndarray = np.maximum(counts - _hotspot_hours(found, cases.hour_hours), floor)
    return out


def _background(
    cases: Cases, found: list[FoundHotspot], fraction: float, names: tuple[str, ...]
) -> BackgroundFit:
    hour_counts = np.bincount(cases.hour, minlength=24).astype(float)
    left = _background_hours(cases, found, hour_counts)
    rate = np.where(cases.hour_hours > 0, left / np.maximum(cases.hour_hours, 1e-12), 0.0)
    per_day = float(rate.sum())
    share = rate / per_day if per_day > 0 else np.full(24, 1 / 24)
    counts = np.bincount(cases.category, minlength=len(names)).astype(float)
    for h in found:
        counts -= h.categories
    counts = np.clip(counts, 0.0, None)
    return BackgroundFit(per_day / fraction, share, Shares.of(names, counts))


@dataclass(frozen=True, eq=False)
class Placed:
    """A log's cases with their street nodes, and the map they lie on."""

    log: CaseLog
    node: np.ndarray
    net: StreetNetwork
    areas: Areas


def _offices(
    placed: Placed, theta: np.ndarray, found: list[FoundHotspot], bg: Background, alpha: float
) -> list[OfficeFit]:
    """Each office's cases, streets, intensity and category mix (outside the hotspots)."""
    log, node, net, areas = placed.log, placed.node, placed.net, placed.areas
    office = areas.node_office[node]
    n_off = len(areas.office_names)
    street_km = np.bincount(areas.node_office, weights=net.node_weights(), minlength=n_off) / 1000
    in_hot = np.zeros(log.n, dtype=bool)
    hours = log.hours()
    for h in found:
        d = np.hypot(net.x[node] - h.x, net.y[node] - h.y)
        in_hot |= (d <= h.radius_m) & h.hour_mask()[hours]
    cats = log.category[~in_hot].astype(np.int64)
    by_office = [cats[office[~in_hot] == k] for k in range(n_off)]
    mixes = office_mixes(by_office, log.categories, bg.categories, alpha)
    counts = np.bincount(office, minlength=n_off)
    return [
        OfficeFit(
            areas.office_names[k],
            int(counts[k]),
            float(street_km[k]),
            float(theta[k]),
            *mixes[k],
        )
        for k in range(n_off)
    ]


def _clock(hour: int) -> str:
    return f"{hour:02d}:00"


def _name(
    found: list[FoundHotspot],
    net: StreetNetwork,
    names: tuple[str, ...],
    fraction: float,
    base: list[BaseHotspot],
) -> list[FittedHotspot]:
    """Fitted hotspots in full units; one that covers a BASE hotspot takes its name."""
    pairs = sorted(
        (float(np.hypot(h.x - b.x, h.y - b.y)), i, j)
        for i, h in enumerate(found)
        for j, b in enumerate(base)
        if np.hypot(h.x - b.x, h.y - b.y) <= h.radius_m + b.radius_m
    )
    taken: dict[int, int] = {}
    for _, i, j in pairs:
        if i not in taken and j not in taken.values():
            taken[i] = j
    lonlat = _lonlat(net, [h.x for h in found], [h.y for h in found])
    out = []
    for i, h in enumerate(found):
        cats = h.categories / h.categories.sum() if h.categories.sum() > 0 else None
        mix = (
            {} if cats is None else {n: float(v) for n, v in zip(names, cats, strict=True) if v > 0}
        )
        base_name = base[taken[i]].name if i in taken else None
        out.append(
            FittedHotspot(
                name=base_name or f"hotspot {i + 1}",
                x=h.x,
                y=h.y,
                lon=lonlat[i][0] if lonlat else None,
                lat=lonlat[i][1] if lonlat else None,
                radius_m=h.radius_m,
                start=_clock(h.start),
                end=_clock(h.end),
                incidents_per_hour=h.rate / fraction,
                categories=mix,
                excess_cases=h.excess,
                p_value=h.p_value,
                found=h,
                base_name=base_name,
            )
        )
    return out


def _lonlat(net: StreetNetwork, x: list[float], y: list[float]) -> list[tuple[float, float]] | None:
    if not net.crs or not x:
        return None
    from pyproj import Transformer  # deferred: pyproj loads only for coordinates to transform

    t = Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    lon, lat = t.transform(np.asarray(x), np.asarray(y))
    return [
        (float(a), float(b)) for a, b in zip(np.atleast_1d(lon), np.atleast_1d(lat), strict=True)
    ]
