"""The monthly evaluation: inspections, weights of the score, escalation and the fund."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.distributions import Duration, Exponential
from sim.scenario.base import (
    _SHARE_TOL,
    _check_clock,
    _check_shares,
    _check_window,
    _Model,
)


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
