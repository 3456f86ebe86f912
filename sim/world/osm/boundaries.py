"""Boundaries of an OpenStreetMap extract: administrative or tagged areas with their names.

Relations (``boundary=administrative`` with an ``admin_level``, or any other tag) and,
when asked, closed ways are assembled into polygons in lon/lat, with their Latin and
Chinese names; boundaries only partly in the file are left out and reported. Parsed once
per file content and choice (:mod:`sim.world.cache`).
"""

from __future__ import annotations

import itertools
import tempfile
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from sim.world import cache
from sim.world.osm.files import location_index, osm_file

LATIN_NAME_KEYS = ("name:en", "name:zh-Latn-pinyin", "name:zh_pinyin", "int_name", "name:latin")
CHINESE_NAME_KEYS = ("name:zh", "name:zh-Hans", "name:zh-Hant")


@dataclass(frozen=True)
class Boundary:
    """A boundary polygon of the extract (lon/lat) with its names."""

    name: str  # Latin where the file has it, else the local name
    name_zh: str
    admin_level: str
    shape: BaseGeometry


def has_tag(spec_tag: str) -> Callable[[Mapping[str, str]], bool]:
    """A test of tags for ``key`` or ``key=value``."""
    key, _, value = spec_tag.partition("=")
    return lambda tags: key in tags and (not value or tags[key] == value)


def admin_level_is(level: int | None) -> Callable[[Mapping[str, str]], bool]:
    """A test of tags for an administrative boundary (of ``level``, if given)."""
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


Relation = tuple[int, dict[str, str], list[tuple[int, str]]]  # id, tags, (way, role)


def read_boundaries(
    path: Path, pick: Callable[[Mapping[str, str]], bool], *, closed_ways: bool, where: str
) -> tuple[list[Boundary], list[str]]:
    """Boundary relations (and with ``closed_ways`` closed ways) whose tags ``pick`` accepts.

    Returns the boundaries and notes on those left out because the extract holds only
    part of them.
    """
    rels = _relations(path, pick)
    wanted = {ref for _, _, members in rels for ref, _ in members}
    lines: dict[int, BaseGeometry] = {}
    closed: list[tuple[int, dict[str, str], BaseGeometry]] = []
    if wanted or closed_ways:
        lines, closed = _ways(path, pick, wanted, closed_ways)
    out, incomplete = _assembled(rels, lines)
    for wid, tags, shape in closed:
        latin, zh = names_of(tags, f"way-{wid}")
        out.append(Boundary(latin, zh, tags.get("admin_level", ""), shape.buffer(0)))
    notes: list[str] = []
    if incomplete:
        notes.append(
            f"{where}: {len(incomplete)} boundar{'y' if len(incomplete) == 1 else 'ies'} only partly "
            f"in the file left out: {first_names(sorted(incomplete))}"
        )
    return out, notes


def _relations(path: Path, pick: Callable[[Mapping[str, str]], bool]) -> list[Relation]:
    """The boundary and multipolygon relations ``pick`` accepts, with their ways."""
    import osmium  # deferred: pyosmium loads only when an OpenStreetMap file is read

    rels: list[Relation] = []
    for rel in osmium.FileProcessor(osm_file(path), osmium.osm.RELATION):
        if not isinstance(rel, osmium.osm.Relation):
            continue
        tags = {t.k: t.v for t in rel.tags}
        if tags.get("type") in ("boundary", "multipolygon") and pick(tags):
            members = [(m.ref, m.role) for m in rel.members if m.type == "w"]
            rels.append((rel.id, tags, members))
    return rels


def _ways(
    path: Path, pick: Callable[[Mapping[str, str]], bool], wanted: set[int], closed_ways: bool
) -> tuple[dict[int, BaseGeometry], list[tuple[int, dict[str, str], BaseGeometry]]]:
    """The lines of the ``wanted`` ways, and (with ``closed_ways``) the closed ways
    ``pick`` accepts as polygons; a way with a node missing from the file is left out."""
    import osmium  # deferred: pyosmium loads only when an OpenStreetMap file is read

    lines: dict[int, BaseGeometry] = {}
    closed: list[tuple[int, dict[str, str], BaseGeometry]] = []
    fab = osmium.geom.WKBFactory()
    with tempfile.TemporaryDirectory(prefix="sim-osm-") as tmp:
        fp = (
            osmium.FileProcessor(osm_file(path))
            .with_locations(location_index(path, tmp))
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
    return lines, closed


def _assembled(
    rels: list[Relation], lines: Mapping[int, BaseGeometry]
) -> tuple[list[Boundary], list[str]]:
    """The relations' shapes from their outer and inner ways, and the names of those
    the file holds only part of."""
    out: list[Boundary] = []
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
    return out, incomplete


def first_names(names: list[str], n: int = 5) -> str:
    """The first ``n`` names, joined, with an ellipsis when there are more."""
    return ", ".join(names[:n]) + (" …" if len(names) > n else "")


def unique_names(bounds: list[Boundary]) -> list[Boundary]:
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


def cached_boundaries(
    path: Path,
    spec: str,
    pick: Callable[[Mapping[str, str]], bool],
    *,
    closed_ways: bool,
    where: str,
) -> tuple[list[Boundary], list[str]]:
    """:func:`read_boundaries`, parsed once per file content and ``spec``."""
    key = cache.digest([cache.file_digest(path), cache.LOADER_VERSION, "boundaries", spec])
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
