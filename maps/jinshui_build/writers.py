"""The map's files: GeoJSON layers and the OSMnx-style GraphML street graph.

Byte-stable on purpose: coordinates rounded to fixed digits, features and graph
elements in a fixed order, one feature per line, and gzip with mtime 0 and no file
name, so a rebuild gives the same bytes.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely
import shapely.validation
from shapely.geometry import Polygon

from .frame import TO_UTM, UTM_CRS, Array, to_lonlat
from .streets import HIGHWAY_RANK, elen

# a GeoJSON feature before writing: (properties, lon/lat geometry)
Feature = tuple[dict[str, Any], Any]
# (id, UTM x, UTM y, degree) and (u, v, way, highway, name, length m)
NodeRow = tuple[int, float, float, int]
EdgeRow = tuple[int, int, int, str, str | None, float]


def ring_ll(coords: Any) -> Array:
    """A design-frame ring in lon/lat, rounded to 7 digits, repeated points dropped."""
    ll = np.round(to_lonlat(np.asarray(coords)), 7)
    keep = np.ones(len(ll), bool)
    keep[1:] = np.any(ll[1:] != ll[:-1], axis=1)
    return ll[keep]


def polygon_ll(poly: Any) -> Polygon:
    """A design-frame polygon in lon/lat, counter-clockwise, checked still valid."""
    poly = shapely.geometry.polygon.orient(poly, 1.0)
    ll = Polygon(ring_ll(poly.exterior.coords), [ring_ll(r.coords) for r in poly.interiors])
    if not ll.is_valid:
        why = shapely.validation.explain_validity(ll)
        raise RuntimeError(f"invalid polygon after rounding: {why}")
    return ll


def geojson_geom(g: Any) -> dict[str, Any]:
    """GeoJSON geometry of a lon/lat point or polygon, 7 digits."""
    if g.geom_type == "Point":
        return {"type": "Point", "coordinates": [round(g.x, 7), round(g.y, 7)]}
    rings = [g.exterior, *list(g.interiors)]
    return {
        "type": "Polygon",
        "coordinates": [[[round(x, 7), round(y, 7)] for x, y in r.coords] for r in rings],
    }


def write_geojson(path: Path, feats: Sequence[Feature]) -> None:
    """A FeatureCollection, one feature per line."""
    lines = [
        json.dumps(
            {"type": "Feature", "properties": props, "geometry": geojson_geom(g)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for props, g in feats
    ]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    Path(path).write_text(text, encoding="utf-8")


def xml_escape(s: str) -> str:
    """Text safe inside an XML element or attribute value."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


HIGHWAY_NAME = {v: k for k, v in HIGHWAY_RANK.items()}


def graph_tables(G: nx.Graph) -> tuple[list[NodeRow], list[EdgeRow]]:
    """Stable node ids (1..N, sorted by UTM y then x) and undirected edge rows."""
    nodes = sorted(G.nodes)
    xy = np.array([[G.nodes[n]["x"], G.nodes[n]["y"]] for n in nodes])
    ux, uy = TO_UTM.transform(xy[:, 0], xy[:, 1])
    ux, uy = np.round(ux, 1), np.round(uy, 1)
    order = np.lexsort((ux, uy))
    new_id = {nodes[i]: k + 1 for k, i in enumerate(order)}
    node_rows = [(k + 1, ux[i], uy[i], G.degree(nodes[i])) for k, i in enumerate(order)]
    edge_rows = []
    for u, v, d in G.edges(data=True):
        a, b = sorted((new_id[u], new_id[v]))
        edge_rows.append((a, b, d["way"], HIGHWAY_NAME[d["rank"]], d["name"], elen(G, u, v)))
    edge_rows.sort()
    return node_rows, edge_rows


def graphml_bytes(node_rows: list[NodeRow], edge_rows: list[EdgeRow]) -> bytes:
    """OSMnx-style GraphML: every street stored both ways, all values as strings."""
    keys = [
        ("d0", "graph", "crs"),
        ("d1", "graph", "name"),
        ("d2", "node", "x"),
        ("d3", "node", "y"),
        ("d4", "node", "street_count"),
        ("d5", "edge", "osmid"),
        ("d6", "edge", "highway"),
        ("d7", "edge", "name"),
        ("d8", "edge", "oneway"),
        ("d9", "edge", "reversed"),
        ("d10", "edge", "length"),
    ]
    out = [
        "<?xml version='1.0' encoding='utf-8'?>",
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">',
    ]
    for kid, dom, attr in keys:
        out.append(f'<key id="{kid}" for="{dom}" attr.name="{attr}" attr.type="string" />')
    out.append('<graph edgedefault="directed">')
    out.append(f'<data key="d0">{UTM_CRS}</data>')
    out.append(
        '<data key="d1">Jinshui District, Zhengzhou (generated approximation, '
        "maps/build_jinshui.py)</data>"
    )
    for nid, x, y, sc in node_rows:
        out.append(
            f'<node id="{nid}"><data key="d2">{x:.1f}</data><data key="d3">{y:.1f}</data>'
            f'<data key="d4">{sc}</data></node>'
        )
    directed = []
    for a, b, way, hw, name, L in edge_rows:
        directed.append((a, b, way, hw, name, L, "False"))
        directed.append((b, a, way, hw, name, L, "True"))
    directed.sort()
    for a, b, way, hw, name, L, rev in directed:
        nm = f'<data key="d7">{xml_escape(name)}</data>' if name else ""
        out.append(
            f'<edge source="{a}" target="{b}" id="0"><data key="d5">{way}</data>'
            f'<data key="d6">{hw}</data>{nm}<data key="d8">False</data>'
            f'<data key="d9">{rev}</data><data key="d10">{L:.1f}</data></edge>'
        )
    out.append("</graph>")
    out.append("</graphml>")
    return ("\n".join(out) + "\n").encode("utf-8")


def write_gzip(path: Path, data: bytes) -> None:
    """Gzip without time stamp or file name, so equal data gives equal bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as z:
        z.write(data)
    Path(path).write_bytes(buf.getvalue())
