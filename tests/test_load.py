"""Offered load against capacity, utilisation that cannot pass 1, and saying so in words.

Scenarios are single-node queues (zero travel, fixed persuasion), so the holding time of
a request is its persuasion time and the offered load is known in advance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import ALL_DAY, FIXED0, instant_discovery, one_category

import sim
from sim.analysis.metrics import (
    busy_on_and_off_duty,
    duty_unit_minutes,
    least_queue,
    window_minutes_before,
)
from sim.output.runtext import summary_text
from sim.scenario import hour_ranges
from sim.world.staff import in_window


def queue(
    advisors: int,
    hold_min: float,
    per_day: float,
    *,
    profile: list[float] | None = None,
    shifts: list[dict[str, Any]] | None = None,
    days: float = 2,
) -> dict[str, Any]:
    """One node, ``advisors`` advisors, fixed persuasion that always succeeds."""
    return {
        "name": "load",
        "duration": {"days": days, "warmup_hours": 24},
        "map": {"inline": {"nodes": [{"id": 0, "x": 0, "y": 0}]}},
        "staff": {
            "posts": {"advisor": [{"node": 0, "count": advisors}], "enforcer": [{"node": 0}]},
            "shifts": {"advisor": shifts or ALL_DAY, "enforcer": ALL_DAY, "grid": ALL_DAY},
        },
        "demand": {
            "incidents_per_day": per_day,
            "hourly_profile": profile or [1] * 24,
            "categories": one_category({"dist": "fixed", "value": hold_min}, 1.0),
        },
        "discovery": instant_discovery(),
        "dispatch": {"advisor_turnout": FIXED0, "enforcer_turnout": FIXED0},
    }


def run(data: dict[str, Any], seed: int = 1) -> dict[str, Any]:
    summary: dict[str, Any] = sim.run(sim.scenario_from_dict(data), seed=seed).summary
    return summary


# peak hours 09:00-11:00 carry 80/102 of the day's demand
PEAK = [40.0 if h in (9, 10) else 1.0 for h in range(24)]


def test_offered_load_above_capacity_is_flagged_unstable() -> None:
    # 3 advisors, 30 min each, 0.2 requests/min: offered load 6 units, twice capacity
    s = run(queue(3, 30, 0.2 * 1440))
    adv = s["overload"]["advisor"]
    assert adv["status"] == "unstable"
    assert adv["offered_load_ratio"] == pytest.approx(2.0, rel=0.15)
    assert adv["capacity"] == pytest.approx(3.0)
    assert adv["hold_min"] == pytest.approx(30.0)
    assert len(adv["hours_over"]) == 24
    assert adv["queue_growing"] is True
    assert adv["wait_last_day_min"] > adv["wait_first_day_min"] + 60
    assert adv["least_queue_last_day"] > adv["least_queue_first_day"] > 0
    assert s["overload"]["enforcer"]["status"] == "ok"  # persuasion always works
    (note,) = s["overload"]["notes"]
    assert note.startswith("advisors overloaded: offered load 2.")
    assert "grows without bound" in note and "every hour" in note
    assert "warning: advisors overloaded" in summary_text(s)


def test_under_capacity_is_not_flagged() -> None:
    # offered load 0.3 × 1440 × 20 / 1440 = 6 units on 20 advisors
    s = run(queue(20, 20, 0.3 * 1440))
    adv = s["overload"]["advisor"]
    assert adv["status"] == "ok"
    assert adv["offered_load_ratio"] == pytest.approx(0.3, rel=0.15)
    assert adv["hours_over"] == [] and adv["queue_growing"] is False
    assert s["overload"]["notes"] == []
    text = summary_text(s)
    assert "overloaded" not in text and "over capacity" not in text


@pytest.mark.parametrize("seed", [1, 2])
def test_over_capacity_at_peak_hours_only_is_a_transient_backlog(seed: int) -> None:
    # 4 advisors, 20 min: at 09:00-11:00 about 24 requests an hour (8 units, twice the
    # capacity); the rest of the day 0.6 an hour, so the day is far under capacity
    s = run(queue(4, 20, 24 * 102 / 40, profile=PEAK, days=3), seed=seed)
    adv = s["overload"]["advisor"]
    assert adv["status"] == "peak"
    assert {9, 10} <= set(adv["hours_over"]) <= {9, 10, 11}
    assert adv["peak_hour"] in (9, 10) and adv["peak_ratio"] > 1.4
    assert adv["offered_load_ratio"] < 0.4
    assert adv["queue_growing"] is False
    assert adv["least_queue_first_day"] == adv["least_queue_last_day"] == 0  # empties daily
    (note,) = s["overload"]["notes"]
    assert note.startswith("advisors over capacity 09:00–1")
    assert "clears later" in note and "overloaded" not in note


def test_utilization_stays_at_most_one_when_jobs_run_past_shift_end() -> None:
    # day shift only; every job takes 3 h and demand keeps every advisor busy, so jobs
    # started before 16:00 run well past it
    data = queue(4, 180, 200, shifts=[{"start": "08:00", "end": "16:00", "share": 1.0}])
    result = sim.run(sim.scenario_from_dict(data), seed=3)
    sc, t = result.scenario, result.table
    units = result.world.roster["advisor"]
    lo, hi = sc.warmup_min, sc.horizon_min
    on, off = busy_on_and_off_duty(t, "advisor", units, lo, hi)
    duty = duty_unit_minutes(units, lo, hi)
    assert (on + off) / duty > 1.05  # busy time over on-shift time: the old definition
    util = result.summary["utilization"]["advisor"]
    assert 0.9 < util <= 1.0
    assert util == pytest.approx(on / duty, abs=1e-6)
    overtime = result.summary["overload"]["advisor"]["overtime_unit_hours_per_day"]
    assert overtime == pytest.approx(off / 60 / sc.duration.days, rel=1e-6)
    assert overtime > 1.0


@pytest.mark.parametrize(("start", "end"), [(480, 960), (1380, 420), (0, 1440), (600, 600)])
def test_window_minutes_match_counting_minute_by_minute(start: float, end: float) -> None:
    rng = np.random.default_rng(7)
    for a, b in rng.integers(0, 4 * 1440, size=(20, 2)):
        a, b = sorted((int(a), int(b)))
        minutes = np.arange(a, b) + 0.5
        expected = int(in_window(minutes % 1440, start, end).sum())
        got = window_minutes_before(b, start, end) - window_minutes_before(a, start, end)
        assert got == pytest.approx(expected)


def test_hour_ranges_join_runs_and_wrap_past_midnight() -> None:
    assert hour_ranges([9, 10, 22, 23, 0, 1]) == "09:00–11:00, 22:00–02:00"
    assert hour_ranges([23]) == "23:00–24:00"
    assert hour_ranges(list(range(24))) == "every hour"


def test_sweep_table_says_which_variant_is_overloaded() -> None:
    from sim.batch.sweeps import run_sweep
    from sim.batch.sweeps import summary_text as sweep_text

    base = sim.scenario_from_dict(queue(3, 30, 100))
    result = run_sweep(
        base, {"demand.incidents_per_day": [100, 600]}, replications=1, workers=1, days=1
    )
    lines = sweep_text(result).splitlines()
    assert "load" in lines[0].split()
    low = next(line for line in lines[2:] if line.startswith("100 "))
    high = next(line for line in lines[2:] if line.startswith("600 "))
    assert "overloaded" not in low
    assert "advisors overloaded: offered load" in high
    assert result.runs["overload.advisor.unstable"].tolist() == [0, 1]


def test_least_queue_counts_the_low_point_of_each_day() -> None:
    nan = float("nan")
    # waiting: [0, 100), [50, 2000), [1500, never); dispatched at once at 10 (never queued)
    requested = np.array([0.0, 50.0, 1500.0, 10.0])
    dispatched = np.array([100.0, 2000.0, nan, 10.0])
    day1, day2 = (0.0, 1440.0), (1440.0, 2880.0)
    assert least_queue(requested, dispatched, [day1, day2]) == [0, 1]
    assert least_queue(requested, dispatched, [(60.0, 90.0)]) == [2]
