"""The whole build in order: blocks and offices, streets, grids, then the files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import Point, Polygon

from .blocks import assign_offices, build_faces, check_road_ends, hotspot_xy
from .facts import HOTSPOTS, OFFICES, OUTLINE
from .frame import geodesic_area_km2, to_lonlat
from .grids import make_grids
from .readme import MapStats, readme_text
from .streets import HIGHWAY_RANK, build_network
from .writers import Feature, graph_tables, graphml_bytes, polygon_ll, write_geojson, write_gzip

SEED = 20240501  # the network's random stream; the grids use SEED + 1


def build(out_dir: str | Path) -> MapStats:
    """Build the map into ``out_dir`` (created if missing) and return its figures."""
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

    office_feats: list[Feature] = []
    office_stats: list[tuple[str, str, float, int]] = []
    n_grids: dict[str, int] = {}
    for name, _, _ in grids:
        n_grids[name] = n_grids.get(name, 0) + 1
    for (name, zh, _), poly in sorted(zip(OFFICES, offices, strict=False), key=lambda t: t[0][0]):
        ll = polygon_ll(poly)
        a = geodesic_area_km2(ll)
        office_feats.append(({"name": name, "name_zh": zh, "area_km2": round(a, 3)}, ll))
        office_stats.append((name, zh, a, n_grids[name]))
    write_geojson(out / "offices.geojson", office_feats)

    grid_feats: list[Feature] = []
    for office, name, poly in sorted(grids, key=lambda t: t[1]):
        ll = polygon_ll(poly)
        grid_feats.append(
            ({"office": office, "name": name, "area_km2": round(geodesic_area_km2(ll), 3)}, ll)
        )
    write_geojson(out / "grids.geojson", grid_feats)

    hs_feats: list[Feature] = []
    hs_stats = []
    for h in HOTSPOTS:
        lon, lat = to_lonlat([hotspot_xy(h.at)])[0]
        props: dict[str, Any] = {
            "name": h.name,
            "name_zh": h.name_zh,
            "radius_m": h.radius_m,
            "incidents_per_hour": h.incidents_per_hour,
            "start": h.start,
            "end": h.end,
            "categories": h.categories,
            "note": h.note,
        }
        hs_feats.append((props, Point(round(lon, 7), round(lat, 7))))
        hs_stats.append((h, float(lon), float(lat)))
    write_geojson(out / "hotspots.geojson", hs_feats)

    km: dict[str, float] = {}
    for _, _, _, hw, _, L in edge_rows:
        km[hw] = km.get(hw, 0.0) + L / 1000.0
    garea = [f[0]["area_km2"] for f in grid_feats]
    st = MapStats(
        total_km2=sum(a for _, _, a, _ in office_stats),
        n_nodes=len(node_rows),
        n_edges=2 * len(edge_rows),
        total_km=sum(km.values()),
        median_edge=float(np.median([r[5] for r in edge_rows])),
        km_by_class=[(hw, km.get(hw, 0.0)) for hw in HIGHWAY_RANK],
        offices=office_stats,
        n_grids=len(grid_feats),
        grid_min=min(garea),
        grid_max=max(garea),
        hotspots=hs_stats,
    )
    (out / "README.md").write_text(readme_text(st, SEED), encoding="utf-8")
    return st
