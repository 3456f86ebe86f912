"""Offered load against the capacity on duty, by hour of day and over the day.

The one check of whether a role can keep up, made twice: after a run from what each
request really held (:func:`sim.analysis.metrics.role_load`, the summary's overload
measures) and before it from the demand the scenario will draw
(:func:`sim.analysis.preflight.expected_load`, the early warning). Both give
:func:`hourly_load` request times and holding times and read the same verdict. Before
the run the holding times are not known: how long a ride is depends on whether requests
wait, and the fluid model of :mod:`sim.analysis.fluid` finds which hours of the day they
do; its backlog grows day over day when, with a backlog's holds, this ratio is over 1.

Offered load is the time-varying load of the infinite-server queue (Eick, Massey and
Whitt 1993): how many units would be busy if every request got one at once and held it
as long as it does. Each request occupies [request, request + holding time); this is
clipped to the window and summed by hour of day. Capacity is the mean number of units on
shift. Their ratio ρ ≥ 1 over the day means the queue grows without bound; ρ ≥ 1 only at
some hours means a backlog builds there and must clear later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.analysis.duty import duty_unit_minutes, hourly_capacity, window_minutes_before
from sim.world.staff import Units


@dataclass(frozen=True, eq=False)
class HourlyLoad:
    """One role's offered load and capacity over a window, by hour of day.

    ``offered_h`` and ``capacity_h`` are mean units busy and on shift in each hour of the
    day (0-23); ``seen_h`` marks the hours the window covers; ``work_min`` and
    ``duty_min`` are the unit-minutes offered and on shift, ``window_min`` the window's
    minutes (times the replications pooled).
    """

    offered_h: np.ndarray
    capacity_h: np.ndarray
    seen_h: np.ndarray
    work_min: float
    duty_min: float
    window_min: float

    @property
    def ratio(self) -> float | None:
        """Offered load over capacity for the whole window (``None``: work, nobody on shift)."""
        if self.duty_min:
            return self.work_min / self.duty_min
        return None if self.work_min else 0.0

    @property
    def over_the_day(self) -> bool:
        """The role cannot keep up even over the whole day: its queue grows without bound."""
        ratio = self.ratio
        return ratio is None or ratio >= 1

    @property
    def offered_load(self) -> float | None:
        """Mean units busy over the window."""
        return self.work_min / self.window_min if self.window_min > 0 else None

    @property
    def capacity(self) -> float | None:
        """Mean units on shift over the window."""
        return self.duty_min / self.window_min if self.window_min > 0 else None

    @property
    def ratio_by_hour(self) -> list[float | None]:
        cap = self.capacity_h
        return [
            float(self.offered_h[h] / cap[h]) if self.seen_h[h] and cap[h] > 0 else None
            for h in range(24)
        ]

    @property
    def _over_h(self) -> np.ndarray:
        offered = self.offered_h
        over: np.ndarray = self.seen_h & (offered > 0) & (offered >= self.capacity_h)
        return over

    @property
    def hours_over(self) -> list[int]:
        """Hours of day when the load is at or over the units on shift."""
        return [int(h) for h in np.flatnonzero(self._over_h)]

    @property
    def hours_unstaffed(self) -> list[int]:
        """Hours of day with work and nobody on shift."""
        return [int(h) for h in np.flatnonzero(self._over_h & (self.capacity_h == 0))]

    @property
    def peak_hour(self) -> int | None:
        ratios = self.ratio_by_hour
        hours = [h for h in range(24) if ratios[h] is not None]
        return max(hours, key=lambda h: ratios[h] or 0.0) if hours else None

    @property
    def peak_ratio(self) -> float | None:
        peak = self.peak_hour
        return self.ratio_by_hour[peak] if peak is not None else None

    def status(self, growing: bool | None = None) -> str:
        """``unstable`` (over the day, or a queue seen ``growing``), ``peak`` or ``ok``."""
        if self.over_the_day or growing:
            return "unstable"
        return "peak" if self._over_h.any() else "ok"


def hourly_load(
    requested: np.ndarray, hold: np.ndarray, units: Units, lo: float, hi: float, reps: int = 1
) -> HourlyLoad:
    """The load of requests at minutes ``requested``, each holding a unit ``hold`` minutes,
    against ``units`` on shift, within [lo, hi) (``reps`` replications pooled)."""
    start = np.clip(requested, lo, hi)
    stop = np.clip(requested + hold, lo, hi)
    occupied_h = np.zeros(24)
    exposure_h = np.zeros(24)
    for h in range(24):
        w = (60.0 * h, 60.0 * h + 60.0)
        occupied_h[h] = float(
            (window_minutes_before(stop, *w) - window_minutes_before(start, *w)).sum()
        )
        exposure_h[h] = reps * float(window_minutes_before(hi, *w) - window_minutes_before(lo, *w))
    offered_h = np.divide(occupied_h, exposure_h, out=np.zeros(24), where=exposure_h > 0)
    return HourlyLoad(
        offered_h=offered_h,
        capacity_h=hourly_capacity(units, lo, hi) if units.n else np.zeros(24),
        seen_h=exposure_h > 0,
        work_min=float(occupied_h.sum()),
        duty_min=reps * duty_unit_minutes(units, lo, hi),
        window_min=reps * (hi - lo),
    )
