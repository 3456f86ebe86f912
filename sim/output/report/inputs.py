"""What a report reads from a results folder: ``summary.json``, ``results.gpkg``, the incidents.

A report is always built from the files of a results folder, never from a run in memory:
its numbers are those of ``summary.json`` by construction, and an old folder rebuilds its
report without the scenario or its map files (the geometry is in ``results.gpkg``). A run
that has just written the folder may hand over its incident table instead of having it
read back (:class:`RunFolder` ``table``); it is the table the files were written from.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from sim.analysis.metrics import clock_of
from sim.analysis.replay import Streets
from sim.engine.records import IncidentTable
from sim.errors import ResultsError
from sim.output.folders import read_manifest
from sim.output.gis import GPKG, WGS84
from sim.roles import BY_NAME, CLOCKED_ROLES, DISPATCHED_ROLES

SUMMARY = "summary.json"


INCIDENT_FILES = ("incidents.parquet", "incidents.csv")
EVALUATION = "evaluation.csv"
_EARTH_M = 6_371_008.8
# the incident columns the replay and the day's double ten read: the chain's, and each
# clocked role's unit and times (sim/roles.py; an optional role's when the run had it)
_REPLAY_COLUMNS = (
    "replication",
    "category",
    "node",
    "occurred",
    "instructed",
    "persuasion_ended",
    "persuaded",
    "escalated",
    "closed",
    "measured",
)
_UNIT_COLUMNS = {BY_NAME[r].unit_column for r in DISPATCHED_ROLES}
_ROLE_COLUMNS = tuple(
    name
    for role in CLOCKED_ROLES
    for name in (
        BY_NAME[role].unit_column,
        *(f"{BY_NAME[role].prefix}_{k}" for k in ("dispatched", "arrived", "released")),
        *(c for c in (clock_of(role).starts, clock_of(role).asks) if c is not None),
    )
    if name not in _REPLAY_COLUMNS
)


@dataclass(frozen=True, eq=False)
class Areas:
    """Polygons (local metres) with their fields, as the GeoPackage holds them."""

    shapes: list[BaseGeometry]
    fields: dict[str, list[Any]]

    def column(self, name: str) -> list[Any]:
        return self.fields.get(name, [None] * len(self.shapes))


@dataclass(frozen=True, eq=False)
class Geometry:
    """The map of a run in local metres: areas, posts, hotspots and streets."""

    offices: Areas
    grids: Areas
    posts: dict[str, list[Any]]  # role, unit, node, x, y, ...
    hotspots: dict[str, list[Any]]  # name, radius_m, x, y, ...
    streets: Streets
    geographic: bool  # read from lon/lat (projected here around the map's centre)


@dataclass(eq=False)
class RunFolder:
    """A run's results folder, read for its report."""

    path: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]
    geometry: Geometry
    table: IncidentTable | None = None  # read on demand by :meth:`incidents`
    files: list[str] = field(default_factory=list)  # the files the report is built from
    name: str = ""  # the folder's name as the user sees it

    @property
    def rules(self) -> dict[str, Any]:
        rules: dict[str, Any] = self.summary["scenario_resolved"]["rules"]
        return rules

    def incidents(self) -> IncidentTable:
        """The incident table (the columns the replay reads), read once."""
        if self.table is None:
            self.table = read_incidents(self.path, self.summary, self.geometry.streets)
        return self.table


def read_summary(folder: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError([f"{folder}: no {SUMMARY}; is it a run's results folder?"]) from None
    except ValueError as exc:
        raise ResultsError([f"{folder / SUMMARY}: not readable JSON ({exc})"]) from None
    return data


def read_run(
    folder: Path, table: IncidentTable | None = None, name: str | None = None
) -> RunFolder:
    """The results folder of a run: its summary, manifest and geometry.

    ``name``: the folder's name as the user sees it, when the report is written inside the
    temporary folder a run fills before it takes its place (:mod:`sim.output.folders`).
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("kind", "run") != "run":
        what = "not a results folder of this tool" if manifest is None else manifest.get("kind")
        raise ResultsError([f"{folder}: {what}; give a run's results folder"])
    summary = read_summary(folder)
    if not (folder / GPKG).is_file():
        raise ResultsError(
            [f"{folder}: no {GPKG} (written by runs since the report came); run it again"]
        )
    geometry = read_geometry(folder / GPKG)
    if table is not None:
        table = _renumbered(table, geometry.streets)
    # the files the report reads, not whatever else the folder holds (figures are still
    # being drawn beside it while a run writes its report)
    read = (SUMMARY, GPKG, *INCIDENT_FILES, EVALUATION)
    files = [n for n in read if (folder / n).is_file()]
    return RunFolder(folder, summary, manifest, geometry, table, files, name or folder.name)


def read_geometry(path: Path) -> Geometry:
    """The layers of ``results.gpkg`` the report draws, in local metres."""
    import pyogrio  # deferred: pyogrio brings geopandas and pyproj (~70 ms); only the GeoPackage needs it

    present = {name for name, _ in pyogrio.list_layers(path)}
    wanted = ("offices", "grids", "posts", "hotspots", "streets")  # not the incidents: large
    missing = [name for name in wanted if name not in present]
    if missing:
        raise ResultsError([f"{path}: no layer {', '.join(missing)}; was it written by a run?"])
    layers = {name: _read_layer(path, name) for name in wanted}
    crs = pyogrio.read_info(path, layer="offices").get("crs")
    geographic = bool(crs) and str(crs).upper() == WGS84
    project = _local_projection(layers["offices"][0]) if geographic else None
    areas = {}
    for name in ("offices", "grids"):
        shapes, fields = layers[name]
        areas[name] = Areas(_project(shapes, project), fields)
    return Geometry(
        offices=areas["offices"],
        grids=areas["grids"],
        posts=_points(layers["posts"], project),
        hotspots=_points(layers["hotspots"], project),
        streets=_streets(layers["streets"], project),
        geographic=geographic,
    )


Layer = tuple[np.ndarray, dict[str, list[Any]]]


def _read_layer(path: Path, name: str) -> Layer:
    import pyogrio  # deferred: pyogrio brings geopandas and pyproj (~70 ms); only the GeoPackage needs it

    meta, table = pyogrio.read_arrow(path, layer=name)
    geom_name = meta.get("geometry_name") or "geometry"
    geoms = shapely.from_wkb(np.asarray(table[geom_name].to_numpy(zero_copy_only=False)))
    fields = {c: table[c].to_pylist() for c in table.column_names if c != geom_name}
    return geoms, fields


def _local_projection(shapes: np.ndarray) -> Any:
    """Lon/lat → metres east and north of the map's centre (equirectangular: a district is
    small enough that the error is far below a street's width)."""
    minx, miny, maxx, maxy = shapely.total_bounds(shapes)
    lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
    kx = math.radians(1) * _EARTH_M * math.cos(math.radians(lat0))
    ky = math.radians(1) * _EARTH_M

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - lon0) * kx, (xy[:, 1] - lat0) * ky])

    return project


def _project(shapes: np.ndarray, project: Any) -> list[BaseGeometry]:
    out = shapely.transform(shapes, project) if project is not None and len(shapes) else shapes
    return list(out)


def _points(layer: Layer, project: Any) -> dict[str, list[Any]]:
    geoms, fields = layer
    xy = shapely.get_coordinates(geoms) if len(geoms) else np.zeros((0, 2))
    if project is not None and len(xy):
        xy = project(xy)
    return {**fields, "x": xy[:, 0].tolist(), "y": xy[:, 1].tolist()}


def _streets(layer: Layer, project: Any) -> Streets:
    """The street graph from the ``streets`` layer: nodes numbered as first met."""
    geoms, fields = layer
    ends = shapely.get_coordinates(geoms).reshape(-1, 2, 2) if len(geoms) else np.zeros((0, 2, 2))
    if project is not None and len(ends):
        ends = project(ends.reshape(-1, 2)).reshape(-1, 2, 2)
    ids_uv = np.column_stack([np.asarray(fields["u"], dtype=object), fields["v"]]).ravel()
    ids, first, codes = np.unique(ids_uv.astype(str), return_index=True, return_inverse=True)
    xy = ends.reshape(-1, 2)[first]
    codes = codes.reshape(-1, 2)
    return Streets(
        ids=tuple(ids.tolist()),
        x=xy[:, 0],
        y=xy[:, 1],
        u=codes[:, 0].astype(np.int64),
        v=codes[:, 1].astype(np.int64),
        length_m=np.asarray(fields["length_m"], dtype=float),
        oneway=np.asarray(fields["oneway"], dtype=bool),
        road_class=np.asarray(fields["class"], dtype=np.int64),
    )


def _renumbered(table: IncidentTable, streets: Streets) -> IncidentTable:
    """``table`` with its nodes numbered as in ``streets`` (ids are what both share)."""
    index = streets.index()
    remap = np.array([index.get(str(nid), -1) for nid in table.node_ids], dtype=np.int64)
    cols = {**table.columns, "node": remap[table["node"]]}
    return replace(table, columns=cols, node_ids=streets.ids)


def incident_file(folder: Path) -> Path | None:
    return next((folder / n for n in INCIDENT_FILES if (folder / n).is_file()), None)


def read_incidents(folder: Path, summary: dict[str, Any], streets: Streets) -> IncidentTable:
    """The incident table of ``incidents.parquet`` or ``incidents.csv`` (replay columns),
    its nodes numbered as in ``streets``."""
    path = incident_file(folder)
    if path is None:
        raise ResultsError([f"{folder}: no incident table ({' or '.join(INCIDENT_FILES)})"])
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq  # deferred: only a Parquet table needs it

        header = set(pq.read_schema(path).names)
    else:
        header = set(pd.read_csv(path, nrows=0).columns)
    cols = [*_REPLAY_COLUMNS, *dict.fromkeys(c for c in _ROLE_COLUMNS if c in header)]
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path, columns=cols)
    else:
        frame = pd.read_csv(path, usecols=cols, dtype={"node": str}, engine="pyarrow")
    categories = tuple(summary["scenario_resolved"]["demand"]["categories"])
    index = streets.index()
    columns: dict[str, np.ndarray] = {}
    for c in cols:
        values = frame[c]
        if c == "category":
            lookup = {name: k for k, name in enumerate(categories)}
            columns[c] = np.array([lookup.get(v, -1) for v in values], dtype=np.int16)
        elif c == "node":
            columns[c] = np.array([index.get(str(v), -1) for v in values], dtype=np.int64)
        elif c in ("persuaded", "escalated", "measured"):
            columns[c] = values.to_numpy(dtype=bool)
        elif c == "replication" or c in _UNIT_COLUMNS:
            columns[c] = values.to_numpy(dtype=np.int64)
        else:
            columns[c] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return IncidentTable(
        columns=columns,
        categories=categories,
        offices=(),
        grids=(),
        node_ids=streets.ids,
        channels=(),
        hotspots=(),
    )
