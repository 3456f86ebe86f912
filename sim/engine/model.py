"""The event model: instructions, advisors, escalation and enforcer teams on a SimPy clock.

One incident moves through at most four scheduled events: its instruction, the end of
persuasion, and the moments its advisor and (if it escalated) its enforcer team are back
at their posts. Arrivals and on-scene times are computed, not waited for, so the event
count stays small. Units waiting for work and incidents waiting for units meet in a
FIFO queue per role; the clock of a queued incident keeps running.

The model knows nothing of files or YAML: it takes arrays and policies and fills an
:class:`~sim.engine.records.IncidentLog`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import cast

import numpy as np
import simpy

from sim.engine.demand import Incidents
from sim.engine.dispatch import Dispatcher
from sim.engine.records import IncidentLog
from sim.world.staff import Units

ADVISOR, ENFORCER = "advisor", "enforcer"
DRAIN_CAP_MIN = 7 * 1440.0  # after the horizon, finish open work for at most this long


def _payload(ev: simpy.Event) -> int:
    """The incident or unit index an event was scheduled with."""
    return cast(int, ev.value)


class _Crew:
    """The units of one role, their state, and the incidents queued for them."""

    def __init__(self, units: Units, dispatcher: Dispatcher, speed_m_per_min: float) -> None:
        self.units = units
        self.dispatcher = dispatcher
        self.speed = speed_m_per_min
        self.idle = np.ones(units.n, dtype=bool)
        self.on = units.on_duty(0.0)
        self.available = self.idle & self.on
        self.queue: deque[int] = deque()

    def set_duty(self, t: float) -> None:
        self.on = self.units.on_duty(t)
        self.available = self.idle & self.on


class DispatchModel:
    """Simulates one replication: feed it incidents, run it, read its log."""

    def __init__(
        self,
        incidents: Incidents,
        advisors: tuple[Units, Dispatcher, float],
        enforcers: tuple[Units, Dispatcher, float],
        horizon_min: float,
    ) -> None:
        self.env = simpy.Environment()
        self.inc = incidents
        self.horizon = horizon_min
        self.log = IncidentLog.empty(incidents.n)
        self._advisor_out_m = np.zeros(incidents.n)  # distance the advisor rode out
        self.crews = {ADVISOR: _Crew(*advisors), ENFORCER: _Crew(*enforcers)}
        found = np.isfinite(incidents.instructed) & (incidents.instructed < horizon_min)
        idx = np.flatnonzero(found)
        self._arrivals = idx[np.argsort(incidents.instructed[idx], kind="stable")].tolist()
        self._next_arrival = 0
        marks = set()
        for crew in self.crews.values():
            marks.update(crew.units.boundaries())
        self._shift_marks = sorted(marks) or [0.0]
        self._shift_pending = False
        self._duty_until = self._next_mark(0.0)  # on-duty flags hold until this minute
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
        return self.log

    def _at(self, delay: float, callback: Callable[[simpy.Event], None], value: int) -> None:
        self.events += 1
        ev = self.env.timeout(delay, value)
        ev.callbacks.append(callback)

    def _schedule_next_arrival(self) -> None:
        if self._next_arrival < len(self._arrivals):
            i = self._arrivals[self._next_arrival]
            self._next_arrival += 1
            self._at(self.inc.instructed[i] - self.env.now, self._on_instruction, i)

    def _next_mark(self, now: float) -> float:
        """The first shift boundary strictly after ``now``."""
        tod = now % 1440.0
        later = [m for m in self._shift_marks if m > tod + 1e-9]
        return now + ((later[0] - tod) if later else (1440.0 - tod + self._shift_marks[0]))

    def _sync_duty(self) -> None:
        """Bring who is on duty up to the present before anyone is dispatched or freed.

        This makes the answer independent of whether a shift change and another event
        at the same minute happen to be processed in one order or the other, and keeps
        it right after the horizon, when the shift clock may have stopped.
        """
        now = self.env.now
        if now >= self._duty_until:
            for crew in self.crews.values():
                crew.set_duty(now + 1e-6)  # the shift in force from this minute on
            self._duty_until = self._next_mark(now)

    def _schedule_next_shift_change(self) -> None:
        """Shift changes run to the horizon, and after it for as long as anyone waits."""
        now = self.env.now
        self._shift_pending = False
        if now >= self.horizon and not any(c.queue for c in self.crews.values()):
            return
        self._shift_pending = True
        self._at(self._next_mark(now) - now, self._on_shift_change, 0)

    # ------------------------------------------------------------------ events

    def _on_instruction(self, ev: simpy.Event) -> None:
        self._schedule_next_arrival()
        self._request(ADVISOR, _payload(ev))

    def _on_shift_change(self, ev: simpy.Event) -> None:
        self._sync_duty()
        for role in self.crews:
            self._drain(role)
        self._schedule_next_shift_change()

    def _on_persuasion_end(self, ev: simpy.Event) -> None:
        i = _payload(ev)
        now = self.env.now
        self.log.persuasion_ended[i] = now
        if self.inc.persuaded[i]:
            self._release_advisor(i, now)
        else:
            self._request(ENFORCER, i)

    def _on_free(self, role: str, ev: simpy.Event) -> None:
        self._sync_duty()
        crew = self.crews[role]
        u = _payload(ev)
        crew.idle[u] = True
        crew.available[u] = crew.on[u]
        if crew.available[u] and crew.queue:
            self._drain(role)

    def _on_advisor_free(self, ev: simpy.Event) -> None:
        self._on_free(ADVISOR, ev)

    def _on_enforcer_free(self, ev: simpy.Event) -> None:
        self._on_free(ENFORCER, ev)

    # ---------------------------------------------------------------- dispatch

    def _request(self, role: str, i: int) -> None:
        self._sync_duty()
        crew = self.crews[role]
        choice = None if crew.queue else crew.dispatcher.pick(int(self.inc.node[i]), crew.available)
        if choice is None:
            crew.queue.append(i)
            if not self._shift_pending:  # past the horizon: wake the shift clock for this one
                self._schedule_next_shift_change()
        else:
            self._assign(role, i, *choice)

    def _drain(self, role: str) -> None:
        crew = self.crews[role]
        while crew.queue and crew.available.any():
            i = crew.queue[0]
            choice = crew.dispatcher.pick(int(self.inc.node[i]), crew.available)
            if choice is None:
                return
            crew.queue.popleft()
            self._assign(role, i, *choice)

    def _assign(self, role: str, i: int, unit: int, dist_m: float) -> None:
        crew = self.crews[role]
        crew.idle[unit] = False
        crew.available[unit] = False
        now = self.env.now
        log = self.log
        if role == ADVISOR:
            self._advisor_out_m[i] = dist_m
            arrive = now + self.inc.advisor_turnout[i] + dist_m / crew.speed
            log.advisor[i] = unit
            log.advisor_dispatched[i] = now
            log.advisor_arrived[i] = arrive
            self._at(arrive - now + self.inc.persuasion[i], self._on_persuasion_end, i)
        else:
            arrive = now + self.inc.enforcer_turnout[i] + dist_m / crew.speed
            log.enforcer[i] = unit
            log.enforcer_dispatched[i] = now
            log.enforcer_arrived[i] = arrive
            closed = arrive + self.inc.handling[i]
            log.closed[i] = closed
            back = self._back_minutes(crew, unit, i, dist_m)
            log.enforcer_released[i] = closed + back
            self._at(closed + back - now, self._on_enforcer_free, unit)
            self._release_advisor(i, arrive)  # the advisor waits on scene for the team

    def _back_minutes(self, crew: _Crew, unit: int, i: int, out_m: float) -> float:
        """Time to ride back to the post; on a two-way network, the way out reversed."""
        table = crew.dispatcher.table
        back_m = out_m if table.symmetric else table.inbound(unit, int(self.inc.node[i]))
        return back_m / crew.speed

    def _release_advisor(self, i: int, leave_at: float) -> None:
        crew = self.crews[ADVISOR]
        unit = int(self.log.advisor[i])
        if self.inc.persuaded[i]:
            self.log.closed[i] = leave_at
        back = self._back_minutes(crew, unit, i, float(self._advisor_out_m[i]))
        self.log.advisor_released[i] = leave_at + back
        self._at(leave_at + back - self.env.now, self._on_advisor_free, unit)
