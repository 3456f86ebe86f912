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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.hour_verdicts import (
    CLOCKS,
    OPEN,
    OPEN_BELOW,
    PASS,
    SHORT,
    HourVerdicts,
    judge_hours,
)
from sim.batch.shiftcover import Cover, ShiftType, cover, shift_types
from sim.batch.shiftneed import (
    METHODS,
    SHIFT_ROLES,
    HourlyNeed,
    RoleStats,
    hourly_need,
    pilot_stats,
)
from sim.batch.shiftroster import compare, plan_overrides, staff_hours
from sim.batch.sweeps import Executor, run_key
from sim.engine.campaign import staffed
from sim.output.folders import open_batch
from sim.output.shiftreport import SHIFT_FILES, scenario_name, write_shifts
from sim.runner import prepare, simulate
from sim.scenario import Scenario, ScenarioError, with_overrides

if TYPE_CHECKING:
    import pandas as pd

    from sim.world.build import World
    from sim.world.staff import Roster

Log = Callable[[str], None]
NIGHT_HOURS: tuple[int, ...] = (22, 23, 0, 1, 2, 3, 4, 5)
PILOT_FORMAT = "chengguan-sim/shift-pilot-1"


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


FAR_ABOVE = 0.5
"""An hour whose lower bound is this far from the target towards 100% may lose units."""

# ------------------------------------------------------------------- the pilot


def _pilot(
    base: Scenario, replications: int, folder: Path | None, log: Log
) -> tuple[World, dict[str, RoleStats]]:
    """The pilot statistics (read back from the folder when there), and the world."""
    from sim.atomic import write_text_atomic
    from sim.output.results import dumps
    from sim.world.build import build_world

    world = build_world(staffed(base))  # the shifts in force, as the runs have them
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
    replications: int = 10,
    pilot_replications: int = 2,
    max_rounds: int = 12,
    max_replications: int = 48,
    days: float | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    log: Log | None = None,
    force: bool = False,
) -> ShiftResult:
    """Shift starts, lengths and staff per shift with the fewest staff-hours on target.

    ``roles``: the dispatched roles to plan (``advisor``, ``enforcer``). ``starts``:
    allowed start hours (default every hour); ``lengths``: allowed shift lengths in hours
    (default 8, 10, 11, 12), at most ``longest``. ``night_cover``: units of each role on
    duty in every hour from 22:00 to 06:00 at least (default: one per street office).
    ``headcount``: ``"fewer"`` (default; at most today's) or ``"same"`` (today's, spread
    like the plan). ``method``: ``lagged`` or ``sipp`` offered load. ``target``: on-time
    share per hour on each clock (default ``rules.target``), met when the one-sided
    ``confidence`` lower bound reaches it (:func:`~sim.analysis.hour_verdicts.share_bound`),
    from ``replications`` doubling up to ``max_replications`` while some hour is undecided. The scenario as
    written is simulated with the same seeds for the comparison. ``out`` (a folder,
    resumed when run again), ``scheduler``, ``workers`` and ``progress`` are as for
    :func:`sim.batch.sweeps.run_sweep`; ``log`` receives progress lines. See the module doc.
    """
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
            folder, "optimize", (*SHIFT_FILES, scenario_name(scenario)), force=force
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
            over, roster = plan_overrides(base, world, covers, headcount == "same")
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
    hours, role_rows = compare(world, roster, roles, needs, chosen.want, old, new)
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
