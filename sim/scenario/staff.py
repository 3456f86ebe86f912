"""Staff: how many per km², the mix of roles, their shifts and posts."""

from __future__ import annotations

import math

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.roles import ALL_ROLES, BY_NAME
from sim.scenario.base import (
    FILE_FIELD,
    ROLES,
    _check_clock,
    _check_shares,
    _check_window,
    _Model,
    window_minutes,
)


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


# The per-role models below spell out one field per role of the registry (sim/roles.py),
# with the registry's defaults, so the JSON schema and messages stay plain;
# tests/test_roles.py checks that the fields are the registry's roles.


class RoleShifts(_Model):
    grid: list[Shift] = Field(default=list(ALL_DAY), min_length=1, max_length=48)
    advisor: list[Shift] = Field(default=list(ALL_DAY), min_length=1, max_length=48)
    enforcer: list[Shift] = Field(default=list(ALL_DAY), min_length=1, max_length=48)
    police: list[Shift] = Field(default=list(ALL_DAY), min_length=1, max_length=48)

    @model_validator(mode="after")
    def _shares(self) -> RoleShifts:
        for role in ALL_ROLES:
            _check_shares(
                {str(i): s.share for i, s in enumerate(getattr(self, role))}, f"{role} shift shares"
            )
        return self


def _mix(role: str) -> float:
    share = BY_NAME[role].mix
    assert share is not None, f"{role} is not in the staff mix"
    return share


class OfficeShifts(_Model):
    """One street office's own shift lists; a role left out keeps the district's list."""

    grid: list[Shift] | None = Field(default=None, min_length=1, max_length=48)
    advisor: list[Shift] | None = Field(default=None, min_length=1, max_length=48)
    enforcer: list[Shift] | None = Field(default=None, min_length=1, max_length=48)

    @model_validator(mode="after")
    def _shares(self) -> OfficeShifts:
        for role in ROLES:
            shifts = getattr(self, role)
            if shifts is not None:
                _check_shares(
                    {str(i): s.share for i, s in enumerate(shifts)}, f"{role} shift shares"
                )
        return self


class RoleMix(_Model):
    grid: float = Field(default=_mix("grid"), ge=0, le=1)
    advisor: float = Field(default=_mix("advisor"), ge=0, le=1)
    enforcer: float = Field(default=_mix("enforcer"), ge=0, le=1)

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
    police: list[Post] = Field(default=[], max_length=100_000, description="police units")


class RosterSpec(_Model):
    """The district's own posts from a file, one row per post (``sim.world.rosterfile``).

    The file is read when the world is built, with the map: its posts are snapped to the
    streets and replace density placement for the roles it lists.
    """

    file: str = Field(
        min_length=1,
        max_length=4096,
        description="CSV or GeoJSON of posts (lon/lat or x/y, role, office, optional shift "
        "and count), relative to the scenario file",
        json_schema_extra=FILE_FIELD,
    )
    shifts: dict[str, str] = Field(
        default_factory=dict,
        max_length=200,
        description='shift names the file may use, each "HH:MM-HH:MM"',
    )
    snap_warn_m: float = Field(
        default=100.0,
        gt=0,
        le=10_000,
        description="metres: warn of each post farther than this from the nearest street",
    )

    @field_validator("shifts")
    @classmethod
    def _windows(cls, v: dict[str, str]) -> dict[str, str]:
        problems = []
        for name, text in v.items():
            if not name.strip() or len(name) > 64 or window_minutes(name) is not None:
                problems.append(
                    f"{name[:64]!r}: a shift name must be a name of 1 to 64 characters, not a time"
                )
                continue
            try:
                if window_minutes(text) is None:
                    problems.append(f'{name}: write the shift as "HH:MM-HH:MM", got {text!r}')
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise ValueError("\n".join(problems))
        return v


class Staff(_Model):
    per_km2: float = Field(default=20.0, ge=0, le=1000, description="all roles, per km² of area")
    per_km2_by_office: dict[str, float] = Field(default_factory=dict, max_length=10_000)
    mix: RoleMix = RoleMix()
    enforcer_team_size: int = Field(default=BY_NAME["enforcer"].team_size, ge=1, le=10)
    police_per_office: int = Field(
        default=0,
        ge=0,
        le=100,
        description="police units (公安警务室) posted in each street office; 0: no police",
    )
    shifts: RoleShifts = RoleShifts()
    # per street office, replacing staff.shifts for the units posted there; the names are
    # checked against the map when staff are placed (sim.world.staff)
    shifts_by_office: dict[str, OfficeShifts] = Field(default_factory=dict, max_length=10_000)
    posts: ExplicitPosts | None = None
    roster: RosterSpec | None = Field(
        default=None,
        description="posts from a file, replacing density placement for the roles it lists",
        exclude_if=lambda v: v is None,  # a scenario without one saves as it did before
    )

    @model_validator(mode="after")
    def _police_posts(self) -> Staff:
        if self.posts is not None and self.police_per_office:
            raise ValueError(
                "staff.posts replaces placement per office: give police as staff.posts.police"
            )
        if self.posts is not None and self.roster is not None:
            raise ValueError(
                "give staff.posts (posts at nodes) or staff.roster (posts from a file), not both"
            )
        return self

    @field_validator("per_km2_by_office")
    @classmethod
    def _densities(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, d in v.items() if not (math.isfinite(d) and 0 <= d <= 1000)]
        if bad:
            raise ValueError(f"densities must be between 0 and 1000 per km² ({', '.join(bad)})")
        return v
