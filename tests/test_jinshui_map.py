"""Checks of the default Jinshui District map (maps/jinshui/, built by maps/build_jinshui.py)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import shape
from shapely.ops import unary_union

from sim.scenario import DEFAULT_CATEGORIES

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "maps" / "jinshui"
FILES = ["streets.graphml.gz", "offices.geojson", "grids.geojson", "hotspots.geojson", "README.md"]
OFFICES = {
    "Jingbalu": "经八路街道",
    "Huayuanlu": "花园路街道",
    "Renminlu": "人民路街道",
    "Duling": "杜岭街道",
    "Dashiqiao": "大石桥街道",
    "Nanyanglu": "南阳路街道",
    "Nanyangxincun": "南阳新村街道",
    "Wenhualu": "文化路街道",
    "Fengchanlu": "丰产路街道",
    "Dongfenglu": "东风路街道",
    "Beilinlu": "北林路街道",
    "Weilailu": "未来路街道",
    "Fenghuangtai": "凤凰台街道",
    "Xingdalu": "兴达路街道",
    "Guojilu": "国基路街道",
}
KNOWN_KM2 = {"Duling": 0.9, "Dashiqiao": 1.9, "Nanyanglu": 3.74, "Dongfenglu": 6.5}
HIGHWAYS = {"primary", "secondary", "tertiary", "residential", "service"}
GEOD = Geod(ellps="WGS84")
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)


def geo_km2(g):
    return abs(GEOD.geometry_area_perimeter(g)[0]) / 1e6


def features(name):
    fc = json.loads((MAP / name).read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection"
    return fc["features"]


def utm(g):
    return shapely.transform(g, lambda c: np.column_stack(TO_UTM.transform(c[:, 0], c[:, 1])))


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """A fresh build through the script's own entry point (maps/ is its import root)."""
    spec = importlib.util.spec_from_file_location(
        "build_jinshui", ROOT / "maps" / "build_jinshui.py"
    )
    mod = importlib.util.module_from_spec(spec)
    out = tmp_path_factory.mktemp("jinshui")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(ROOT / "maps"))
        spec.loader.exec_module(mod)
        mod.main(["--out", str(out)])
    return out


@pytest.fixture(scope="module")
def graph():
    """The committed street graph, loaded the way the simulator may load it."""
    path = MAP / "streets.graphml.gz"
    try:
        import osmnx as ox
    except ImportError:  # plain networkx: attribute values are strings
        G = nx.read_graphml(path, node_type=int, force_multigraph=True)
        for _, d in G.nodes(data=True):
            d["x"], d["y"] = float(d["x"]), float(d["y"])
        for _, _, d in G.edges(data=True):
            d["length"] = float(d["length"])
            d["oneway"] = d["oneway"] == "True"
        return G
    return ox.load_graphml(path)


@pytest.fixture(scope="module")
def offices():
    return {
        f["properties"]["name"]: (f["properties"], shape(f["geometry"]))
        for f in features("offices.geojson")
    }


def test_rebuild_is_byte_identical(rebuilt):
    for name in FILES:
        new, old = (rebuilt / name).read_bytes(), (MAP / name).read_bytes()
        if name.endswith(".gz"):
            assert gzip.decompress(new) == gzip.decompress(old), f"{name}: content differs"
            assert old[4:8] == b"\0\0\0\0" and old[3] & 0x08 == 0, "gzip mtime/name set"
        assert new == old, f"{name} differs from a fresh rebuild"


def test_offices(offices):
    assert len(offices) == 15
    assert {n: p["name_zh"] for n, (p, _) in offices.items()} == OFFICES
    total = 0.0
    for name, (props, g) in offices.items():
        assert g.geom_type == "Polygon" and g.is_valid, name
        a = geo_km2(g)
        assert abs(a - props["area_km2"]) < 0.002, name
        total += a
    assert 50.0 <= total <= 60.0
    for name, km2 in KNOWN_KM2.items():
        assert abs(geo_km2(offices[name][1]) / km2 - 1) <= 0.10, name
    # no overlaps and no holes: the union is one polygon of the same area
    u = unary_union([g for _, g in offices.values()])
    assert u.geom_type == "Polygon" and len(u.interiors) == 0
    assert abs(geo_km2(u) / total - 1) < 1e-4


def test_grids_tile_offices(offices):
    grids = features("grids.geojson")
    by_office = {}
    for f in grids:
        p = f["properties"]
        assert re.fullmatch(re.escape(p["office"]) + r"-\d\d", p["name"])
        g = shape(f["geometry"])
        assert g.is_valid
        assert 0.25 <= geo_km2(g) <= 0.85, p["name"]
        by_office.setdefault(p["office"], []).append(g)
    assert set(by_office) == set(offices)
    assert len({f["properties"]["name"] for f in grids}) == len(grids)
    for name, (_, office) in offices.items():
        cells = by_office[name]
        a_office = geo_km2(office)
        assert abs(sum(geo_km2(c) for c in cells) / a_office - 1) < 0.005, name
        # the cells cover the office: what is left over is negligible
        left = utm(office).difference(unary_union([utm(c) for c in cells]))
        assert left.area / 1e6 < 0.005 * a_office, name


def test_graph_format(graph):
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.graph["crs"] == "EPSG:32649"
    assert 12_000 <= graph.number_of_nodes() <= 25_000
    assert all(isinstance(n, int) for n in graph.nodes)
    for u, v, d in graph.edges(data=True):
        assert d["highway"] in HIGHWAYS
        assert d["oneway"] is False
        assert d["length"] > 0
        assert graph.has_edge(v, u)  # two-way: stored both ways
    names = {d.get("name") for _, _, d in graph.edges(data=True)}
    for road in (
        "Huayuan Road 花园路",
        "Jinshui Road 金水路",
        "Gangdu Street 岗杜街",
        "Nongye Road 农业路",
        "North 3rd Ring Road 北三环",
    ):
        assert road in names


def test_graph_connected_and_length(graph):
    assert nx.is_strongly_connected(graph)
    km = sum(d["length"] for _, _, d in graph.edges(data=True)) / 2 / 1000
    assert 1000.0 <= km <= 1200.0
    # lengths agree with the node coordinates (straight edges, UTM ~ true metres)
    for u, v, d in list(graph.edges(data=True))[:2000]:
        a, b = graph.nodes[u], graph.nodes[v]
        dist = float(np.hypot(a["x"] - b["x"], a["y"] - b["y"]))
        assert abs(dist - d["length"]) <= 0.2 + 0.001 * d["length"]


def test_nodes_inside_offices(graph, offices):
    area = utm(unary_union([g for _, g in offices.values()])).buffer(5.0)
    xs = np.array([d["x"] for _, d in graph.nodes(data=True)])
    ys = np.array([d["y"] for _, d in graph.nodes(data=True)])
    assert shapely.contains_xy(area, xs, ys).all()


def test_hotspots(graph, offices):
    hs = features("hotspots.geojson")
    assert 3 <= len(hs) <= 5
    for f in hs:
        p = f["properties"]
        assert set(p) >= {
            "name",
            "name_zh",
            "radius_m",
            "incidents_per_hour",
            "start",
            "end",
            "categories",
            "note",
        }
        # the shares of a hotspot's incidents by category: default categories, summing to 1
        assert set(p["categories"]) <= set(DEFAULT_CATEGORIES), p["name"]
        assert abs(sum(p["categories"].values()) - 1) < 1e-9, p["name"]
        assert re.fullmatch(r"\d\d:\d\d", p["start"]) and re.fullmatch(r"\d\d:\d\d", p["end"])
        assert p["radius_m"] > 0 and p["incidents_per_hour"] > 0 and p["note"]
        assert f["geometry"]["type"] == "Point"
    gangdu = next(f for f in hs if "岗杜街" in f["properties"]["name_zh"])
    x, y = TO_UTM.transform(*gangdu["geometry"]["coordinates"])
    # on Gangdu Street, which runs along the south edge of Nanyanglu
    on_street = [u for u, v, d in graph.edges(data=True) if d.get("name") == "Gangdu Street 岗杜街"]
    d_min = min(np.hypot(graph.nodes[n]["x"] - x, graph.nodes[n]["y"] - y) for n in on_street)
    assert d_min < 100
    nanyanglu = utm(offices["Nanyanglu"][1])
    assert nanyanglu.contains(shapely.Point(x, y))
    assert nanyanglu.exterior.distance(shapely.Point(x, y)) < 30
