"""Map pictures for a planner's report: streets, areas, staff posts, hotspots, coverage.

Two pictures are drawn here:

* :func:`draw_map` (``python -m sim map``): the street network coloured by the travel
  time of the nearest advisor, street-office and grid boundaries, staff posts by role,
  hotspots, and the advisor coverage: the share of the streets an advisor reaches within
  the first clock.
* :func:`draw_on_time_map` (``on_time_map.png`` of a run): the double-ten on-time share
  per grid as a choropleth diverging around the target.

Coverage counts road length the way incidents are placed in the simulator: every node
carries half of each street at it (:meth:`StreetNetwork.node_weights`), and that length is
covered when an advisor leaving the nearest counted post (after the mean turnout) arrives
there by the deadline. Distances come from the advisor travel table, so nodes beyond its
cutoff count as not covered.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from sim.atomic import atomic_path
from sim.viz import report

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    from sim.world.build import World
    from sim.world.network import StreetNetwork

DPI = 150
MAP_INCHES = 10.5  # the longer side of the map panel
SIDE_INCHES = 3.3  # legend / colour-bar column
# advisor travel time bands, as multiples of the deadline
BANDS = (
    (1.0, "#1a9850", "covered"),
    (1.5, "#f08c1e", "late"),
    (math.inf, "#d73027", "beyond"),
)


class _RoleStyle(NamedTuple):
    marker: str
    color: str
    size: float  # scatter area, points²
    label: str
    label_zh: str


ROLE_STYLE = {
    "grid": _RoleStyle("o", "#7b4fa6", 7.0, "Grid members", "网格员"),
    "advisor": _RoleStyle("^", "#0b4f9c", 20.0, "Advisors", "劝导员"),
    "enforcer": _RoleStyle("s", "#111111", 13.0, "Enforcer teams", "执法队"),
}
HOTSPOT_COLOR = "#c51b7d"
OFFICE_EDGE = "#2b2b2b"
GRID_EDGE = "#505050"
NO_DATA = "#d9d9d9"
# on-time share: red far below the target, pale at it, green above
ON_TIME_COLORS = ("#a50f15", "#ef6548", "#fdd49e", "#f7f7d0", "#d3ecae", "#9fd18c", "#52a96a")

_RANK_WIDTH = (2.6, 2.1, 1.6, 1.15, 0.6, 0.4)
_RANK_GREY = ("#5a5a5a", "#6a6a6a", "#7a7a7a", "#8c8c8c", "#a8a8a8", "#bdbdbd")
_UNIFORM_WIDTH = 0.55


# ------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class Coverage:
    """Advisor travel times to every node and the share of road length covered in time."""

    minutes: np.ndarray  # per node: turnout + travel from the nearest counted post; inf beyond
    share: float  # of road length reached within the deadline
    deadline: float  # minutes (rules.advisor_minutes)
    road_km: float
    posts: int  # advisor units counted (on duty at ``hour``, or all)
    total_posts: int
    hour: float | None
    speed_m_per_min: float
    turnout_min: float
    cutoff_min: float  # travel table reach, turnout included

    @property
    def covered_km(self) -> float:
        return self.share * self.road_km


def advisor_coverage(world: World, hour: float | None = None) -> Coverage:
    """Travel time of the nearest advisor to every node and the road-length share in time.

    With ``hour`` only advisors on duty at that hour of the first day count.
    """
    sc = world.scenario
    net = world.net
    units = world.roster["advisor"]
    table = world.tables["advisor"]
    counted = units.on_duty(hour * 60.0) if hour is not None else np.ones(units.n, dtype=bool)
    dist = np.full(net.n, np.inf)
    if counted.all():
        for node in range(net.n):
            _, d = table.candidates(node)
            if len(d):
                dist[node] = d[0]
    elif counted.any():
        for node in range(net.n):
            u, d = table.candidates(node)
            ok = counted[u]
            if ok.any():
                dist[node] = d[int(ok.argmax())]
    speed = sc.travel.speed_m_per_min("advisor")
    turnout = float(sc.dispatch.advisor_turnout.mean_value)
    minutes = turnout + dist / speed
    deadline = float(sc.rules.advisor_minutes)
    weights = net.node_weights()
    total = float(weights.sum())
    share = float(weights[minutes <= deadline].sum()) / total if total > 0 else 0.0
    return Coverage(
        minutes=minutes,
        share=share,
        deadline=deadline,
        road_km=total / 1000.0,
        posts=int(counted.sum()),
        total_posts=units.n,
        hour=hour,
        speed_m_per_min=speed,
        turnout_min=turnout,
        cutoff_min=turnout + table.cutoff_m / speed,
    )


def band_of(minutes: np.ndarray, deadline: float) -> np.ndarray:
    """Index into :data:`BANDS` of each travel time."""
    return np.searchsorted(np.array([b[0] * deadline for b in BANDS[:-1]]), minutes, side="left")


# ------------------------------------------------------------------- street importance


# --------------------------------------------------------------------------- drawing


def _segments(net: StreetNetwork, halves: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street segments as an (k, 2, 2) array, with the street index and start node of each.

    With ``halves`` every street is split at its middle, each half belonging to its end
    node (the length that node carries in the coverage share).
    """
    u, v, _ = net.streets
    a = np.column_stack([net.x[u], net.y[u]])
    b = np.column_stack([net.x[v], net.y[v]])
    idx = np.arange(len(u))
    if not halves:
        return np.stack([a, b], axis=1), idx, u
    mid = (a + b) / 2
    segs = np.concatenate([np.stack([a, mid], axis=1), np.stack([mid, b], axis=1)])
    return segs, np.concatenate([idx, idx]), np.concatenate([u, v])


def _draw_streets(
    ax: Axes,
    net: StreetNetwork,
    ranks: np.ndarray | None,
    *,
    colors: Sequence[str] | np.ndarray | None = None,
    node_color: np.ndarray | None = None,
    alpha: float = 1.0,
    scale: float = 1.0,
    zorder: float = 2.0,
    max_class: int | None = None,
) -> None:
    """Streets, wide and dark by importance when known; colours per node when given.

    With ``max_class`` (and known road classes) only streets up to that class are drawn.
    """
    from matplotlib.collections import LineCollection

    halves = node_color is not None
    segs, street, node = _segments(net, halves)
    if ranks is not None and max_class is not None:
        keep = ranks[street] <= max_class
        segs, street, node = segs[keep], street[keep], node[keep]
    if len(segs) == 0:
        return
    if ranks is not None:
        r = ranks[street]
        widths = np.asarray(_RANK_WIDTH)[r] * scale
        order = np.argsort(-r, kind="stable")  # major streets drawn last, on top
    else:
        widths = np.full(len(segs), _UNIFORM_WIDTH * scale)
        order = np.arange(len(segs))
    if node_color is not None:
        col: Any = node_color[node]
    elif ranks is not None and colors is None:
        col = np.asarray(_RANK_GREY)[ranks[street]]
    else:
        col = colors if colors is not None else "#9a9a9a"
    if not isinstance(col, str):
        col = np.asarray(col)[order]
    ax.add_collection(
        LineCollection(
            list(segs[order]),
            colors=col,
            linewidths=widths[order],
            alpha=alpha,
            zorder=zorder,
            capstyle="round",
        )
    )


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def _patch(geom: BaseGeometry, **kw: Any) -> Any:
    """A matplotlib patch of a (multi)polygon, holes included."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for poly in _polygons(geom):
        for ring in [poly.exterior, *poly.interiors]:
            c = np.asarray(ring.coords)[:, :2]
            if len(c) < 3:
                continue
            code = np.full(len(c), MplPath.LINETO, dtype=np.uint8)
            code[0] = MplPath.MOVETO
            code[-1] = MplPath.CLOSEPOLY
            verts.append(c)
            codes.append(code)
    if not verts:
        return None
    return PathPatch(MplPath(np.concatenate(verts), np.concatenate(codes)), **kw)


def _draw_boundaries(
    ax: Axes, shapes: Iterable[BaseGeometry], *, color: str, lw: float, zorder: float, **kw: Any
) -> None:
    from matplotlib.collections import LineCollection

    lines = []
    for geom in shapes:
        for poly in _polygons(geom):
            for ring in [poly.exterior, *poly.interiors]:
                lines.append(np.asarray(ring.coords)[:, :2])
    if lines:
        ax.add_collection(LineCollection(lines, colors=color, linewidths=lw, zorder=zorder, **kw))


def _extent(world: World) -> tuple[float, float, float, float]:
    shapes = list(world.areas.office_shapes)
    x0, y0 = float(world.net.x.min()), float(world.net.y.min())
    x1, y1 = float(world.net.x.max()), float(world.net.y.max())
    if shapes:
        bx0, by0, bx1, by1 = shapely.total_bounds(shapes)
        # offices may reach far past the streets (a generous polygon); frame the streets
        x0, y0 = min(x0, max(bx0, x0 - 0.05 * (x1 - x0))), min(y0, max(by0, y0 - 0.05 * (y1 - y0)))
        x1, y1 = max(x1, min(bx1, x1 + 0.05 * (x1 - x0))), max(y1, min(by1, y1 + 0.05 * (y1 - y0)))
    if x1 - x0 < 1.0:
        x0, x1 = x0 - 50.0, x1 + 50.0
    if y1 - y0 < 1.0:
        y0, y1 = y0 - 50.0, y1 + 50.0
    return x0, y0, x1, y1


def _figure(world: World) -> tuple[Figure, Axes, tuple[float, float, float]]:
    """A figure with an equal-aspect map panel and a side column; (fig, ax, side rect)."""
    x0, y0, x1, y1 = _extent(world)
    pad = 0.035 * max(x1 - x0, y1 - y0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    aspect = (y1 - y0) / (x1 - x0)
    if aspect >= 1:
        map_h = MAP_INCHES
        map_w = max(MAP_INCHES / aspect, 4.0)
    else:
        map_w = MAP_INCHES + 1.5
        map_h = max(map_w * aspect, 5.5)
    # refit the data window to the panel so equal axes leave no empty band
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    span_x, span_y = x1 - x0, y1 - y0
    if span_y / span_x < map_h / map_w:
        span_y = span_x * map_h / map_w
    else:
        span_x = span_y * map_w / map_h
    margin, gap, top = 0.25, 0.3, 1.0  # top: room for a two-line title
    fig_w = margin + map_w + gap + SIDE_INCHES + margin
    fig_h = margin + map_h + top
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((margin / fig_w, margin / fig_h, map_w / fig_w, map_h / fig_h))
    ax.set_xlim(cx - span_x / 2, cx + span_x / 2)
    ax.set_ylim(cy - span_y / 2, cy + span_y / 2)
    ax.set_aspect("equal", adjustable="box")
    ax.grid(False)
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(True)
        s.set_color("#777777")
        s.set_linewidth(0.8)
    ax.set_facecolor("#fbfbf8")
    side = ((margin + map_w + gap) / fig_w, margin / fig_h, map_h / fig_h)
    return fig, ax, side


def _nice_length(span: float) -> float:
    """A round scale-bar length of at most a fifth of the map width (at least 50 m)."""
    steps = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000)
    fitting = [v for v in steps if v <= span / 5.0]
    return float(fitting[-1]) if fitting else 50.0


def _scale_bar_and_north(fig: Figure, ax: Axes) -> None:
    """A segmented scale bar (lower left) and a north arrow (upper right) on white panels."""
    from matplotlib.patches import FancyBboxPatch, Rectangle

    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    sx, sy = x1 - x0, y1 - y0
    inch = sy / (ax.get_position().height * fig.get_figheight())  # metres per inch on paper
    length = _nice_length(sx)
    h, pad, text_h = 0.07 * inch, 0.09 * inch, 0.16 * inch
    bx, by = x0 + 0.25 * inch, y0 + 0.22 * inch
    ax.add_patch(
        FancyBboxPatch(
            (bx - pad - 0.08 * inch, by - pad),
            length + 2 * pad + 0.16 * inch,
            h + text_h + 2 * pad,
            boxstyle=f"round,pad=0,rounding_size={0.06 * inch:.3f}",
            fc="white",
            ec="#bbbbbb",
            lw=0.6,
            alpha=0.9,
            zorder=8,
        )
    )
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 4, by),
                length / 4,
                h,
                fc="#222222" if i % 2 == 0 else "white",
                ec="#222222",
                lw=0.7,
                zorder=9,
            )
        )
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    for at, text in ((bx, "0"), (bx + length / 2, ""), (bx + length, label)):
        if text:
            ax.text(at, by + h + 0.03 * inch, text, fontsize=8, ha="center", va="bottom", zorder=9)
    # north arrow
    ax.annotate(
        "",
        xy=(0.955, 0.965),
        xytext=(0.955, 0.885),
        xycoords="axes fraction",
        arrowprops={
            "arrowstyle": "-|>,head_width=0.45,head_length=0.9",
            "color": "#222222",
            "lw": 1.8,
        },
        zorder=9,
    )
    ax.text(
        0.955,
        0.87,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=11,
        fontweight="bold",
        zorder=9,
        bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "none", "alpha": 0.8},
    )


# ------------------------------------------------------------------- label placement


@dataclass
class _Label:
    text: str
    candidates: list[tuple[float, float]]
    size: float
    region: BaseGeometry | None = None  # where the label should sit, if anywhere
    color: str = "#111111"
    weight: str = "bold"
    optional: bool = False  # leave it out rather than overlap another label
    max_spill: float = 0.12  # share of the label that may lie outside its region


def _candidates(geom: BaseGeometry) -> list[tuple[float, float]]:
    """Points inside an area to try a label at, best first (pole of inaccessibility first)."""
    parts = sorted(_polygons(geom), key=lambda p: -p.area)
    if not parts:
        c = geom.centroid
        return [(c.x, c.y)]
    poly = parts[0]
    x0, y0, x1, y1 = poly.bounds
    try:
        pole = polylabel(poly, tolerance=max(x1 - x0, y1 - y0) / 200)
    except Exception:  # polylabel may fail on degenerate rings
        pole = poly.representative_point()
    pts = [(pole.x, pole.y)]
    c = poly.centroid
    if poly.contains(c):
        pts.append((c.x, c.y))
    gx, gy = np.meshgrid(np.linspace(x0, x1, 9)[1:-1], np.linspace(y0, y1, 9)[1:-1])
    inner = poly.buffer(-0.08 * math.sqrt(poly.area))
    if inner.is_empty:
        inner = poly
    mask = shapely.contains_xy(inner, gx.ravel(), gy.ravel())
    extra = sorted(
        zip(gx.ravel()[mask].tolist(), gy.ravel()[mask].tolist(), strict=True),
        key=lambda p: math.hypot(p[0] - pole.x, p[1] - pole.y),
    )
    return pts + extra


def _overlap(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def _place_labels(
    ax: Axes, labels: Sequence[_Label], placed: list[Bbox] | None = None
) -> list[Bbox]:
    """Put each label at its first candidate that overlaps no earlier label and stays in its
    area and the map; shrink it if none does; at worst take the least-overlapping spot."""
    from matplotlib import patheffects as pe
    from matplotlib.transforms import Bbox as MBbox

    placed = [] if placed is None else placed
    fig = ax.figure
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = ax.get_window_extent(renderer)
    to_data = ax.transData.inverted()
    halo = [pe.withStroke(linewidth=2.6, foreground="white", alpha=0.9)]
    for lab in labels:
        best: tuple[float, float, float, float] | None = None
        done = False
        for size in (lab.size, lab.size * 0.86, lab.size * 0.74):
            for x, y in lab.candidates:
                t = ax.text(x, y, lab.text, fontsize=size, ha="center", va="center")
                bb = t.get_window_extent(renderer).expanded(1.06, 1.12)
                t.remove()
                area = max(bb.width * bb.height, 1e-9)
                clash = sum(_overlap(bb, p) for p in placed) / area
                out = 1.0 - _overlap(bb, frame) / area
                spill = 0.0
                if lab.region is not None:
                    (dx0, dy0), (dx1, dy1) = to_data.transform([(bb.x0, bb.y0), (bb.x1, bb.y1)])
                    box = shapely.box(dx0, dy0, dx1, dy1)
                    spill = 1.0 - lab.region.intersection(box).area / max(box.area, 1e-9)
                score = 10 * clash + 10 * out + spill + (lab.size - size) / lab.size
                if best is None or score < best[0]:
                    best = (score, x, y, size)
                if clash == 0 and out == 0 and spill <= lab.max_spill:
                    done = True
                    break
            if done:
                break
        assert best is not None
        if lab.optional and not done:
            continue
        _, x, y, size = best
        t = ax.text(
            x,
            y,
            lab.text,
            fontsize=size,
            ha="center",
            va="center",
            color=lab.color,
            fontweight=lab.weight,
            linespacing=1.05,
            zorder=12,
            path_effects=halo,
        )
        bb = t.get_window_extent(renderer)
        placed.append(MBbox.from_extents(bb.x0, bb.y0, bb.x1, bb.y1).expanded(1.06, 1.12))
    return placed


def _office_labels(world: World, base_size: float) -> list[_Label]:
    areas = world.areas
    labels = []
    order = np.argsort(-areas.office_km2, kind="stable")
    big = float(areas.office_km2.max()) if len(areas.office_km2) else 1.0
    for k in order.tolist():
        name, zh = areas.office_names[k], areas.office_names_zh[k]
        text = report.place_label(name, zh)
        if text != name:  # Chinese can be drawn: Chinese above pinyin
            text = f"{zh}\n{name}"
        size = base_size * (0.82 + 0.18 * math.sqrt(areas.office_km2[k] / big))
        geom = areas.office_shapes[k]
        labels.append(_Label(text, _candidates(geom), size, region=geom))
    return labels


def _hotspot_circles(world: World) -> list[tuple[str, float, float, float]]:
    """(name, x, y, radius) of the hotspots that made it onto the map."""
    return [(s.name, s.x, s.y, s.radius_m) for s in world.sites]


def _draw_hotspots(ax: Axes, world: World, placed: list[Bbox]) -> int:
    from matplotlib.patches import Circle

    spots = _hotspot_circles(world)
    labels = []
    for name, hx, hy, r in spots:
        ax.add_patch(Circle((hx, hy), r, fc=HOTSPOT_COLOR, alpha=0.16, ec="none", zorder=1))
        ax.add_patch(
            Circle((hx, hy), r, fc="none", ec=HOTSPOT_COLOR, lw=1.6, ls=(0, (3, 1.5)), zorder=10)
        )
        ax.plot([hx], [hy], marker="*", ms=8, color=HOTSPOT_COLOR, mec="white", mew=0.6, zorder=11)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        off = r + 0.03 * (y1 - y0)
        cands = [
            (hx, hy + off),
            (hx, hy - off),
            (hx + off + 0.06 * (x1 - x0), hy),
            (hx - off - 0.06 * (x1 - x0), hy),
            (hx, hy + 2 * off),
            (hx, hy - 2 * off),
        ]
        labels.append(_Label(name, cands, 8.0, color=HOTSPOT_COLOR))
    _place_labels(ax, labels, placed)
    return len(spots)


def _save(fig: Figure, path: Path) -> None:
    """Write the figure to ``path`` atomically (a temporary file in the same folder, then a
    rename) and free it."""
    try:
        with atomic_path(Path(path)) as tmp:
            fig.savefig(tmp, dpi=DPI, format="png", bbox_inches="tight", pad_inches=0.12)
    finally:
        plt.close(fig)


def clock_text(hour: float) -> str:
    m = round(hour * 60) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def _mode_text(world: World) -> str:
    sc = world.scenario
    mode = sc.travel.mode.advisor
    kmh = float(getattr(sc.travel.speed_kmh, mode))
    names = {"walk": "on foot", "ebike": "e-bike", "car": "car"}
    return f"{names.get(mode, mode)} {kmh:g} km/h"


# --------------------------------------------------------------------------- pictures


@contextlib.contextmanager
def _map_style() -> Iterator[None]:
    """The report's look (Chinese by font fallback where a CJK font exists), restored after."""
    quiet = logging.getLogger("matplotlib.font_manager")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # CJK fonts often lack bold: matplotlib says so per text
    try:
        with plt.rc_context():
            report.style()
            yield
    finally:
        quiet.setLevel(level)


def draw_map(world: World, path: Path, hour: float | None = None) -> Coverage:
    """The planning map of a scenario (see the module docstring); returns the coverage.

    Written atomically to ``path`` (PNG); with ``hour`` only staff on duty then are shown
    and only advisors on duty then count for the coverage.
    """
    with _map_style():
        return _draw_map(world, Path(path), hour)


def _draw_map(world: World, path: Path, hour: float | None) -> Coverage:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    cov = advisor_coverage(world, hour)
    net, areas, sc = world.net, world.areas, world.scenario
    ranks = net.street_classes()
    fig, ax, (sx, sy, sh) = _figure(world)

    for geom in areas.office_shapes:
        p = _patch(geom, fc="#f1f0ea", ec="none", zorder=0)
        if p is not None:
            ax.add_patch(p)
    band = band_of(cov.minutes, cov.deadline)
    node_color = np.asarray([b[1] for b in BANDS])[band]
    _draw_streets(ax, net, ranks, node_color=node_color, scale=0.9, zorder=2)
    _draw_boundaries(
        ax, areas.grid_shapes, color=GRID_EDGE, lw=0.8, zorder=3, linestyles=(0, (5, 2.5))
    )
    _draw_boundaries(ax, areas.office_shapes, color="white", lw=3.2, zorder=4, alpha=0.8)
    _draw_boundaries(ax, areas.office_shapes, color=OFFICE_EDGE, lw=1.3, zorder=4.1)

    handles: list[Any] = []
    counts = {}
    # bigger markers when there are few posts to show
    shown = {
        role: world.roster[role].on_duty(hour * 60.0)
        if hour is not None
        else np.ones(world.roster[role].n, dtype=bool)
        for role in ("grid", "advisor", "enforcer")
    }
    total = sum(int(v.sum()) for v in shown.values())
    grow = float(np.clip(math.sqrt(600.0 / max(total, 1)), 1.0, 3.0))
    for role in ("grid", "advisor", "enforcer"):
        units = world.roster[role]
        show = shown[role]
        nodes = units.node[show]
        st = ROLE_STYLE[role]
        ax.scatter(
            net.x[nodes],
            net.y[nodes],
            s=st.size * grow,
            marker=st.marker,
            c=st.color,
            edgecolors="white",
            linewidths=0.45,
            zorder=7 + ("grid", "advisor", "enforcer").index(role) * 0.1,
        )
        counts[role] = (int(show.sum()), units.n)
    placed = _place_labels(ax, _office_labels(world, 10.0))
    n_hot = _draw_hotspots(ax, world, placed)
    _scale_bar_and_north(fig, ax)

    # legend
    def label_for(role: str) -> str:
        st = ROLE_STYLE[role]
        label = f"{st.label} {st.label_zh}" if report.cjk_font() else st.label
        on, total = counts[role]
        num = f"{on:,} of {total:,} on duty" if hour is not None else f"{total:,}"
        extra = f" (×{world.roster[role].people_per_unit})" if role == "enforcer" else ""
        return f"{label}: {num}{extra}"

    d = cov.deadline
    band_labels = (
        f"≤ {d:g} min: covered ({100 * cov.share:.1f}%)",
        f"{d:g}–{1.5 * d:g} min: late",
        f"> {1.5 * d:g} min or unreachable",
    )
    headers: set[str] = set()

    def header(text: str, gap: bool = True) -> None:
        if gap:
            handles.append(Line2D([], [], color="none", label=" "))
        handles.append(Line2D([], [], color="none", label=text))
        headers.add(text)

    header(f"Advisor on scene ({_mode_text(world)})", gap=False)
    handles.extend(
        Line2D([], [], color=b[1], lw=3.2, label=text)
        for b, text in zip(BANDS, band_labels, strict=True)
    )
    header("Staff posts" + (f" on duty at {clock_text(hour)}" if hour is not None else ""))
    for role in ("grid", "advisor", "enforcer"):
        st = ROLE_STYLE[role]
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker=st.marker,
                ms=7 if role != "grid" else 5.5,
                mfc=st.color,
                mec="white",
                label=label_for(role),
            )
        )
    header("Areas")
    handles.append(
        Line2D(
            [], [], color=OFFICE_EDGE, lw=1.3, label=f"Street offices: {len(areas.office_names)}"
        )
    )
    handles.append(
        Line2D(
            [],
            [],
            color=GRID_EDGE,
            lw=0.8,
            ls=(0, (5, 2.5)),
            label=f"Grids: {len(areas.grid_names)}",
        )
    )
    if n_hot:
        handles.append(
            Patch(
                fc=HOTSPOT_COLOR,
                alpha=0.35,
                ec=HOTSPOT_COLOR,
                ls="--",
                label=f"Hotspots (radius): {n_hot}",
            )
        )
    if ranks is not None:
        header("Road class (line width)")
        present = set(ranks.tolist())
        for ks, text in (
            ((0, 1), "main road"),
            ((2, 3), "secondary road"),
            ((4, 5), "local street"),
        ):
            if present & set(ks):
                handles.append(
                    Line2D([], [], color="#777777", lw=0.9 * _RANK_WIDTH[ks[0]], label=text)
                )
    leg = fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(sx, sy + sh),
        frameon=False,
        fontsize=8.6,
        handlelength=2.2,
        borderaxespad=0,
    )
    for item in leg.get_texts():
        if item.get_text() in headers:
            item.set_fontweight("bold")

    when = (
        f"the {cov.posts:,} advisors on duty at {clock_text(hour)}"
        if hour is not None
        else f"all {cov.posts:,} advisor posts"
    )
    ax.set_title(
        f"{sc.name}: advisor coverage under the {d:g}-minute clock\n"
        f"{100 * cov.share:.1f}% of {cov.road_km:,.0f} km of streets reached within {d:g} min "
        f"from {when} ({_mode_text(world)}, {cov.turnout_min:g} min mean turnout)",
        loc="left",
        fontsize=11.5,
        pad=10,
    )
    _save(fig, path)
    return cov


def draw_on_time_map(world: World, summary: dict[str, Any], path: Path) -> None:
    """Double-ten on-time share per grid, diverging around the target (a run's picture).

    ``summary`` is a run summary (its ``by_grid`` rows, ``double_ten`` and ``incidents``).
    """
    with _map_style():
        _draw_on_time_map(world, summary, Path(path))


def _draw_on_time_map(world: World, summary: dict[str, Any], path: Path) -> None:
    from matplotlib import cm
    from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
    from matplotlib.patches import Patch

    areas, sc = world.areas, world.scenario
    target = float(sc.rules.target)
    rows = {str(r["grid"]): r for r in summary.get("by_grid", [])}
    share = np.full(len(areas.grid_names), np.nan)
    for k, name in enumerate(areas.grid_names):
        r = rows.get(name)
        if r is not None and r.get("incidents") and r.get("double_ten") is not None:
            share[k] = float(r["double_ten"])
    known = share[np.isfinite(share)]
    center = min(target, 1.0 - 1e-6)
    low = min(float(known.min()) if len(known) else center, center - 0.1)
    vmin = max(0.0, math.floor(low * 20) / 20)
    vmin = min(vmin, center - 0.01)
    norm = TwoSlopeNorm(vmin=vmin, vcenter=center, vmax=1.0)
    cmap = LinearSegmentedColormap.from_list("on_time", ON_TIME_COLORS)

    fig, ax, (sx, sy, sh) = _figure(world)
    for k, geom in enumerate(areas.grid_shapes):
        if np.isfinite(share[k]):
            p = _patch(geom, fc=cmap(norm(share[k])), ec="none", zorder=1)
        else:
            p = _patch(geom, fc=NO_DATA, ec="#9a9a9a", hatch="////", lw=0, zorder=1)
        if p is not None:
            ax.add_patch(p)
    # the main roads are enough to find one's way over the grid colours
    _draw_streets(
        ax, world.net, world.net.street_classes(), alpha=0.35, scale=0.7, zorder=2, max_class=3
    )
    _draw_boundaries(ax, areas.grid_shapes, color="white", lw=0.7, zorder=3, alpha=0.9)
    _draw_boundaries(ax, areas.office_shapes, color=OFFICE_EDGE, lw=1.5, zorder=4)
    placed = _place_labels(ax, _office_labels(world, 10.0))
    late = [k for k in np.argsort(share) if np.isfinite(share[k]) and share[k] < target]
    _place_labels(
        ax,
        [
            _Label(
                f"{100 * share[k]:.0f}%",
                _candidates(areas.grid_shapes[k]),
                7.5,
                region=areas.grid_shapes[k],
                color="#5a0a14",
                weight="normal",
                optional=True,
                max_spill=0.5,
            )
            for k in late
        ],
        placed,
    )
    _scale_bar_and_north(fig, ax)

    cax = fig.add_axes((sx + 0.01, sy + sh * 0.42, 0.018, sh * 0.55))
    cb = fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    ticks = sorted({vmin, center, 1.0, *np.arange(math.ceil(vmin * 10) / 10, 1.0, 0.1).round(2)})
    ticks = [t for t in ticks if abs(t - center) > 0.02 or t == center]
    cb.set_ticks(ticks)
    cb.set_ticklabels([f"{100 * t:g}%" + ("  target" if t == center else "") for t in ticks])
    cb.ax.axhline(center, color="black", lw=1.2)
    cb.ax.tick_params(labelsize=8.5)
    cb.set_label("incidents meeting both clocks (double ten)", fontsize=9)
    cb.outline.set_linewidth(0.5)

    below = int((known < target).sum())
    empty = int((~np.isfinite(share)).sum())
    handles = [
        Patch(
            fc=cmap(norm(vmin)),
            ec="none",
            label=f"below target: {below} of {len(known)} grids (share shown)",
        )
    ]
    if empty:
        handles.append(
            Patch(fc=NO_DATA, ec="#9a9a9a", hatch="////", label=f"no incidents: {empty} grids")
        )
    if len(known):
        worst = int(np.nanargmin(share))
        handles.append(
            Patch(
                fc="none",
                ec="none",
                label=f"worst grid: {areas.grid_names[worst]} {100 * share[worst]:.1f}%",
            )
        )
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(sx, sy + sh * 0.36),
        frameon=False,
        fontsize=8.6,
        borderaxespad=0,
    )
    overall = summary.get("double_ten")
    n = summary.get("incidents")
    head = f"{sc.name}: double-ten on-time share by grid"
    sub = (f"{100 * overall:.1f}% overall" if overall is not None else "no incidents measured") + (
        f" over {n:,.0f} instructions" if n else ""
    )
    sub += f"; target {100 * target:g}%; {below} of {len(known)} grids below it"
    ax.set_title(f"{head}\n{sub}", loc="left", fontsize=11.5, pad=10)
    _save(fig, path)
