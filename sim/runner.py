"""Run a scenario: build its world once, simulate replications, summarise.

This is the Python API behind ``python -m sim run``::

    import sim
    result = sim.run(sim.load_scenario("scenarios/jinshui.yaml"), seed=1)
    result.summary["double_ten"]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sim import budget
from sim.analysis.enforcement import CaseTable, EnforcementOutcome, case_table
from sim.analysis.evaluation import EvaluationResult
from sim.analysis.preflight import overload_warnings
from sim.analysis.record import Measures, cases_of, measure_run, replicate, summary
from sim.engine import campaign
from sim.engine.chain import Chain, standard_chain
from sim.engine.crews import CrewSpec
from sim.engine.demand import CHANNELS, generate_incidents
from sim.engine.dispatch import dispatcher_for
from sim.engine.enforcement import enforcement_chain
from sim.engine.model import DispatchModel
from sim.engine.offenders import OffenderRun, merge, simulate_offenders
from sim.engine.outcomes import DrawContext, draw_all
from sim.engine.records import IncidentTable, RowSources
from sim.engine.trace_offenders import replay_offenders
from sim.scenario import Scenario, resolve_scenario, with_overrides
from sim.world.build import World, build_world

if TYPE_CHECKING:
    import numpy as np

ProgressFn = Callable[[float], None]


@dataclass(eq=False)
class RunResult:
    """A finished run: the resolved scenario, every incident, and the summary.

    ``summary`` is ``summary.json``, laid out from ``measures``, the run's measures record
    (:mod:`sim.analysis.record`); ``per_replication`` holds each replication's measures.
    """

    scenario: Scenario
    world: World
    table: IncidentTable
    summary: dict[str, Any]
    per_replication: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)  # timings and event counts
    evaluation: EvaluationResult | None = None  # None: shorter than an evaluation month
    cases: CaseTable | None = None  # None: the enforcement chain is off
    measures: Measures | None = None
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
) -> tuple[IncidentTable, EnforcementOutcome | None]:
    """One replication with its enforcement outcome (None when enforcement is off).

    With enforcement on, the chain gains the enforcement stages
    (:func:`~sim.engine.enforcement.enforcement_chain`). On drawn demand the offender
    process runs first (its offences depend on what happened to the last ones) and its
    incidents join the one-off ones; on a replayed log, whose incidents are every offence,
    the chain decides whom each is against and what it meets
    (:mod:`sim.engine.trace_offenders`).
    """
    sc = world.scenario
    chain = chain if chain is not None else standard_chain()
    inc = generate_incidents(world, replication)
    run: OffenderRun | None = None
    rows: np.ndarray | None = None
    plan = campaign.plan(sc, [s.name for s in world.sites])
    if sc.enforcement.enabled:
        chain = enforcement_chain(chain, police=world.roster["police"].n > 0)
    if not sc.enforcement.enabled:
        drawn = draw_all(chain.draws, DrawContext(sc, inc, replication))
    elif world.trace is None:
        run = simulate_offenders(world, replication, plan)
        inc, given = merge(inc, run, sc, replication)
        drawn = draw_all(chain.draws, DrawContext(sc, inc, replication, given))
        rows = given.rows
    else:
        # a replayed log holds every offence: the chain decides what they meet
        drawn = draw_all(chain.draws, DrawContext(sc, inc, replication))
        replayed = replay_offenders(world, inc, drawn, replication, plan)
        inc, drawn, run, rows = replayed.incidents, replayed.drawn, replayed.run, replayed.rows
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
    labels = _labels(world)
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
    if run is None or rows is None:
        return table, None
    return table, EnforcementOutcome(case_table(sources, run, rows, labels), run, plan)


def _labels(world: World) -> dict[str, tuple[str, ...]]:
    """The names the record's codes stand for."""
    sc = world.scenario
    return {
        "categories": tuple(sc.demand.categories),
        "offices": world.areas.office_names,
        "grids": world.areas.grid_names,
        "node_ids": world.net.ids,
        "channels": CHANNELS,
        "hotspots": tuple(s.name for s in world.sites),
        "rungs": tuple(r.name for r in sc.enforcement.rungs),
    }


def run(  # noqa: PLR0913 - sim.run is the API: each option one keyword, like the CLI's flags
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
    tables, reps, outcomes = [], [], []
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
        reps.append(replicate(world, t, outcome))
    if bar is not None:
        bar.close()
    stats["simulate_seconds"] = time.perf_counter() - clock
    table = IncidentTable.concat(tables)
    measures = measure_run(world, table, reps)
    return RunResult(
        sc,
        world,
        table,
        summary(world, table, measures, load_warnings),
        [r.replication for r in reps],
        stats,
        measures.evaluation_result,
        cases_of(outcomes),
        measures,
        load_warnings,
    )


def _progress_bar(sc: Scenario, replications: int) -> Any:
    from tqdm import tqdm  # deferred: loaded only when a progress bar is shown

    return tqdm(
        total=replications * sc.horizon_min,
        desc=f"simulating {sc.name}",
        unit="sim-min",
        unit_scale=True,
        delay=2.0,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
    )
