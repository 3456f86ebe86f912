"""Staffing optimiser: feasible per its own criterion, locally minimal, compared with uniform."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

import sim
from sim.batch import sweeps
from sim.batch.staffing import Plan, parse_target, plan_text, write_plan
from sim.batch.sweeps import run_sweep
from sim.cli import main
from sim.errors import ArgumentError

SMALL: dict[str, Any] = {
    "name": "t",
    "duration": {"days": 1, "warmup_hours": 2},
    "map": {"generate": {"offices_x": 2, "offices_y": 2, "office_size_m": 800, "block_m": 100}},
    "demand": {"incidents_per_day": 400},
}
REPS = 4


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("optimize")
    scenario = folder / "t.yaml"
    scenario.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    code = main(
        [
            "optimize",
            str(scenario),
            "--target",
            "double_ten=0.95",
            "--replications",
            str(REPS),
            "--out",
            str(folder / "out"),
            "--workers",
            "1",
            "--max-evaluations",
            "80",
        ]
    )
    assert code == 0
    return folder / "out"


def lower_bounds(by_office: pd.DataFrame, measure: str = "double_ten") -> pd.DataFrame:
    """One-sided 95% lower bound of each office's mean share, per variant (computed afresh)."""

    def bound(v: pd.Series) -> float:
        x = v.dropna().to_numpy(float)
        return float(x.mean() - stats.t.ppf(0.95, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))

    return by_office.groupby(["variant", "office"])[measure].apply(bound).unstack()


def test_plan_meets_target_and_no_office_can_drop_a_step(plan_dir: Path, capsys: Any) -> None:
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    assert plan["feasible"] and plan["locally_minimal"]
    assert plan["evaluations"] <= 80
    offices = plan["offices"]
    assert all(o["meets_target"] and o["double_ten.lower"] >= 0.95 for o in offices)

    # check with fresh sweeps: the plan passes, and each one-step-lower variant fails somewhere
    densities: dict[str, float] = plan["overrides"]["staff.per_km2_by_office"]
    km2 = {o["office"]: o["area_km2"] for o in offices}
    people = {o: math.ceil(d * km2[o] - 1e-9) for o, d in densities.items()}
    assert people == {o["office"]: o["staff"] for o in offices}
    variants = {"plan": densities}
    for name in densities:
        if people[name] > math.ceil(2.0 * km2[name] - 1e-9):  # above --min-density
            lowered = dict(densities)
            lowered[name] = math.floor((people[name] - 1) / km2[name] * 1e4) / 1e4
            variants[f"lower {name}"] = lowered
    assert len(variants) > 1
    base = sim.scenario_from_dict(SMALL)
    result = run_sweep(base, {"staff.per_km2_by_office": variants}, replications=REPS, workers=1)
    bounds = lower_bounds(result.by_office)
    labels = dict(zip(result.runs["variant"], result.runs["staff.per_km2_by_office"], strict=False))
    for variant, row in bounds.iterrows():
        if labels[variant] == "plan":
            assert (row >= 0.95).all(), row
        else:
            assert (row < 0.95).any(), f"{labels[variant]} still meets the target: {row.to_dict()}"

    # the files a planner gets
    table = pd.read_csv(plan_dir / "plan.csv")
    assert list(table["office"]) == [*sorted(densities), "TOTAL"]
    total = table[table["office"] == "TOTAL"].iloc[0]
    assert total["staff"] == sum(people.values())
    assert total["baseline_staff"] == 4 * math.ceil(20 * 0.64)
    assert total["staff_change"] == total["staff"] - total["baseline_staff"]
    assert (plan_dir / "plan.png").stat().st_size > 10_000
    report = (plan_dir / "report.html").read_text(encoding="utf-8")
    assert f"{int(total['staff']):,} staff against {int(total['baseline_staff']):,}" in report


def test_api_returns_the_table_and_reuses_stored_runs(plan_dir: Path) -> None:
    table = sim.optimize(
        sim.scenario_from_dict(SMALL),
        {"double_ten": 0.95},
        replications=REPS,
        out=plan_dir,
        workers=1,
        max_evaluations=80,
    )
    meta, totals = table.attrs["meta"], table.attrs["totals"]
    assert meta["runs_simulated"] == 0 and meta["runs_reused"] > 0  # same search, all stored
    stored = pd.read_csv(plan_dir / "plan.csv")
    assert list(table["staff"]) == list(stored["staff"][:-1])
    assert totals["staff"] == int(table["staff"].sum())
    assert totals["staff_change"] == totals["staff"] - int(table["baseline_staff"].sum())
    assert {
        "area_km2",
        "density",
        "grid",
        "advisor",
        "enforcer",
        "double_ten",
        "double_ten.lower",
    } <= set(table.columns)
    assert np.allclose(table["density"], table["staff"] / table["area_km2"], atol=0.01)


def test_mix_search_tries_each_split() -> None:
    table = sim.optimize(
        sim.scenario_from_dict(SMALL),
        {"double_ten": 0.9},
        replications=3,
        mix="advisor",
        mix_values=[0.5, 0.7],
        workers=1,
        max_evaluations=60,
    )
    meta = table.attrs["meta"]
    tried = meta["mixes_tried"]
    assert [t["advisor_share"] for t in tried] == [0.5, 0.7]
    assert table.attrs["totals"]["staff"] == min(t["staff"] for t in tried)
    assert meta["evaluations"] <= 60
    mix = meta["mix"]
    assert sum(mix.values()) == pytest.approx(1.0)


def test_bad_targets(tmp_path: Path, capsys: Any) -> None:
    assert parse_target("double_ten=95%") == ("double_ten", 0.95)
    with pytest.raises(ArgumentError) as bad:
        parse_target("double_ten=1.5")
    assert bad.value.problems[0].startswith("target double_ten:")  # the library names no flag
    scenario = tmp_path / "t.yaml"
    scenario.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    assert (
        main(["optimize", str(scenario), "--target", "on_time=0.9", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "on_time" in capsys.readouterr().err
    assert (
        main(["optimize", str(scenario), "--replications", "1", "--out", str(tmp_path / "o")]) == 2
    )
    assert "--replications: the optimiser needs at least 2" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_plan_reports_district_discovery(tmp_path: Path) -> None:
    """The target ignores discovery, so the plan shows never_found beside the uniform plan."""
    table = sim.optimize(
        sim.scenario_from_dict(SMALL),
        {"double_ten": 0.9},
        replications=2,
        workers=1,
        max_evaluations=4,
        out=tmp_path,
    )
    totals = table.attrs["totals"]
    for key in sweeps.DISCOVERY:
        assert totals[key] is not None and totals[f"baseline_{key}"] is not None
    assert 0 <= totals["never_found"] <= 1
    total = pd.read_csv(tmp_path / "plan.csv").iloc[-1]
    assert total["office"] == "TOTAL"
    for key in ("never_found", "baseline_never_found", "report_delay_min"):
        assert total[key] == pytest.approx(totals[key])
    assert "never found" in (tmp_path / "plan.txt").read_text(encoding="utf-8")


def test_plan_without_discovery_measures_still_writes(tmp_path: Path) -> None:
    """Runs stored before the metrics had never_found: the columns are just empty."""
    table = sim.optimize(
        sim.scenario_from_dict(SMALL),
        {"double_ten": 0.9},
        replications=2,
        workers=1,
        max_evaluations=3,
    )
    plan = Plan(table, dict(table.attrs["totals"]), dict(table.attrs["meta"]))
    for key in sweeps.DISCOVERY:
        plan.totals[key] = plan.totals[f"baseline_{key}"] = None
    write_plan(plan, tmp_path)
    assert "never found" not in plan_text(plan)
    assert "never_found" in pd.read_csv(tmp_path / "plan.csv").columns
    # with 2 replications a t bound can fall below 0: the table prints a share, never "-3.0%"
    plan.table["double_ten.lower"] = -0.03
    assert "-3.0%" not in plan_text(plan) and "0.0%" in plan_text(plan)


def test_repeat_share_is_a_ceiling_target_that_needs_the_chain(tmp_path: Path, capsys: Any) -> None:
    from sim.batch.staffing import AT_MOST

    assert parse_target("repeat_share=0.3") == ("repeat_share", 0.3)
    assert "repeat_share" in AT_MOST
    scenario = tmp_path / "t.yaml"
    scenario.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    args = ["optimize", str(scenario), "--target", "repeat_share=0.3", "--out", str(tmp_path / "o")]
    assert main(args) == 2
    assert "enforcement" in capsys.readouterr().err


def test_an_unreachable_target_says_why_and_exits_with_its_own_code(
    tmp_path: Path, capsys: Any
) -> None:
    # issue 20: `--target double_ten=1.0` stopped early, printed "target met in every
    # office: NO" and exited 0 with no reason given
    from sim.cli import EXIT_TARGET_NOT_MET

    data = {**SMALL, "duration": {"days": 0.5, "warmup_hours": 2}, "rules": {"advisor_minutes": 2}}
    scenario = tmp_path / "t.yaml"
    scenario.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "o"
    code = main(
        ["optimize", str(scenario), "--target", "double_ten=1.0", "--replications", "2",
         "--workers", "1", "--max-density", "30", "--out", str(out)]
    )  # fmt: skip
    assert code == EXIT_TARGET_NOT_MET == 3
    err = capsys.readouterr().err
    assert "target not met: 4 office(s) stay below the target even at the highest density " in err
    assert "(30 per km², --max-density)" in err and "no staffing guarantees" in err
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert not plan["feasible"] and "max_density" in plan["not_met"]
    assert "why not: 4 office(s)" in (out / "plan.txt").read_text(encoding="utf-8")
