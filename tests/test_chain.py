"""The incident chain is open: a stage added from outside changes only what it should."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import SMALL_CITY

import sim
from sim.engine.chain import Stage, standard_chain
from sim.engine.model import DispatchModel
from sim.engine.outcomes import Draw, DrawContext
from sim.engine.records import Column


def _photograph(m: DispatchModel, i: int, t: float) -> float:
    """A fixed minute photographing the scene once the team is there."""
    m.log["photographed"][i] = t + 1.0
    return t + 1.0


def _scenario() -> sim.Scenario:
    return sim.scenario_from_dict({**SMALL_CITY, "staff": {"per_km2": 30}})


def test_a_stage_added_after_the_team_arrives_delays_closing_by_its_minute() -> None:
    photo = Stage(
        "photograph",
        _photograph,
        columns=(Column("photographed", np.float64, "chain", "minute the photos were taken"),),
    )
    chain = standard_chain().insert_after("team_arrives", photo)
    names = [s.name for s in chain.stages]
    assert names[names.index("team_arrives") :][:3] == ["team_arrives", "photograph", "handling"]
    assert chain.stage("team_arrives").next == "photograph"
    base = sim.run(_scenario(), seed=4)
    photo_run = sim.run(_scenario(), seed=4, world=base.world, chain=chain)
    a, b = base.table, photo_run.table
    esc = a["escalated"]
    assert esc.sum() > 20 and (~esc).sum() > 20  # both paths exercised
    # common random numbers: the same incidents with the same outcomes
    assert np.array_equal(a["instructed"], b["instructed"], equal_nan=True)
    assert np.array_equal(esc, b["escalated"])
    # the team stays one minute longer on scene, every time, whoever was sent
    done = esc & np.isfinite(a["closed"]) & np.isfinite(b["closed"])
    assert done.sum() > 20
    on_scene_a = a["closed"][done] - a["enforcer_arrived"][done]
    on_scene_b = b["closed"][done] - b["enforcer_arrived"][done]
    assert np.allclose(on_scene_b - on_scene_a, 1.0)
    assert np.allclose(b["photographed"][done], b["enforcer_arrived"][done] + 1.0)
    assert np.isnan(b["photographed"][~esc]).all()  # persuaded: no team, no photograph
    # a stage that only computes a time adds no event
    assert photo_run.stats["events"] == base.stats["events"]
    assert list(b.columns)[-1] == "photographed"  # declared columns follow the standard ones


def test_a_stage_with_its_own_draw_leaves_every_other_draw_alone() -> None:
    """A random stage draws from its own named stream: the other outcomes do not move."""

    def pause(d: DrawContext) -> np.ndarray:
        return d.stream("pause").exponential(2.0, d.n)

    def handle(m: DispatchModel, i: int, t: float) -> float:
        return float(t + m.drawn["pause"][i])

    chain = standard_chain().insert_after(
        "team_arrives", Stage("pause", handle, draws=(Draw("pause", pause),))
    )
    base = sim.run(_scenario(), seed=9)
    other = sim.run(_scenario(), seed=9, world=base.world, chain=chain)
    a, b = base.table, other.table
    esc = a["escalated"] & np.isfinite(a["closed"])
    handling = a["closed"][esc] - a["enforcer_arrived"][esc]
    handling_b = b["closed"][esc] - b["enforcer_arrived"][esc]
    pauses = handling_b - handling
    assert (pauses > 0).all() and np.ptp(pauses) > 0.5  # random and positive
    assert np.array_equal(a["escalated"], b["escalated"])  # the outcome draws did not move


def test_a_stage_that_goes_back_in_time_is_refused() -> None:
    """Scheduling in the past would run the clock backwards: the engine refuses it."""
    chain = standard_chain()
    early = Stage("persuasion", lambda m, i, t: t - 30.0, next="persuasion_ends")
    chain = chain.replace_stage(replace(early, draws=chain.stage("persuasion").draws))
    sc = sim.scenario_from_dict({**SMALL_CITY, "staff": {"per_km2": 30}})
    with pytest.raises(ValueError, match="clocked stage"):
        sim.run(sc, chain=chain)
