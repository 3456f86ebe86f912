"""Staffing optimiser: the least staff per street office that meets an on-time target.

This is the Python API behind ``python -m sim optimize``::

    import sim
    table = sim.optimize(sim.load_scenario("scenarios/jinshui.yaml"),
                         target={"double_ten": 0.95}, replications=10, days=1)

A plan gives every street office its own density (``staff.per_km2_by_office``). An
office *meets the target* when the one-sided lower confidence bound (t over
replications) of its mean per-replication share is at least the target, for every
target measure. A plan is *feasible* when every office meets the target.

Offices interact (nearest dispatch crosses borders), so the search always evaluates
whole plans, every office at once, and decides per office from that joint evaluation:

1. **Bracketing search.** Start from a low uniform density. After each evaluation an
   office that fails is raised (by one step, then 2, 4, ... steps while it keeps
   failing) and an office that passes is lowered the same way, until each office has
   a failing and a passing level one step apart; then bisect between them. A
   bracket found in one context is dropped when the neighbours change the answer.
2. **Lowering passes.** From the cheapest feasible plan seen, try lowering each office
   by one step (all these plans are evaluated together, in parallel); keep every
   lowering that stays feasible if they are feasible together, else the best single
   one; repeat until no single one-step lowering is feasible. Then the plan is
   *locally minimal*: lowering any one office by a step makes some office fail.
   A lowering is skipped when a plan with at least as many staff everywhere has missed
   the target on average in some office.

All plans use the same seeds (common random numbers), so comparisons between plans are
paired and sharp; the number of plan evaluations is bounded (``max_evaluations``) and
reported. A plan stops after 3 or 5 replications once it certainly fails
(:mod:`sim.batch.sequential`); one that may be feasible gets all R. Runs are stored
like a sweep's, so an interrupted optimisation resumes.

The search is :mod:`sim.batch.plansearch`; the printed plan :mod:`sim.output.plantext` and
its picture :mod:`sim.viz.planplot`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import numpy as np

from sim.analysis.evaluation import month_count
from sim.analysis.measures import DISCOVERY, TARGETS, unknown_target
from sim.atomic import atomic_path, write_text_atomic
from sim.batch.executor import Executor
from sim.batch.options import OPTIMIZE, BatchFields, BatchOptions, split
from sim.batch.plansearch import Evaluation, Log, Search
from sim.batch.sequential import ALPHA_LOOK, looks
from sim.errors import ArgumentError
from sim.output.folders import open_batch
from sim.output.plantext import plan_text
from sim.output.report.batchpage import plan_page
from sim.output.strictjson import dumps
from sim.overrides import split_assignment
from sim.runner import prepare
from sim.scenario import ROLES, Scenario, ScenarioError
from sim.viz.planplot import plot_plan

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AT_MOST", "LABELS", "MEASURES", "OPTIMIZE_ARGUMENTS", "PLAN", "PLAN_FILES", "Evaluation",
    "OptimizeOptions", "Plan", "PlanOptions", "optimize", "optimize_plan", "parse_target",
    "plan_text", "plot_plan", "write_plan",
]  # fmt: skip

# What may be targeted (sim.analysis.measures.TARGETS), in words, and which targets are
# ceilings: an office meets ``black_flag=0.2`` when the one-sided upper confidence bound of
# its black-flag probability (share of evaluated months) is <= 0.2.
MEASURES: tuple[str, ...] = tuple(TARGETS)
LABELS: dict[str, str] = {m.name: m.label for m in TARGETS.values()}
AT_MOST: frozenset[str] = frozenset(m.name for m in TARGETS.values() if m.ceiling)
# the district's discovery measures by short name (``never_found``), as in the totals
_DISCOVERY: tuple[str, ...] = tuple(m.name.split(".", 1)[1] for m in DISCOVERY)
# the keyword arguments whose problems :func:`optimize_plan` reports (the CLI's flags)
OPTIMIZE_ARGUMENTS = (
    "target", "days", "replications", "confidence", "min_density", "start", "max_density",
    "step", "max_evaluations", "mix",
)  # fmt: skip


def parse_target(text: str) -> tuple[str, float]:
    """``double_ten=0.95`` → ``("double_ten", 0.95)``; ``95%`` is accepted too."""
    key, raw = split_assignment(text, "MEASURE=SHARE, e.g. double_ten=0.95")
    raw = raw.strip()
    if not raw:
        raise ArgumentError([f"target {text!r}: expected MEASURE=SHARE"], ["target"])
    if key not in TARGETS:
        raise ArgumentError([unknown_target(key)], ["target"])
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ArgumentError([f"target {key}: {raw!r} is not a number"], ["target"]) from None
    if not 0 < value <= 1:
        raise ArgumentError(
            [f"target {key}: must be a share between 0 and 1 (or a percentage), got {raw}"],
            ["target"],
        )
    return key, value


@dataclass
class Plan:
    """The optimiser's answer and how it was found."""

    table: pd.DataFrame  # one row per street office
    totals: dict[str, Any]
    meta: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------ API


@dataclass(frozen=True, kw_only=True)
class PlanOptions:
    """How the staffing optimiser searches and when an office meets the target.

    An office meets a target when the one-sided ``confidence`` bound over the replications
    of its mean share reaches it. ``mix="advisor"`` also tries advisor shares of advisors +
    enforcers (``mix_values``; default the current share ± 0.1). The search starts at the
    uniform density ``start``, changes offices by ``step`` per km² within
    ``min_density``..``max_density``, evaluates at most ``max_evaluations`` plans and
    compares with the uniform ``baseline``. ``early_stop``: a plan that certainly fails
    stops after 3 or 5 replications (:mod:`sim.batch.sequential`).
    """

    confidence: float = 0.95
    mix: str | None = None
    mix_values: Sequence[float] | None = None
    start: float = 10.0
    step: float = 1.0
    min_density: float = 2.0
    max_density: float = 100.0
    baseline: float = 20.0
    max_evaluations: int = 200
    early_stop: bool = True


class PlanFields(TypedDict, total=False):
    """The fields of :class:`PlanOptions` as keyword arguments (names only, no defaults)."""

    confidence: float
    mix: str | None
    mix_values: Sequence[float] | None
    start: float
    step: float
    min_density: float
    max_density: float
    baseline: float
    max_evaluations: int
    early_stop: bool


class OptimizeOptions(BatchFields, PlanFields, total=False):
    """The keyword options of :func:`optimize` and :func:`optimize_plan`: the fields of
    :class:`PlanOptions` and :class:`BatchOptions`, the objects and the progress log."""

    plan: PlanOptions
    batch: BatchOptions
    log: Log | None


PLAN = PlanOptions()
"""The staffing optimiser's defaults."""


def optimize_plan(
    scenario: Scenario,
    target: Mapping[str, float] | None = None,
    *,
    plan: PlanOptions = PLAN,
    batch: BatchOptions = OPTIMIZE,
    log: Log | None = None,
    **options: Unpack[OptimizeFields],
) -> Plan:
    """The least staff per street office so that every office meets ``target``.

    ``target`` maps measures (``double_ten``, ``advisor_on_time``, ``enforcer_on_time``,
    ...: :data:`sim.analysis.measures.TARGETS`) to shares; default: double ten at the
    scenario's ``rules.target``. ``plan`` (default :data:`PLAN`) says how the search goes
    (:class:`PlanOptions`); ``batch`` (default :data:`sim.batch.options.OPTIMIZE`) holds
    the replications, days, seed and where runs execute and are kept, as for
    :func:`sim.batch.sweeps.run_sweep`; a field of either may be given as a keyword,
    replacing the object's. ``log`` receives progress lines. These keyword options are
    also those of :func:`optimize` (:class:`OptimizeOptions`). See the module doc for the
    method.
    """
    o, b = split(plan, batch, options)
    targets = dict(target) if target else {"double_ten": prepare(scenario).rules.target}
    _check(scenario, targets, o, b)
    base = prepare(scenario, b.seed, b.days)
    shares = _mix_shares(base, o)
    say: Log = log or (print if b.progress else (lambda _line: None))
    folder = Path(b.out) if b.out is not None else None
    if folder is not None:
        folder = open_batch(folder, "optimize", PLAN_FILES, force=b.force)
    with Executor.for_batch(folder, b) as ex:
        s = Search(
            base, targets, o.confidence, b.replications, ex, o.max_evaluations, say,
            early_stop=o.early_stop,
        )  # fmt: skip
        for a in shares:  # validate every mix before any run
            if a is not None:
                s.scenario(None, a)
        say(f"optimising {base.name}: uniform {o.baseline:g}/km² first")
        uniform, uniform_warnings = s.baseline(o.baseline)
        found = _searches(s, shares, o)
        runs = (ex.computed, ex.reused)
    final, minimal = _chosen(s, found, uniform)
    plan_key = (final.people, final.advisor_share)
    warnings = s.warnings.get(plan_key, uniform_warnings if final is uniform else [])
    warnings = [*ex.warnings, *warnings]  # stored runs found damaged and simulated again
    table, totals = _table(s, final, uniform, o.baseline, base)
    meta = _meta(s, o, b, base, (final, minimal), found, runs)
    result = Plan(table, totals, meta, warnings)
    if folder is not None:
        write_plan(result, folder)
    return result


class OptimizeFields(BatchFields, PlanFields, total=False):
    """The fields of :class:`PlanOptions` and :class:`BatchOptions` as keywords."""


def _check(
    scenario: Scenario, targets: Mapping[str, float], o: PlanOptions, b: BatchOptions
) -> None:
    """Every problem with the targets and options, before anything is simulated."""
    problems = [unknown_target(m) for m in targets if m not in TARGETS]
    problems += [
        f"target {m}: must be between 0 and 1" for m, v in targets.items() if not 0 < v <= 1
    ]
    if "black_flag" in targets and month_count(prepare(scenario, b.seed, b.days)) == 0:
        problems.append(
            "target black_flag: runs must cover at least one evaluation month "
            "(days >= evaluation.month_days)"
        )
    if "repeat_share" in targets and not scenario.enforcement.enabled:
        problems.append(
            "target repeat_share: the scenario's enforcement chain is off "
            "(enforcement.enabled: false), so no incident has a known offender"
        )
    checks = [
        (b.replications < 2,
         "replications: the optimiser needs at least 2 (to put bounds on its estimates)"),
        (not 0.5 <= o.confidence < 1, "confidence: must be at least 0.5 and below 1"),
        (not 0 <= o.min_density <= o.start <= o.max_density <= 1000,
         "min_density <= start <= max_density <= 1000 must hold"),
        (o.step <= 0, "step: must be positive"),
        (o.max_evaluations < 3, "max_evaluations: must be at least 3"),
        (o.mix not in (None, "advisor"), f"mix: unknown mix search {o.mix!r} (use 'advisor')"),
    ]  # fmt: skip
    problems += [line for bad, line in checks if bad]
    if scenario.staff.posts is not None:
        raise ScenarioError(
            ["staff.posts: explicit posts replace densities; the optimiser needs density placement"]
        )
    if scenario.staff.roster is not None:
        raise ScenarioError(
            [
                "staff.roster: a roster's posts replace densities; the optimiser needs density placement"
            ]
        )
    if problems:
        raise ArgumentError(problems, OPTIMIZE_ARGUMENTS)


def _mix_shares(base: Scenario, o: PlanOptions) -> list[float | None]:
    """The advisor shares to search with (``None``: the scenario's mix as it is)."""
    if o.mix != "advisor":
        return [None]
    m = base.staff.mix
    current = m.of("advisor") / max(m.of("advisor") + m.of("enforcer"), 1e-9)
    raw = list(o.mix_values) if o.mix_values else [round(current + d, 2) for d in (-0.1, 0, 0.1)]
    bad = [v for v in raw if not isinstance(v, int | float) or not 0 < float(v) < 1]
    if bad:
        raise ArgumentError(
            [f"mix_values: shares must be between 0 and 1, got {', '.join(map(str, bad))}"],
            ["mix_values"],
        )
    return list(dict.fromkeys(round(float(v), 4) for v in raw))


def _searches(
    s: Search, shares: Sequence[float | None], o: PlanOptions
) -> list[tuple[Evaluation, bool]]:
    """A search per mix, each with its part of the evaluations left: (best plan, minimal?)."""
    found: list[tuple[Evaluation, bool]] = []
    for i, a in enumerate(shares):
        budget = s.evaluations + s.remaining // (len(shares) - i)
        s.log(f"search{'' if a is None else f' with advisors = {a:.0%} of advisors + enforcers'}")
        best, minimal = s.search(a, o.start, o.step, o.min_density, o.max_density, budget=budget)
        if best is not None:
            found.append((best, minimal))
    return found


def _chosen(
    s: Search, found: Sequence[tuple[Evaluation, bool]], uniform: Evaluation
) -> tuple[Evaluation, bool]:
    """The plan to report, and whether it is confirmed locally minimal."""
    if found:
        return min(found, key=lambda f: (f[0].total, -f[0].margin))
    # nothing feasible found by the searches: the cheapest feasible plan evaluated (the
    # uniform one, say), else the plan with the fewest offices below target
    final = min(
        s.memo.values(),
        key=lambda e: (
            not e.feasible,
            e.total if e.feasible else int((~e.passes).sum()),
            -e.margin,
        ),
        default=uniform,
    )
    return final, False


def _meta(
    s: Search,
    o: PlanOptions,
    b: BatchOptions,
    base: Scenario,
    chosen: tuple[Evaluation, bool],
    found: Sequence[tuple[Evaluation, bool]],
    runs: tuple[int, int],
) -> dict[str, Any]:
    final, minimal = chosen
    return {
        "scenario": base.name,
        "targets": s.targets,
        "confidence": o.confidence,
        "criterion": f"one-sided {o.confidence:.0%} lower confidence bound (t over replications) "
        "of each office's mean share >= target, for every target measure",
        "replications": b.replications,
        "days": base.duration.days,
        "warmup_hours": base.duration.warmup_hours,
        "seed": base.seed,
        "feasible": final.feasible,
        "not_met": why_not_met(s, final, o.max_density),
        "locally_minimal": minimal,
        "evaluations": s.evaluations,
        "early_stop": {"looks": looks(b.replications, o.early_stop),
                       "alpha_per_look": ALPHA_LOOK} if o.early_stop else None,
        "max_evaluations": o.max_evaluations,
        "runs_simulated": runs[0],
        "runs_reused": runs[1],
        "search": {"start": o.start, "step": o.step, "min_density": o.min_density,
                   "max_density": o.max_density},
        "baseline_density": o.baseline,
        "mix": s.mix_for(final.advisor_share)
        if final.advisor_share is not None
        else base.staff.mix.model_dump(),
        "mixes_tried": [
            {"advisor_share": e.advisor_share, "staff": e.total, "locally_minimal": mm}
            for e, mm in found
        ] if o.mix else [],
        "overrides": _overrides(s, final),
        "history": s.history,
    }  # fmt: skip


def optimize(
    scenario: Scenario,
    target: Mapping[str, float] | None = None,
    **options: Unpack[OptimizeOptions],
) -> pd.DataFrame:
    """The least staff per street office so that every office meets ``target``.

    Options and defaults are those of :func:`optimize_plan`. Returns one row per street
    office (density, staff by role, achieved shares with bounds) beside the uniform
    baseline plan; ``.attrs`` holds ``totals`` (including the district's discovery
    measures, e.g. ``never_found``) and ``meta`` (evaluations, whether the plan is
    feasible and locally minimal, the overrides to apply).
    """
    plan = optimize_plan(scenario, target, **options)
    table = plan.table.copy()
    table.attrs = {"totals": plan.totals, "meta": plan.meta}
    return table


def why_not_met(s: Search, final: Evaluation, max_density: float) -> str | None:
    """Why the plan found leaves offices below target, in one line (None: it does not).

    An office below target even at the highest density allowed cannot be brought there by
    more staff of this mix; otherwise the evaluation budget ran out first.
    """
    failing = [int(o) for o in np.flatnonzero(~final.passes)]
    if not failing:
        return None
    cap = s.people_at(max_density)
    evaluated = list(s.memo.values())

    def best(o: int) -> str:
        parts = []
        for m, goal in s.targets.items():
            bounds = [float(e.lower[m][o]) for e in evaluated if math.isfinite(e.lower[m][o])]
            if bounds:
                b = min(bounds) if TARGETS[m].ceiling else max(bounds)
                parts.append(f"{TARGETS[m].label} {100 * b:.1f}% at best, target {100 * goal:g}%")
        return f"{s.offices[o]} ({'; '.join(parts) or 'too few incidents to judge'})"

    at_cap = [o for o in failing if any(e.people[o] >= cap[o] for e in evaluated)]
    named = ", ".join(best(o) for o in (at_cap or failing)[:3])
    more = f" and {len(at_cap or failing) - 3} more" if len(at_cap or failing) > 3 else ""
    if at_cap:
        why = (
            f"{len(at_cap)} office(s) stay below the target even at the highest density "
            f"allowed ({max_density:g} per km², max_density): {named}{more}"
        )
    elif s.remaining <= 0:
        why = (
            f"the evaluation budget ({s.max_evaluations}, max_evaluations) ran out with "
            f"{len(failing)} office(s) below target: {named}{more}"
        )
    else:
        why = f"no plan evaluated has every office on target: {named}{more}"
    if any(goal >= 1 and not TARGETS[m].ceiling for m, goal in s.targets.items()):
        why += (
            "; a target of 100% asks every instruction in every replication to be on time, "
            "which no staffing guarantees"
        )
    return why


def _overrides(s: Search, ev: Evaluation) -> dict[str, Any]:
    over: dict[str, Any] = {
        "staff.per_km2_by_office": {
            o: s.density(n, k) for k, (o, n) in enumerate(zip(s.offices, ev.people, strict=True))
        }
    }
    if ev.advisor_share is not None:
        over["staff.mix"] = s.mix_for(ev.advisor_share)
    return over


def _table(
    s: Search, ev: Evaluation, uniform: Evaluation, baseline: float, base: Scenario
) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pandas as pd  # deferred: pandas loads only when a table is made

    days = base.duration.days
    rows = []
    for o, name in enumerate(s.offices):
        row: dict[str, Any] = {
            "office": name,
            "name_zh": s.names_zh[o],
            "area_km2": round(float(s.km2[o]), 4),
            "density": round(float(ev.staff[o].sum()) / float(s.km2[o]), 2),
            "staff": int(ev.staff[o].sum()),
            **{role: int(ev.staff[o][r]) for r, role in enumerate(ROLES)},
        }
        for m in s.targets:
            row[m] = _f(ev.mean[m][o])
            row[f"{m}.lower"] = _f(ev.lower[m][o])
            row[f"{m}.ci95"] = _f(ev.ci95[m][o])
        row["meets_target"] = bool(ev.passes[o])
        row["assessable"] = bool(ev.assessable[o])
        row["instructions_per_day"] = round(float(ev.incidents[o]) / days, 2)
        row["baseline_density"] = baseline
        row["baseline_staff"] = int(uniform.staff[o].sum())
        for m in s.targets:
            row[f"baseline_{m}"] = _f(uniform.mean[m][o])
            row[f"baseline_{m}.lower"] = _f(uniform.lower[m][o])
        row["baseline_meets_target"] = bool(uniform.passes[o])
        row["staff_change"] = row["staff"] - row["baseline_staff"]
        rows.append(row)
    table = pd.DataFrame(rows)
    total, base_total = ev.total, uniform.total
    area = float(s.km2.sum())
    totals = {
        "area_km2": round(area, 4),
        "staff": total,
        "density": round(total / area, 2) if area else None,
        "by_role": {role: int(ev.staff[:, r].sum()) for r, role in enumerate(ROLES)},
        "offices_meeting_target": int(ev.passes.sum()),
        "offices": len(s.offices),
        "baseline_staff": base_total,
        "baseline_offices_meeting_target": int(uniform.passes.sum()),
        "staff_change": total - base_total,
        "staff_change_pct": round(100 * (total - base_total) / base_total, 1)
        if base_total
        else None,
    }
    # district-level discovery: the target says nothing about problems left unfound
    for key in _DISCOVERY:
        totals[key] = _f(ev.discovery.get(key))
        totals[f"baseline_{key}"] = _f(uniform.discovery.get(key))
    return table, totals


def _f(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), 6)


PLAN_FILES = ("runs", "plan.csv", "plan.json", "plan.txt", "plan.png", "report.html")
"""What the optimiser writes into its folder (and may overwrite when resumed)."""


def write_plan(plan: Plan, folder: Path) -> None:
    """``plan.csv`` (with a TOTAL row), ``plan.json``, ``plan.txt`` and ``plan.png``."""
    import pandas as pd  # deferred: pandas loads only when a plan is written

    tot = plan.totals
    total = {
        "office": "TOTAL",
        "area_km2": tot["area_km2"],
        "density": tot["density"],
        "staff": tot["staff"],
        **tot["by_role"],
        "meets_target": tot["offices_meeting_target"] == tot["offices"],
        "baseline_staff": tot["baseline_staff"],
        "staff_change": tot["staff_change"],
        **{k: tot.get(k) for k in (*_DISCOVERY, *(f"baseline_{k}" for k in _DISCOVERY))},
    }
    csv = pd.concat([plan.table, pd.DataFrame([total])], ignore_index=True)
    write_text_atomic(folder / "plan.csv", str(csv.to_csv(index=False, lineterminator="\n")))
    data = {
        **plan.meta,
        "totals": plan.totals,
        "offices": plan.table.to_dict("records"),
        "warnings": plan.warnings,
    }
    write_text_atomic(folder / "plan.json", dumps(data))
    write_text_atomic(folder / "plan.txt", plan_text(plan) + "\n")
    with atomic_path(folder / "plan.png") as tmp:
        plot_plan(plan, tmp)
    write_text_atomic(folder / "report.html", plan_page(folder).render())
