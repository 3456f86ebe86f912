"""Replaying a case log (``demand.trace``): the log's incidents at their times and places."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.cli import main
from sim.engine.attribution import attribution
from sim.output.runtext import summary_text
from sim.scenario import ScenarioError, scenario_from_dict
from tests.test_fit import run_log

SMALL: dict[str, Any] = {
    "name": "small",
    "duration": {"days": 2, "warmup_hours": 2},
    "map": {"generate": {"offices_x": 2, "offices_y": 2, "office_size_m": 800, "block_m": 100}},
    "staff": {"per_km2": 12},
    "demand": {
        "incidents_per_day": 700,
        "hotspots": [
            {"name": "market", "x": 400, "y": 400, "radius_m": 150, "incidents_per_hour": 4,
             "start": "18:00", "end": "02:00"}
        ],
    },
}  # fmt: skip


def replay_of(data: dict[str, Any], log: str) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["demand"] = {"trace": {"file": log}, "hotspots": data["demand"]["hotspots"]}
    return out


def test_replaying_a_runs_own_log_with_its_seed_gives_its_clocks(tmp_path: Path) -> None:
    original = scenario_from_dict(SMALL, base_dir=tmp_path)
    run_log(original, tmp_path / "incidents.csv")
    a = sim.run(original).table
    b = sim.run(scenario_from_dict(replay_of(SMALL, "incidents.csv"), base_dir=tmp_path)).table
    assert len(a) == len(b) > 1000
    for column in ("node", "category", "hotspot", "channel"):
        np.testing.assert_array_equal(a[column], b[column])
    # the log keeps minutes to 3 decimals: every time within half a thousandth of a minute
    for column in ("occurred", "instructed", "advisor_arrived", "enforcer_arrived", "closed"):
        np.testing.assert_allclose(b[column], a[column], atol=6e-4, equal_nan=True)
    for clock in (("advisor_arrived", "instructed"), ("enforcer_arrived", "persuasion_ended")):
        np.testing.assert_allclose(
            b[clock[0]] - b[clock[1]], a[clock[0]] - a[clock[1]], atol=1e-3, equal_nan=True
        )
    assert a["escalated"].sum() > 50 and np.isfinite(a["enforcer_arrived"]).sum() > 50


def test_replications_of_a_replay_vary_everything_but_the_cases(tmp_path: Path) -> None:
    run_log(scenario_from_dict(SMALL, base_dir=tmp_path), tmp_path / "incidents.csv")
    replay = scenario_from_dict(replay_of(SMALL, "incidents.csv"), base_dir=tmp_path)
    t = sim.run(replay, replications=2).table
    first, second = t.select(t["replication"] == 0), t.select(t["replication"] == 1)
    np.testing.assert_array_equal(first["occurred"], second["occurred"])
    np.testing.assert_array_equal(first["node"], second["node"])
    assert not np.array_equal(first["instructed"], second["instructed"], equal_nan=True)


def test_a_wall_clock_log_is_placed_from_its_start_and_the_rest_counted(tmp_path: Path) -> None:
    rows = [
        {
            "time": f"2024-05-0{1 + d} {h:02d}:15",
            "category": "noise",
            "x": 100.0 * (h % 8),
            "y": 300.0,
        }
        for d in range(5)
        for h in range(24)
    ]
    rows.append({"time": "2024-05-01 03:00", "category": "noise", "x": 90_000.0, "y": 0.0})
    pd.DataFrame(rows).to_csv(tmp_path / "log.csv", index=False)
    data = replay_of(SMALL, "log.csv")
    data["demand"]["trace"]["start"] = "2024-05-02"
    world = sim.build_world(scenario_from_dict(data, base_dir=tmp_path))
    assert world.trace is not None
    # the run lasts 2 h + 2 days from 2024-05-02: 50 hourly cases; 2024-05-01 and after: out
    assert world.trace.n == 50
    assert world.trace.rows.dropped == {"outside the map": 1, "outside the window": 70}
    assert world.trace.occurred.min() == pytest.approx(15.0)
    assert any("replaying 50 of 121 rows" in w for w in world.warnings)


def test_a_trace_with_nothing_in_the_run_is_one_line(tmp_path: Path) -> None:
    pd.DataFrame(
        [{"time": "2024-05-01 10:00", "category": "noise", "x": 100.0, "y": 100.0}]
    ).to_csv(tmp_path / "log.csv", index=False)
    data = replay_of(SMALL, "log.csv")
    data["demand"]["trace"]["start"] = "2025-01-01"
    with pytest.raises(ScenarioError) as err:
        sim.build_world(scenario_from_dict(data, base_dir=tmp_path))
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith("demand.trace: no case of the log falls within the run")


def test_trace_keys_are_checked_when_the_scenario_is_read(tmp_path: Path) -> None:
    data = replay_of(SMALL, "missing.csv")
    data["demand"]["trace"] |= {
        "timezone": "Mars/Olympus",
        "crs": "gcj03",
        "columns": {"when": "x"},
    }
    data["demand"]["scheduled"] = [{"at_min": 5, "node": 0, "category": "noise"}]
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, base_dir=tmp_path)
    text = "\n".join(err.value.problems)
    for part in ("demand.trace.file", "demand.trace.timezone", "demand.trace.crs",
                 "demand.trace.columns"):  # fmt: skip
        assert part in text


# ------------------------------------------------------------------ the enforcement chain

ENFORCEMENT: dict[str, Any] = {
    "enabled": True,
    "cases": {"track": 0.6},
    "offenders": {
        "categories": {"street_vending": {"share": 0.6}, "noise": {"share": 0.5}},
        "hotspots": {"market": {"share": 0.8, "daily_p": 0.8}},
    },
}
OFFENDER_CATEGORIES = ("street_vending", "noise")


def _merchants_log(tmp_path: Path, header: str) -> Path:
    """Three stalls selling every evening of ten days, each under its name in ``header``,
    and one-off noise cases that name nobody."""
    rows = [
        {"time": f"2024-05-{1 + d:02d} 19:{10 + m}", "category": "street_vending",
         "x": 300.0 + 400.0 * m, "y": 500.0, header: f"烧烤{m}"}
        for d in range(10) for m in range(3)
    ] + [
        {"time": f"2024-05-{1 + d:02d} {h:02d}:40", "category": "noise",
         "x": 100.0 * (h % 15), "y": 1000.0, header: ""}
        for d in range(10) for h in range(0, 24, 3)
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "log.csv", index=False)
    return tmp_path / "log.csv"


@pytest.mark.parametrize(("header", "columns"), [("商户", {}), ("Stall", {"offender": "Stall"})])
def test_a_logs_parties_offend_again_and_climb_the_rungs_to_cases_and_fines(
    tmp_path: Path, header: str, columns: dict[str, str]
) -> None:
    _merchants_log(tmp_path, header)
    data = replay_of(SMALL, "log.csv")
    data["demand"]["trace"]["columns"] = columns
    data["duration"] = {"days": 10, "warmup_hours": 0}
    data["enforcement"] = {"enabled": True, "cases": {"track": 1.0}}
    result = sim.run(scenario_from_dict(data, base_dir=tmp_path))
    t = result.table
    vending = t["category"] == list(result.scenario.demand.categories).index("street_vending")
    # each stall is one offender over its ten logged evenings; a blank names nobody
    assert len(np.unique(t["offender"][vending])) == 3 and (t["offender"][vending] >= 0).all()
    assert (t["offender"][~vending] == -1).all()
    cases = result.cases
    assert cases is not None and len(cases) > 0
    assert set(cases["offender"].tolist()) <= set(t["offender"][vending].tolist())
    for who in np.unique(cases["offender"]):
        assert (np.diff(cases["rung"][cases["offender"] == who]) >= 0).all()  # progressive
    assert cases["rung"].max() >= 1  # a stall sanctioned again is fined
    e = result.summary["enforcement"]
    assert e["fines_yuan"] > 0 and e["repeat_share"] == pytest.approx(30 / 110)
    assert e["offenders_from"].startswith(f"offenders from the log's column {header}: 3 parties")


def _original_and_log(tmp_path: Path, *, days: int = 7) -> tuple[dict[str, Any], Any]:
    data = copy.deepcopy(SMALL)
    data["duration"]["days"] = days
    data["enforcement"] = ENFORCEMENT
    original = scenario_from_dict(data, base_dir=tmp_path)
    run_log(original, tmp_path / "incidents.csv")
    return data, sim.run(original)


def test_a_runs_own_log_replayed_keeps_its_offenders_and_gives_cases_of_its_order(
    tmp_path: Path,
) -> None:
    data, original = _original_and_log(tmp_path)
    replay = replay_of(data, "incidents.csv")
    result = sim.run(scenario_from_dict(replay, base_dir=tmp_path))
    a, b = original.table, result.table
    # the same incidents are the same offenders' (ids renumbered by first appearance)
    np.testing.assert_array_equal(a["offender"] >= 0, b["offender"] >= 0)
    pairs = {(int(x), int(y)) for x, y in zip(a["offender"], b["offender"], strict=True)}
    assert len(pairs) == len({x for x, _ in pairs}) == len({y for _, y in pairs})
    ea, eb = original.summary["enforcement"], result.summary["enforcement"]
    assert ea["cases"] > 20 and 0.5 < eb["cases"] / ea["cases"] < 2.0
    assert eb["fines_yuan"] > 0 and eb["repeat_share"] == pytest.approx(
        ea["repeat_share"], rel=0.05
    )
    assert "offenders from the log's column offender" in eb["offenders_from"]


def test_without_an_offender_column_the_offenders_cases_are_attributed(tmp_path: Path) -> None:
    data, original = _original_and_log(tmp_path)
    log = pd.read_csv(tmp_path / "incidents.csv").drop(columns="offender")
    log.to_csv(tmp_path / "anonymous.csv", index=False)
    replay = replay_of(data, "anonymous.csv")
    result = sim.run(scenario_from_dict(replay, base_dir=tmp_path))
    t, cats = result.table, list(result.scenario.demand.categories)
    mine = np.isin(t["category"], [cats.index(c) for c in OFFENDER_CATEGORIES]) | (
        t["hotspot"] >= 0
    )
    attributed = t["offender"] >= 0
    assert attributed.any() and not (attributed & ~mine).any()
    # repeat offences: offenders with several incidents
    assert (np.bincount(t["offender"][attributed]) >= 2).sum() > 10
    ea, eb = original.summary["enforcement"], result.summary["enforcement"]
    assert 0.5 < eb["cases"] / ea["cases"] < 2.0 and eb["fines_yuan"] > 0
    assert 0.5 < eb["repeat_share"] / ea["repeat_share"] < 2.0
    assert eb["offenders_from"].startswith("offenders attributed, not simulated")
    assert "\n" not in eb["offenders_from"]
    assert eb["offenders_from"] in summary_text(result.summary)
    # attribution draws from its own stream: discovery and instructions are the replay's
    replay["enforcement"] = {"enabled": False}
    off = sim.run(scenario_from_dict(replay, base_dir=tmp_path)).table
    for column in ("occurred", "node", "channel", "instructed", "persuaded"):
        np.testing.assert_array_equal(off[column], t[column])


def test_a_log_with_no_offender_and_no_offender_groups_files_no_case(tmp_path: Path) -> None:
    run_log(scenario_from_dict(SMALL, base_dir=tmp_path), tmp_path / "incidents.csv")
    data = replay_of(SMALL, "incidents.csv")
    data["enforcement"] = {"enabled": True, "offenders": {"categories": {}}}
    result = sim.run(scenario_from_dict(data, base_dir=tmp_path))
    assert (result.table["offender"] == -1).all()
    assert result.cases is not None and len(result.cases) == 0
    assert "every case is a one-off" in result.summary["enforcement"]["offenders_from"]


def test_the_attribution_weighs_places_by_their_excess_and_keeps_the_share() -> None:
    k = np.array([1.0] * 50 + [30.0])
    w = np.full(51, 1.0 / 51)
    p = attribution(k, w, 0.4, per_offender=10.0)
    assert (p >= 0).all() and (p <= 1).all()
    assert float((p * k).sum()) == pytest.approx(0.4 * k.sum(), rel=1e-3)
    assert p[-1] > 0.9 > 0.2 > p[0]  # thirty cases at one corner are an offender's
    assert (attribution(k, w, 0.0, 10.0) == 0).all() and (attribution(k, w, 1.0, 10.0) == 1).all()


# ------------------------------------------------------------------ a run's own Parquet


def test_a_runs_parquet_log_is_fitted_and_replayed_with_no_flags(tmp_path: Path) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    out = tmp_path / "run"
    flags = ["--out", str(out), "--format", "parquet", "--no-plots", "--no-report", "--quiet"]
    assert main(["run", str(scenario), *flags]) == 0
    log = out / "incidents.parquet"
    assert log.is_file() and not (out / "incidents.csv").exists()
    fit = tmp_path / "fit"
    assert main(["fit", str(log), "--scenario", str(scenario), "--out", str(fit)]) == 0
    rows = json.loads((fit / "fit.json").read_text(encoding="utf-8"))["rows"]
    n = len(pd.read_parquet(log))
    assert rows["read"] == rows["used"] == n > 1000
    original = sim.run(scenario_from_dict(SMALL, base_dir=tmp_path)).table
    replay = replay_of(SMALL, str(log))
    t = sim.run(scenario_from_dict(replay, base_dir=tmp_path)).table
    np.testing.assert_array_equal(t["node"], original["node"])
    for column in ("occurred", "instructed", "advisor_arrived", "enforcer_arrived"):
        np.testing.assert_allclose(t[column], original[column], atol=1e-6, equal_nan=True)
