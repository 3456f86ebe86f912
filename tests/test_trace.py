"""Replaying a case log (``demand.trace``): the log's incidents at their times and places."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim
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


def test_with_enforcement_the_chain_runs_on_the_replayed_cases_without_offenders(
    tmp_path: Path,
) -> None:
    run_log(scenario_from_dict(SMALL, base_dir=tmp_path), tmp_path / "incidents.csv")
    data = replay_of(SMALL, "incidents.csv")
    data["enforcement"] = {
        "enabled": True,
        "offenders": {"categories": {"street_vending": {"share": 0.5}}},
    }
    result = sim.run(scenario_from_dict(data, base_dir=tmp_path))
    t = result.table
    assert (t["offender"] == -1).all()
    assert "police_support" in t.columns and "joint" in t.columns
    assert any("offender process does not run" in w for w in result.warnings)
