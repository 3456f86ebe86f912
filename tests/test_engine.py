"""The event model against hand-computed timelines and queueing theory."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import ALL_DAY, FIXED0, instant_discovery, queue_scenario

import sim
from sim.analysis.metrics import ci95_halfwidth


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``a``."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_exact_event_times_on_a_tiny_line() -> None:
    """Two incidents, one advisor, one team: every time follows from the rules by hand."""
    data = {
        "name": "tiny",
        "duration": {"days": 1, "warmup_hours": 0},
        "map": {
            "inline": {
                "nodes": [
                    {"id": "a", "x": 0, "y": 0},
                    {"id": "b", "x": 600, "y": 0},
                    {"id": "c", "x": 1200, "y": 0},
                ],
                "edges": [{"u": "a", "v": "b"}, {"u": "b", "v": "c"}],
            }
        },
        "travel": {
            "speed_kmh": {"ebike": 15},
            "mode": {"advisor": "ebike", "enforcer": "ebike"},
        },  # 250 m/min
        "staff": {"posts": {"advisor": [{"node": "a"}], "enforcer": [{"node": "c"}]}},
        "demand": {
            "incidents_per_day": 0,
            "categories": {
                "stubborn": {
                    "share": 0.5,
                    "persuasion": {"dist": "fixed", "value": 5},
                    "success": 0.0,
                    "handling": {"dist": "fixed", "value": 20},
                },
                "easy": {"share": 0.5, "persuasion": {"dist": "fixed", "value": 3}, "success": 1.0},
            },
            "scheduled": [
                {"at_min": 10, "node": "b", "category": "stubborn"},
                {"at_min": 12, "node": "c", "category": "easy"},
            ],
        },
        "discovery": {
            **instant_discovery(),
            "citizen": {"probability": 1.0, "delay": {"dist": "fixed", "value": 2}},
            "processing": {"dist": "fixed", "value": 1},
        },
        "dispatch": {
            "advisor_turnout": {"dist": "fixed", "value": 0.5},
            "enforcer_turnout": {"dist": "fixed", "value": 1},
        },
    }
    result = sim.run(sim.scenario_from_dict(data), seed=3)
    t = result.table
    approx = pytest.approx
    # incident 0 at b: instructed 13, advisor from a (600 m) arrives 13 + 0.5 + 2.4
    assert t["instructed"][0] == approx(13.0)
    assert t["advisor_arrived"][0] == approx(15.9)
    assert t["persuasion_ended"][0] == approx(20.9)
    assert bool(t["escalated"][0])
    # clock 2: team from c (600 m) dispatched at 20.9, arrives 20.9 + 1 + 2.4
    assert t["enforcer_dispatched"][0] == approx(20.9)
    assert t["enforcer_arrived"][0] == approx(24.3)
    assert t["closed"][0] == approx(44.3)
    assert t["enforcer_released"][0] == approx(46.7)
    # the advisor waits for the team, then rides back to a
    assert t["advisor_released"][0] == approx(26.7)
    # incident 1 at c: instructed 15 while the only advisor is busy: queued until 26.7
    assert t["instructed"][1] == approx(15.0)
    assert t["advisor_dispatched"][1] == approx(26.7)
    assert t["advisor_arrived"][1] == approx(26.7 + 0.5 + 4.8)
    assert t["closed"][1] == approx(32.0 + 3.0)
    assert not bool(t["escalated"][1])
    s = result.summary
    assert s["incidents"] == 2 and s["escalated"] == 1
    assert s["advisor_on_time"] == approx(0.5)  # 2.9 min on time, 17 min late
    assert s["enforcer_on_time"] == approx(1.0)
    assert s["double_ten"] == approx(0.5)


@pytest.mark.parametrize(("servers", "mean_service", "per_min"), [(3, 10.0, 0.2), (1, 6.0, 0.1)])
def test_mmc_queue_matches_erlang_c(servers: int, mean_service: float, per_min: float) -> None:
    """Zero travel and exponential persuasion make the advisor pool an M/M/c queue."""
    sc = sim.scenario_from_dict(queue_scenario(servers, mean_service, per_min, days=8))
    res = sim.run(sc, seed=11, replications=10)
    a = per_min * mean_service
    p_wait = erlang_c(servers, a)
    mean_wait = p_wait * mean_service / (servers - a)
    waits, p_waits = [], []
    for rep in range(10):
        t = res.table.select((res.table["replication"] == rep) & res.table["measured"])
        w = t["advisor_arrived"] - t["instructed"]
        waits.append(float(w.mean()))
        p_waits.append(float((w > 1e-9).mean()))
    for est, truth in ((waits, mean_wait), (p_waits, p_wait)):
        half = ci95_halfwidth(est)
        assert half is not None
        # the theory must lie inside a ~99.7% interval from the replications
        assert abs(np.mean(est) - truth) <= 1.8 * half, (np.mean(est), truth, half)
    # and the interval is tight enough to mean something
    assert ci95_halfwidth(p_waits) < 0.1 * p_wait


def test_single_advisor_on_a_line_matches_pollaczek_khinchine() -> None:
    """One advisor in the middle of a street: M/G/1 with travel out and back in the service."""
    nodes = [{"id": i, "x": 500.0 * i, "y": 0} for i in range(5)]
    edges = [{"u": i, "v": i + 1} for i in range(4)]
    lam, persuade, speed = 1 / 60, 5.0, 4.5 * 1000 / 60
    data = {
        "name": "line",
        "duration": {"days": 40, "warmup_hours": 24},
        "map": {"inline": {"nodes": nodes, "edges": edges}},
        "travel": {"mode": {"advisor": "walk", "enforcer": "walk", "grid": "walk"}},
        "staff": {
            "posts": {"advisor": [{"node": 2}], "enforcer": [{"node": 2}]},
            "shifts": {"advisor": ALL_DAY},
        },
        "demand": {
            "incidents_per_day": lam * 1440,
            "hourly_profile": [1] * 24,
            "categories": {
                "x": {
                    "share": 1,
                    "persuasion": {"dist": "fixed", "value": persuade},
                    "success": 1.0,
                }
            },
        },
        "discovery": instant_discovery(),
        "dispatch": {"advisor_turnout": FIXED0, "enforcer_turnout": FIXED0},
    }
    # locations by road length: end nodes carry half a street, inner nodes a whole one
    p = np.array([1, 2, 2, 2, 1]) / 8
    travel = np.abs(np.arange(5) - 2) * 500 / speed
    service = 2 * travel + persuade
    es, es2 = p @ service, p @ service**2
    rho = lam * es
    expected = lam * es2 / (2 * (1 - rho)) + p @ travel
    res = sim.run(sim.scenario_from_dict(data), seed=5, replications=8)
    means = []
    for rep in range(8):
        t = res.table.select((res.table["replication"] == rep) & res.table["measured"])
        means.append(float((t["advisor_arrived"] - t["instructed"]).mean()))
    half = ci95_halfwidth(means)
    assert half is not None
    assert abs(np.mean(means) - expected) <= 1.8 * half, (np.mean(means), expected, half)


def test_off_duty_staff_are_not_dispatched_and_queue_waits_for_the_shift() -> None:
    data = queue_scenario(1, 5.0, 0.0, days=1)
    data["duration"]["warmup_hours"] = 0
    data["staff"]["shifts"] = {"advisor": [{"start": "08:00", "end": "16:00", "share": 1.0}]}
    data["demand"]["scheduled"] = [
        {"at_min": 60, "node": 0, "category": "only"},
        {"at_min": 600, "node": 0, "category": "only"},
    ]
    t = sim.run(sim.scenario_from_dict(data)).table
    assert t["advisor_dispatched"][0] == pytest.approx(480.0)  # waited for the 08:00 shift
    assert t["advisor_dispatched"][1] == pytest.approx(600.0)


def test_a_job_running_at_shift_end_is_finished() -> None:
    data = queue_scenario(1, 5.0, 0.0, days=1)
    data["duration"]["warmup_hours"] = 0
    data["staff"]["shifts"] = {"advisor": [{"start": "08:00", "end": "16:00", "share": 1.0}]}
    data["demand"]["categories"]["only"]["persuasion"] = {"dist": "fixed", "value": 30}
    data["demand"]["scheduled"] = [
        {"at_min": 950, "node": 0, "category": "only"},
        {"at_min": 955, "node": 0, "category": "only"},
    ]
    t = sim.run(sim.scenario_from_dict(data)).table
    assert t["closed"][0] == pytest.approx(980.0)  # past 16:00, finished all the same
    # the second waits overnight for the next morning's shift
    assert t["advisor_dispatched"][1] == pytest.approx(1440.0 + 480.0)


def test_an_escalation_after_the_horizon_waits_for_the_next_enforcer_shift() -> None:
    data = queue_scenario(1, 5.0, 0.0, days=1)
    data["duration"]["warmup_hours"] = 0
    data["staff"]["shifts"] = {"enforcer": [{"start": "08:00", "end": "16:00", "share": 1.0}]}
    data["demand"]["categories"]["only"].update(
        persuasion={"dist": "fixed", "value": 20},
        success=0.0,
        handling={"dist": "fixed", "value": 10},
    )
    data["demand"]["scheduled"] = [{"at_min": 1430, "node": 0, "category": "only"}]
    t = sim.run(sim.scenario_from_dict(data)).table
    assert t["persuasion_ended"][0] == pytest.approx(1450.0)  # fails after the 1-day horizon
    assert t["enforcer_dispatched"][0] == pytest.approx(1440.0 + 480.0)
    assert t["advisor_released"][0] == pytest.approx(1440.0 + 480.0)  # waited on scene


def _two_shift_line(role: str) -> dict[str, Any]:
    """A two-node street; unit 0 of ``role`` works nights (20:00-08:00), unit 1 days."""
    data = queue_scenario(1, 5.0, 0.0, days=1)
    data["duration"]["warmup_hours"] = 0
    data["map"]["inline"] = {
        "nodes": [{"id": 0, "x": 0, "y": 0}, {"id": 1, "x": 100, "y": 0}],
        "edges": [{"u": 0, "v": 1}],
    }
    data["staff"]["posts"][role] = [{"node": 0}, {"node": 1}]
    data["staff"]["shifts"] = {
        role: [
            {"start": "20:00", "end": "08:00", "share": 0.5},
            {"start": "08:00", "end": "20:00", "share": 0.5},
        ]
    }
    return data


def test_dispatch_at_a_shift_boundary_goes_to_the_incoming_shift() -> None:
    data = _two_shift_line("advisor")
    data["demand"]["scheduled"] = [{"at_min": 480, "node": 0, "category": "only"}]
    sc = sim.scenario_from_dict(data)
    world = sim.build_world(sc)
    night = int(np.flatnonzero(world.roster["advisor"].on_duty(0.0))[0])
    t = sim.run(sc, world=world).table
    assert t["advisor_dispatched"][0] == pytest.approx(480.0)
    assert int(t["advisor"][0]) != night  # 08:00 belongs to the day shift


def test_after_the_horizon_only_staff_on_duty_are_sent() -> None:
    data = _two_shift_line("enforcer")
    data["demand"]["categories"]["only"].update(
        persuasion={"dist": "fixed", "value": 565}, success=0.0
    )
    data["demand"]["scheduled"] = [{"at_min": 1430, "node": 0, "category": "only"}]
    sc = sim.scenario_from_dict(data)
    world = sim.build_world(sc)
    day = int(np.flatnonzero(world.roster["enforcer"].on_duty(12 * 60.0))[0])
    t = sim.run(sc, world=world).table
    assert t["persuasion_ended"][0] == pytest.approx(1995.0)  # 09:15 on day 2, past the horizon
    assert t["enforcer_dispatched"][0] == pytest.approx(1995.0)
    assert int(t["enforcer_team"][0]) == day


def test_events_at_one_minute_run_in_the_order_they_were_scheduled() -> None:
    """The engine's light events queue exactly like SimPy timeouts (ties: insertion order)."""
    import simpy

    from sim.engine.events import NORMAL, Call

    env = simpy.Environment()
    seen: list[object] = []
    for k, delay in enumerate([2.0, 1.0, 2.0, 1.0]):
        env.schedule(Call(env, lambda ev: seen.append(ev.value), k), NORMAL, delay)
    env.timeout(1.0, "timeout").callbacks.append(lambda ev: seen.append(ev.value))
    env.schedule(Call(env, lambda ev: seen.append((ev.value, env.now)), "last"), NORMAL, 1.0)
    env.run()
    assert seen == [1, 3, "timeout", ("last", 1.0), 0, 2]
