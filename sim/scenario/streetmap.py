"""The street map a scenario names (inline, generated, GeoJSON or an OSM extract) and travel speeds."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from sim.scenario.base import (
    _COORD,
    FILE_FIELD,
    Mode,
    _Model,
    per_role,
)


class InlineNode(_Model):
    id: int | str
    x: float = Field(ge=-_COORD, le=_COORD)
    y: float = Field(ge=-_COORD, le=_COORD)


class InlineEdge(_Model):
    u: int | str
    v: int | str
    length: float | None = Field(
        default=None, gt=0, le=1e6, description="metres; default: straight line"
    )
    oneway: bool = False


class InlineArea(_Model):
    name: str = Field(min_length=1, max_length=200)
    polygon: list[tuple[float, float]] = Field(min_length=3, max_length=100_000)


class InlineMap(_Model):
    """A small node/edge list, for textbook cases and tests (coordinates in metres)."""

    nodes: list[InlineNode] = Field(min_length=1, max_length=1_000_000)
    edges: list[InlineEdge] = Field(default=[], max_length=4_000_000)
    offices: list[InlineArea] = Field(default=[], max_length=1000)


class GeneratedMap(_Model):
    """A synthetic city: rectangular street offices over a jittered street grid."""

    offices_x: int = Field(default=5, ge=1, le=100)
    offices_y: int = Field(default=3, ge=1, le=100)
    office_size_m: float = Field(default=1900.0, ge=100, le=50_000)
    block_m: float = Field(default=150.0, ge=20, le=5000, description="spacing of the street grid")
    arterial_every: int = Field(
        default=6, ge=1, le=1000, description="every k-th street is an arterial"
    )
    missing_links: float = Field(
        default=0.15, ge=0, lt=0.5, description="share of alley links left out"
    )
    jitter_m: float = Field(default=20.0, ge=0, le=1000)
    seed: int = Field(default=0, ge=0, le=2**63 - 1)


class OsmOffices(_Model):
    """Street offices from the boundaries in the map file (an OpenStreetMap extract)."""

    admin_level: int | None = Field(
        default=None, ge=1, le=12, description="boundary=administrative relations of this level"
    )
    tag: str | None = Field(
        default=None, description='"key" or "key=value" of boundary relations or closed ways'
    )
    outside: Literal["nearest", "drop"] = Field(
        default="nearest", description="streets outside every boundary: nearest office, or drop"
    )

    @field_validator("tag")
    @classmethod
    def _key_value(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[^=\s]+(=[^=]+)?", v):
            raise ValueError(
                'write the tag as "key" or "key=value", e.g. "boundary=administrative"'
            )
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> OsmOffices:
        if (self.admin_level is None) == (self.tag is None):
            raise ValueError("give exactly one of admin_level and tag")
        return self


class MapCut(_Model):
    """The part of a big extract to simulate: a polygon, a GeoJSON file or a boundary name."""

    polygon: list[tuple[float, float]] | None = Field(
        default=None, min_length=3, description="[lon, lat] corners"
    )
    geojson: str | None = Field(
        default=None, description="GeoJSON polygon(s) in lon/lat", json_schema_extra=FILE_FIELD
    )
    boundary: str | None = Field(default=None, min_length=1, description="administrative name")
    admin_level: int | None = Field(default=None, ge=1, le=12, description="level of the boundary")

    @field_validator("polygon")
    @classmethod
    def _lon_lat(cls, v: list[tuple[float, float]] | None) -> list[tuple[float, float]] | None:
        for lon, lat in v or ():
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"[{lon}, {lat}] is not a [longitude, latitude] point")
        if v is not None:
            _check_simple(v)
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> MapCut:
        given = [k for k in ("polygon", "geojson", "boundary") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of polygon, geojson and boundary")
        if self.admin_level is not None and self.boundary is None:
            raise ValueError("admin_level goes with boundary")
        return self


def _check_simple(corners: list[tuple[float, float]]) -> None:
    """A cut polygon whose edges cross (a bow-tie) would lose part of the district without
    a word; refuse it, and suggest the corners in order around their middle."""
    # deferred: shapely loads only for a scenario that cuts its map by a polygon
    from shapely import Polygon
    from shapely.validation import explain_validity

    poly = Polygon(corners)
    if poly.is_valid:
        return
    cx = sum(p[0] for p in corners) / len(corners)
    cy = sum(p[1] for p in corners) / len(corners)
    ordered = sorted(dict.fromkeys(corners), key=lambda p: math.atan2(p[1] - cy, p[0] - cx))
    hint = ""
    if len(ordered) >= 3 and Polygon(ordered).is_valid:
        hint = "; in order around its middle the corners are " + ", ".join(
            f"[{lon:g}, {lat:g}]" for lon, lat in ordered
        )
    raise ValueError(
        f"the polygon is not simple ({explain_validity(poly)}): give its corners in order "
        f"around its edge, with no edges crossing{hint}"
    )


def _offices_kind(v: Any) -> str:
    return "extract" if isinstance(v, Mapping | BaseModel) else "geojson"


class MapSpec(_Model):
    """Where the street network and its areas come from; exactly one of file/inline/generate."""

    file: str | None = Field(
        default=None,
        description="GraphML, .osm.pbf, .osm, .osm.bz2 or .osm.gz",
        json_schema_extra=FILE_FIELD,
    )
    inline: InlineMap | None = None
    generate: GeneratedMap | None = None
    offices: (
        Annotated[
            Annotated[str, Tag("geojson")] | Annotated[OsmOffices, Tag("extract")],
            Discriminator(_offices_kind),
        ]
        | None
    ) = Field(
        default=None,
        description="GeoJSON of street-office polygons, or boundaries",
        json_schema_extra=FILE_FIELD,
    )
    cut: MapCut | None = Field(default=None, description="simulate only this part of map.file")
    grids: str | None = Field(
        default=None, description="GeoJSON of grid polygons", json_schema_extra=FILE_FIELD
    )
    grid_size_m: float = Field(
        default=700.0, ge=50, le=50_000, description="square grids when no grid file"
    )
    office_size_m: float = Field(
        default=2000.0, ge=100, le=100_000, description="square offices when none given"
    )
    staff_two_way: bool = Field(
        default=True, description="map files: staff may use one-way streets both ways"
    )
    require_connected: bool = Field(
        default=False, description="reject a map file that is not one strongly connected piece"
    )

    @model_validator(mode="after")
    def _one_source(self) -> MapSpec:
        given = [k for k in ("file", "inline", "generate") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of map.file, map.inline, map.generate"
                + (f" (got {', '.join(given)})" if given else "")
            )
        for key in ("cut", "offices"):
            if isinstance(getattr(self, key), MapCut | OsmOffices) and self.file is None:
                raise ValueError(f"map.{key} reads the map file: it needs map.file")
        return self


class Speeds(_Model):
    walk: float = Field(default=4.5, ge=0.5, le=200, description="km/h")
    ebike: float = Field(default=15.0, ge=0.5, le=200, description="km/h")
    car: float = Field(default=20.0, ge=0.5, le=200, description="km/h, urban average")


class _RoleModes(_Model):
    def of(self, role: str) -> Mode:
        """How ``role`` travels."""
        mode: Mode = getattr(self, role)
        return mode


if TYPE_CHECKING:  # one field per role of the registry (sim/roles.py), read by ``of``
    RoleModes = _RoleModes
else:
    RoleModes = per_role("RoleModes", _RoleModes, lambda r: (Mode, r.mode))


class Travel(_Model):
    speed_kmh: Speeds = Speeds()
    mode: RoleModes = RoleModes()
    precompute_minutes: float = Field(
        default=20.0,
        gt=0,
        le=240,
        description="travel times from posts are tabulated up to this many minutes",
    )

    def speed_m_per_min(self, role: str) -> float:
        return float(getattr(self.speed_kmh, self.mode.of(role))) * 1000.0 / 60.0
