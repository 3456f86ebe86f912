"""The roles: every kind of unit the model knows, declared once.

Plain data at the bottom layer, so the scenario schema, staff placement, the engine's
crews and record columns, and the measures all read the same list:

- ``grid`` members (网格员) walk their grid and find problems; they are never dispatched.
- ``advisor`` (劝导员): sent on the first double-ten clock to persuade.
- ``enforcer`` teams (执法队): sent on the second clock when persuasion fails.
- ``police`` (公安警务室): optional; sent when an enforcement meets violent resistance.

Adding a role is one :class:`RoleInfo` here, its fields in the scenario schema (a test
checks they match this list), and the stages that request and release it
(``docs/architecture.md``, "How to add a role").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["walk", "ebike", "car"]


@dataclass(frozen=True)
class RoleInfo:
    """One role.

    ``mix`` is the default share of the density-placed city-management staff, or None for
    a role posted on its own (police). ``clocked``: dispatched under a double-ten clock.
    ``dispatched``: units are sent to incidents (a crew in the engine). ``optional``:
    absent unless the scenario posts some (its measures and record columns appear only
    then). ``unit_column`` and ``prefix`` name its record columns: ``<unit_column>`` (the
    unit sent), ``<prefix>_dispatched``, ``<prefix>_arrived``, ``<prefix>_released``.
    """

    name: str
    plural: str
    name_zh: str
    mix: float | None
    team_size: int
    mode: Mode
    dispatched: bool
    clocked: bool
    optional: bool = False
    unit_column: str = ""
    prefix: str = ""
    post_offset: float = 0.5  # where along an office's streets its evenly spaced posts start

    def __post_init__(self) -> None:
        if self.dispatched:
            object.__setattr__(self, "unit_column", self.unit_column or self.name)
            object.__setattr__(self, "prefix", self.prefix or self.name)


REGISTRY: tuple[RoleInfo, ...] = (
    RoleInfo("grid", "grid members", "网格员", 0.4, 1, "walk", False, False, post_offset=0.5),
    RoleInfo("advisor", "advisors", "劝导员", 0.35, 1, "ebike", True, True, post_offset=0.25),
    RoleInfo(
        "enforcer",
        "enforcer teams",
        "执法队",
        0.25,
        2,
        "ebike",
        True,
        True,
        unit_column="enforcer_team",
        post_offset=0.75,
    ),
    RoleInfo("police", "police units", "公安警务室", None, 2, "car", True, False, optional=True),
)
BY_NAME: dict[str, RoleInfo] = {r.name: r for r in REGISTRY}

ALL_ROLES: tuple[str, ...] = tuple(r.name for r in REGISTRY)
# the city-management staff: placed by density and split by the mix
STAFF_ROLES: tuple[str, ...] = tuple(r.name for r in REGISTRY if r.mix is not None)
DISPATCHED_ROLES: tuple[str, ...] = tuple(r.name for r in REGISTRY if r.dispatched)
CLOCKED_ROLES: tuple[str, ...] = tuple(r.name for r in REGISTRY if r.clocked)
OPTIONAL_ROLES: tuple[str, ...] = tuple(r.name for r in REGISTRY if r.optional)
