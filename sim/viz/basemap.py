"""The base of every map picture: the figure, streets, area boundaries, scale bar, north.

A map panel keeps equal axes in metres beside a column for the legend; streets are drawn
wide and dark by importance when the map knows its road classes; office and grid
boundaries as lines; figures are written atomically (:func:`save_map`). Used by the
planning and on-time maps (:mod:`sim.viz.mapplot`) and the score map (:mod:`sim.viz.rankplot`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import matplotlib.pyplot as plt
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from sim.atomic import atomic_path
from sim.viz import report

if TYPE_CHECKING:
    from sim.world.areas import Areas
    from sim.world.network import StreetNetwork

DPI = 150
MAP_INCHES = 10.5  # the longer side of the map panel
SIDE_INCHES = 3.3  # legend / colour-bar column
OFFICE_EDGE = "#2b2b2b"
GRID_EDGE = "#505050"

RANK_WIDTH = (2.6, 2.1, 1.6, 1.15, 0.6, 0.4)
_RANK_GREY = ("#5a5a5a", "#6a6a6a", "#7a7a7a", "#8c8c8c", "#a8a8a8", "#bdbdbd")
_UNIFORM_WIDTH = 0.55


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


def draw_streets(
    ax: Axes,
    net: StreetNetwork,
    ranks: np.ndarray | None,
    *,
    node_color: np.ndarray | None = None,
    alpha: float = 1.0,
    scale: float = 1.0,
    zorder: float = 2.0,
    max_class: int | None = None,
) -> None:
    """Streets, wide and dark by importance when known; colours per node when given.

    With ``max_class`` (and known road classes) only streets up to that class are drawn.
    """
    halves = node_color is not None
    segs, street, node = _segments(net, halves)
    if ranks is not None and max_class is not None:
        keep = ranks[street] <= max_class
        segs, street, node = segs[keep], street[keep], node[keep]
    if len(segs) == 0:
        return
    if ranks is not None:
        r = ranks[street]
        widths = np.asarray(RANK_WIDTH)[r] * scale
        order = np.argsort(-r, kind="stable")  # major streets drawn last, on top
    else:
        widths = np.full(len(segs), _UNIFORM_WIDTH * scale)
        order = np.arange(len(segs))
    if node_color is not None:
        col: Any = node_color[node]
    elif ranks is not None:
        col = np.asarray(_RANK_GREY)[ranks[street]]
    else:
        col = "#9a9a9a"
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


def polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in polygons(g)]
    return []


def patch(geom: BaseGeometry, **kw: Any) -> Any:
    """A matplotlib patch of a (multi)polygon, holes included."""
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for poly in polygons(geom):
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


def draw_boundaries(
    ax: Axes, shapes: Iterable[BaseGeometry], *, color: str, lw: float, zorder: float, **kw: Any
) -> None:
    lines = []
    for geom in shapes:
        for poly in polygons(geom):
            for ring in [poly.exterior, *poly.interiors]:
                lines.append(np.asarray(ring.coords)[:, :2])
    if lines:
        ax.add_collection(LineCollection(lines, colors=color, linewidths=lw, zorder=zorder, **kw))


class MapLike(Protocol):
    """What a map picture needs of a world: the streets and the areas (a World, a StreetMap)."""

    @property
    def net(self) -> StreetNetwork: ...

    @property
    def areas(self) -> Areas: ...


def map_extent(world: MapLike) -> tuple[float, float, float, float]:
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


def map_figure(world: MapLike) -> tuple[Figure, Axes, tuple[float, float, float]]:
    """A figure with an equal-aspect map panel and a side column; (fig, ax, side rect)."""
    x0, y0, x1, y1 = map_extent(world)
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


def scale_bar_and_north(fig: Figure, ax: Axes) -> None:
    """A segmented scale bar (lower left) and a north arrow (upper right) on white panels."""
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


def save_map(fig: Figure, path: Path) -> None:
    """Write the figure to ``path`` atomically (a temporary file in the same folder, then a
    rename) and free it."""
    try:
        with atomic_path(Path(path)) as tmp:
            fig.savefig(tmp, dpi=DPI, format="png", bbox_inches="tight", pad_inches=0.12)
    finally:
        plt.close(fig)


@contextlib.contextmanager
def map_style() -> Iterator[None]:
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
