"""Map pictures for a planner's report: streets, areas, staff posts, hotspots, coverage.

Two pictures are drawn here:

* :func:`draw_map` (``python -m sim map``): the street network coloured by the travel
  time of the nearest advisor, street-office and grid boundaries, staff posts by role,
  hotspots, and the advisor coverage: the share of the streets an advisor reaches within
  the first clock.
* :func:`draw_on_time_map` (``on_time_map.png`` of a run): the double-ten on-time share
  per grid as a choropleth diverging around the target on one linear scale, grids with
  few instructions dotted (the rules of :mod:`sim.viz.scales`).

The coverage maths is :mod:`sim.analysis.coverage`, the figure, streets and boundaries
:mod:`sim.viz.basemap`, label placement :mod:`sim.viz.maplabels`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from matplotlib import cm
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch
from matplotlib.transforms import Bbox

from sim.analysis.coverage import BAND_LIMITS, Coverage, advisor_coverage, band_of
from sim.viz import report, scales
from sim.viz.basemap import (
    GRID_EDGE,
    OFFICE_EDGE,
    RANK_WIDTH,
    draw_boundaries,
    draw_streets,
    map_figure,
    map_style,
    patch,
    save_map,
    scale_bar_and_north,
)
from sim.viz.maplabels import Label, label_points, office_labels, place_labels

if TYPE_CHECKING:
    from sim.world.build import World

__all__ = [
    "BANDS",
    "Coverage",
    "advisor_coverage",
    "band_of",
    "clock_text",
    "draw_map",
    "draw_on_time_map",
]

# advisor travel time bands, as multiples of the deadline
BANDS = (
    (BAND_LIMITS[0], "#1a9850", "covered"),
    (BAND_LIMITS[1], "#f08c1e", "late"),
    (math.inf, "#d73027", "beyond"),
)


class _RoleStyle(NamedTuple):
    marker: str
    color: str
    size: float  # scatter area, points²
    label: str
    label_zh: str
    legend_size: float = 7.0  # marker size in the legend, points


# the roles whose posts the planning map draws, in this order (bottom to top)
ROLE_STYLE = {
    "grid": _RoleStyle("o", "#7b4fa6", 7.0, "Grid members", "网格员", 5.5),
    "advisor": _RoleStyle("^", "#0b4f9c", 20.0, "Advisors", "劝导员"),
    "enforcer": _RoleStyle("s", "#111111", 13.0, "Enforcer teams", "执法队"),
}
HOTSPOT_COLOR = "#c51b7d"
NO_DATA = "#d9d9d9"


def _hotspot_circles(world: World) -> list[tuple[str, float, float, float]]:
    """(name, x, y, radius) of the hotspots that made it onto the map."""
    return [(s.name, s.x, s.y, s.radius_m) for s in world.sites]


def _draw_hotspots(ax: Axes, world: World, placed: list[Bbox]) -> int:

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
        labels.append(Label(name, cands, 8.0, color=HOTSPOT_COLOR))
    place_labels(ax, labels, placed)
    return len(spots)


def clock_text(hour: float) -> str:
    m = round(hour * 60) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def _mode_text(world: World) -> str:
    sc = world.scenario
    mode = sc.travel.mode.of("advisor")
    kmh = float(getattr(sc.travel.speed_kmh, mode))
    names = {"walk": "on foot", "ebike": "e-bike", "car": "car"}
    return f"{names.get(mode, mode)} {kmh:g} km/h"


# --------------------------------------------------------------------------- pictures


def draw_map(world: World, path: Path, hour: float | None = None) -> Coverage:
    """The planning map of a scenario (see the module docstring); returns the coverage.

    Written atomically to ``path`` (PNG); with ``hour`` only staff on duty then are shown
    and only advisors on duty then count for the coverage.
    """
    with map_style():
        return _draw_map(world, Path(path), hour)


def _draw_map(world: World, path: Path, hour: float | None) -> Coverage:
    cov = advisor_coverage(world, hour)
    net, areas, sc = world.net, world.areas, world.scenario
    ranks = net.street_classes()
    fig, ax, (sx, sy, sh) = map_figure(world)

    for geom in areas.office_shapes:
        p = patch(geom, fc="#f1f0ea", ec="none", zorder=0)
        if p is not None:
            ax.add_patch(p)
    band = band_of(cov.minutes, cov.deadline)
    node_color = np.asarray([b[1] for b in BANDS])[band]
    draw_streets(ax, net, ranks, node_color=node_color, scale=0.9, zorder=2)
    draw_boundaries(
        ax, areas.grid_shapes, color=GRID_EDGE, lw=0.8, zorder=3, linestyles=(0, (5, 2.5))
    )
    draw_boundaries(ax, areas.office_shapes, color="white", lw=3.2, zorder=4, alpha=0.8)
    draw_boundaries(ax, areas.office_shapes, color=OFFICE_EDGE, lw=1.3, zorder=4.1)
    counts = _draw_posts(ax, world, hour)
    placed = place_labels(ax, office_labels(world, 10.0))
    n_hot = _draw_hotspots(ax, world, placed)
    scale_bar_and_north(fig, ax)

    legend = _Legend()
    legend.header(f"Advisor on scene ({_mode_text(world)})", gap=False)
    d = cov.deadline
    band_labels = (
        f"≤ {d:g} min: covered ({100 * cov.share:.1f}%)",
        f"{d:g}–{1.5 * d:g} min: late",
        f"> {1.5 * d:g} min or unreachable",
    )
    legend.handles.extend(
        Line2D([], [], color=b[1], lw=3.2, label=text)
        for b, text in zip(BANDS, band_labels, strict=True)
    )
    legend.header("Staff posts" + (f" on duty at {clock_text(hour)}" if hour is not None else ""))
    _post_entries(legend, world, counts, hour)
    _area_entries(legend, world, n_hot)
    if ranks is not None:
        _road_entries(legend, ranks)
    legend.draw(fig, (sx, sy + sh))

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
    save_map(fig, path)
    return cov


def _draw_posts(ax: Axes, world: World, hour: float | None) -> dict[str, tuple[int, int]]:
    """Each styled role's posts (on duty at ``hour`` when given); (shown, all) per role."""
    net = world.net
    shown = {
        role: world.roster[role].on_duty(hour * 60.0)
        if hour is not None
        else np.ones(world.roster[role].n, dtype=bool)
        for role in ROLE_STYLE
    }
    # bigger markers when there are few posts to show
    total = sum(int(v.sum()) for v in shown.values())
    grow = float(np.clip(math.sqrt(600.0 / max(total, 1)), 1.0, 3.0))
    counts = {}
    for k, (role, st) in enumerate(ROLE_STYLE.items()):
        units = world.roster[role]
        nodes = units.node[shown[role]]
        ax.scatter(
            net.x[nodes],
            net.y[nodes],
            s=st.size * grow,
            marker=st.marker,
            c=st.color,
            edgecolors="white",
            linewidths=0.45,
            zorder=7 + k * 0.1,
        )
        counts[role] = (int(shown[role].sum()), units.n)
    return counts


class _Legend:
    """The entries of a map's legend, with bold section headers."""

    def __init__(self) -> None:
        self.handles: list[Any] = []
        self.headers: set[str] = set()

    def header(self, text: str, gap: bool = True) -> None:
        if gap:
            self.handles.append(Line2D([], [], color="none", label=" "))
        self.handles.append(Line2D([], [], color="none", label=text))
        self.headers.add(text)

    def draw(self, fig: Any, anchor: tuple[float, float]) -> None:
        leg = fig.legend(
            handles=self.handles,
            loc="upper left",
            bbox_to_anchor=anchor,
            frameon=False,
            fontsize=8.6,
            handlelength=2.2,
            borderaxespad=0,
        )
        for item in leg.get_texts():
            if item.get_text() in self.headers:
                item.set_fontweight("bold")


def _post_entries(
    legend: _Legend, world: World, counts: dict[str, tuple[int, int]], hour: float | None
) -> None:
    for role, st in ROLE_STYLE.items():
        label = f"{st.label} {st.label_zh}" if report.cjk_font() else st.label
        on, total = counts[role]
        num = f"{on:,} of {total:,} on duty" if hour is not None else f"{total:,}"
        per_unit = world.roster[role].people_per_unit
        extra = f" (×{per_unit})" if per_unit > 1 else ""  # teams
        extra += ", from the roster" if role in world.roster.rostered else ""
        legend.handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker=st.marker,
                ms=st.legend_size,
                mfc=st.color,
                mec="white",
                label=f"{label}: {num}{extra}",
            )
        )


def _area_entries(legend: _Legend, world: World, n_hot: int) -> None:
    areas = world.areas
    legend.header("Areas")
    legend.handles.append(
        Line2D(
            [], [], color=OFFICE_EDGE, lw=1.3, label=f"Street offices: {len(areas.office_names)}"
        )
    )
    legend.handles.append(
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
        legend.handles.append(
            Patch(
                fc=HOTSPOT_COLOR,
                alpha=0.35,
                ec=HOTSPOT_COLOR,
                ls="--",
                label=f"Hotspots (radius): {n_hot}",
            )
        )


def _road_entries(legend: _Legend, ranks: np.ndarray) -> None:
    legend.header("Road class (line width)")
    present = set(ranks.tolist())
    for ks, text in (
        ((0, 1), "main road"),
        ((2, 3), "secondary road"),
        ((4, 5), "local street"),
    ):
        if present & set(ks):
            legend.handles.append(
                Line2D([], [], color="#777777", lw=0.9 * RANK_WIDTH[ks[0]], label=text)
            )


def draw_on_time_map(world: World, summary: dict[str, Any], path: Path) -> None:
    """Double-ten on-time share per grid, diverging around the target (a run's picture).

    ``summary`` is a run summary (its ``by_grid`` rows, ``double_ten`` and ``incidents``).
    """
    with map_style():
        _draw_on_time_map(world, summary, Path(path))


def _draw_on_time_map(world: World, summary: dict[str, Any], path: Path) -> None:
    areas, sc = world.areas, world.scenario
    target = float(sc.rules.target)
    reps = int(summary.get("replications", 1))
    share, count = _grid_shares(world, summary, reps)
    known = share[np.isfinite(share)]
    scale = scales.compliance_scale(known.tolist(), target)
    thin = np.isfinite(share) & (count < scales.THIN_SAMPLE)

    fig, ax, (sx, sy, sh) = map_figure(world)
    for k, geom in enumerate(areas.grid_shapes):
        if np.isfinite(share[k]):
            p = patch(geom, fc=scale.colour(share[k]), ec="none", zorder=1)
            if thin[k]:  # a share of a few instructions: dotted over its colour
                ax.add_patch(patch(geom, fc="none", ec="#555555", hatch="..", lw=0, zorder=1.5))
        else:
            p = patch(geom, fc=NO_DATA, ec="#9a9a9a", hatch="////", lw=0, zorder=1)
        if p is not None:
            ax.add_patch(p)
    # the main roads are enough to find one's way over the grid colours
    draw_streets(
        ax, world.net, world.net.street_classes(), alpha=0.35, scale=0.7, zorder=2, max_class=3
    )
    draw_boundaries(ax, areas.grid_shapes, color="white", lw=0.7, zorder=3, alpha=0.9)
    draw_boundaries(ax, areas.office_shapes, color=OFFICE_EDGE, lw=1.5, zorder=4)
    placed = place_labels(ax, office_labels(world, 10.0))
    _late_labels(ax, world, share, target, placed)
    scale_bar_and_north(fig, ax)
    _colorbar(fig, (sx + 0.01, sy + sh * 0.42, 0.018, sh * 0.55), scale)
    _on_time_legend(fig, world, (share, count, thin), scale, (sx, sy + sh * 0.36))
    below = int((known < target).sum())
    overall = summary.get("double_ten")
    n = summary.get("incidents")
    head = f"{sc.name}: double-ten on-time share by grid"
    sub = (f"{100 * overall:.1f}% overall" if overall is not None else "no incidents measured") + (
        f" over {n:,.0f} instructions" if n else ""
    )
    sub += f"; target {100 * target:g}%; {below} of {len(known)} grids below it"
    if len(known):
        sizes = count[np.isfinite(share)]
        sub += (
            f"\ninstructions per grid {sizes.min():,.0f}–{sizes.max():,.0f} "
            f"(median {float(np.median(sizes)):,.0f})"
            + (f" over {reps} replications" if reps > 1 else "")
        )
    ax.set_title(f"{head}\n{sub}", loc="left", fontsize=11.5, pad=10)
    save_map(fig, path)


def _grid_shares(world: World, summary: dict[str, Any], reps: int) -> tuple[np.ndarray, np.ndarray]:
    """Double-ten share per grid of the map (NaN: no incidents there), and the
    instructions it rests on, pooled over the replications."""
    rows = {str(r["grid"]): r for r in summary.get("by_grid", [])}
    share = np.full(len(world.areas.grid_names), np.nan)
    count = np.zeros(len(world.areas.grid_names))
    for k, name in enumerate(world.areas.grid_names):
        r = rows.get(name)
        if r is not None and r.get("incidents") and r.get("double_ten") is not None:
            share[k] = float(r["double_ten"])
            count[k] = report.pooled_count(r, "incidents", reps)
    return share, count


def _late_labels(
    ax: Axes, world: World, share: np.ndarray, target: float, placed: list[Bbox]
) -> None:
    """The share of each grid below the target, written in it where it fits."""
    shapes = world.areas.grid_shapes
    late = [k for k in np.argsort(share) if np.isfinite(share[k]) and share[k] < target]
    place_labels(
        ax,
        [
            Label(
                f"{100 * share[k]:.0f}%",
                label_points(shapes[k]),
                7.5,
                region=shapes[k],
                color="#5a0a14",
                weight="normal",
                optional=True,
                max_spill=0.5,
            )
            for k in late
        ],
        placed,
    )


def _colorbar(fig: Any, box: tuple[float, float, float, float], scale: scales.Scale) -> None:
    """The compliance scale beside the map, the target marked."""
    cmap, norm = report.scale_colormap(scale)
    cax = fig.add_axes(box)
    cb = fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax)
    center = scale.centre
    cb.set_ticks(list(scale.ticks))
    cb.set_ticklabels([f"{100 * t:g}%" + ("  target" if t == center else "") for t in scale.ticks])
    cb.ax.axhline(center, color="black", lw=1.2)
    cb.ax.tick_params(labelsize=8.5)
    cb.set_label("incidents meeting both clocks (double ten); one scale both sides", fontsize=9)
    cb.outline.set_linewidth(0.5)


def _on_time_legend(
    fig: Any,
    world: World,
    grids: tuple[np.ndarray, np.ndarray, np.ndarray],
    scale: scales.Scale,
    anchor: tuple[float, float],
) -> None:
    """Grids below the target, thin and empty ones, and the worst."""
    share, count, thin = grids
    known = share[np.isfinite(share)]
    below = int((known < scale.centre).sum()) if len(known) else 0
    empty = int((~np.isfinite(share)).sum())
    handles = [
        Patch(
            fc=scale.colour(scale.low),
            ec="none",
            label=f"below target: {below} of {len(known)} grids (share shown)",
        )
    ]
    if thin.any():
        handles.append(
            Patch(fc="white", ec="#555555", hatch="..", lw=0.5,
                  label=f"fewer than {scales.THIN_SAMPLE} instructions: {int(thin.sum())} grids")
        )  # fmt: skip
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
                label=f"worst grid: {world.areas.grid_names[worst]} {100 * share[worst]:.1f}%"
                f" of {count[worst]:,.0f}",
            )
        )
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=anchor,
        frameon=False,
        fontsize=8.6,
        borderaxespad=0,
    )
