"""How to read a case log: the options ``sim fit`` takes as flags and ``demand.trace`` as keys."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field

from sim.caselog.columns import ALIASES
from sim.caselog.coords import check_crs
from sim.caselog.times import check_timezone

CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class LogOptions:
    """Everything about a log the file cannot say itself.

    ``categories`` and ``channels`` are the maps already read (log value → scenario name,
    ``None``: leave unmapped); ``crs`` is ``wgs84``, ``gcj02``, ``bd09`` (lon/lat), ``map``
    (x/y in the map's metres) or a pyproj CRS of x/y such as ``EPSG:4547``; ``None``
    takes lon/lat as WGS84, or else x/y as map metres.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    categories: Mapping[str, str | None] = field(default_factory=dict)
    channels: Mapping[str, str | None] = field(default_factory=dict)
    timezone: str | None = None
    time_format: str | None = None
    crs: str | None = None
    encoding: str | None = None
    chunk_rows: int = CHUNK_ROWS

    def problems(self) -> list[str]:
        """What is wrong with the options themselves, one line each."""
        out = [f"columns: unknown field {f!r}" for f in self.columns if f not in ALIASES]
        if self.timezone is not None and (p := check_timezone(self.timezone)):
            out.append(f"timezone: {p}")
        if self.crs is not None and (p := check_crs(self.crs)):
            out.append(f"crs: {p}")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                out.append(f"encoding: unknown encoding {self.encoding!r}")
        return out


@dataclass(frozen=True)
class Target:
    """What the log is read for: the scenario's categories and the map's CRS."""

    categories: tuple[str, ...]
    categories_zh: tuple[str, ...]
    map_crs: str | None
