"""The monthly evaluation: scores combine as stated, flags and fund follow the rules,
the inspector sees exactly what is open, and thin staffing is ranked last."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SMALL_CITY

import sim
from sim.analysis.evaluation import (
    COMPONENTS,
    escalation,
    flags,
    fund_transfers,
    ranks,
    weighted_total,
)
from sim.analysis.inspection import Visits, problems_seen, visible_until
from sim.engine.records import IncidentTable
from sim.output import runtext
from sim.output.results import RunFiles, write_run
from sim.scenario import Escalation, Fund, Inspection, ScenarioError


def _city(**evaluation: Any) -> dict[str, Any]:
    data = copy.deepcopy(SMALL_CITY)
    data["evaluation"] = {"month_days": 0.25, **evaluation}
    return data


@pytest.fixture(scope="module")
def small_run() -> sim.RunResult:
    weights = {
        "third_party": 0.5,
        "digital": 0.3,
        "business_bureaus": 0.1,
        "assessment_office": 0.1,
    }
    data = _city(weights={"street_offices": weights})
    return sim.run(sim.scenario_from_dict(data), seed=3, replications=2)


def test_weighted_total_is_the_stated_combination(small_run: sim.RunResult) -> None:
    ev = small_run.evaluation
    assert ev is not None and ev.months == 4 and ev.total.shape == (2, 4, 4)
    w = {"third_party": 0.5, "digital": 0.3, "business_bureaus": 0.1, "assessment_office": 0.1}
    expected = sum(w[c] * ev.parts[c] for c in COMPONENTS)
    np.testing.assert_allclose(ev.total, expected)
    d = small_run.scenario.evaluation.digital
    digital = 100 * (
        d.double_ten * ev.parts["double_ten"]
        + d.closing_rate * ev.parts["closing_rate"]
        + d.closing_time * ev.parts["closing_time"]
        + d.self_found * ev.parts["self_found"]
    )
    np.testing.assert_allclose(ev.parts["digital"], digital)
    per_km = ev.parts["found"] / ev.parts["inspected_km"]
    np.testing.assert_allclose(ev.parts["third_party"], np.clip(100 - 100 * per_km, 0, 100))
    for c in COMPONENTS:
        assert ((ev.parts[c] >= 0) & (ev.parts[c] <= 100)).all(), c
    frame = ev.frame()
    assert len(frame) == 2 * 4 * 4
    np.testing.assert_allclose(frame["total"], ev.total.ravel())


def test_summary_block_and_csv(small_run: sim.RunResult, tmp_path: Path) -> None:
    block = small_run.summary["evaluation"]
    assert block["months"] == 4
    assert len(block["last_month"]) == 4 and block["last_month"][0]["flag"] == "red"
    assert block["last_month"][-1]["flag"] == "black"
    for o in block["offices"]:
        assert sum(o["p_rank"]) == pytest.approx(1.0)
    assert sum(o["p_black_flag"] for o in block["offices"]) == pytest.approx(1.0)
    assert "Monthly evaluation" in runtext.summary_text(small_run.summary)
    out = write_run(small_run, tmp_path / "out")
    assert (out / "evaluation.csv").read_text().startswith("replication,month,office")
    assert (out / "ranking.png").stat().st_size > 10_000
    assert (out / "score_map.png").stat().st_size > 10_000


def test_short_run_has_no_evaluation(tmp_path: Path) -> None:
    data = copy.deepcopy(SMALL_CITY)  # one day, 30-day months
    result = sim.run(sim.scenario_from_dict(data), seed=1)
    assert result.evaluation is None
    assert result.summary["evaluation"]["months"] == 0
    assert "shorter than one evaluation month" in result.summary["evaluation"]["note"]
    write_run(result, tmp_path / "out", files=RunFiles(plots=False))
    assert not (tmp_path / "out" / "evaluation.csv").exists()


def test_flags_fund_and_escalation_for_a_hand_made_month() -> None:
    total = np.array([80.0, 95.0, 70.0, 90.0, 85.0])  # ranks 4, 1, 5, 2, 3
    rank = ranks(total)
    assert rank.tolist() == [4, 1, 5, 2, 3]
    assert flags(rank, 5, red=2, black=1).tolist() == ["", "red", "black", "red", ""]
    fund = Fund(yearly_yuan=1_200_000, rewards=[0.5, 0.3], deductions=[0.2, 0.1])
    # a monthly budget of 100,000: 50,000 and 30,000 to the top two, 20,000 and 10,000
    # taken from the last and the second-last
    assert fund_transfers(rank, 5, fund).tolist() == [-10_000, 50_000, -20_000, 30_000, 0]
    assert fund_transfers(rank, 5, Fund()).clip(0).sum() * 12 == pytest.approx(5_000_000)
    assert ranks(np.array([1.0, 1.0, 0.5])).tolist() == [1, 2, 3]  # ties: the earlier office
    black = np.array([[1, 0], [1, 0], [0, 1], [1, 1], [1, 0], [1, 0], [1, 0]], dtype=bool)
    run, stage = escalation(black, Escalation(talk=2, warning=3, suspension=4))
    assert run[:, 0].tolist() == [1, 2, 0, 1, 2, 3, 4]
    assert stage[:, 0].tolist() == ["", "talk", "", "", "talk", "warning", "suspension"]
    assert stage[:, 1].tolist() == ["", "", "", "talk", "", "", ""]
    parts = {"a": np.array([10.0, 20.0]), "b": np.array([30.0, 40.0])}
    assert weighted_total(parts, {"a": 0.25, "b": 0.75}).tolist() == [25.0, 35.0]


def _table(rows: list[tuple[int, float, float, float]]) -> IncidentTable:
    """Incidents (node, occurred, reported or NaN for never found, closed or NaN)."""
    node, occ, rep, closed = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    n = len(rows)
    cols = {
        "replication": np.zeros(n, dtype=np.int32),
        "incident": np.arange(n),
        "node": node.astype(np.int64),
        "occurred": occ,
        "reported": rep,
        "channel": np.where(np.isfinite(rep), 1, -1).astype(np.int8),
        "closed": closed,
    }
    labels: dict[str, tuple[str, ...]] = {"node_ids": ("a", "b", "c")}
    return IncidentTable(cols, (), (), (), labels["node_ids"], (), ())


def test_inspector_sees_exactly_what_is_open_then_and_there() -> None:
    nan = float("nan")
    table = _table(
        [
            (0, 100.0, 105.0, 130.0),  # 0: open at node 0 from 100 to 130
            (0, 200.0, nan, nan),  # 1: never found: visible 200 to 200 + 50 (lifetime)
            (1, 100.0, 110.0, nan),  # 2: found, never closed: visible from 100 on
            (2, 150.0, 151.0, 160.0),  # 3: open at node 2 from 150 to 160
            (0, 120.0, 121.0, 125.0),  # 4: open at node 0 from 120 to 125
        ]
    )
    spec = Inspection(unfound_lifetime={"dist": "fixed", "value": 50.0})
    end = visible_until(table, spec, seed=1)
    assert end.tolist() == [130.0, 250.0, np.inf, 160.0, 125.0]
    # inspection 0 walks node 0 at 99 and 122, node 1 at 140; inspection 1 is at node 0
    # at 130 (just closed), node 2 at 155 and node 0 at 249.9; inspection 2 at 0 at 250
    visits = Visits(
        inspection=np.array([0, 0, 0, 1, 1, 1, 2]),
        node=np.array([0, 0, 1, 0, 2, 0, 0]),
        time=np.array([99.0, 122.0, 140.0, 130.0, 155.0, 249.9, 250.0]),
    )
    which, inc = problems_seen(table["node"], table["occurred"], end, visits)
    seen = sorted(zip(which.tolist(), inc.tolist(), strict=True))
    assert seen == [(0, 0), (0, 2), (0, 4), (1, 1), (1, 3)]


def test_office_with_half_the_staff_ranks_last_in_most_months() -> None:
    # three offices of one grid each; few citizen reports and no cameras, so finding
    # problems is the grid members' work; the unsimulated components are held fixed
    data = _city(business_bureaus={"sd": 0}, assessment_office={"sd": 0})
    data["duration"] = {"days": 2, "warmup_hours": 2}
    data["map"]["generate"].update(offices_x=3, offices_y=1)
    data["map"]["grid_size_m"] = 800
    data["demand"] = {"incidents_per_day": 300}
    data["discovery"] = {"citizen": {"probability": 0.1}, "camera": {"coverage": 0.0}}
    data["staff"] = {"per_km2": 20, "per_km2_by_office": {"Office-02": 10}}
    ev = sim.run(sim.scenario_from_dict(data), seed=8, replications=2).evaluation
    assert ev is not None and ev.months == 8
    thin = ev.offices.index("Office-02")
    last = (ev.rank[:, :, thin] == len(ev.offices)).mean()
    assert last > 0.5, ev.rank[0].tolist()  # chance would give a third
    assert (ev.flag[:, :, thin] == "black").mean() == last
    mean_rank = ev.rank.mean(axis=(0, 1))
    assert mean_rank.argmax() == thin
    assert ev.parts["third_party"].mean(axis=(0, 1)).argmin() == thin


def test_unknown_office_in_fixed_scores_is_a_scenario_error() -> None:
    data = _city(business_bureaus={"by_office": {"Nowhere": 90}})
    with pytest.raises(ScenarioError, match="no street office 'Nowhere'"):
        sim.run(sim.scenario_from_dict(data))


def test_bad_evaluation_values_are_rejected_at_once() -> None:
    data = _city(
        weights={"street_offices": {"third_party": 0.9}},
        fund={"rewards": [0.8, 0.5]},
        escalation={"talk": 3, "warning": 2},
    )
    with pytest.raises(ScenarioError) as exc:
        sim.scenario_from_dict(data)
    text = "\n".join(exc.value.problems)
    assert "street_offices weights must sum to 1" in text
    assert "rewards" in text and "talk <= warning" in text
