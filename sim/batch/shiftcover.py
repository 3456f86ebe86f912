"""Cover hourly staff needs with shifts: Dantzig's set-covering shift-scheduling programme.

Given the units needed on duty in each hour of a (cyclic) day and the shifts a planner
allows (start hours × lengths), choose how many units work each shift::

    minimise   Σ_s hours_s · x_s  (+ a tie-break of 1/1000 per unit: fewer people)
    subject to Σ_{s covers h} x_s ≥ need_h          for every hour h
               Σ_{s covers h} x_s ≥ night_cover     for every night hour h
               Σ_s x_s ≤ max_units                  (same headcount or fewer)
               x_s ≤ max_units · y_s,  Σ_s y_s ≤ max_kinds   (few distinct shifts)
               x_s ∈ {0, 1, 2, ...},  y_s ∈ {0, 1}

solved exactly by HiGHS through :func:`scipy.optimize.milp` (Dantzig 1954, "A comment
on Edie's 'Traffic delays at toll booths'"). A shift starting at hour ``s`` of length
``L`` covers hours ``s, s+1, ..., s+L−1`` (mod 24), so night shifts wrap past midnight.

With a limit on the kinds of shift the programme over every allowed shift is hard (HiGHS
rarely proves it within its node limit). It is therefore solved in two steps: without the
limit (fast, exact); if that plan uses more kinds than allowed, the limited programme over
only the shifts it uses (a few dozen, seconds). That choice of shifts is a heuristic: a
cheaper plan with other starts may exist. On Jinshui's hourly need it found plans as
cheap as or cheaper than HiGHS's best over all 96 shifts after 10 s (docs/shifts.md); the
programme over every shift is the fallback when the two steps find no plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TIE_BREAK = 1e-3  # per unit, far below one staff-hour: among equal staff-hours, fewer people
NODE_LIMIT = 20_000
"""Branch-and-bound nodes after which HiGHS stops with the best plan found (reported as
not proven optimal). A node count, not a wall-clock limit, so the plan never depends on
how busy the machine is: the same need gives the same plan. The programmes the optimiser
solves on Jinshui's need take at most about a thousand nodes (under a second); 20,000
is about 10 s of one core, the time limit this replaced."""
FEW_KINDS = 6
"""Kinds of shift per role a district can run (the optimiser's default ``max_kinds``).

Each kind is a team with its own roll call, briefing and handover (交接班) and its own
weekly roster to fill. Three shifts cover the day; staggered and extended hours (错时/延时)
add a mid-day and a late-evening one for the peaks and a sixth for an early or night
peak: Jinshui's own plan runs 4 advisor and 3 enforcer shifts, the night-market campaign 4.
Beyond about six a shift starts more often than every four hours, and a role of a hundred
people splits into teams of one or two; without a limit the optimiser uses twenty-odd."""


@dataclass(frozen=True)
class ShiftType:
    """A shift a planner allows: whole-hour start and length."""

    start: int  # hour of day, 0-23
    hours: int  # 1-23

    def covers(self) -> np.ndarray:
        """Hours of the day (0-23) this shift is on duty."""
        return (self.start + np.arange(self.hours)) % 24

    @property
    def clock(self) -> tuple[str, str]:
        """``("HH:00", "HH:00")`` as the scenario writes it (an end at midnight is 24:00)."""
        end = (self.start + self.hours) % 24
        return f"{self.start:02d}:00", f"{end or 24:02d}:00"


@dataclass(frozen=True)
class Cover:
    """A solved covering: units per shift type, or why there is none."""

    shifts: tuple[ShiftType, ...]
    units: np.ndarray  # int, per shift type
    feasible: bool
    message: str
    optimal: bool = True  # False: HiGHS hit its node limit; the best plan found is given

    @property
    def on_duty(self) -> np.ndarray:
        """Units on duty in each hour."""
        out = np.zeros(24, dtype=np.int64)
        for s, n in zip(self.shifts, self.units, strict=True):
            out[s.covers()] += int(n)
        return out

    @property
    def unit_hours(self) -> int:
        return int(sum(s.hours * int(n) for s, n in zip(self.shifts, self.units, strict=True)))

    @property
    def headcount(self) -> int:
        return int(self.units.sum())

    def used(self) -> list[tuple[ShiftType, int]]:
        """The shifts with anyone on them, in order of start."""
        return [(s, int(n)) for s, n in zip(self.shifts, self.units, strict=True) if n > 0]


def shift_types(starts: Sequence[int], lengths: Sequence[int]) -> tuple[ShiftType, ...]:
    """Every allowed (start, length) pair, without repeats."""
    return tuple(
        ShiftType(int(s), int(L)) for s in sorted(set(starts)) for L in sorted(set(lengths))
    )


def cover(
    need: Sequence[int],
    shifts: Sequence[ShiftType],
    *,
    night_hours: Sequence[int] = (),
    night_cover: int = 0,
    max_units: int | None = None,
    max_kinds: int | None = None,
) -> Cover:
    """The least unit-hours of ``shifts`` that put ``need[h]`` units on duty every hour.

    ``max_kinds`` bounds how many different shifts are used (a roster planners can run):
    the programme without it first; over the shifts that plan uses when it uses too many
    (see the module doc); over every shift, HiGHS's best within its node limit
    (``Cover.optimal`` False when not proven), when that finds no plan.
    """
    shifts = tuple(shifts)

    def solve(among: Sequence[ShiftType], kinds: int | None) -> Cover:
        return _solve(need, among, night_hours, night_cover, max_units, kinds)

    free = solve(shifts, None)
    if max_kinds is None or max_kinds >= len(shifts):
        return free
    used = [s for s, _ in free.used()]
    if not free.feasible or len(used) <= max_kinds:
        return free  # no plan at all, or one that already has few enough kinds
    few = solve(used, max_kinds)
    if few.feasible:
        at = {s: j for j, s in enumerate(shifts)}
        units = np.zeros(len(shifts), np.int64)
        for s, n in few.used():
            units[at[s]] = n
        return Cover(shifts, units, True, "", optimal=few.optimal)
    return solve(shifts, max_kinds)


def _solve(
    need: Sequence[int],
    shifts: Sequence[ShiftType],
    night_hours: Sequence[int],
    night_cover: int,
    max_units: int | None,
    max_kinds: int | None,
) -> Cover:
    """The covering programme itself, solved by HiGHS."""
    # deferred: scipy.optimize (HiGHS) is heavy and only the shift optimiser solves
    from scipy.optimize import Bounds, LinearConstraint, milp

    shifts = tuple(shifts)
    n = len(shifts)
    floor = np.asarray(need, dtype=float).copy()
    if len(floor) != 24:
        raise ValueError("need must give 24 hours")
    for h in night_hours:
        floor[h % 24] = max(floor[h % 24], night_cover)
    if n == 0:
        ok = not floor.any()
        return Cover(shifts, np.zeros(0, np.int64), ok, "" if ok else "no shifts allowed")
    a = np.zeros((24, n))
    for j, s in enumerate(shifts):
        a[s.covers(), j] = 1.0
    cost = np.array([s.hours for s in shifts], float) + TIE_BREAK
    kinds = max_kinds is not None and max_kinds < n
    m = 2 * n if kinds else n
    cost = np.concatenate([cost, np.zeros(m - n)])
    cover_rows = np.hstack([a, np.zeros((24, m - n))])
    constraints = [LinearConstraint(cover_rows, lb=floor, ub=np.inf)]
    if max_units is not None:
        constraints.append(
            LinearConstraint(
                np.concatenate([np.ones(n), np.zeros(m - n)])[None], lb=0, ub=max_units
            )
        )
    upper = np.full(m, np.inf)
    upper[:n] = [max(float(floor[s.covers()].max()), 0.0) for s in shifts]
    if kinds:
        # an optimal plan never puts more on a shift than the most any of its hours needs
        big = np.array([max(float(floor[s.covers()].max()), 1.0) for s in shifts])
        link = np.hstack([np.eye(n), -np.diag(big)])  # x_s ≤ big_s · y_s
        constraints.append(LinearConstraint(link, lb=-np.inf, ub=0))
        constraints.append(
            LinearConstraint(np.concatenate([np.zeros(n), np.ones(n)])[None], lb=0, ub=max_kinds)
        )
        upper[n:] = 1
    res = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(m),
        bounds=Bounds(0, upper),
        options={"node_limit": NODE_LIMIT, "mip_rel_gap": 1e-4},
    )
    if res.x is None or res.status not in (0, 1):
        uncovered = [h for h in range(24) if floor[h] > 0 and not a[h].any()]
        why = (
            f"no allowed shift covers hour(s) {', '.join(f'{h:02d}:00' for h in uncovered)}"
            if uncovered
            else f"no plan within {max_units} units covers the need"
            if max_units is not None
            else f"no plan with at most {max_kinds} different shifts covers the need"
            if kinds
            else str(res.message)
        )
        return Cover(shifts, np.zeros(n, np.int64), False, why)
    units = np.round(res.x[:n]).astype(np.int64)
    return Cover(shifts, units, True, "", optimal=res.status == 0)
