"""Staff placement and shifts: who is posted where, and who is on duty when.

Staff are placed per street office at a density per km², split into the three roles by
the scenario's mix, and posted on their own road sections: posts are spread evenly
along the office's streets (by road length, in space-filling-curve order), so every
part of the office has someone nearby. Enforcers form teams, and a team is one unit.
Police (optional) are a count per office, posted the same way. A roster file
(:mod:`sim.world.rosterfile`) posts the roles it lists instead, at the district's own
posts, each on its own shift or dealt to the role's shift lists. Every role of the
registry (:mod:`sim.roles`) gets a :class:`Units`, with no units when none are posted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sim.roles import ALL_ROLES, BY_NAME, OPTIONAL_ROLES
from sim.scenario import (
    ROLES,
    ExplicitPosts,
    Scenario,
    ScenarioError,
    Shift,
    Staff,
    clock_minutes,
)
from sim.world.areas import Areas
from sim.world.network import StreetNetwork
from sim.world.rosterfile import RosterPosts

GOLDEN = (math.sqrt(5) - 1) / 2
DAY = 1440.0
Windows = tuple[tuple[float, float], ...]  # (start, end) minutes of day; end <= start wraps


@dataclass(frozen=True, eq=False)
class ShiftPeriod:
    """Days ``[first_day, end_day)`` on which the units work another shift pattern.

    A shift belongs to the day it starts: one that starts on the period's last day and
    runs past midnight is worked to its end, and the ordinary night shift that started
    the evening before the period's first day is worked to its end too.
    """

    first_day: int
    end_day: int
    shift: np.ndarray  # index into ``shifts``, per unit
    shifts: Windows


@dataclass(frozen=True, eq=False)
class Units:
    """The dispatchable units of one role (a grid member, an advisor, an enforcer team, a
    police unit). ``shift``/``shifts`` are the ordinary pattern; ``periods`` replace it on
    some days (the campaign's shifts)."""

    role: str
    node: np.ndarray
    office: np.ndarray
    grid: np.ndarray
    shift: np.ndarray  # index into ``shifts``
    shifts: Windows
    people_per_unit: int = 1
    periods: tuple[ShiftPeriod, ...] = ()

    @property
    def n(self) -> int:
        return len(self.node)

    @property
    def people(self) -> int:
        return self.n * self.people_per_unit

    def on_duty(self, t: float) -> np.ndarray:
        """Which units are on shift at simulated minute ``t``."""
        if not self.n:
            return np.zeros(0, dtype=bool)
        if not self.periods:
            tod = t % DAY
            active = np.array([in_window(tod, s, e) for s, e in self.shifts], dtype=bool)
            ordinary: np.ndarray = active[self.shift]
            return ordinary
        day = math.floor(t / DAY)
        tod = t - day * DAY
        shift, shifts = self.pattern(day)
        started = np.array([(s <= tod < e) if s < e else tod >= s for s, e in shifts])
        y_shift, y_shifts = self.pattern(day - 1)
        carried = np.array([s >= e and tod < e for s, e in y_shifts])
        out: np.ndarray = started[shift] | carried[y_shift]
        return out

    def pattern(self, day: int) -> tuple[np.ndarray, Windows]:
        """The shift pattern (shift per unit, windows) of shifts starting on ``day``."""
        for p in self.periods:
            if p.first_day <= day < p.end_day:
                return p.shift, p.shifts
        return self.shift, self.shifts

    def boundaries(self) -> list[float]:
        """Minutes of the day at which some unit's shift starts or ends (any pattern)."""
        windows = [*self.shifts, *(w for p in self.periods for w in p.shifts)]
        marks = {s % DAY for s, _ in windows} | {e % DAY for _, e in windows}
        return sorted(marks)

    def with_period(self, first_day: int, end_day: int, shifts: list[Shift]) -> Units:
        """These units working ``shifts`` on days ``[first_day, end_day)`` (shares as usual)."""
        period = ShiftPeriod(
            first_day, end_day, _assign_shifts(self.n, shifts), shift_windows(shifts)
        )
        return replace(self, periods=(*self.periods, period))


@dataclass(frozen=True, eq=False)
class Roster:
    units: dict[str, Units]
    rostered: tuple[str, ...] = ()  # roles posted from the roster file (staff.roster)

    def __getitem__(self, role: str) -> Units:
        return self.units[role]

    def headcount(self) -> dict[str, int]:
        """People of the city-management staff roles (police not included)."""
        return {r: self.units[r].people for r in ROLES}

    def present(self) -> tuple[str, ...]:
        """The roles in play: every role, but an optional one only when posted."""
        return tuple(r for r in ALL_ROLES if r not in OPTIONAL_ROLES or self.units[r].n)

    def people_by_office(self, n_offices: int) -> dict[str, np.ndarray]:
        """Staff (people, not units) of each role in each street office."""
        return {
            r: np.bincount(u.office, minlength=n_offices) * u.people_per_unit
            for r, u in self.units.items()
        }


def in_window(tod: Any, start: float, end: float) -> Any:
    """Whether minute(s) of the day ``tod`` fall in [start, end), wrapping past midnight."""
    if start < end:
        return (start <= tod) & (tod < end)
    return (tod >= start) | (tod < end)


def shift_windows(shifts: list[Shift]) -> tuple[tuple[float, float], ...]:
    return tuple((clock_minutes(s.start), clock_minutes(s.end)) for s in shifts)


def hilbert_order(x: np.ndarray, y: np.ndarray, bits: int = 16) -> np.ndarray:
    """Indices that sort points along a Hilbert curve, so neighbours stay together."""
    side = (1 << bits) - 1
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)
    xi = ((x - x.min()) / span * side).astype(np.int64)
    yi = ((y - y.min()) / span * side).astype(np.int64)
    d = np.zeros(len(x), dtype=np.int64)
    s = 1 << (bits - 1)
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # rotate the quadrant so the curve stays continuous
        flip = ~ry
        swap_x = np.where(flip & rx, side - xi, xi)
        swap_y = np.where(flip & rx, side - yi, yi)
        xi, yi = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return np.argsort(d, kind="stable")


def _split(n: int, shares: dict[str, float]) -> dict[str, int]:
    """Whole numbers proportional to ``shares`` that sum to ``n`` (largest remainder)."""
    raw = {r: n * shares[r] for r in ROLES}
    out = {r: math.floor(v) for r, v in raw.items()}
    rest = n - sum(out.values())
    for r in sorted(ROLES, key=lambda r: (out[r] - raw[r], ROLES.index(r)))[:rest]:
        out[r] += 1
    return out


def _teams(counts: dict[str, int], size: int, want_advisor: bool) -> int:
    """Enforcer teams from the enforcers' headcount (rounded half up); advisors absorb the rest.

    A team is never formed at the cost of an office's only advisor.
    """
    teams = (counts["enforcer"] + size // 2) // size
    spare = counts["advisor"] + counts["enforcer"] - teams * size
    if teams and want_advisor and spare < 1:
        teams -= 1
        spare += size
    counts["advisor"] = max(spare, 0)
    return teams


def _assign_shifts(count: int, shifts: list[Shift]) -> np.ndarray:
    """Shift index per unit, matching the shares and well mixed along the post order."""
    cum = np.cumsum([s.share for s in shifts])
    cum[-1] = 1.0 + 1e-12
    return np.searchsorted(cum, (np.arange(1, count + 1) * GOLDEN) % 1.0, side="right")


def shares_for_counts(counts: list[int]) -> list[float]:
    """Shift shares (6 decimals, summing to 1) that :func:`_assign_shifts` turns into exactly
    ``counts`` units per shift, for ``sum(counts)`` units; shifts with no one are dropped.

    The shares put each boundary between the golden-ratio values of consecutive units.
    """
    n = sum(counts)
    marks = np.sort((np.arange(1, n + 1) * GOLDEN) % 1.0)
    upper = np.append(marks, 1.0)
    lower = np.insert(marks, 0, 0.0)
    cum = np.cumsum([c for c in counts if c > 0])
    bounds = [round(float((lower[k] + upper[k]) / 2), 6) for k in cum[:-1]] + [1.0]
    return [round(b - a, 6) for a, b in zip([0.0, *bounds[:-1]], bounds, strict=True)]


def place_staff(
    net: StreetNetwork, areas: Areas, staff: Staff, rostered: RosterPosts | None = None
) -> Roster:
    """Post staff over the network as the scenario asks; the roles ``rostered`` lists (from
    ``staff.roster``) are posted as the roster says, the others by density."""
    fields = ["shifts_by_office"] + (["per_km2_by_office"] if staff.posts is None else [])
    unknown = [
        f"staff.{field}.{name}: no street office of that name on the map"
        for field in fields
        for name in sorted(set(getattr(staff, field)) - set(areas.office_names))
    ]
    if unknown:
        raise ScenarioError(unknown)
    if staff.posts is not None:
        return _explicit(net, areas, staff, staff.posts)
    skip = rostered.roles if rostered is not None else ()
    return _roster(areas, staff, _by_density(net, areas, staff, skip), rostered)


def _by_density(
    net: StreetNetwork, areas: Areas, staff: Staff, skip: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Post nodes of each role but ``skip``, spread along each office's streets by density."""
    weights = net.node_weights()
    order = hilbert_order(net.x, net.y)
    office_sorted = order[np.argsort(areas.node_office[order], kind="stable")]
    bounds = np.searchsorted(
        areas.node_office[office_sorted], np.arange(len(areas.office_names) + 1)
    )
    mix = {r: staff.mix.of(r) for r in ROLES}
    nodes: dict[str, list[np.ndarray]] = {r: [] for r in ALL_ROLES}
    for k, name in enumerate(areas.office_names):
        density = staff.per_km2_by_office.get(name, staff.per_km2)
        people = math.ceil(density * areas.office_km2[k] - 1e-9)
        counts = _split(people, mix)
        counts["enforcer"] = _teams(counts, staff.team_size("enforcer"), mix["advisor"] > 0)
        counts.update({r: staff.per_office(r) for r in ALL_ROLES if r not in counts})
        members = office_sorted[bounds[k] : bounds[k + 1]]
        cum = np.cumsum(weights[members])
        total = cum[-1] if len(cum) else 0.0
        for role in ALL_ROLES:
            n = counts[role]
            if n == 0 or total <= 0 or role in skip:
                continue
            at = (np.arange(n) + BY_NAME[role].post_offset) / n * total
            nodes[role].append(members[np.minimum(np.searchsorted(cum, at), len(members) - 1)])
    return {r: np.concatenate(nodes[r]) if nodes[r] else np.zeros(0, np.int64) for r in ALL_ROLES}


def _explicit(net: StreetNetwork, areas: Areas, staff: Staff, posts: ExplicitPosts) -> Roster:
    problems = []
    nodes: dict[str, np.ndarray] = {}
    for role in ALL_ROLES:
        entries = posts.of(role)
        idx = []
        for i, p in enumerate(entries):
            if not net.has(p.node):
                problems.append(f"staff.posts.{role}[{i}].node: no node {p.node!r} on the map")
                continue
            idx += [net.index_of(p.node)] * p.count
        nodes[role] = np.array(idx, dtype=np.int64)
    if problems:
        raise ScenarioError(problems)
    return _roster(areas, staff, nodes)


def _roster(
    areas: Areas,
    staff: Staff,
    nodes: dict[str, np.ndarray],
    rostered: RosterPosts | None = None,
) -> Roster:
    units = {}
    for role in ALL_ROLES:
        node, office, fixed = nodes[role], areas.node_office[nodes[role]], None
        if rostered is not None and role in rostered.roles:
            node, office, fixed = rostered.node[role], rostered.office[role], rostered.window[role]
        shift, windows = _role_shifts(areas, staff, role, office, fixed)
        units[role] = Units(
            role=role,
            node=node,
            office=office,
            grid=areas.node_grid[node],
            shift=shift,
            shifts=windows,
            people_per_unit=staff.team_size(role),
        )
    return Roster(units, rostered.roles if rostered is not None else ())


def _role_shifts(
    areas: Areas,
    staff: Staff,
    role: str,
    office: np.ndarray,
    fixed: list[tuple[float, float] | None] | None,
) -> tuple[np.ndarray, Windows]:
    """Shift index per unit and the role's windows. Units with a ``fixed`` window (a
    roster's own shift) work it; the others are dealt to the role's shift lists."""
    free = np.array([w is None for w in fixed], dtype=bool) if fixed else np.ones(len(office), bool)
    shift = np.zeros(len(office), dtype=np.int64)
    shift[free], windows = _office_shifts(areas, staff, role, office[free])
    own = sorted({w for w in fixed or () if w is not None})
    for k, w in enumerate(fixed or ()):
        if w is not None:
            shift[k] = len(windows) + own.index(w)
    return shift, windows + tuple(own)


def _office_shifts(
    areas: Areas, staff: Staff, role: str, office: np.ndarray
) -> tuple[np.ndarray, tuple[tuple[float, float], ...]]:
    """Shift index per unit and the role's windows: the district's list, then each office's own.

    The district's list is assigned over all the role's units as if no office had its own,
    so an office's own list changes the shifts of its units only.
    """
    district = staff.shifts.of(role)
    shift = _assign_shifts(len(office), district)
    windows = shift_windows(district)
    for name, own in staff.shifts_by_office.items():
        lst = own.of(role)
        here = office == areas.office_names.index(name)
        if lst is None or not here.any():
            continue
        shift[here] = _assign_shifts(int(here.sum()), lst) + len(windows)
        windows += shift_windows(lst)
    return shift, windows


def coverage_gaps(roster: Roster) -> dict[str, list[int]]:
    """Hours of the day (0-23) in which a role has nobody on duty."""
    gaps: dict[str, list[int]] = {}
    for role in ALL_ROLES:
        u = roster[role]
        if u.n == 0:
            continue
        hours = [
            h
            for h in range(24)
            if not any(u.on_duty(h * 60.0 + m).any() for m in (0.0, 30.0, 59.0))
        ]
        if hours:
            gaps[role] = hours
    return gaps


# ------------------------------------------------------------------ the campaign's shifts


def campaign_days(scenario: Scenario) -> tuple[int, int]:
    """The 归零 campaign's first day and the day after its last (days of the run, from 0)."""
    c = scenario.enforcement.campaign
    first = math.floor(c.start_day + scenario.duration.warmup_hours / 24.0)
    return first, first + math.ceil(c.days)


def campaign_shifts(scenario: Scenario) -> list[Shift] | None:
    """The enforcer shifts of the campaign's days, when a running campaign has its own."""
    c = scenario.enforcement.campaign
    return c.enforcer_shifts if scenario.enforcement.enabled and c.enabled else None


def with_campaign_shifts(roster: Roster, scenario: Scenario) -> Roster:
    """The roster with the campaign's enforcer shifts on the campaign's days.

    Shifts that start on a campaign day follow ``enforcement.campaign.enforcer_shifts``,
    those on other days the ordinary ``staff.shifts.enforcer`` (:class:`ShiftPeriod`).
    """
    shifts = campaign_shifts(scenario)
    units = roster["enforcer"]
    if shifts is None or units.periods:
        return roster
    periods = units.with_period(*campaign_days(scenario), shifts)
    return Roster({**roster.units, "enforcer": periods}, roster.rostered)
