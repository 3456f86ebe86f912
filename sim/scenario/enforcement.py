"""The enforcement chain: offenders, rungs, deterrence, cases, the court and the campaign."""

from __future__ import annotations

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.distributions import Duration, Lognormal
from sim.scenario.base import (
    _check_shares,
    _Model,
)
from sim.scenario.staff import (
    Shift,
)


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
    police_target_minutes: float = Field(
        default=15.0,
        gt=0,
        le=1440,
        description="measure: share of police calls with a unit on scene within this time",
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

    @field_validator("rungs")
    @classmethod
    def _progressive(cls, v: list[Rung]) -> list[Rung]:
        """The ladder goes up: a rung's legal maximum is never below the one before it."""
        for i in range(1, len(v)):
            before, rung = v[i - 1], v[i]
            if rung.fine_cap < before.fine_cap:
                raise ValueError(
                    f"rungs[{i}] ({rung.name}) has fine_cap {rung.fine_cap:,.0f}, below the "
                    f"{before.fine_cap:,.0f} of rungs[{i - 1}] ({before.name}) before it: a "
                    "progressive penalty goes up, so list the rungs from the mildest"
                )
        return v

    @model_validator(mode="after")
    def _skips(self) -> Enforcement:
        groups = {**self.offenders.categories, **self.offenders.hotspots}
        bad = sorted(k for k, g in groups.items() if g.first_rung >= len(self.rungs))
        if bad:
            raise ValueError(f"first_rung beyond the last rung for: {', '.join(bad)}")
        return self
