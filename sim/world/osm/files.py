"""OpenStreetMap files: which names are OSM data, how pyosmium opens them, their bounds.

Shared by the street reader (:mod:`.streets`) and the boundary reader (:mod:`.boundaries`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".osm.xml", ".xml",
                ".xml.bz2", ".xml.gz")  # fmt: skip
# above this size node locations are kept in a temporary file, not in memory
IN_MEMORY_BYTES = 128 * 2**20


def is_osm(path: Path) -> bool:
    """Whether the file name says OpenStreetMap data (PBF or XML, maybe compressed)."""
    return path.name.lower().endswith(OSM_SUFFIXES)


def file_format(path: Path) -> str:
    """``pbf``, ``xml``, ``xml.bz2`` or ``xml.gz``, from the file name."""
    name = path.name.lower()
    if name.endswith(".pbf"):
        return "pbf"
    for comp in ("bz2", "gz"):
        if name.endswith(f".{comp}"):
            return f"xml.{comp}"
    return "xml"


def osm_file(path: Path) -> Any:
    """The file as pyosmium opens it, its format named explicitly."""
    import osmium  # deferred: pyosmium loads only when an OpenStreetMap file is read

    fmt = file_format(path)
    return osmium.io.File(str(path), {"pbf": "pbf", "xml": "osm"}.get(fmt, "osm." + fmt[4:]))


def location_index(path: Path, tmp: str) -> str:
    """Node-location index: in memory for city files, in a temporary file for regions."""
    if path.stat().st_size <= IN_MEMORY_BYTES:
        return "flex_mem"
    return f"sparse_file_array,{Path(tmp) / 'locations.idx'}"


def extract_bounds(path: Path) -> BaseGeometry | None:
    """The extract's declared bounds (PBF header or XML ``<bounds>``) in lon/lat, if any."""
    import osmium  # deferred: pyosmium loads only when an OpenStreetMap file is read

    b = osmium.FileProcessor(osm_file(path)).header.box()
    if not b.valid():
        return None
    return box(b.bottom_left.lon, b.bottom_left.lat, b.top_right.lon, b.top_right.lat)
