"""The roles: every kind of unit the model knows, declared once.

Plain data at the bottom layer, so the scenario schema, staff placement, the engine's
crews and record columns, and the measures all read the same list:

- ``grid`` members (网格员) walk their grid and find problems; they are never dispatched.
- ``advisor`` (劝导员): sent on the first double-ten clock to persuade.
- ``enforcer`` teams (执法队): sent on the second clock when persuasion fails.
- ``police`` (公安警务室): optional; sent when an enforcement meets violent resistance.

Adding a role is one :class:`RoleInfo` here (its per-role scenario fields follow from it)
and the stages that request and release it; giving a dispatched role a response
:class:`Clock` is one more field of its entry, which brings its deadline in the rules, its
clock in the measures, utilisation and load, the printed summary and the sweep columns
(``docs/architecture.md``, "How to add a role").
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

Mode = Literal["walk", "ebike", "car"]


@dataclass(frozen=True)
class Clock:
    """A role's response clock: from the moment an incident asks for a unit to its arrival.

    ``starts`` is the record column holding the minute the clock starts; ``asks`` the
    record column that says which incidents ask for a unit, a flag or a minute (those
    where it is set), or None for every incident. The deadline is the scenario's
    ``rules.<role>_minutes``, ``minutes`` by default; the double ten is met when every
    clock an incident started was. ``words`` name who is on scene when it stops
    ("enforcers after failed persuasion"), ``short`` the clock in table headers;
    ``count`` is the measure counting the incidents that asked (default
    ``<role>_requests``), ``counted`` its label. ``waits_for``: a role whose unit this
    role's unit waits for on scene when the incident asks for it (its load says how long).
    """

    starts: str
    minutes: float = 10.0
    asks: str | None = None
    words: str = ""
    short: str = ""
    count: str = ""
    counted: str = ""
    waits_for: str | None = None


@dataclass(frozen=True)
class RoleInfo:
    """One role.

    ``mix`` is the default share of the density-placed city-management staff, or None for
    a role posted on its own (police). ``clock``: dispatched under a response clock
    (:class:`Clock`; the double ten's two). ``dispatched``: units are sent to incidents (a
    crew in the engine). ``optional``:
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
    clock: Clock | None = None
    optional: bool = False
    unit_column: str = ""
    prefix: str = ""
    post_offset: float = 0.5  # where along an office's streets its evenly spaced posts start
    people: str = ""  # its people in words, plural (default ``plural``): "enforcers"
    colour: str = "#555555"  # its units in pictures (the replay's riders and posts)
    marker: Literal["o", "^", "s", "D"] = "o"  # and their shape: circle, triangle, square, diamond

    def __post_init__(self) -> None:
        object.__setattr__(self, "people", self.people or self.plural)
        if self.dispatched:
            object.__setattr__(self, "unit_column", self.unit_column or self.name)
            object.__setattr__(self, "prefix", self.prefix or self.name)
        if self.clock is not None:
            if not self.dispatched:
                raise ValueError(f"role {self.name}: only a dispatched role has a clock")
            c = self.clock
            named = Clock(
                c.starts,
                c.minutes,
                c.asks,
                c.words or f"{self.name} on scene",
                c.short or self.name,
                c.count or f"{self.name}_requests",
                c.counted or f"incidents asking for {self.plural}",
                c.waits_for,
            )
            object.__setattr__(self, "clock", named)

    @property
    def clocked(self) -> bool:
        """Dispatched under a response clock."""
        return self.clock is not None

    @property
    def singular(self) -> str:
        """One unit in words: ``enforcer team``."""
        return self.plural.removesuffix("s")

    @property
    def arrived(self) -> str:
        """The record column of the minute its unit arrived (a dispatched role)."""
        return f"{self.prefix}_arrived"


REGISTRY: tuple[RoleInfo, ...] = (
    RoleInfo("grid", "grid members", "网格员", 0.4, 1, "walk", False, post_offset=0.5,
             colour="#7f7f7f"),
    RoleInfo(
        "advisor", "advisors", "劝导员", 0.35, 1, "ebike", True, post_offset=0.25,
        colour="#0b4f9c", marker="^",
        clock=Clock("instructed", 10.0, words="advisor on scene", short="advisor",
                    count="incidents", counted="instructions measured", waits_for="enforcer"),
    ),
    RoleInfo(
        "enforcer", "enforcer teams", "执法队", 0.25, 2, "ebike", True,
        unit_column="enforcer_team", post_offset=0.75, people="enforcers",
        colour="#111111", marker="s",
        clock=Clock("persuasion_ended", 10.0, asks="escalated", short="enforcers",
                    words="enforcers after failed persuasion", count="escalated",
                    counted="instructions escalated to enforcers"),
    ),
    RoleInfo("police", "police units", "公安警务室", None, 2, "car", True, optional=True,
             colour="#6a3d9a", marker="D"),
)  # fmt: skip


Lists = tuple[
    dict[str, RoleInfo],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, ...],
]


def lists(registry: tuple[RoleInfo, ...]) -> Lists:
    """What every layer reads of a registry: by name, all roles, the staff mix's (placed by
    density and split by the mix), the dispatched, the clocked (in clock order: the double
    ten's first and second) and the optional ones."""
    return (
        {r.name: r for r in registry},
        tuple(r.name for r in registry),
        tuple(r.name for r in registry if r.mix is not None),
        tuple(r.name for r in registry if r.dispatched),
        tuple(r.name for r in registry if r.clocked),
        tuple(r.name for r in registry if r.optional),
    )


BY_NAME, ALL_ROLES, STAFF_ROLES, DISPATCHED_ROLES, CLOCKED_ROLES, OPTIONAL_ROLES = lists(REGISTRY)


def use(registry: tuple[RoleInfo, ...]) -> None:
    """Put ``registry`` in place of :data:`REGISTRY`, to try a role out: before any other
    module of sim is imported, as each reads the registry once, when it is imported."""
    loaded = sorted(m for m in sys.modules if m.startswith("sim.") and m != __name__)
    if loaded:
        raise RuntimeError(f"use() before importing the rest of sim ({', '.join(loaded)})")
    global REGISTRY, BY_NAME, ALL_ROLES, STAFF_ROLES, DISPATCHED_ROLES, CLOCKED_ROLES
    global OPTIONAL_ROLES
    REGISTRY = registry
    BY_NAME, ALL_ROLES, STAFF_ROLES, DISPATCHED_ROLES, CLOCKED_ROLES, OPTIONAL_ROLES = lists(
        registry
    )
