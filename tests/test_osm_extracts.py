"""OpenStreetMap extracts as planners get them: PBF and XML, clipped, with boundaries.

The extracts are cut in the tests from real data shipped in the repository (downtown
Aguascalientes, ``maps/aguascalientes/``) with pyosmium, at a box whose east edge runs
through the middle of the town, the way an extract service or ``osmium extract`` cuts a
file: nodes outside are left out, and ways that cross the edge keep references to them.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import AGUASCALIENTES, SMALL_CITY

from sim.cli import main
from sim.scenario import ResolvedScenario, ScenarioError, resolve_scenario, scenario_from_dict
from sim.world import districts, osm
from sim.world.build import load_network
from sim.world.network import read_map_file
from sim.world.osm import streets as osm_streets

SRC = AGUASCALIENTES


def _bounds() -> tuple[float, float, float, float]:
    import osmium

    b = osmium.FileProcessor(str(SRC)).header.box()
    return b.bottom_left.lon, b.bottom_left.lat, b.top_right.lon, b.top_right.lat


def _cut_box() -> tuple[float, float, float, float]:
    west, south, east, north = _bounds()
    return west, south, (west + east) / 2, north


def _inside(lon: float, lat: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def clip(dst: Path, box: tuple[float, float, float, float], extra: Any = None) -> Path:
    """Write the nodes inside ``box`` and every way with a node inside, all its refs kept."""
    import osmium

    nodes, ways = [], []
    for o in osmium.FileProcessor(str(SRC)):
        if o.is_node() and _inside(o.location.lon, o.location.lat, box):
            nodes.append(
                osmium.osm.mutable.Node(
                    id=o.id, location=(o.location.lon, o.location.lat), tags=dict(o.tags)
                )
            )
        elif o.is_way():
            ways.append(
                osmium.osm.mutable.Way(id=o.id, nodes=[n.ref for n in o.nodes], tags=dict(o.tags))
            )
    kept = {n.id for n in nodes}
    writer = osmium.SimpleWriter(str(dst))
    for n in nodes:
        writer.add_node(n)
    for w in ways:
        if kept & set(w.nodes):
            writer.add_way(w)
    if extra is not None:
        extra(writer)
    writer.close()
    return dst


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("osm")
    box = _cut_box()
    return {fmt: clip(folder / f"clip.{fmt}", box) for fmt in ("osm", "osm.pbf", "osm.gz")}


@pytest.fixture(autouse=True)
def cold_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_CACHE_DIR", str(tmp_path / "cache"))


def _lonlat(net: Any) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    t = Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    lon, lat = t.transform(net.x, net.y)
    return np.asarray(lon), np.asarray(lat)


def _metres_east(lon: float, lon0: float, lat: float) -> float:
    return (lon - lon0) * 111_320 * math.cos(math.radians(lat))


def _crossing_ends(box: tuple[float, float, float, float]) -> set[str]:
    """For every street crossing the box's east edge, its last node before the edge."""
    import osmium

    where = {
        o.id: _inside(o.location.lon, o.location.lat, box)
        for o in osmium.FileProcessor(str(SRC), osmium.osm.NODE)
    }
    ends = set()
    for w in osmium.FileProcessor(str(SRC), osmium.osm.WAY):
        if "highway" not in w.tags:
            continue
        refs = [n.ref for n in w.nodes]
        for a, b in itertools.pairwise(refs):
            if where.get(a) and not where.get(b):
                ends.add(str(a))
            elif where.get(b) and not where.get(a):
                ends.add(str(b))
    return ends


@pytest.mark.parametrize("fmt", ["osm", "osm.pbf", "osm.gz"])
def test_clipped_extract_loads_and_its_streets_reach_the_cut(
    extracts: dict[str, Path], fmt: str
) -> None:
    box = _cut_box()
    net = read_map_file(extracts[fmt], two_way=True)
    assert net.n > 200 and net.crs == "EPSG:32613"
    (note,) = net.notes
    assert "streets run past the edge of the extract" in note and "missing from the file" in note
    lon, lat = _lonlat(net)
    assert lon.max() <= box[2] + 1e-6  # nothing beyond the cut
    # the nodes where streets leave the file are kept: the network reaches the edge
    gap = _metres_east(box[2], float(lon.max()), float(lat.mean()))
    assert 0 <= gap < 15
    ends = _crossing_ends(box)
    assert len(ends) > 20
    kept = {i for i in ends if net.has(i)}
    assert len(kept) >= 0.9 * len(ends)  # a few lie on scraps cut off from the rest


def test_xml_and_pbf_give_the_same_network(extracts: dict[str, Path]) -> None:
    nets = [read_map_file(extracts[fmt], two_way=False) for fmt in ("osm", "osm.pbf", "osm.gz")]
    assert len({n.content_hash() for n in nets}) == 1
    assert not nets[0].is_symmetric  # one-way streets kept when staff obey them


def test_street_length_is_what_lies_inside_the_cut(extracts: dict[str, Path]) -> None:
    """Every street segment with both ends inside the box, and nothing else."""
    import osmium

    box = _cut_box()
    loc = {
        o.id: (o.location.lon, o.location.lat)
        for o in osmium.FileProcessor(str(SRC), osmium.osm.NODE)
        if _inside(o.location.lon, o.location.lat, box)
    }
    pairs = set()
    for w in osmium.FileProcessor(str(SRC), osmium.osm.WAY):
        if "highway" in w.tags:
            refs = [n.ref for n in w.nodes]
            pairs |= {
                frozenset((a, b))
                for a, b in itertools.pairwise(refs)
                if a in loc and b in loc and a != b
            }
    a, b = zip(*(tuple(p) for p in pairs), strict=True)
    lon1, lat1 = np.array([loc[i] for i in a]).T
    lon2, lat2 = np.array([loc[i] for i in b]).T
    expected_km = osm_streets._haversine(lon1, lat1, lon2, lat2).sum() / 1000
    net = read_map_file(extracts["osm.pbf"], two_way=True)
    # the largest connected part only: a few scraps along the cut are left out
    assert 0.95 * expected_km <= net.road_length_km <= expected_km + 1e-6


def test_cutting_the_whole_file_equals_loading_the_clipped_one(extracts: dict[str, Path]) -> None:
    from shapely.geometry import box as shape_box

    whole = read_map_file(SRC, two_way=True, cut=shape_box(*_cut_box()))
    clipped = read_map_file(extracts["osm.pbf"], two_way=True)
    assert whole.content_hash() == clipped.content_hash()
    assert "the edge of map.cut" in whole.notes[0]


def _scenario(map_spec: dict[str, Any]) -> Any:
    return scenario_from_dict({**SMALL_CITY, "map": map_spec, "demand": {"incidents_per_day": 50}})


def _resolved(map_spec: dict[str, Any]) -> ResolvedScenario:
    return resolve_scenario(_scenario(map_spec))


def _with_boundaries(dst: Path) -> Path:
    """The clipped town plus two wards (admin_level 8) covering its west and middle parts,
    a strip in the east outside both, and a third ward whose outline is not in the file."""
    from osmium.osm import mutable

    west, south, mid, north = _cut_box()
    third = west + (mid - west) / 3
    inner_east = mid - (mid - west) / 10
    pad = 0.001
    s, n = south - pad, north + pad
    corners = {
        "West": [(west - pad, s), (third, s), (third, n), (west - pad, n)],
        "Middle": [(third, s), (inner_east, s), (inner_east, n), (third, n)],
    }
    tags = {
        "West": {"name": "西区", "name:en": "West Ward"},
        "Middle": {"name": "中区", "name:zh-Latn-pinyin": "Zhongqu"},
    }

    def add(writer: Any) -> None:
        nid, wid = 9_000_000_000, 9_000_000_000
        ways = {}
        for key, ring in corners.items():
            ids = []
            for lon, lat in ring:
                writer.add_node(mutable.Node(id=nid, location=(lon, lat)))
                ids.append(nid)
                nid += 1
            writer.add_way(mutable.Way(id=wid, nodes=[*ids, ids[0]], tags={}))
            ways[key] = wid
            wid += 1
        for k, key in enumerate(corners):
            writer.add_relation(
                mutable.Relation(
                    id=9_000_000 + k,
                    members=[("w", ways[key], "outer")],
                    tags={
                        "type": "boundary",
                        "boundary": "administrative",
                        "admin_level": "8",
                        **tags[key],
                    },
                )
            )
        writer.add_relation(
            mutable.Relation(
                id=9_000_009,
                members=[("w", 123, "outer")],
                tags={
                    "type": "boundary",
                    "boundary": "administrative",
                    "admin_level": "8",
                    "name": "Elsewhere",
                },
            )
        )

    return clip(dst, _cut_box(), add)


@pytest.fixture(scope="module")
def wards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _with_boundaries(tmp_path_factory.mktemp("wards") / "wards.osm.pbf")


def test_offices_from_administrative_boundaries_keep_both_names(wards: Path) -> None:
    spec = {"file": str(wards), "offices": {"admin_level": 8}}
    net, offices, warnings = load_network(_resolved(spec))
    assert offices is not None
    assert [(name, zh) for name, zh, _ in offices] == [("West Ward", "西区"), ("Zhongqu", "中区")]
    assert any("1 boundary only partly in the file left out: Elsewhere" in w for w in warnings)
    outside = [w for w in warnings if "outside every boundary" in w]
    assert len(outside) == 1 and "joins the nearest office" in outside[0]
    n_nearest = net.n

    dropped = {**spec, "offices": {"admin_level": 8, "outside": "drop"}}
    net, offices, warnings = load_network(_resolved(dropped))
    assert any("dropped" in w and "outside every boundary" in w for w in warnings)
    assert net.n < n_nearest
    import shapely

    assert offices is not None
    union = shapely.union_all([g for _, _, g in offices])
    assert shapely.intersects_xy(union.buffer(1e-6), net.x, net.y).all()


def test_offices_by_tag_and_a_world_built_on_them(wards: Path) -> None:
    import sim

    sc = _scenario({"file": str(wards), "offices": {"tag": "admin_level=8"}})
    world = sim.build_world(sc)
    assert world.areas.office_names == ("West Ward", "Zhongqu")
    assert world.areas.office_names_zh == ("西区", "中区")
    assert (np.bincount(world.areas.node_office) > 0).all()


def test_cut_by_boundary_name(wards: Path) -> None:
    sc = _scenario({"file": str(wards), "cut": {"boundary": "中区"}})
    net, _, warnings = load_network(resolve_scenario(sc))
    lon, _ = _lonlat(net)
    west, _, mid, _ = _cut_box()
    assert lon.min() >= west + (mid - west) / 3 - 1e-6
    assert lon.max() <= mid - (mid - west) / 10 + 1e-6
    assert any("the edge of map.cut" in w for w in warnings)
    with pytest.raises(ScenarioError, match="no complete administrative boundary named 'Nowhere'"):
        load_network(_resolved({"file": str(wards), "cut": {"boundary": "Nowhere"}}))


def test_cut_by_polygon_and_geojson(wards: Path, tmp_path: Path) -> None:
    import json

    west, south, mid, north = _cut_box()
    ring = [[west, south], [(west + mid) / 2, south], [(west + mid) / 2, north], [west, north]]
    by_list, _, _ = load_network(_resolved({"file": str(wards), "cut": {"polygon": ring}}))
    gj = tmp_path / "cut.geojson"
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }
    gj.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )
    by_file, _, _ = load_network(_resolved({"file": str(wards), "cut": {"geojson": str(gj)}}))
    assert by_list.content_hash() == by_file.content_hash()
    assert _lonlat(by_list)[0].max() <= (west + mid) / 2 + 1e-6


def test_a_cut_too_big_is_refused_before_building(
    extracts: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(osm_streets, "MAX_STREET_REFS", 100)
    with pytest.raises(ScenarioError, match="more than 100 street nodes"):
        read_map_file(extracts["osm.pbf"])
    monkeypatch.setattr(osm_streets, "MAX_UNCUT_BYTES", dict.fromkeys(osm.MAX_UNCUT_BYTES, 1000))
    with pytest.raises(ScenarioError, match=r"is \d+\.\d KB, a region rather than a district"):
        read_map_file(extracts["osm.pbf"])


def test_second_load_comes_from_the_cache(
    extracts: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = read_map_file(extracts["osm.pbf"], two_way=True)

    def no_parsing(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(osm, "read_streets", no_parsing)
    again = read_map_file(extracts["osm.pbf"], two_way=True)
    assert again.content_hash() == first.content_hash() and again.notes == first.notes


def test_cli_map_option_reads_a_pbf(
    extracts: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(SMALL_CITY), encoding="utf-8")
    assert main(["validate", str(path), "--map", str(extracts["osm.pbf"])]) == 0
    out = capsys.readouterr()
    assert "valid." in out.out and "streets run past the edge of the extract" in out.err


def test_boundaries_need_an_osm_file() -> None:
    from sim.scenario import OsmOffices

    with pytest.raises(ScenarioError, match=r"map\.offices: boundaries from the map need"):
        districts.offices_from_extract(OsmOffices(admin_level=8), Path("streets.graphml"), None)
