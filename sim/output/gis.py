"""``results.gpkg``: a run's street offices, grids, posts, hotspots, streets and incidents.

One GeoPackage per run, for QGIS (``ogrinfo results.gpkg`` lists its layers) and for the
report, which reads its geometry from here so that an old results folder rebuilds its
report without the scenario or its map files. Layers (:data:`LAYERS`):

- ``offices``, ``grids``: polygons with their measures, as ``summary.json`` has them
  (``by_area``, ``by_grid``; the monthly evaluation's per-office figures when there is one);
- ``posts``: one point per unit (a grid member, an advisor, an enforcer team, a police
  unit) at its post, with its role, street office, grid and shift;
- ``hotspots``: the hotspots' centres with their radius and hours;
- ``incidents``: the measured incidents as points, their times in minutes since the start
  of the measured window (after the warm-up), and whether each clock was met;
- ``streets``: every street once, with its end nodes (the ids of ``incidents.csv``),
  length and road class, ``oneway`` where it may be ridden one way only: what the replay
  routes along.

Coordinates are WGS84 longitude/latitude when the map has a geographic origin (a map
file), else the map's own metres with no CRS (inline and generated maps).
Written with pyogrio (GDAL) through Arrow: a year of incidents is about a million points,
built and written a chunk at a time, each layer in one transaction (pyogrio's). While
writing, SQLite's ``synchronous`` is off and its journal in memory (:func:`unsynced`):
the file is written inside the results folder's temporary folder and renamed into place
only when the run has written everything, so an fsync and a journal file at each of the
~150 commits GDAL makes for six layers bought no safety and cost wall time (seconds on a
busy disk) while the CPU waited.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import shapely
from shapely.geometry.base import BaseGeometry

from sim.analysis.metrics import clock_of, clocks
from sim.roles import BY_NAME, CLOCKED_ROLES

if TYPE_CHECKING:
    from sim.engine.records import IncidentTable
    from sim.scenario import Rules
    from sim.world.build import World

GPKG = "results.gpkg"
LAYERS = ("offices", "grids", "posts", "hotspots", "incidents", "streets")
WGS84 = "EPSG:4326"
# an R-tree per layer makes panning in QGIS fast; for a year of incidents it would cost
# seconds and a quarter more disk, so the incidents layer has one only up to this size
INDEX_MAX_ROWS = 200_000
CHUNK_ROWS = 100_000  # incidents built and written this many at a time

# time columns of the incident record written to the layer (minutes since the window start)
INCIDENT_TIMES = (
    "occurred",
    "reported",
    "instructed",
    "advisor_arrived",
    "persuasion_ended",
    "enforcer_arrived",
    "closed",
)
# the measures of each office and grid: counts, every clock's on-time share and p90 (the roles
# of the registry, sim/roles.py), the double ten
_AREA_MEASURES = (
    "incidents",
    "escalated",
    *(f"{role}_on_time" for role in CLOCKED_ROLES),
    "double_ten",
    *(f"{role}_p90_min" for role in CLOCKED_ROLES),
)
_EVALUATION = ("score", "mean_rank", "p_black_flag", "p_red_flag")


@dataclass(frozen=True, eq=False)
class Layer:
    """One layer: geometries in the map's metres and a column per field."""

    name: str
    geometry_type: str  # "Point", "LineString", "MultiPolygon"
    geometry: np.ndarray  # shapely geometries
    fields: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.geometry)


def _clock(minute: float) -> str:
    m = round(minute) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def _multi(shapes: Sequence[BaseGeometry]) -> np.ndarray:
    """Polygons as MultiPolygons, so a layer has one geometry type."""
    out = np.empty(len(shapes), dtype=object)
    for k, g in enumerate(shapes):
        out[k] = shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g
    return out


def _measure_columns(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Columns of summary rows (``None`` becomes NaN): the numbers of ``summary.json``."""
    return {n: np.array([np.nan if r.get(n) is None else float(r[n]) for r in rows]) for n in names}


def area_layers(world: World, summary: Mapping[str, Any]) -> list[Layer]:
    """``offices`` and ``grids``: polygons with the summary's measures of each."""
    areas = world.areas
    by_area = {r["office"]: r for r in summary["by_area"]}
    offices = [by_area.get(name, {}) for name in areas.office_names]
    fields: dict[str, np.ndarray] = {
        "office": np.array(areas.office_names, dtype=object),
        "name_zh": np.array(areas.office_names_zh, dtype=object),
        "area_km2": np.asarray(areas.office_km2, dtype=float),
    }
    for role in world.roster.present():
        fields[f"staff_{role}"] = np.array([o.get("staff", {}).get(role, 0) for o in offices])
    fields.update(_measure_columns(offices, _AREA_MEASURES))
    evaluated = {r["office"]: r for r in summary.get("evaluation", {}).get("offices", [])}
    if evaluated:
        rows = [evaluated.get(name, {}) for name in areas.office_names]
        fields.update(_measure_columns(rows, _EVALUATION))
    by_grid = {r["grid"]: r for r in summary["by_grid"]}
    grids = [by_grid.get(name, {}) for name in areas.grid_names]
    grid_fields: dict[str, np.ndarray] = {
        "grid": np.array(areas.grid_names, dtype=object),
        "office": np.array(areas.office_names, dtype=object)[areas.grid_office],
        "street_km": np.asarray(areas.grid_road_m, dtype=float) / 1000.0,
        **_measure_columns(grids, _AREA_MEASURES),
    }
    return [
        Layer("offices", "MultiPolygon", _multi(areas.office_shapes), fields),
        Layer("grids", "MultiPolygon", _multi(areas.grid_shapes), grid_fields),
    ]


def post_layer(world: World) -> Layer:
    """One point per unit at its post."""
    net, areas, roster = world.net, world.areas, world.roster
    cols: dict[str, list[Any]] = {
        k: [] for k in ("role", "unit", "node", "office", "grid", "people", "shift")
    }
    nodes: list[np.ndarray] = []
    for role in roster.present():
        units = roster[role]
        nodes.append(units.node)
        cols["role"] += [role] * units.n
        cols["unit"] += range(units.n)
        cols["node"] += [net.ids[i] for i in units.node.tolist()]
        cols["office"] += [areas.office_names[i] for i in units.office.tolist()]
        cols["grid"] += [areas.grid_names[i] for i in units.grid.tolist()]
        cols["people"] += [units.people_per_unit] * units.n
        cols["shift"] += [
            f"{_clock(a)}-{_clock(b)}" for a, b in (units.shifts[s] for s in units.shift)
        ]
    node = np.concatenate(nodes) if nodes else np.zeros(0, dtype=np.int64)
    return Layer(
        "posts",
        "Point",
        shapely.points(net.x[node], net.y[node]),
        {k: np.array(v, dtype=object if k in ("role", "node", "office", "grid", "shift") else np.int64)
         for k, v in cols.items()},
    )  # fmt: skip


def hotspot_layer(world: World) -> Layer:
    """The hotspots' centres, radius, hours and rate."""
    sites = world.sites
    return Layer(
        "hotspots",
        "Point",
        shapely.points([s.x for s in sites], [s.y for s in sites])
        if sites
        else np.empty(0, dtype=object),
        {
            "name": np.array([s.name for s in sites], dtype=object),
            "radius_m": np.array([s.radius_m for s in sites], dtype=float),
            "hours": np.array(
                [f"{_clock(s.window[0])}-{_clock(s.window[1])}" for s in sites], dtype=object
            ),
            "incidents_per_hour": np.array([s.per_min * 60 for s in sites], dtype=float),
        },
    )


def street_layer(world: World) -> Layer:
    """Every street once; ``oneway`` where the way back is missing or differs."""
    net = world.net
    coo = net.lengths.tocoo()
    u, v, length = coo.row, coo.col, coo.data
    back = np.asarray(net.lengths[v, u]).ravel()
    two_way = np.abs(back - length) < 1e-9
    keep = (u < v) | ~two_way  # a two-way street once, a one-way edge each
    u, v, length, two_way = u[keep], v[keep], length[keep], two_way[keep]
    if net.classes is not None:
        klass = np.asarray(net.classes[u, v]).ravel().astype(np.int64) - 1
    else:
        klass = np.full(len(u), -1, dtype=np.int64)
    ids = np.asarray(net.ids, dtype=object)
    lines = shapely.linestrings(
        np.stack([np.column_stack([net.x[u], net.y[u]]), np.column_stack([net.x[v], net.y[v]])], 1)
    )
    return Layer(
        "streets",
        "LineString",
        lines,
        {"u": ids[u], "v": ids[v], "length_m": length, "class": klass, "oneway": ~two_way},
    )


@dataclass(frozen=True, eq=False)
class PointRows:
    """A large point layer, built and written a chunk of rows at a time so that a year of
    incidents (about a million) never sits in memory as a whole."""

    name: str
    n: int
    chunk: Callable[[int, int], tuple[dict[str, Any], np.ndarray, np.ndarray]]  # rows lo:hi
    geometry_type: str = "Point"

    def __len__(self) -> int:
        return self.n


# the columns the clocks are measured from (sim.analysis.metrics.clocks): each clocked
# role's unit, arrival, the column its clock starts at and the one saying it was asked for
_CLOCK_COLUMNS = (
    "escalated",
    "persuaded",
    *(
        name
        for role in CLOCKED_ROLES
        for name in (
            BY_NAME[role].unit_column,
            BY_NAME[role].arrived,
            clock_of(role).starts,
            clock_of(role).asks,
        )
        if name is not None
    ),
)


def incident_layer(world: World, table: IncidentTable, rules: Rules) -> PointRows:
    """The measured incidents at their nodes, times since the start of the measured window."""
    rows = np.flatnonzero(table["measured"])
    start = world.scenario.warmup_min
    x, y = world.net.x, world.net.y
    wanted = {"replication", "incident", "category", "office", "grid", "hotspot", "channel",
              "node", *_CLOCK_COLUMNS, *INCIDENT_TIMES}  # fmt: skip

    def chunk(lo: int, hi: int) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
        part = rows[lo:hi]
        t = replace(table, columns={k: v[part] for k, v in table.columns.items() if k in wanted})
        c = clocks(t, rules)
        fields: dict[str, Any] = {
            "replication": t["replication"],
            "incident": t["incident"],
            "category": _labels(table.categories, t["category"]),
            "office": _labels(table.offices, t["office"]),
            "grid": _labels(table.grids, t["grid"]),
            "hotspot": _labels(table.hotspots, t["hotspot"]),
            "channel": _labels(table.channels, t["channel"]),
            "escalated": t["escalated"],
            **_on_time(c),
            "double_ten": c["double_ten_ok"],
            **{f"{r}_response_min": c[f"{r}_response"] for r in CLOCKED_ROLES if f"{r}_ok" in c},
            **{name: t[name] - start for name in INCIDENT_TIMES if name in t.columns},
        }
        return fields, x[t["node"]], y[t["node"]]

    return PointRows("incidents", len(rows), chunk)


def _on_time(c: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """``<role>_on_time`` of each clock measured in ``c``: null where it did not start."""
    return {
        f"{role}_on_time": c[f"{role}_ok"]
        if clock_of(role).asks is None  # every incident starts it
        else _nullable(c[f"{role}_ok"], c[f"{role}_asked"])
        for role in CLOCKED_ROLES
        if f"{role}_ok" in c
    }


def _nullable(values: np.ndarray, valid: np.ndarray) -> pa.Array[Any]:
    """``values`` where ``valid``, null elsewhere (no enforcer clock without an escalation)."""
    out: pa.Array[Any] = pa.array(values, mask=~valid)
    return out


def _labels(labels: Sequence[str], codes: np.ndarray) -> pa.Array[Any]:
    """Codes as an Arrow dictionary of their labels ("" for a negative code)."""
    names = pa.array([*labels, ""], type=pa.string())
    idx = np.where(codes >= 0, codes, len(labels)).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(idx, type=pa.int32()), names).cast(pa.string())


def _point_wkb(x: np.ndarray, y: np.ndarray) -> pa.Array[Any]:
    """Points as little-endian WKB, built in bulk (a year of incidents is a million)."""
    n = len(x)
    rec = np.zeros(n, dtype=[("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
    rec["order"], rec["type"], rec["x"], rec["y"] = 1, 1, x, y
    offsets = np.arange(0, 21 * (n + 1), 21, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(rec.tobytes())]
    )


def run_layers(
    world: World, summary: Mapping[str, Any], table: IncidentTable
) -> list[Layer | PointRows]:
    """Every layer of a run's ``results.gpkg``, in :data:`LAYERS` order."""
    rules = world.scenario.rules
    return [
        *area_layers(world, summary),
        post_layer(world),
        hotspot_layer(world),
        incident_layer(world, table, rules),
        street_layer(world),
    ]


def _to_wgs84(crs: str | None) -> Any:
    """A function projecting map-metre coordinate arrays to lon/lat, or None to keep them."""
    if not crs:
        return None
    from pyproj import CRS, Transformer  # deferred: pyproj (~30 ms), for a map with a CRS

    if CRS.from_user_input(crs).is_geographic:
        return None
    t = Transformer.from_crs(crs, WGS84, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return project


def _arrow_table(layer: Layer, project: Any) -> pa.Table:
    geom = layer.geometry
    if project is not None and len(geom):
        geom = shapely.transform(geom, project)
    wkb = pa.array(shapely.to_wkb(geom) if len(geom) else [], type=pa.binary())
    cols = {k: _column(v) for k, v in layer.fields.items()}
    return pa.table({**cols, "geometry": wkb})


def _column(values: Any) -> pa.Array[Any]:
    """An Arrow column: text as strings even when there is none (an empty layer)."""
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, np.ndarray) and values.dtype == object:
        return pa.array(values.tolist(), type=pa.string())
    out: pa.Array[Any] = pa.array(values)
    return out


def _batches(layer: PointRows, project: Any, rows: int = CHUNK_ROWS) -> pa.RecordBatchReader:
    """The layer as a stream of Arrow record batches of at most ``rows`` rows."""

    def batch(lo: int) -> pa.RecordBatch:
        fields, x, y = layer.chunk(lo, min(lo + rows, layer.n))
        if project is not None and len(x):
            xy = project(np.column_stack([x, y]))
            x, y = xy[:, 0], xy[:, 1]
        cols = {k: _column(v) for k, v in fields.items()}
        return pa.RecordBatch.from_pydict({**cols, "geometry": _point_wkb(x, y)})

    first = batch(0)
    rest = (batch(lo) for lo in range(rows, layer.n, rows))
    return pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], rest))


@contextmanager
def unsynced() -> Iterator[None]:
    """GDAL's SQLite without an fsync or a journal file per commit, for a file not yet where
    the user sees it (restoring the settings after)."""
    import pyogrio  # deferred: pyogrio brings geopandas and pyproj (~70 ms); only the GeoPackage needs it

    # no fsync at a commit; the rollback journal in memory, not a file made and unlinked
    # at each of them; and a fixed date in gpkg_contents.last_change, so that the same run
    # writes the same bytes (reproducible builds' SOURCE_DATE_EPOCH when set)
    wanted = {
        "OGR_SQLITE_SYNCHRONOUS": "OFF",
        "OGR_SQLITE_JOURNAL": "MEMORY",
        "OGR_CURRENT_DATE": _fixed_date(),
    }
    before = {key: pyogrio.get_gdal_config_option(key) for key in wanted}
    pyogrio.set_gdal_config_options(wanted)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


def _fixed_date() -> str:
    """The time stamp written as every layer's last change: ``SOURCE_DATE_EPOCH`` (seconds)
    when the environment gives one, else the start of 1970 (a run has no date of its own)."""
    try:
        seconds = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    except ValueError:
        seconds = 0
    when = dt.datetime.fromtimestamp(max(seconds, 0), tz=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_gpkg(layers: Sequence[Layer | PointRows], crs: str | None, path: Path) -> None:
    """Write ``layers`` into a new GeoPackage at ``path`` (lon/lat when ``crs`` is projected),
    a file of a results folder being written (:func:`unsynced`)."""
    with unsynced():
        _write_layers(layers, crs, path)


def _write_layers(layers: Sequence[Layer | PointRows], crs: str | None, path: Path) -> None:
    project = _to_wgs84(crs)
    out_crs = WGS84 if project is not None or (crs and _is_geographic(crs)) else None
    for k, layer in enumerate(layers):
        index = "YES" if len(layer) <= INDEX_MAX_ROWS else "NO"
        data = (
            _batches(layer, project)
            if isinstance(layer, PointRows)
            else _arrow_table(layer, project)
        )
        with warnings.catch_warnings():  # a map without a CRS is written without one, knowingly
            warnings.filterwarnings("ignore", message=".*'crs' was not provided")
            _write_layer(layer, data, path, out_crs, append=k > 0, index=index)


def _write_layer(
    layer: Layer | PointRows, data: Any, path: Path, crs: str | None, *, append: bool, index: str
) -> None:
    import pyogrio  # deferred: pyogrio brings geopandas and pyproj (~70 ms); only the GeoPackage needs it

    pyogrio.write_arrow(
        data,
        path,
        layer=layer.name,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type=layer.geometry_type,
        crs=crs,
        append=append,
        layer_options={"SPATIAL_INDEX": index},
        # GeoPackage 1.2: what older GDAL and QGIS read without a warning (1.4 is newer)
        dataset_options=None if append else {"VERSION": "1.2"},
    )


def _is_geographic(crs: str) -> bool:
    from pyproj import CRS  # deferred: pyproj (~30 ms), for a map with a CRS

    return bool(CRS.from_user_input(crs).is_geographic)
