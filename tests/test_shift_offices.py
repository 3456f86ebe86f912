"""Per-street-office shift plans: the schema, placement, and the optimiser by office."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import sim
from sim.batch.shiftneed import units_on_duty
from sim.scenario import ScenarioError
from sim.world.build import build_world

TWO_OFFICES: dict[str, Any] = {
    "name": "two",
    "duration": {"days": 1, "warmup_hours": 2},
    # Office-01 is x 0-800 m, Office-02 x 800-1600 m
    "map": {"generate": {"offices_x": 2, "offices_y": 1, "office_size_m": 800, "block_m": 100}},
    "staff": {
        "per_km2": 40,
        "shifts": {
            "advisor": [
                {"start": "07:00", "end": "15:00", "share": 0.5},
                {"start": "15:00", "end": "23:00", "share": 0.5},
            ]
        },
    },
}
EVENING = [{"start": "18:00", "end": "02:00", "share": 1.0}]


def _world(extra: dict[str, Any] | None = None) -> sim.World:
    data = copy.deepcopy(TWO_OFFICES)
    data["staff"].update(extra or {})
    return build_world(sim.scenario_from_dict(data))


def test_an_office_plan_changes_only_that_offices_units() -> None:
    plain = _world()
    own = _world({"shifts_by_office": {"Office-02": {"advisor": EVENING}}})
    names = own.areas.office_names
    assert names == ("Office-01", "Office-02")
    for role in ("grid", "advisor", "enforcer"):
        a, b = plain.roster[role], own.roster[role]
        assert (a.node == b.node).all() and (a.office == b.office).all()  # posts unchanged
    adv, adv0 = own.roster["advisor"], plain.roster["advisor"]
    one, two = adv.office == 0, adv.office == 1
    assert one.sum() >= 2 and two.sum() >= 2
    # by hand: Office-02's advisors work 18:00-02:00, all of them, and nobody else changes
    for minute in (0.0, 60.0, 10 * 60.0, 16 * 60.0, 20 * 60.0, 23.5 * 60.0):
        on, on0 = adv.on_duty(minute), adv0.on_duty(minute)
        assert (on[one] == on0[one]).all(), minute
        evening = minute >= 18 * 60 or minute < 2 * 60
        assert on[two].all() if evening else not on[two].any(), minute
    # Office-01 still has its morning and afternoon shifts half and half (golden-ratio mix)
    assert 0 < adv.on_duty(10 * 60.0)[one].sum() < one.sum()
    for role in ("grid", "enforcer"):  # roles the office plan leaves out keep the district's
        x, y = plain.roster[role], own.roster[role]
        assert all((x.on_duty(m) == y.on_duty(m)).all() for m in np.arange(0, 1440, 30.0))
    duty = units_on_duty(adv)
    assert duty[20] == pytest.approx(adv0.on_duty(20 * 60.0)[one].sum() + two.sum())


def test_office_plans_are_checked_against_the_map_and_their_shares() -> None:
    with pytest.raises(ScenarioError) as err:
        _world({"shifts_by_office": {"Nowhere": {"advisor": EVENING}}})
    assert err.value.problems == [
        "staff.shifts_by_office.Nowhere: no street office of that name on the map"
    ]
    bad = [{"start": "18:00", "end": "02:00", "share": 0.6}]
    with pytest.raises(ScenarioError) as err:
        _world({"shifts_by_office": {"Office-01": {"enforcer": bad}}})
    assert err.value.problems == [
        "staff.shifts_by_office.Office-01: enforcer shift shares must sum to 1, they sum to 0.6"
    ]


# ------------------------------------------------------------------- the optimiser


def test_failing_hours_add_units_where_requests_were_late() -> None:
    from sim.analysis.hour_verdicts import PASS, SHORT, HourVerdicts
    from sim.batch.shiftcorrect import apportion, correct

    assert apportion(5, np.array([1.0, 3.0, 0.0])).tolist() == [1, 4, 0]
    assert apportion(2, np.zeros(3)).tolist() == [2, 0, 0]
    clock = "advisor_on_time"
    status = np.full(24, PASS, dtype=object)
    status[20] = SHORT
    mean, lower = np.full(24, 0.96), np.full(24, 0.955)
    mean[20], lower[20] = 0.75, 0.7
    other = {"enforcer_on_time": np.full(24, PASS, dtype=object)}
    ev = HourVerdicts(8, {clock: mean}, {clock: lower}, {clock: np.full(24, 50.0)},
                      {clock: status, **other}, {})  # fmt: skip
    duty = np.full((2, 24), 5)
    want, floor = {"advisor": duty.copy()}, {"advisor": np.zeros((2, 24), np.int64)}
    late = np.zeros((2, 24))
    late[1, 20] = 12.0  # only Office-02's requests were late at 20:00
    correct(ev, ["advisor"], {"advisor": duty}, want, floor, {"advisor": late}, 0.95, 48)
    # 10 on duty, 75% against 95%: ceil(10 × 0.3) = 3 more, all in Office-02
    assert want["advisor"][:, 20].tolist() == [5, 8] and floor["advisor"][:, 20].tolist() == [0, 6]
    assert (want["advisor"][:, :20] == 5).all()  # passing, not far above: unchanged


def test_optimiser_by_office_gives_the_evening_office_an_evening_shift() -> None:
    """Office-02 has an evening market (18:00-24:00); Office-01 only the light district demand."""
    from sim.batch.shiftplan import optimize_shifts_by_office

    data = copy.deepcopy(TWO_OFFICES)
    data["demand"] = {
        "incidents_per_day": 120,
        "hotspots": [
            {"name": "evening market", "x": 1200, "y": 400, "radius_m": 200,
             "incidents_per_hour": 12, "start": "18:00", "end": "24:00"}
        ],
    }  # fmt: skip
    sc = sim.scenario_from_dict(data)
    res = optimize_shifts_by_office(
        sc, replications=2, max_replications=2, pilot_replications=1, max_rounds=0, workers=1
    )
    plans = res.scenario.staff.shifts_by_office
    assert set(plans) == {"Office-01", "Office-02"}
    world = build_world(res.scenario)
    for role in ("advisor", "enforcer"):
        units = world.roster[role]
        duty = [units_on_duty(units, k) for k in (0, 1)]
        # the market office is busiest in the evening, and busier than the other office then
        assert duty[1][21] > duty[1][10] and duty[1][21] > duty[0][21], (role, duty)
        evening = {
            (s.start, s.end) for s in getattr(plans["Office-02"], role) if s.start >= "16:00"
        }
        assert evening - {(s.start, s.end) for s in getattr(plans["Office-01"], role)}, role
    assert res.meta["by_office"] and res.meta["rules"]["night_cover_per_office"] == 1
    # the written plan runs as is: each office has its own list, district lists untouched
    assert res.scenario.staff.shifts == sc.staff.shifts


def test_campaign_enforcer_plan_is_written_where_it_is_in_force() -> None:
    """The campaign's enforcer shifts replace the staff's on its days: the plan goes there."""
    from conftest import ROOT

    from sim.batch.shiftroster import in_force, placed, shifts_key

    own = sim.load_scenario(ROOT / "scenarios" / "jinshui_night_market.yaml")
    plan = sim.load_scenario(ROOT / "scenarios" / "jinshui_night_market_shifts.yaml")
    assert shifts_key(own, "enforcer") == "enforcement.campaign.enforcer_shifts"
    assert shifts_key(own, "advisor") == "staff.shifts.advisor"
    off = sim.with_overrides(own, {"enforcement.campaign.enabled": False})
    assert shifts_key(off, "enforcer") == "staff.shifts.enforcer"
    assert plan.enforcement.campaign.enforcer_shifts != own.enforcement.campaign.enforcer_shifts
    world = build_world(in_force(own))
    before, after = world.roster["enforcer"], placed(world, plan)["enforcer"]
    # the own campaign plan has only its 02:00-08:00 shift at 07:00; the plan in force more
    assert units_on_duty(after)[7] > 2 * units_on_duty(before)[7]
