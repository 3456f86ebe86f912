"""The measures record: one replication (or a run's replications) in, every measure out.

:func:`measure_replication` turns a replication — the world, its incident table and its
enforcement outcome — into a :class:`Measures` record, and :func:`measure_run` combines
the records of a run's replications. Everything that shows a measure reads a record:
``summary.json`` is laid out from it (:meth:`Measures.summary`), with every measure of
the registry (:data:`sim.analysis.measures.RUN`) at its dotted name as a path, ``null``
where the run has no such part (no police posted, no enforcement chain); a sweep stores
its flat measures (:attr:`Measures.run`) and its street-office and hour rows; the staffing
optimiser's targets are columns of its office rows; the printed tables read
``summary.json``. A reader of a written ``summary.json`` (a report, a notebook) finds a
measure with :func:`sim.analysis.measures.lookup` or reads them all with :func:`run_measures`.

Several replications: the measures of a replication (the clocks, counts, utilisation,
discovery, the enforcement chain's) are averaged over them, with 95% confidence
half-widths; the load, the street-office and hour breakdowns, the worst office and the
evaluation are of the replications pooled, as one table (they agree with the mean for one
replication, and for the linear ones always).

This module imports no plotting: it is the layer between the simulation and every output.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis import enforcement as enforcement_chain
from sim.analysis.enforcement import CaseTable, EnforcementOutcome, repeat_share_by
from sim.analysis.evaluation import EvaluationResult, add_office_columns, evaluate, evaluation_block
from sim.analysis.measures import RUN, lookup
from sim.analysis.metrics import breakdown, combine, load, replication_measures
from sim.engine.demand import CHANNELS
from sim.engine.records import IncidentTable
from sim.roles import OPTIONAL_ROLES
from sim.scenario import ROLES, Rules
from sim.world.build import World

__all__ = [
    "EnforcementOutcome",
    "Measures",
    "Replicate",
    "hour_rows",
    "measure_replication",
    "measure_run",
    "office_rows",
    "replicate",
    "rounded",
    "run_measures",
]


@dataclass(frozen=True, eq=False)
class Measures:
    """Every measure of one replication, or of a run's replications together.

    ``replication`` holds the measures of a replication, nested as in ``summary.json``
    (:func:`~sim.analysis.metrics.replication_measures` and ``incidents_occurred``): for
    several replications their means, with ``ci95`` the 95% half-widths by dotted name.
    ``by_office`` has a row per street office with every office measure of the registry
    (:data:`~sim.analysis.measures.OFFICE`: the optimiser's targets among them) and its
    name, area and staff; ``by_hour`` a row per hour of day; ``overload`` the load of each
    clocked role; ``channels`` how problems were found; ``enforcement`` and ``evaluation``
    the blocks of ``summary.json`` (with a ``note`` where the run has none), and their raw
    parts for combining (``enforcement_raw``: a replication's measures, or None) and files
    (``evaluation_result``).
    """

    replications: int
    replication: dict[str, Any]
    ci95: dict[str, float]
    by_office: list[dict[str, Any]]
    by_hour: list[dict[str, Any]]
    overload: dict[str, Any]
    channels: dict[str, float]
    enforcement: dict[str, Any]
    enforcement_raw: dict[str, Any] | None
    evaluation: dict[str, Any]
    evaluation_result: EvaluationResult | None
    headcount: dict[str, Any]
    area_km2: float
    target: float  # the rules' on-time target, which offices_on_target counts against

    def tree(self) -> dict[str, Any]:
        """The measures as ``summary.json`` nests them: each of the registry at its dotted
        name (``null`` where the run has no such part), with the blocks around them."""
        rep = {k: v for k, v in self.replication.items() if k != "discovery"}
        shares = [r["double_ten"] for r in self.by_office if r["double_ten"] is not None]
        on_target = sum(s >= self.target for s in shares) / len(shares) if shares else None
        tree: dict[str, Any] = {
            "headcount": self.headcount,
            "area_km2": self.area_km2,
            **rep,
            "worst_office": {"double_ten": min(shares) if shares else None},
            "offices_on_target": on_target,
            "overload": self.overload,
            "discovery": {"channels": self.channels, **self.replication["discovery"]},
            "ci95": self.ci95,
            "evaluation": self.evaluation,
            "enforcement": self.enforcement,
        }
        return with_every_measure(copy.deepcopy(tree))

    @property
    def run(self) -> dict[str, Any]:
        """Every measure of the registry by its dotted name: a sweep's row of one run."""
        return run_measures(self.tree())


def run_measures(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Every measure of the registry (:data:`~sim.analysis.measures.RUN`) from a summary
    (:meth:`Measures.summary`, or a ``summary.json`` read back), by its dotted name."""
    return {name: lookup(summary, name) for name in RUN}


def with_every_measure(tree: dict[str, Any]) -> dict[str, Any]:
    """``tree`` with every measure of the registry present at its path: ``null`` where the
    run has no such part (a block that is ``null`` becomes one of ``null`` leaves)."""
    for name in RUN:
        node = tree
        *parents, leaf = name.split(".")
        for key in parents:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node.setdefault(leaf, None)
    return tree


# ------------------------------------------------------------------ breakdowns


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


def _channels(table: IncidentTable) -> dict[str, float]:
    m = table["measured"]
    n_meas = max(int(m.sum()), 1)
    return {ch: int(((table["channel"] == k) & m).sum()) / n_meas for k, ch in enumerate(CHANNELS)}


def _headcount(world: World) -> dict[str, Any]:
    heads = world.roster.headcount()
    return {
        **heads,
        "total": sum(heads.values()),
        "per_km2": world.staff_per_km2,
        # optional roles posted (police): people, not in the total or the density
        **{r: world.roster[r].people for r in world.roster.present() if r in OPTIONAL_ROLES},
    }


# ------------------------------------------------------------------ the builder


def _measured(
    world: World,
    table: IncidentTable,
    replication: tuple[int, dict[str, Any], dict[str, float]],
    raw: Sequence[dict[str, Any]],
) -> Measures:
    """The record of ``table``'s replications (one, or several pooled), given the measures
    of a replication (``(replications, means, ci95)``) and the enforcement measures of each.

    The office rows get the office measures of the enforcement chain and the evaluation
    (the optimiser's ``repeat_share`` and ``black_flag`` targets among them).
    """
    sc = world.scenario
    by_office = office_rows(world, table)
    repeat = repeat_share_by(table, table["office"], len(by_office))
    for row, share in zip(by_office, repeat, strict=True):
        row["repeat_share"] = share
    result = evaluate(world, table)  # per office: score, rank, flag shares over months
    add_office_columns(result, by_office)
    n, means, ci = replication
    return Measures(
        replications=n,
        replication=means,
        ci95=ci,
        by_office=by_office,
        by_hour=hour_rows(table, sc.rules),
        overload=load(table, world.roster.units, sc.warmup_min, sc.horizon_min),
        channels=_channels(table),
        enforcement=_enforcement_block(raw, world),
        enforcement_raw=raw[0] if n == 1 and raw else None,
        evaluation=evaluation_block(result, sc),
        evaluation_result=result,
        headcount=_headcount(world),
        area_km2=world.areas.total_km2,
        target=sc.rules.target,
    )


@dataclass(frozen=True)
class Replicate:
    """What a run keeps of each replication to pool them: its replication measures and its
    enforcement measures (None: the chain is off). The full record is built once, pooled."""

    replication: dict[str, Any]
    enforcement_raw: dict[str, Any] | None


def replicate(world: World, table: IncidentTable, outcome: EnforcementOutcome | None) -> Replicate:
    """The part of one replication's measures that a run pools (:func:`measure_run`)."""
    sc = world.scenario
    rep = replication_measures(table, sc.rules, world.roster.units, sc.warmup_min, sc.horizon_min)
    raw = enforcement_chain.measures(world, table, outcome) if outcome is not None else None
    return Replicate(rep, raw)


def measure_replication(
    world: World, table: IncidentTable, outcome: EnforcementOutcome | None
) -> Measures:
    """The measures record of one replication: its world, incident table and enforcement
    outcome (None: the chain is off)."""
    return measure_run(world, table, [replicate(world, table, outcome)])


def measure_run(world: World, table: IncidentTable, reps: Sequence[Replicate]) -> Measures:
    """The record of a run's replications: ``table`` holds them all, ``reps`` what each
    replication gives to pool (:func:`replicate`)."""
    raw = [r.enforcement_raw for r in reps if r.enforcement_raw is not None]
    if len(reps) == 1:
        return _measured(world, table, (1, reps[0].replication, {}), raw)
    means, ci = combine([r.replication for r in reps])
    half = {k: v for k, v in ci.items() if v is not None}
    return _measured(world, table, (len(reps), means, half), raw)


def _enforcement_block(raw: Sequence[dict[str, Any]], world: World) -> dict[str, Any]:
    if not raw:
        return {"note": "no enforcement chain: enforcement.enabled is false"}
    block = enforcement_chain.summary_block(list(raw), world.areas.office_names)
    if world.trace is not None and world.trace.offenders_note:
        block["offenders_from"] = world.trace.offenders_note  # a replay: whom cases are against
    return block


# ------------------------------------------------------------------ summary.json


def summary(
    world: World, table: IncidentTable, measures: Measures, warnings: Sequence[str] = ()
) -> dict[str, Any]:
    """The summary written to ``summary.json``: the run, its measures (:meth:`Measures.tree`),
    the breakdowns by area, hour, category and grid, warnings (the world's and
    ``warnings``, e.g. the early load check's) and the resolved scenario."""
    sc = world.scenario
    tree = measures.tree()
    evaluation = tree.pop("evaluation")
    enforcement = tree.pop("enforcement")
    out: dict[str, Any] = {
        "scenario": sc.name,
        "seed": sc.seed,
        "replications": measures.replications,
        "days": sc.duration.days,
        "warmup_hours": sc.duration.warmup_hours,
        "policy": sc.dispatch.policy,
        # the background count a day on this map, and what the scenario gave for it
        "demand": {
            **world.volume.as_dict(),
            "hotspots": len(world.sites),
            "hotspot_incidents_per_day": sum(s.per_day for s in world.sites),
        },
        **tree,
        "by_area": measures.by_office,
        "by_hour": measures.by_hour,
        "by_category": breakdown(
            table, sc.rules, table["category"].astype(int), list(table.categories), "category"
        ),
        "by_grid": breakdown(table, sc.rules, table["grid"], list(world.areas.grid_names), "grid"),
        "warnings": [*world.warnings, *warnings],
        "scenario_resolved": world.resolved.saved(),
        "evaluation": evaluation,
        "enforcement": enforcement,
    }
    written: dict[str, Any] = rounded(out)
    return written


def rounded(value: Any) -> Any:
    """Floats to 6 decimals, NaN and infinities as None, through dicts and lists: what
    ``summary.json`` holds."""
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def cases_of(outcomes: Sequence[EnforcementOutcome]) -> CaseTable | None:
    """The filed cases of a run's replications (None: the enforcement chain is off)."""
    return CaseTable.concat([o.cases for o in outcomes]) if outcomes else None
