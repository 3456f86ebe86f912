"""Street offices and grids: the areas staff answer for and results are reported by.

Every node of the network belongs to exactly one grid and one street office. Offices
come from a GeoJSON file, the scenario, or a generator; when none are given, square
cells cover the network. Grids come from a GeoJSON file or are square cells of a
configurable size clipped to each office.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon, box, shape
from shapely.geometry.base import BaseGeometry

from sim.errors import require_file
from sim.scenario import ScenarioError
from sim.world.network import StreetNetwork


@dataclass(frozen=True, eq=False)
class Areas:
    """Offices and grids with the nodes in each (all geometry in the network's metres)."""

    office_names: tuple[str, ...]
    office_names_zh: tuple[str, ...]
    office_shapes: tuple[BaseGeometry, ...]
    office_km2: np.ndarray
    grid_names: tuple[str, ...]
    grid_shapes: tuple[BaseGeometry, ...]
    grid_office: np.ndarray
    node_office: np.ndarray
    node_grid: np.ndarray
    grid_road_m: np.ndarray  # street length per grid, for patrol cycles

    @property
    def total_km2(self) -> float:
        return float(self.office_km2.sum())

    def office_index(self, name: str) -> int:
        return self.office_names.index(name)


def read_geojson_polygons(
    path: Path, crs: str | None, where: str
) -> list[tuple[dict[str, Any], BaseGeometry]]:
    """Polygon features of a GeoJSON file, projected into the network's CRS."""
    require_file(path, where, "GeoJSON file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        feats = [(f.get("properties") or {}, shape(f["geometry"])) for f in data["features"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ScenarioError(
            [f"{where}: not a GeoJSON FeatureCollection of polygons ({exc})"]
        ) from None
    feats = [(p, g) for p, g in feats if g.geom_type in ("Polygon", "MultiPolygon")]
    if not feats:
        raise ScenarioError([f"{where}: no polygon features in {path.name}"])
    if crs and _looks_geographic(feats):
        from pyproj import Transformer  # deferred: pyproj loads only for maps in lon/lat

        t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        feats = [
            (p, shapely.transform(g, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1]))))
            for p, g in feats
        ]
    return feats


def _looks_geographic(feats: list[tuple[dict[str, Any], BaseGeometry]]) -> bool:
    minx, miny, maxx, maxy = shapely.total_bounds([g for _, g in feats])
    return bool(minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90)


def square_cells(bounds: tuple[float, float, float, float], size: float) -> list[Polygon]:
    """Square cells of side ``size`` covering ``bounds`` (row-major from the south-west)."""
    minx, miny, maxx, maxy = bounds
    nx_ = max(1, math.ceil((maxx - minx) / size - 1e-9))
    ny_ = max(1, math.ceil((maxy - miny) / size - 1e-9))
    return [
        box(minx + i * size, miny + j * size, minx + (i + 1) * size, miny + (j + 1) * size)
        for j in range(ny_)
        for i in range(nx_)
    ]


def _cell_label(i: int) -> str:
    label = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        label = chr(65 + r) + label
    return label


def _assign(x: np.ndarray, y: np.ndarray, shapes: list[BaseGeometry]) -> np.ndarray:
    """Index of the shape containing each point; points outside all go to the nearest."""
    out = np.full(len(x), -1, dtype=np.int64)
    for k, g in enumerate(shapes):
        todo = out < 0
        if not todo.any():
            break
        inside = shapely.contains_xy(g, x[todo], y[todo]) | shapely.intersects_xy(
            g.boundary, x[todo], y[todo]
        )
        out[np.flatnonzero(todo)[inside]] = k
    left = np.flatnonzero(out < 0)
    if len(left):
        pts = shapely.points(x[left], y[left])
        dist = np.stack([shapely.distance(g, pts) for g in shapes])
        out[left] = dist.argmin(axis=0)
    return out


Office = tuple[str, str, BaseGeometry]  # name, Chinese name, shape
Grid = tuple[int, str, BaseGeometry]  # office index, name, shape


def build_areas(
    net: StreetNetwork,
    offices: list[tuple[str, str, BaseGeometry]] | None,
    grids: list[tuple[str, str, BaseGeometry]] | None,
    grid_size_m: float,
    office_size_m: float,
    where: str = "map",
) -> Areas:
    """Assign every node to an office and a grid.

    ``offices`` are (name, Chinese name, shape); ``grids`` are (office name, grid name,
    shape). Missing offices become square cells over the network; missing grids become
    square cells of ``grid_size_m`` clipped to each office.
    """
    kept, node_office = _offices(net, offices, office_size_m, where)
    grid_list = _grids(kept, grids, grid_size_m, where)
    grid_list, node_grid = _node_grids(net, kept, grid_list, node_office, where)
    u, v, length = net.streets
    grid_road = np.bincount(node_grid[u], weights=length / 2, minlength=len(grid_list))
    grid_road += np.bincount(node_grid[v], weights=length / 2, minlength=len(grid_list))
    return Areas(
        office_names=tuple(o[0] for o in kept),
        office_names_zh=tuple(o[1] for o in kept),
        office_shapes=tuple(o[2] for o in kept),
        office_km2=np.array([o[2].area / 1e6 for o in kept]),
        grid_names=tuple(g[1] for g in grid_list),
        grid_shapes=tuple(g[2] for g in grid_list),
        grid_office=np.array([g[0] for g in grid_list], dtype=np.int64),
        node_office=node_office,
        node_grid=node_grid,
        grid_road_m=grid_road,
    )


def _offices(
    net: StreetNetwork, offices: list[Office] | None, office_size_m: float, where: str
) -> tuple[list[Office], np.ndarray]:
    """The offices with streets (square cells over the network when none are given) and
    the office of every node."""
    x, y = net.x, net.y
    pad = 1.0
    net_box = (
        float(x.min()) - pad,
        float(y.min()) - pad,
        float(x.max()) + pad,
        float(y.max()) + pad,
    )
    cells_only = not offices
    if not offices:
        cells = square_cells(net_box, office_size_m)
        ncols = max(1, math.ceil((net_box[2] - net_box[0]) / office_size_m - 1e-9))
        offices = [
            (f"{_cell_label(k % ncols)}{k // ncols + 1}", "", c.intersection(box(*net_box)))
            for k, c in enumerate(cells)
        ]
    names = [o[0] for o in offices]
    if len(set(names)) != len(names):
        raise ScenarioError([f"{where}.offices: office names are not unique"])
    node_office = _assign(x, y, [o[2] for o in offices])
    counts = np.bincount(node_office, minlength=len(offices))
    empty = [names[k] for k in np.flatnonzero(counts == 0)]
    keep = np.flatnonzero(counts > 0)
    if empty and not cells_only:
        raise ScenarioError([f"{where}.offices[{name}]: the area has no streets" for name in empty])
    if len(keep) < len(offices):  # square cells over empty land are simply dropped
        remap = -np.ones(len(offices), dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        offices = [offices[k] for k in keep]
        node_office = remap[node_office]
    return offices, node_office


def _grids(
    offices: list[Office],
    grids: list[tuple[str, str, BaseGeometry]] | None,
    grid_size_m: float,
    where: str,
) -> list[Grid]:
    """The grids given (by office name), or square cells clipped to each office."""
    if grids:
        index = {o[0]: k for k, o in enumerate(offices)}
        unknown = sorted({g[0] for g in grids if g[0] not in index})
        if unknown:
            raise ScenarioError(
                [f"{where}.grids: grids name unknown offices: {', '.join(unknown)}"]
            )
        return [(index[g[0]], g[1], g[2]) for g in grids]
    grid_list: list[Grid] = []
    for k, (name, _, geom) in enumerate(offices):
        cells = [c.intersection(geom) for c in square_cells(geom.bounds, grid_size_m)]
        cells = [c for c in cells if not c.is_empty and c.area > 0]
        grid_list += [(k, f"{name}-{j + 1:02d}", c) for j, c in enumerate(cells)]
    return grid_list


def _node_grids(
    net: StreetNetwork,
    offices: list[Office],
    grid_list: list[Grid],
    node_office: np.ndarray,
    where: str,
) -> tuple[list[Grid], np.ndarray]:
    """Every node's grid among its office's; grids with no street are dropped."""
    x, y = net.x, net.y
    node_grid = np.empty(net.n, dtype=np.int64)
    for k in range(len(offices)):
        mine = np.flatnonzero(node_office == k)
        local = [j for j, g in enumerate(grid_list) if g[0] == k]
        if not local:
            raise ScenarioError([f"{where}.grids: office {offices[k][0]} has no grids"])
        node_grid[mine] = np.asarray(local)[
            _assign(x[mine], y[mine], [grid_list[j][2] for j in local])
        ]
    used = np.flatnonzero(np.bincount(node_grid, minlength=len(grid_list)) > 0)
    remap = -np.ones(len(grid_list), dtype=np.int64)
    remap[used] = np.arange(len(used))
    return [grid_list[j] for j in used], remap[node_grid]
