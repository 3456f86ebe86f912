"""The check before a run: the expected load of each role against its units on shift.

It is the summary's check (``sim.analysis.capacity``) made from the demand the scenario
will draw, so on queues whose holding time is known in advance it must give the
summary's verdict, and it must be said before anything is simulated.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import SMALL_CITY
from test_load import PEAK, queue

import sim
from sim import runner
from sim.analysis.preflight import expected_load, forecast, overload_warnings


def _checked(data: dict[str, Any], seed: int = 1) -> tuple[sim.RunResult, list[str]]:
    said: list[str] = []
    result = sim.run(sim.scenario_from_dict(data), seed=seed, warn=said.extend)
    return result, said


@pytest.mark.parametrize(
    ("data", "hopeless"),
    [
        (queue(3, 30, 0.2 * 1440), True),  # twice the capacity
        (queue(20, 20, 0.3 * 1440), False),  # 0.3 of it
        (queue(4, 20, 24 * 102 / 40, profile=PEAK, days=3), False),  # over at peaks only
    ],
)
def test_the_check_before_the_run_gives_the_summarys_verdict(
    data: dict[str, Any], hopeless: bool
) -> None:
    result, said = _checked(data)
    after = result.summary["overload"]["advisor"]
    before = expected_load(result.world)["advisor"]
    assert before.ratio == pytest.approx(after["offered_load_ratio"], rel=0.15)
    assert before.hours_over == after["hours_over"] or not hopeless
    assert before.over_the_day is hopeless is (after["status"] == "unstable")
    load = [w for w in said if w.startswith("load:")]
    assert len(load) == hopeless
    assert load == [w for w in result.summary["warnings"] if w.startswith("load:")]
    if hopeless:
        assert "advisors overloaded: offered load 2." in load[0]


def test_the_warning_comes_before_anything_is_simulated(monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    real = runner.simulate_chain

    def simulate(*args: Any, **kwargs: Any) -> Any:
        order.append("simulate")
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "simulate_chain", simulate)
    sim.run(
        sim.scenario_from_dict(queue(3, 30, 0.2 * 1440)),
        warn=lambda lines: order.append("warn:" + "|".join(lines)),
    )
    assert order[0].startswith("warn:") and "advisors overloaded" in order[0]
    assert order[1:] == ["simulate"]


def test_rides_that_lengthen_under_load_make_a_city_hopeless() -> None:
    """On a street map a backlog sends units to the oldest request anywhere: the rides,
    not the work on scene, take the advisors over capacity; at the usual load they
    are not."""
    busy = {**SMALL_CITY, "demand": {"incidents_per_day": 6000}}
    world = sim.build_world(sim.scenario_from_dict(busy))
    (warning,) = overload_warnings(world)
    assert warning.startswith("load: expected before the run: advisors overloaded")
    after = sim.run(world.scenario, world=world).summary["overload"]["advisor"]
    assert after["status"] == "unstable"
    quiet = sim.build_world(sim.scenario_from_dict(SMALL_CITY))
    assert overload_warnings(quiet) == []
    assert expected_load(quiet)["advisor"].ratio < 0.5


def two_towns(each: int, per_day: float, days: float = 2) -> dict[str, Any]:
    """Two towns 4 km apart by one street, ``each`` advisors posted in each, requests
    split between them, ten minutes' persuasion that always succeeds, ebikes at 250
    m/min. A request held by a unit of its own town holds it ten minutes; one that
    waited goes to whichever unit comes free, of either town: 2 km each way on average,
    26 minutes in all."""
    data = queue(each, 10, per_day, days=days)
    data["name"] = "two-towns"
    data["map"] = {
        "inline": {
            "nodes": [{"id": 0, "x": 0, "y": 0}, {"id": 1, "x": 4000, "y": 0}],
            "edges": [{"u": 0, "v": 1}],
        }
    }
    data["staff"]["posts"]["advisor"] = [{"node": 0, "count": each}, {"node": 1, "count": each}]
    return data


def test_a_surge_tips_two_towns_that_keep_up_in_free_flow() -> None:
    """Ten advisors a town, a request a minute: free flow keeps half of them busy (ten
    minutes a request), but a backlog needs 26 minutes a request, 1.3 of capacity, and
    never clears. Nothing on average tips it, so a load check that lets backlogs clear
    sees 0.5; chance fills the last units many times a day, so the run tips, and the
    check says so before it starts."""
    data = two_towns(10, 1440)
    world = sim.build_world(sim.scenario_from_dict(data))
    f = forecast(world)["advisor"]
    assert not f.backlog.grows
    assert f.backlog.free_ratio == pytest.approx(0.5, rel=0.05)
    assert f.backlog.flow.backlog_ratio == pytest.approx(1.3, rel=0.05)
    assert f.tipped and f.tips_per_day > 1
    result, said = _checked(data)
    (load,) = [w for w in said if w.startswith("load:")]
    assert load.startswith("load: expected before the run: advisors overloaded: offered load 1.")
    assert "tip them out of free flow (0.50 of capacity)" in load
    after = result.summary["overload"]["advisor"]
    assert after["status"] == "unstable" and after["queue_growing"]
    assert after["offered_load_ratio"] == pytest.approx(f.load.ratio, rel=0.1)


def test_towns_whose_backlog_clears_are_left_alone() -> None:
    """Thirty advisors a town at two requests a minute: a backlog needs 52 of them (0.87
    of capacity), so whatever tips it clears; nothing is said, and the run keeps up."""
    data = two_towns(30, 2880)
    world = sim.build_world(sim.scenario_from_dict(data))
    assert forecast(world)["advisor"].backlog.flow.backlog_ratio == pytest.approx(0.87, rel=0.05)
    result, said = _checked(data)
    assert not [w for w in said if w.startswith("load:")]
    assert result.summary["overload"]["advisor"]["status"] == "ok"


def test_towns_a_rare_surge_can_tip_are_at_risk() -> None:
    """22 advisors a town at two requests a minute: free flow keeps 20 busy, a backlog
    needs 52 of 44 and never clears, and chance fills the last units about once in some
    days: the milder warning, which names how often."""
    world = sim.build_world(sim.scenario_from_dict(two_towns(22, 2880, days=1)))
    f = forecast(world)["advisor"]
    assert not f.tipped and not f.load.over_the_day
    assert 1 / 30 < f.tips_per_day < 1
    (load,) = overload_warnings(world)
    assert load.startswith("load: expected before the run: advisors at risk: a surge ")
    assert "can tip them into a queue that does not clear, about once in " in load
    assert "1.18 once a backlog sends them to requests anywhere" in load
