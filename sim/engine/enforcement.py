"""The enforcement chain's stages: police support on scene and the campaign's joint team.

Both hook into the incident chain (:mod:`sim.engine.chain`) as data, not as special cases
in the engine:

- ``police_support`` follows ``handling``: where the offender met the team with violent
  resistance, police from the police room (公安警务室) come and the team stays on scene
  longer, by the named draw ``police_minutes`` (``enforcement.cases.police_minutes``).
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

from sim.engine import outcomes
from sim.engine.chain import Bound, Chain, Stage
from sim.engine.outcomes import Draw, DrawContext
from sim.engine.records import Column, RowSources

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
    police, minutes = m.drawn["police"], m.drawn["police_minutes"]

    def handle(i: int, t: float) -> float:
        return float(t + minutes[i]) if police[i] else t

    return handle


def _persuasion(m: DispatchModel) -> Bound:
    persuasion, joint = m.drawn["persuasion"], m.drawn["joint"]

    def handle(i: int, t: float) -> float:
        return t if joint[i] else float(t + persuasion[i])

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


def enforcement_chain(chain: Chain) -> Chain:
    """``chain`` with police support after ``handling`` and the campaign's persuasion."""
    persuasion = replace(JOINT_PERSUASION, next=chain.stage("persuasion").next)
    return chain.replace_stage(persuasion).insert_after("handling", POLICE_SUPPORT)
