"""Shift-plan optimiser (错时/延时): when staff work, not only how many there are.

This is the Python API behind ``python -m sim optimize SCENARIO --shifts``::

    import sim
    from sim.batch.shiftplan import optimize_shifts
    result = optimize_shifts(sim.load_scenario("scenarios/jinshui.yaml"), days=1)

For each dispatched role (advisors; enforcer teams) it chooses shift starts, lengths
(8 h, and 10–12 h extended hours by default) and the staff on each shift so that every
hour of the day meets the target on the role's clock with the fewest staff-hours:

1. **Need per hour** (:mod:`sim.batch.shiftneed`): a pilot simulation of the scenario as
   written gives request rates, service times and response legs by hour; a lagged
   Erlang C model with a square-root travel law turns them into units needed per hour.
2. **Cover** (:mod:`sim.batch.shiftcover`): a set-covering integer programme picks the
   cheapest shifts that put the need on duty every hour, within the planner's rules
   (allowed starts and lengths, a night cover, the same headcount or fewer).
3. **Check and correct by simulation**: the plan is simulated with replications (the
   same seeds as the scenario's own plan: common random numbers). Each hour's on-time
   share pools its requests over the replications, with a one-sided ``confidence``
   bound that treats replications as clusters (:func:`share_bound`). Undecided hours
   get more replications (sequential sampling, up to ``max_replications``); hours
   below target have their need raised, hours far above it lowered down to where they
   last failed, and the cover is solved again. The answer is the cheapest plan whose
   every hour met the target.

A role's plan is written as shares of its headcount (``staff.shifts``), the form the
scenario has; a smaller headcount is reached by lowering the density and shifting the
role mix so that grid members keep their number. Runs are stored like a sweep's (the
:class:`~sim.batch.sweeps.Executor` and its run store), and the pilot's statistics are kept
in the folder too, so an interrupted optimisation resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import numpy as np

from sim.batch.options import OPTIMIZE, BatchFields, BatchOptions
from sim.batch.shiftcover import Cover, ShiftType, cover, shift_types
from sim.batch.shiftneed import (
    METHODS,
    SHIFT_ROLES,
    HourlyNeed,
    RoleStats,
    hourly_need,
    pilot_stats,
    units_on_duty,
)
from sim.batch.sweeps import Executor, run_key
from sim.output.folders import open_batch
from sim.runner import prepare, simulate
from sim.scenario import (
    ROLES,
    Scenario,
    ScenarioError,
    resolve_scenario,
    set_by_path,
    with_overrides,
)

if TYPE_CHECKING:
    import pandas as pd

    from sim.world.build import World
    from sim.world.staff import Roster, Units

Log = Callable[[str], None]
CLOCKS = {"advisor": "advisor_on_time", "enforcer": "enforcer_on_time"}
NIGHT_HOURS: tuple[int, ...] = (22, 23, 0, 1, 2, 3, 4, 5)
PILOT_FORMAT = "chengguan-sim/shift-pilot-1"
SHIFT_FILES = (
    "runs",
    "shift_pilot.json",
    "shifts.json",
    "shifts.csv",
    "shifts.txt",
    "shift_staff.png",
    "shift_on_time.png",
)
"""What the shift optimiser writes into its folder, besides the scenario it writes."""


@dataclass
class ShiftResult:
    """The optimised shift plan, the scenario that uses it and the comparison."""

    scenario: Scenario  # the scenario as given, with the new staff section
    overrides: dict[str, Any]  # what changed in the scenario (dotted keys)
    hours: pd.DataFrame  # 24 rows: need, staff on duty and on-time shares, old and new
    roles: dict[str, dict[str, Any]]  # per role: shifts, headcount, staff-hours, old and new
    meta: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    scenario_file: Path | None = None


PASS, SHORT, OPEN, OPEN_BELOW, NO_DATA = "pass", "short", "open", "open below", "no data"
FAR_ABOVE = 0.5
"""An hour whose lower bound is this far from the target towards 100% may lose units."""


def share_bound(
    ok: Sequence[float] | np.ndarray, n: Sequence[float] | np.ndarray, confidence: float
) -> tuple[float | None, float | None]:
    """Pooled on-time share of an hour and its one-sided ``confidence`` lower bound.

    ``ok[k]`` of ``n[k]`` requests were on time in replication ``k``. The share pools
    every request (a ratio estimator: busy replications weigh more, and replications
    without a request in the hour cost nothing). Requests of one replication are not
    independent (one queue makes several late), so the replications are the clusters:
    the design effect ``deff`` is the cluster-robust variance of the ratio over the
    binomial one (at least 1), and the bound is Wilson's score bound for ``N / deff``
    requests with Student's t quantile on ``K − 1`` degrees of freedom, ``K`` the
    replications. Unlike a normal bound it does not collapse to 100% when every
    request of a small sample was on time (3 of 3 gives about 50%, not 100%).
    The bound is None with fewer than two replications with a request.
    """
    from scipy.special import stdtrit

    o, m = np.asarray(ok, float), np.asarray(n, float)
    total = float(m.sum())
    if total <= 0:
        return None, None
    p = float(o.sum()) / total
    k = len(m)
    if int((m > 0).sum()) < 2:
        return p, None
    z = float(stdtrit(k - 1, confidence))
    v_cluster = k / (k - 1) * float(((o - p * m) ** 2).sum()) / total**2
    v_binom = p * (1.0 - p) / total
    n_eff = total * min(1.0, v_binom / v_cluster) if v_cluster > 0 and v_binom > 0 else total
    z2 = z * z
    centre = p + z2 / (2 * n_eff)
    half = z * math.sqrt(p * (1.0 - p) / n_eff + z2 / (4 * n_eff**2))
    return p, max(0.0, (centre - half) / (1.0 + z2 / n_eff))


@dataclass(frozen=True)
class HourVerdicts:
    """On-time shares by hour, pooled over replications, per clock (arrays of 24)."""

    replications: int
    mean: dict[str, np.ndarray]
    lower: dict[str, np.ndarray]
    count: dict[str, np.ndarray]  # requests pooled over the replications
    # PASS (lower bound on target); SHORT (upper bound below it); undecided: OPEN (mean on
    # target) or OPEN_BELOW (mean below); NO_DATA
    status: dict[str, np.ndarray]
    overall: dict[str, float | None]

    @property
    def passes(self) -> dict[str, np.ndarray]:
        """Hours that meet the target (no request at all: nothing to hold against the plan)."""
        return {c: np.isin(s, (PASS, NO_DATA)) for c, s in self.status.items()}


_COUNTS = {"advisor_on_time": "incidents", "enforcer_on_time": "escalated"}


def judge_hours(
    records: Sequence[Mapping[str, Any]], target: float, confidence: float
) -> HourVerdicts:
    """Each hour's pooled on-time share, lower bound and verdict on both clocks.

    ``records`` are runs as the run store keeps them (``by_hour`` rows, ``measures``).
    """
    mean, lower, count, status = {}, {}, {}, {}
    for clock in CLOCKS.values():
        mu, lo = np.full(24, np.nan), np.full(24, np.nan)
        n_all = np.zeros(24)
        st = np.full(24, NO_DATA, dtype=object)
        for h in range(24):
            n = np.array([float(r["by_hour"][h][_COUNTS[clock]] or 0) for r in records])
            share = [r["by_hour"][h][clock] for r in records]
            ok = np.array(
                [round(s * c) if s is not None else 0.0 for s, c in zip(share, n, strict=True)]
            )
            p, b = share_bound(ok, n, confidence)
            n_all[h] = n.sum()
            if p is None:
                continue
            mu[h] = p
            if b is not None:
                lo[h] = b
            up = share_bound(n - ok, n, confidence)[1]  # Wilson's bound is symmetric
            if b is not None and b >= target - 1e-12:
                st[h] = PASS
            elif up is not None and 1.0 - up < target - 1e-12:
                st[h] = SHORT  # below target with the same confidence
            else:
                st[h] = OPEN if p >= target - 1e-12 else OPEN_BELOW
        mean[clock], lower[clock], count[clock], status[clock] = mu, lo, n_all, st
    overall: dict[str, float | None] = {}
    for clock in CLOCKS.values():
        got = [r["measures"].get(clock) for r in records]
        vals = [float(v) for v in got if v is not None]
        overall[clock] = float(np.mean(vals)) if vals else None
    return HourVerdicts(len(records), mean, lower, count, status, overall)


# ------------------------------------------------------------------- the plan


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
    from sim.world.staff import shares_for_counts

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


def _headcount_overrides(
    base: Scenario, world: World, want: Mapping[str, int]
) -> tuple[dict[str, Any], Roster]:
    """Density and mix overrides that give each role at least ``want`` units, grid kept."""
    from sim.world.staff import place_staff

    roster = world.roster
    now = {r: roster[r].n for r in ROLES}
    if base.staff.posts is not None or all(want[r] == now[r] for r in want):
        return {}, place_staff(world.net, world.areas, base.staff)
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
        mix["grid"] = round(1.0 - mix["advisor"] - mix["enforcer"], 6)
        over = {
            "staff.mix": mix,
            "staff.per_km2": math.ceil(base.staff.per_km2 * f * 1e4) / 1e4,
            "staff.per_km2_by_office": {
                o: math.ceil(d * f * 1e4) / 1e4 for o, d in base.staff.per_km2_by_office.items()
            },
        }
        sc = with_overrides(base, over)
        new_roster = place_staff(world.net, world.areas, sc.staff)
        short = {r: want[r] - new_roster[r].n for r in want}
        if all(v <= 0 for v in short.values()):
            break
        for r, v in short.items():
            if v > 0:
                aim[r] += v * ppu[r]
    return over, new_roster


def _plan(
    base: Scenario, world: World, covers: Mapping[str, Cover], same_headcount: bool
) -> tuple[dict[str, Any], Roster]:
    """Scenario overrides for the covers, and the roster they place."""
    from sim.world.staff import place_staff

    want = {r: c.headcount for r, c in covers.items()}
    if same_headcount or base.staff.posts is not None:
        want = {r: max(world.roster[r].n, want[r]) for r in covers}
    over, placed = _headcount_overrides(base, world, want)
    for r, c in covers.items():
        # placement rounds per office, so a role may get a unit or two more than asked
        over[f"staff.shifts.{r}"] = _entries(_spread(c, placed[r].n).used())
    sc = with_overrides(base, over)
    return over, place_staff(world.net, world.areas, sc.staff)


# ------------------------------------------------------------------- the pilot


def _pilot(
    base: Scenario, replications: int, folder: Path | None, log: Log
) -> tuple[World, dict[str, RoleStats]]:
    """The pilot statistics (read back from the folder when there), and the world."""
    from sim.atomic import write_text_atomic
    from sim.output.results import dumps
    from sim.world.build import build_world

    world = build_world(base)
    key = f"{run_key(base, 0)}:{replications}"
    path = folder / "shift_pilot.json" if folder is not None else None
    if path is not None and path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") == PILOT_FORMAT and data.get("key") == key:
                log("  pilot statistics reused from shift_pilot.json")
                return world, {r: RoleStats(**data["roles"][r]) for r in SHIFT_ROLES}
        except (OSError, ValueError, TypeError, KeyError):
            pass  # damaged: simulate it again and replace it
    log(f"  pilot: {replications} replication(s) of the scenario's own plan")
    tables = [simulate(world, k) for k in range(replications)]
    stats = pilot_stats(world, tables)
    if path is not None:
        body = {"format": PILOT_FORMAT, "key": key, "replications": replications}
        body["roles"] = {r: s.to_json() for r, s in stats.items()}
        write_text_atomic(path, dumps(body))
    return world, stats


# ------------------------------------------------------------------- the search


@dataclass
class _Round:
    """One simulated plan of the search."""

    number: int
    covers: dict[str, Cover]
    over: dict[str, Any]
    roster: Roster
    ev: HourVerdicts
    want: dict[str, np.ndarray]

    def staff_hours(self, roles: Sequence[str]) -> float:
        return sum(staff_hours(self.roster[r]) for r in roles)

    def ok(self, roles: Sequence[str]) -> bool:
        return all(bool(self.ev.passes[CLOCKS[r]].all()) for r in roles)


def _hours_with(ev: HourVerdicts, role: str, status: str) -> list[int]:
    return [int(h) for h in np.flatnonzero(ev.status[CLOCKS[role]] == status)]


def _cover_role(
    role: str,
    want: np.ndarray,
    types: Sequence[ShiftType],
    cap: int,
    night: int,
    max_kinds: int | None,
) -> Cover:
    """The cover of ``want`` within today's headcount, or beyond it when it cannot be."""
    rules: dict[str, Any] = {
        "night_hours": NIGHT_HOURS,
        "night_cover": night,
        "max_kinds": max_kinds,
    }
    need = [int(x) for x in want]
    c = cover(need, types, max_units=cap, **rules)
    if not c.feasible:
        c = cover(need, types, **rules)
        if not c.feasible:
            raise ScenarioError([f"shifts for {role}: {c.message}"])
    return c


def _correct(
    ev: HourVerdicts,
    roles: Sequence[str],
    covers: Mapping[str, Cover],
    want: dict[str, np.ndarray],
    floor: dict[str, np.ndarray],
    target: float,
    max_replications: int,
) -> None:
    """Raise the need of hours below target, lower it where an hour is far above.

    A short hour (upper bound below target, or mean below it at the most replications)
    gets a tenth more units than it had on duty plus the shortfall as a fraction (75%
    on time against 95%: 30% more), at least one; an hour still undecided at the most
    replications with its mean on target gets one more. Either way it failed with
    the units it had, which becomes its floor: the need never goes that low again, so
    the search cannot cycle. An hour whose lower bound is at least :data:`FAR_ABOVE` of
    the way from the target to 100% may lose a tenth of its units (at least one), down
    to its floor.
    """
    far = target + FAR_ABOVE * (1.0 - target)
    settled = ev.replications >= max_replications  # undecided hours get no more runs
    for r in roles:
        clock = CLOCKS[r]
        st, duty = ev.status[clock], covers[r].on_duty
        for h in range(24):
            d = int(duty[h])
            below = st[h] == SHORT or (st[h] == OPEN_BELOW and settled)
            if below or (st[h] == OPEN and settled):
                floor[r][h] = max(floor[r][h], d + 1)
                gap = max(0.0, target - float(ev.mean[clock][h]))
                step = max(1, math.ceil(d * (0.1 + gap))) if below else 1
                want[r][h] = max(int(want[r][h]), d + step)
            elif st[h] == PASS and ev.lower[clock][h] >= far - 1e-12:
                lowered = max(int(floor[r][h]), d - max(1, math.floor(0.1 * d)))
                want[r][h] = min(int(want[r][h]), lowered)


def _hours_in(values: Sequence[int], lo: int, hi: int, what: str) -> list[str]:
    """Problems with a list of whole hours that must lie in ``lo..hi``."""
    bad = [v for v in values if not isinstance(v, int | np.integer) or not lo <= int(v) <= hi]
    if bad or not values:
        return [f"{what}: whole hours from {lo} to {hi}, got {bad or 'none'}"]
    return []


def optimize_shifts(
    scenario: Scenario,
    *,
    roles: Sequence[str] = SHIFT_ROLES,
    starts: Sequence[int] | None = None,
    lengths: Sequence[int] = (8, 10, 11, 12),
    longest: int | None = None,
    night_cover: int | None = None,
    headcount: str = "fewer",
    max_kinds: int | None = None,
    method: str = "lagged",
    target: float | None = None,
    confidence: float = 0.95,
    pilot_replications: int = 2,
    max_rounds: int = 12,
    max_replications: int = 48,
    batch: BatchOptions = OPTIMIZE,
    log: Log | None = None,
    **options: Unpack[BatchFields],
) -> ShiftResult:
    """Shift starts, lengths and staff per shift with the fewest staff-hours on target.

    ``roles``: the dispatched roles to plan (``advisor``, ``enforcer``). ``starts``:
    allowed start hours (default every hour); ``lengths``: allowed shift lengths in hours
    (default 8, 10, 11, 12), at most ``longest``. ``night_cover``: units of each role on
    duty in every hour from 22:00 to 06:00 at least (default: one per street office).
    ``headcount``: ``"fewer"`` (default; at most today's) or ``"same"`` (today's, spread
    like the plan). ``method``: ``lagged`` or ``sipp`` offered load. ``target``: on-time
    share per hour on each clock (default ``rules.target``), met when the one-sided
    ``confidence`` lower bound reaches it (:func:`share_bound`), from ``replications``
    doubling up to ``max_replications`` while some hour is undecided. The scenario as
    written is simulated with the same seeds for the comparison. ``batch`` (default
    :data:`sim.batch.options.OPTIMIZE`; its fields may be given as keywords): replications,
    days, seed, and ``out`` (a folder, resumed when run again), ``scheduler``, ``workers``
    and ``progress`` as for :func:`sim.batch.sweeps.run_sweep`; ``log`` receives progress
    lines. See the module doc.
    """
    b = batch.but(**options)
    replications, days, seed, out, scheduler, workers, progress, force = (
        b.replications, b.days, b.seed, b.out, b.scheduler, b.workers, b.progress, b.force
    )  # fmt: skip
    problems = []
    roles = list(dict.fromkeys(roles))
    problems += [
        f"--shift-roles: {r!r} is not a dispatched role" for r in roles if r not in SHIFT_ROLES
    ]
    if method not in METHODS:
        problems.append(f"--need-method: use one of {', '.join(METHODS)}")
    if headcount not in ("fewer", "same"):
        problems.append("--headcount: use 'fewer' or 'same'")
    if replications < 2:
        problems.append(
            "--replications: the optimiser needs at least 2 (it uses confidence bounds)"
        )
    if not 1 <= pilot_replications <= 100:
        problems.append("--pilot-replications: from 1 to 100")
    if not 0.5 <= confidence < 1:
        problems.append("--confidence: must be at least 0.5 and below 1")
    if target is not None and not 0 < target <= 1:
        problems.append("--target: must be a share between 0 and 1")
    if not replications <= max_replications <= 1000:
        problems.append("--max-replications: at least --replications and at most 1000")
    if not 0 <= max_rounds <= 100:
        problems.append("--max-rounds: from 0 to 100")
    if max_kinds is not None and not 1 <= max_kinds <= 100:
        problems.append("--max-kinds: from 1 to 100 different shifts")
    if night_cover is not None and not 0 <= night_cover <= 100_000:
        problems.append("--night-cover: from 0 to 100000 units")
    start_hours = sorted({int(h) for h in (range(24) if starts is None else starts)})
    problems += _hours_in(list(range(24) if starts is None else starts), 0, 23, "--starts")
    problems += _hours_in(list(lengths), 1, 23, "--lengths")
    lens = sorted({int(h) for h in lengths})
    if longest is not None:
        if not 1 <= longest <= 23:
            problems.append("--longest: hours from 1 to 23")
        lens = [h for h in lens if h <= longest]
        if not lens and not problems:
            problems.append(f"--longest {longest}: no allowed length is that short")
    if problems:
        raise ScenarioError(problems)
    say: Log = log or (print if progress else (lambda _line: None))
    base = prepare(scenario, seed, days)
    goal = float(base.rules.target if target is None else target)
    folder = Path(out) if out is not None else None
    if folder is not None:
        folder = open_batch(
            folder, "optimize", (*SHIFT_FILES, _scenario_name(scenario)), force=force
        )
    types = shift_types(start_hours, lens)
    world, stats = _pilot(base, pilot_replications, folder, say)
    night = len(world.areas.office_names) if night_cover is None else night_cover
    needs: dict[str, HourlyNeed] = {
        r: hourly_need(stats[r], goal, method)  # type: ignore[arg-type]
        for r in roles
    }
    want = {r: needs[r].need.astype(np.int64).copy() for r in roles}
    floor = {r: np.zeros(24, dtype=np.int64) for r in roles}  # below this an hour failed
    warnings: list[str] = []
    history: list[dict[str, Any]] = []
    rounds: list[_Round] = []
    with Executor(folder, workers=workers, scheduler=scheduler, progress=progress) as ex:

        def check(sc: Scenario, desc: str) -> HourVerdicts:
            """Sequential sampling: more replications while some hour is undecided."""
            reps = replications
            while True:
                records = ex.run([sc], reps, desc=f"{desc}, {reps} replications")[0]
                ev = judge_hours(records, goal, confidence)
                st = [ev.status[CLOCKS[r]] for r in roles]
                # a plan with an hour below target changes anyway: no more runs for it
                if reps >= max_replications or any((s == SHORT).any() for s in st):
                    return ev
                if not any(np.isin(s, (OPEN, OPEN_BELOW)).any() for s in st):
                    return ev
                reps = min(max_replications, 2 * reps)

        say(f"optimising the shifts of {base.name}: the scenario's own plan first")
        old = judge_hours(ex.run([base], replications, desc="own plan")[0], goal, confidence)
        prev_key: tuple[tuple[int, ...], ...] | None = None
        for rnd in range(max_rounds + 1):
            covers = {
                r: _cover_role(r, want[r], types, world.roster[r].n, night, max_kinds)
                for r in roles
            }
            key = tuple(tuple(int(x) for x in covers[r].units) for r in roles)
            if key == prev_key:
                break  # the corrections no longer change the plan
            prev_key = key
            over, roster = _plan(base, world, covers, headcount == "same")
            ev = check(with_overrides(base, over), f"shift plan, round {rnd + 1}")
            done = _Round(rnd + 1, covers, over, roster, ev, {r: want[r].copy() for r in roles})
            rounds.append(done)
            short = {r: _hours_with(ev, r, SHORT) + _hours_with(ev, r, OPEN_BELOW) for r in roles}
            still_open = {r: _hours_with(ev, r, OPEN) for r in roles}
            history.append(
                {
                    "round": rnd + 1,
                    "replications": ev.replications,
                    "units": {r: covers[r].headcount for r in roles},
                    "unit_hours": {r: covers[r].unit_hours for r in roles},
                    "staff_hours": round(done.staff_hours(roles), 2),
                    "hours_short": short,
                    "hours_undecided": still_open,
                    "every_hour_on_target": done.ok(roles),
                }
            )
            n_short = sum(len(v) for v in short.values())
            n_open = sum(len(v) for v in still_open.values())
            say(
                f"  round {rnd + 1}: "
                + ", ".join(f"{r} {covers[r].headcount} units" for r in roles)
                + f", {done.staff_hours(roles):,.0f} staff-h/day, {ev.replications} replications; "
                + (
                    f"{n_short} hour(s) below target, {n_open} undecided"
                    if n_short or n_open
                    else "every hour on target"
                )
            )
            if rnd == max_rounds:
                break
            _correct(ev, roles, covers, want, floor, goal, max_replications)
        computed, reused = ex.computed, ex.reused
        passing = [x for x in rounds if x.ok(roles)]
        chosen = (
            min(passing, key=lambda x: (x.staff_hours(roles), x.number)) if passing else rounds[-1]
        )
        new, over, roster = chosen.ev, chosen.over, chosen.roster
        # the own plan with as many replications as the chosen plan, for the comparison
        old = judge_hours(ex.run([base], new.replications, desc="own plan")[0], goal, confidence)
        computed, reused = ex.computed, ex.reused
    for r in roles:
        cap = world.roster[r].n
        if chosen.covers[r].headcount > cap:
            warnings.append(
                f"{r}: the plan needs {chosen.covers[r].headcount} units, more than today's {cap}"
            )
        if not chosen.covers[r].optimal:
            warnings.append(
                f"{r}: the covering programme stopped at its time limit with the best plan found "
                "(not proven optimal); fewer --starts or no --max-kinds make it exact"
            )
    feasible = chosen.ok(roles)
    if not feasible:
        warnings.append(
            "some hours are still below target or undecided after the last round (see "
            "shifts.txt); more --max-rounds or --max-replications may settle them"
        )
    written = with_overrides(scenario, over)
    hours, role_rows = _compare(world, roster, roles, needs, chosen.want, old, new)
    meta = {
        "scenario": base.name,
        "target": goal,
        "confidence": confidence,
        "criterion": f"one-sided {confidence:.0%} lower confidence bound of each hour's "
        "on-time share (requests pooled over replications; Wilson score bound with the "
        "replications as clusters, t quantile) >= target, on the clock of every planned role",
        "replications": new.replications,
        "replications_first": replications,
        "max_replications": max_replications,
        "pilot_replications": pilot_replications,
        "days": base.duration.days,
        "warmup_hours": base.duration.warmup_hours,
        "seed": base.seed,
        "method": method,
        "roles": roles,
        "rules": {
            "starts": start_hours,
            "lengths": lens,
            "night_hours": list(NIGHT_HOURS),
            "night_cover": night,
            "headcount": headcount,
            "max_kinds": max_kinds,
        },
        "feasible": feasible,
        "rounds": len(history),
        "chosen_round": chosen.number,
        "runs_simulated": computed,
        "runs_reused": reused,
        "overall": {"old": old.overall, "new": new.overall},
        "overrides": over,
        "history": history,
    }
    result = ShiftResult(written, over, hours, role_rows, meta, [*ex.warnings, *warnings])
    if folder is not None:
        write_shifts(result, folder)
    return result


def check_plan(
    world: World, replications: int, *, target: float | None = None, confidence: float = 0.95
) -> HourVerdicts:
    """Simulate a built world's plan afresh (in this process) and judge every hour.

    For checking a written plan at a seed it was not optimised on:
    ``check_plan(build_world(prepare(scenario, seed=7, days=1)), 16)``.
    """
    from sim.runner import hour_rows

    sc = world.scenario
    records = [
        {"by_hour": hour_rows(simulate(world, k), sc.rules), "measures": {}}
        for k in range(replications)
    ]
    return judge_hours(records, float(sc.rules.target if target is None else target), confidence)


def _compare(
    world: World,
    roster: Roster,
    roles: Sequence[str],
    needs: Mapping[str, HourlyNeed],
    want: Mapping[str, np.ndarray],
    old: HourVerdicts,
    new: HourVerdicts,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    import pandas as pd

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
    return pd.DataFrame(rows), roles_out


def _windows(units: Units) -> list[dict[str, Any]]:
    counts = (
        np.bincount(units.shift, minlength=len(units.shifts))
        if units.n
        else [0] * len(units.shifts)
    )
    out = []
    for (s, e), n, hours in zip(units.shifts, counts, _window_hours(units), strict=True):
        end = e if e else 1440.0
        out.append(
            {
                "start": f"{int(s) // 60:02d}:{int(s) % 60:02d}",
                "end": f"{int(end) // 60:02d}:{int(end) % 60:02d}",
                "hours": float(hours),
                "units": int(n),
            }
        )
    return out


def _f(x: float) -> float | None:
    return None if not math.isfinite(float(x)) else round(float(x), 6)


# ---------------------------------------------------------------------- output


def _scenario_name(scenario: Scenario) -> str:
    return f"{scenario.name}-shifts.yaml"


_CLOCK = re.compile(r"\d{2}:\d{2}")


def scenario_yaml(scenario: Scenario, folder: Path) -> str:
    """The scenario as YAML to be read from ``folder``: files it names re-pointed there."""
    import yaml

    dumper = _dumper()
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    data["name"] = scenario.name  # required, even when equal to a default
    data.setdefault("map", {})
    for dotted, path in resolve_scenario(scenario).files().items():
        set_by_path(data, dotted, _relative(path, folder))
    schema = Path(__file__).resolve().parents[2] / "scenarios" / "scenario.schema.json"
    head = []
    if schema.is_file():
        head.append(f"# yaml-language-server: $schema={_relative(schema, folder)}")
    head.append(
        f"# {scenario.name} with the shift plan of `python -m sim optimize --shifts` "
        "(see shifts.txt beside this file)"
    )
    body = yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(head) + "\n" + body


def _clock_quoted(dumper: Any, value: str) -> Any:
    """Times of day as the schema has them, quoted ("07:00"): unquoted YAML 1.1 reads
    some of them as base-60 numbers (10:00 is 600) and editors flag them."""
    style = '"' if _CLOCK.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _dumper() -> type:
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(str, _clock_quoted)
    return Dumper


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive
        return path.resolve().as_posix()


def shifts_text(result: ShiftResult) -> str:
    """The comparison ``python -m sim optimize --shifts`` prints."""
    from sim.viz.report import format_table

    meta, t = result.meta, result.hours
    roles = meta["roles"]

    def pct(v: Any) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"

    lines = [
        f"{meta['scenario']}: shift plan with the fewest staff-hours such that every hour meets "
        f"{100 * meta['target']:g}% on time on the {' and '.join(roles)} clock(s) (one-sided "
        f"{meta['confidence']:.0%} lower bound over {meta['replications']} replications of "
        f"{meta['days']:g} day(s), seed {meta['seed']})",
        "",
    ]
    rows = []
    for r in ROLES:
        x = result.roles[r]
        if not x["planned"]:
            continue
        o, n = x["old"], x["new"]
        rows.append(
            [
                f"{r} ({x['unit']}s)",
                o["units"],
                n["units"],
                o["staff"],
                n["staff"],
                f"{o['staff_hours']:,.0f}",
                f"{n['staff_hours']:,.0f}",
                f"{n['staff_hours'] - o['staff_hours']:+,.0f}",
            ]
        )
    lines.append(
        format_table(
            [
                "role",
                "units old",
                "units new",
                "staff old",
                "staff new",
                "staff-h/day old",
                "staff-h/day new",
                "change",
            ],
            rows,
        )
    )
    lines.append("")
    for r in roles:
        shifts = ", ".join(
            f"{s['start']}–{s['end']} ({s['hours']:g} h) × {s['units']}"
            for s in result.roles[r]["new"]["shifts"]
        )
        lines.append(f"new {r} shifts: {shifts}")
    lines.append("")
    head = ["hour"]
    for r in roles:
        head += [f"{r[:3]} need", f"{r[:3]} old", f"{r[:3]} new"]
    for clock in ("advisor_on_time", "enforcer_on_time"):
        short = clock.split("_")[0][:3]
        head += [f"{short} clock old", f"{short} clock new", "lower"]
    hr = []
    for row in t.to_dict("records"):
        cells: list[Any] = [row["hour"]]
        for r in roles:
            cells += [row[f"{r}.need"], f"{row[f'{r}.on_duty_old']:.0f}",
                      f"{row[f'{r}.on_duty_new']:.0f}"]  # fmt: skip
        for clock in ("advisor_on_time", "enforcer_on_time"):
            st = row[f"{clock}.new.status"]
            flag = "" if row[f"{clock}.new.meets"] else " ?" if st == OPEN else " ✗"
            cells += [pct(row[f"{clock}.old"]), pct(row[f"{clock}.new"]),
                      pct(row[f"{clock}.new.lower"]) + flag]  # fmt: skip
        hr.append(cells)
    lines.append(format_table(head, hr))
    lines.append("")
    lines.append("✗: below target or not shown to reach it; ?: mean on target, bound undecided")
    ov = meta["overall"]
    lines.append(
        "whole day: advisor clock "
        f"{pct(ov['old']['advisor_on_time'])} → {pct(ov['new']['advisor_on_time'])}, "
        f"enforcer clock {pct(ov['old']['enforcer_on_time'])} → "
        f"{pct(ov['new']['enforcer_on_time'])}"
    )
    lines.append(
        f"every hour on target: {'yes' if meta['feasible'] else 'NO'}; {meta['rounds']} round(s) "
        f"of simulation; {meta['runs_simulated']} runs simulated, {meta['runs_reused']} reused"
    )
    return "\n".join(lines)


def write_shifts(result: ShiftResult, folder: Path) -> None:
    """``shifts.json``, ``shifts.csv``, ``shifts.txt``, the scenario and two pictures."""
    from sim.atomic import atomic_path, write_text_atomic
    from sim.output.results import dumps
    from sim.viz.shiftplot import plot_on_time, plot_staff

    write_text_atomic(
        folder / "shifts.csv", str(result.hours.to_csv(index=False, lineterminator="\n"))
    )
    path = folder / _scenario_name(result.scenario)
    write_text_atomic(path, scenario_yaml(result.scenario, folder))
    result.scenario_file = path
    data = {
        **result.meta,
        "scenario_file": path.name,
        "roles_detail": result.roles,
        "hours": result.hours.to_dict("records"),
        "warnings": result.warnings,
    }
    write_text_atomic(folder / "shifts.json", dumps(data))
    write_text_atomic(folder / "shifts.txt", shifts_text(result) + "\n")
    with atomic_path(folder / "shift_staff.png") as tmp:
        plot_staff(result, tmp)
    with atomic_path(folder / "shift_on_time.png") as tmp:
        plot_on_time(result, tmp)
