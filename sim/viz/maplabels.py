"""Label placement on a map: names inside their areas, clear of each other.

Each label tries candidate points (for an area: its pole of inaccessibility, its centroid,
then a grid of inner points) and takes the first where it overlaps no placed label, stays
on the map and mostly inside its area; failing that it shrinks, and at worst takes the
least bad spot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from matplotlib import patheffects as pe
from matplotlib.axes import Axes
from matplotlib.transforms import Bbox
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from sim.viz import report
from sim.viz.basemap import polygons

if TYPE_CHECKING:
    from sim.world.build import World


@dataclass
class Label:
    text: str
    candidates: list[tuple[float, float]]
    size: float
    region: BaseGeometry | None = None  # where the label should sit, if anywhere
    color: str = "#111111"
    weight: str = "bold"
    optional: bool = False  # leave it out rather than overlap another label
    max_spill: float = 0.12  # share of the label that may lie outside its region


def label_points(geom: BaseGeometry) -> list[tuple[float, float]]:
    """Points inside an area to try a label at, best first (pole of inaccessibility first)."""
    parts = sorted(polygons(geom), key=lambda p: -p.area)
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


def place_labels(ax: Axes, labels: Sequence[Label], placed: list[Bbox] | None = None) -> list[Bbox]:
    """Put each label at its first candidate that overlaps no earlier label and stays in its
    area and the map; shrink it if none does; at worst take the least-overlapping spot."""
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
        placed.append(Bbox.from_extents(bb.x0, bb.y0, bb.x1, bb.y1).expanded(1.06, 1.12))
    return placed


def office_labels(world: World, base_size: float) -> list[Label]:
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
        labels.append(Label(text, label_points(geom), size, region=geom))
    return labels
