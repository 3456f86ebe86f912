"""OpenStreetMap extracts (``.osm.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``) read by streaming.

Extract services and ``osmium extract`` give files clipped to a polygon: ways that cross
the edge keep references to nodes that are not in the file. This module reads such files
with pyosmium without holding the file in memory: the C++ reader resolves node locations
(on disk for big files) and writes the street ways with their locations as OPL text, which
is parsed in blocks, keeping only what lies inside the part to simulate. A street is cut at
its last node present, and what was cut or dropped is reported.

Street offices can come from the same file: administrative boundaries
(``boundary=administrative`` with an ``admin_level``) or any other tagged boundary, with
their Chinese and Latin names. A boundary name or a polygon picks a district out of a
big file (:func:`cut_region`).
"""

from __future__ import annotations

import itertools
import re
import tempfile
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from sim.scenario import MapCut, OsmOffices, ScenarioError
from sim.world import cache

if TYPE_CHECKING:
    from sim.world.network import StreetNetwork

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".osm.xml", ".xml",
                ".xml.bz2", ".xml.gz")  # fmt: skip
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
# above this size node locations are kept in a temporary file, not in memory
IN_MEMORY_BYTES = 128 * 2**20
BLOCK_BYTES = 32 * 2**20  # OPL text parsed at a time
EARTH_RADIUS_M = 6_371_009.0  # mean radius, as OSMnx's great-circle lengths
LATIN_NAME_KEYS = ("name:en", "name:zh-Latn-pinyin", "name:zh_pinyin", "int_name", "name:latin")
CHINESE_NAME_KEYS = ("name:zh", "name:zh-Hans", "name:zh-Hant")
_LINE = re.compile(rb"^w\S+ .*?T(\S*) N(\S*)$", re.M)  # tags and node list of an OPL way
_HIGHWAY = re.compile(rb"(?:^|,)highway=([^,\n]*)", re.M)
_ONEWAY = re.compile(rb"(?:^|,)oneway=([^,\n]*)", re.M)
_ROUNDABOUT = re.compile(rb"(?:^|,)junction=roundabout(?:,|$)", re.M)
OPL_WAYS = "opl,locations_on_ways=true,add_metadata=false"
_SEPARATORS = bytes.maketrans(b"nxy,", b"    ")


def is_osm(path: Path) -> bool:
    """Whether the file name says OpenStreetMap data (PBF or XML, maybe compressed)."""
    return path.name.lower().endswith(OSM_SUFFIXES)


def _format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".pbf"):
        return "pbf"
    for comp in ("bz2", "gz"):
        if name.endswith(f".{comp}"):
            return f"xml.{comp}"
    return "xml"


def _file(path: Path) -> Any:
    import osmium

    fmt = _format(path)
    return osmium.io.File(str(path), {"pbf": "pbf", "xml": "osm"}.get(fmt, "osm." + fmt[4:]))


def _storage(path: Path, tmp: str) -> str:
    """Node-location index: in memory for city files, in a temporary file for regions."""
    if path.stat().st_size <= IN_MEMORY_BYTES:
        return "flex_mem"
    return f"sparse_file_array,{Path(tmp) / 'locations.idx'}"


def extract_bounds(path: Path) -> BaseGeometry | None:
    """The extract's declared bounds (PBF header or XML ``<bounds>``) in lon/lat, if any."""
    import osmium

    b = osmium.FileProcessor(_file(path)).header.box()
    if not b.valid():
        return None
    return box(b.bottom_left.lon, b.bottom_left.lat, b.top_right.lon, b.top_right.lat)


# ----------------------------------------------------------------------------- streets


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
    import osmium

    _refuse_uncut(path, cut, where)
    region = cut
    declared = extract_bounds(path)
    if declared is not None:
        region = declared if region is None else region.intersection(declared)
    with tempfile.TemporaryDirectory(prefix="sim-osm-") as tmp:
        opl = Path(tmp) / "ways.opl"
        writer = osmium.SimpleWriter(osmium.io.File(str(opl), OPL_WAYS))
        locations = osmium.NodeLocationsForWays(osmium.index.create_map(_storage(path, tmp)))
        locations.ignore_errors()  # a node missing from a clipped file has no location
        try:  # all in C++: one Python call per way would cost seconds on a city
            osmium.apply(
                _file(path),
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
    limit = MAX_UNCUT_BYTES[_format(path)]
    if cut is None and size > limit:
        raise ScenarioError(
            [
                f"{where}: {path.name} is {_mb(size)}, a region rather than a district (more than "
                f"{_mb(limit)} of {_format(path)}); name the part to simulate with map.cut "
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


# -------------------------------------------------------------------------- boundaries


@dataclass(frozen=True)
class Boundary:
    """A boundary polygon of the extract (lon/lat) with its names."""

    name: str  # Latin where the file has it, else the local name
    name_zh: str
    admin_level: str
    shape: BaseGeometry


def _match(spec_tag: str) -> Callable[[Mapping[str, str]], bool]:
    key, _, value = spec_tag.partition("=")
    return lambda tags: key in tags and (not value or tags[key] == value)


def _admin(level: int | None) -> Callable[[Mapping[str, str]], bool]:
    return lambda tags: (
        tags.get("boundary") == "administrative"
        and (level is None or tags.get("admin_level") == str(level))
    )


def _has_cjk(text: str) -> bool:
    return any("CJK" in unicodedata.name(ch, "") for ch in text)


def names_of(tags: Mapping[str, str], fallback: str) -> tuple[str, str]:
    """(Latin name, Chinese name) of an OSM object; the Latin one falls back to ``name``."""
    local = tags.get("name", "")
    zh = next((tags[k] for k in CHINESE_NAME_KEYS if tags.get(k)), local if _has_cjk(local) else "")
    latin = next((tags[k] for k in LATIN_NAME_KEYS if tags.get(k)), local or zh or fallback)
    return latin, zh


def read_boundaries(
    path: Path, pick: Callable[[Mapping[str, str]], bool], *, closed_ways: bool, where: str
) -> tuple[list[Boundary], list[str]]:
    """Boundary relations (and with ``closed_ways`` closed ways) whose tags ``pick`` accepts.

    Returns the boundaries and notes on those left out because the extract holds only
    part of them.
    """
    import osmium

    rels: list[tuple[int, dict[str, str], list[tuple[int, str]]]] = []
    for rel in osmium.FileProcessor(_file(path), osmium.osm.RELATION):
        if not isinstance(rel, osmium.osm.Relation):
            continue
        tags = {t.k: t.v for t in rel.tags}
        if tags.get("type") in ("boundary", "multipolygon") and pick(tags):
            members = [(m.ref, m.role) for m in rel.members if m.type == "w"]
            rels.append((rel.id, tags, members))
    wanted = {ref for _, _, members in rels for ref, _ in members}
    lines: dict[int, BaseGeometry] = {}
    closed: list[tuple[int, dict[str, str], BaseGeometry]] = []
    if wanted or closed_ways:
        fab = osmium.geom.WKBFactory()
        with tempfile.TemporaryDirectory(prefix="sim-osm-") as tmp:
            fp = (
                osmium.FileProcessor(_file(path))
                .with_locations(_storage(path, tmp))
                .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            )
            if not closed_ways:
                fp = fp.with_filter(osmium.filter.IdFilter(wanted))
            for way in fp:
                if not isinstance(way, osmium.osm.Way):
                    continue
                in_rel = way.id in wanted
                tags = {t.k: t.v for t in way.tags} if closed_ways and not in_rel else {}
                if not in_rel and not (tags and way.is_closed() and pick(tags)):
                    continue
                try:
                    line = shapely.from_wkb(fab.create_linestring(way, osmium.geom.use_nodes.ALL))
                except (osmium.InvalidLocationError, RuntimeError):
                    continue  # a node of it is missing: the boundary is incomplete
                if in_rel:
                    lines[way.id] = line
                if tags:
                    closed.append((way.id, tags, Polygon(line.coords)))
    out: list[Boundary] = []
    notes: list[str] = []
    incomplete = []
    for rid, tags, members in rels:
        latin, zh = names_of(tags, f"relation-{rid}")
        if any(ref not in lines for ref, _ in members):
            incomplete.append(latin)
            continue
        outer = [lines[r] for r, role in members if role != "inner"]
        inner = [lines[r] for r, role in members if role == "inner"]
        shape = shapely.union_all(list(shapely.polygonize(outer).geoms))
        if inner:
            shape = shape.difference(shapely.union_all(list(shapely.polygonize(inner).geoms)))
        if shape.is_empty:
            incomplete.append(latin)
            continue
        out.append(Boundary(latin, zh, tags.get("admin_level", ""), shape))
    for wid, tags, shape in closed:
        latin, zh = names_of(tags, f"way-{wid}")
        out.append(Boundary(latin, zh, tags.get("admin_level", ""), shape.buffer(0)))
    if incomplete:
        notes.append(
            f"{where}: {len(incomplete)} boundar{'y' if len(incomplete) == 1 else 'ies'} only partly "
            f"in the file left out: {_first(sorted(incomplete))}"
        )
    return out, notes


def _first(names: list[str], n: int = 5) -> str:
    return ", ".join(names[:n]) + (" …" if len(names) > n else "")


def _unique_names(bounds: list[Boundary]) -> list[Boundary]:
    """Office names must be unique: a repeated name gets its Chinese name or a number."""
    seen: dict[str, int] = {}
    for b in bounds:
        seen[b.name] = seen.get(b.name, 0) + 1
    out, used = [], set()
    for b in bounds:
        name = b.name
        if seen[name] > 1:
            name = f"{b.name} ({b.name_zh})" if b.name_zh and b.name_zh != b.name else b.name
            k = 2
            base = name
            while name in used:
                name, k = f"{base} {k}", k + 1
        used.add(name)
        out.append(Boundary(name, b.name_zh, b.admin_level, b.shape))
    return out


def _cached_boundaries(
    path: Path,
    spec: str,
    pick: Callable[[Mapping[str, str]], bool],
    *,
    closed_ways: bool,
    where: str,
) -> tuple[list[Boundary], list[str]]:
    """:func:`read_boundaries`, parsed once per file content and ``spec``."""
    from sim.world.network import LOADER_VERSION

    key = cache.digest([cache.file_digest(path), LOADER_VERSION, "boundaries", spec])
    hit = cache.load("boundaries", key)
    if hit is not None:
        shapes = shapely.from_wkb(_split(hit["wkb"], hit["offsets"]))
        names = hit["names"].tolist()
        return [Boundary(n[0], n[1], n[2], g) for n, g in zip(names, shapes, strict=True)], hit[
            "notes"
        ].tolist()
    bounds, notes = read_boundaries(path, pick, closed_ways=closed_ways, where=where)
    wkb = [shapely.to_wkb(b.shape) for b in bounds]
    cache.store(
        "boundaries",
        key,
        {
            "names": np.array(
                [[b.name, b.name_zh, b.admin_level] for b in bounds], dtype=str
            ).reshape(-1, 3),
            "wkb": np.frombuffer(b"".join(wkb), np.uint8),
            "offsets": np.cumsum([0, *map(len, wkb)]),
            "notes": np.array(notes, dtype=str),
        },
    )
    return bounds, notes


def _split(buf: np.ndarray, offsets: np.ndarray) -> list[bytes]:
    raw = buf.tobytes()
    return [raw[a:b] for a, b in itertools.pairwise(offsets.tolist())]


# --------------------------------------------------------------------------------- cut


def cut_region(spec: MapCut, map_path: Path, geojson: Path | None) -> BaseGeometry:
    """The part of the map to simulate, in lon/lat, from a polygon, a GeoJSON file or a name.

    ``geojson`` is where ``spec.geojson`` resolves to (see :mod:`sim.scenario.resolved`).
    """
    where = "map.cut"
    if spec.polygon is not None:
        return Polygon(spec.polygon).buffer(0)
    if spec.geojson is not None:
        from sim.world.areas import read_geojson_polygons

        assert geojson is not None
        feats = read_geojson_polygons(geojson, None, f"{where}.geojson")
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
        return _admin(spec.admin_level)(tags) and any(
            v.casefold() == target
            for k, v in tags.items()
            if k == "name" or k.startswith(("name:", "int_name", "official_name"))
        )

    found, notes = _cached_boundaries(
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


# ----------------------------------------------------------------------------- offices


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
        pick, label = _admin(spec.admin_level), f"admin_level={spec.admin_level}"
    else:
        assert spec.tag is not None
        pick, label = _match(spec.tag), spec.tag
    bounds, notes = _cached_boundaries(
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
    return _unique_names(bounds), notes


def offices_for(
    spec: OsmOffices, map_path: Path, cut: BaseGeometry | None, net: StreetNetwork
) -> tuple[StreetNetwork, list[tuple[str, str, BaseGeometry]], list[str]]:
    """Street offices of the network from the extract's boundaries, in the network's metres.

    Streets outside every boundary join the nearest office or are dropped
    (``spec.outside``); boundaries holding no street are left out. Both are reported.
    """
    from pyproj import Transformer

    from sim.world.network import restrict

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
        notes.append(f"{where}: {len(empty)} boundaries hold no street, left out: {_first(empty)}")
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
