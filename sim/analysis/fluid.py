"""The fluid model of one role's queue through the day, and the chance of tipping it.

Nearest-free-unit dispatch is bistable near its margin. While units are free, a
request gets the nearest free one and holds it briefly; once requests wait, each unit
that comes free rides to the oldest of them, anywhere, and holds it far longer, so the
units serve fewer requests an hour just when more are waiting. An hour can keep up in
free flow yet not clear a backlog once one is there.

:func:`carry_backlog` follows the role through the day in :data:`STEP`-minute steps,
as a deterministic flow (the fluid limit of a many-server queue): from nobody busy at
midnight, day after day, until its state at midnight settles or a whole day passes with
requests waiting and more of them at its end. Units busy on requests served at once
follow ``db/dt = λ - b/S_free(busy)``; the busy past the units on shift are requests
that wait. While requests wait every unit on shift is busy, and each that comes free
takes the oldest and holds it ``S_backlog``. A shift that ends takes its share of the
busy units off shift (they finish on overtime); a new shift's units take waiting
requests at once, nearest first, as the dispatcher does.

Where the flow settles, a surge can still tip it: :meth:`Backlog.tips` counts how often
chance takes the units busy past the point of no return in an hour whose backlog, once
there, does not clear (:func:`surge_stays`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.analysis.duty import DAY

STEP = 5.0  # minutes per step
STEPS = int(DAY / STEP)
PER_HOUR = int(60 / STEP)
MAX_DAYS = 30  # days carried at most before the state at midnight is taken as settled
Q_GRID = np.linspace(0.0, 1.0, 65)  # shares of a role's units not free (busy or off shift)
MIN_TIPS = 1e-6  # tips an hour below which an hour is not looked at more closely


@dataclass(frozen=True, eq=False)
class Flow:
    """One role's day as the fluid model takes it.

    In each hour of the day: ``arrivals_h`` requests a minute; ``backlog_hold_h`` the
    minutes a request holds a unit that came free into a queue and rode to it;
    ``free_hold`` (24 × ``len(Q_GRID)``) the minutes it holds the nearest free unit when
    a share ``q`` (:data:`Q_GRID`) of the role's ``units`` is not free. In each
    :data:`STEP` of the day: ``capacity`` the units on shift, and ``kept`` the share of
    those on shift in the step before still on shift.
    """

    arrivals_h: np.ndarray
    backlog_hold_h: np.ndarray
    free_hold: np.ndarray
    capacity: np.ndarray
    kept: np.ndarray
    units: int

    def free_holds(self, h: int, busy: np.ndarray, on: np.ndarray | float) -> np.ndarray:
        """The free-flow hold in hour ``h`` with ``busy`` of ``on`` units on shift busy."""
        q = np.clip(1.0 - (on - busy) / max(self.units, 1), 0.0, 1.0)
        out: np.ndarray = np.interp(q, Q_GRID, self.free_hold[h])
        return out

    def backlog_rate(self) -> np.ndarray:
        """Requests a minute that join the queue in each step while every unit on shift
        serves requests that waited."""
        hour = np.arange(STEPS) // PER_HOUR
        hold = self.backlog_hold_h[hour]
        served = np.divide(self.capacity, hold, out=np.full(STEPS, np.inf), where=hold > 0)
        rate: np.ndarray = self.arrivals_h[hour] - np.where(self.capacity > 0, served, 0.0)
        return rate

    @property
    def backlog_ratio(self) -> float | None:
        """Offered load over capacity over the day were requests waiting all day."""
        duty = float(self.capacity.sum()) * STEP
        work = float(self.arrivals_h @ self.backlog_hold_h) * 60.0
        return work / duty if duty > 0 else None


@dataclass(frozen=True, eq=False)
class Backlog:
    """The fluid model's settled day, for each step: requests ``waiting`` and units
    ``busy`` (on shift) at its start, and the ``share`` of it with requests waiting.
    ``grows``: the queue never empties and grows day over day (every step then has
    requests waiting)."""

    flow: Flow
    waiting: np.ndarray
    busy: np.ndarray
    share: np.ndarray
    grows: bool

    @property
    def share_h(self) -> np.ndarray:
        """The share of each hour of the day with requests waiting."""
        share: np.ndarray = self.share.reshape(24, PER_HOUR).mean(axis=1)
        return share

    @property
    def free_ratio(self) -> float | None:
        """Offered load over capacity over the settled day (before any tip)."""
        flow, hour = self.flow, np.arange(STEPS) // PER_HOUR
        fast = np.concatenate(
            [flow.free_holds(h, self.busy[hour == h], flow.capacity[hour == h]) for h in range(24)]
        )
        hold = self.share * flow.backlog_hold_h[hour] + (1.0 - self.share) * fast
        duty = float(flow.capacity.sum())
        return float(flow.arrivals_h[hour] @ hold) / duty if duty > 0 else None

    def tips(self) -> np.ndarray:
        """The expected number of tips, in each step of the settled day, into a queue
        that never clears.

        Below capacity the number of units busy is that of an infinite-server queue: a
        Poisson count with the fluid's mean (Eick, Massey and Whitt 1993), each job
        keeping the hold it was dispatched with. Past the saddle, where each new
        request's longer ride makes more units busy than come free, the drift alone
        fills every unit (the fluid has that itself); chance takes the count there at
        the rate requests come times the chance of being one short of it. A tip counts
        in an hour whose backlog, once there, does not clear (:func:`surge_stays`).
        """
        out = np.zeros(STEPS)
        if self.grows:
            return out
        flow = self.flow
        for h in range(24):
            steps = np.arange(h * PER_HOUR, (h + 1) * PER_HOUR)
            c = round(float(flow.capacity[steps].mean()))
            lam = float(flow.arrivals_h[h])
            if c < 1 or lam <= 0:
                continue
            busy = np.arange(1, c + 1, dtype=float)
            saddle = _saddle(lam * flow.free_holds(h, busy, c) > busy)
            if saddle < 1:  # no free flow to rest in: the fluid fills every unit itself
                continue
            mean = self.busy[steps]
            rest = (self.waiting[steps] <= 0) & (mean < saddle)
            rate = np.where(rest, STEP * lam * _poisson_pmf(saddle - 1, mean), 0.0)
            start = h * PER_HOUR
            if rate.sum() > MIN_TIPS and surge_stays(flow, start, self.busy):
                out[steps] = rate
        return out


def _poisson_pmf(k: int, mean: np.ndarray) -> np.ndarray:
    """P(N = k) for Poisson counts with ``mean`` (0 where the mean is 0)."""
    m = np.maximum(mean, 1e-300)
    out: np.ndarray = np.exp(k * np.log(m) - m - math.lgamma(k + 1))
    return np.where(mean > 0, out, float(k == 0))


def _saddle(up: np.ndarray) -> int:
    """The number busy from which the drift alone fills every unit, where ``up[k-1]``
    says whether requests outpace completions with ``k`` busy: 0 when nothing holds the
    drift back, ``len(up)`` when nothing pushes it over again."""
    down = np.flatnonzero(~up)
    if not len(down):
        return 0
    again = np.flatnonzero(up[down[0] :])
    return int(down[0] + again[0]) + 1 if len(again) else len(up)


class _Carry:
    """The fluid state, and the day's inputs as Python numbers for the step loop: units
    busy on requests served at once (``free``) and on requests that waited
    (``queued``), and requests ``waiting``."""

    def __init__(self, flow: Flow) -> None:
        self.lam: list[float] = flow.arrivals_h.tolist()
        self.slow: list[float] = flow.backlog_hold_h.tolist()
        self.fast: list[list[float]] = flow.free_hold.tolist()
        self.cap: list[float] = flow.capacity.tolist()
        self.kept: list[float] = flow.kept.tolist()
        self.per_unit = 1.0 / max(flow.units, 1)
        self.free = self.queued = self.waiting = 0.0

    def state(self) -> tuple[float, float, float]:
        return (self.free, self.queued, self.waiting)

    def hold(self, h: int, busy: float, on: float) -> float:
        """The free-flow hold (as :meth:`Flow.free_holds`, for one number)."""
        q = min(max(1.0 - (on - busy) * self.per_unit, 0.0), 1.0) * (len(Q_GRID) - 1)
        i = min(int(q), len(Q_GRID) - 2)
        row = self.fast[h]
        return row[i] + (q - i) * (row[i + 1] - row[i])

    def shift(self, s: int) -> None:
        """Units whose shift ends at step ``s`` leave, busy or not."""
        self.free *= self.kept[s]
        self.queued *= self.kept[s]

    def step(self, s: int) -> float:
        """Carry the state through step ``s``; the share of it with requests waiting."""
        h = s // PER_HOUR
        c, lam, slow = self.cap[s], self.lam[h], self.slow[h]
        idle = c - self.free - self.queued
        if self.waiting > 0.0 and idle > 0.0:  # a new shift takes waiting requests
            take = min(self.waiting, idle)
            self.waiting -= take
            self.free += take
        if self.waiting <= 0.0:
            return self._free(h, c, STEP)
        # every unit busy: each that comes free takes a waiting request
        fast = self.hold(h, self.free, c)  # as when those requests were served
        done_free = self.free * -math.expm1(-STEP / fast) if fast > 0 else self.free
        served = done_free + (self.queued * STEP / slow if slow > 0 else self.queued)
        if self.waiting + lam * STEP > served:
            self.waiting += lam * STEP - served
            self.free -= done_free
            self.queued = c - self.free
            return 1.0
        tau = self.waiting / (served / STEP - lam)  # the queue empties within the step
        self.waiting = 0.0
        self.free -= done_free * tau / STEP
        self.queued = c - self.free
        return (tau + self._free(h, c, STEP - tau) * (STEP - tau)) / STEP

    def _free(self, h: int, c: float, dt: float) -> float:
        """Free flow for ``dt`` minutes (the hold taken at the midpoint); the busy past
        the units on shift are requests that wait. The share of ``dt`` with some."""
        lam, slow = self.lam[h], self.slow[h]
        before = self.free + self.queued
        decay = math.exp(-dt / slow) if slow > 0 else 0.0
        mid = _relax(self.free, lam, self.hold(h, before, c), dt / 2)
        mid += self.queued * (math.exp(-dt / 2 / slow) if slow > 0 else 0.0)
        after = _relax(self.free, lam, self.hold(h, min(mid, c), c), dt)
        self.queued *= decay
        if after + self.queued <= c:
            self.free = after
            return 0.0
        over = after + self.queued - c
        self.free = max(c - self.queued, 0.0)
        self.waiting += over
        return min(over / max(after + self.queued - before, over), 1.0)


def _relax(b: float, lam: float, hold: float, dt: float) -> float:
    """``b`` after ``dt`` minutes of ``db/dt = λ - b/S`` with ``S = hold``."""
    target = lam * hold
    return target + (b - target) * (math.exp(-dt / hold) if hold > 0 else 0.0)


def carry_backlog(flow: Flow) -> Backlog:
    """Carry the role's queue day after day from nobody busy at midnight (module
    docstring) until its state at midnight settles or it is seen to grow."""
    x = _Carry(flow)
    waiting, busy, share = np.zeros(STEPS), np.zeros(STEPS), np.zeros(STEPS)
    for _ in range(MAX_DAYS):
        first = x.state()
        for s in range(STEPS):
            x.shift(s)
            waiting[s], busy[s] = x.waiting, x.free + x.queued
            share[s] = x.step(s)
        if share.min() >= 1.0 and x.waiting >= first[2]:
            return Backlog(flow, waiting, busy, np.ones(STEPS), grows=True)
        if all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
            for a, b in zip(first, x.state(), strict=True)
        ):
            break
    return Backlog(flow, waiting, busy, share, grows=False)


def surge_stays(flow: Flow, start: int, busy: np.ndarray) -> bool:
    """Whether a surge at step ``start`` of a settled day with ``busy`` units busy in each
    step and nobody waiting at ``start`` does not clear. The surge: every unit on shift
    busy (those the settled day has on requests served at once, the rest on requests
    that waited) and one more request waiting. It clears when the queue is back to
    nobody waiting with no more units busy than the settled day has; it stays when
    requests still wait a day later (whose backlog rides add to the queue: the
    backlog's day is over capacity, and it is from ``start`` on)."""
    rate = flow.backlog_rate() * STEP
    if float(rate.sum()) <= 0 or not (np.cumsum(np.roll(rate, -start)) > 0).all():
        return False  # it clears even with every unit riding from a backlog all along
    x = _Carry(flow)
    c = x.cap[start]
    x.free, x.queued, x.waiting = min(float(busy[start]), c), max(c - busy[start], 0.0), 1e-9
    settled = busy.tolist()
    for k in range(STEPS):
        s = (start + k) % STEPS
        if k:
            x.shift(s)
            if x.waiting <= 0 and x.free + x.queued <= settled[s] + 1e-9:
                return False
        x.step(s)
    return x.waiting > 0
