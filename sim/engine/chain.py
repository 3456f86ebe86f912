"""The incident chain as data: the named stages an incident moves through.

Each :class:`Stage` has one handler, ``handle(model, i, t) -> float | None``: incident
``i`` enters the stage at minute ``t``; the handler reads and writes the incident's
record columns (``model.log[column][i]``), reads its draws (``model.drawn[name][i]``),
asks a crew for a unit (``model.request(role, i, then=stage)``) or sends one back
(``model.release(role, i, at)``), and returns the minute the stage ends — the incident
then enters the stage's ``next`` — or ``None`` when it waits for a crew or is done.
(The standard stages are written as ``bind(model) -> handle(i, t)``, fetching their
arrays once per replication: the same thing, faster.)

Most stages only compute times, so they run at once, on the incident's own clock,
without a simulation event: an arrival or the end of on-scene work is a number, not
something waited for. A stage marked ``clocked`` touches shared state (it asks a crew
for a unit), so it runs as a scheduled event at its minute, in order with every other
incident. The standard chain (:func:`standard_chain`)::

    instruction* ─► advisor_travel ─► persuasion ─► persuasion_ends*
        persuaded: closed, advisor released
        failed:    ─► enforcer_travel ─► team_arrives (advisor released) ─► handling
                   ─► handling_ends (closed, team released)

(``*``: clocked.) Scheduled events per incident: its instruction, the end of
persuasion, and the moment each unit sent is back at its post — at most four.

To add a stage, build it and insert it, without editing the engine::

    chain = standard_chain().insert_after(
        "team_arrives", Stage("photograph", lambda m, i, t: t + 1.0))
    sim.run(scenario, chain=chain)

A stage that needs chance declares :class:`~sim.engine.outcomes.Draw` entries (each
from its own named stream); one that records something declares
:class:`~sim.engine.records.Column` entries (``source="chain"``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sim.engine import outcomes
from sim.engine.crews import ADVISOR, ENFORCER, ROLES, CrewRole
from sim.engine.outcomes import Draw
from sim.engine.records import RECORD, Column, cells

if TYPE_CHECKING:
    from sim.engine.model import DispatchModel

Handler = Callable[["DispatchModel", int, float], float | None]
Bound = Callable[[int, float], float | None]


@dataclass(frozen=True)
class Stage:
    """One stage of an incident's life (see the module docstring).

    Give ``handle(model, i, t)``, or ``bind(model)`` returning ``handle(i, t)`` when the
    stage is worth speeding up by fetching its arrays and crews once per replication.
    """

    name: str
    handle: Handler | None = None
    next: str | None = None
    clocked: bool = False
    draws: tuple[Draw, ...] = ()
    columns: tuple[Column, ...] = ()
    bind: Callable[[DispatchModel], Bound] | None = None

    def __post_init__(self) -> None:
        if (self.handle is None) == (self.bind is None):
            raise ValueError(f"stage {self.name!r}: give exactly one of handle and bind")

    def bound(self, model: DispatchModel) -> Bound:
        """The handler of this stage for one model run, called as ``handle(i, t)``."""
        if self.bind is not None:
            return self.bind(model)
        assert self.handle is not None
        return functools.partial(self.handle, model)


@dataclass(frozen=True)
class Chain:
    """The stages, the first of which runs at each incident's instruction, and the roles."""

    stages: tuple[Stage, ...]
    roles: tuple[CrewRole, ...] = ROLES
    record: tuple[Column, ...] = RECORD
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names repeat: {names}")
        self._index.update({n: k for k, n in enumerate(names)})
        for s in self.stages:
            if s.next is not None and s.next not in self._index:
                raise ValueError(f"stage {s.name!r} continues at unknown stage {s.next!r}")
        if not self.stages[0].clocked:
            raise ValueError("the first stage runs at the instruction, so it must be clocked")

    def index(self, name: str) -> int:
        """The position of stage ``name`` (what a request's ``then`` resolves to)."""
        try:
            return self._index[name]
        except KeyError:
            raise ValueError(f"no stage {name!r} in the chain") from None

    def stage(self, name: str) -> Stage:
        return self.stages[self.index(name)]

    def insert_after(self, name: str, stage: Stage) -> Chain:
        """A chain with ``stage`` entered after ``name`` (and leading where ``name`` led)."""
        before = self.stage(name)
        new = replace(stage, next=before.next) if stage.next is None else stage
        stages = [replace(s, next=stage.name) if s.name == name else s for s in self.stages]
        stages.insert(self.index(name) + 1, new)
        return replace(self, stages=tuple(stages), _index={})

    def replace_stage(self, stage: Stage) -> Chain:
        """A chain with the stage of the same name replaced."""
        self.index(stage.name)
        stages = tuple(stage if s.name == stage.name else s for s in self.stages)
        return replace(self, stages=stages, _index={})

    @property
    def draws(self) -> tuple[Draw, ...]:
        return tuple(d for s in self.stages for d in s.draws)

    @property
    def columns(self) -> tuple[Column, ...]:
        """The incident record: the standard columns, then those stages add."""
        return self.record + tuple(c for s in self.stages for c in s.columns)


# --------------------------------------------------------------- the standard chain
# Its stages bind to the model once (``bind``), fetching the arrays and crews they use,
# so each incident costs one call per stage: the engine's hot path.


def _instruction(m: DispatchModel) -> Bound:
    request, then = m.crews[ADVISOR.name].request, m.stage_index("advisor_travel")

    def handle(i: int, t: float) -> None:
        request(i, then)

    return handle


def travel(role: CrewRole, draw: str) -> Callable[[DispatchModel], Bound]:
    """Ride out: the unit sets off after its turnout and arrives; writes ``<prefix>_arrived``.

    The stage starts when the unit is dispatched and ends when it arrives.
    """

    def bind(m: DispatchModel) -> Bound:
        crew = m.crews[role.name]
        turnout, out_m, speed = cells(m.drawn[draw]), cells(crew.out_m), crew.speed
        arrived = cells(m.log[role.arrived])

        def handle(i: int, t: float) -> float:
            arrive: float = t + turnout[i] + out_m[i] / speed
            arrived[i] = arrive
            return arrive

        return handle

    return bind


def _persuasion(m: DispatchModel) -> Bound:
    persuasion = cells(m.drawn["persuasion"])

    def handle(i: int, t: float) -> float:
        end: float = t + persuasion[i]
        return end

    return handle


def _persuasion_ends(m: DispatchModel) -> Bound:
    ended, closed = cells(m.log["persuasion_ended"]), cells(m.log["closed"])
    persuaded = cells(m.drawn["persuaded"])
    release = m.crews[ADVISOR.name].release
    request, then = m.crews[ENFORCER.name].request, m.stage_index("enforcer_travel")

    def handle(i: int, t: float) -> None:
        ended[i] = t
        if persuaded[i]:
            closed[i] = t
            release(i, t)
        else:
            request(i, then)

    return handle


def _team_arrives(m: DispatchModel) -> Bound:
    release = m.crews[ADVISOR.name].release

    def handle(i: int, t: float) -> float:
        release(i, t)  # the advisor waits on scene for the team
        return t

    return handle


def _handling(m: DispatchModel) -> Bound:
    handling = cells(m.drawn["handling"])

    def handle(i: int, t: float) -> float:
        end: float = t + handling[i]
        return end

    return handle


def _handling_ends(m: DispatchModel) -> Bound:
    closed, release = cells(m.log["closed"]), m.crews[ENFORCER.name].release

    def handle(i: int, t: float) -> None:
        closed[i] = t
        release(i, t)

    return handle


def standard_chain() -> Chain:
    """The double-ten chain of the 城管120 model (diagram in the module docstring)."""
    return Chain(
        (
            Stage("instruction", bind=_instruction, clocked=True),
            Stage(
                "advisor_travel",
                bind=travel(ADVISOR, "advisor_turnout"),
                next="persuasion",
                draws=(outcomes.turnout(ADVISOR.name),),
            ),
            Stage(
                "persuasion",
                bind=_persuasion,
                next="persuasion_ends",
                draws=(outcomes.PERSUASION, outcomes.PERSUADED),
            ),
            Stage("persuasion_ends", bind=_persuasion_ends, clocked=True),
            Stage(
                "enforcer_travel",
                bind=travel(ENFORCER, "enforcer_turnout"),
                next="team_arrives",
                draws=(outcomes.turnout(ENFORCER.name),),
            ),
            Stage("team_arrives", bind=_team_arrives, next="handling"),
            Stage("handling", bind=_handling, next="handling_ends", draws=(outcomes.HANDLING,)),
            Stage("handling_ends", bind=_handling_ends),
        )
    )
