"""Demand (categories, daily profile, hotspots, scheduled incidents) and how problems are discovered."""

from __future__ import annotations

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.distributions import Duration, Exponential, Lognormal, Uniform
from sim.scenario.base import (
    _COORD,
    _check_clock,
    _check_shares,
    _check_window,
    _Model,
)


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
