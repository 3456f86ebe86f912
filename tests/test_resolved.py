"""A scenario is resolved once; building the world, estimates and run keys only read that."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

import sim
from sim.batch.sweeps import run_key
from sim.scenario import MapFile, Scenario, resolve_scenario, scenario_from_dict
from sim.world.hotspots import hotspot_points


def _square(lon: float, lat: float, d: float) -> dict[str, Any]:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "A"},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        ],
    }


def _map_folder(folder: Path) -> dict[str, Any]:
    """A five-node GraphML in UTM zone 49N, an office GeoJSON over it, a scenario naming both
    by relative paths."""
    g = nx.MultiDiGraph(crs="EPSG:32649")
    for i in range(5):
        g.add_node(i, x=700000.0 + 100 * i, y=3850000.0)
    for i in range(4):
        g.add_edge(i, i + 1, length=100.0)
        g.add_edge(i + 1, i, length=100.0)
    folder.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(g, folder / "streets.graphml")
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:32649", "EPSG:4326", always_xy=True).transform(
        700200.0, 3850000.0
    )
    (folder / "offices.geojson").write_text(json.dumps(_square(lon, lat, 0.01)), "utf-8")
    return {
        "name": "five",
        "map": {"file": "streets.graphml", "offices": "offices.geojson"},
        "demand": {
            "incidents_per_day": 10,
            "hotspots": [
                {"name": "ll", "lon": lon, "lat": lat, "radius_m": 120, "incidents_per_hour": 1},
                {"name": "xy", "x": 700000, "y": 3850000, "radius_m": 50, "incidents_per_hour": 1},
            ],
        },
    }


def test_paths_resolve_against_the_scenario_folder(tmp_path: Path) -> None:
    data = _map_folder(tmp_path / "maps")
    data["map"]["cut"] = {"geojson": "cut.geojson"}
    # files the scenario names must exist when it is loaded (issue 20: all problems at once)
    (tmp_path / "maps" / "cut.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    sc = scenario_from_dict(data, base_dir=tmp_path / "maps")
    resolved = resolve_scenario(sc)
    assert isinstance(resolved.source, MapFile)
    assert resolved.files() == {
        "map.file": tmp_path / "maps" / "streets.graphml",
        "map.offices": tmp_path / "maps" / "offices.geojson",
        "map.cut.geojson": tmp_path / "maps" / "cut.geojson",
    }
    assert all(p.is_absolute() for p in resolved.files().values())
    # what results save is the scenario as written, defaults filled in
    assert resolved.saved() == sc.resolved()
    assert resolved.saved()["map"]["file"] == "streets.graphml"


def test_the_world_never_goes_back_to_the_scenario_for_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = scenario_from_dict(_map_folder(tmp_path), base_dir=tmp_path)
    resolved = resolve_scenario(sc)

    def climbs_back(self: Scenario, path: str) -> Path:
        raise AssertionError(f"Scenario.resolve({path!r}) re-entered")

    monkeypatch.setattr(Scenario, "resolve", climbs_back)
    monkeypatch.chdir(tmp_path.parent)  # relative paths would now point elsewhere
    world = sim.build_world(resolved)
    assert world.resolved is resolved and world.scenario is sc
    assert world.areas.office_names == ("A",)
    assert [s.name for s in world.sites] == ["ll", "xy"]


def test_hotspot_points_in_map_metres(tmp_path: Path) -> None:
    sc = scenario_from_dict(_map_folder(tmp_path), base_dir=tmp_path)
    ll, xy = hotspot_points(sc.demand.hotspots, "EPSG:32649")
    assert ll is not None and ll == pytest.approx((700200.0, 3850000.0), abs=1e-3)
    assert xy == (700000.0, 3850000.0)
    # lon/lat on a map without a CRS has no point; x/y needs none
    assert hotspot_points(sc.demand.hotspots, None) == [None, (700000.0, 3850000.0)]
    world = sim.build_world(sc)
    site = world.sites[0]
    assert (site.x, site.y, site.radius_m) == (*ll, 120.0)
    assert sorted(world.net.ids[k] for k in site.nodes) == ["1", "2", "3"]  # 120 m of node 2


def test_run_key_follows_every_file_the_world_reads(tmp_path: Path) -> None:
    data = _map_folder(tmp_path)
    (tmp_path / "cut.geojson").write_text(json.dumps(_square(0.0, 0.0, 1.0)), "utf-8")
    data["map"]["cut"] = {"geojson": "cut.geojson"}
    sc = scenario_from_dict(data, base_dir=tmp_path)
    before = run_key(sc, 0)
    for name in ("streets.graphml", "offices.geojson", "cut.geojson"):
        path = tmp_path / name
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        after = run_key(sc, 0)
        assert after != before, name
        before = after
