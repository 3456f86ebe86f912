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
from sim.analysis.preflight import expected_load, overload_warnings


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
