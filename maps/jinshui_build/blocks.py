"""The drawn lines made ready for geometry, and the blocks and offices they bound.

Rivers are smoothed, road ends are extended so that T-junctions node, the riverside
roads are laid along the smoothed rivers, and the plane inside the outline is cut
into blocks (faces) by roads and rivers. Each block goes to the office whose sketch
rectangle first contains a point inside it, so office boundaries follow roads and
rivers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import polygonize, unary_union

from .facts import OFFICES, RIVERS, RIVERSIDE_ROADS, XY, OnRoad, Road
from .facts import ROADS as DRAWN_ROADS
from .frame import Array

ROAD_END_OVERSHOOT = 12.0  # m; every drawn road is extended so T-junctions node


def chaikin(pts: Array | Sequence[XY], n: int = 2) -> Array:
    """Smooth a polyline by ``n`` rounds of Chaikin corner cutting (ends kept)."""
    p = np.asarray(pts, dtype=float)
    for _ in range(n):
        q = np.empty((2 * (len(p) - 1), 2))
        q[0::2] = 0.75 * p[:-1] + 0.25 * p[1:]
        q[1::2] = 0.25 * p[:-1] + 0.75 * p[1:]
        p = np.vstack([p[:1], q, p[-1:]])
    return p


def riverside_road(river: str, side_m: float, from_road: str, to_road: str) -> Road:
    """Unnamed tertiary bank road along a waterway between two drawn roads."""
    wl = LineString(chaikin(next(p for n, _, p in RIVERS if n == river)))
    bank = wl.offset_curve(side_m)
    ends = [
        LineString(next(p for n, _, _, p in DRAWN_ROADS if n == r)) for r in (from_road, to_road)
    ]
    cut = [bank.project(bank.intersection(e)) for e in ends]
    lo, hi = min(cut), max(cut)
    part = shapely.ops.substring(bank, lo, hi).simplify(1.0)
    return (None, None, "tertiary", [(round(x, 1), round(y, 1)) for x, y in part.coords])


# every road of the map: the drawn ones, then the riverside ones
ROADS: list[Road] = DRAWN_ROADS + [riverside_road(*r) for r in RIVERSIDE_ROADS]


def extend_ends(pts: Sequence[XY], d: float = ROAD_END_OVERSHOOT) -> Array:
    """Extend both ends by d metres, except where the end is another road's end."""
    p = np.asarray(pts, dtype=float)
    out = p.copy()
    for i, j in ((0, 1), (-1, -2)):
        shared = sum(
            1
            for r in ROADS
            for q in (r[3][0], r[3][-1])
            if math.hypot(q[0] - p[i][0], q[1] - p[i][1]) < 1.0
        )
        if shared > 1:
            continue
        v = p[i] - p[j]
        out[i] = p[i] + v / np.hypot(*v) * d
    return out


def check_road_ends(outline: Polygon) -> None:
    """Every drawn road must end on another road/waterway or outside the outline."""
    lines = [LineString(extend_ends(pts)) for (_, _, _, pts) in ROADS]
    lines += [LineString(chaikin(pts)) for (_, _, pts) in RIVERS]
    for i, (en, zh, _, _) in enumerate(ROADS):
        ln = lines[i]
        for head in (True, False):
            end = Point(ln.coords[0] if head else ln.coords[-1])
            if not outline.contains(end):
                continue
            w = ROAD_END_OVERSHOOT + 30.0
            piece = (
                shapely.ops.substring(ln, 0, w)
                if head
                else shapely.ops.substring(ln, ln.length - w, ln.length)
            )
            if not any(j != i and other.intersects(piece) for j, other in enumerate(lines)):
                raise RuntimeError(f"road {en or zh or i} ends in the open at {end}")


def build_faces(outline: Polygon) -> list[Any]:
    """The blocks inside the outline, bounded by roads and rivers, in a fixed order."""
    lines = [LineString(extend_ends(pts)) for (_, _, _, pts) in ROADS]
    lines += [LineString(chaikin(pts)) for (_, _, pts) in RIVERS]
    noded = unary_union([*lines, outline.exterior])
    faces = [f for f in polygonize(noded) if outline.contains(f.representative_point())]
    faces.sort(key=lambda f: (round(f.centroid.y, 1), round(f.centroid.x, 1)))
    return faces


def assign_offices(faces: list[Any]) -> tuple[list[int], list[Any]]:
    """Each block's office (index into OFFICES) and each office's polygon."""
    owner = []
    for f in faces:
        p = f.representative_point()
        for k, (_, _, rects) in enumerate(OFFICES):
            if any(x0 <= p.x < x1 and y0 <= p.y < y1 for x0, y0, x1, y1 in rects):
                owner.append(k)
                break
        else:
            raise RuntimeError(f"block at {p} has no office")
    polys = []
    for k in range(len(OFFICES)):
        u = unary_union([f for f, o in zip(faces, owner, strict=False) if o == k])
        if u.geom_type != "Polygon":
            raise RuntimeError(f"office {OFFICES[k][0]} is not one polygon")
        polys.append(Polygon(u.exterior.coords, [r.coords for r in u.interiors]))
    return owner, polys


def hotspot_xy(at: OnRoad | XY) -> XY:
    """Design-frame point of a hotspot placed on a road or at a point."""
    if not isinstance(at, OnRoad):
        return at
    pts = next(p for en, _, _, p in ROADS if en == at.road)
    q = LineString(pts).interpolate(at.frac, normalized=True)
    return q.x, q.y + at.north_m
