"""The event model: runs every incident through the chain on one SimPy clock.

Incidents enter the chain's first stage at their instruction; the stages
(:mod:`sim.engine.chain`) do the rest, asking the crews (:mod:`sim.engine.crews`) for
units. Only clocked stages, units coming free and shift changes are scheduled events:
at most four per incident in the standard chain (instruction, end of persuasion, each
unit back at its post). Arrivals are fed one at a time, so the event queue holds only
work in flight.

The model knows nothing of files or YAML: it takes arrays, crews and a chain and fills
an :class:`~sim.engine.records.IncidentLog`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import simpy

from sim.engine.chain import Bound, Chain, standard_chain
from sim.engine.crews import Crew, CrewSpec
from sim.engine.demand import Incidents
from sim.engine.events import NORMAL, Call
from sim.engine.records import IncidentLog

DRAIN_CAP_MIN = 7 * 1440.0  # after the horizon, finish open work for at most this long


class DispatchModel:
    """Simulates one replication: feed it incidents, run it, read its log.

    Stage handlers use: ``log`` (record columns), ``drawn`` (per-incident draws),
    ``crews`` (by role name), :meth:`request`, :meth:`release` and ``env.now``.
    """

    def __init__(
        self,
        incidents: Incidents,
        drawn: Mapping[str, np.ndarray],
        crews: Mapping[str, CrewSpec],
        horizon_min: float,
        chain: Chain | None = None,
    ) -> None:
        self.env = simpy.Environment()
        self.inc = incidents
        self.drawn = drawn
        self.horizon = horizon_min
        self.chain = chain = chain if chain is not None else standard_chain()
        self.log = IncidentLog.empty(incidents.n, chain.columns)
        self.crews = {
            role.name: Crew(self, role, crews[role.name], incidents.n) for role in chain.roles
        }
        self._schedule = self.env.schedule
        self._index = {s.name: k for k, s in enumerate(chain.stages)}
        self._handle = [s.bound(self) for s in chain.stages]
        self._next = [-1 if s.next is None else chain.index(s.next) for s in chain.stages]
        # clocked stages: the callback of the event that runs them (None: run inline)
        self._on_stage: list[Callable[[simpy.Event], None] | None] = [
            self._stage_event(k) if s.clocked else None for k, s in enumerate(chain.stages)
        ]
        self._path = [self._route(k) for k in range(len(chain.stages))]
        found = np.isfinite(incidents.instructed) & (incidents.instructed < horizon_min)
        idx = np.flatnonzero(found)
        idx = idx[np.argsort(incidents.instructed[idx], kind="stable")]
        self._arrivals: list[int] = idx.tolist()  # incidents in order of instruction
        self._arrival_at: list[float] = incidents.instructed[idx].tolist()  # and when
        self._next_arrival = 0
        marks = set()
        for crew in self.crews.values():
            marks.update(crew.units.boundaries())
        self._shift_marks = sorted(marks) or [0.0]
        self._shift_pending = False
        self.duty_until = self._next_mark(0.0)  # on-duty flags hold until this minute
        self.events = 0  # scheduled events, for benchmarks

    # ----------------------------------------------------------------- running

    def run(
        self, progress: Callable[[float], None] | None = None, step_min: float = 1440.0
    ) -> IncidentLog:
        """Run to the horizon and until open work is done (bounded); return the log."""
        self._schedule_next_arrival()
        self._schedule_next_shift_change()
        end = self.horizon + DRAIN_CAP_MIN
        t = 0.0
        while self.env.peek() < end:
            t = min(t + step_min, end)
            self.env.run(until=t)
            if progress is not None:
                progress(min(t, self.horizon))
        self._unlink()
        return self.log

    def _unlink(self) -> None:
        """Break the model ↔ crew ↔ stage reference cycles once the run is over.

        Without this a finished replication's arrays (draws, incidents, distances, events
        left in the queue) would wait for the cyclic garbage collector instead of going
        as soon as the caller drops the model: at a million incidents, ~130 MB held.
        """
        self._handle = []
        self._on_stage = []
        self._path = []
        self.crews = {}
        self.env = simpy.Environment()
        self._schedule = self.env.schedule

    def at(self, delay: float, callback: Callable[[simpy.Event], None], value: object) -> None:
        """Schedule ``callback`` in ``delay`` minutes with ``value`` (counted in ``events``).

        ``callback`` gets the event; ``event.value`` is ``value``. Events at the same
        minute run in the order they were scheduled (SimPy's insertion order).
        """
        if delay < 0:
            raise ValueError(f"cannot schedule an event {-delay} minutes in the past")
        self.events += 1
        self._schedule(Call(self.env, callback, value), NORMAL, delay)

    # ------------------------------------------------------------- the chain

    def advance(self, k: int, i: int, t: float) -> None:
        """Incident ``i`` enters stage ``k`` at minute ``t`` and moves on from there."""
        path, k = self._path[k]
        for handle in path:
            end = handle(i, t)
            if end is None:
                return
            t = end
        if k < 0:
            return
        run = self._on_stage[k]
        if run is None:  # the inline stages loop back: go round again
            self.advance(k, i, t)
            return
        env = self.env  # clocked: an event at its minute
        delay = t - env.now
        if delay < 0:
            raise ValueError(f"incident {i} would enter a clocked stage {-delay} minutes ago")
        self.events += 1
        self._schedule(Call(env, run, i), NORMAL, delay)

    def _route(self, k: int) -> tuple[tuple[Bound, ...], int]:
        """The inline stages from ``k`` on, and where they lead: a clocked stage, -1 (the
        end), or a stage already passed (a loop). Stages lead to one ``next`` each, so
        the way from each stage is known before the run."""
        passed: list[int] = []
        while k >= 0 and self._on_stage[k] is None and k not in passed:
            passed.append(k)
            k = self._next[k]
        return tuple(self._handle[j] for j in passed), k

    def _stage_event(self, k: int) -> Callable[[simpy.Event], None]:
        """The callback that runs clocked stage ``k`` for the incident an event carries."""
        handle, nxt, env = self._handle[k], self._next[k], self.env

        def on_stage(ev: simpy.Event) -> None:
            i: int = ev.value  # type: ignore[assignment]  # scheduled with the incident
            end = handle(i, env.now)
            if end is not None:
                self.advance(nxt, i, end)

        return on_stage

    def stage_index(self, name: str) -> int:
        """The position of stage ``name`` in the chain (for a bound stage's requests)."""
        return self._index[name]

    def request(self, role: str, i: int, then: str) -> None:
        """Ask for a unit of ``role`` for incident ``i``; once sent, continue at ``then``."""
        self.crews[role].request(i, self._index[then])

    def release(self, role: str, i: int, at: float) -> None:
        """The unit of ``role`` sent to ``i`` leaves the scene at ``at`` for its post."""
        self.crews[role].release(i, at)

    # ------------------------------------------------------------- arrivals

    def _schedule_next_arrival(self) -> None:
        k = self._next_arrival
        if k < len(self._arrivals):
            self._next_arrival = k + 1
            self.events += 1
            env = self.env
            call = Call(env, self._on_instruction, self._arrivals[k])
            self._schedule(call, NORMAL, self._arrival_at[k] - env.now)

    def _on_instruction(self, ev: simpy.Event) -> None:
        k = self._next_arrival  # the next arrival first (as _schedule_next_arrival)
        if k < len(self._arrivals):
            self._next_arrival = k + 1
            self.events += 1
            now = self.env.now
            call = Call(self.env, self._on_instruction, self._arrivals[k])
            self._schedule(call, NORMAL, self._arrival_at[k] - now)
        else:
            now = self.env.now
        i: int = ev.value  # type: ignore[assignment]  # scheduled with the incident
        end = self._handle[0](i, now)
        if end is not None:
            self.advance(self._next[0], i, end)

    # --------------------------------------------------------------- shifts

    def _next_mark(self, now: float) -> float:
        """The first shift boundary strictly after ``now``."""
        tod = now % 1440.0
        later = [m for m in self._shift_marks if m > tod + 1e-9]
        return now + ((later[0] - tod) if later else (1440.0 - tod + self._shift_marks[0]))

    def sync_duty(self) -> None:
        """Bring who is on duty up to the present before anyone is dispatched or freed.

        This makes the answer independent of whether a shift change and another event
        at the same minute happen to be processed in one order or the other, and keeps
        it right after the horizon, when the shift clock may have stopped. (Callers on
        the hot path check ``now >= duty_until`` first, to skip the call.)
        """
        now = self.env.now
        if now >= self.duty_until:
            for crew in self.crews.values():
                crew.set_duty(now + 1e-6)  # the shift in force from this minute on
            self.duty_until = self._next_mark(now)

    def wake_shift_clock(self) -> None:
        """Past the horizon the shift clock stops; a newly queued incident restarts it."""
        if not self._shift_pending:
            self._schedule_next_shift_change()

    def _schedule_next_shift_change(self) -> None:
        """Shift changes run to the horizon, and after it for as long as anyone waits."""
        now = self.env.now
        self._shift_pending = False
        if now >= self.horizon and not any(c.queue for c in self.crews.values()):
            return
        self._shift_pending = True
        self.at(self._next_mark(now) - now, self._on_shift_change, 0)

    def _on_shift_change(self, ev: simpy.Event) -> None:
        self.sync_duty()
        for crew in self.crews.values():
            crew.drain()
        self._schedule_next_shift_change()
