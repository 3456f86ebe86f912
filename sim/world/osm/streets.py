"""Street ways of an OpenStreetMap extract, read by streaming and simplified to streets.

Extract services and ``osmium extract`` give files clipped to a polygon: ways that cross
the edge keep references to nodes that are not in the file. Such files are read with
pyosmium without holding the file in memory: the C++ reader resolves node locations (on
disk for big files) and writes the street ways with their locations as OPL text, which is
parsed in blocks, keeping only what lies inside the part to simulate. A street is cut at
its last node present, and what was cut or dropped is reported.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from sim.scenario import ScenarioError
from sim.world.osm.files import extract_bounds, file_format, location_index, osm_file

# values of ``highway`` that are not streets one can use (yet, or any more)
NOT_STREETS = frozenset({"proposed", "construction", "abandoned", "disused", "razed", "planned"})
NOT_STREETS_B = frozenset(v.encode() for v in NOT_STREETS)
# values of ``oneway`` that make a street one-way, and that reverse it, as OSMnx reads them
ONEWAY_B = frozenset({b"yes", b"true", b"1", b"-1", b"reverse", b"T", b"F"})
REVERSED_B = frozenset({b"-1", b"reverse", b"T"})
# Street node references a district may have: Jinshui (55 km²) has about 60,000, a city
# of millions about 2 million. Beyond this the travel tables would not fit in memory.
MAX_STREET_REFS = 4_000_000
# Without a cut, a file larger than this is a region rather than a district (a PBF city
# extract of a few million people is 20-60 MB; XML is about ten times larger).
MAX_UNCUT_BYTES = {
    "pbf": 256 * 2**20,
    "xml": 2 * 2**30,
    "xml.bz2": 256 * 2**20,
    "xml.gz": 256 * 2**20,
}
BLOCK_BYTES = 32 * 2**20  # OPL text parsed at a time
EARTH_RADIUS_M = 6_371_009.0  # mean radius, as OSMnx's great-circle lengths
_LINE = re.compile(rb"^w\S+ .*?T(\S*) N(\S*)$", re.M)  # tags and node list of an OPL way
_HIGHWAY = re.compile(rb"(?:^|,)highway=([^,\n]*)", re.M)
_ONEWAY = re.compile(rb"(?:^|,)oneway=([^,\n]*)", re.M)
_ROUNDABOUT = re.compile(rb"(?:^|,)junction=roundabout(?:,|$)", re.M)
OPL_WAYS = "opl,locations_on_ways=true,add_metadata=false"
_SEPARATORS = bytes.maketrans(b"nxy,", b"    ")


@dataclass(frozen=True)
class Streets:
    """Streets of an extract, simplified to the nodes where they meet or end (lon/lat)."""

    ids: list[str]
    lon: np.ndarray
    lat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray  # metres along the street
    highway: np.ndarray  # index of the ``highway`` tag of each street in ``values``
    values: list[str]
    oneway: np.ndarray  # True: the street may only be used from u to v
    notes: list[str] = field(default_factory=list)


def read_streets(path: Path, cut: BaseGeometry | None = None, where: str = "map.file") -> Streets:
    """Every way with a ``highway`` tag, cut at the extract's bounds and at ``cut`` (lon/lat).

    A way that leaves the file (nodes missing) or the cut is kept up to its last node
    inside; a way that comes back in is kept again from there.
    """
    import osmium  # deferred: pyosmium loads only when an OpenStreetMap file is read

    _refuse_uncut(path, cut, where)
    region = cut
    declared = extract_bounds(path)
    if declared is not None:
        region = declared if region is None else region.intersection(declared)
    with tempfile.TemporaryDirectory(prefix="sim-osm-") as tmp:
        opl = Path(tmp) / "ways.opl"
        writer = osmium.SimpleWriter(osmium.io.File(str(opl), OPL_WAYS))
        locations = osmium.NodeLocationsForWays(osmium.index.create_map(location_index(path, tmp)))
        locations.ignore_errors()  # a node missing from a clipped file has no location
        try:  # all in C++: one Python call per way would cost seconds on a city
            osmium.apply(
                osm_file(path),
                locations,
                osmium.filter.EntityFilter(osmium.osm.WAY),
                osmium.filter.KeyFilter("highway"),
                writer,
            )
        finally:
            writer.close()
        ways = _parse_opl(opl, region, where)
    return _simplify(ways, region, where, "map.cut" if cut is not None else "the extract")


def _refuse_uncut(path: Path, cut: BaseGeometry | None, where: str) -> None:
    size = path.stat().st_size
    limit = MAX_UNCUT_BYTES[file_format(path)]
    if cut is None and size > limit:
        raise ScenarioError(
            [
                f"{where}: {path.name} is {_mb(size)}, a region rather than a district (more than "
                f"{_mb(limit)} of {file_format(path)}); name the part to simulate with map.cut "
                "(a boundary name or a polygon)"
            ]
        )


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MB" if size >= 2**20 else f"{size / 1024:,.1f} KB"


@dataclass
class _Ways:
    """Street ways as flat arrays: refs of way k are ``ref[start[k]:start[k + 1]]``."""

    start: np.ndarray
    ref: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    highway: np.ndarray  # index of each way's ``highway`` value in ``values``
    values: list[str]
    oneway: np.ndarray  # 0 both ways, 1 forward, -1 backward
    total: int  # street ways in the file, inside the region or not


def _parse_opl(opl: Path, region: BaseGeometry | None, where: str) -> _Ways:
    """Read the OPL ways block by block, keeping those with a node in the region's box."""
    bbox = region.bounds if region is not None else None
    counts: list[np.ndarray] = []
    refs: list[np.ndarray] = []
    lons: list[np.ndarray] = []
    lats: list[np.ndarray] = []
    highway: list[np.ndarray] = []
    codes: dict[bytes, int] = {}
    oneway: list[int] = []
    total = kept_refs = 0
    with opl.open("rb") as fh:
        while lines := fh.readlines(BLOCK_BYTES):
            block_nodes, block_hw, block_ow = _block_ways(b"".join(lines))
            block_code = [codes.setdefault(h, len(codes)) for h in block_hw]
            if not block_nodes:
                continue
            total += len(block_nodes)
            n_refs = np.array([s.count(b",") + 1 for s in block_nodes])
            ref, lon, lat = _node_lists(block_nodes, int(n_refs.sum()), where)
            inside = np.isfinite(lon)
            if bbox is not None:
                inside &= (lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])
            way_of = np.repeat(np.arange(len(block_nodes)), n_refs)
            keep_way = np.bincount(way_of, weights=inside, minlength=len(block_nodes)) > 0
            keep_ref = keep_way[way_of]
            kept_refs += int(keep_ref.sum())
            if kept_refs > MAX_STREET_REFS:
                raise ScenarioError(
                    [
                        f"{where}: the part to simulate has more than {MAX_STREET_REFS:,} street "
                        "nodes, more than a district; cut a smaller part with map.cut"
                    ]
                )
            counts.append(n_refs[keep_way])
            refs.append(ref[keep_ref])
            lons.append(lon[keep_ref])
            lats.append(lat[keep_ref])
            highway.append(np.asarray(block_code, np.int32)[keep_way])
            oneway += [o for o, k in zip(block_ow, keep_way, strict=True) if k]
    if not counts:
        raise ScenarioError(
            [f"{where}: no streets (ways with a highway tag) in the part to simulate"]
        )
    cnt = np.concatenate(counts)
    return _Ways(
        start=np.concatenate([[0], np.cumsum(cnt)]),
        ref=np.concatenate(refs),
        lon=np.concatenate(lons),
        lat=np.concatenate(lats),
        highway=np.concatenate(highway),
        values=[v.decode("utf-8", errors="replace") for v in codes],
        oneway=np.array(oneway, np.int8),
        total=total,
    )


def _block_ways(text: bytes) -> tuple[list[bytes], list[bytes], list[int]]:
    """Node lists, ``highway`` values and one-way directions of a block of OPL ways."""
    pairs = _LINE.findall(text)
    tags = b"\n".join(t for t, _ in pairs)
    highway = _HIGHWAY.findall(tags)  # exactly one per way: only ways with the key were written
    if len(highway) != len(pairs):
        raise ValueError("a way without a highway tag in the OPL text")
    line_start = np.cumsum([0] + [len(t) + 1 for t, _ in pairs])
    direction = np.zeros(len(pairs), np.int8)
    at = [m.start() for m in _ROUNDABOUT.finditer(tags)]
    direction[np.searchsorted(line_start, at, "right") - 1] = 1
    found = [(m.start(), m.group(1)) for m in _ONEWAY.finditer(tags) if m.group(1) in ONEWAY_B]
    if found:
        at_ow, values = zip(*found, strict=True)
        direction[np.searchsorted(line_start, at_ow, "right") - 1] = [
            -1 if v in REVERSED_B else 1 for v in values
        ]
    nodes = [n for _, n in pairs]
    if NOT_STREETS_B.isdisjoint(highway) and all(nodes):
        return nodes, highway, direction.tolist()
    keep = [
        k
        for k, (hw, n) in enumerate(zip(highway, nodes, strict=True))
        if n and hw not in NOT_STREETS_B
    ]
    return [nodes[k] for k in keep], [highway[k] for k in keep], direction[keep].tolist()


def _node_lists(
    nodes: list[bytes], n: int, where: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids, longitudes and latitudes of OPL node lists (``n1x1.5y2.5,n2xy``: 2 not in the file)."""
    text = b",".join(nodes).replace(b"xy", b"x!y!").translate(_SEPARATORS).replace(b"!", b"nan")
    # fromstring parses in C; one Python object per number would cost seconds on a city
    values = np.fromstring(text, dtype=np.float64, sep=" ")
    if len(values) != 3 * n:
        raise ScenarioError([f"{where}: cannot read the node lists of the ways"])
    values = values.reshape(-1, 3)
    return values[:, 0].astype(np.int64), values[:, 1].copy(), values[:, 2].copy()


def _haversine(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1))))


def _simplify(w: _Ways, region: BaseGeometry | None, where: str, edge: str) -> Streets:
    """Cut ways at absent nodes and join their pieces into streets between junctions."""
    n_ways = len(w.oneway)
    way_of = np.repeat(np.arange(n_ways), np.diff(w.start))
    missing = ~np.isfinite(w.lon)
    present = ~missing
    if region is not None:
        present[present] = shapely.intersects_xy(region, w.lon[present], w.lat[present])
    outside = ~missing & ~present
    # a segment joins positions i and i + 1 of one way, both present
    seg = np.flatnonzero(present[:-1] & present[1:] & (way_of[:-1] == way_of[1:]))
    uniq, node = np.unique(w.ref, return_inverse=True)
    used = np.zeros(len(w.ref), bool)
    used[seg] = used[seg + 1] = True
    # junctions: ends of a piece, nodes used more than once (crossings, closed ways)
    is_seg = np.zeros(len(w.ref) + 1, bool)
    is_seg[seg] = True
    starts_piece = used & ~np.concatenate([[False], is_seg[:-2]])
    ends_piece = used & ~is_seg[:-1]
    uses = np.bincount(node[used], minlength=len(uniq))
    keep = used & ((uses[node] > 1) | starts_piece | ends_piece)
    # a closed piece meeting the rest at one node keeps a node halfway round
    first, last = np.flatnonzero(starts_piece), np.flatnonzero(ends_piece)
    ring = node[first] == node[last]
    keep[(first[ring] + last[ring]) // 2] = True
    seg_len = _haversine(w.lon[seg], w.lat[seg], w.lon[seg + 1], w.lat[seg + 1])
    street = np.cumsum(keep[seg]) - 1  # a street begins at each kept node
    n_streets = int(street[-1]) + 1 if len(seg) else 0
    first_seg = np.flatnonzero(np.diff(np.concatenate([[-1], street])) > 0)
    last_seg = np.concatenate([first_seg[1:] - 1, [len(seg) - 1]])[:n_streets]
    u_ref = node[seg[first_seg]]
    v_ref = node[seg[last_seg] + 1]
    length = np.bincount(street, weights=seg_len, minlength=n_streets)
    way = way_of[seg[first_seg]]
    nodes_used = np.zeros(len(uniq), bool)
    nodes_used[u_ref] = nodes_used[v_ref] = True
    nodes_used = np.flatnonzero(nodes_used)
    remap = np.full(len(uniq), -1, np.int64)
    remap[nodes_used] = np.arange(len(nodes_used))
    pos = np.zeros(len(uniq), np.int64)
    pos[node[::-1]] = np.arange(len(node))[::-1]  # any position of each node
    ways_cut = np.zeros(n_ways, bool)
    ways_cut[way_of[missing | outside]] = True
    ways_kept = np.zeros(n_ways, bool)
    ways_kept[way] = True
    direction = w.oneway[way]
    u = np.where(direction < 0, remap[v_ref], remap[u_ref])
    v = np.where(direction < 0, remap[u_ref], remap[v_ref])
    notes = []
    if ways_cut.any():
        lost = int((ways_cut & ~ways_kept).sum())
        notes.append(
            f"{where}: {int(ways_cut.sum()):,} of {w.total:,} streets run past the edge of {edge} "
            f"({int(missing.sum()):,} of their nodes missing from the file, "
            f"{int(outside.sum()):,} outside {edge}): kept up to their last node inside; "
            f"{lost:,} with fewer than two nodes inside dropped"
        )
    if not n_streets:
        raise ScenarioError([f"{where}: no street has two nodes inside the part to simulate"])
    return Streets(
        ids=[str(i) for i in uniq[nodes_used]],
        lon=w.lon[pos[nodes_used]],
        lat=w.lat[pos[nodes_used]],
        u=u,
        v=v,
        length=length,
        highway=w.highway[way],
        values=w.values,
        oneway=direction != 0,
        notes=notes,
    )
