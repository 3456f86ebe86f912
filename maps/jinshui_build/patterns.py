"""Local street patterns: what the generator draws inside one block.

A block between drawn roads gets a near-grid of residential and service streets in
its own orientation, in one of three styles by where it lies; a park gets a few
winding paths, a walled compound an inner ring road and gates. Lines are returned
unclipped; streets.py clips them to the block and nodes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from shapely import affinity
from shapely.geometry import LineString

from .blocks import chaikin
from .facts import XY
from .frame import Array

# a generated line and its highway class
Pattern = list[tuple[Any, str]]


@dataclass(frozen=True)
class Style:
    """Street-pattern parameters of one part of town (metres, probabilities)."""

    a_gap: tuple[float, float]  # spacing of the streets along the block's long side
    b_gap: tuple[float, float]  # spacing of the cross streets
    jit: float  # sd of vertex jitter
    tilt: float  # sd of a line's tilt, degrees
    rot: float  # sd of the grid's rotation against the block, degrees
    p_cont: float  # a cross street continues into the next strip
    p_service: float  # a cross street is a service road
    p_dead: float  # a cross street is a dead end
    p_skip: float  # a cross street is left out
    drop: float  # a local chain between junctions is removed (missing links)
    alley: float  # a local street gets a back alley


# "old": the pre-1990 town south of Jinshui Road, dense lanes and many dead ends;
# "core": the 1950s-80s 经/纬 grid between Jinshui and Nongye roads; "north": newer,
# larger walled residential compounds.  Assumptions, chosen to look like the town.
STYLES: dict[str, Style] = {
    "old": Style(
        a_gap=(62, 125),
        b_gap=(58, 135),
        jit=4.5,
        tilt=3.0,
        rot=3.0,
        p_cont=0.45,
        p_service=0.45,
        p_dead=0.22,
        p_skip=0.10,
        drop=0.07,
        alley=0.34,
    ),
    "core": Style(
        a_gap=(76, 145),
        b_gap=(68, 150),
        jit=2.5,
        tilt=1.5,
        rot=2.0,
        p_cont=0.55,
        p_service=0.40,
        p_dead=0.16,
        p_skip=0.08,
        drop=0.06,
        alley=0.26,
    ),
    "north": Style(
        a_gap=(88, 170),
        b_gap=(82, 180),
        jit=2.0,
        tilt=1.2,
        rot=2.0,
        p_cont=0.60,
        p_service=0.40,
        p_dead=0.14,
        p_skip=0.08,
        drop=0.05,
        alley=0.19,
    ),
}


def style_of(pt: XY) -> str:
    """The style of the part of town a design-frame point lies in."""
    x, y = pt
    jinshui_y = -1720 + (x + 1330) * 0.12 if x < 2500 else -1500
    if y < jinshui_y:
        return "old"
    return "core" if y < 900 else "north"


def face_angle(face: Any) -> float:
    """Direction of the block's long side, degrees in [-45, 45)."""
    c = np.asarray(face.minimum_rotated_rectangle.exterior.coords)[:5]
    e = np.diff(c, axis=0)
    k = int(np.argmax(np.hypot(e[:, 0], e[:, 1])))
    ang = math.degrees(math.atan2(e[k, 1], e[k, 0]))
    return (ang + 45.0) % 90.0 - 45.0


def positions(
    lo: float, hi: float, gap: tuple[float, float], rng: np.random.Generator
) -> list[float]:
    """Positions from lo to hi at random gaps, none too close to hi."""
    out = []
    p = lo + rng.uniform(0.45, 1.0) * gap[0]
    while p < hi - 0.45 * gap[0]:
        out.append(p)
        p += rng.uniform(*gap)
    return out


def mark_tertiary(pos: list[float], lo: float, hi: float, rng: np.random.Generator) -> set[int]:
    """Indices of positions promoted to tertiary streets (every ~330-460 m)."""
    marks, last, want = set(), lo, rng.uniform(330, 460)
    for i, p in enumerate(pos):
        if p - last >= want and hi - p >= 230:
            marks.add(i)
            last, want = p, rng.uniform(330, 460)
    return marks


def jitter_line(
    p0: XY | Array,
    p1: XY | Array,
    rng: np.random.Generator,
    jit: float,
    tilt: float,
    step: tuple[float, float] = (80, 140),
) -> Array | None:
    """Polyline from p0 to p1 (u, v) with kinks, a small tilt and vertex jitter."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    L = float(np.hypot(*d))
    if L < 1:
        return None
    ang = math.radians(rng.normal(0.0, tilt))
    mid = (p0 + p1) / 2
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    p0, p1 = mid + rot @ (p0 - mid), mid + rot @ (p1 - mid)
    d = p1 - p0
    n = max(1, round(L / rng.uniform(*step)))
    t = np.linspace(0.0, 1.0, n + 1)
    if n > 1:
        t[1:-1] += rng.uniform(-0.18, 0.18, n - 1) / n
    pts = p0 + t[:, None] * d
    normal = np.array([-d[1], d[0]]) / L
    off = rng.normal(0.0, jit, n + 1)
    off[0] *= 0.3
    off[-1] *= 0.3
    return pts + off[:, None] * normal


def local_pattern(face: Any, style: str, rng: np.random.Generator) -> Pattern:
    """Local streets of one block in the block's own frame: (coords, highway)."""
    st = STYLES[style]
    ang = face_angle(face) + rng.normal(0.0, st.rot)
    c = face.centroid
    fr = affinity.rotate(face, -ang, origin=c)
    u0, v0, u1, v1 = fr.bounds
    out = []
    e = 4.0  # overshoot so that T-junctions node
    vs = positions(v0, v1, st.a_gap, rng)
    us_all = positions(u0, u1, st.b_gap, rng)
    vt = mark_tertiary(vs, v0, v1, rng) if v1 - v0 > 520 else set()
    ut_idx = mark_tertiary(us_all, u0, u1, rng) if u1 - u0 > 520 else set()
    ut = [us_all[i] for i in sorted(ut_idx)]
    for i, v in enumerate(vs):
        cls = "tertiary" if i in vt else "residential"
        jit = st.jit * (0.5 if cls == "tertiary" else 1.0)
        out.append((jitter_line((u0 - 10, v), (u1 + 10, v), rng, jit, st.tilt * 0.6), cls))
    for u in ut:
        out.append(
            (
                jitter_line((u, v0 - 10), (u, v1 + 10), rng, st.jit * 0.5, st.tilt * 0.4),
                "tertiary",
            )
        )
    bounds = [v0 - 10, *vs, v1 + 10]
    prev: list[float] = []
    for k in range(len(bounds) - 1):
        w0, w1 = bounds[k], bounds[k + 1]
        cur = [u + rng.normal(0, 3) for u in prev if rng.random() < st.p_cont]
        for u in positions(u0, u1, st.b_gap, rng):
            if all(abs(u - q) > 38 for q in cur + ut):
                cur.append(u)
        cur = [u for u in sorted(cur) if all(abs(u - q) > 30 for q in ut)]
        kept = []
        for u in cur:
            r = rng.random()
            if r < st.p_skip:
                continue
            kept.append(u)
            cls = "service" if rng.random() < st.p_service else "residential"
            if rng.random() < st.p_dead:
                frac = rng.uniform(0.35, 0.7)
                if rng.random() < 0.5:
                    a, b = (u, w0 - e), (u, w0 + frac * (w1 - w0))
                else:
                    a, b = (u, w1 + e), (u, w1 - frac * (w1 - w0))
                cls = "service"
            else:
                a, b = (u, w0 - e), (u, w1 + e)
            out.append((jitter_line(a, b, rng, st.jit * 0.6, st.tilt), cls))
        prev = kept
    res = []
    for pts, cls in out:
        if pts is None:
            continue
        g = affinity.rotate(LineString(pts), ang, origin=c)
        res.append((g, cls))
    return res


def park_pattern(face: Any, rng: np.random.Generator) -> Pattern:
    """A few winding footpath-like service roads across a park."""
    c = face.centroid
    minx, miny, maxx, maxy = face.bounds
    res = []
    for _ in range(3):
        a = rng.uniform(0, math.pi)
        r = max(maxx - minx, maxy - miny)
        p0 = (c.x - r * math.cos(a), c.y - r * math.sin(a))
        p1 = (c.x + r * math.cos(a), c.y + r * math.sin(a))
        pts = jitter_line(p0, p1, rng, 14.0, 0.0, step=(70, 100))
        assert pts is not None  # the line spans the whole park
        res.append((LineString(chaikin(pts, 1)), "service"))
    return res


def compound_pattern(face: Any, rng: np.random.Generator) -> Pattern:
    """A walled campus/compound: an inner ring road, gates and a few lanes."""
    ring = face.buffer(-45.0, join_style="mitre")
    if ring.is_empty or ring.geom_type != "Polygon":
        return local_pattern(face, "north", rng)
    res = [(ring.exterior.simplify(2.0), "service")]
    ang = face_angle(face)
    c = face.centroid
    fr = affinity.rotate(ring, -ang, origin=c)
    u0, v0, u1, v1 = fr.bounds
    for u in positions(u0, u1, (120, 220), rng):
        res.append(
            (
                affinity.rotate(
                    LineString(jitter_line((u, v0 - 5), (u, v1 + 5), rng, 2.0, 1.0)), ang, origin=c
                ),
                "service",
            )
        )
    for v in positions(v0, v1, (130, 240), rng):
        if rng.random() < 0.6:
            res.append(
                (
                    affinity.rotate(
                        LineString(jitter_line((u0 - 5, v), (u1 + 5, v), rng, 2.0, 1.0)),
                        ang,
                        origin=c,
                    ),
                    "service",
                )
            )
    # gates: a cross through the middle reaching the block edge on all four sides
    ext = affinity.rotate(face, -ang, origin=c).bounds
    um = (u0 + u1) / 2 + rng.uniform(-60, 60)
    vm = (v0 + v1) / 2 + rng.uniform(-60, 60)
    for seg in (((um, ext[1] - 10), (um, ext[3] + 10)), ((ext[0] - 10, vm), (ext[2] + 10, vm))):
        res.append((affinity.rotate(LineString(seg), ang, origin=c), "service"))
    return res
