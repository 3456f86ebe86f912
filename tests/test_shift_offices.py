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
