#!/usr/bin/env python3
"""Build the default street map of Jinshui District (Zhengzhou) for the simulator.

No public street network of Jinshui is available offline, so this script builds a
documented, reproducible *approximation* from public facts (see maps/jinshui/README.md):
real sub-district (street-office) names and known sizes, the district centre, the
real names and rough relative positions of the arterial roads, the 经/纬 numbered
near-grid layout of the old town, and Gangdu Street on the south edge of Nanyanglu.
Everything else (exact road positions, blocks, alleys, grid cells) is generated.

    python maps/build_jinshui.py [--out DIR]

Deterministic: a fixed seed (numpy default_rng), sorted output, fixed float
formatting and gzip with mtime=0, so two runs give byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import io
import itertools
import json
import math
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
import shapely.ops
import shapely.validation
from pyproj import Geod, Transformer
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import polygonize, unary_union

SEED = 20240501
CENTER_LAT, CENTER_LON = 34.78, 113.67
UTM_CRS = "EPSG:32649"
# Design frame: azimuthal equidistant projection centred on the district centre
# (metres; x east, y north).  All geometry is drawn in this frame, then projected
# to UTM 49N for the graph and to WGS84 lon/lat for the GeoJSON layers.
DESIGN_CRS = f"+proj=aeqd +lat_0={CENTER_LAT} +lon_0={CENTER_LON} +datum=WGS84 +units=m +no_defs"
TO_UTM = Transformer.from_crs(DESIGN_CRS, UTM_CRS, always_xy=True)
TO_LONLAT = Transformer.from_crs(DESIGN_CRS, "EPSG:4326", always_xy=True)
GEOD = Geod(ellps="WGS84")

HIGHWAY_RANK = {"primary": 0, "secondary": 1, "tertiary": 2, "residential": 3, "service": 4}

# ---------------------------------------------------------------------------
# 1. Public facts, drawn by hand in the design frame (metres from 34.78N 113.67E)
# ---------------------------------------------------------------------------

# Built-up boundary of the 15 street offices (report era).  Irregular on purpose:
# railway on the west, old-town edge on the south, Zhengdong on the east.
OUTLINE = [
    (-2450, -2330),
    (-2390, -1250),
    (-2470, 0),
    (-2410, 1480),
    (-2500, 2800),
    (-2430, 3850),
    (-2250, 4250),
    (-1150, 4400),
    (0, 4620),
    (1500, 4600),
    (2600, 4450),
    (3500, 4220),
    (4300, 3850),
    (5000, 3380),
    (5550, 3080),
    (5980, 2450),
    (6060, 1000),
    (5930, -300),
    (6020, -1600),
    (5900, -2180),
    (4800, -2300),
    (3500, -2220),
    (2050, -2620),
    (900, -2740),
    (-300, -2790),
    (-1100, -2550),
    (-1800, -2620),
]

# Roads drawn by hand: (English, Chinese, highway, control points).  Names are real
# Jinshui roads; positions are an approximation of their real relative layout and
# the bends are deliberate.  English None = unnamed generated connector.
ROADS = [
    # --- east-west, south to north
    (
        "Chengbei Road",
        "城北路",
        "secondary",
        [(-1360, -2300), (-300, -2390), (900, -2330), (1930, -2430)],
    ),
    (None, None, "secondary", [(1920, -2150), (3000, -2080), (4420, -2040)]),
    (
        "Jinshui Road",
        "金水路",
        "primary",
        [
            (-3000, -1760),
            (-1330, -1720),
            (-360, -1640),
            (890, -1555),
            (2500, -1500),
            (4400, -1430),
            (7000, -1390),
        ],
    ),
    ("Gangdu Street", "岗杜街", "tertiary", [(-1325, -1290), (-850, -1315), (-355, -1268)]),
    (None, None, "secondary", [(-3000, -1000), (-1320, -960)]),
    ("Weiyi Road", "纬一路", "tertiary", [(900, -1420), (3150, -1370)]),
    ("Weier Road", "纬二路", "tertiary", [(900, -1280), (3150, -1235)]),
    ("Weisan Road", "纬三路", "tertiary", [(900, -1140), (3150, -1100)]),
    ("Weisi Road", "纬四路", "tertiary", [(900, -1000), (3150, -965)]),
    ("Weiwu Road", "纬五路", "secondary", [(900, -860), (2500, -830), (4400, -800)]),
    (None, None, "secondary", [(-355, -880), (900, -860)]),
    (None, None, "secondary", [(4400, -790), (5030, -760), (5800, -700)]),
    (
        "Huanghe Road",
        "黄河路",
        "secondary",
        [(-3000, -150), (-1300, -120), (910, -60), (2700, -40), (4400, 0), (7000, 30)],
    ),
    ("Hongzhuan Road", "红专路", "secondary", [(-350, 400), (910, 420), (3600, 455)]),
    (
        "Nongye Road",
        "农业路",
        "primary",
        [
            (-3000, 850),
            (-1300, 860),
            (-350, 880),
            (910, 900),
            (2700, 930),
            (4400, 960),
            (7000, 1000),
        ],
    ),
    (
        "Fengchan Road",
        "丰产路",
        "secondary",
        [(-1290, 1550), (-340, 1530), (890, 1560), (1760, 1585)],
    ),
    (
        "Dongfeng Road",
        "东风路",
        "primary",
        [
            (-3000, 2250),
            (-1260, 2230),
            (-330, 2200),
            (900, 2220),
            (2700, 2260),
            (4420, 2300),
            (7000, 2330),
        ],
    ),
    (None, None, "secondary", [(905, 2700), (2690, 2720), (3640, 2740)]),
    (
        "North 3rd Ring Road",
        "北三环",
        "primary",
        [(-3000, 3150), (-1200, 3120), (930, 3180), (2700, 3150), (4480, 3100), (7000, 3050)],
    ),
    ("Xingda Road", "兴达路", "secondary", [(-3000, 3900), (-680, 3930), (950, 3980)]),
    (None, None, "secondary", [(950, 3980), (2720, 3950), (4520, 3880)]),
    ("Guoji Road", "国基路", "secondary", [(-3000, 4560), (960, 4600), (3200, 4530)]),
    # --- north-south, west to east
    (None, None, "secondary", [(-1900, -140), (-1930, 855), (-1880, 2240), (-1920, 3140)]),
    (
        "Nanyang Road",
        "南阳路",
        "primary",
        [(-1400, -3200), (-1330, -1720), (-1300, 860), (-1260, 2230), (-1200, 3120), (-1150, 6000)],
    ),
    ("Fengqing Road", "丰庆路", "secondary", [(-700, 2215), (-720, 3140), (-680, 6000)]),
    (
        "Wenhua Road",
        "文化路",
        "primary",
        [(-360, -1640), (-350, 880), (-330, 2200), (-300, 3160), (-250, 6000)],
    ),
    (None, None, "secondary", [(300, -1600), (320, -70)]),
    ("Renmin Road", "人民路", "primary", [(-900, -3300), (200, -2450), (890, -1555)]),
    (
        "Huayuan Road",
        "花园路",
        "primary",
        [(890, -1555), (910, -60), (910, 900), (870, 1500), (900, 2220), (930, 3180), (960, 6000)],
    ),
    ("Jingyi Road", "经一路", "tertiary", [(1180, -1545), (1185, -55)]),
    ("Jinger Road", "经二路", "tertiary", [(1460, -1535), (1465, -50)]),
    (
        "Jingsan Road",
        "经三路",
        "secondary",
        [(1740, -1528), (1745, -48), (1760, 1585), (1770, 2240), (1790, 3165), (1820, 4650)],
    ),
    ("Jingsi Road", "经四路", "tertiary", [(2020, -1520), (2025, -45)]),
    ("Jingwu Road", "经五路", "tertiary", [(2300, -1512), (2305, -43)]),
    ("Jingliu Road", "经六路", "tertiary", [(2580, -1505), (2585, -41)]),
    ("Jingqi Road", "经七路", "tertiary", [(2860, -1497), (2865, -38)]),
    ("Jingba Road", "经八路", "secondary", [(3140, -1490), (3150, 940)]),
    (None, None, "secondary", [(2640, 925), (2680, 2255), (2700, 3150), (2750, 4600)]),
    ("Chengdong Road", "城东路", "secondary", [(1960, -3000), (1900, -1525)]),
    (None, None, "secondary", [(2750, -2900), (2700, -1500)]),
    ("Duling Street", "杜岭街", "tertiary", [(1330, -2380), (1360, -1545)]),
    (
        "Dongming Road",
        "东明路",
        "secondary",
        [(3620, -2600), (3600, -1450), (3580, 940), (3620, 2270), (3660, 3140), (3700, 4300)],
    ),
    (
        "Weilai Road",
        "未来路",
        "primary",
        [(4450, -3000), (4400, -1430), (4380, 960), (4420, 2300), (4480, 3100), (4550, 6000)],
    ),
    (
        "Beilin Road",
        "北林路",
        "secondary",
        [(5050, -2600), (5030, -760), (5000, 975), (5050, 2310), (5080, 3080)],
    ),
    (
        "Zhongzhou Avenue",
        "中州大道",
        "primary",
        [(5850, -3000), (5800, -1390), (5750, 1000), (5700, 2330), (5650, 4000)],
    ),
]

# Waterways (no roads along them): local streets stop at their banks and only the
# drawn roads cross them.  Jinshui River passes the Dashiqiao ("big stone bridge")
# at Nanyang Road and Zijingshan Park; Dongfeng Canal cuts across the north-east.
RIVERS = [
    (
        "Jinshui River",
        "金水河",
        [
            (-2700, -2150),
            (-2000, -2080),
            (-1330, -2030),
            (-900, -2060),
            (-560, -1960),
            (-300, -1850),
            (50, -1880),
            (400, -1820),
            (750, -1700),
            (1100, -1760),
            (1500, -1820),
            (2000, -1800),
            (2500, -1860),
            (3100, -1900),
            (3600, -1960),
            (4100, -2080),
            (4600, -2150),
            (5200, -2350),
            (5700, -2600),
            (6200, -2900),
        ],
    ),
    (
        "Dongfeng Canal",
        "东风渠",
        [
            (-2700, 3420),
            (-1800, 3380),
            (-900, 3300),
            (0, 3330),
            (900, 3000),
            (1800, 2900),
            (2700, 2830),
            (3300, 2600),
            (3900, 2480),
            (4400, 2330),
            (4900, 2000),
            (5400, 1650),
            (5800, 1400),
            (6400, 900),
        ],
    ),
]

ROAD_END_OVERSHOOT = 12.0  # m; every drawn road is extended so T-junctions node


def extend_ends(pts, d=ROAD_END_OVERSHOOT):
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


def chaikin(pts, n=2):
    p = np.asarray(pts, dtype=float)
    for _ in range(n):
        q = np.empty((2 * (len(p) - 1), 2))
        q[0::2] = 0.75 * p[:-1] + 0.25 * p[1:]
        q[1::2] = 0.25 * p[:-1] + 0.75 * p[1:]
        p = np.vstack([p[:1], q, p[-1:]])
    return p


def riverside_road(river, side_m, from_road, to_road):
    """Unnamed tertiary bank road along a waterway between two drawn roads."""
    wl = LineString(chaikin(next(p for n, _, p in RIVERS if n == river)))
    bank = wl.offset_curve(side_m)
    ends = [LineString(next(p for n, _, _, p in ROADS if n == r)) for r in (from_road, to_road)]
    cut = [bank.project(bank.intersection(e)) for e in ends]
    lo, hi = min(cut), max(cut)
    part = shapely.ops.substring(bank, lo, hi).simplify(1.0)
    return (None, None, "tertiary", [(round(x, 1), round(y, 1)) for x, y in part.coords])


ROADS.append(riverside_road("Dongfeng Canal", -32.0, "Huayuan Road", "Weilai Road"))


# ---------------------------------------------------------------------------
# 2. Street offices (report era: 15).  Each block between drawn roads/waterways
#    goes to the office whose sketch rectangle (x0, y0, x1, y1) first contains a
#    point inside the block, so office boundaries follow roads and rivers.
#    Known sizes: Duling ~0.9, Dashiqiao ~1.9, Nanyanglu ~3.74, Dongfenglu ~6.5 km2.
# ---------------------------------------------------------------------------
OFFICES = [
    ("Dashiqiao", "大石桥街道", [(-3000, -3000, -1330, -1740), (-1330, -2150, -360, -1268)]),
    ("Renminlu", "人民路街道", [(-1330, -3000, 1345, -1870), (1930, -3000, 2700, -1900)]),
    ("Duling", "杜岭街道", [(890, -1900, 2700, -1500), (1345, -2150, 1930, -1900)]),
    (
        "Nanyanglu",
        "南阳路街道",
        [(-3000, -1740, -1330, -100), (-1330, -1268, -350, -100), (-1300, -100, -350, 880)],
    ),
    ("Nanyangxincun", "南阳新村街道", [(-3000, -100, -1300, 2230), (-1300, 880, -350, 1550)]),
    ("Wenhualu", "文化路街道", [(-350, -1700, 900, 880)]),
    ("Huayuanlu", "花园路街道", [(900, -1700, 2300, 880)]),
    ("Jingbalu", "经八路街道", [(2300, -1700, 3600, 880), (2700, -3000, 3600, -1450)]),
    ("Weilailu", "未来路街道", [(3600, -3000, 5030, 880)]),
    ("Beilinlu", "北林路街道", [(5030, -3000, 7000, 2330), (4400, 880, 5030, 2330)]),
    (
        "Fengchanlu",
        "丰产路街道",
        [(-1300, 1550, -350, 2230), (-350, 880, 1740, 2230), (-330, 2230, 900, 3160)],
    ),
    ("Dongfenglu", "东风路街道", [(1740, 880, 4400, 3160), (900, 2230, 1740, 3400)]),
    ("Xingdalu", "兴达路街道", [(-3000, 2230, -700, 5000)]),
    ("Guojilu", "国基路街道", [(-700, 3160, 1740, 5000), (-700, 2230, -330, 3160)]),
    ("Fenghuangtai", "凤凰台街道", [(1740, 3160, 7000, 5000), (4400, 2330, 7000, 3160)]),
]

# Street-pattern styles (metres).  "old": the pre-1990 town south of Jinshui Road,
# dense lanes and many dead ends; "core": the 1950s-80s 经/纬 grid between Jinshui
# and Nongye roads; "north": newer, larger walled residential compounds.
STYLES = {
    "old": dict(
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
    "core": dict(
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
    "north": dict(
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


def style_of(pt):
    x, y = pt
    jinshui_y = -1720 + (x + 1330) * 0.12 if x < 2500 else -1500
    if y < jinshui_y:
        return "old"
    return "core" if y < 900 else "north"


# Special blocks (a point inside each): a park gets a few winding paths only, a
# campus/compound gets a sparse ring of service roads.
PARKS = [(1091, -1636)]  # Zijingshan Park (紫荆山公园)
COMPOUNDS = [(279, 650), (2447, 200), (-20, -481), (3991, -404), (1376, 4268)]

RIVER_CLEARANCE = 14.0  # m kept free of local streets on each bank
CLIP_OVERSHOOT = 3.0  # m; local streets overshoot their block edge to node

# ---------------------------------------------------------------------------
# 3. Hotspots (problem-generating places).
# ---------------------------------------------------------------------------
HOTSPOTS = [
    dict(
        name="Gangdu Street night market",
        name_zh="岗杜街夜市烧烤",
        at=("road", "Gangdu Street", 0.5, 15.0),
        radius_m=170,
        incidents_per_hour=4.0,
        start="18:00",
        end="02:00",
        note="MODEL.md: 20+ open-air barbecue stalls on 300 m of Gangdu Street, south "
        "edge of Nanyanglu; evening into night (rate assumed)",
    ),
    dict(
        name="Huayuan-Nongye commercial crossroads",
        name_zh="花园路农业路商圈",
        at=("xy", 960, 850),
        radius_m=300,
        incidents_per_hour=1.5,
        start="10:00",
        end="22:00",
        note="Assumed: malls and office towers at a main crossroads draw daytime "
        "street-occupying vending, out-of-store business and illegal parking",
    ),
    dict(
        name="Zijingshan metro hub",
        name_zh="紫荆山地铁站",
        at=("xy", 1000, -1630),
        radius_m=250,
        incidents_per_hour=1.2,
        start="07:00",
        end="21:00",
        note="Assumed: metro interchange by Zijingshan Park; vendors and "
        "non-motor-vehicle parking at the exits through the day",
    ),
    dict(
        name="Wenhua Road campus gate",
        name_zh="文化路高校门口",
        at=("xy", -300, 650),
        radius_m=200,
        incidents_per_hour=1.0,
        start="17:00",
        end="23:00",
        note="Assumed: snack stalls and scooter parking at a university gate on "
        "Wenhua Road in the evening",
    ),
]

GRID_TARGET_KM2 = 0.55


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def to_lonlat(xy):
    xy = np.asarray(xy, dtype=float)
    lon, lat = TO_LONLAT.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def check_road_ends(outline):
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


def build_faces(outline: Polygon):
    lines = [LineString(extend_ends(pts)) for (_, _, _, pts) in ROADS]
    lines += [LineString(chaikin(pts)) for (_, _, pts) in RIVERS]
    noded = unary_union([*lines, outline.exterior])
    faces = [f for f in polygonize(noded) if outline.contains(f.representative_point())]
    faces.sort(key=lambda f: (round(f.centroid.y, 1), round(f.centroid.x, 1)))
    return faces


def assign_offices(faces):
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


def face_angle(face):
    c = np.asarray(face.minimum_rotated_rectangle.exterior.coords)[:5]
    e = np.diff(c, axis=0)
    k = int(np.argmax(np.hypot(e[:, 0], e[:, 1])))
    ang = math.degrees(math.atan2(e[k, 1], e[k, 0]))
    return (ang + 45.0) % 90.0 - 45.0


def positions(lo, hi, gap, rng, first=None):
    out = []
    p = lo + (first if first is not None else rng.uniform(0.45, 1.0) * gap[0])
    while p < hi - 0.45 * gap[0]:
        out.append(p)
        p += rng.uniform(*gap)
    return out


def mark_tertiary(pos, lo, hi, rng):
    """Indices of positions promoted to tertiary streets (every ~330-460 m)."""
    marks, last, want = set(), lo, rng.uniform(330, 460)
    for i, p in enumerate(pos):
        if p - last >= want and hi - p >= 230:
            marks.add(i)
            last, want = p, rng.uniform(330, 460)
    return marks


def jitter_line(p0, p1, rng, jit, tilt, step=(80, 140)):
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


def local_pattern(face, style, rng):
    """Local streets of one block in the block's own frame: (coords, highway)."""
    st = STYLES[style]
    ang = face_angle(face) + rng.normal(0.0, st["rot"])
    c = face.centroid
    fr = affinity.rotate(face, -ang, origin=c)
    u0, v0, u1, v1 = fr.bounds
    out = []
    e = 4.0  # overshoot so that T-junctions node
    vs = positions(v0, v1, st["a_gap"], rng)
    us_all = positions(u0, u1, st["b_gap"], rng)
    vt = mark_tertiary(vs, v0, v1, rng) if v1 - v0 > 520 else set()
    ut_idx = mark_tertiary(us_all, u0, u1, rng) if u1 - u0 > 520 else set()
    ut = [us_all[i] for i in sorted(ut_idx)]
    for i, v in enumerate(vs):
        cls = "tertiary" if i in vt else "residential"
        jit = st["jit"] * (0.5 if cls == "tertiary" else 1.0)
        out.append((jitter_line((u0 - 10, v), (u1 + 10, v), rng, jit, st["tilt"] * 0.6), cls))
    for u in ut:
        out.append(
            (
                jitter_line((u, v0 - 10), (u, v1 + 10), rng, st["jit"] * 0.5, st["tilt"] * 0.4),
                "tertiary",
            )
        )
    bounds = [v0 - 10, *vs, v1 + 10]
    prev = []
    for k in range(len(bounds) - 1):
        w0, w1 = bounds[k], bounds[k + 1]
        cur = [u + rng.normal(0, 3) for u in prev if rng.random() < st["p_cont"]]
        for u in positions(u0, u1, st["b_gap"], rng):
            if all(abs(u - q) > 38 for q in cur + ut):
                cur.append(u)
        cur = [u for u in sorted(cur) if all(abs(u - q) > 30 for q in ut)]
        kept = []
        for u in cur:
            r = rng.random()
            if r < st["p_skip"]:
                continue
            kept.append(u)
            cls = "service" if rng.random() < st["p_service"] else "residential"
            if rng.random() < st["p_dead"]:
                frac = rng.uniform(0.35, 0.7)
                if rng.random() < 0.5:
                    a, b = (u, w0 - e), (u, w0 + frac * (w1 - w0))
                else:
                    a, b = (u, w1 + e), (u, w1 - frac * (w1 - w0))
                cls = "service"
            else:
                a, b = (u, w0 - e), (u, w1 + e)
            out.append((jitter_line(a, b, rng, st["jit"] * 0.6, st["tilt"]), cls))
        prev = kept
    res = []
    for pts, cls in out:
        if pts is None:
            continue
        g = affinity.rotate(LineString(pts), ang, origin=c)
        res.append((g, cls))
    return res


def park_pattern(face, rng):
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
        res.append((LineString(chaikin(pts, 1)), "service"))
    return res


def compound_pattern(face, rng):
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


# ---------------------------------------------------------------------------
# 4. Street network
# ---------------------------------------------------------------------------
def river_zone():
    rivers = [LineString(chaikin(pts)) for (_, _, pts) in RIVERS]
    return unary_union(rivers).buffer(RIVER_CLEARANCE)


def source_lines(outline, faces, rng):
    """All road centre-lines before noding: (geometry, rank, name, face or -1)."""
    src = []
    for en, zh, hw, pts in ROADS:
        g = LineString(extend_ends(pts)).intersection(outline)
        for part in shapely.get_parts(g):
            src.append((part, HIGHWAY_RANK[hw], f"{en} {zh}" if en else None, -1))
    rz = river_zone()
    parks = [Point(p) for p in PARKS]
    compounds = [Point(p) for p in COMPOUNDS]
    for fid, face in enumerate(faces):
        if face.area < 4000 or face.area / face.length < 18:  # slivers along roads/rivers
            continue
        if any(face.contains(p) for p in parks):
            lines = park_pattern(face, rng)
        elif any(face.contains(p) for p in compounds):
            lines = compound_pattern(face, rng)
        else:
            rp = face.representative_point()
            lines = local_pattern(face, style_of((rp.x, rp.y)), rng)
        region = face.buffer(CLIP_OVERSHOOT, join_style="mitre")
        if region.intersects(rz):
            region = region.difference(rz)
        region = region.intersection(outline.buffer(-12.0))
        geoms = shapely.intersection(np.array([g for g, _ in lines], dtype=object), region)
        for g, (_, cls) in zip(geoms, lines, strict=False):
            for part in shapely.get_parts(g):
                if part.geom_type == "LineString" and part.length > 8.0:
                    src.append((part, HIGHWAY_RANK[cls], None, fid))
    return src


def node_lines(src, faces):
    """Node all lines; return undirected graph on design-frame coordinates."""
    geoms = np.array([s[0] for s in src], dtype=object)
    rank = np.array([s[1] for s in src])
    face = np.array([s[3] for s in src])
    parts = shapely.get_parts(shapely.union_all(geoms))
    mids = shapely.line_interpolate_point(parts, 0.5, normalized=True)
    tree = shapely.STRtree(geoms)
    qi, ti = tree.query(mids, predicate="dwithin", distance=0.01)
    order = np.lexsort((ti, rank[ti], qi))
    qi, ti = qi[order], ti[order]
    first = np.unique(qi, return_index=True)[1]
    owner = np.full(len(parts), -1)
    owner[qi[first]] = ti[first]
    keep = owner >= 0
    # local streets keep only the pieces inside their own block
    loc = keep & (face[np.maximum(owner, 0)] >= 0)
    idx = np.nonzero(loc)[0]
    fa = np.array(faces, dtype=object)[face[owner[idx]]]
    inside = shapely.contains(fa, mids[idx])
    keep[idx[~inside]] = False
    parts, owner = parts[keep], owner[keep]
    coords, pidx = shapely.get_coordinates(parts, return_index=True)
    key = np.round(coords, 3)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.ravel()
    G = nx.Graph()
    for n, (x, y) in enumerate(uniq):
        G.add_node(n, x=float(x), y=float(y))
    same = pidx[1:] == pidx[:-1]
    a, b, w = inv[:-1][same], inv[1:][same], owner[pidx[:-1][same]]
    for u, v, s in zip(a.tolist(), b.tolist(), w.tolist(), strict=False):
        if u == v:
            continue
        r = int(rank[s])
        if G.has_edge(u, v) and G.edges[u, v]["rank"] <= r:
            continue
        G.add_edge(u, v, rank=r, name=src[s][2], way=s + 1)
    return G


def elen(G, u, v):
    a, b = G.nodes[u], G.nodes[v]
    return math.hypot(a["x"] - b["x"], a["y"] - b["y"])


def contract_short(G, min_len=8.0):
    """Merge the ends of very short edges (near-coincident junctions)."""
    while True:
        edges = sorted((u, v) if u < v else (v, u) for u, v in G.edges)
        xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
        a = np.array([xy[u] for u, _ in edges])
        b = np.array([xy[v] for _, v in edges])
        short = [edges[i] for i in np.nonzero(np.hypot(*(a - b).T) < min_len)[0]]
        if not short:
            return G
        done = set()
        for u, v in short:
            if u in done or v in done or not G.has_edge(u, v):
                continue
            # keep the node that lies on the higher-class road
            ru = min(d["rank"] for _, _, d in G.edges(u, data=True))
            rv = min(d["rank"] for _, _, d in G.edges(v, data=True))
            keep, drop = (u, v) if (ru, -G.degree(u), u) <= (rv, -G.degree(v), v) else (v, u)
            for _, w, d in list(G.edges(drop, data=True)):
                if w == keep:
                    continue
                if not G.has_edge(keep, w) or G.edges[keep, w]["rank"] > d["rank"]:
                    G.add_edge(keep, w, **d)
            G.remove_node(drop)
            done.update((u, v))


def prune_dangles(G, max_len=14.0, rounds=3):
    for _ in range(rounds):
        dead = sorted(
            n for n in G.nodes if G.degree(n) == 1 and elen(G, n, next(iter(G[n]))) < max_len
        )
        if not dead:
            break
        G.remove_nodes_from(dead)
        G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])


def chains(G):
    """Maximal paths through degree-2 nodes: list of node lists."""
    seen, out = set(), []
    for u, v in sorted((min(e), max(e)) for e in G.edges):
        if (u, v) in seen:
            continue
        path = [u, v]
        seen.add((u, v))
        for direction in (0, 1):
            while True:
                end, prev = (path[-1], path[-2]) if direction == 0 else (path[0], path[1])
                if G.degree(end) != 2:
                    break
                nxt = [w for w in G[end] if w != prev]
                if not nxt or nxt[0] in path:
                    break
                e = (min(end, nxt[0]), max(end, nxt[0]))
                if e in seen:
                    break
                seen.add(e)
                if direction == 0:
                    path.append(nxt[0])
                else:
                    path.insert(0, nxt[0])
        out.append(path)
    return out


def drop_links(G, rng):
    """Missing links: remove some whole residential/service chains between junctions."""
    for path in chains(G):
        a, b = path[0], path[-1]
        d = G.edges[path[0], path[1]]
        if d["rank"] < 3 or G.degree(a) < 3 or G.degree(b) < 3:
            continue
        mx = (G.nodes[a]["x"] + G.nodes[b]["x"]) / 2
        my = (G.nodes[a]["y"] + G.nodes[b]["y"]) / 2
        if rng.random() < STYLES[style_of((mx, my))]["drop"]:
            G.remove_edges_from(list(itertools.pairwise(path)))
            G.remove_nodes_from(list(path[1:-1]))


def add_alleys(G, rng, outline, rz):
    """Back alleys (背街小巷): short dead-end service lanes off local streets."""
    edges = sorted((min(e), max(e)) for e in G.edges)
    xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    segs = shapely.linestrings(np.array([[xy[u], xy[v]] for u, v in edges]))
    tree = shapely.STRtree(segs)
    hull = outline.buffer(-15.0)
    accepted = {}
    nid = max(G.nodes) + 1
    way = max(d["way"] for _, _, d in G.edges(data=True)) + 1
    for u, v in edges:
        d = G.edges[u, v]
        L = elen(G, u, v)
        mx = (G.nodes[u]["x"] + G.nodes[v]["x"]) / 2
        my = (G.nodes[u]["y"] + G.nodes[v]["y"]) / 2
        if d["rank"] < 2 or L < 50 or rng.random() >= STYLES[style_of((mx, my))]["alley"]:
            continue
        t, side = rng.uniform(0.3, 0.7), (1 if rng.random() < 0.5 else -1)
        length, turn = rng.uniform(32, 88), math.radians(rng.normal(0, 10))
        A = np.array([G.nodes[u]["x"], G.nodes[u]["y"]])
        B = np.array([G.nodes[v]["x"], G.nodes[v]["y"]])
        P = A + t * (B - A)
        dvec = (B - A) / L
        nvec = side * np.array([-dvec[1], dvec[0]])
        c, s = math.cos(turn), math.sin(turn)
        nvec = np.array([c * nvec[0] - s * nvec[1], s * nvec[0] + c * nvec[1]])
        E = P + length * nvec
        probe = LineString([P + 13 * nvec, E])
        if not hull.contains(Point(E)) or probe.intersects(rz):
            continue
        if len(tree.query(probe, predicate="dwithin", distance=10.0)):
            continue
        cell = (int(E[0] // 60), int(E[1] // 60))
        near = [
            q
            for i in (-1, 0, 1)
            for j in (-1, 0, 1)
            for q in accepted.get((cell[0] + i, cell[1] + j), [])
        ]
        if any(probe.distance(q) < 12 for q in near):
            continue
        accepted.setdefault(cell, []).append(LineString([P, E]))
        m, e = nid, nid + 1
        nid += 2
        G.add_node(m, x=float(P[0]), y=float(P[1]))
        G.add_node(e, x=float(E[0]), y=float(E[1]))
        G.remove_edge(u, v)
        G.add_edge(u, m, **d)
        G.add_edge(m, v, **d)
        G.add_edge(m, e, rank=4, name=None, way=way)
        way += 1


def subdivide_long(G, max_len=150.0):
    nid = max(G.nodes) + 1
    for u, v in sorted((min(e), max(e)) for e in G.edges):
        L = elen(G, u, v)
        if max_len >= L:
            continue
        d = G.edges[u, v]
        n = math.ceil(L / 140.0)
        A = np.array([G.nodes[u]["x"], G.nodes[u]["y"]])
        B = np.array([G.nodes[v]["x"], G.nodes[v]["y"]])
        G.remove_edge(u, v)
        prev = u
        for i in range(1, n):
            P = A + (B - A) * i / n
            G.add_node(nid, x=float(P[0]), y=float(P[1]))
            G.add_edge(prev, nid, **d)
            prev, nid = nid, nid + 1
        G.add_edge(prev, v, **d)


def build_network(outline, faces, rng):
    src = source_lines(outline, faces, rng)
    G = node_lines(src, faces)
    contract_short(G)
    prune_dangles(G)
    drop_links(G, rng)
    add_alleys(G, rng, outline, river_zone())
    subdivide_long(G)
    prune_dangles(G)
    G.remove_edges_from(nx.selfloop_edges(G))
    giant = max(nx.connected_components(G), key=lambda c: (len(c), min(c)))
    G.remove_nodes_from(sorted(set(G.nodes) - giant))
    return G


# ---------------------------------------------------------------------------
# 5. Grids (网格): each office cut into ~0.55 km2 cells by recursive bisection
# ---------------------------------------------------------------------------
def halfplane(poly, theta, t):
    """Part of the plane with (p - c) . (cos theta, sin theta) <= t, as a polygon."""
    c = poly.centroid
    d = np.array([math.cos(theta), math.sin(theta)])
    n = np.array([-d[1], d[0]])
    R = 1e5
    o = np.array([c.x, c.y]) + t * d
    return Polygon([o + R * n, o + R * n - R * d, o - R * n - R * d, o - R * n])


def bisect(poly, theta, frac):
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


def split_polygon(poly, k, rng):
    if k <= 1:
        return [poly]
    # cut across the longer extent, along the (near north-south/east-west) streets
    x0, y0, x1, y1 = poly.bounds
    th = 0.0 if x1 - x0 >= y1 - y0 else math.pi / 2
    k1 = k // 2
    cands = []
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


def make_grids(offices, rng):
    grids = []
    for (name, _, _), poly in zip(OFFICES, offices, strict=False):
        k = max(1, round(poly.area / 1e6 / GRID_TARGET_KM2))
        cells = split_polygon(poly, k, rng)
        cells.sort(key=lambda g: (-round(g.centroid.y / 250), g.centroid.x))
        for i, g in enumerate(cells, 1):
            grids.append((name, f"{name}-{i:02d}", g))
    return grids


# ---------------------------------------------------------------------------
# 6. Output
# ---------------------------------------------------------------------------
def geodesic_area_km2(poly_ll):
    return abs(GEOD.geometry_area_perimeter(poly_ll)[0]) / 1e6


def ring_ll(coords):
    ll = np.round(to_lonlat(np.asarray(coords)), 7)
    keep = np.ones(len(ll), bool)
    keep[1:] = np.any(ll[1:] != ll[:-1], axis=1)
    return ll[keep]


def polygon_ll(poly):
    poly = shapely.geometry.polygon.orient(poly, 1.0)
    ll = Polygon(ring_ll(poly.exterior.coords), [ring_ll(r.coords) for r in poly.interiors])
    if not ll.is_valid:
        why = shapely.validation.explain_validity(ll)
        raise RuntimeError(f"invalid polygon after rounding: {why}")
    return ll


def geojson_geom(g):
    if g.geom_type == "Point":
        return {"type": "Point", "coordinates": [round(g.x, 7), round(g.y, 7)]}
    rings = [g.exterior, *list(g.interiors)]
    return {
        "type": "Polygon",
        "coordinates": [[[round(x, 7), round(y, 7)] for x, y in r.coords] for r in rings],
    }


def write_geojson(path, feats):
    lines = [
        json.dumps(
            {"type": "Feature", "properties": props, "geometry": geojson_geom(g)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for props, g in feats
    ]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    Path(path).write_text(text, encoding="utf-8")


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


HIGHWAY_NAME = {v: k for k, v in HIGHWAY_RANK.items()}


def graph_tables(G):
    """Stable node ids (1..N, sorted by UTM y then x) and undirected edge rows."""
    nodes = sorted(G.nodes)
    xy = np.array([[G.nodes[n]["x"], G.nodes[n]["y"]] for n in nodes])
    ux, uy = TO_UTM.transform(xy[:, 0], xy[:, 1])
    ux, uy = np.round(ux, 1), np.round(uy, 1)
    order = np.lexsort((ux, uy))
    new_id = {nodes[i]: k + 1 for k, i in enumerate(order)}
    node_rows = [(k + 1, ux[i], uy[i], G.degree(nodes[i])) for k, i in enumerate(order)]
    edge_rows = []
    for u, v, d in G.edges(data=True):
        a, b = sorted((new_id[u], new_id[v]))
        edge_rows.append((a, b, d["way"], HIGHWAY_NAME[d["rank"]], d["name"], elen(G, u, v)))
    edge_rows.sort()
    return node_rows, edge_rows


def graphml_bytes(node_rows, edge_rows):
    keys = [
        ("d0", "graph", "crs"),
        ("d1", "graph", "name"),
        ("d2", "node", "x"),
        ("d3", "node", "y"),
        ("d4", "node", "street_count"),
        ("d5", "edge", "osmid"),
        ("d6", "edge", "highway"),
        ("d7", "edge", "name"),
        ("d8", "edge", "oneway"),
        ("d9", "edge", "reversed"),
        ("d10", "edge", "length"),
    ]
    out = [
        "<?xml version='1.0' encoding='utf-8'?>",
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">',
    ]
    for kid, dom, name in keys:
        out.append(f'<key id="{kid}" for="{dom}" attr.name="{name}" attr.type="string" />')
    out.append('<graph edgedefault="directed">')
    out.append(f'<data key="d0">{UTM_CRS}</data>')
    out.append(
        '<data key="d1">Jinshui District, Zhengzhou (generated approximation, '
        "maps/build_jinshui.py)</data>"
    )
    for nid, x, y, sc in node_rows:
        out.append(
            f'<node id="{nid}"><data key="d2">{x:.1f}</data><data key="d3">{y:.1f}</data>'
            f'<data key="d4">{sc}</data></node>'
        )
    directed = []
    for a, b, way, hw, name, L in edge_rows:
        directed.append((a, b, way, hw, name, L, "False"))
        directed.append((b, a, way, hw, name, L, "True"))
    directed.sort()
    for a, b, way, hw, name, L, rev in directed:
        nm = f'<data key="d7">{xml_escape(name)}</data>' if name else ""
        out.append(
            f'<edge source="{a}" target="{b}" id="0"><data key="d5">{way}</data>'
            f'<data key="d6">{hw}</data>{nm}<data key="d8">False</data>'
            f'<data key="d9">{rev}</data><data key="d10">{L:.1f}</data></edge>'
        )
    out.append("</graph>")
    out.append("</graphml>")
    return ("\n".join(out) + "\n").encode("utf-8")


def write_gzip(path, data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as z:
        z.write(data)
    Path(path).write_bytes(buf.getvalue())


def hotspot_xy(h):
    kind = h["at"][0]
    if kind == "xy":
        return h["at"][1], h["at"][2]
    _, road, frac, north = h["at"]
    pts = next(p for en, _, _, p in ROADS if en == road)
    q = LineString(pts).interpolate(frac, normalized=True)
    return q.x, q.y + north  # just inside the office north of the street


KNOWN_KM2 = {"Duling": 0.9, "Dashiqiao": 1.9, "Nanyanglu": 3.74, "Dongfenglu": 6.5}


def readme_text(st):
    hw_rows = "\n".join(f"| {hw} | {km:.1f} |" for hw, km in st["km_by_class"])
    off_rows = "\n".join(
        f"| {n} | {zh} | {a:.3f} | {KNOWN_KM2.get(n, '')} | {g} |" for n, zh, a, g in st["offices"]
    )
    hs_rows = "\n".join(
        f"| {h['name']} ({h['name_zh']}) | {lon:.5f}, {lat:.5f} | {h['radius_m']} | "
        f"{h['incidents_per_hour']} | {h['start']}–{h['end']} |"
        for h, lon, lat in st["hotspots"]
    )
    return f"""# Jinshui District default map (generated approximation)

This folder is the simulator's default map of the built-up part of Jinshui District
(金水区), Zhengzhou: the 15 street offices (街道办事处) of the report's time, their
grids (网格), the street network, and problem hotspots.  **No public street network
of Jinshui is available on the build machines**, so the map is a documented,
reproducible approximation generated by `maps/build_jinshui.py` from public facts.
For real streets use an OpenStreetMap extract instead (see `data/osm/README.md` in the
shared folder); the simulator reads both the same way.

## What is real and what is generated

Real (public facts, see `MODEL.md`, "Public facts about Jinshui District"):

- the district centre (34.78°N, 113.67°E) and the ~55 km² built-up area covered by
  1,100 staff at 20 per km²;
- the 15 street-office names (pinyin and Chinese) and the four known sizes:
  Duling ≈0.9 km², Dashiqiao ≈1.9 km², Nanyanglu ≈3.74 km², Dongfenglu ≈6.5 km²
  (pinyin is written as one word, e.g. `Nanyangxincun` for 南阳新村街道; the two
  offices added after the report, Yangjinlu and Fengqinglu, are not included);
- the names of the arterial and secondary roads (金水路, 农业路, 北三环, 东风路, 黄河路,
  花园路, 文化路, 经三路, 未来路, 中州大道, 人民路, 丰产路, 东明路, 南阳路, …), their
  rough relative order (south→north, west→east; for the minor ones such as 城北路,
  城东路, 杜岭街, 红专路, 丰庆路, 兴达路, 国基路, 北林路 the placement is a guess),
  the diagonal of 人民路 in the old town,
  and the 经/纬 numbered near-grid of the old town (经一路…经八路 running north–south
  east of 花园路, 纬一路…纬五路 running east–west north of 金水路);
- Gangdu Street (岗杜街) on the south edge of Nanyanglu, with its night-market /
  open-air barbecue strip (20+ stalls on 300 m);
- the waterways 金水河 (past the "big stone bridge", 大石桥, and Zijingshan) and 东风渠
  as barriers crossed only by roads.

Generated (plausible, not surveyed):

- all geometry: the exact positions and bends of the roads, the built-up outline, the
  office boundaries (drawn along roads and rivers so that the four known sizes come
  out right and the others are plausible), the rough placement of offices (old town —
  Dashiqiao, Renminlu, Duling — in the south-west/south; Nanyanglu and Nanyangxincun in
  the west along 南阳路; Dongfenglu and Fengchanlu in the north; Xingdalu, Guojilu,
  Fenghuangtai north of 北三环; Weilailu and Beilinlu in the east);
- everything below the drawn roads: local tertiary streets, residential streets,
  back alleys (背街小巷) with jittered nodes, staggered T-junctions, dead ends and
  missing links (denser and more irregular in the old town south of 金水路, larger
  compounds in the north), a few walled compounds/campuses and Zijingshan Park;
- the grids (recursive bisection of each office into cells of ~0.55 km²);
- the hotspots other than Gangdu Street, and all hotspot rates and radii.

## Files

| file | content |
|---|---|
| `streets.graphml.gz` | OSMnx-style GraphML (gzip), `networkx.MultiDiGraph`, crs `EPSG:32649` (UTM 49N, metres) |
| `offices.geojson` | 15 street-office polygons (lon/lat), `name`, `name_zh`, `area_km2` |
| `grids.geojson` | grid polygons, `office`, `name` (e.g. `Nanyanglu-03`), `area_km2` |
| `hotspots.geojson` | hotspot points, `name`, `name_zh`, `radius_m`, `incidents_per_hour`, `start`, `end` (may wrap past midnight), `note` |

Graph: node ids are integers; node attributes `x`, `y` (UTM metres, 0.1 m),
`street_count`; edge attributes `osmid` (generated way id), `highway`
(`primary`/`secondary`/`tertiary`/`residential`/`service`), `name` (only on named
roads, e.g. `Huayuan Road 花园路`), `oneway` (`False` everywhere), `reversed`,
`length` (metres, 0.1 m; ground distance, which differs from the UTM grid distance
by the UTM scale factor, ~0.03 % here).  Edges are straight (no `geometry`
attribute); bends are made of nodes.  Every street is two-way and stored as two directed edges
u→v and v→u, as OSMnx does.  As in OSMnx files all attribute values are stored as
strings: `osmnx.load_graphml(path)` converts them; with plain
`networkx.read_graphml(path, node_type=int, force_multigraph=True)` convert `x`, `y`,
`length` with `float()` yourself.  The graph is one strongly connected component.

## Rebuild

    python maps/build_jinshui.py            # writes maps/jinshui/
    python maps/build_jinshui.py --out DIR  # writes elsewhere

Needs numpy, networkx, shapely, pyproj.  Deterministic: fixed seeds
(`numpy.random.default_rng({SEED})` for the network, `{SEED + 1}` for the grids), sorted
output, fixed float formatting, gzip with mtime 0 and no file name; a rebuild gives
byte-identical files (`tests/test_jinshui_map.py` checks this; the `.gz` bytes also
depend on the zlib build, the test reports a content change separately).  Drawn roads, offices,
waterways and hotspots are tables at the top of the script; edit them there.

## How the numbers come out

- Built-up area (sum of offices, geodesic): **{st["total_km2"]:.2f} km²**
- Nodes: **{st["n_nodes"]}**; directed edges: **{st["n_edges"]}**
  ({st["n_edges"] // 2} two-way street segments)
- Road length, each two-way street counted once: **{st["total_km"]:.1f} km**
  (≈ one staff member per km with 1,100 staff); median edge {st["median_edge"]:.0f} m
- Grids: **{st["n_grids"]}**, {st["grid_min"]:.2f}–{st["grid_max"]:.2f} km² each

| highway | km |
|---|---|
{hw_rows}

| office | 街道 | area km² | known km² | grids |
|---|---|---|---|---|
{off_rows}

Hotspots:

| hotspot | lon, lat | radius m | incidents/h | hours |
|---|---|---|---|---|
{hs_rows}

The hotspot rates are assumptions for the simulator's demand model (extra instructions
per hour inside the radius during the window), not reported figures.
"""


def build(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    outline = Polygon(OUTLINE)
    check_road_ends(outline)
    faces = build_faces(outline)
    _, offices = assign_offices(faces)
    G = build_network(outline, faces, np.random.default_rng(SEED))
    grids = make_grids(offices, np.random.default_rng(SEED + 1))

    node_rows, edge_rows = graph_tables(G)
    write_gzip(out / "streets.graphml.gz", graphml_bytes(node_rows, edge_rows))

    office_feats, office_stats = [], []
    n_grids = {}
    for name, _, _ in grids:
        n_grids[name] = n_grids.get(name, 0) + 1
    for (name, zh, _), poly in sorted(zip(OFFICES, offices, strict=False), key=lambda t: t[0][0]):
        ll = polygon_ll(poly)
        a = geodesic_area_km2(ll)
        office_feats.append(({"name": name, "name_zh": zh, "area_km2": round(a, 3)}, ll))
        office_stats.append((name, zh, a, n_grids[name]))
    write_geojson(out / "offices.geojson", office_feats)

    grid_feats = []
    for office, name, poly in sorted(grids, key=lambda t: t[1]):
        ll = polygon_ll(poly)
        grid_feats.append(
            ({"office": office, "name": name, "area_km2": round(geodesic_area_km2(ll), 3)}, ll)
        )
    write_geojson(out / "grids.geojson", grid_feats)

    hs_feats, hs_stats = [], []
    for h in HOTSPOTS:
        lon, lat = to_lonlat([hotspot_xy(h)])[0]
        props = {
            k: h[k]
            for k in ("name", "name_zh", "radius_m", "incidents_per_hour", "start", "end", "note")
        }
        hs_feats.append((props, Point(round(lon, 7), round(lat, 7))))
        hs_stats.append((h, lon, lat))
    write_geojson(out / "hotspots.geojson", hs_feats)

    km = {}
    for _, _, _, hw, _, L in edge_rows:
        km[hw] = km.get(hw, 0.0) + L / 1000.0
    garea = [f[0]["area_km2"] for f in grid_feats]
    st = {
        "total_km2": sum(a for _, _, a, _ in office_stats),
        "n_nodes": len(node_rows),
        "n_edges": 2 * len(edge_rows),
        "total_km": sum(km.values()),
        "median_edge": float(np.median([r[5] for r in edge_rows])),
        "km_by_class": [(hw, km.get(hw, 0.0)) for hw in HIGHWAY_RANK],
        "offices": office_stats,
        "n_grids": len(grid_feats),
        "grid_min": min(garea),
        "grid_max": max(garea),
        "hotspots": hs_stats,
    }
    (out / "README.md").write_text(readme_text(st), encoding="utf-8")
    return st


def main(argv=None):
    ap = argparse.ArgumentParser(description="Build the default Jinshui District map.")
    ap.add_argument(
        "--out",
        default=str(Path(__file__).resolve().parent / "jinshui"),
        help="output directory (default: maps/jinshui next to this script)",
    )
    args = ap.parse_args(argv)
    st = build(args.out)
    print(
        f"wrote {args.out}: {st['n_nodes']} nodes, {st['n_edges']} directed edges, "
        f"{st['total_km']:.1f} km of road, {st['total_km2']:.2f} km2, "
        f"{len(st['offices'])} offices, {st['n_grids']} grids"
    )


if __name__ == "__main__":
    main()
