"""Demand (categories, daily profile, hotspots, scheduled incidents) and how problems are discovered."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.distributions import Duration, Exponential, Lognormal, Uniform
from sim.errors import ScenarioError, require_file
from sim.scenario.base import (
    _COORD,
    FILE_FIELD,
    _check_clock,
    _check_shares,
    _check_window,
    _Model,
    base_dir_of,
    problems_from,
    resolve_path,
)
from sim.scenario.trace import Trace


class Category(_Model):
    share: float = Field(ge=0, le=1)
    name_zh: str = ""
    persuasion: Duration = Lognormal(dist="lognormal", mean=8.0, sd=4.0)
    success: float = Field(default=0.8, ge=0, le=1, description="probability persuasion works")
    handling: Duration = Lognormal(dist="lognormal", mean=25.0, sd=10.0)


def _cat(
    share: float, zh: str, success: float, persuasion: float = 8.0, handling: float = 25.0
) -> Category:
    return Category(
        share=share,
        name_zh=zh,
        success=success,
        persuasion=Lognormal(dist="lognormal", mean=persuasion, sd=persuasion / 2),
        handling=Lognormal(dist="lognormal", mean=handling, sd=handling / 2.5),
    )


DEFAULT_CATEGORIES: dict[str, Category] = {
    "sanitation": _cat(0.12, "环境卫生", 0.90, 6),
    "door_front": _cat(0.12, "门前五包", 0.85, 7),
    "small_ads": _cat(0.08, "小广告", 0.85, 5),
    "outdoor_ads": _cat(0.05, "户外广告", 0.75, 10, 35),
    "street_vending": _cat(0.22, "占道经营", 0.70, 8),
    "muck_trucks": _cat(0.04, "渣土车", 0.60, 10, 30),
    "illegal_construction": _cat(0.03, "违法建设", 0.50, 15, 45),
    "parks_green": _cat(0.05, "游园绿地", 0.90, 6),
    "nonmotor_parking": _cat(0.14, "非机动车停放", 0.90, 5, 15),
    "motor_parking": _cat(0.10, "机动车乱停", 0.80, 6, 20),
    "noise": _cat(0.05, "噪声污染", 0.75, 8),
}

# Relative incident rate by hour of day: quiet nights, a morning peak, a long evening.
DEFAULT_PROFILE: list[float] = [
    0.5, 0.3, 0.2, 0.2, 0.3, 0.5, 0.8, 1.1, 1.3, 1.3, 1.3, 1.3,
    1.2, 1.1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.5, 1.3, 1.0, 0.7,
]  # fmt: skip


class Hotspot(_Model):
    """Extra incidents near a point during active hours (e.g. a night market)."""

    name: str = Field(min_length=1, max_length=200)
    x: float | None = Field(
        default=None, ge=-_COORD, le=_COORD, description="metres, map coordinates"
    )
    y: float | None = Field(default=None, ge=-_COORD, le=_COORD)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    radius_m: float = Field(gt=0, le=100_000)
    incidents_per_hour: float = Field(ge=0, le=100_000)
    start: str = "00:00"
    end: str = "24:00"
    categories: dict[str, float] | None = None

    _clock = field_validator("start", "end", mode="before")(_check_clock)

    @model_validator(mode="after")
    def _where(self) -> Hotspot:
        _check_window(self.start, self.end)
        xy = self.x is not None and self.y is not None
        ll = self.lon is not None and self.lat is not None
        if xy == ll:
            raise ValueError("give either x and y (metres) or lon and lat")
        if self.categories is not None:
            _check_shares(self.categories, "hotspot category shares")
        return self


def _check_optional_clock(v: object) -> str | None:
    return None if v is None else _check_clock(v)


class HotspotChange(_Model):
    """A change to one hotspot read from a file: its radius, rate, hours or categories."""

    radius_m: float | None = Field(default=None, gt=0, le=100_000)
    incidents_per_hour: float | None = Field(default=None, ge=0, le=100_000)
    start: str | None = None
    end: str | None = None
    categories: dict[str, float] | None = None

    _clock = field_validator("start", "end", mode="before")(_check_optional_clock)


# what a hotspot feature's properties may give; others (name_zh, note, ...) are ignored
_FEATURE_KEYS = ("name", "radius_m", "incidents_per_hour", "start", "end", "categories")
_MAX_FILE_BYTES = 16 * 2**20  # a hotspot is about 500 bytes of GeoJSON
_MAX_FEATURES = 10_000


class HotspotsFrom(_Model):
    """Hotspots read from a GeoJSON file of points, such as a map's ``hotspots.geojson``.

    The file is read when the scenario is loaded; its hotspots come first in
    ``demand.hotspots``, before any given there, and the resolved scenario lists them
    all (this key is left out of it).
    """

    geojson: str = Field(
        min_length=1,
        max_length=4096,
        description="FeatureCollection of Point features (lon, lat) whose properties give "
        "name, radius_m, incidents_per_hour and optionally start, end, categories; "
        "relative to the scenario file",
        json_schema_extra=FILE_FIELD,
    )
    overrides: dict[str, HotspotChange] = Field(
        default_factory=dict, max_length=_MAX_FEATURES, description="changes by hotspot name"
    )

    _hotspots: tuple[Hotspot, ...] = PrivateAttr(default=())

    @field_validator("geojson")
    @classmethod
    def _readable(cls, v: str, info: ValidationInfo) -> str:
        path = resolve_path(_base_dir(info), v)
        try:
            require_file(path, "file", "GeoJSON file")
            size = path.stat().st_size
        except (ScenarioError, OSError) as exc:
            raise ValueError(str(exc).removeprefix("file: ")) from None
        if size > _MAX_FILE_BYTES:
            raise ValueError(
                f"{path.name} is {size / 2**20:.0f} MiB; a file of hotspots may have at most "
                f"{_MAX_FILE_BYTES // 2**20} MiB"
            )
        return v

    @model_validator(mode="after")
    def _read(self, info: ValidationInfo) -> HotspotsFrom:
        self._hotspots = tuple(
            read_hotspots(resolve_path(_base_dir(info), self.geojson), self.overrides)
        )
        return self

    @property
    def hotspots(self) -> tuple[Hotspot, ...]:
        """The hotspots of the file, with the overrides applied."""
        return self._hotspots


_base_dir = base_dir_of


def _strict_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def read_hotspots(path: Path, overrides: Mapping[str, HotspotChange]) -> list[Hotspot]:
    """The hotspots of a GeoJSON file, each validated as :class:`Hotspot`.

    Raises ``ValueError`` with one line per problem, each naming the feature
    (``feature 2 (name): radius_m: ...``; features are counted from 1).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_strict_constant)
    except UnicodeDecodeError:
        raise ValueError(f"{path.name}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ValueError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ValueError(f"{path.name}: not valid JSON ({exc})") from None
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list) or data.get("type") != "FeatureCollection":
        raise ValueError(f"{path.name}: not a GeoJSON FeatureCollection")
    if len(feats) > _MAX_FEATURES:
        raise ValueError(f"{path.name}: {len(feats):,} features; at most {_MAX_FEATURES:,}")
    problems: list[str] = []
    out: list[Hotspot] = []
    in_file: Counter[str] = Counter()
    for i, f in enumerate(feats, 1):
        props = f.get("properties") if isinstance(f, dict) else None
        props = props if isinstance(props, dict) else {}
        name = props.get("name")
        if isinstance(name, str):
            in_file[name] += 1
        shown = " ".join(name.split())[:80] if isinstance(name, str) else ""  # one short line
        label = f"feature {i} ({shown})" if shown else f"feature {i}"
        geom = f.get("geometry") if isinstance(f, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if not (
            isinstance(geom, dict)
            and geom.get("type") == "Point"
            and isinstance(coords, list)
            and len(coords) in (2, 3)  # a third coordinate is a height
        ):
            problems.append(f"{label}: geometry: must be a Point [lon, lat]")
            continue
        fields: dict[str, Any] = {k: props[k] for k in _FEATURE_KEYS if k in props}
        fields["lon"], fields["lat"] = coords[0], coords[1]
        change = overrides.get(name) if isinstance(name, str) else None
        if change is not None:
            fields.update(change.model_dump(exclude_none=True))
        try:
            out.append(Hotspot.model_validate(fields))
        except ValidationError as exc:
            # a problem of the whole hotspot (its window, its shares) has no key of its own
            problems += [f"{label}: {p.removeprefix('(scenario): ')}" for p in problems_from(exc)]
    twice = sorted(n for n, k in in_file.items() if k > 1)
    if twice:
        problems.append(f"{path.name}: hotspot names given twice: {', '.join(twice)}")
    unknown = sorted(set(overrides) - set(in_file))
    if unknown:
        problems.append(f"overrides: no hotspot of this name in {path.name}: {', '.join(unknown)}")
    if problems:
        raise ValueError("\n".join(problems))
    return out


class ScheduledIncident(_Model):
    """One incident at a known minute and node (textbook cases, drills)."""

    at_min: float = Field(ge=0, le=3660 * 1440)
    node: int | str
    category: str


MAX_INCIDENTS_PER_DAY = 10_000_000.0
# The default volume, as a density: 2.38 a day per km of street is the Jinshui default's
# 2,700 a day over its 1,136 km of streets (2,704 a day there), and follows any other map.
DEFAULT_PER_STREET_KM = 2.38


def _is_none(value: object) -> bool:
    return value is None


class Density(_Model):
    """Background incidents a day per unit of the map, so a scenario keeps its load on
    another map; exactly one of the two keys. The count is worked out once the map is
    read (:func:`background_per_day`)."""

    per_street_km: float | None = Field(
        default=None,
        ge=0,
        le=10_000,
        description="incidents a day per km of street in the map (or its cut)",
        exclude_if=_is_none,
    )
    per_km2: float | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="incidents a day per km² of the map's street offices",
        exclude_if=_is_none,
    )

    @model_validator(mode="after")
    def _one(self) -> Density:
        if (self.per_street_km is None) == (self.per_km2 is None):
            raise ValueError("give exactly one of per_street_km and per_km2")
        return self


def _unset(value: object) -> bool:
    """Keys added to the demand after results were first saved are left out of a saved
    scenario while unset, so a scenario without them saves exactly as before."""
    return value is None or value == {}


class DayEffect(_Model):
    """A day-level random effect: each day's rate times a gamma draw of mean 1."""

    cv: float = Field(gt=0, le=5, description="coefficient of variation of the daily multiplier")


class OfficeDemand(_Model):
    """One street office's share of the background and its own category mix (fitted)."""

    intensity: float = Field(
        default=1.0,
        ge=0,
        le=1000,
        description="background incidents per km of street, relative to the map's mean",
    )
    categories: dict[str, float] | None = Field(
        default=None, max_length=200, description="category shares in this office"
    )

    @model_validator(mode="after")
    def _shares(self) -> OfficeDemand:
        if self.categories is not None:
            _check_shares(self.categories, "office category shares")
        return self


class Demand(_Model):
    # the form not given is left out of a saved scenario, so one given as a count saves
    # exactly as it did before densities existed
    incidents_per_day: float | None = Field(
        default=None,
        ge=0,
        le=MAX_INCIDENTS_PER_DAY,
        description="background incidents a day over the whole map (or give density)",
        exclude_if=_is_none,
    )
    density: Density | None = Field(
        default=None,
        description="background incidents a day per km of street or per km², in place of "
        f"incidents_per_day; neither given: per_street_km {DEFAULT_PER_STREET_KM:g}",
        exclude_if=_is_none,
    )
    hourly_profile: list[float] = Field(default=DEFAULT_PROFILE, min_length=24, max_length=24)
    weekday_profile: list[float] | None = Field(
        default=None,
        min_length=7,
        max_length=7,
        description="relative volume Monday … Sunday; minute 0 of a run is a Monday",
        exclude_if=_unset,
    )
    day_effect: DayEffect | None = Field(default=None, exclude_if=_unset)
    offices: dict[str, OfficeDemand] = Field(
        default_factory=dict,
        max_length=10_000,
        description="per street office, by name",
        exclude_if=_unset,
    )
    trace: Trace | None = Field(
        default=None,
        description="replay a case log as the whole demand instead of drawing it",
        exclude_if=_unset,
    )
    categories: dict[str, Category] = Field(
        default=DEFAULT_CATEGORIES, min_length=1, max_length=200
    )
    hotspots_from: HotspotsFrom | None = Field(
        default=None,
        exclude=True,
        description="hotspots read from a GeoJSON file, listed before those of hotspots",
    )
    # validated even when left out, so that the hotspots of hotspots_from join it
    hotspots: list[Hotspot] = Field(default=[], max_length=10_000, validate_default=True)
    scheduled: list[ScheduledIncident] = Field(default=[], max_length=1_000_000)

    @model_validator(mode="before")
    @classmethod
    def _volume(cls, data: Any) -> Any:
        """A count or a density, not both; neither: the default density."""
        if not isinstance(data, Mapping):
            return data
        count, density = data.get("incidents_per_day"), data.get("density")
        if count is not None and density is not None:
            raise ValueError(
                "give demand.incidents_per_day (a count for the whole map) or demand.density "
                "(per km of street or per km²), not both"
            )
        if count is None and density is None:
            return {**data, "density": {"per_street_km": DEFAULT_PER_STREET_KM}}
        return data

    @field_validator("hotspots")
    @classmethod
    def _with_file(cls, v: list[Hotspot], info: ValidationInfo) -> list[Hotspot]:
        source = info.data.get("hotspots_from")
        return [*source.hotspots, *v] if isinstance(source, HotspotsFrom) else v

    @field_validator("hourly_profile", "weekday_profile")
    @classmethod
    def _profile(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and (any(not 0 <= w <= 1e6 for w in v) or sum(v) <= 0):
            raise ValueError("weights must be between 0 and 1e6 with a positive sum")
        return v

    @model_validator(mode="after")
    def _refs(self) -> Demand:
        _check_shares({k: c.share for k, c in self.categories.items()}, "category shares")
        unknown = sorted(
            {c for h in self.hotspots for c in (h.categories or {}) if c not in self.categories}
            | {s.category for s in self.scheduled if s.category not in self.categories}
            | {c for o in self.offices.values() for c in (o.categories or {})}
            - set(self.categories)
        )
        if unknown:
            raise ValueError(f"unknown categories: {', '.join(unknown)}")
        twice = sorted(n for n, k in Counter(h.name for h in self.hotspots).items() if k > 1)
        if twice:
            raise ValueError(f"hotspot names given twice: {', '.join(twice)}")
        if self.trace is not None and self.scheduled:
            raise ValueError("trace is the whole demand: leave scheduled incidents out")
        return self


class Patrol(_Model):
    enabled: bool = True


class Citizen(_Model):
    probability: float = Field(default=0.5, ge=0, le=1)
    delay: Duration = Exponential(dist="exponential", mean=20.0)


class Camera(_Model):
    coverage: float = Field(
        default=0.15, ge=0, le=1, description="share of street nodes a camera watches"
    )
    delay: Duration = Exponential(dist="exponential", mean=3.0)


class Discovery(_Model):
    patrol: Patrol = Patrol()
    citizen: Citizen = Citizen()
    camera: Camera = Camera()
    processing: Duration = Uniform(dist="uniform", low=1.0, high=3.0)
