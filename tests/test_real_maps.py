"""Real OpenStreetMap networks: loading, clipping, one-way streets, and a full run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import OSM_DIR, ROOT, SMALL_CITY

import sim
from sim.cli import main
from sim.world.network import from_networkx, osm_bounds, read_map_file

AGS = ROOT / "maps" / "aguascalientes" / "aguascalientes.osm.bz2"


def test_aguascalientes_scenario_runs_sanely() -> None:
    sc = sim.load_scenario(ROOT / "scenarios" / "aguascalientes.yaml")
    res = sim.run(sc, days=2)
    s = res.summary
    w = res.world
    assert w.net.crs == "EPSG:32613"
    assert 2.0 < w.areas.total_km2 < 3.0  # the extract's 1.7 km × 1.4 km
    assert s["incidents"] > 100
    measured = res.table["measured"]
    assert np.isfinite(res.table["advisor_arrived"][measured]).mean() > 0.99
    for key in ("advisor_on_time", "enforcer_on_time", "double_ten"):
        assert 0.0 < s[key] <= 1.0
    # every post is a node of the kept network, inside its extent
    for role in ("grid", "advisor", "enforcer"):
        nodes = w.roster[role].node
        assert len(nodes) and nodes.min() >= 0 and nodes.max() < w.net.n
    assert s["headcount"]["per_km2"] >= 20
    assert not [m for m in res.warnings if "hotspot" in m]  # the market lies on the map


def test_osm_extract_is_clipped_to_its_bounds() -> None:
    west, south, east, north = osm_bounds(AGS) or (0, 0, 0, 0)
    assert (west, south, east, north) == pytest.approx(
        (-102.2799068, 21.8625789, -102.2634632, 21.8752057)
    )
    net = read_map_file(AGS, two_way=True)
    assert net.x.max() - net.x.min() == pytest.approx(1700, abs=40)
    assert net.y.max() - net.y.min() == pytest.approx(1410, abs=40)
    assert net.is_symmetric


def test_one_way_streets_are_kept_when_staff_obey_them() -> None:
    directed = read_map_file(AGS, two_way=False)
    assert not directed.is_symmetric
    # travel out and back differ somewhere on a one-way grid
    from scipy.sparse.csgraph import dijkstra

    d = dijkstra(directed.lengths, indices=[0, 1, 2])
    assert not np.allclose(d[:, :3], d[:, :3].T)


def test_west_oakland_from_shipped_data_and_graphml_roundtrip(tmp_path: Path) -> None:
    net = read_map_file(OSM_DIR / "west-oakland.osm.bz2", two_way=True)
    assert net.n > 20 and net.crs == "EPSG:32610"
    # an OSMnx-style GraphML in lon/lat loads to the same metres
    import osmnx as ox

    g = ox.graph_from_xml(OSM_DIR / "west-oakland.osm.bz2", retain_all=True)
    path = tmp_path / "wo.graphml"
    ox.save_graphml(g, path)
    again = read_map_file(path, two_way=True)
    direct = from_networkx(g, source="memory", two_way=True)
    assert again.crs == direct.crs == "EPSG:32610"
    assert again.n == direct.n
    assert again.road_length_km == pytest.approx(direct.road_length_km)
    assert np.allclose(np.sort(again.x), np.sort(direct.x))
    # OSMnx's lengths are great-circle metres; the projected coordinates must agree with them
    u, v, length = again.streets
    straight = np.hypot(again.x[u] - again.x[v], again.y[u] - again.y[v])
    assert np.all(straight <= length * 1.01 + 0.5)


def test_map_option_replaces_the_map_and_drops_outside_hotspots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(SMALL_CITY), encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        ["run", str(path), "--map", str(AGS), "--days", "0.5", "--out", str(out), "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "demand.hotspots[0] (market): no street within 150 m; dropped" in err
    summary = (out / "summary.json").read_text(encoding="utf-8")
    assert '"scenario": "small"' in summary and "aguascalientes.osm.bz2" in summary


def test_unreadable_map_file_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.graphml"
    bad.write_text("<graphml><oops", encoding="utf-8")
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**SMALL_CITY, "map": {"file": str(bad)}}), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    assert "map.file: cannot read broken.graphml" in capsys.readouterr().err


def test_default_jinshui_scenario_meets_the_model_s_staffing() -> None:
    """15 named street offices, at least 20 staff per km², 1,100 or more staff."""
    world = sim.build_world(sim.load_scenario(ROOT / "scenarios" / "jinshui.yaml"))
    assert len(world.areas.office_names) == 15
    assert {"Nanyanglu", "Duling", "Dashiqiao", "Dongfenglu"} <= set(world.areas.office_names)
    assert all(world.areas.office_names_zh)
    assert 50 < world.areas.total_km2 < 60
    assert sum(world.roster.headcount().values()) >= 1100
    assert world.staff_per_km2 >= 20
    assert len(world.sites) == 4 and not world.warnings  # every hotspot on the map


def test_shipped_extracts_carry_their_attribution() -> None:
    # issue 20: tests read ../shared/data/osm and skipped on a fresh clone; they now read
    # these copies, which must keep the ODbL attribution beside them
    readme = (OSM_DIR / "README.md").read_text(encoding="utf-8")
    assert "OpenStreetMap contributors" in readme and "ODbL" in readme
    shipped = sorted(p.name for p in OSM_DIR.glob("*.osm.bz2"))
    assert shipped == ["sf-mission.osm.bz2", "west-oakland.osm.bz2"]
    assert all(f"`{name}`" in readme for name in shipped)
