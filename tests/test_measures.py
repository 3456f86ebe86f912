"""The registry of measures is the one list: what a run stores, what tables, plots, the
optimiser and the command line show all come from it."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim
from sim.analysis import measures as registry
from sim.analysis.measures import RUN, TARGETS, Measure, Plot
from sim.batch import staffing
from sim.batch.options import OPTIMIZE, SWEEP
from sim.batch.shiftplan import optimize_shifts
from sim.batch.worker import run_replication
from sim.cli import build_parser
from sim.errors import ArgumentError
from sim.output.sweeptext import sweep_table
from sim.runner import run
from sim.viz.sweepplot import write_plots

ROOT = Path(__file__).resolve().parents[1]


def test_a_run_stores_exactly_the_registered_measures(small_city: dict[str, Any]) -> None:
    record = run_replication(sim.scenario_from_dict(small_city).resolved(), str(ROOT), 0)
    assert list(record["measures"]) and set(record["measures"]) == set(RUN)
    for row in record["by_office"]:
        assert set(TARGETS) <= set(row)  # every target is a column of every office


def test_registry_entries_are_consistent() -> None:
    for m in RUN.values():
        assert not m.target, f"{m.name}: targets are office measures"
        if m.unit == "minutes" and m.plot is not None:
            assert m.deadline in ("advisor_minutes", "enforcer_minutes")
    assert [m.plot.order for m in registry.plotted() if m.plot] == [1, 2, 3, 4, 5, 6]
    assert [m.table for m in registry.tabled()] == [1, 2, 3, 4, 5, 6]
    assert {m.name for m in TARGETS.values() if m.ceiling} == {"black_flag", "repeat_share"}


def _summary() -> pd.DataFrame:
    rows = []
    for k, density in enumerate((10, 20)):
        row: dict[str, Any] = {"variant": k, "staff.per_km2": density, "replications": 2}
        for m in RUN.values():
            row[m.name] = 0.5 if m.unit == "share" else 10.0 + k
            row[f"{m.name}.ci95"] = 0.01
        rows.append(row)
    return pd.DataFrame(rows)


def test_one_entry_puts_a_measure_in_the_table_the_plots_and_the_targets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    summary = _summary()
    before = sweep_table(summary, ["staff.per_km2"])
    assert "offices ok" not in before
    shown = dataclasses.replace(
        RUN["offices_on_target"],
        short="offices ok",
        table=7,
        plot=Plot(7, "offices_on_target", "Street offices on target"),
    )
    monkeypatch.setitem(RUN, "offices_on_target", shown)
    header = sweep_table(summary, ["staff.per_km2"]).splitlines()[0]
    assert "offices ok" in header and "50.0% ± 1.0" in sweep_table(summary, ["staff.per_km2"])
    rules = {"advisor_minutes": 10, "enforcer_minutes": 10, "target": 0.95}
    files = {p.name for p in write_plots(summary, ["staff.per_km2"], rules, tmp_path, "test")}
    assert "offices_on_target.png" in files and "double_ten.png" in files

    target = Measure("escalated_share", "share escalated", "share", "lower", target=True)
    monkeypatch.setitem(TARGETS, target.name, target)
    assert staffing.parse_target("escalated_share=0.3") == ("escalated_share", 0.3)
    with pytest.raises(ArgumentError) as err:
        staffing.parse_target("nope=0.3")
    assert err.value.problems == [
        "target nope: unknown measure (use double_ten, advisor_on_time, enforcer_on_time, "
        "black_flag, repeat_share, escalated_share)"
    ]


def _defaults(command: str) -> dict[str, Any]:
    args = build_parser().parse_args([command, "scenario.yaml"])
    return vars(args)


def test_command_line_defaults_are_the_api_defaults() -> None:
    assert _defaults("sweep")["replications"] == SWEEP.replications
    assert (
        _defaults("run")["replications"]
        == inspect.signature(run).parameters["replications"].default
    )
    opt = _defaults("optimize")
    assert opt["replications"] == OPTIMIZE.replications
    for fn, flags in (
        (staffing.optimize_plan, {"confidence", "start", "step", "min_density", "max_density",
                                  "baseline", "max_evaluations"}),
        (optimize_shifts, {"pilot_replications", "max_rounds", "max_replications", "headcount"}),
    ):  # fmt: skip
        params = inspect.signature(fn).parameters
        for name in flags:
            assert opt[name] == params[name].default, name
    assert opt["need_method"] == inspect.signature(optimize_shifts).parameters["method"].default
    assert opt["lengths"] == list(inspect.signature(optimize_shifts).parameters["lengths"].default)
    # nothing of a batch is set by the command line but what the flags say
    for name in ("days", "seed", "out", "workers", "scheduler"):
        assert opt[name] is None
