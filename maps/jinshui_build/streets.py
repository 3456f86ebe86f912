"""The street network: drawn roads and block patterns, noded into one graph.

Every drawn road and every block's local pattern becomes a centre line; the lines
are noded where they cross, near-coincident junctions are merged, short dangles
pruned, some local links dropped (missing links), back alleys added and long edges
subdivided. The result is one connected undirected graph on design-frame
coordinates; edges carry ``rank`` (index into HIGHWAY_RANK), ``name`` and ``way``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from .blocks import ROADS, chaikin, extend_ends
from .facts import COMPOUNDS, PARKS, RIVERS
from .patterns import STYLES, compound_pattern, local_pattern, park_pattern, style_of

HIGHWAY_RANK = {"primary": 0, "secondary": 1, "tertiary": 2, "residential": 3, "service": 4}
RIVER_CLEARANCE = 14.0  # m kept free of local streets on each bank
CLIP_OVERSHOOT = 3.0  # m; local streets overshoot their block edge to node

# a centre line before noding: (geometry, rank, name, block index or -1 for a drawn road)
Source = tuple[Any, int, str | None, int]


def river_zone() -> Any:
    """The waterways widened by the clearance kept free of local streets."""
    rivers = [LineString(chaikin(pts)) for (_, _, pts) in RIVERS]
    return unary_union(rivers).buffer(RIVER_CLEARANCE)


def source_lines(outline: Polygon, faces: list[Any], rng: np.random.Generator) -> list[Source]:
    """All road centre-lines before noding: (geometry, rank, name, face or -1)."""
    src = []
    for en, zh, hw, pts in ROADS:
        g = LineString(extend_ends(pts)).intersection(outline)
        for part in shapely.get_parts(g):
            src.append((part, HIGHWAY_RANK[hw], f"{en} {zh}" if en else None, -1))
    rz = river_zone()
    parks = [Point(p) for p in PARKS]
    compounds = [Point(p) for p in COMPOUNDS]
    for fid, face in enumerate(faces):
        if face.area < 4000 or face.area / face.length < 18:  # slivers along roads/rivers
            continue
        if any(face.contains(p) for p in parks):
            lines = park_pattern(face, rng)
        elif any(face.contains(p) for p in compounds):
            lines = compound_pattern(face, rng)
        else:
            rp = face.representative_point()
            lines = local_pattern(face, style_of((rp.x, rp.y)), rng)
        region = face.buffer(CLIP_OVERSHOOT, join_style="mitre")
        if region.intersects(rz):
            region = region.difference(rz)
        region = region.intersection(outline.buffer(-12.0))
        geoms = shapely.intersection(np.array([g for g, _ in lines], dtype=object), region)
        for g, (_, cls) in zip(geoms, lines, strict=False):
            for part in shapely.get_parts(g):
                if part.geom_type == "LineString" and part.length > 8.0:
                    src.append((part, HIGHWAY_RANK[cls], None, fid))
    return src


def node_lines(src: list[Source], faces: list[Any]) -> nx.Graph:
    """Node all lines; return undirected graph on design-frame coordinates."""
    geoms = np.array([s[0] for s in src], dtype=object)
    rank = np.array([s[1] for s in src])
    face = np.array([s[3] for s in src])
    parts = shapely.get_parts(shapely.union_all(geoms))
    mids = shapely.line_interpolate_point(parts, 0.5, normalized=True)
    tree = shapely.STRtree(geoms)
    qi, ti = tree.query(mids, predicate="dwithin", distance=0.01)
    order = np.lexsort((ti, rank[ti], qi))
    qi, ti = qi[order], ti[order]
    first = np.unique(qi, return_index=True)[1]
    owner = np.full(len(parts), -1)
    owner[qi[first]] = ti[first]
    keep = owner >= 0
    # local streets keep only the pieces inside their own block
    loc = keep & (face[np.maximum(owner, 0)] >= 0)
    idx = np.nonzero(loc)[0]
    fa = np.array(faces, dtype=object)[face[owner[idx]]]
    inside = shapely.contains(fa, mids[idx])
    keep[idx[~inside]] = False
    parts, owner = parts[keep], owner[keep]
    coords, pidx = shapely.get_coordinates(parts, return_index=True)
    key = np.round(coords, 3)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.ravel()
    G = nx.Graph()
    for n, (x, y) in enumerate(uniq):
        G.add_node(n, x=float(x), y=float(y))
    same = pidx[1:] == pidx[:-1]
    a, b, w = inv[:-1][same], inv[1:][same], owner[pidx[:-1][same]]
    for u, v, s in zip(a.tolist(), b.tolist(), w.tolist(), strict=False):
        if u == v:
            continue
        r = int(rank[s])
        if G.has_edge(u, v) and G.edges[u, v]["rank"] <= r:
            continue
        G.add_edge(u, v, rank=r, name=src[s][2], way=s + 1)
    return G


def elen(G: nx.Graph, u: int, v: int) -> float:
    """Length of edge u-v in the design frame (metres)."""
    a, b = G.nodes[u], G.nodes[v]
    return math.hypot(a["x"] - b["x"], a["y"] - b["y"])


def contract_short(G: nx.Graph, min_len: float = 8.0) -> nx.Graph:
    """Merge the ends of very short edges (near-coincident junctions)."""
    while True:
        edges = sorted((u, v) if u < v else (v, u) for u, v in G.edges)
        xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
        a = np.array([xy[u] for u, _ in edges])
        b = np.array([xy[v] for _, v in edges])
        short = [edges[i] for i in np.nonzero(np.hypot(*(a - b).T) < min_len)[0]]
        if not short:
            return G
        done: set[int] = set()
        for u, v in short:
            if u in done or v in done or not G.has_edge(u, v):
                continue
            # keep the node that lies on the higher-class road
            ru = min(d["rank"] for _, _, d in G.edges(u, data=True))
            rv = min(d["rank"] for _, _, d in G.edges(v, data=True))
            keep, drop = (u, v) if (ru, -G.degree(u), u) <= (rv, -G.degree(v), v) else (v, u)
            for _, w, d in list(G.edges(drop, data=True)):
                if w == keep:
                    continue
                if not G.has_edge(keep, w) or G.edges[keep, w]["rank"] > d["rank"]:
                    G.add_edge(keep, w, **d)
            G.remove_node(drop)
            done.update((u, v))


def prune_dangles(G: nx.Graph, max_len: float = 14.0, rounds: int = 3) -> None:
    """Remove short dead-end stubs left by noding, a few rounds deep."""
    for _ in range(rounds):
        dead = sorted(
            n for n in G.nodes if G.degree(n) == 1 and elen(G, n, next(iter(G[n]))) < max_len
        )
        if not dead:
            break
        G.remove_nodes_from(dead)
        G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])


def chains(G: nx.Graph) -> list[list[int]]:
    """Maximal paths through degree-2 nodes: list of node lists."""
    seen, out = set(), []
    for u, v in sorted((min(e), max(e)) for e in G.edges):
        if (u, v) in seen:
            continue
        path = [u, v]
        seen.add((u, v))
        for direction in (0, 1):
            while True:
                end, prev = (path[-1], path[-2]) if direction == 0 else (path[0], path[1])
                if G.degree(end) != 2:
                    break
                nxt = [w for w in G[end] if w != prev]
                if not nxt or nxt[0] in path:
                    break
                e = (min(end, nxt[0]), max(end, nxt[0]))
                if e in seen:
                    break
                seen.add(e)
                if direction == 0:
                    path.append(nxt[0])
                else:
                    path.insert(0, nxt[0])
        out.append(path)
    return out


def drop_links(G: nx.Graph, rng: np.random.Generator) -> None:
    """Missing links: remove some whole residential/service chains between junctions."""
    for path in chains(G):
        a, b = path[0], path[-1]
        d = G.edges[path[0], path[1]]
        if d["rank"] < 3 or G.degree(a) < 3 or G.degree(b) < 3:
            continue
        mx = (G.nodes[a]["x"] + G.nodes[b]["x"]) / 2
        my = (G.nodes[a]["y"] + G.nodes[b]["y"]) / 2
        if rng.random() < STYLES[style_of((mx, my))].drop:
            G.remove_edges_from(list(itertools.pairwise(path)))
            G.remove_nodes_from(list(path[1:-1]))


def add_alleys(G: nx.Graph, rng: np.random.Generator, outline: Polygon, rz: Any) -> None:
    """Back alleys (背街小巷): short dead-end service lanes off local streets."""
    edges = sorted((min(e), max(e)) for e in G.edges)
    xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    segs = shapely.linestrings(np.array([[xy[u], xy[v]] for u, v in edges]))
    tree = shapely.STRtree(segs)
    hull = outline.buffer(-15.0)
    accepted: dict[tuple[int, int], list[Any]] = {}
    nid = max(G.nodes) + 1
    way = max(d["way"] for _, _, d in G.edges(data=True)) + 1
    for u, v in edges:
        d = G.edges[u, v]
        L = elen(G, u, v)
        mx = (G.nodes[u]["x"] + G.nodes[v]["x"]) / 2
        my = (G.nodes[u]["y"] + G.nodes[v]["y"]) / 2
        if d["rank"] < 2 or L < 50 or rng.random() >= STYLES[style_of((mx, my))].alley:
            continue
        t, side = rng.uniform(0.3, 0.7), (1 if rng.random() < 0.5 else -1)
        length, turn = rng.uniform(32, 88), math.radians(rng.normal(0, 10))
        A = np.array([G.nodes[u]["x"], G.nodes[u]["y"]])
        B = np.array([G.nodes[v]["x"], G.nodes[v]["y"]])
        P = A + t * (B - A)
        dvec = (B - A) / L
        nvec = side * np.array([-dvec[1], dvec[0]])
        c, s = math.cos(turn), math.sin(turn)
        nvec = np.array([c * nvec[0] - s * nvec[1], s * nvec[0] + c * nvec[1]])
        E = P + length * nvec
        probe = LineString([P + 13 * nvec, E])
        if not hull.contains(Point(E)) or probe.intersects(rz):
            continue
        if len(tree.query(probe, predicate="dwithin", distance=10.0)):
            continue
        cell = (int(E[0] // 60), int(E[1] // 60))
        near = [
            q
            for i in (-1, 0, 1)
            for j in (-1, 0, 1)
            for q in accepted.get((cell[0] + i, cell[1] + j), [])
        ]
        if any(probe.distance(q) < 12 for q in near):
            continue
        accepted.setdefault(cell, []).append(LineString([P, E]))
        m, e = nid, nid + 1
        nid += 2
        G.add_node(m, x=float(P[0]), y=float(P[1]))
        G.add_node(e, x=float(E[0]), y=float(E[1]))
        G.remove_edge(u, v)
        G.add_edge(u, m, **d)
        G.add_edge(m, v, **d)
        G.add_edge(m, e, rank=4, name=None, way=way)
        way += 1


def subdivide_long(G: nx.Graph, max_len: float = 150.0) -> None:
    """Split edges longer than max_len into equal pieces of at most 140 m."""
    nid = max(G.nodes) + 1
    for u, v in sorted((min(e), max(e)) for e in G.edges):
        L = elen(G, u, v)
        if max_len >= L:
            continue
        d = G.edges[u, v]
        n = math.ceil(L / 140.0)
        A = np.array([G.nodes[u]["x"], G.nodes[u]["y"]])
        B = np.array([G.nodes[v]["x"], G.nodes[v]["y"]])
        G.remove_edge(u, v)
        prev = u
        for i in range(1, n):
            P = A + (B - A) * i / n
            G.add_node(nid, x=float(P[0]), y=float(P[1]))
            G.add_edge(prev, nid, **d)
            prev, nid = nid, nid + 1
        G.add_edge(prev, v, **d)


def build_network(outline: Polygon, faces: list[Any], rng: np.random.Generator) -> nx.Graph:
    """The connected street graph of the map, drawn with ``rng``."""
    src = source_lines(outline, faces, rng)
    G = node_lines(src, faces)
    contract_short(G)
    prune_dangles(G)
    drop_links(G, rng)
    add_alleys(G, rng, outline, river_zone())
    subdivide_long(G)
    prune_dangles(G)
    G.remove_edges_from(nx.selfloop_edges(G))
    giant = max(nx.connected_components(G), key=lambda c: (len(c), min(c)))
    G.remove_nodes_from(sorted(set(G.nodes) - giant))
    return G
