"""Run a scenario: build its world once, simulate replications, summarise.

This is the Python API behind ``python -m sim run``::

    import sim
    result = sim.run(sim.load_scenario("scenarios/jinshui.yaml"), seed=1)
    result.summary["double_ten"]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sim import budget
from sim.analysis.enforcement import CaseTable, EnforcementRep, case_table
from sim.analysis.enforcement import measures as enforcement_measures
from sim.analysis.enforcement import summary_block as enforcement_block
from sim.analysis.evaluation import EvaluationResult, evaluate, summary_block
from sim.analysis.metrics import breakdown, combine, load, replication_measures
from sim.analysis.preflight import overload_warnings
from sim.engine import campaign
from sim.engine.chain import Chain, standard_chain
from sim.engine.crews import CrewSpec
from sim.engine.demand import CHANNELS, generate_incidents
from sim.engine.dispatch import dispatcher_for
from sim.engine.enforcement import enforcement_chain
from sim.engine.model import DispatchModel
from sim.engine.offenders import OffenderRun, merge, simulate_offenders
from sim.engine.outcomes import DrawContext, Given, draw_all
from sim.engine.records import IncidentTable, RowSources
from sim.roles import OPTIONAL_ROLES
from sim.scenario import ROLES, Rules, Scenario, resolve_scenario, with_overrides
from sim.world.build import World, build_world

ProgressFn = Callable[[float], None]


@dataclass(eq=False)
class RunResult:
    """A finished run: the resolved scenario, every incident, and the summary."""

    scenario: Scenario
    world: World
    table: IncidentTable
    summary: dict[str, Any]
    per_replication: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)  # timings and event counts
    evaluation: EvaluationResult | None = None  # None: shorter than an evaluation month
    cases: CaseTable | None = None  # None: the enforcement chain is off
    load_warnings: list[str] = field(default_factory=list)  # said before simulating

    @property
    def warnings(self) -> list[str]:
        return [*self.world.warnings, *self.load_warnings]


def prepare(scenario: Scenario, seed: int | None = None, days: float | None = None) -> Scenario:
    """The scenario with command-line style seed and run-length overrides applied."""
    over: dict[str, Any] = {}
    if seed is not None:
        over["seed"] = seed
    if days is not None:
        over["duration.days"] = days
    return with_overrides(scenario, over) if over else scenario


def simulate(
    world: World,
    replication: int,
    progress: ProgressFn | None = None,
    stats: dict[str, float] | None = None,
    chain: Chain | None = None,
) -> IncidentTable:
    """One replication on a built world (``stats`` collects its event count).

    ``chain`` is the incident chain (default :func:`~sim.engine.chain.standard_chain`).
    """
    return simulate_chain(world, replication, progress, stats, chain)[0]


def simulate_chain(
    world: World,
    replication: int,
    progress: ProgressFn | None = None,
    stats: dict[str, float] | None = None,
    chain: Chain | None = None,
) -> tuple[IncidentTable, EnforcementRep | None]:
    """One replication with its enforcement outcome (None when enforcement is off).

    With enforcement on, the offender process runs first (its offences depend on what
    happened to the last ones), its incidents join the one-off ones, and the chain gains
    the enforcement stages (:func:`~sim.engine.enforcement.enforcement_chain`).
    """
    world = campaign.staffed(world)
    sc = world.scenario
    chain = chain if chain is not None else standard_chain()
    inc = generate_incidents(world, replication)
    run: OffenderRun | None = None
    given: Given | None = None
    plan = campaign.plan(sc, [s.name for s in world.sites])
    if sc.enforcement.enabled and world.trace is not None:
        # a replayed log already holds the offenders' incidents (docs/model.md)
        chain = enforcement_chain(chain, police=world.roster["police"].n > 0)
    elif sc.enforcement.enabled:
        run = simulate_offenders(world, replication, plan)
        inc, given = merge(inc, run, sc, replication)
        chain = enforcement_chain(chain, police=world.roster["police"].n > 0)
    drawn = draw_all(chain.draws, DrawContext(sc, inc, replication, given))
    crews = {
        role.name: CrewSpec(
            world.roster[role.name],
            dispatcher_for(world, role.name),
            sc.travel.speed_m_per_min(role.name),
        )
        for role in chain.roles
    }
    model = DispatchModel(inc, drawn, crews, sc.horizon_min, chain)
    log = model.run(progress)
    if stats is not None:
        stats["events"] = stats.get("events", 0) + model.events
    labels = {
        "categories": tuple(sc.demand.categories),
        "offices": world.areas.office_names,
        "grids": world.areas.grid_names,
        "node_ids": world.net.ids,
        "channels": CHANNELS,
        "hotspots": tuple(s.name for s in world.sites),
        "rungs": tuple(r.name for r in sc.enforcement.rungs),
    }
    sources = RowSources(
        replication,
        inc,
        log,
        drawn,
        node_office=world.areas.node_office,
        node_grid=world.areas.node_grid,
        warmup_min=sc.warmup_min,
        horizon_min=sc.horizon_min,
    )
    table = IncidentTable.from_run(sources, chain.columns, labels)
    if run is None or given is None:
        return table, None
    cases = case_table(
        replication,
        run,
        given.rows,
        inc,
        log,
        node_office=world.areas.node_office,
        warmup_min=sc.warmup_min,
        horizon_min=sc.horizon_min,
        labels=labels,
    )
    found = enforcement_measures(
        table,
        cases,
        run,
        node_office=world.areas.node_office,
        n_offices=len(world.areas.office_names),
        warmup_min=sc.warmup_min,
        horizon_min=sc.horizon_min,
        campaign=plan,
        site_windows=[s.window for s in world.sites],
        team_size=sc.staff.enforcer_team_size,
        police_target_min=sc.enforcement.cases.police_target_minutes,
    )
    return table, EnforcementRep(cases, found)


def office_rows(world: World, table: IncidentTable) -> list[dict[str, Any]]:
    """On-time shares per street office, with its name, area and staff by role."""
    areas = world.areas
    rows = breakdown(
        table, world.scenario.rules, table["office"], list(areas.office_names), "office"
    )
    staff = world.roster.people_by_office(len(areas.office_names))
    for k, row in enumerate(rows):
        row["name_zh"] = areas.office_names_zh[k]
        row["area_km2"] = round(float(areas.office_km2[k]), 4)
        row["staff"] = {r: int(staff[r][k]) for r in ROLES}
    return rows


def hour_rows(table: IncidentTable, rules: Rules) -> list[dict[str, Any]]:
    """On-time shares by the hour of day the instruction was issued."""
    hours = np.where(table["measured"], table["instructed"] // 60 % 24, 0).astype(int)
    return breakdown(table, rules, hours, [f"{h:02d}" for h in range(24)], "hour")


def summarize(
    world: World,
    table: IncidentTable,
    per_rep: list[dict[str, Any]],
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """The summary written to ``summary.json`` (``warnings`` besides the world's)."""
    sc = world.scenario
    means, ci = combine(per_rep)
    heads = world.roster.headcount()
    areas = world.areas
    by_area = office_rows(world, table)
    m = table["measured"]
    n_meas = max(int(m.sum()), 1)
    summary: dict[str, Any] = {
        "scenario": sc.name,
        "seed": sc.seed,
        "replications": len(per_rep),
        "days": sc.duration.days,
        "warmup_hours": sc.duration.warmup_hours,
        "policy": sc.dispatch.policy,
        # the background count a day on this map, and what the scenario gave for it
        "demand": {
            **world.volume.as_dict(),
            "hotspots": len(world.sites),
            "hotspot_incidents_per_day": sum(s.per_day for s in world.sites),
        },
        "staff": {
            **heads,
            "total": sum(heads.values()),
            "per_km2": world.staff_per_km2,
            "area_km2": areas.total_km2,
            # optional roles posted (police): people, not in the total or the density
            **{r: world.roster[r].people for r in world.roster.present() if r in OPTIONAL_ROLES},
        },
        # every measure of a replication (metrics.replication_measures), in its order
        **{k: v for k, v in means.items() if k != "discovery"},
        # pooled over replications, like the breakdowns
        "overload": load(table, world.roster.units, sc.warmup_min, sc.horizon_min),
        "discovery": {
            "channels": {
                ch: int(((table["channel"] == k) & m).sum()) / n_meas
                for k, ch in enumerate(CHANNELS)
            },
            **means["discovery"],
        },
        "ci95": {k: v for k, v in ci.items() if v is not None} if len(per_rep) > 1 else {},
        "by_area": by_area,
        "by_hour": hour_rows(table, sc.rules),
        "by_category": breakdown(
            table, sc.rules, table["category"].astype(int), list(table.categories), "category"
        ),
        "by_grid": breakdown(table, sc.rules, table["grid"], list(areas.grid_names), "grid"),
        "warnings": [*world.warnings, *warnings],
        "scenario_resolved": world.resolved.saved(),
    }
    rounded: dict[str, Any] = _rounded(summary)
    return rounded


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def run(
    scenario: Scenario,
    *,
    seed: int | None = None,
    days: float | None = None,
    replications: int = 1,
    progress: bool | ProgressFn = False,
    world: World | None = None,
    memory_limit: int | None = None,
    chain: Chain | None = None,
    warn: Callable[[list[str]], None] | None = None,
) -> RunResult:
    """Simulate ``replications`` independent replications and summarise them.

    ``memory_limit`` (bytes; default what the machine has free) bounds the estimated
    memory of the world and the incident log; a run over it is refused before it starts.
    ``chain`` replaces the standard incident chain (:mod:`sim.engine.chain`), e.g. with
    an added stage. Before simulating, a role whose expected load is over capacity over
    the whole day is found (:func:`sim.analysis.preflight.overload_warnings`); ``warn``
    gets the world's warnings and these at once, and the summary keeps them.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    sc = prepare(scenario, seed, days)
    clock = time.perf_counter()
    if world is None or world.scenario != sc:
        world = build_world(resolve_scenario(sc), memory_limit)
    world = campaign.staffed(world)
    notes = [w for w in campaign.warnings(sc) if w not in world.warnings]
    if notes:
        world = replace(world, warnings=[*world.warnings, *notes])
    traced = world.trace.n if world.trace is not None else None
    budget.check_incidents(sc, world.volume, replications, memory_limit, traced)
    stats: dict[str, float] = {"build_seconds": time.perf_counter() - clock}
    clock = time.perf_counter()
    load_warnings = overload_warnings(world)
    if warn is not None:
        warn([*world.warnings, *load_warnings])
    stats["preflight_seconds"] = time.perf_counter() - clock
    clock = time.perf_counter()
    tables, per_rep, outcomes = [], [], []
    bar = _progress_bar(sc, replications) if progress is True else None
    for rep in range(replications):
        cb: ProgressFn | None
        if bar is not None:
            base = rep * sc.horizon_min

            def cb(t: float, base: float = base) -> None:
                bar.update(base + t - bar.n)
        else:
            cb = progress if callable(progress) else None
        t, outcome = simulate_chain(world, rep, cb, stats, chain)
        tables.append(t)
        if outcome is not None:
            outcomes.append(outcome)
        per_rep.append(
            replication_measures(t, sc.rules, world.roster.units, sc.warmup_min, sc.horizon_min)
        )
    if bar is not None:
        bar.close()
    stats["simulate_seconds"] = time.perf_counter() - clock
    table = IncidentTable.concat(tables)
    summary = summarize(world, table, per_rep, load_warnings)
    evaluation = evaluate(world, table)
    summary["evaluation"] = summary_block(evaluation, sc)
    cases = None
    if outcomes:
        cases = CaseTable.concat([c.cases for c in outcomes])
        block = enforcement_block([c.measures for c in outcomes], world.areas.office_names)
        summary["enforcement"] = _rounded(block)
    return RunResult(sc, world, table, summary, per_rep, stats, evaluation, cases, load_warnings)


def _progress_bar(sc: Scenario, replications: int) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=replications * sc.horizon_min,
        desc=f"simulating {sc.name}",
        unit="sim-min",
        unit_scale=True,
        delay=2.0,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
    )
