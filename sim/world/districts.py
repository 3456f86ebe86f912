"""The part of an extract to simulate and its street offices, from the extract's boundaries.

A boundary name, a polygon or a GeoJSON file picks a district out of a big file
(:func:`cut_region`); street offices can come from the same file's boundaries
(:func:`offices_for`), moved into the network's metres.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from sim.scenario import MapCut, OsmOffices, ScenarioError
from sim.world.areas import read_geojson_polygons
from sim.world.network import StreetNetwork, restrict
from sim.world.osm.boundaries import (
    Boundary,
    admin_level_is,
    cached_boundaries,
    first_names,
    has_tag,
    unique_names,
)
from sim.world.osm.files import extract_bounds, is_osm


def cut_region(spec: MapCut, map_path: Path, geojson: Path | None) -> BaseGeometry:
    """The part of the map to simulate, in lon/lat, from a polygon, a GeoJSON file or a name.

    ``geojson`` is where ``spec.geojson`` resolves to (see :mod:`sim.scenario.resolved`).
    """
    where = "map.cut"
    if spec.polygon is not None:
        return Polygon(spec.polygon).buffer(0)
    if spec.geojson is not None:
        assert geojson is not None
        feats = read_geojson_polygons(geojson, None, f"{where}.geojson")
        crossed = [
            f"{where}.geojson: feature {k + 1}: the polygon is not simple "
            f"({explain_validity(g)}): no edges may cross"
            for k, (_, g) in enumerate(feats)
            if not g.is_valid
        ]
        if crossed:
            raise ScenarioError(crossed)
        shape = shapely.union_all([g for _, g in feats])
        minx, miny, maxx, maxy = shape.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ScenarioError([f"{where}.geojson: the polygon must be in longitude and latitude"])
        return shape
    assert spec.boundary is not None
    if not is_osm(map_path):
        raise ScenarioError([f"{where}.boundary: needs map.file to be an OpenStreetMap extract"])
    target = spec.boundary.casefold()

    def named(tags: Mapping[str, str]) -> bool:
        return admin_level_is(spec.admin_level)(tags) and any(
            v.casefold() == target
            for k, v in tags.items()
            if k == "name" or k.startswith(("name:", "int_name", "official_name"))
        )

    found, notes = cached_boundaries(
        map_path, f"cut:{target}:{spec.admin_level}", named, closed_ways=False, where=where
    )
    if not found:
        why = f"; {notes[0].removeprefix(where + ': ')}" if notes else ""
        raise ScenarioError(
            [
                f"{where}.boundary: no complete administrative boundary named "
                f"{spec.boundary!r} in {map_path.name}{why}"
            ]
        )
    levels = sorted({b.admin_level for b in found})
    if len(found) > 1 and len(levels) > 1:
        raise ScenarioError(
            [
                f"{where}.boundary: {len(found)} boundaries are named {spec.boundary!r} "
                f"(admin_level {', '.join(levels)}); pick one with map.cut.admin_level"
            ]
        )
    return shapely.union_all([b.shape for b in found])


def offices_from_extract(
    spec: OsmOffices, map_path: Path, cut: BaseGeometry | None
) -> tuple[list[Boundary], list[str]]:
    """Street-office polygons (lon/lat) from the extract's boundaries, clipped to the cut."""
    where = "map.offices"
    if not is_osm(map_path):
        raise ScenarioError(
            [f"{where}: boundaries from the map need map.file to be an OpenStreetMap extract"]
        )
    if spec.admin_level is not None:
        pick, label = admin_level_is(spec.admin_level), f"admin_level={spec.admin_level}"
    else:
        assert spec.tag is not None
        pick, label = has_tag(spec.tag), spec.tag
    bounds, notes = cached_boundaries(
        map_path, f"offices:{label}", pick, closed_ways=spec.tag is not None, where=where
    )
    region = cut if cut is not None else extract_bounds(map_path)
    if region is not None:
        clipped = [
            Boundary(b.name, b.name_zh, b.admin_level, b.shape.intersection(region)) for b in bounds
        ]
        bounds = [b for b in clipped if b.shape.area > 0]
    if not bounds:
        raise ScenarioError(
            [f"{where}: no boundary with {label} covers the map in {map_path.name}", *notes]
        )
    return unique_names(bounds), notes


def offices_for(
    spec: OsmOffices, map_path: Path, cut: BaseGeometry | None, net: StreetNetwork
) -> tuple[StreetNetwork, list[tuple[str, str, BaseGeometry]], list[str]]:
    """Street offices of the network from the extract's boundaries, in the network's metres.

    Streets outside every boundary join the nearest office or are dropped
    (``spec.outside``); boundaries holding no street are left out. Both are reported.
    """
    from pyproj import Transformer  # deferred: pyproj loads only for maps with boundaries

    where = "map.offices"
    bounds, notes = offices_from_extract(spec, map_path, cut)
    t = Transformer.from_crs("EPSG:4326", net.crs or "EPSG:4326", always_xy=True)
    shapes = [
        shapely.transform(b.shape, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
        for b in bounds
    ]
    inside = np.zeros((len(shapes), net.n), bool)
    for k, g in enumerate(shapes):
        inside[k] = shapely.intersects_xy(g, net.x, net.y)
    empty = [b.name for b, row in zip(bounds, inside, strict=True) if not row.any()]
    if len(empty) == len(bounds):
        raise ScenarioError([f"{where}: no street of the map lies inside any boundary"])
    if empty:
        notes.append(
            f"{where}: {len(empty)} boundaries hold no street, left out: {first_names(empty)}"
        )
    out = [
        (b.name, b.name_zh, g)
        for b, g, row in zip(bounds, shapes, inside, strict=True)
        if row.any()
    ]
    lost = np.asarray(~inside.any(axis=0))
    if lost.any():
        if spec.outside == "drop":
            n_before = net.n
            net = restrict(net, ~lost, where)
            notes.append(
                f"{where}: dropped {int(lost.sum()):,} of {n_before:,} street nodes outside every "
                f"boundary"
                + (f" and {net.dropped_nodes:,} cut off from the rest" if net.dropped_nodes else "")
            )
        else:
            notes.append(
                f"{where}: {int(lost.sum()):,} of {net.n:,} street nodes lie outside every boundary; "
                "each joins the nearest office (map.offices.outside: drop leaves them out)"
            )
    return net, out, notes
