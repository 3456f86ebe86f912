"""Street network: nodes with metric coordinates, directed street lengths, loaders.

The simulator works on a compact array form (:class:`StreetNetwork`): node coordinates
in metres and a sparse matrix of street lengths. Loaders read GraphML (OSMnx's format),
OpenStreetMap extracts (PBF or XML, streamed through pyosmium, see :mod:`sim.world.osm`), an
inline node/edge list, or a generated city; all keep the largest strongly connected part
and say what they dropped.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import iterparse

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from sim.errors import require_file
from sim.scenario import InlineMap, ScenarioError
from sim.world import cache, osm

if TYPE_CHECKING:
    import networkx as nx
    from shapely.geometry.base import BaseGeometry

# road classes from OSM's ``highway`` tag, by importance: 0 motorway/trunk … 5 service/paths
HIGHWAY_CLASS = {
    "motorway": 0, "trunk": 0, "primary": 1, "secondary": 2, "tertiary": 3,
    "residential": 4, "unclassified": 4, "living_street": 4, "road": 4,
}  # fmt: skip
MINOR_ROAD = 5


def highway_class(value: object) -> int:
    """Class of a ``highway`` value; OSMnx lists (``['primary', 'tertiary']``) take the best."""
    if value is None or value == "":
        return MINOR_ROAD
    items = value if isinstance(value, list | tuple) else str(value).strip("[]").split(",")
    best = MINOR_ROAD
    for raw in items:
        tag = str(raw).strip().strip("'\"").removesuffix("_link")
        best = min(best, HIGHWAY_CLASS.get(tag, MINOR_ROAD))
    return best


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """A street graph in array form (all lengths in metres)."""

    ids: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    lengths: sp.csr_matrix  # directed: lengths[u, v] is the street from u to v
    crs: str | None = None
    dropped_nodes: int = 0
    source: str = ""
    classes: sp.csr_matrix | None = None  # road class + 1 per street, same layout as lengths
    notes: tuple[str, ...] = ()  # what loading cut or dropped, for the user
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index.update({nid: i for i, nid in enumerate(self.ids)})

    @property
    def n(self) -> int:
        return len(self.ids)

    def index_of(self, node_id: int | str) -> int:
        """Array index of the node with this id; ``KeyError`` if there is none."""
        return self._index[str(node_id)]

    def has(self, node_id: int | str) -> bool:
        return str(node_id) in self._index

    @property
    def streets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Undirected streets, each once: (u, v, length)."""
        sym = self.lengths.maximum(self.lengths.T).tocoo()
        keep = sym.row < sym.col
        return sym.row[keep], sym.col[keep], sym.data[keep]

    def street_classes(self) -> np.ndarray | None:
        """Road class of each street of :attr:`streets` (0 motorway … 5 minor), if known."""
        if self.classes is None:
            return None
        sym = self.classes.maximum(self.classes.T).tocoo()
        keep = sym.row < sym.col
        return np.asarray(sym.data[keep] - 1, dtype=np.int64)

    @property
    def road_length_km(self) -> float:
        return float(self.streets[2].sum()) / 1000.0

    def node_weights(self) -> np.ndarray:
        """Road length (m) nearer to each node than to any other: half of each street at it."""
        u, v, length = self.streets
        w = np.bincount(u, weights=length / 2, minlength=self.n)
        w += np.bincount(v, weights=length / 2, minlength=self.n)
        return w

    def location_p(self) -> np.ndarray:
        """Probability of each node as an incident location: by road length (uniform if none)."""
        w = self.node_weights()
        total = w.sum()
        return w / total if total > 0 else np.full(self.n, 1.0 / self.n)

    def lonlat(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Every node in WGS84 longitude and latitude (None, None when the map has no CRS)."""
        if not self.crs:
            return None, None
        from pyproj import Transformer  # deferred: pyproj loads only for coordinates to transform

        t = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        lon, lat = t.transform(self.x, self.y)
        return np.asarray(lon, float), np.asarray(lat, float)

    @property
    def is_symmetric(self) -> bool:
        diff = self.lengths - self.lengths.T
        return diff.nnz == 0 or bool(np.all(np.abs(diff.data) < 1e-9))

    def content_hash(self) -> str:
        """A digest of everything that determines travel times."""
        h = hashlib.sha256()
        for arr in (self.x, self.y, self.lengths.indptr, self.lengths.indices, self.lengths.data):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:20]


@dataclass(frozen=True, eq=False)
class Edges:
    """Directed street edges by node index: from ``u`` to ``v``, ``length`` metres, and
    the road class of each (see :func:`highway_class`; None: not known)."""

    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    road_class: np.ndarray | None = None

    def both_ways(self) -> Edges:
        """Every street usable in both directions (staff on foot or bike)."""
        k = self.road_class
        return Edges(
            np.concatenate([self.u, self.v]),
            np.concatenate([self.v, self.u]),
            np.concatenate([self.length, self.length]),
            None if k is None else np.concatenate([k, k]),
        )


def from_arrays(
    ids: list[str],
    x: np.ndarray,
    y: np.ndarray,
    edges: Edges,
    *,
    crs: str | None = None,
    source: str = "",
    strict: bool = False,
    where: str = "map",
) -> StreetNetwork:
    """Build a network from directed edges, keeping its largest strongly connected part.

    With ``strict`` a network in several pieces is an error instead. The edges' road
    classes, when known, are kept for drawing.
    """
    n = len(ids)
    if n == 0:
        raise ScenarioError([f"{where}: the map has no nodes"])
    u, v, length, road_class = edges.u, edges.v, edges.length, edges.road_class
    klass = np.full(len(u), MINOR_ROAD) if road_class is None else np.asarray(road_class)
    loops = u != v
    u, v, length, klass = u[loops], v[loops], length[loops], klass[loops]
    order = np.lexsort((length, v, u))  # duplicates: the shortest parallel edge comes first
    u, v, length, klass = u[order], v[order], length[order], klass[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, length, klass = u[first], v[first], length[first], klass[first]
    mat = sp.csr_matrix((length.astype(np.float64), (u, v)), shape=(n, n))
    classes = sp.csr_matrix((klass.astype(np.float64) + 1, (u, v)), shape=(n, n))
    ncomp, labels = connected_components(mat, directed=True, connection="strong")
    dropped = 0
    if ncomp > 1:
        sizes = np.bincount(labels)
        if strict:
            raise ScenarioError(
                [
                    f"{where}: the street network is not connected: {ncomp} separate pieces "
                    f"(largest {sizes.max()} of {n} nodes)"
                ]
            )
        keep = np.flatnonzero(labels == sizes.argmax())
        dropped = n - len(keep)
        mat = mat[keep][:, keep].tocsr()
        classes = classes[keep][:, keep].tocsr()
        ids = [ids[i] for i in keep]
        x, y = x[keep], y[keep]
    mat.sort_indices()
    classes.sort_indices()
    return StreetNetwork(
        tuple(ids), np.asarray(x, float), np.asarray(y, float), mat, crs, dropped, source,
        classes=None if road_class is None else classes,
    )  # fmt: skip


def from_inline(spec: InlineMap) -> StreetNetwork:
    """Network from the scenario's own node and edge lists (metres)."""
    ids = [str(n.id) for n in spec.nodes]
    problems = []
    if len(set(ids)) != len(ids):
        problems.append("map.inline.nodes: node ids are not unique")
    index = {nid: i for i, nid in enumerate(ids)}
    x = np.array([n.x for n in spec.nodes], float)
    y = np.array([n.y for n in spec.nodes], float)
    us, vs, ls = [], [], []
    for k, e in enumerate(spec.edges):
        missing = [str(end) for end in (e.u, e.v) if str(end) not in index]
        if missing:
            problems.append(f"map.inline.edges[{k}]: unknown node {', '.join(missing)}")
            continue
        a, b = index[str(e.u)], index[str(e.v)]
        length = e.length if e.length is not None else math.hypot(x[a] - x[b], y[a] - y[b])
        if length <= 0:
            problems.append(f"map.inline.edges[{k}]: zero length; give length explicitly")
            continue
        us.append(a)
        vs.append(b)
        ls.append(length)
        if not e.oneway:
            us.append(b)
            vs.append(a)
            ls.append(length)
    if problems:
        raise ScenarioError(problems)
    edges = Edges(np.array(us, np.int64), np.array(vs, np.int64), np.array(ls, float))
    return from_arrays(ids, x, y, edges, source="inline", strict=True, where="map.inline")


def from_networkx(
    g: nx.MultiDiGraph | nx.DiGraph | nx.Graph,
    *,
    source: str,
    strict: bool = False,
    two_way: bool = False,
    where: str = "map.file",
) -> StreetNetwork:
    """Network from a networkx graph with node ``x``/``y`` and edge ``length`` attributes.

    Geographic coordinates (a ``crs`` of EPSG:4326, or none with lon/lat-sized values)
    are projected to the local UTM zone so that everything downstream is in metres.
    """
    nodes = list(g.nodes)
    if not nodes:
        raise ScenarioError([f"{where}: the map has no nodes"])
    try:
        x = np.array([float(g.nodes[n]["x"]) for n in nodes])
        y = np.array([float(g.nodes[n]["y"]) for n in nodes])
    except (KeyError, TypeError, ValueError):
        raise ScenarioError([f"{where}: every node needs numeric x and y attributes"]) from None
    crs = g.graph.get("crs")
    if _is_geographic(crs, x, y):
        x, y, crs = project_to_utm(x, y)
    index = {n: i for i, n in enumerate(nodes)}
    directed = g.is_directed()
    us, vs, ls, cs = [], [], [], []
    for a, b, data in g.edges(data=True):
        ia, ib = index[a], index[b]
        raw = data.get("length")
        length = float(raw) if raw not in (None, "") else math.hypot(x[ia] - x[ib], y[ia] - y[ib])
        klass = highway_class(data.get("highway"))
        us.append(ia)
        vs.append(ib)
        ls.append(length)
        cs.append(klass)
        if not directed:
            us.append(ib)
            vs.append(ia)
            ls.append(length)
            cs.append(klass)
    edges = Edges(
        np.array(us, np.int64),
        np.array(vs, np.int64),
        np.maximum(np.array(ls, float), 0.01),
        np.array(cs, np.int64),
    )
    return from_arrays(
        [str(n) for n in nodes],
        x,
        y,
        edges.both_ways() if two_way else edges,
        crs=str(crs) if crs else None,
        source=source,
        strict=strict,
        where=where,
    )


def _is_geographic(crs: Any, x: np.ndarray, y: np.ndarray) -> bool:
    if crs:
        text = str(crs).lower()
        return "4326" in text or "wgs84" in text.replace(" ", "") or "longlat" in text
    return bool(np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90) and np.ptp(x) < 5)


def utm_crs_for(lon: float, lat: float) -> str:
    """EPSG code of the UTM zone containing a point."""
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def project_to_utm(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Project lon/lat to metres in the UTM zone of their centre."""
    from pyproj import Transformer  # deferred: pyproj loads only for maps in lon/lat

    crs = utm_crs_for(float(np.mean(lon)), float(np.mean(lat)))
    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    px, py = t.transform(lon, lat)
    return np.asarray(px, float), np.asarray(py, float), crs


def read_map_file(
    path: Path,
    *,
    strict: bool = False,
    two_way: bool = False,
    where: str = "map.file",
    cut: BaseGeometry | None = None,
) -> StreetNetwork:
    """Read GraphML (``.graphml``, optionally ``.gz``/``.bz2``) or an OpenStreetMap extract.

    OpenStreetMap files (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``) may be clipped
    and may be cut to ``cut`` (a lon/lat polygon). The parsed arrays are cached by the
    file's content and the cut, so a map is parsed once.
    """
    require_file(path, where, "map file")
    if cut is not None and not osm.is_osm(path):
        raise ScenarioError(
            [f"map.cut: needs map.file to be an OpenStreetMap extract, not {path.name}"]
        )
    key = cache.digest(
        [
            cache.file_digest(path),
            cache.LOADER_VERSION,
            f"strict={strict}",
            f"two_way={two_way}",
            b"" if cut is None else cut.wkb,
        ]
    )
    hit = cache.load("network", key)
    if hit is not None:
        return _from_cached(hit, str(path))
    net = _parse_map_file(path, strict=strict, two_way=two_way, where=where, cut=cut)
    cache.store("network", key, _to_cached(net))
    return net


def _to_cached(net: StreetNetwork) -> dict[str, np.ndarray]:
    m = net.lengths
    return {
        "ids": np.array(net.ids, dtype=str),
        "x": net.x,
        "y": net.y,
        "indptr": m.indptr,
        "indices": m.indices,
        "data": m.data,
        "crs": np.array(net.crs or ""),
        "dropped": np.array(net.dropped_nodes),
        "classes": np.zeros(0) if net.classes is None else net.classes.data,
        "notes": np.array(net.notes, dtype=str),
    }


def _from_cached(a: dict[str, np.ndarray], source: str) -> StreetNetwork:
    n = len(a["ids"])
    mat = sp.csr_matrix((a["data"], a["indices"], a["indptr"]), shape=(n, n))
    classes = None
    if len(a["classes"]):
        classes = sp.csr_matrix((a["classes"], a["indices"], a["indptr"]), shape=(n, n))
    return StreetNetwork(
        tuple(a["ids"].tolist()), a["x"], a["y"], mat, str(a["crs"]) or None, int(a["dropped"]),
        source, classes=classes, notes=tuple(a["notes"].tolist()),
    )  # fmt: skip


def _parse_map_file(
    path: Path, *, strict: bool, two_way: bool, where: str, cut: BaseGeometry | None
) -> StreetNetwork:
    name = path.name.lower()
    try:
        if name.endswith((".graphml", ".graphml.gz", ".graphml.bz2")):
            return _read_graphml(path, strict=strict, two_way=two_way, where=where)
        elif osm.is_osm(path):
            streets = osm.read_streets(path, cut, where)
        else:
            raise ScenarioError(
                [
                    f"{where}: unsupported map format {path.name!r} "
                    "(use .graphml, .osm.pbf, .osm, .osm.bz2 or .osm.gz)"
                ]
            )
    except ScenarioError:
        raise
    except Exception as exc:  # any parser failure is a bad input file, not a crash
        raise ScenarioError(
            [f"{where}: cannot read {path.name}: {exc.__class__.__name__}: {exc}"]
        ) from None
    return _from_streets(streets, source=str(path), strict=strict, two_way=two_way, where=where)


def _from_streets(
    s: osm.Streets, *, source: str, strict: bool, two_way: bool, where: str
) -> StreetNetwork:
    """Network from an extract's streets: projected to UTM, one-way streets kept if asked."""
    x, y, crs = project_to_utm(s.lon, s.lat)
    back = ~s.oneway | two_way
    klass = np.array([highway_class(h) for h in s.values], np.int64)[s.highway]
    edges = Edges(
        np.concatenate([s.u, s.v[back]]), np.concatenate([s.v, s.u[back]]),
        np.maximum(np.concatenate([s.length, s.length[back]]), 0.01),
        np.concatenate([klass, klass[back]]),
    )  # fmt: skip
    net = from_arrays(s.ids, x, y, edges, crs=crs, source=source, strict=strict, where=where)
    if not s.notes:
        return net
    return replace(net, notes=tuple(s.notes), _index={})


def _open(path: Path) -> Any:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    return path.open("rb")


def _read_graphml(path: Path, *, strict: bool, two_way: bool, where: str) -> StreetNetwork:
    """Stream a street GraphML (OSMnx's layout) straight into arrays.

    Reads only what the simulator needs: node ``x``/``y``, edge ``length`` and the
    graph's ``crs``. It is several times faster than building a networkx graph first.
    """
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    keys: dict[str, str] = {}
    ids: list[str] = []
    xs: list[float] = []
    ys: list[float] = []
    us: list[str] = []
    vs: list[str] = []
    ls: list[float] = []
    cs: list[int] = []
    crs = None
    directed = True
    with _open(path) as fh:
        for _, el in iterparse(fh, events=("end",)):
            tag = el.tag.removeprefix(ns)
            if tag == "key":
                keys[el.get("id", "")] = el.get("attr.name", "")
            elif tag == "node":
                data = {keys.get(d.get("key", ""), ""): d.text for d in el}
                ids.append(el.get("id", ""))
                xs.append(float(data["x"] or "nan"))
                ys.append(float(data["y"] or "nan"))
                el.clear()
            elif tag == "edge":
                data = {keys.get(d.get("key", ""), ""): d.text for d in el}
                us.append(el.get("source", ""))
                vs.append(el.get("target", ""))
                ls.append(float(data.get("length") or "nan"))
                cs.append(highway_class(data.get("highway")))
                el.clear()
            elif tag == "graph":
                directed = el.get("edgedefault", "directed") == "directed"
                for d in el.findall(f"{ns}data"):
                    if keys.get(d.get("key", "")) == "crs":
                        crs = d.text
    if not ids:
        raise ScenarioError([f"{where}: the map has no nodes"])
    x, y = np.array(xs), np.array(ys)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ScenarioError([f"{where}: every node needs numeric x and y attributes"])
    if _is_geographic(crs, x, y):
        x, y, crs = project_to_utm(x, y)
    index = {nid: i for i, nid in enumerate(ids)}
    u = np.array([index[a] for a in us], np.int64)
    v = np.array([index[b] for b in vs], np.int64)
    length = np.array(ls)
    missing = ~np.isfinite(length)
    length[missing] = np.hypot(x[u[missing]] - x[v[missing]], y[u[missing]] - y[v[missing]])
    edges = Edges(u, v, np.maximum(length, 0.01), np.array(cs, np.int64))
    return from_arrays(
        ids, x, y, edges.both_ways() if two_way or not directed else edges,
        crs=crs, source=str(path), strict=strict, where=where,
    )  # fmt: skip


def osm_bounds(path: Path) -> tuple[float, float, float, float] | None:
    """The declared bounds of an OpenStreetMap extract as (west, south, east, north), if any."""
    shape = osm.extract_bounds(path)
    return None if shape is None else tuple(shape.bounds)


def restrict(net: StreetNetwork, keep: np.ndarray, where: str = "map") -> StreetNetwork:
    """The network on the nodes where ``keep`` is true, again its largest connected part."""
    idx = np.flatnonzero(keep)
    sub = net.lengths[idx][:, idx].tocoo()
    klass = None
    if net.classes is not None:
        klass = np.asarray(net.classes[idx][:, idx][sub.row, sub.col]).ravel() - 1
    out = from_arrays(
        [net.ids[i] for i in idx], net.x[idx], net.y[idx], Edges(sub.row, sub.col, sub.data, klass),
        crs=net.crs, source=net.source, where=where,
    )  # fmt: skip
    return replace(out, notes=net.notes, _index={})
