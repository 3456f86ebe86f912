"""Correct a shift plan's hourly needs by what its simulation showed.

The shift optimiser (:mod:`sim.batch.shiftplan`) keeps a need per hour for each role,
either for the whole district or for each street office (rows of an ``offices × 24``
array; one row for the district). After a plan is simulated, every hour of the district
is judged on the role's clock (:mod:`sim.analysis.hour_verdicts`) and the needs move:

* an hour **below target** (shown short, or with its mean below target at the most
  replications) gets a tenth more units than it had on duty plus the shortfall as a
  fraction (75% on time against 95%: 30% more), at least one; an hour still
  **undecided** at the most replications with its mean on target gets
  :data:`UNDECIDED_STEP` (2%) more units than it had on duty, at least one — a step in
  proportion to the hour, as one unit is 1% of 100 on duty but 20% of 5. Either
  way it failed with the units it had, which becomes its floor: the need never goes that
  low again, so the search cannot cycle;
* an hour **far above** target (its lower bound at least :data:`FAR_ABOVE` of the way
  from the target to 100%) loses a tenth of its units (at least one), down to its floor.

By office, the district's verdict decides, because dispatch sends the nearest free unit
across office borders: an office's requests are served by its neighbours' units too, so
its own hours are neither independent nor, with a handful of requests each, decided.
The units a failing hour gets go to the offices whose requests were late in it, in
proportion to their late requests; a far-above hour loses a tenth in every office.

When no round's every hour meets the target, the search keeps the best round
(:func:`best_round`), not the last.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.analysis.hour_verdicts import CLOCKS, OPEN, OPEN_BELOW, PASS, SHORT, HourVerdicts

FAR_ABOVE = 0.5
"""An hour whose lower bound is this far from the target towards 100% may lose units."""

SHORT_STEP = 0.1
"""A short hour gets this fraction more units than it had on duty, plus its shortfall."""

UNDECIDED_STEP = 0.02
"""An hour undecided at the most replications gets this fraction more units."""


def step(units: int, below: bool, gap: float) -> int:
    """Units to add to an hour that failed with ``units`` on duty.

    ``below``: shown short (or its mean below target at the most replications), by
    ``gap`` (target − mean): :data:`SHORT_STEP` plus the gap, as fractions of the units;
    otherwise undecided with its mean on target: :data:`UNDECIDED_STEP` of the units.
    At least one either way.
    """
    frac = SHORT_STEP + max(0.0, gap) if below else UNDECIDED_STEP
    return max(1, math.ceil(units * frac - 1e-9))


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` whole units in proportion to ``weights`` (largest remainder; ties to the
    first); all to the first of the largest weights when every weight is zero."""
    w = np.asarray(weights, float)
    out: np.ndarray = np.zeros(len(w), dtype=np.int64)
    if total <= 0 or not len(w):
        return out
    if w.sum() <= 0:
        out[int(np.argmax(w))] = total
        return out
    raw = w / w.sum() * total
    out[:] = np.floor(raw)
    for j in np.argsort(out - raw, kind="stable")[: total - int(out.sum())]:
        out[j] += 1
    return out


def correct(
    ev: HourVerdicts,
    roles: Sequence[str],
    on_duty: Mapping[str, np.ndarray],
    want: dict[str, np.ndarray],
    floor: dict[str, np.ndarray],
    late: Mapping[str, np.ndarray],
    target: float,
    max_replications: int,
) -> None:
    """Move ``want`` (and ``floor``) of each role by the district's hourly verdicts.

    ``on_duty``, ``want``, ``floor`` and ``late`` (late requests in the simulated plan)
    are ``offices × 24`` per role, one row for a district plan; see the module doc.
    """
    far = target + FAR_ABOVE * (1.0 - target)
    settled = ev.replications >= max_replications  # undecided hours get no more runs
    for r in roles:
        clock = CLOCKS[r]
        st = ev.status[clock]
        for h in range(24):
            duty = on_duty[r][:, h].astype(np.int64)
            d = int(duty.sum())
            below = st[h] == SHORT or (st[h] == OPEN_BELOW and settled)
            if below or (st[h] == OPEN and settled):
                add = apportion(step(d, below, target - float(ev.mean[clock][h])), late[r][:, h])
                got = add > 0
                floor[r][got, h] = np.maximum(floor[r][got, h], duty[got] + 1)
                want[r][got, h] = np.maximum(want[r][got, h], duty[got] + add[got])
            elif st[h] == PASS and ev.lower[clock][h] >= far - 1e-12:
                lowered = duty - np.maximum(1, np.floor(0.1 * duty).astype(np.int64))
                want[r][:, h] = np.minimum(want[r][:, h], np.maximum(floor[r][:, h], lowered))


def round_rank(entry: Mapping[str, Any]) -> tuple[int, int, float, int]:
    """How a simulated round ranks (lower is better): hours shown short, then hours
    undecided, then staff-hours, then the earlier round. ``entry`` is a round of the
    search's ``history`` (hour lists per role under ``hours_short`` and
    ``hours_undecided``). A round whose every hour met the target ranks ``(0, 0, …)``, so
    among those the cheapest wins; when none did, the best round is kept, not the last."""
    short = sum(len(v) for v in entry["hours_short"].values())
    undecided = sum(len(v) for v in entry["hours_undecided"].values())
    return short, undecided, float(entry["staff_hours"]), int(entry["round"])


def best_round(history: Sequence[Mapping[str, Any]]) -> int:
    """The index in ``history`` of the round to keep (:func:`round_rank`)."""
    if not history:
        raise ValueError("no round was simulated")
    return min(range(len(history)), key=lambda i: round_rank(history[i]))
