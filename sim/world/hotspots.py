"""Hotspots and cameras on the map: fixed facts of the world, the same in every replication.

A hotspot (a point, a radius, a rate and active hours, e.g. a night market) is resolved
onto the street nodes within its radius; cameras watch a fixed share of the nodes.
Demand (:mod:`sim.engine.demand`) draws incidents from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.rng import stream
from sim.scenario import Hotspot, Scenario, clock_minutes
from sim.world.network import StreetNetwork


@dataclass(frozen=True, eq=False)
class HotspotSite:
    """A hotspot resolved onto the network."""

    name: str
    nodes: np.ndarray
    weights: np.ndarray  # probability of each node
    per_min: float
    window: tuple[float, float]  # minutes of day; end <= start wraps past midnight
    category_p: np.ndarray
    x: float  # centre, map metres
    y: float
    radius_m: float

    @property
    def per_day(self) -> float:
        """Mean incidents a day: the rate over the daily window."""
        start, end = self.window
        return self.per_min * ((end - start) % 1440.0 or 1440.0)


def hotspot_points(
    hotspots: Sequence[Hotspot], crs: str | None
) -> list[tuple[float, float] | None]:
    """Each hotspot's centre in map metres, computed once the map's CRS is known.

    ``x``/``y`` are taken as they are; ``lon``/``lat`` are projected into ``crs``. A
    lon/lat hotspot on a map without a CRS has no point (``None``).
    """
    to_xy = None
    out: list[tuple[float, float] | None] = []
    for h in hotspots:
        if h.lon is not None and h.lat is not None:
            if not crs:
                out.append(None)
                continue
            if to_xy is None:
                from pyproj import Transformer  # deferred: pyproj loads only for maps in lon/lat

                to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
            hx, hy = to_xy.transform(h.lon, h.lat)
            out.append((float(hx), float(hy)))
        else:
            out.append((float(h.x or 0.0), float(h.y or 0.0)))
    return out


def resolve_hotspots(scenario: Scenario, net: StreetNetwork) -> tuple[list[HotspotSite], list[str]]:
    """Hotspots with their street nodes; those with no street within their radius are dropped."""
    sites, warnings = [], []
    cats = list(scenario.demand.categories)
    default_p = np.array([c.share for c in scenario.demand.categories.values()])
    weights = net.node_weights()
    points = hotspot_points(scenario.demand.hotspots, net.crs)
    for i, (h, point) in enumerate(zip(scenario.demand.hotspots, points, strict=True)):
        if point is None:
            warnings.append(
                f"demand.hotspots[{i}] ({h.name}): lon/lat given but the map has no CRS; dropped"
            )
            continue
        hx, hy = point
        near = np.flatnonzero(np.hypot(net.x - hx, net.y - hy) <= h.radius_m)
        near = near[weights[near] > 0] if (weights[near] > 0).any() else near
        if len(near) == 0:
            warnings.append(
                f"demand.hotspots[{i}] ({h.name}): no street within {h.radius_m:g} m; dropped"
            )
            continue
        w = weights[near] if weights[near].sum() > 0 else np.ones(len(near))
        cp = (
            default_p
            if h.categories is None
            else np.array([h.categories.get(c, 0.0) for c in cats])
        )
        sites.append(
            HotspotSite(
                name=h.name,
                nodes=near,
                weights=w / w.sum(),
                per_min=h.incidents_per_hour / 60.0,
                window=(clock_minutes(h.start), clock_minutes(h.end)),
                category_p=cp / cp.sum(),
                x=hx,
                y=hy,
                radius_m=float(h.radius_m),
            )
        )
    return sites, warnings


def camera_nodes(scenario: Scenario, n_nodes: int) -> np.ndarray:
    """Which nodes a camera watches: fixed infrastructure, the same in every replication."""
    return stream(scenario.seed, "cameras").random(n_nodes) < scenario.discovery.camera.coverage
