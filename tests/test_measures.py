"""The registry of measures is the one list: what a run stores, what tables, plots, the
optimiser and the command line show all come from it."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_roles import _police_case

import sim
from sim.analysis import measures as registry
from sim.analysis.measures import OFFICE, RUN, TARGETS, Measure, Plot, Summary, lookup
from sim.batch import staffing
from sim.batch.options import OPTIMIZE, SWEEP
from sim.batch.shiftplan import SHIFTS
from sim.batch.sweeps import run_sweep
from sim.batch.worker import run_replication
from sim.cli import build_parser
from sim.errors import ArgumentError
from sim.output.results import RunFiles, write_run
from sim.output.runtext import summary_text
from sim.output.sweeptext import sweep_table
from sim.runner import run
from sim.viz.sweepplot import write_plots

ROOT = Path(__file__).resolve().parents[1]


def test_a_run_stores_exactly_the_registered_measures(small_city: dict[str, Any]) -> None:
    record = run_replication(sim.scenario_from_dict(small_city).resolved(), str(ROOT), 0)
    assert list(record["measures"]) and set(record["measures"]) == set(RUN)
    for row in record["by_office"]:
        assert set(TARGETS) <= set(row)  # every target is a column of every office


_ABSENT = object()


def _same(name: str, a: Any, b: Any) -> None:
    """One value in two places: of one type (a whole number stays one) and equal."""
    assert type(a) is type(b), f"{name}: {a!r} in summary.json, {b!r} in the sweep"
    if isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-6, abs=1e-6), name
    else:
        assert a == b, name


def _enforced() -> dict[str, Any]:
    """Police posted and called, a campaign, whole evaluation months: every part there."""
    data = _police_case(True)
    data["evaluation"] = {"month_days": 2}
    data["enforcement"]["campaign"] = {"enabled": True, "days": 2}
    return data


@pytest.mark.parametrize("enforced", [True, False], ids=["enforced", "plain"])
def test_a_run_and_a_one_variant_sweep_agree_on_every_measure(
    enforced: bool, small_city: dict[str, Any], tmp_path: Path
) -> None:
    """summary.json and a sweep's stored run are laid out from one measures record: every
    measure of the registry is a path in summary.json (null where the run has no such
    part) with the value and type the sweep has; every office measure is in both."""
    sc = sim.scenario_from_dict(_enforced() if enforced else small_city)
    run_dir = write_run(
        run(sc, seed=3), tmp_path / "run", files=RunFiles(plots=False, report=False)
    )
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    swept = run_sweep(
        sc, {}, replications=1, seed=3, workers=1, out=tmp_path / "sweep", plots=False
    )
    [stored] = [json.loads(p.read_text()) for p in (tmp_path / "sweep" / "runs").glob("*.json")]
    assert set(stored["measures"]) == set(RUN)
    absent = []
    for name in RUN:
        value = lookup(summary, name, _ABSENT)
        assert value is not _ABSENT, f"{name} is not a path in summary.json"
        _same(name, value, stored["measures"][name])
        row = swept.runs.iloc[0][name]  # the sweep's table reads the same value
        assert (value is None and pd.isna(row)) or row == pytest.approx(value, abs=1e-6), name
        absent += [name] if value is None else []
    for area, office in zip(summary["by_area"], stored["by_office"], strict=True):
        assert area["office"] == office["office"]
        for name in OFFICE:
            _same(f"{area['office']}: {name}", area[name], office[name])
    if enforced:  # every part there: all but the weeks to zero, never reached here
        assert absent == ["enforcement.campaign.weeks_to_5pct"]
    else:  # no enforcement chain: its measures are there, as null
        assert {n for n in absent if n.startswith("enforcement.")} == {
            m.name for m in registry.group("enforcement")
        }
        assert summary["enforcement"]["note"].startswith("no enforcement chain")


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
    for defaults, flags in (
        (staffing.PLAN, {"confidence", "start", "step", "min_density", "max_density",
                         "baseline", "max_evaluations"}),
        (SHIFTS, {"pilot_replications", "max_rounds", "max_replications", "headcount"}),
    ):  # fmt: skip
        for name in flags:
            assert opt[name] == getattr(defaults, name), name
    assert opt["need_method"] == SHIFTS.method
    assert opt["lengths"] == list(SHIFTS.lengths)
    # nothing of a batch is set by the command line but what the flags say
    for name in ("days", "seed", "out", "workers", "scheduler"):
        assert opt[name] is None


@pytest.fixture(scope="module")
def enforced_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The summary of a small two-replication run with the enforcement chain on."""
    from conftest import SMALL_CITY

    data = {**SMALL_CITY, "enforcement": {"enabled": True}}
    return run(sim.scenario_from_dict(data), replications=2).summary


def test_every_measure_flagged_for_the_summary_is_in_a_runs_summary(
    enforced_run: dict[str, Any],
) -> None:
    for part in ("staff", "clocks", "lines", "enforcement"):
        for m in registry.summarized(part):
            assert lookup(enforced_run, m.name, KeyError) is not KeyError, m.name
            for cell in m.summary.cells if m.summary else ():
                assert lookup(enforced_run, cell, KeyError) is not KeyError, cell
    for m in registry.summarized("offices"):
        assert all(m.name in row for row in enforced_run["by_area"]), m.name


def _flag(pool: dict[str, Measure], name: str, summary: Summary, **kw: Any) -> Measure:
    return dataclasses.replace(pool[name], summary=summary, **kw)


def test_one_entry_puts_a_measure_in_the_printed_summary(
    monkeypatch: pytest.MonkeyPatch, enforced_run: dict[str, Any]
) -> None:
    before = summary_text(enforced_run)
    never = enforced_run["discovery"]["never_found"]
    half = enforced_run["ci95"]["discovery.never_found"]
    line = f"share of problems never found: {100 * never:.1f}% ± {100 * half:.1f}"
    assert "never found" not in before

    monkeypatch.setitem(
        RUN, "discovery.never_found", _flag(RUN, "discovery.never_found", Summary("lines", 9))
    )
    end = "enforcement.offenders_active.end"
    monkeypatch.setitem(RUN, end, _flag(RUN, end, Summary("enforcement", 9)))
    monkeypatch.setitem(
        OFFICE, "escalated", _flag(OFFICE, "escalated", Summary("offices", 9), short="escalated")
    )
    after = summary_text(enforced_run).splitlines()
    assert line in after  # with the other lines under the clocks table
    assert after.index(line) < after.index("By street office")
    office_header = after[after.index("By street office") + 2].split()
    assert office_header[-1] == "escalated"  # the last column, by its order
    rows = [r for r in after if r.startswith("active offenders at the end")]
    assert len(rows) == 1 and rows[0].split()[-2:] == ["0", "0"]  # none in this city


def test_every_summary_headline_label_comes_from_the_registry(
    monkeypatch: pytest.MonkeyPatch, enforced_run: dict[str, Any]
) -> None:
    tokens = {}
    for pool in (RUN, OFFICE):
        for name, m in list(pool.items()):
            if m.summary is not None:
                token = f"W{len(tokens)}"
                tokens[token] = m
                monkeypatch.setitem(
                    pool, name, _flag(pool, name, dataclasses.replace(m.summary, words=token))
                )
    paragraphs = summary_text(enforced_run).split("\n\n")
    staff = paragraphs[0].splitlines()[1].split("): ")[1].split(", ")
    clocks = [r.split()[0] for r in paragraphs[1].splitlines()[2:]]
    lines = [r.split(":")[0] for r in paragraphs[2].splitlines()]
    offices = paragraphs[4].splitlines()[0].split()[2:]  # after "street office"
    enforcement = next(p for p in paragraphs if p.startswith("measure"))
    totals = [r.split()[0] for r in enforcement.splitlines()[2:] if not r.startswith(" ")]
    shown = [*(s.split()[1] for s in staff), *clocks, *lines, *offices, *totals]
    assert shown and all(s in tokens for s in shown), shown
    # every flagged measure shows but load lines left out while zero (no overtime here)
    missing = {tokens[t].name for t in set(tokens) - set(shown)}
    assert missing <= {n for n in RUN if n.endswith("overtime_unit_hours_per_day")}
