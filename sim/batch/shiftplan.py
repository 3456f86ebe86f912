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

import inspect
import json
import math
from collections.abc import Callable, Mapping, Sequence
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
from sim.batch.options import OPTIMIZE, BatchFields, BatchOptions
from sim.batch.shiftcorrect import best_round, correct, round_rank
from sim.batch.shiftcover import FEW_KINDS, Cover, ShiftType, cover, shift_types
from sim.batch.shiftneed import (
    METHODS,
    SHIFT_ROLES,
    HourlyNeed,
    RoleStats,
    hourly_need,
    pilot_stats,
)
from sim.batch.shiftroster import (
    compare,
    in_force,
    plan_by_office,
    plan_overrides,
    shifts_key,
    staff_hours,
)
from sim.batch.sweeps import Executor, run_key
from sim.errors import ArgumentError
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
    from sim.atomic import write_text_atomic
    from sim.output.results import dumps
    from sim.world.build import build_world

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
    max_kinds: int | None = FEW_KINDS,
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
    like the plan). ``max_kinds``: different shifts per role (per office with
    :func:`optimize_shifts_by_office`; default :data:`~sim.batch.shiftcover.FEW_KINDS`,
    what a district can run; None: no limit). ``method``: ``lagged`` or ``sipp`` offered
    load. ``target``: on-time share per hour on each clock (default ``rules.target``), met
    when the one-sided ``confidence`` lower bound reaches it
    (:func:`~sim.analysis.hour_verdicts.share_bound`), from ``replications`` doubling up to
    ``max_replications`` while some hour is undecided.
    The scenario as written is simulated with the same seeds for the comparison. ``batch``
    (default :data:`sim.batch.options.OPTIMIZE`; its fields may be given as keywords):
    replications, days, seed, and ``out`` (a folder, resumed when run again),
    ``scheduler``, ``workers`` and ``progress`` as for :func:`sim.batch.sweeps.run_sweep`;
    ``log`` receives progress lines. See the module doc; :func:`optimize_shifts_by_office`
    plans each street office on its own.
    """
    return _optimize(scenario, False, _with_batch(locals()))


def _with_batch(given: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`optimize_shifts`'s arguments, the batch options folded in as plain keys."""
    b: BatchOptions = given["batch"].but(**given["options"])
    o = {k: v for k, v in given.items() if k not in ("scenario", "batch", "options")}
    o.update(
        replications=b.replications, days=b.days, seed=b.seed, out=b.out,
        scheduler=b.scheduler, workers=b.workers, progress=b.progress, force=b.force,
    )  # fmt: skip
    return o


def optimize_shifts_by_office(scenario: Scenario, **options: Any) -> ShiftResult:
    """:func:`optimize_shifts` with one plan per street office (``staff.shifts_by_office``).

    Each office's need comes from its own requests and units on duty, and each office and
    role gets its own covering programme (the night cover is per office: one unit, or
    ``night_cover`` spread over the offices). Simulation judges the district's hours, as
    dispatch crosses office borders, and a failing hour's extra units go to the offices
    whose requests were late in it (:mod:`sim.batch.shiftcorrect`). Takes the options of
    :func:`optimize_shifts`.
    """
    bound = inspect.signature(optimize_shifts).bind(scenario, **options)
    bound.apply_defaults()
    return _optimize(scenario, True, _with_batch(bound.arguments))


def _optimize(scenario: Scenario, by_office: bool, o: Mapping[str, Any]) -> ShiftResult:
    """The search behind both entry points; ``o`` holds :func:`optimize_shifts`'s options."""
    roles: list[str] = list(dict.fromkeys(o["roles"]))
    starts, lengths, longest = o["starts"], o["lengths"], o["longest"]
    night_cover, headcount, max_kinds = o["night_cover"], o["headcount"], o["max_kinds"]
    method, target, confidence = o["method"], o["target"], o["confidence"]
    replications, pilot_replications = o["replications"], o["pilot_replications"]
    max_rounds, max_replications = o["max_rounds"], o["max_replications"]
    seed, days, log, progress = o["seed"], o["days"], o["log"], o["progress"]
    problems: list[tuple[tuple[str, ...], str]] = []  # (the arguments it names, problem)

    def bad(argument: str, problem: str, *others: str) -> None:
        problems.append(((argument, *others), f"{argument}{problem}"))

    for r in roles:
        if r not in SHIFT_ROLES:
            bad("roles", f": {r!r} is not a dispatched role (use {', '.join(SHIFT_ROLES)})")
    if method not in METHODS:
        bad("method", f": use one of {', '.join(METHODS)}")
    if headcount not in ("fewer", "same"):
        bad("headcount", ": use 'fewer' or 'same'")
    if replications < 2:
        bad("replications", ": the optimiser needs at least 2 (it uses confidence bounds)")
    if not 1 <= pilot_replications <= 100:
        bad("pilot_replications", ": from 1 to 100")
    if not 0.5 <= confidence < 1:
        bad("confidence", ": must be at least 0.5 and below 1")
    if target is not None and not 0 < target <= 1:
        bad("target", ": must be a share between 0 and 1")
    if not replications <= max_replications <= 1000:
        bad("max_replications", ": at least replications and at most 1000", "replications")
    if not 0 <= max_rounds <= 100:
        bad("max_rounds", ": from 0 to 100")
    if max_kinds is not None and not 1 <= max_kinds <= 100:
        bad("max_kinds", ": from 1 to 100 different shifts")
    if night_cover is not None and not 0 <= night_cover <= 100_000:
        bad("night_cover", ": from 0 to 100000 units")
    for name, given, lo, hi in (
        ("starts", list(range(24) if starts is None else starts), 0, 23),
        ("lengths", list(lengths), 1, 23),
    ):
        for line in _hours_in(given, lo, hi, name):
            problems.append(((name,), line))
    if longest is not None and not 1 <= longest <= 23:
        bad("longest", ": hours from 1 to 23")
    if by_office and scenario.staff.posts is not None:
        bad(
            "by_office", ": staff placed at explicit posts (staff.posts) have no density to plan by"
        )
    if by_office and shifts_key(scenario, "enforcer") != "staff.shifts.enforcer":
        bad(
            "by_office",
            ": the campaign's enforcer shifts (enforcement.campaign.enforcer_shifts) are "
            "district-wide; plan the campaign without by_office",
        )
    if not problems and longest is not None and not [h for h in lengths if h <= longest]:
        bad("longest", f" {longest}: no allowed length is that short")
    if problems:
        named = dict.fromkeys(a for names, _ in problems for a in names)
        raise ArgumentError([p for _, p in problems], list(named))
    if scenario.staff.roster is not None:
        why = "the shift optimiser deals density-placed staff to shifts; a roster's posts"
        raise ScenarioError([f"staff.roster: {why} keep their own (optimise without it)"])
    start_hours = sorted({int(h) for h in (range(24) if starts is None else starts)})
    lens = sorted({int(h) for h in lengths if longest is None or h <= longest})
    say: Log = log or (print if progress else (lambda _line: None))
    base = prepare(scenario, seed, days)
    goal = float(base.rules.target if target is None else target)
    folder = Path(o["out"]) if o["out"] is not None else None
    if folder is not None:
        folder = open_batch(
            folder, "optimize", (*SHIFT_FILES, scenario_name(scenario)), force=o["force"]
        )
    types = shift_types(start_hours, lens)
    world, stats = _pilot(base, pilot_replications, folder, say, by_office)
    n_off = len(world.areas.office_names)
    night = n_off if night_cover is None else night_cover
    # per part (the district, or each office): its need, and its units today
    part_night = math.ceil(night / n_off) if by_office else night
    part_needs = [{r: hourly_need(s[r], goal, method) for r in roles} for s in stats]
    today = {
        r: np.bincount(world.roster[r].office, minlength=n_off) if by_office
        else np.array([world.roster[r].n]) for r in roles
    }  # fmt: skip
    needs = {r: _summed([x[r] for x in part_needs]) for r in roles}
    want = {r: np.array([x[r].need for x in part_needs], dtype=np.int64) for r in roles}
    floor = {r: np.zeros_like(want[r]) for r in roles}  # below this an hour failed
    warnings: list[str] = []
    history: list[dict[str, Any]] = []
    rounds: list[_Round] = []
    ex_options = {"workers": o["workers"], "scheduler": o["scheduler"], "progress": progress}
    with Executor(folder, **ex_options) as ex:

        def check(sc: Scenario, desc: str) -> tuple[HourVerdicts, dict[str, np.ndarray]]:
            """Sequential sampling: more replications while some hour is undecided.

            Also the late requests per part and hour on each role's clock."""
            reps = replications
            while True:
                records = ex.run([in_force(sc)], reps, desc=f"{desc}, {reps} replications")[0]
                ev = judge_hours(records, goal, confidence)
                st = [ev.status[CLOCKS[r]] for r in roles]
                # a plan with an hour below target changes anyway: no more runs for it
                if (
                    reps >= max_replications
                    or any((s == SHORT).any() for s in st)
                    or not any(np.isin(s, (OPEN, OPEN_BELOW)).any() for s in st)
                ):
                    late = {
                        r: late_by_office(records, r, n_off) if by_office else np.ones((1, 24))
                        for r in roles
                    }
                    return ev, late
                reps = min(max_replications, 2 * reps)

        say(f"optimising the shifts of {base.name}: the scenario's own plan first")
        own = in_force(base)  # every measured day a campaign day after one (in_force)
        old = judge_hours(ex.run([own], replications, desc="own plan")[0], goal, confidence)
        prev_key: tuple[tuple[int, ...], ...] | None = None
        for rnd in range(max_rounds + 1):
            covers = {
                r: [
                    _cover_role(r, want[r][k], types, int(today[r][k]), part_night, max_kinds)
                    for k in range(len(want[r]))
                ]
                for r in roles
            }
            key = tuple(tuple(int(x) for c in covers[r] for x in c.units) for r in roles)
            if key == prev_key:
                break  # the corrections no longer change the plan
            prev_key = key
            plan = plan_by_office if by_office else plan_overrides
            over, roster = plan(base, world, covers, headcount == "same")
            ev, late = check(with_overrides(base, over), f"shift plan, round {rnd + 1}")
            done = _Round(rnd + 1, covers, over, roster, ev, {r: want[r].sum(0) for r in roles})
            rounds.append(done)
            history.append(
                {
                    "round": rnd + 1,
                    "replications": ev.replications,
                    "units": {r: _headcount(covers[r]) for r in roles},
                    "unit_hours": {r: sum(c.unit_hours for c in covers[r]) for r in roles},
                    "staff_hours": round(done.staff_hours(roles), 2),
                    "hours_short": {r: _hours_with(ev, r, SHORT) for r in roles},
                    "hours_undecided": {
                        r: sorted(_hours_with(ev, r, OPEN) + _hours_with(ev, r, OPEN_BELOW))
                        for r in roles
                    },
                    "hours_undecided_mean_below": {
                        r: _hours_with(ev, r, OPEN_BELOW) for r in roles
                    },
                    "every_hour_on_target": done.ok(roles),
                }
            )
            n_short, n_open, *_ = round_rank(history[-1])
            n_below = sum(len(v) for v in history[-1]["hours_undecided_mean_below"].values())
            say(
                f"  round {rnd + 1}: "
                + ", ".join(f"{r} {_headcount(covers[r])} units" for r in roles)
                + f", {done.staff_hours(roles):,.0f} staff-h/day, {ev.replications} replications; "
                + (
                    f"{n_short} hour(s) shown short, {n_open} undecided "
                    f"({n_below} with the mean below target)"
                    if n_short or n_open
                    else "every hour on target"
                )
            )
            if rnd == max_rounds:
                break
            duty = {r: _on_duty(covers[r]) for r in roles}
            correct(ev, roles, duty, want, floor, late, goal, max_replications)
        computed, reused = ex.computed, ex.reused
        chosen = rounds[best_round(history)]
        new, over, roster = chosen.ev, chosen.over, chosen.roster
        # the own plan with as many replications as the chosen plan, for the comparison
        old = judge_hours(ex.run([own], new.replications, desc="own plan")[0], goal, confidence)
        computed, reused = ex.computed, ex.reused
    for r in roles:
        cap = world.roster[r].n
        if _headcount(chosen.covers[r]) > cap:
            warnings.append(
                f"{r}: the plan needs {_headcount(chosen.covers[r])} units, more than today's {cap}"
            )
        if not all(c.optimal for c in chosen.covers[r]):
            warnings.append(
                f"{r}: the covering programme stopped at its time limit with the best plan found "
                "(not proven optimal); fewer --starts or no --max-kinds make it exact"
            )
    feasible = chosen.ok(roles)
    not_met = None
    if not feasible:
        n_short, n_open, *_ = round_rank(history[chosen.number - 1])
        not_met = (
            f"no round met the target in every hour; the plan written is round {chosen.number} "
            f"of {len(history)}, the best one ({n_short} hour(s) shown short, {n_open} "
            "undecided; see shifts.txt); more max_rounds or max_replications may settle them"
        )
        warnings.append(not_met)
    written = with_overrides(scenario, over)
    hours, role_rows = compare(world, roster, roles, needs, chosen.want, old, new, by_office)
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
        "by_office": by_office,
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
        "not_met": not_met,
        "rounds": len(history),
        "chosen_round": chosen.number,
        "runs_simulated": computed,
        "runs_reused": reused,
        "overall": {"old": old.overall, "new": new.overall},
        "overrides": over,
        "history": history,
    }
    if by_office:
        meta["rules"]["night_cover_per_office"] = part_night
    result = ShiftResult(written, over, hours, role_rows, meta, [*ex.warnings, *warnings])
    if folder is not None:
        write_shifts(result, folder)
    return result


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
    from sim.runner import hour_rows

    sc = world.scenario
    records = [
        {"by_hour": hour_rows(simulate(world, k), sc.rules), "measures": {}}
        for k in range(replications)
    ]
    return judge_hours(records, float(sc.rules.target if target is None else target), confidence)
