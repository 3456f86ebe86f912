"""Grids (网格): each street office cut into cells of about 0.55 km².

Recursive bisection: an office is cut across its longer extent into two parts whose
areas match the number of cells each will hold (with a little random slack), choosing
the cut that leaves the fewest pieces, until every part is one cell.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import Polygon

from .facts import OFFICES

GRID_TARGET_KM2 = 0.55


def halfplane(poly: Any, theta: float, t: float) -> Polygon:
    """Part of the plane with (p - c) . (cos theta, sin theta) <= t, as a polygon."""
    c = poly.centroid
    d = np.array([math.cos(theta), math.sin(theta)])
    n = np.array([-d[1], d[0]])
    R = 1e5
    o = np.array([c.x, c.y]) + t * d
    return Polygon([o + R * n, o + R * n - R * d, o - R * n - R * d, o - R * n])


def bisect(poly: Any, theta: float, frac: float) -> tuple[Any, Any]:
    """Cut poly across direction theta so that the first part holds frac of its area."""
    c = poly.centroid
    # search the cut position on a rotated copy (fast clip), cut the original exactly
    rot = affinity.rotate(poly, -theta, origin=c, use_radians=True)
    x0, y0, x1, y1 = rot.bounds
    lo, hi = x0 - c.x, x1 - c.x
    target = frac * poly.area
    for _ in range(32):
        mid = (lo + hi) / 2
        if shapely.clip_by_rect(rot, x0 - 1, y0 - 1, c.x + mid, y1 + 1).area < target:
            lo = mid
        else:
            hi = mid
    h = halfplane(poly, theta, (lo + hi) / 2)
    return poly.intersection(h), poly.difference(h)


def split_polygon(poly: Any, k: int, rng: np.random.Generator) -> list[Any]:
    """Cut poly into k cells of about equal area."""
    if k <= 1:
        return [poly]
    # cut across the longer extent, along the (near north-south/east-west) streets
    x0, y0, x1, y1 = poly.bounds
    th = 0.0 if x1 - x0 >= y1 - y0 else math.pi / 2
    k1 = k // 2
    cands: list[tuple[int, int, Any, Any, int]] = []
    for theta in (th, th + math.pi / 2):
        for kk in sorted({k1, k - k1}):
            frac = kk / k * rng.uniform(0.93, 1.07)
            a, b = bisect(poly, theta, frac)
            parts = len(shapely.get_parts(a)) + len(shapely.get_parts(b))
            cands.append((parts, len(cands), a, b, kk))
    parts, _, a, b, kk = min(cands, key=lambda c: (c[0], c[1]))
    out = []
    for piece, n in ((a, kk), (b, k - kk)):
        piece = max(shapely.get_parts(piece), key=lambda g: g.area) if parts > 2 else piece
        out += split_polygon(piece, n, rng)
    return out


def make_grids(offices: list[Any], rng: np.random.Generator) -> list[tuple[str, str, Any]]:
    """(office, grid name, polygon) of every grid, numbered north to south, west to east."""
    grids = []
    for (name, _, _), poly in zip(OFFICES, offices, strict=False):
        k = max(1, round(poly.area / 1e6 / GRID_TARGET_KM2))
        cells = split_polygon(poly, k, rng)
        cells.sort(key=lambda g: (-round(g.centroid.y / 250), g.centroid.x))
        for i, g in enumerate(cells, 1):
            grids.append((name, f"{name}-{i:02d}", g))
    return grids
