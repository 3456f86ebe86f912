"""Crews: the units of one role, who is free, and the incidents queued for them.

One generic :class:`Crew` serves every role. A stage asks for a unit with
:meth:`Crew.request`; the crew sends the available unit its dispatch policy picks, or
queues the incident (FIFO; the incident's clock keeps running) and sends one when a
unit comes free or a shift starts. Sending a unit writes the role's record columns
(who, when) and continues the incident's chain at the stage the request named.
:meth:`Crew.release` sends the unit back to its post; it is free again on arrival.

A role is declared by a :class:`CrewRole`: its name in the scenario (staff mix, speeds,
shifts) and the names of its record columns, both from the registry (:mod:`sim.roles`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import simpy

from sim.engine.dispatch import Dispatcher
from sim.engine.events import NORMAL, Call
from sim.engine.records import cells
from sim.roles import BY_NAME
from sim.world.staff import Units

if TYPE_CHECKING:
    from sim.engine.model import DispatchModel


@dataclass(frozen=True)
class CrewRole:
    """A dispatched role and its record columns.

    ``unit_column`` holds the unit sent (-1: none); ``<prefix>_dispatched`` and
    ``<prefix>_released`` (back at the post) are written by the crew, and
    ``<prefix>_arrived`` by the chain's travel stage.
    """

    name: str
    unit_column: str
    prefix: str

    @classmethod
    def of(cls, name: str) -> CrewRole:
        """The dispatched role ``name`` of the registry (:mod:`sim.roles`)."""
        info = BY_NAME[name]
        if not info.dispatched:
            raise ValueError(f"role {name!r} is not dispatched")
        return cls(name, info.unit_column, info.prefix)

    @property
    def dispatched(self) -> str:
        return f"{self.prefix}_dispatched"

    @property
    def arrived(self) -> str:
        return f"{self.prefix}_arrived"

    @property
    def released(self) -> str:
        return f"{self.prefix}_released"


ADVISOR = CrewRole.of("advisor")
ENFORCER = CrewRole.of("enforcer")
POLICE = CrewRole.of("police")  # optional: only in a chain whose scenario posts police
ROLES: tuple[CrewRole, ...] = (ADVISOR, ENFORCER)  # the standard chain's roles, in dispatch order


@dataclass(frozen=True, eq=False)
class CrewSpec:
    """What a crew is built from: its units, its dispatcher, its travel speed."""

    units: Units
    dispatcher: Dispatcher
    speed_m_per_min: float


class Crew:
    """The units of one role in one replication (see the module docstring).

    ``idle``, ``on`` and ``available`` (idle and on duty) are per-unit flags, updated in
    place; the hot path reads and writes them, and the record columns, through
    :func:`~sim.engine.records.cells` (Python scalars, not numpy ones).
    """

    def __init__(
        self, model: DispatchModel, role: CrewRole, spec: CrewSpec, n_incidents: int
    ) -> None:
        self.model = model
        self.role = role
        self.units = spec.units
        self.dispatcher = spec.dispatcher
        self.speed = spec.speed_m_per_min
        self.idle = np.ones(spec.units.n, dtype=bool)
        self.on = spec.units.on_duty(0.0).astype(bool)  # a copy of our own: updated in place
        self.available = self.idle & self.on
        self.queue: deque[tuple[int, int]] = deque()  # (incident, stage to continue at)
        self.out_m = np.zeros(n_incidents)  # distance each incident's unit rode out
        log = model.log
        self._idle, self._on = cells(self.idle), cells(self.on)
        self._available = cells(self.available)
        self._out = cells(self.out_m)
        self._unit = cells(log[role.unit_column])
        self._dispatched = cells(log[role.dispatched])
        self._released = cells(log[role.released])
        self._node = cells(model.inc.node)
        self._env = model.env
        self._schedule = model.env.schedule
        self._pick = spec.dispatcher.picker(self.available)
        self._symmetric = spec.dispatcher.table.symmetric  # the way back is the way out

    def set_duty(self, t: float) -> None:
        self.on[:] = self.units.on_duty(t)
        np.logical_and(self.idle, self.on, out=self.available)

    def request(self, i: int, then: int) -> None:
        """Send a unit to incident ``i`` (continuing at stage ``then``), or queue it."""
        model = self.model
        now = self._env.now
        if now >= model.duty_until:
            model.sync_duty()
        if not self.queue:
            choice = self._pick(self._node[i])
            if choice is not None:
                unit, self._out[i] = choice
                self._idle[unit] = self._available[unit] = False
                self._unit[i] = unit
                self._dispatched[i] = now
                model.advance(then, i, now)
                return
        self.queue.append((i, then))
        model.wake_shift_clock()

    def drain(self) -> None:
        """Send units to queued incidents, first come first served, while any is free."""
        queue = self.queue
        while queue and self.available.any():
            i, then = queue[0]
            choice = self._pick(self._node[i])
            if choice is None:
                return
            queue.popleft()
            self._assign(i, then, *choice)

    def _assign(self, i: int, then: int, unit: int, dist_m: float) -> None:
        self._idle[unit] = self._available[unit] = False
        now = self._env.now
        self._out[i] = dist_m
        self._unit[i] = unit
        self._dispatched[i] = now
        self.model.advance(then, i, now)

    def travel_minutes(self, i: int) -> float:
        """Minutes the unit sent to ``i`` needs to ride out (turnout not included)."""
        out_m: float = self._out[i]
        return out_m / self.speed

    def release(self, i: int, leave_at: float) -> None:
        """The unit sent to ``i`` leaves the scene at ``leave_at`` and rides back to its post."""
        unit: int = self._unit[i]
        back_m: float = (
            self._out[i] if self._symmetric else self.dispatcher.table.inbound(unit, self._node[i])
        )
        back = leave_at + back_m / self.speed
        self._released[i] = back
        env = self._env  # model.at, inlined
        delay = back - env.now
        if delay < 0:
            raise ValueError(f"the unit sent to incident {i} would be back {-delay} minutes ago")
        self.model.events += 1
        self._schedule(Call(env, self._on_free, unit), NORMAL, delay)

    def _on_free(self, ev: simpy.Event) -> None:
        if self._env.now >= self.model.duty_until:
            self.model.sync_duty()
        u: int = ev.value  # type: ignore[assignment]  # scheduled with the unit
        self._idle[u] = True
        if self._on[u]:
            self._available[u] = True
            if self.queue:
                self.drain()
