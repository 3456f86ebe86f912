"""Scenario schema, loading and validation.

A scenario is data: one YAML file checked against the pydantic models below. Unknown
keys and out-of-range values are rejected, and every problem is reported at once, one
line per problem naming its field path (:class:`ScenarioError`).
"""

from __future__ import annotations

import contextlib
import copy
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.distributions import Duration, Exponential, Lognormal, Uniform
from sim.errors import ScenarioError as ScenarioError  # re-exported: the schema raises it
from sim.overrides import parse_override as parse_override  # re-exported for old callers
from sim.overrides import read_yaml as read_yaml  # re-exported
from sim.overrides import set_by_path

ROLES: tuple[str, ...] = ("grid", "advisor", "enforcer")
Role = Literal["grid", "advisor", "enforcer"]
Mode = Literal["walk", "ebike", "car"]
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
# a label that is also a safe file name on every platform: letters (any script), digits,
# "_", "-" and "." inside, not starting with "." (no "..", no hidden names, no separators)
_NAME_RE = re.compile(r"^[^\W_][\w.-]{0,63}$")
_COORD = 1e8  # metres or projected units: larger than any city, finite in float32 sums
_SHARE_TOL = 1e-6


class _Model(BaseModel):
    # NaN and infinities are rejected at the field, with pydantic's "finite number" message
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def clock_minutes(text: str) -> float:
    """Parse ``HH:MM`` (00:00 to 24:00) into minutes after midnight."""
    m = _TIME_RE.match(text)
    if not m:
        raise ValueError(f"time must look like HH:MM, got {text!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h > 24 or (h == 24 and mi != 0):
        raise ValueError(f"time {text!r} is not between 00:00 and 24:00")
    return float(h * 60 + mi)


def _check_clock(v: object) -> str:
    if not isinstance(v, str):
        # YAML 1.1 reads an unquoted 10:00 as the base-60 number 600
        raise ValueError('write times as quoted "HH:MM" strings, e.g. "10:00"')
    clock_minutes(v)
    return v


def _check_window(start: str, end: str) -> None:
    if clock_minutes(start) % 1440 == clock_minutes(end) % 1440 and not (
        clock_minutes(start) == 0 and clock_minutes(end) == 1440
    ):
        raise ValueError("start and end are equal; use 00:00 to 24:00 for all day")


def _check_shares(shares: Mapping[str, float], what: str) -> None:
    total = sum(shares.values())
    if shares and not math.isclose(total, 1.0, abs_tol=_SHARE_TOL):
        raise ValueError(f"{what} must sum to 1, they sum to {total:.6g}")


# --------------------------------------------------------------------------- map


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
    geojson: str | None = Field(default=None, description="GeoJSON polygon(s) in lon/lat")
    boundary: str | None = Field(default=None, min_length=1, description="administrative name")
    admin_level: int | None = Field(default=None, ge=1, le=12, description="level of the boundary")

    @field_validator("polygon")
    @classmethod
    def _lon_lat(cls, v: list[tuple[float, float]] | None) -> list[tuple[float, float]] | None:
        for lon, lat in v or ():
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"[{lon}, {lat}] is not a [longitude, latitude] point")
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> MapCut:
        given = [k for k in ("polygon", "geojson", "boundary") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of polygon, geojson and boundary")
        if self.admin_level is not None and self.boundary is None:
            raise ValueError("admin_level goes with boundary")
        return self


def _offices_kind(v: Any) -> str:
    return "extract" if isinstance(v, Mapping | BaseModel) else "geojson"


class MapSpec(_Model):
    """Where the street network and its areas come from; exactly one of file/inline/generate."""

    file: str | None = Field(
        default=None, description="GraphML, .osm.pbf, .osm, .osm.bz2 or .osm.gz"
    )
    inline: InlineMap | None = None
    generate: GeneratedMap | None = None
    offices: (
        Annotated[
            Annotated[str, Tag("geojson")] | Annotated[OsmOffices, Tag("extract")],
            Discriminator(_offices_kind),
        ]
        | None
    ) = Field(default=None, description="GeoJSON of street-office polygons, or boundaries")
    cut: MapCut | None = Field(default=None, description="simulate only this part of map.file")
    grids: str | None = Field(default=None, description="GeoJSON of grid polygons")
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


# ------------------------------------------------------------------------ travel


class Speeds(_Model):
    walk: float = Field(default=4.5, ge=0.5, le=200, description="km/h")
    ebike: float = Field(default=15.0, ge=0.5, le=200, description="km/h")
    car: float = Field(default=20.0, ge=0.5, le=200, description="km/h, urban average")


class RoleModes(_Model):
    grid: Mode = "walk"
    advisor: Mode = "ebike"
    enforcer: Mode = "ebike"


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
        mode = getattr(self.mode, role)
        return float(getattr(self.speed_kmh, mode)) * 1000.0 / 60.0


# ------------------------------------------------------------------------- staff


class Shift(_Model):
    start: str
    end: str
    share: float = Field(gt=0, le=1)

    _clock = field_validator("start", "end", mode="before")(_check_clock)

    @model_validator(mode="after")
    def _not_empty(self) -> Shift:
        _check_window(self.start, self.end)
        return self


ALL_DAY = (Shift(start="00:00", end="24:00", share=1.0),)


class RoleShifts(_Model):
    grid: list[Shift] = Field(default=list(ALL_DAY), min_length=1, max_length=48)
    advisor: list[Shift] = Field(default=list(ALL_DAY), min_length=1, max_length=48)
    enforcer: list[Shift] = Field(default=list(ALL_DAY), min_length=1, max_length=48)

    @model_validator(mode="after")
    def _shares(self) -> RoleShifts:
        for role in ROLES:
            _check_shares(
                {str(i): s.share for i, s in enumerate(getattr(self, role))}, f"{role} shift shares"
            )
        return self


class RoleMix(_Model):
    grid: float = Field(default=0.4, ge=0, le=1)
    advisor: float = Field(default=0.35, ge=0, le=1)
    enforcer: float = Field(default=0.25, ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self) -> RoleMix:
        _check_shares({r: getattr(self, r) for r in ROLES}, "role shares")
        return self


class Post(_Model):
    node: int | str
    count: int = Field(default=1, ge=1, le=10_000)


class ExplicitPosts(_Model):
    """Staff at named nodes (enforcer counts are teams); replaces density placement."""

    grid: list[Post] = Field(default=[], max_length=100_000)
    advisor: list[Post] = Field(default=[], max_length=100_000)
    enforcer: list[Post] = Field(default=[], max_length=100_000)


class Staff(_Model):
    per_km2: float = Field(default=20.0, ge=0, le=1000, description="all roles, per km² of area")
    per_km2_by_office: dict[str, float] = Field(default_factory=dict, max_length=10_000)
    mix: RoleMix = RoleMix()
    enforcer_team_size: int = Field(default=2, ge=1, le=10)
    shifts: RoleShifts = RoleShifts()
    posts: ExplicitPosts | None = None

    @field_validator("per_km2_by_office")
    @classmethod
    def _densities(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, d in v.items() if not (math.isfinite(d) and 0 <= d <= 1000)]
        if bad:
            raise ValueError(f"densities must be between 0 and 1000 per km² ({', '.join(bad)})")
        return v


# ------------------------------------------------------------------------ demand


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


class ScheduledIncident(_Model):
    """One incident at a known minute and node (textbook cases, drills)."""

    at_min: float = Field(ge=0, le=3660 * 1440)
    node: int | str
    category: str


class Demand(_Model):
    incidents_per_day: float = Field(default=2700.0, ge=0, le=10_000_000)
    hourly_profile: list[float] = Field(default=DEFAULT_PROFILE, min_length=24, max_length=24)
    categories: dict[str, Category] = Field(
        default=DEFAULT_CATEGORIES, min_length=1, max_length=200
    )
    hotspots: list[Hotspot] = Field(default=[], max_length=10_000)
    scheduled: list[ScheduledIncident] = Field(default=[], max_length=1_000_000)

    @field_validator("hourly_profile")
    @classmethod
    def _profile(cls, v: list[float]) -> list[float]:
        if any(not 0 <= w <= 1e6 for w in v) or sum(v) <= 0:
            raise ValueError("weights must be between 0 and 1e6 with a positive sum")
        return v

    @model_validator(mode="after")
    def _refs(self) -> Demand:
        _check_shares({k: c.share for k, c in self.categories.items()}, "category shares")
        unknown = sorted(
            {c for h in self.hotspots for c in (h.categories or {}) if c not in self.categories}
            | {s.category for s in self.scheduled if s.category not in self.categories}
        )
        if unknown:
            raise ValueError(f"unknown categories: {', '.join(unknown)}")
        return self


# --------------------------------------------------------------------- discovery


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


# -------------------------------------------------------------------- evaluation


class Inspection(_Model):
    """Third-party inspection: unannounced route checks and a census (numbers are assumptions)."""

    per_month: int = Field(
        default=20, ge=0, le=1000, description="unannounced route checks per office and month"
    )
    route_km: float = Field(
        default=2.0, ge=0, le=50, description="street length one check walks; 0: a point check"
    )
    speed_kmh: float = Field(default=4.5, gt=0, le=100, description="inspector's pace on a route")
    start: str = Field(default="08:00", description="inspectors work from")
    end: str = Field(default="20:00", description="inspectors work until")
    census_per_month: int = Field(
        default=1, ge=0, le=31, description="snapshots of every street of the office per month"
    )
    unfound_lifetime: Duration = Field(
        default=Exponential(dist="exponential", mean=720.0),
        description="minutes a problem nobody reports stays visible",
    )
    points_per_problem_km: float = Field(
        default=100.0,
        ge=0,
        le=1e6,
        description="points deducted from 100 per open problem found per inspected km",
    )

    _clock = field_validator("start", "end", mode="before")(_check_clock)

    @model_validator(mode="after")
    def _window(self) -> Inspection:
        _check_window(self.start, self.end)
        return self


DIGITAL_PARTS = ("double_ten", "closing_rate", "closing_time", "self_found")


class DigitalWeights(_Model):
    """How the case-system measures combine into the digital score (shares summing to 1)."""

    double_ten: float = Field(default=0.4, ge=0, le=1)
    closing_rate: float = Field(default=0.2, ge=0, le=1)
    closing_time: float = Field(default=0.2, ge=0, le=1)
    self_found: float = Field(default=0.2, ge=0, le=1)
    close_within_min: float = Field(
        default=60.0, gt=0, le=1e5, description="an instruction closed this soon counts as fast"
    )

    @model_validator(mode="after")
    def _sum(self) -> DigitalWeights:
        _check_shares({k: getattr(self, k) for k in DIGITAL_PARTS}, "evaluation.digital weights")
        return self


class OutsideScore(_Model):
    """A score the simulator does not model: fixed per office, else drawn each month."""

    mean: float = Field(default=90.0, ge=0, le=100)
    sd: float = Field(default=3.0, ge=0, le=100, description="month-to-month noise (normal)")
    by_office: dict[str, float] = Field(default_factory=dict, description="fixed scores, 0-100")

    @field_validator("by_office")
    @classmethod
    def _scores(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, x in v.items() if not 0 <= x <= 100]
        if bad:
            raise ValueError(f"scores must be between 0 and 100 ({', '.join(bad)})")
        return v


class StreetOfficeWeights(_Model):
    third_party: float = Field(default=0.40, ge=0, le=1)
    digital: float = Field(default=0.40, ge=0, le=1)
    business_bureaus: float = Field(default=0.15, ge=0, le=1)
    assessment_office: float = Field(default=0.05, ge=0, le=1)


class BureauWeights(_Model):
    third_party: float = Field(default=0.80, ge=0, le=1)
    street_offices: float = Field(default=0.20, ge=0, le=1)


class SpecialWorkWeights(_Model):
    third_party: float = Field(default=0.40, ge=0, le=1)
    digital: float = Field(default=0.20, ge=0, le=1)
    internal: float = Field(default=0.20, ge=0, le=1)
    assessment_office: float = Field(default=0.10, ge=0, le=1)
    street_offices: float = Field(default=0.10, ge=0, le=1)


class GroupWeights(_Model):
    """Component weights of each evaluated group (each group's weights sum to 1)."""

    street_offices: StreetOfficeWeights = StreetOfficeWeights()
    district_bureaus: BureauWeights = BureauWeights()
    special_work: SpecialWorkWeights = SpecialWorkWeights()

    @model_validator(mode="after")
    def _sums(self) -> GroupWeights:
        for group in ("street_offices", "district_bureaus", "special_work"):
            _check_shares(getattr(self, group).model_dump(), f"{group} weights")
        return self


class OtherUnit(_Model):
    """A unit of a group that is not simulated: its component scores (0-100) are given."""

    name: str = Field(min_length=1)
    name_zh: str = ""
    group: Literal["district_bureaus", "special_work"]
    scores: dict[str, float]

    @model_validator(mode="after")
    def _parts(self) -> OtherUnit:
        parts = set(
            (BureauWeights if self.group == "district_bureaus" else SpecialWorkWeights).model_fields
        )
        if set(self.scores) != parts:
            raise ValueError(f"scores must give exactly {', '.join(sorted(parts))}")
        if any(not 0 <= v <= 100 for v in self.scores.values()):
            raise ValueError("scores must be between 0 and 100")
        return self


class Fund(_Model):
    """The reward fund: shares of a month's budget by rank (assumed schedule)."""

    yearly_yuan: float = Field(default=5_000_000.0, ge=0, le=1e11)
    rewards: list[float] = Field(
        default=[0.30, 0.25, 0.20, 0.15, 0.10],
        max_length=1000,
        description="shares of the monthly budget paid to ranks 1, 2, ...",
    )
    deductions: list[float] = Field(
        default=[0.10, 0.05],
        max_length=1000,
        description="shares of the monthly budget taken from the last, second-last, ...",
    )

    @model_validator(mode="after")
    def _shares(self) -> Fund:
        for name in ("rewards", "deductions"):
            v = getattr(self, name)
            if any(not 0 <= x <= 1 for x in v) or sum(v) > 1 + _SHARE_TOL:
                raise ValueError(f"{name}: shares between 0 and 1 that sum to at most 1")
        return self


class Escalation(_Model):
    """Consecutive months at the bottom (black flag) before each step (assumed)."""

    talk: int = Field(default=2, ge=1, le=1000)
    warning: int = Field(default=3, ge=1, le=1000)
    suspension: int = Field(default=4, ge=1, le=1000)

    @model_validator(mode="after")
    def _order(self) -> Escalation:
        if not self.talk <= self.warning <= self.suspension:
            raise ValueError("talk <= warning <= suspension must hold")
        return self


class Evaluation(_Model):
    """The monthly evaluation and ranking of the street offices (section 一)."""

    enabled: bool = True
    month_days: float = Field(default=30.0, gt=0, le=366, description="length of a scored month")
    inspection: Inspection = Inspection()
    digital: DigitalWeights = DigitalWeights()
    business_bureaus: OutsideScore = OutsideScore()
    assessment_office: OutsideScore = OutsideScore()
    weights: GroupWeights = GroupWeights()
    red_flags: int = Field(default=2, ge=0, le=1000)
    black_flags: int = Field(default=1, ge=0, le=1000)
    fund: Fund = Fund()
    escalation: Escalation = Escalation()
    units: list[OtherUnit] = Field(default=[], max_length=10000)


# ------------------------------------------------------------------- enforcement


class Days(_Model):
    """A delay in days: log-normal by mean and standard deviation (0 sd: always the mean)."""

    mean: float = Field(ge=0, le=3650, description="days")
    sd: float = Field(default=0.0, ge=0, le=3650, description="days")


class OffenderGroup(_Model):
    """Persistent offenders of one category (or at one hotspot)."""

    share: float = Field(
        ge=0,
        le=1,
        description="share of these incidents that persistent offenders cause at the start",
    )
    daily_p: float = Field(
        default=0.5, gt=0, le=1, description="chance an undeterred offender offends on a given day"
    )
    first_rung: int = Field(
        default=0, ge=0, le=9, description="rung of the first sanction (serious categories skip)"
    )


class Offenders(_Model):
    """Who causes the problems: persistent offenders at nodes, the rest one-off (assumptions)."""

    categories: dict[str, OffenderGroup] = Field(default_factory=dict, max_length=200)
    hotspots: dict[str, OffenderGroup] = Field(default_factory=dict, max_length=10_000)
    spread: float = Field(
        default=0.5, ge=0, le=5, description="coefficient of variation of daily_p between offenders"
    )
    turnover_per_day: float = Field(
        default=0.03,
        ge=0,
        le=1,
        description="chance per day an offender leaves for other reasons; as many newcomers arrive",
    )
    max_offenders: int = Field(default=200_000, ge=1, le=10_000_000)


class Rung(_Model):
    """One step of the progressive penalty (渐进式处罚)."""

    name: str = Field(min_length=1, max_length=64)
    name_zh: str = ""
    case: bool = Field(default=True, description="a case is filed (立案) at this rung")
    fine_mean: float = Field(default=0.0, ge=0, le=1e7, description="yuan")
    fine_sd: float = Field(default=0.0, ge=0, le=1e7, description="yuan")
    fine_cap: float = Field(default=0.0, ge=0, le=1e7, description="the legal maximum, yuan")
    quit: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="chance the offender gives up the street after it (退路进店)",
    )

    @model_validator(mode="after")
    def _within_cap(self) -> Rung:
        if self.fine_mean > self.fine_cap:
            raise ValueError(f"fine_mean {self.fine_mean:g} is above fine_cap {self.fine_cap:g}")
        return self


DEFAULT_RUNGS: list[Rung] = [
    Rung(name="order", name_zh="责令改正通知书", case=False),
    Rung(
        name="fine_city",
        name_zh="市容罚款",
        fine_mean=300.0,
        fine_sd=150.0,
        fine_cap=500.0,
        quit=0.5,
    ),
    Rung(
        name="fine_road",
        name_zh="城市道路罚款",
        fine_mean=3000.0,
        fine_sd=2500.0,
        fine_cap=20_000.0,
        quit=0.3,
    ),
]


class Deterrence(_Model):
    """Becker's expected-penalty rule with learned certainty (assumptions, see docs/model.md)."""

    gain_yuan: float = Field(default=300.0, gt=0, le=1e7, description="mean gain per offence")
    gain_sd: float = Field(default=150.0, ge=0, le=1e7)
    shape: float = Field(default=2.0, gt=0, le=50, description="log-logistic shape of daily gains")
    hassle_yuan: float = Field(
        default=100.0, ge=0, le=1e7, description="perceived cost of any sanction beyond its fine"
    )
    prior_certainty: float = Field(default=0.05, ge=0, le=1)
    own_weight: float = Field(
        default=0.3, ge=0, le=1, description="learning from one's own offence"
    )
    neighbour_weight: float = Field(
        default=0.05, ge=0, le=1, description="learning from each fine seen nearby"
    )
    radius_m: float = Field(default=150.0, ge=0, le=100_000, description="who counts as nearby")
    forget_days: float = Field(
        default=60.0, gt=0, le=36_500, description="half-life of perceptions back to the prior"
    )


class Cases(_Model):
    """The case pipeline after a sanction that files a case."""

    track: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="chance a known offender's escalation is put on the penalty track",
    )
    approval: Days = Days(mean=3.0, sd=2.0)
    decision: float = Field(
        default=0.93, ge=0, le=1, description="share of cases decided, not dropped"
    )
    mediation: float = Field(default=0.05, ge=0, le=1, description="share of decisions disputed")
    mediation_time: Days = Days(mean=7.0, sd=4.0)
    pay_time: Days = Days(mean=7.0, sd=4.0)
    unpaid: float = Field(default=0.03, ge=0, le=1, description="share of decisions not paid")
    resistance: float = Field(
        default=0.02, ge=0, le=1, description="share of sanctions meeting violent resistance"
    )
    police_minutes: Duration = Field(
        default=Lognormal(dist="lognormal", mean=40.0, sd=20.0),
        description="extra minutes on scene with police support (公安警务室)",
    )


class Court(_Model):
    """Compulsory enforcement through the court (移交法院申请强制执行)."""

    referral: float = Field(
        default=0.3, ge=0, le=1, description="share of unpaid decisions referred"
    )
    referral_time: Days = Days(mean=30.0, sd=10.0)
    ruling: float = Field(
        default=0.98, ge=0, le=1, description="share of referrals ruled (行政裁定书)"
    )
    ruling_time: Days = Days(mean=10.0, sd=5.0)
    radius_m: float = Field(default=300.0, ge=0, le=100_000, description="how far a ruling is seen")
    quit: float = Field(
        default=0.6, ge=0, le=1, description="chance an offender who sees it gives up the street"
    )


class Campaign(_Model):
    """The "归零" campaign: leader-led joint enforcement at hotspots every evening."""

    enabled: bool = False
    hotspots: list[str] = Field(default=[], max_length=10_000, description="names; [] for all")
    start_day: float = Field(default=0.0, ge=0, le=3660)
    days: float = Field(default=90.0, gt=0, le=3660)
    joint_staff: int = Field(default=8, ge=0, le=10_000, description="people on site each evening")
    presence_weight: float = Field(
        default=0.3, ge=0, le=1, description="daily learning from the visible presence"
    )
    enforcer_shifts: list[Shift] | None = Field(
        default=None,
        max_length=48,
        description="staggered and extended enforcer shifts (错时/延时)",
    )

    @model_validator(mode="after")
    def _shares(self) -> Campaign:
        if self.enforcer_shifts is not None:
            _check_shares(
                {str(i): s.share for i, s in enumerate(self.enforcer_shifts)},
                "campaign enforcer shift shares",
            )
        return self


class Enforcement(_Model):
    """The enforcement chain (section 二): offenders, penalties, cases, the court."""

    enabled: bool = False
    offenders: Offenders = Offenders()
    rungs: list[Rung] = Field(default=DEFAULT_RUNGS, min_length=1, max_length=10)
    deterrence: Deterrence = Deterrence()
    cases: Cases = Cases()
    court: Court = Court()
    campaign: Campaign = Campaign()

    @model_validator(mode="after")
    def _skips(self) -> Enforcement:
        groups = {**self.offenders.categories, **self.offenders.hotspots}
        bad = sorted(k for k, g in groups.items() if g.first_rung >= len(self.rungs))
        if bad:
            raise ValueError(f"first_rung beyond the last rung for: {', '.join(bad)}")
        return self


# ------------------------------------------------------------------------- rules


class Rules(_Model):
    advisor_minutes: float = Field(default=10.0, gt=0, le=1440)
    enforcer_minutes: float = Field(default=10.0, gt=0, le=1440)
    target: float = Field(default=0.95, gt=0, le=1, description="share that should be on time")


class Dispatch(_Model):
    policy: Literal["nearest", "own_grid_first"] = "nearest"
    advisor_turnout: Duration = Field(
        default=Uniform(dist="uniform", low=0.5, high=2.0),
        description="minutes from dispatch until the advisor sets off",
    )
    enforcer_turnout: Duration = Field(
        default=Uniform(dist="uniform", low=1.0, high=3.0),
        description="minutes from dispatch until the enforcer team sets off",
    )


MAX_DAYS = 3660.0
MAX_WARMUP_HOURS = 24.0 * 90  # a warm-up longer than a season warms nothing up


class RunLength(_Model):
    days: float = Field(default=7.0, gt=0, le=MAX_DAYS)
    warmup_hours: float = Field(default=24.0, ge=0, le=MAX_WARMUP_HOURS)


class Scenario(_Model):
    """A complete, validated scenario."""

    name: str = Field(
        min_length=1,
        max_length=64,
        description="a label, also the default results folder: letters, digits, _ - .",
        # editors' regexes know no Unicode \w: this looser pattern admits 金水 too
        json_schema_extra={"pattern": r"^[^\s./\\_-][^\s/\\]{0,63}$"},
    )
    description: str = Field(default="", max_length=10_000)
    seed: int = Field(default=1, ge=0, le=2**63 - 1)
    duration: RunLength = RunLength()
    map: MapSpec
    travel: Travel = Travel()
    staff: Staff = Staff()
    demand: Demand = Demand()
    discovery: Discovery = Discovery()
    rules: Rules = Rules()
    dispatch: Dispatch = Dispatch()
    evaluation: Evaluation = Evaluation()
    enforcement: Enforcement = Enforcement()

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @field_validator("name")
    @classmethod
    def _label(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError(
                f"{v!r} is not a plain label: use letters, digits, '_', '-' and '.', "
                "starting with a letter or digit (it names the results folder)"
            )
        return v

    @model_validator(mode="after")
    def _enforcement_refs(self) -> Scenario:
        e = self.enforcement
        cats = set(self.demand.categories)
        spots = {h.name for h in self.demand.hotspots}
        unknown = sorted(set(e.offenders.categories) - cats)
        if unknown:
            raise ValueError(
                f"enforcement.offenders.categories: unknown categories: {', '.join(unknown)}"
            )
        unknown = sorted((set(e.offenders.hotspots) | set(e.campaign.hotspots)) - spots)
        if unknown:
            raise ValueError(f"enforcement: unknown hotspots: {', '.join(unknown)}")
        return self

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the scenario are read from."""
        return self._base_dir

    def resolve(self, path: str) -> Path:
        """Absolute path of a file named in the scenario."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self._base_dir / p)

    def resolved(self) -> dict[str, Any]:
        """The whole scenario with defaults filled in, as plain data."""
        return self.model_dump(mode="json")

    @property
    def horizon_min(self) -> float:
        return self.duration.warmup_hours * 60.0 + self.duration.days * 1440.0

    @property
    def warmup_min(self) -> float:
        return self.duration.warmup_hours * 60.0


def json_schema() -> dict[str, Any]:
    """The scenario schema as JSON Schema (draft 2020-12), for editors and other tools.

    The same pydantic models validate scenarios; a test keeps the copy in
    ``scenarios/scenario.schema.json`` in step with this.
    """
    schema = Scenario.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "城管120 dispatch simulator scenario",
        **{k: v for k, v in schema.items() if k != "title"},
    }


# --------------------------------------------------------------------- loading


def _loc(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(scenario)"


def _describe(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


# tags of tagged unions, which pydantic puts in error paths but are no scenario keys
_UNION_TAGS = ("fixed", "exponential", "lognormal", "uniform", "geojson", "extract")


def problems_from(exc: ValidationError) -> list[str]:
    """One ``path: message`` line per pydantic error."""
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if p not in _UNION_TAGS]
        lines.append(f"{_loc(loc)}: {_describe(err)}")
    return lines


def scenario_from_dict(
    data: Mapping[str, Any],
    base_dir: Path | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
) -> Scenario:
    """Validate plain data (plus ``--set`` style overrides) into a :class:`Scenario`.

    Overrides apply to the scenario with its defaults filled in, so that
    ``demand.categories.noise.success=0.5`` changes one value of the default table
    rather than replacing the table.
    """
    raw: dict[str, Any] = copy.deepcopy(dict(data))
    pairs = list(
        overrides.items() if isinstance(overrides, Mapping) else map(parse_override, overrides)
    )
    if pairs:
        # a file with problems of its own gets them reported with the overrides applied
        with contextlib.suppress(ValidationError):
            raw = Scenario.model_validate(raw).model_dump(mode="json")
        for key, value in pairs:
            set_by_path(raw, key, value)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc)) from None
    scenario._base_dir = (base_dir or Path.cwd()).resolve()
    return scenario


def load_scenario(path: str | Path, overrides: Sequence[str] | Mapping[str, Any] = ()) -> Scenario:
    """Read and validate a scenario YAML file; raise :class:`ScenarioError` on any problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"{p}: no such scenario file"]) from None
    except UnicodeDecodeError:
        raise ScenarioError([f"{str(p)[:200]}: not a UTF-8 text file"]) from None
    except OSError as exc:  # a folder, no permission, a name too long, ...
        reason = exc.strerror or exc.__class__.__name__
        raise ScenarioError([f"{str(p)[:200]}: cannot read ({reason})"]) from None
    try:
        data = read_yaml(text)
    except yaml.constructor.ConstructorError as exc:
        raise ScenarioError([f"{p}: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError([f"{p}: not valid YAML{where}"]) from None
    if not isinstance(data, dict):
        raise ScenarioError([f"{p}: a scenario must be a mapping of keys"])
    return scenario_from_dict(data, base_dir=p.parent, overrides=overrides)


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any] | Sequence[str]) -> Scenario:
    """A copy of ``scenario`` with dotted-path overrides applied and re-validated."""
    return scenario_from_dict(scenario.resolved(), base_dir=scenario.base_dir, overrides=overrides)
