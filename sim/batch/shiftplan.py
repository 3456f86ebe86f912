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
   bound that treats replications as clusters (:mod:`sim.analysis.hour_verdicts`).
   Undecided hours get more replications (sequential sampling, up to ``max_replications``); hours
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import numpy as np

from sim.analysis.hour_verdicts import (
    CLOCKS,
    OPEN,
    OPEN_BELOW,
    SHORT,
    HourVerdicts,
    judge_hours,
    late_by_office,
)
from sim.analysis.record import hour_rows
from sim.atomic import write_text_atomic
from sim.batch.options import OPTIMIZE, BatchOptions, split
from sim.batch.shiftcorrect import best_round, correct, round_rank
from sim.batch.shiftcover import Cover, ShiftType, cover, shift_types
from sim.batch.shiftneed import (
    SHIFT_ROLES,
    HourlyNeed,
    RoleStats,
    hourly_need,
    pilot_stats,
)
from sim.batch.shiftoptions import SHIFTS as SHIFTS
from sim.batch.shiftoptions import ShiftFields as ShiftFields
from sim.batch.shiftoptions import ShiftOptions as ShiftOptions
from sim.batch.shiftoptions import problems as option_problems
from sim.batch.shiftroster import (
    compare,
    in_force,
    plan_by_office,
    plan_overrides,
    staff_hours,
)
from sim.batch.sweeps import Executor, run_key
from sim.errors import ArgumentError
from sim.output.folders import open_batch
from sim.output.shiftreport import SHIFT_FILES, scenario_name, write_shifts
from sim.output.strictjson import dumps
from sim.runner import prepare, simulate
from sim.scenario import Scenario, ScenarioError, with_overrides
from sim.world.build import build_world

if TYPE_CHECKING:
    import pandas as pd

    from sim.world.build import World
    from sim.world.staff import Roster

Log = Callable[[str], None]
NIGHT_HOURS: tuple[int, ...] = (22, 23, 0, 1, 2, 3, 4, 5)
PILOT_FORMAT = "chengguan-sim/shift-pilot-2"  # 2: a part per office


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


# ------------------------------------------------------------------- the pilot


def _pilot(
    base: Scenario, replications: int, folder: Path | None, log: Log, by_office: bool
) -> tuple[World, list[dict[str, RoleStats]]]:
    """The pilot statistics, for the district or per street office (read back from the
    folder when there), and the world."""
    world = build_world(in_force(base))  # the shifts in force on measured days
    key = f"{run_key(base, 0)}:{replications}" + (":by-office" if by_office else "")
    path = folder / "shift_pilot.json" if folder is not None else None
    if path is not None and path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") == PILOT_FORMAT and data.get("key") == key:
                log("  pilot statistics reused from shift_pilot.json")
                return world, [{r: RoleStats(**x[r]) for r in SHIFT_ROLES} for x in data["parts"]]
        except (OSError, ValueError, TypeError, KeyError):
            pass  # damaged: simulate it again and replace it
    log(f"  pilot: {replications} replication(s) of the scenario's own plan")
    tables = [simulate(world, k) for k in range(replications)]
    offices = range(len(world.areas.office_names)) if by_office else [None]
    stats = [pilot_stats(world, tables, k) for k in offices]
    if path is not None:
        body = {"format": PILOT_FORMAT, "key": key, "replications": replications}
        body["parts"] = [{r: s.to_json() for r, s in x.items()} for x in stats]
        write_text_atomic(path, dumps(body))
    return world, stats


# ------------------------------------------------------------------- the search


@dataclass
class _Round:
    """One simulated plan of the search."""

    number: int
    covers: dict[str, list[Cover]]  # per role: the district's, or one per street office
    over: dict[str, Any]
    roster: Roster
    ev: HourVerdicts
    want: dict[str, np.ndarray]

    def staff_hours(self, roles: Sequence[str]) -> float:
        return sum(staff_hours(self.roster[r]) for r in roles)

    def ok(self, roles: Sequence[str]) -> bool:
        return all(bool(self.ev.passes[CLOCKS[r]].all()) for r in roles)


def _on_duty(covers: Sequence[Cover]) -> np.ndarray:
    """Units on duty per part (district or office) and hour: ``parts × 24``."""
    return np.array([c.on_duty for c in covers], dtype=np.int64)


def _headcount(covers: Sequence[Cover]) -> int:
    return sum(c.headcount for c in covers)


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


def optimize_shifts(
    scenario: Scenario,
    *,
    shifts: ShiftOptions = SHIFTS,
    batch: BatchOptions = OPTIMIZE,
    log: Log | None = None,
    **options: Unpack[ShiftFields],
) -> ShiftResult:
    """Shift starts, lengths and staff per shift with the fewest staff-hours on target.

    ``shifts`` (default :data:`SHIFTS`) says what may be planned and how sure the plan must
    be (:class:`ShiftOptions`); ``batch`` (default :data:`sim.batch.options.OPTIMIZE`) the
    replications, days, seed, and ``out`` (a folder, resumed when run again),
    ``scheduler``, ``workers`` and ``progress`` as for :func:`sim.batch.sweeps.run_sweep`.
    Any field of either may be given as a keyword, replacing the object's. The scenario as
    written is simulated with the same seeds for the comparison; ``log`` receives progress
    lines. See the module doc; :func:`optimize_shifts_by_office` plans each street office
    on its own.
    """
    s, b = split(shifts, batch, options)
    return _ShiftSearch(scenario, s, b, by_office=False, log=log).run()


def optimize_shifts_by_office(
    scenario: Scenario,
    *,
    shifts: ShiftOptions = SHIFTS,
    batch: BatchOptions = OPTIMIZE,
    log: Log | None = None,
    **options: Unpack[ShiftFields],
) -> ShiftResult:
    """:func:`optimize_shifts` with one plan per street office (``staff.shifts_by_office``).

    Each office's need comes from its own requests and units on duty, and each office and
    role gets its own covering programme (the night cover is per office: one unit, or
    ``night_cover`` spread over the offices). Simulation judges the district's hours, as
    dispatch crosses office borders, and a failing hour's extra units go to the offices
    whose requests were late in it (:mod:`sim.batch.shiftcorrect`). Takes the options of
    :func:`optimize_shifts`.
    """
    s, b = split(shifts, batch, options)
    return _ShiftSearch(scenario, s, b, by_office=True, log=log).run()


# ------------------------------------------------------------------- the search


class _ShiftSearch:
    """One optimisation (the module doc): the pilot's need, rounds of cover, simulation
    and correction, then the chosen round against the scenario's own plan."""

    def __init__(
        self, scenario: Scenario, o: ShiftOptions, b: BatchOptions, *, by_office: bool,
        log: Log | None,
    ) -> None:  # fmt: skip
        problems = option_problems(scenario, o, b.replications, by_office)
        if problems:
            named = dict.fromkeys(a for names, _ in problems for a in names)
            raise ArgumentError([p for _, p in problems], list(named))
        if scenario.staff.roster is not None:
            why = "the shift optimiser deals density-placed staff to shifts; a roster's posts"
            raise ScenarioError([f"staff.roster: {why} keep their own (optimise without it)"])
        self.scenario, self.o, self.b, self.by_office = scenario, o, b, by_office
        self.roles: list[str] = list(dict.fromkeys(o.roles))
        self.say: Log = log or (print if b.progress else (lambda _line: None))
        self.base = prepare(scenario, b.seed, b.days)
        self.goal = float(self.base.rules.target if o.target is None else o.target)
        self.history: list[dict[str, Any]] = []
        self.rounds: list[_Round] = []

    # ---------------------------------------------------------------- the need

    def _need(self, folder: Path | None) -> None:
        """The pilot's need per part (the district, or each office) and today's units."""
        o, roles = self.o, self.roles
        self.world, stats = _pilot(
            self.base, o.pilot_replications, folder, self.say, self.by_office
        )
        n_off = len(self.world.areas.office_names)
        self.n_off = n_off
        self.night = n_off if o.night_cover is None else o.night_cover
        # per part (the district, or each office): its need, and its units today
        self.part_night = math.ceil(self.night / n_off) if self.by_office else self.night
        part_needs = [{r: hourly_need(s[r], self.goal, o.method) for r in roles} for s in stats]
        roster = self.world.roster
        self.today = {
            r: np.bincount(roster[r].office, minlength=n_off) if self.by_office
            else np.array([roster[r].n]) for r in roles
        }  # fmt: skip
        self.needs = {r: _summed([x[r] for x in part_needs]) for r in roles}
        self.want = {r: np.array([x[r].need for x in part_needs], dtype=np.int64) for r in roles}
        self.floor = {r: np.zeros_like(self.want[r]) for r in roles}  # below it an hour failed

    # ---------------------------------------------------------------- simulation

    def check(self, ex: Executor, sc: Scenario, desc: str) -> tuple[HourVerdicts, dict[str, Any]]:
        """Sequential sampling: more replications while some hour is undecided.

        Also the late requests per part and hour on each role's clock."""
        reps, roles = self.b.replications, self.roles
        while True:
            records = ex.run([in_force(sc)], reps, desc=f"{desc}, {reps} replications")[0]
            ev = judge_hours(records, self.goal, self.o.confidence)
            st = [ev.status[CLOCKS[r]] for r in roles]
            # a plan with an hour below target changes anyway: no more runs for it
            if (
                reps >= self.o.max_replications
                or any((s == SHORT).any() for s in st)
                or not any(np.isin(s, (OPEN, OPEN_BELOW)).any() for s in st)
            ):
                late = {
                    r: late_by_office(records, r, self.n_off) if self.by_office
                    else np.ones((1, 24)) for r in roles
                }  # fmt: skip
                return ev, late
            reps = min(self.o.max_replications, 2 * reps)

    def covers(self, types: Sequence[ShiftType]) -> dict[str, list[Cover]]:
        o = self.o
        return {
            r: [
                _cover_role(r, self.want[r][k], types, int(self.today[r][k]), self.part_night,
                            o.max_kinds)
                for k in range(len(self.want[r]))
            ]
            for r in self.roles
        }  # fmt: skip

    def rounds_of(self, ex: Executor) -> None:
        """Cover, simulate and correct until the plan stops changing or the rounds end."""
        types = shift_types(self.o.start_hours, self.o.allowed_lengths)
        prev_key: tuple[tuple[int, ...], ...] | None = None
        plan = plan_by_office if self.by_office else plan_overrides
        for rnd in range(self.o.max_rounds + 1):
            covers = self.covers(types)
            key = tuple(tuple(int(x) for c in covers[r] for x in c.units) for r in self.roles)
            if key == prev_key:
                break  # the corrections no longer change the plan
            prev_key = key
            over, roster = plan(self.base, self.world, covers, self.o.headcount == "same")
            ev, late = self.check(
                ex, with_overrides(self.base, over), f"shift plan, round {rnd + 1}"
            )
            want = {r: self.want[r].sum(0) for r in self.roles}
            self._record(_Round(rnd + 1, covers, over, roster, ev, want))
            if rnd == self.o.max_rounds:
                break
            duty = {r: _on_duty(covers[r]) for r in self.roles}
            correct(ev, self.roles, duty, self.want, self.floor, late, self.goal,
                    self.o.max_replications)  # fmt: skip

    def _record(self, done: _Round) -> None:
        """Keep a simulated round and say how it did."""
        roles, ev, covers = self.roles, done.ev, done.covers
        self.rounds.append(done)
        self.history.append(
            {
                "round": done.number,
                "replications": ev.replications,
                "units": {r: _headcount(covers[r]) for r in roles},
                "unit_hours": {r: sum(c.unit_hours for c in covers[r]) for r in roles},
                "staff_hours": round(done.staff_hours(roles), 2),
                "hours_short": {r: _hours_with(ev, r, SHORT) for r in roles},
                "hours_undecided": {
                    r: sorted(_hours_with(ev, r, OPEN) + _hours_with(ev, r, OPEN_BELOW))
                    for r in roles
                },
                "hours_undecided_mean_below": {r: _hours_with(ev, r, OPEN_BELOW) for r in roles},
                "every_hour_on_target": done.ok(roles),
            }
        )
        n_short, n_open, *_ = round_rank(self.history[-1])
        n_below = sum(len(v) for v in self.history[-1]["hours_undecided_mean_below"].values())
        self.say(
            f"  round {done.number}: "
            + ", ".join(f"{r} {_headcount(covers[r])} units" for r in roles)
            + f", {done.staff_hours(roles):,.0f} staff-h/day, {ev.replications} replications; "
            + (
                f"{n_short} hour(s) shown short, {n_open} undecided "
                f"({n_below} with the mean below target)"
                if n_short or n_open
                else "every hour on target"
            )
        )

    # ---------------------------------------------------------------- the answer

    def run(self) -> ShiftResult:
        b, base = self.b, self.base
        folder = Path(b.out) if b.out is not None else None
        if folder is not None:
            files = (*SHIFT_FILES, scenario_name(self.scenario))
            folder = open_batch(folder, "optimize", files, force=b.force)
        self._need(folder)
        with Executor(folder, workers=b.workers, scheduler=b.scheduler, progress=b.progress) as ex:
            self.say(f"optimising the shifts of {base.name}")
            self.rounds_of(ex)
            chosen = self.rounds[best_round(self.history)]
            # the own plan with as many replications as the chosen plan, for the comparison
            own = in_force(base)  # every measured day a campaign day after one (in_force)
            old = judge_hours(
                ex.run([own], chosen.ev.replications, desc="own plan")[0], self.goal,
                self.o.confidence,
            )  # fmt: skip
            runs = (ex.computed, ex.reused)
            warnings = [*ex.warnings, *self._warnings(chosen)]
        hours, role_rows = compare(
            self.world, chosen.roster, self.roles, self.needs, chosen.want, old, chosen.ev,
            self.by_office,
        )  # fmt: skip
        result = ShiftResult(
            with_overrides(self.scenario, chosen.over), chosen.over, hours, role_rows,
            self._meta(chosen, old, runs), warnings,
        )  # fmt: skip
        if folder is not None:
            write_shifts(result, folder)
        return result

    def _warnings(self, chosen: _Round) -> list[str]:
        out = []
        for r in self.roles:
            cap = self.world.roster[r].n
            if _headcount(chosen.covers[r]) > cap:
                out.append(
                    f"{r}: the plan needs {_headcount(chosen.covers[r])} units, "
                    f"more than today's {cap}"
                )
            if not all(c.optimal for c in chosen.covers[r]):
                out.append(
                    f"{r}: the covering programme stopped at its node limit with the best plan "
                    "found (not proven optimal); fewer --starts or no --max-kinds make it exact"
                )
        not_met = self._not_met(chosen)
        return [*out, not_met] if not_met else out

    def _not_met(self, chosen: _Round) -> str | None:
        """Why the plan written does not meet the target every hour (None: it does)."""
        if chosen.ok(self.roles):
            return None
        n_short, n_open, *_ = round_rank(self.history[chosen.number - 1])
        return (
            f"no round met the target in every hour; the plan written is round "
            f"{chosen.number} of {len(self.history)}, the best one ({n_short} hour(s) shown "
            f"short, {n_open} undecided; see shifts.txt); more max_rounds or max_replications "
            "may settle them"
        )

    def _meta(self, chosen: _Round, old: HourVerdicts, runs: tuple[int, int]) -> dict[str, Any]:
        o, base, new = self.o, self.base, chosen.ev
        meta: dict[str, Any] = {
            "scenario": base.name,
            "target": self.goal,
            "confidence": o.confidence,
            "criterion": f"one-sided {o.confidence:.0%} lower confidence bound of each hour's "
            "on-time share (requests pooled over replications; Wilson score bound with the "
            "replications as clusters, t quantile) >= target, on the clock of every planned role",
            "replications": new.replications,
            "replications_first": self.b.replications,
            "max_replications": o.max_replications,
            "pilot_replications": o.pilot_replications,
            "days": base.duration.days,
            "warmup_hours": base.duration.warmup_hours,
            "seed": base.seed,
            "method": o.method,
            "by_office": self.by_office,
            "roles": self.roles,
            "rules": {
                "starts": o.start_hours,
                "lengths": o.allowed_lengths,
                "night_hours": list(NIGHT_HOURS),
                "night_cover": self.night,
                "headcount": o.headcount,
                "max_kinds": o.max_kinds,
            },
            "feasible": chosen.ok(self.roles),
            "not_met": self._not_met(chosen),
            "rounds": len(self.history),
            "chosen_round": chosen.number,
            "runs_simulated": runs[0],
            "runs_reused": runs[1],
            "overall": {"old": old.overall, "new": new.overall},
            "overrides": chosen.over,
            "history": self.history,
        }
        if self.by_office:
            meta["rules"]["night_cover_per_office"] = self.part_night
        return meta


def _summed(needs: Sequence[HourlyNeed]) -> HourlyNeed:
    """The district's need: the parts' needs and loads added up."""
    if len(needs) == 1:
        return needs[0]
    return HourlyNeed(
        needs[0].role,
        np.sum([x.need for x in needs], axis=0),
        np.sum([x.load for x in needs], axis=0),
        np.min([x.share for x in needs], axis=0),
        np.all([x.reachable for x in needs], axis=0),
    )


def check_plan(
    world: World, replications: int, *, target: float | None = None, confidence: float = 0.95
) -> HourVerdicts:
    """Simulate a built world's plan afresh (in this process) and judge every hour.

    For checking a written plan at a seed it was not optimised on:
    ``check_plan(build_world(in_force(prepare(scenario, seed=7, days=1))), 16)``, which
    judges the days as the optimiser does (:func:`~sim.batch.shiftroster.in_force`).
    """
    sc = world.scenario
    records = [
        {"by_hour": hour_rows(simulate(world, k), sc.rules), "measures": {}}
        for k in range(replications)
    ]
    return judge_hours(records, float(sc.rules.target if target is None else target), confidence)
