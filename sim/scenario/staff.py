"""Staff: how many per km², the mix of roles, their shifts and posts."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.roles import ALL_ROLES, BY_NAME, RoleInfo
from sim.scenario.base import (
    FILE_FIELD,
    ROLES,
    _check_clock,
    _check_shares,
    _check_window,
    _Model,
    per_role,
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


# The per-role models are built from the registry (sim/roles.py): one field per role, with
# the registry's defaults (scenario.base.per_role). Code reads a role's value by ``of``.


def _shift_list(default: bool) -> Any:
    if default:
        return Field(default=list(ALL_DAY), min_length=1, max_length=48)
    return Field(default=None, min_length=1, max_length=48)


def _check_role_shares(model: _Model, roles: tuple[str, ...]) -> None:
    for role in roles:
        shifts: list[Shift] | None = getattr(model, role, None)
        if shifts is not None:
            _check_shares({str(i): s.share for i, s in enumerate(shifts)}, f"{role} shift shares")


class _RoleShifts(_Model):
    @model_validator(mode="after")
    def _shares(self) -> _RoleShifts:
        _check_role_shares(self, ALL_ROLES)
        return self

    def of(self, role: str) -> list[Shift]:
        """The shifts of ``role``."""
        shifts: list[Shift] = getattr(self, role)
        return shifts


class _OfficeShifts(_Model):
    @model_validator(mode="after")
    def _shares(self) -> _OfficeShifts:
        _check_role_shares(self, ALL_ROLES)
        return self

    def of(self, role: str) -> list[Shift] | None:
        """The office's own shifts of ``role``; None: the district's."""
        shifts: list[Shift] | None = getattr(self, role, None)
        return shifts


class _RoleMix(_Model):
    @model_validator(mode="after")
    def _sum(self) -> _RoleMix:
        _check_shares({r: self.of(r) for r in ROLES}, "role shares")
        return self

    def of(self, role: str) -> float:
        """The share of ``role`` in the staff."""
        return float(getattr(self, role))


if TYPE_CHECKING:  # the type checker reads them by ``of``
    RoleShifts = _RoleShifts
    OfficeShifts = _OfficeShifts
    RoleMix = _RoleMix
else:
    RoleShifts = per_role(
        "RoleShifts", _RoleShifts, lambda r: (list[Shift], _shift_list(default=True))
    )
    OfficeShifts = per_role(
        "OfficeShifts",
        _OfficeShifts,
        lambda r: (list[Shift] | None, _shift_list(default=False)),
        "One street office's own shift lists; a role left out keeps the district's list.",
    )
    RoleMix = per_role(
        "RoleMix",
        _RoleMix,
        lambda r: (float, Field(default=r.mix, ge=0, le=1)) if r.mix is not None else None,
    )


class Post(_Model):
    node: int | str
    count: int = Field(default=1, ge=1, le=10_000)


class _ExplicitPosts(_Model):
    def of(self, role: str) -> list[Post]:
        """The posts of ``role``."""
        posts: list[Post] = getattr(self, role)
        return posts


def _posts(role: RoleInfo) -> tuple[Any, Any]:
    # an optional role's count is of units ("police units")
    return list[Post], Field(
        default=[], max_length=100_000, description=role.plural if role.optional else None
    )


if TYPE_CHECKING:
    ExplicitPosts = _ExplicitPosts
else:
    ExplicitPosts = per_role(
        "ExplicitPosts",
        _ExplicitPosts,
        _posts,
        "Staff at named nodes (enforcer counts are teams); replaces density placement.",
    )


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

    def team_size(self, role: str) -> int:
        """People per unit of ``role`` (``<role>_team_size`` where the scenario sets it)."""
        size: int = getattr(self, f"{role}_team_size", BY_NAME[role].team_size)
        return size

    def per_office(self, role: str) -> int:
        """Units of a role posted on its own in each street office (``<role>_per_office``)."""
        n: int = getattr(self, f"{role}_per_office", 0)
        return n

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
