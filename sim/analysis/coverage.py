"""Advisor coverage: which streets an advisor reaches within the first clock.

Coverage counts road length the way incidents are placed in the simulator: every node
carries half of each street at it (:meth:`StreetNetwork.node_weights`), and that length is
covered when an advisor leaving the nearest counted post (after the mean turnout) arrives
there by the deadline. Distances come from the advisor travel table, so nodes beyond its
cutoff count as not covered. ``python -m sim map`` prints the share and draws the bands
(:mod:`sim.viz.mapplot`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.world.build import World

# upper ends of the travel-time bands "covered" and "late", as multiples of the deadline;
# beyond the last one is "beyond"
BAND_LIMITS = (1.0, 1.5)


@dataclass(frozen=True)
class Coverage:
    """Advisor travel times to every node and the share of road length covered in time."""

    minutes: np.ndarray  # per node: turnout + travel from the nearest counted post; inf beyond
    share: float  # of road length reached within the deadline
    deadline: float  # minutes (rules.advisor_minutes)
    road_km: float
    posts: int  # advisor units counted (on duty at ``hour``, or all)
    total_posts: int
    hour: float | None
    speed_m_per_min: float
    turnout_min: float
    cutoff_min: float  # travel table reach, turnout included

    @property
    def covered_km(self) -> float:
        return self.share * self.road_km


def advisor_coverage(world: World, hour: float | None = None) -> Coverage:
    """Travel time of the nearest advisor to every node and the road-length share in time.

    With ``hour`` only advisors on duty at that hour of the first day count.
    """
    sc = world.scenario
    net = world.net
    units = world.roster["advisor"]
    table = world.tables["advisor"]
    counted = units.on_duty(hour * 60.0) if hour is not None else np.ones(units.n, dtype=bool)
    dist = np.full(net.n, np.inf)
    if counted.all():
        for node in range(net.n):
            _, d = table.candidates(node)
            if len(d):
                dist[node] = d[0]
    elif counted.any():
        for node in range(net.n):
            u, d = table.candidates(node)
            ok = counted[u]
            if ok.any():
                dist[node] = d[int(ok.argmax())]
    speed = sc.travel.speed_m_per_min("advisor")
    turnout = float(sc.dispatch.advisor_turnout.mean_value)
    minutes = turnout + dist / speed
    deadline = sc.rules.minutes("advisor")
    weights = net.node_weights()
    total = float(weights.sum())
    share = float(weights[minutes <= deadline].sum()) / total if total > 0 else 0.0
    return Coverage(
        minutes=minutes,
        share=share,
        deadline=deadline,
        road_km=total / 1000.0,
        posts=int(counted.sum()),
        total_posts=units.n,
        hour=hour,
        speed_m_per_min=speed,
        turnout_min=turnout,
        cutoff_min=turnout + table.cutoff_m / speed,
    )


def band_of(minutes: np.ndarray, deadline: float) -> np.ndarray:
    """Band of each travel time: 0 covered, 1 late, 2 beyond (see :data:`BAND_LIMITS`)."""
    return np.searchsorted(np.array([f * deadline for f in BAND_LIMITS]), minutes, side="left")
