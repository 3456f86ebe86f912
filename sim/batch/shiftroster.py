"""A shift plan in the scenario's own terms, and the plan beside the scenario's own.

The covering programme (:mod:`sim.batch.shiftcover`) gives units per shift; the
scenario gives each role shift *shares* of a headcount that comes from the density and
role mix. :func:`plan_overrides` writes a cover as scenario overrides (shares that place
exactly the planned units on each shift, and a density and mix that give each role its
units while grid members keep their number) and places the roster they make;
:func:`compare` sets the plan beside the scenario's own, hour by hour and per role.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.hour_verdicts import CLOCKS, HourVerdicts
from sim.batch.shiftcover import Cover, ShiftType
from sim.batch.shiftneed import HourlyNeed, units_on_duty
from sim.engine.campaign import campaign_shifts
from sim.roles import BY_NAME
from sim.scenario import ROLES, Scenario, with_overrides
from sim.world.staff import place_staff, shares_for_counts

# the staff role whose number a smaller plan keeps: the one never dispatched (grid members)
_KEPT = next(r for r in ROLES if not BY_NAME[r].dispatched)

if TYPE_CHECKING:
    import pandas as pd

    from sim.world.build import World
    from sim.world.staff import Roster, Units


def _window_hours(units: Units) -> np.ndarray:
    """Length in hours of each of a role's shift windows."""
    return np.array([((e - s) % 1440.0 or 1440.0) / 60.0 for s, e in units.shifts])


def staff_hours(units: Units) -> float:
    """Staff-hours per day of a role (people, not teams)."""
    if not units.n:
        return 0.0
    counts = np.bincount(units.shift, minlength=len(units.shifts))
    return float((counts * _window_hours(units)).sum() * units.people_per_unit)


def _entries(used: list[tuple[ShiftType, int]]) -> list[dict[str, Any]]:
    """Shift entries whose shares place exactly the given units on each shift."""
    shares = shares_for_counts([n for _, n in used])
    return [
        {"start": s.clock[0], "end": s.clock[1], "share": share}
        for (s, _), share in zip(used, shares, strict=True)
    ]


def _spread(c: Cover, units: int) -> Cover:
    """The cover with ``units`` in all, the extra spread like the plan (largest remainder)."""
    have = c.units.astype(float)
    if units <= c.headcount or not have.sum():
        return c
    raw = have / have.sum() * units
    out = np.floor(raw).astype(np.int64)
    for j in np.argsort(out - raw, kind="stable")[: units - int(out.sum())]:
        out[j] += 1
    return Cover(c.shifts, out, c.feasible, c.message)


def shifts_key(scenario: Scenario, role: str) -> str:
    """Where a role's shift list is in force: the campaign's enforcer shifts replace the
    staff's while the campaign runs (:func:`sim.engine.campaign.staffed`), so an enforcer
    plan for a campaign scenario is written there."""
    if role == "enforcer" and campaign_shifts(scenario) is not None:
        return "enforcement.campaign.enforcer_shifts"
    return f"staff.shifts.{role}"


def in_force(scenario: Scenario) -> Scenario:
    """The scenario with the enforcer shifts of the campaign's days as its staff's.

    A campaign's ``enforcer_shifts`` hold on its days only (:func:`sim.engine.campaign.staffed`);
    the optimiser judges a plan on measured days, which are campaign days when the
    campaign starts with the run (its ``start_day`` 0, as in the shipped scenario), so it
    plans, places and compares with the campaign's shifts. It also *simulates* this
    scenario: with the campaign's shifts worked in the warm-up too, a measured day is a
    campaign day after a campaign day, as on 89 of its 90 days. On its first day only, the
    evening before worked the ordinary shifts: the campaign's evening shift past midnight
    was not worked, and the ordinary shift starting at 00:00 gives way to the campaign's,
    so the small hours may have nobody — a hand-over to arrange once, not a daily roster
    to pay for.
    """
    shifts = campaign_shifts(scenario)
    if shifts is None:
        return scenario
    return with_overrides(scenario, {"staff.shifts.enforcer": [s.model_dump() for s in shifts]})


def placed(world: World, scenario: Scenario) -> Roster:
    """The roster ``scenario`` places on ``world``'s map, with the shifts in force."""
    return place_staff(world.net, world.areas, in_force(scenario).staff)


def _headcount_overrides(
    base: Scenario, world: World, want: Mapping[str, int]
) -> tuple[dict[str, Any], Roster]:
    """Density and mix overrides that give each role at least ``want`` units, grid kept."""
    roster = world.roster
    now = {r: roster[r].n for r in ROLES}
    if base.staff.posts is not None or all(want[r] == now[r] for r in want):
        return {}, placed(world, base)
    ppu = {r: roster[r].people_per_unit for r in ROLES}
    people = {r: now[r] * ppu[r] for r in ROLES}
    total_now = sum(people.values())
    aim = dict(people) | {r: want[r] * ppu[r] for r in want}
    over: dict[str, Any] = {}
    new_roster = roster
    for _ in range(12):
        total = sum(aim.values())
        f = total / total_now
        mix = {r: round(aim[r] / total, 6) for r in ROLES}
        left = 1.0  # grid members (the role not dispatched) take what the others leave
        for r in ROLES:
            if r != _KEPT:
                left -= mix[r]
        mix[_KEPT] = round(left, 6)
        over = {
            "staff.mix": mix,
            "staff.per_km2": math.ceil(base.staff.per_km2 * f * 1e4) / 1e4,
            "staff.per_km2_by_office": {
                o: math.ceil(d * f * 1e4) / 1e4 for o, d in base.staff.per_km2_by_office.items()
            },
        }
        sc = with_overrides(base, over)
        new_roster = placed(world, sc)
        short = {r: want[r] - new_roster[r].n for r in want}
        if all(v <= 0 for v in short.values()):
            break
        for r, v in short.items():
            if v > 0:
                aim[r] += v * ppu[r]
    return over, new_roster


def plan_overrides(
    base: Scenario, world: World, covers: Mapping[str, Sequence[Cover]], same_headcount: bool
) -> tuple[dict[str, Any], Roster]:
    """Scenario overrides for the district's covers (one per role), and the roster they place."""
    want = {r: c[0].headcount for r, c in covers.items()}
    if same_headcount or base.staff.posts is not None:
        want = {r: max(world.roster[r].n, want[r]) for r in covers}
    over, roster = _headcount_overrides(base, world, want)
    for r, c in covers.items():
        # placement rounds per office, so a role may get a unit or two more than asked
        over[shifts_key(base, r)] = _entries(_spread(c[0], roster[r].n).used())
    return over, placed(world, with_overrides(base, over))


def plan_by_office(
    base: Scenario, world: World, covers: Mapping[str, Sequence[Cover]], same_headcount: bool
) -> tuple[dict[str, Any], Roster]:
    """Scenario overrides for one cover per street office and role, and the roster they place.

    The headcount is placed as the schema has it, by one mix and a density per office: the
    mix and district density are set for the district's sum (grid members keep their
    number), then an office still short of a role's units gets its density raised, grid
    members there with it. An office whose need is light for its area keeps spare units,
    spread over its plan's shifts like the district plan's.
    """
    names = world.areas.office_names
    today = {r: np.bincount(world.roster[r].office, minlength=len(names)) for r in covers}
    want = {r: np.array([c.headcount for c in covers[r]]) for r in covers}
    if same_headcount:
        want = {r: np.maximum(today[r], want[r]) for r in covers}
    over, roster = _headcount_overrides(base, world, {r: int(want[r].sum()) for r in covers})
    dens = dict(over.get("staff.per_km2_by_office", base.staff.per_km2_by_office))
    district = float(over.get("staff.per_km2", base.staff.per_km2))
    for _ in range(30):
        have = {r: np.bincount(roster[r].office, minlength=len(names)) for r in covers}
        short = [k for k in range(len(names)) if any(have[r][k] < want[r][k] for r in covers)]
        if not short:
            break
        for k in short:
            d = dens.get(names[k], district)
            f = max(want[r][k] / max(have[r][k], 1) for r in covers)
            # at least one more person, so a small office does not stall on rounding
            step = max(d * f, d + 1.0 / float(world.areas.office_km2[k]))
            dens[names[k]] = math.ceil(step * 1e4) / 1e4
        over["staff.per_km2_by_office"] = dens
        roster = placed(world, with_overrides(base, over))
    by_office: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(names):
        for r in covers:
            n = int((roster[r].office == k).sum())
            used = _spread(covers[r][k], n).used()
            if n and used:  # no unit planned at all: the district's list stays
                by_office.setdefault(name, {})[r] = _entries(used)
    over["staff.shifts_by_office"] = by_office
    return over, placed(world, with_overrides(base, over))


def compare(
    world: World,
    roster: Roster,
    roles: Sequence[str],
    needs: Mapping[str, HourlyNeed],
    want: Mapping[str, np.ndarray],
    old: HourVerdicts,
    new: HourVerdicts,
    by_office: bool = False,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """The hourly table and the per-role totals of the own plan and the new one."""
    import pandas as pd  # deferred: pandas loads only when a table is made

    rows: list[dict[str, Any]] = []
    duty = {r: (units_on_duty(world.roster[r]), units_on_duty(roster[r])) for r in ROLES}
    for h in range(24):
        row: dict[str, Any] = {"hour": f"{h:02d}:00"}
        for r in roles:
            row[f"{r}.need"] = int(want[r][h])
            row[f"{r}.need_model"] = int(needs[r].need[h])
            row[f"{r}.load"] = round(float(needs[r].load[h]), 3)
            row[f"{r}.on_duty_old"] = round(float(duty[r][0][h]), 2)
            row[f"{r}.on_duty_new"] = round(float(duty[r][1][h]), 2)
        for clock in CLOCKS.values():
            for tag, ev in (("old", old), ("new", new)):
                row[f"{clock}.{tag}"] = _f(ev.mean[clock][h])
                row[f"{clock}.{tag}.lower"] = _f(ev.lower[clock][h])
                row[f"{clock}.{tag}.meets"] = bool(ev.passes[clock][h])
                row[f"{clock}.{tag}.status"] = str(ev.status[clock][h])
                row[f"{clock}.{tag}.requests"] = int(ev.count[clock][h])
        rows.append(row)
    roles_out: dict[str, dict[str, Any]] = {}
    for r in ROLES:
        before, after = world.roster[r], roster[r]
        roles_out[r] = {
            "planned": r in roles,
            "unit": "team" if before.people_per_unit > 1 else "person",
            "people_per_unit": before.people_per_unit,
            "old": {
                "units": before.n,
                "staff": before.people,
                "staff_hours": round(staff_hours(before), 2),
                "shifts": _windows(before),
            },
            "new": {
                "units": after.n,
                "staff": after.people,
                "staff_hours": round(staff_hours(after), 2),
                "shifts": _windows(after),
            },
        }
        if by_office:
            roles_out[r]["new"]["by_office"] = {
                name: _windows(after, k) for k, name in enumerate(world.areas.office_names)
            }
    return pd.DataFrame(rows), roles_out


def _windows(units: Units, office: int | None = None) -> list[dict[str, Any]]:
    """The role's shifts with the units on each (of one office's), in order of start.

    Windows listed twice (the district's list and offices' own) are one; a window nobody
    works (the district's list where every office has its own) is left out.
    """
    shift = units.shift if office is None else units.shift[units.office == office]
    counts = np.bincount(shift, minlength=len(units.shifts))
    hours = _window_hours(units)
    merged: dict[tuple[float, float], int] = {}
    for k, (s, e) in enumerate(units.shifts):
        merged[(s, e)] = merged.get((s, e), 0) + int(counts[k])
    length = dict(zip(units.shifts, hours, strict=True))
    out = []
    for (s, e), n in sorted(merged.items()):
        if not n and units.n:
            continue
        end = e if e else 1440.0
        out.append(
            {
                "start": f"{int(s) // 60:02d}:{int(s) % 60:02d}",
                "end": f"{int(end) // 60:02d}:{int(end) % 60:02d}",
                "hours": float(length[(s, e)]),
                "units": n,
            }
        )
    return out


def _f(x: float) -> float | None:
    return None if not math.isfinite(float(x)) else round(float(x), 6)
