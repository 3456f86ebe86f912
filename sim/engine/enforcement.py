"""The enforcement chain's stages: police support on scene and the campaign's joint team.

Both hook into the incident chain (:mod:`sim.engine.chain`) as data, not as special cases
in the engine:

- ``police_support`` follows ``handling``: where the offender met the team with violent
  resistance, police from the police room (公安警务室) come and the team stays on scene
  longer, by the named draw ``police_minutes`` (``enforcement.cases.police_minutes``).
  When the scenario posts police (``staff.police_per_office`` or ``staff.posts.police``)
  the team calls a police unit as it comes to enforce (the end of its handling), waits
  on scene until the unit arrives (``police_travel``: no turnout, the ride from its
  post), then spends ``police_minutes`` with it (``police_on_scene``); both leave
  together (``police_leaves``, then ``handling_ends``). The call is one scheduled event
  and the unit's ride back another, only for the incidents that met resistance.
- ``persuasion`` is replaced by a stage that skips the persuasion round for incidents the
  "归零" campaign's joint team found on site (``joint``): it enforces by law at once.

Who resisted and who was met by the joint team is decided by the offender process
(:mod:`sim.engine.offenders`), which gives the draws ``police`` and ``joint`` for its own
incidents (:class:`~sim.engine.outcomes.Given`); for one-off incidents both are false.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import simpy

from sim.engine import outcomes
from sim.engine.chain import Bound, Chain, Stage
from sim.engine.crews import POLICE as POLICE_ROLE
from sim.engine.outcomes import Draw, DrawContext
from sim.engine.records import Column, RowSources, cells, role_columns

if TYPE_CHECKING:
    from sim.engine.model import DispatchModel


def _none(d: DrawContext) -> np.ndarray:
    return np.zeros(d.n, dtype=bool)


def _police_minutes(d: DrawContext) -> np.ndarray:
    result: np.ndarray = d.scenario.enforcement.cases.police_minutes.sample(
        d.stream("police_minutes"), d.n
    )
    return result


POLICE = Draw("police", _none)  # violent resistance met: police support on scene
POLICE_MINUTES = Draw("police_minutes", _police_minutes)
JOINT = Draw("joint", _none)  # found by the campaign's joint team on site


def _police_support(m: DispatchModel) -> Bound:
    police, minutes = cells(m.drawn["police"]), cells(m.drawn["police_minutes"])

    def handle(i: int, t: float) -> float:
        end: float = t + minutes[i] if police[i] else t
        return end

    return handle


def _police_call(m: DispatchModel) -> Bound:
    """Resistance: call a police unit at the end of handling (an event at that minute)."""
    police, called = cells(m.drawn["police"]), cells(m.log["police_called"])
    request, then, at = m.crews[POLICE_ROLE.name].request, m.stage_index("police_travel"), m.at

    def call(ev: simpy.Event) -> None:
        request(ev.value, then)  # type: ignore[arg-type]  # scheduled with the incident

    def handle(i: int, t: float) -> float | None:
        if not police[i]:
            return t
        called[i] = t
        at(t - m.env.now, call, i)
        return None

    return handle


def _police_travel(m: DispatchModel) -> Bound:
    crew = m.crews[POLICE_ROLE.name]
    out_m, speed, arrived = cells(crew.out_m), crew.speed, cells(m.log[POLICE_ROLE.arrived])

    def handle(i: int, t: float) -> float:
        arrive: float = t + out_m[i] / speed
        arrived[i] = arrive
        return arrive

    return handle


def _police_on_scene(m: DispatchModel) -> Bound:
    minutes = cells(m.drawn["police_minutes"])

    def handle(i: int, t: float) -> float:
        end: float = t + minutes[i]
        return end

    return handle


def _police_leaves(m: DispatchModel) -> Bound:
    release = m.crews[POLICE_ROLE.name].release

    def handle(i: int, t: float) -> float:
        release(i, t)
        return t

    return handle


def _persuasion(m: DispatchModel) -> Bound:
    persuasion, joint = cells(m.drawn["persuasion"]), cells(m.drawn["joint"])

    def handle(i: int, t: float) -> float:
        end: float = t if joint[i] else t + persuasion[i]
        return end

    return handle


def _flag(name: str) -> Column:
    def value(s: RowSources) -> np.ndarray:
        return np.asarray(s.drawn[name], dtype=np.bool_)

    return Column(
        f"{name}_support" if name == "police" else name,
        np.bool_,
        "derived",
        {
            "police": "violent resistance: police supported the team (longer on scene)",
            "joint": "found by the campaign's joint team on site (no persuasion round)",
        }[name],
        value=value,
    )


POLICE_SUPPORT = Stage(
    "police_support",
    bind=_police_support,
    draws=(POLICE, POLICE_MINUTES),
    columns=(_flag("police"),),
)
JOINT_PERSUASION = Stage(
    "persuasion",
    bind=_persuasion,
    next="persuasion_ends",
    draws=(outcomes.PERSUASION, outcomes.PERSUADED, JOINT),
    columns=(_flag("joint"),),
)


POLICE_CALL = Stage(
    "police_support",
    bind=_police_call,
    draws=(POLICE, POLICE_MINUTES),
    columns=(
        _flag("police"),
        Column("police_called", np.float64, "chain", "minute the team called police"),
        *role_columns(POLICE_ROLE.unit_column, POLICE_ROLE.prefix, "police unit"),
    ),
)
POLICE_UNIT_STAGES = (
    Stage("police_travel", bind=_police_travel),
    Stage("police_on_scene", bind=_police_on_scene),
    Stage("police_leaves", bind=_police_leaves),
)


def enforcement_chain(chain: Chain, police: bool = False) -> Chain:
    """``chain`` with police support after ``handling`` and the campaign's persuasion.

    ``police``: the scenario posts police units, so resistance calls one (a crew of the
    role ``police``); otherwise the team alone stays longer on scene.
    """
    persuasion = replace(JOINT_PERSUASION, next=chain.stage("persuasion").next)
    chain = chain.replace_stage(persuasion)
    if not police:
        return chain.insert_after("handling", POLICE_SUPPORT)
    after = chain.stage("handling").next
    chain = chain.insert_after("handling", POLICE_CALL)
    before = "police_support"
    for stage in POLICE_UNIT_STAGES:  # reached only through the call: off the main path
        chain = chain.insert_after(before, stage)
        before = stage.name
    call = replace(chain.stage("police_support"), next=after)
    return replace(chain.replace_stage(call), roles=(*chain.roles, POLICE_ROLE), _index={})
