"""Parameter sweeps: every combination of varied scenario keys, times replications.

This is the Python API behind ``python -m sim sweep``::

    import sim
    from sim.batch.sweeps import summarize

    runs = sim.sweep(sim.load_scenario("scenarios/jinshui.yaml"),
                     vary={"staff.per_km2": [10, 20, 30]}, replications=5, days=1)
    summarize(runs)          # means and 95% confidence half-widths per variant

Common random numbers: replication k of every variant uses the same seed and
replication index, so every variant that does not change demand sees the same incidents
and differences between variants are not drowned in sampling noise.

Each finished run is stored as ``<out>/runs/<key>.json``, written atomically, where the
key is a hash of the resolved scenario (seed included) and the replication
(:mod:`sim.batch.runkeys`). Running the same sweep again computes only the runs that are
missing, so an interrupted sweep loses nothing already finished, and a sweep that shares
runs with an earlier one reuses them. A stored run carries a checksum and is checked on
reading (:mod:`sim.batch.store`); one that is damaged or edited is simulated again, with
a warning naming its file.

Runs execute on all local cores (up to one worker process per core; a worker keeps the
world of its current variant, and replications of one variant go to the same worker
where that saves building the world again) or, with ``scheduler="tcp://host:port"``,
on a Dask distributed cluster (:mod:`sim.batch.backends`, :mod:`sim.batch.executor`).

The parts of a sweep live in modules named after them; this module is the API and
re-exports the names earlier code imported from here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from sim.analysis import measures as registry
from sim.analysis.evaluation import with_black_flag_probability
from sim.atomic import atomic_dir, write_text_atomic
from sim.batch.backends import Backend, DaskCluster, InProcess, LocalProcesses, Task
from sim.batch.executor import Executor
from sim.batch.options import SWEEP, BatchFields, BatchOptions
from sim.batch.runkeys import (
    FORMAT,
    SIMULATION_PACKAGES,
    SIMULATION_TOP_MODULES,
    code_fingerprint,
    run_key,
    simulation_sources,
    world_key,
)
from sim.batch.store import RunStore, record_checksum, record_problem
from sim.batch.tables import ID_COLUMNS, summarize, tables
from sim.batch.variants import Variant, parse_vary, variants
from sim.batch.worker import run_replication
from sim.errors import ArgumentError
from sim.output.folders import open_batch
from sim.output.report.batchpage import sweep_page
from sim.output.strictjson import dumps
from sim.output.sweeptext import load_note, sweep_table
from sim.runner import prepare
from sim.scenario import Scenario
from sim.viz.sweepplot import AXIS_LABELS, plot_measure, write_plots, x_key

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AXIS_LABELS",
    "DISCOVERY",
    "FORMAT",
    "ID_COLUMNS",
    "MEASURES",
    "SIMULATION_PACKAGES",
    "SIMULATION_TOP_MODULES",
    "SWEEP_FILES",
    "Backend",
    "BatchOptions",
    "DaskCluster",
    "Executor",
    "InProcess",
    "LocalProcesses",
    "RunStore",
    "SweepOptions",
    "SweepResult",
    "Task",
    "Variant",
    "code_fingerprint",
    "describe",
    "discovery_measure",
    "load_note",
    "parse_vary",
    "plot_measure",
    "record_checksum",
    "record_problem",
    "run_key",
    "run_replication",
    "run_sweep",
    "simulation_sources",
    "summarize",
    "summary_text",
    "sweep",
    "tables",
    "variants",
    "world_key",
    "write_outputs",
    "write_plots",
    "x_key",
]  # fmt: skip

# Discovery measures (``discovery.<name>``; sim.analysis.measures.DISCOVERY) by short name:
# the double-ten clocks start at the instruction, so only these show problems left unfound.
DISCOVERY: tuple[str, ...] = tuple(m.name.split(".", 1)[1] for m in registry.DISCOVERY)

# Measure columns of the tidy table, in this order (anything else follows): the registry's.
MEASURES: tuple[str, ...] = tuple(registry.RUN)


def discovery_measure(measures: Mapping[str, Any], name: str) -> Any:
    """A discovery measure (:data:`DISCOVERY`) of a run's flat measures; None when absent."""
    return registry.RUN[f"discovery.{name}"].read(measures)


@dataclass
class SweepResult:
    """Everything a sweep produced."""

    runs: pd.DataFrame  # one row per variant × replication
    by_office: pd.DataFrame  # one row per variant × replication × street office
    by_hour: pd.DataFrame  # one row per variant × replication × hour of day (instructed)
    summary: pd.DataFrame  # means and CI half-widths per variant
    variants: list[Variant]
    replications: int
    computed: int  # runs simulated now
    reused: int  # runs found in the store
    out: Path | None = None
    warnings: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def keys(self) -> list[str]:
        return list(self.variants[0].labels) if self.variants else []


def run_sweep(
    scenario: Scenario,
    vary: Mapping[str, Any] | None = None,
    *,
    batch: BatchOptions = SWEEP,
    plots: bool = True,
    **options: Unpack[BatchFields],
) -> SweepResult:
    """Run every combination of ``vary`` × replications; all the tables and counts.

    ``vary`` maps dotted scenario keys to a list of values (or to ``{label: value}``).
    Replication k of every variant uses the same random streams (common random numbers).
    ``batch`` (default :data:`sim.batch.options.SWEEP`), with any of its fields given as
    keywords replacing its own, says how many replications, the days and seed that
    replace the scenario's, and where runs execute and are kept: with ``out``, runs are
    stored and reused (resumable) and ``runs.csv``, ``summary.csv``, the other tables and
    (with ``plots``) the plots are written there; ``scheduler="tcp://host:port"`` runs on
    a Dask cluster, otherwise ``workers`` processes (default: all cores; 1 runs in this
    process). :func:`sweep` takes the same options (:class:`SweepOptions`).
    """
    b = batch.but(**options)
    replications, out = b.replications, b.out
    if replications < 1:
        raise ArgumentError(["replications: must be at least 1"], ["replications"])
    t0 = time.perf_counter()
    base = prepare(scenario, b.seed, b.days)
    items = variants(base, dict(vary or {}))
    folder = Path(out) if out is not None else None
    if folder is not None:
        folder = open_batch(folder, "sweep", SWEEP_FILES, force=b.force)
    with Executor.for_batch(folder, b) as ex:
        records = ex.run(
            [v.scenario for v in items],
            replications,
            desc=f"sweep {base.name}",
            labels=[v.title if v.labels else "" for v in items],
        )
    runs, by_office, by_hour = tables(items, records)
    summary = with_black_flag_probability(summarize(runs), by_office)
    warnings = list(
        dict.fromkeys(
            [*ex.warnings, *(w for recs in records for r in recs for w in r.get("warnings", []))]
        )
    )
    result = SweepResult(
        runs, by_office, by_hour, summary, items, replications, ex.computed, ex.reused, folder
    )
    result.warnings = warnings
    result.elapsed_s = time.perf_counter() - t0
    if folder is not None:
        write_outputs(result, base, folder, plots=plots)
    return result


SWEEP_FILES = (
    "runs",
    "runs.csv",
    "runs_by_office.csv",
    "runs_by_hour.csv",
    "summary.csv",
    "plots",
    "sweep.json",
    "report.html",
)
"""What a sweep writes into its folder (and may overwrite when resumed)."""


class SweepOptions(BatchFields, total=False):
    """The keyword options of :func:`sweep`: those of :func:`run_sweep`, which sets the defaults."""

    batch: BatchOptions
    plots: bool


def sweep(
    scenario: Scenario, vary: Mapping[str, Any] | None = None, **options: Unpack[SweepOptions]
) -> pd.DataFrame:
    """Run every combination of ``vary`` × ``replications``; return the tidy run table.

    One row per variant × replication: ``variant``, the varied keys, ``replication``,
    ``seed`` and every summary measure as a column. Options and defaults are those of
    :func:`run_sweep` (which also returns the per-office and per-hour tables and the
    summary). Means and confidence intervals: :func:`summarize`.
    """
    return run_sweep(scenario, vary, **options).runs


def _csv(df: pd.DataFrame) -> str:
    return str(df.to_csv(index=False, lineterminator="\n"))


def write_outputs(result: SweepResult, base: Scenario, folder: Path, *, plots: bool = True) -> None:
    """Tables, plots and ``sweep.json`` next to the stored runs, each written atomically."""
    write_text_atomic(folder / "runs.csv", _csv(result.runs))
    write_text_atomic(folder / "runs_by_office.csv", _csv(result.by_office))
    write_text_atomic(folder / "runs_by_hour.csv", _csv(result.by_hour))
    write_text_atomic(folder / "summary.csv", _csv(result.summary))
    if plots:
        with atomic_dir(folder / "plots") as tmp:
            write_plots(
                result.summary, result.keys, base.rules.model_dump(), tmp, describe(base, result)
            )
    meta = {
        "scenario": base.name,
        "seed": base.seed,
        "days": base.duration.days,
        "warmup_hours": base.duration.warmup_hours,
        "replications": result.replications,
        "vary": {k: list(dict.fromkeys(v.labels[k] for v in result.variants)) for k in result.keys},
        "variants": [
            {
                "variant": v.index,
                "values": v.labels,
                "runs": [run_key(v.scenario, k)[:32] for k in range(result.replications)],
            }
            for v in result.variants
        ],
        "computed_runs": result.computed,
        "reused_runs": result.reused,
        "warnings": result.warnings,
        "base_scenario": base.resolved(),
    }
    write_text_atomic(folder / "sweep.json", dumps(meta))
    write_text_atomic(folder / "report.html", sweep_page(folder).render())


def describe(base: Scenario, result: SweepResult) -> str:
    """Subtitle for plots: scenario, run length, replications, fixed keys."""
    fixed = [
        f"{k}={result.variants[0].labels[k]}"
        for k in result.keys
        if result.summary[k].nunique() == 1
    ]
    parts = [
        base.name,
        f"{base.duration.days:g} day(s) after {base.duration.warmup_hours:g} h warm-up",
        f"{result.replications} replication(s), seed {base.seed}",
        "shaded bands / bars: 95% CI",
        *fixed,
    ]
    return " · ".join(parts)


def summary_text(result: SweepResult) -> str:
    """The table ``python -m sim sweep`` prints (:func:`sim.output.sweeptext.sweep_table`)."""
    return sweep_table(result.summary, result.keys)
