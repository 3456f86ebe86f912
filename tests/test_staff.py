"""Staff placement: headcounts by density and mix, posts spread over the streets, shifts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import sim
from sim.world.staff import _teams, hilbert_order


@pytest.fixture(scope="module")
def world() -> sim.World:
    data: dict[str, Any] = {
        "name": "place",
        "map": {"generate": {"offices_x": 3, "offices_y": 2, "office_size_m": 1000, "block_m": 80}},
        "staff": {
            "per_km2": 30,
            "per_km2_by_office": {"Office-01": 60},
            "shifts": {"advisor": [{"start": "07:00", "end": "19:00", "share": 0.75},
                                   {"start": "19:00", "end": "07:00", "share": 0.25}]},
        },
    }  # fmt: skip
    return sim.build_world(sim.scenario_from_dict(data))


def people_in(world: sim.World, office: int) -> int:
    return sum(
        int((u.office == office).sum()) * u.people_per_unit for u in world.roster.units.values()
    )


def test_headcount_follows_density_per_office(world: sim.World) -> None:
    a = world.areas
    for k, name in enumerate(a.office_names):
        density = 60 if name == "Office-01" else 30
        # at least the density asks for, give or take the rounding of one team
        assert people_in(world, k) >= density * a.office_km2[k] - 1
        assert people_in(world, k) <= density * a.office_km2[k] + 3


def test_role_mix_and_teams(world: sim.World) -> None:
    heads = world.roster.headcount()
    total = sum(heads.values())
    assert heads["grid"] / total == pytest.approx(0.40, abs=0.02)
    assert heads["advisor"] / total == pytest.approx(0.35, abs=0.03)
    assert heads["enforcer"] / total == pytest.approx(0.25, abs=0.03)
    assert world.roster["enforcer"].people_per_unit == 2


def test_posts_spread_evenly_over_the_streets(world: sim.World) -> None:
    """Every part of an office has an advisor near: no large empty stretch."""
    adv = world.roster["advisor"]
    posts_xy = np.column_stack([world.net.x[adv.node], world.net.y[adv.node]])
    nodes_xy = np.column_stack([world.net.x, world.net.y])
    nearest = np.sqrt(((nodes_xy[:, None, :] - posts_xy[None, :, :]) ** 2).sum(-1)).min(axis=1)
    spacing = np.sqrt(world.areas.total_km2 * 1e6 / adv.n)  # the side of each post's share
    # a square lattice gives 0.38 and 0.71 spacings; random posts about 0.53 and 1.8
    assert nearest.mean() < 0.49 * spacing
    assert nearest.max() < 1.45 * spacing
    assert len(np.unique(adv.node)) == adv.n  # each on a road section of their own


def test_shift_shares_and_duty(world: sim.World) -> None:
    adv = world.roster["advisor"]
    day = adv.on_duty(12 * 60).mean()
    night = adv.on_duty(2 * 60).mean()
    assert day == pytest.approx(0.75, abs=0.02) and night == pytest.approx(0.25, abs=0.02)
    assert adv.on_duty(1440 + 12 * 60).mean() == day  # the same every day
    # the shifts are mixed over space: both shifts in every office
    for k in range(len(world.areas.office_names)):
        assert set(adv.shift[adv.office == k].tolist()) == {0, 1}


def test_team_rounding_keeps_an_office_advisor() -> None:
    counts = {"grid": 2, "advisor": 1, "enforcer": 1}
    assert _teams(counts, 2, want_advisor=True) == 0 and counts["advisor"] == 2
    counts = {"grid": 180, "advisor": 158, "enforcer": 113}
    assert _teams(counts, 2, want_advisor=True) == 57 and counts["advisor"] == 157


def test_hilbert_order_keeps_neighbours_together() -> None:
    g = np.arange(16)
    x, y = np.meshgrid(g, g)
    order = hilbert_order(x.ravel().astype(float), y.ravel().astype(float), bits=4)
    xs, ys = x.ravel()[order], y.ravel()[order]
    steps = np.abs(np.diff(xs)) + np.abs(np.diff(ys))
    assert np.all(steps == 1)  # a continuous curve through every cell
