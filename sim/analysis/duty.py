"""Time on shift: how many minutes units are on duty in a span, with shifts that may change by day.

Shifts are daily windows of minutes (``end <= start`` wraps past midnight); a unit's
pattern may be replaced on some days (:class:`~sim.world.staff.ShiftPeriod`, the
campaign's shifts), where a shift belongs to the day it starts. Utilisation, capacity and
the shift planner count duty with these functions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.world.staff import Units, in_window

DAY = 1440.0


def window_minutes_before(t: Any, start: float, end: float) -> Any:
    """Minutes of [0, ``t``) whose time of day lies in the daily window [start, end).

    The window wraps past midnight when ``end <= start`` (as :func:`sim.world.staff.in_window`);
    the minutes of any interval [a, b) in the window are then ``f(b) - f(a)``, exactly.
    """
    t = np.asarray(t, dtype=float)
    days, tod = np.floor(t / DAY), np.mod(t, DAY)
    if start < end:
        per_day, part = end - start, np.clip(tod - start, 0.0, end - start)
    else:
        per_day = DAY - start + end
        part = np.minimum(tod, end) + np.maximum(tod - start, 0.0)
    return days * per_day + part


def _started_minutes_before(t: Any, start: float, end: float, d0: int, d1: int) -> Any:
    """Minutes of [0, ``t``) on the daily shift [start, end) started on days ``d0 … d1-1``.

    A shift belongs to the day it starts (:class:`~sim.world.staff.ShiftPeriod`).
    """
    length = (end - start) % DAY or DAY

    def upto(x: Any) -> Any:  # shifts starting at 0, DAY, 2·DAY, … : minutes before x
        x = np.maximum(x, 0.0)
        return np.floor(x / DAY) * length + np.minimum(np.mod(x, DAY), length)

    t = np.asarray(t, dtype=float)
    return upto(t - start - d0 * DAY) - upto(t - start - d1 * DAY)


def on_shift_minutes(units: Units, unit: np.ndarray, a: Any, b: Any) -> np.ndarray:
    """Minutes of [a, b) that each ``unit`` (indices) is on shift, with its shift periods.

    The ordinary pattern on every day, less it on the periods' days, plus the periods'.
    ``unit``, ``a`` and ``b`` broadcast together.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    base = units.shift[unit]
    out = np.zeros(np.broadcast_shapes(base.shape, a.shape, b.shape))
    for k, (s, e) in enumerate(units.shifts):
        part = window_minutes_before(b, s, e) - window_minutes_before(a, s, e)
        out += np.where(base == k, part, 0.0)
    for p in units.periods:
        for shift, shifts, sign in ((base, units.shifts, -1.0), (p.shift[unit], p.shifts, 1.0)):
            for k, (s, e) in enumerate(shifts):
                part = _started_minutes_before(b, s, e, p.first_day, p.end_day)
                part = part - _started_minutes_before(a, s, e, p.first_day, p.end_day)
                out += np.where(shift == k, sign * part, 0.0)
    return out


def duty_unit_minutes(units: Units, start: float, end: float) -> float:
    """Unit-minutes on shift within [start, end), summed over the role's units."""
    if units.n == 0 or end <= start:
        return 0.0
    if units.periods:
        return float(on_shift_minutes(units, np.arange(units.n), start, end).sum())
    per_shift = [
        float(window_minutes_before(end, s, e) - window_minutes_before(start, s, e))
        for s, e in units.shifts
    ]
    return float(np.bincount(units.shift, minlength=len(units.shifts)) @ np.asarray(per_shift))


def hourly_capacity(units: Units, lo: float, hi: float) -> np.ndarray:
    """Mean number of units on shift in each hour of the day (0-23), over [lo, hi)
    (which matters only when the shifts change by day)."""
    if units.periods:
        starts = np.arange(math.floor(lo / 60.0), math.ceil(hi / 60.0)) * 60.0
        starts = starts[(starts >= lo) & (starts + 60.0 <= hi)]
        if len(starts) == 0:
            starts = np.arange(24) * 60.0 + math.floor(lo / DAY) * DAY
        idx = np.arange(units.n)[:, None]
        on = on_shift_minutes(units, idx, starts[None, :], starts[None, :] + 60.0).sum(axis=0)
        hour = (starts // 60 % 24).astype(int)
        seen = np.bincount(hour, minlength=24)
        total = np.bincount(hour, weights=on, minlength=24)
        mean: np.ndarray = np.divide(total, 60.0 * seen, out=np.zeros(24), where=seen > 0)
        return mean
    count = np.bincount(units.shift, minlength=len(units.shifts)).astype(float)
    cap = np.zeros(24)
    for k, (s, e) in enumerate(units.shifts):
        starts = np.arange(24) * 60.0
        cap += (
            count[k]
            * (window_minutes_before(starts + 60.0, s, e) - window_minutes_before(starts, s, e))
            / 60.0
        )
    return cap


def duty_steps(units: Units, lo: float, hi: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Units on shift in each ``step`` minutes of the day (at its middle), and the share
    of those on shift in the step before still on shift in this one; the mean over the
    days of [lo, hi) when shifts change by day."""
    mids = np.arange(0.0, DAY, step) + step / 2.0
    if units.periods:
        days = range(math.floor(lo / DAY), max(math.ceil(hi / DAY), math.floor(lo / DAY) + 1))
        on = np.array([[units.on_duty(d * DAY + t) for t in mids] for d in days])
        prev = np.roll(on, 1, axis=1)
        prev[1:, 0] = on[:-1, -1]  # the last step of the day before
        on_n, prev_n = on.sum(axis=(0, 2)), prev.sum(axis=(0, 2))
        both = (on & prev).sum(axis=(0, 2))
        cap = on_n / len(days)
    else:
        count = np.bincount(units.shift, minlength=len(units.shifts)).astype(float)
        active = np.array([in_window(mids, s, e) for s, e in units.shifts], dtype=float)
        active = active.reshape(len(units.shifts), len(mids))
        cap = count @ active
        prev_n = np.roll(cap, 1)
        both = count @ (active * np.roll(active, 1, axis=1))
    kept = np.divide(both, prev_n, out=np.ones(len(mids)), where=prev_n > 0)
    return np.asarray(cap, dtype=float), kept
