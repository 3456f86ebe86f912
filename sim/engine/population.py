"""Who offends: the population of persistent offenders of one replication.

Per category (and per hotspot) a share of incidents comes from offenders at street nodes
(:func:`draw_population`), sized so that they cause that share: an offender offends on a
day while the day's gain exceeds the perceived certainty of a sanction times its
severity (Becker 1968, :func:`becker`). What they perceive, and what they do about it,
is the process of :mod:`sim.engine.offenders`; who stands near whom is :class:`Nearby`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from sim.rng import stream
from sim.scenario import Scenario
from sim.world.hotspots import HotspotSite
from sim.world.network import StreetNetwork

if TYPE_CHECKING:
    from sim.world.build import World

DAY_MIN = 1440.0
BACKGROUND = -1


@dataclass(frozen=True, eq=False)
class Population:
    """Every offender who appears in one replication (newcomers included)."""

    node: np.ndarray
    category: np.ndarray
    hotspot: np.ndarray  # index of the resolved hotspot, -1 for a street offender
    p_base: np.ndarray  # daily offence chance when undeterred
    gain: np.ndarray  # yuan per offence
    first_rung: np.ndarray
    enter_day: np.ndarray

    @property
    def n(self) -> int:
        return len(self.node)


def becker(
    scenario: Scenario, certainty: np.ndarray, severity: np.ndarray, gain: np.ndarray
) -> np.ndarray:
    """Share of days the gain exceeds the expected penalty (log-logistic daily gains)."""
    k = scenario.enforcement.deterrence.shape
    ratio = certainty * severity / gain
    out: np.ndarray = 1.0 / (1.0 + ratio**k)
    return out


def severity(scenario: Scenario) -> np.ndarray:
    """Perceived cost of each rung: its mean fine and the hassle of any sanction."""
    e = scenario.enforcement
    return np.array([r.fine_mean + e.deterrence.hassle_yuan for r in e.rungs])


def undeterred(scenario: Scenario, first_rung: int) -> float:
    """Share of days an offender at the prior certainty, facing ``first_rung``, offends."""
    d = scenario.enforcement.deterrence
    out = becker(
        scenario,
        np.array([d.prior_certainty]),
        severity(scenario)[[first_rung]],
        np.array([d.gain_yuan]),
    )
    return float(out[0])


def _groups(
    scenario: Scenario, sites: list[HotspotSite], per_day: float
) -> list[tuple[int, int, float, float, int]]:
    """(category or -1, hotspot or -1, share, incidents per day, first rung) per group;
    ``per_day`` is the background count a day on the map."""
    e = scenario.enforcement.offenders
    d = scenario.demand
    cats = list(d.categories)
    out = []
    for name, g in e.categories.items():
        rate = per_day * d.categories[name].share
        out.append((cats.index(name), BACKGROUND, g.share, rate, g.first_rung))
    for k, site in enumerate(sites):
        g2 = e.hotspots.get(site.name)
        if g2 is not None:
            out.append((BACKGROUND, k, g2.share, site.per_day, g2.first_rung))
    return out


def draw_population(world: World, replication: int) -> Population:
    """Offenders at the start, sized so they cause their share of incidents, and newcomers."""
    scenario, net, sites = world.scenario, world.net, world.sites
    e = scenario.enforcement
    o = e.offenders
    rng = stream(scenario.seed, "offenders/population", replication)
    days = math.ceil(scenario.horizon_min / DAY_MIN)
    cats = list(scenario.demand.categories)
    parts: list[tuple[np.ndarray, ...]] = []
    for cat, spot, share, per_day, first in _groups(
        scenario, sites, world.volume.incidents_per_day
    ):
        site = sites[spot] if spot >= 0 else None
        p_mean = (
            o.hotspots[site.name].daily_p if site is not None else o.categories[cats[cat]].daily_p
        )
        # the initial offence chance already includes the prior's deterrence
        n0 = round(share * per_day / (p_mean * undeterred(scenario, first)))
        n_new = int(rng.poisson(o.turnover_per_day * n0 * max(days - 1, 0)))
        n = n0 + n_new
        if n == 0:
            continue
        if site is None:
            node = rng.choice(net.n, size=n, p=net.location_p())
            category = np.full(n, cat)
        else:
            node = rng.choice(site.nodes, size=n, p=site.weights)
            category = rng.choice(len(cats), size=n, p=site.category_p)
        if o.spread > 0:
            shape = 1.0 / o.spread**2
            p_base = np.minimum(p_mean * rng.gamma(shape, 1.0 / shape, n), 1.0)
        else:
            p_base = np.full(n, p_mean)
        d = e.deterrence
        if d.gain_sd > 0:
            s2 = math.log1p((d.gain_sd / d.gain_yuan) ** 2)
            gain = rng.lognormal(math.log(d.gain_yuan) - s2 / 2, math.sqrt(s2), n)
        else:
            gain = np.full(n, d.gain_yuan)
        enter = np.zeros(n)
        enter[n0:] = rng.integers(1, max(days, 2), n_new)
        parts.append((node, category, np.full(n, spot), p_base, gain, np.full(n, first), enter))
    if not parts:
        return Population(
            *(
                np.zeros(0, dtype=t)
                for t in (np.int64, np.int16, np.int16, float, float, np.int64, float)
            )
        )
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    total = len(cols[0])
    if total > o.max_offenders:
        raise ValueError(
            f"{total:,} offenders exceed enforcement.offenders.max_offenders ({o.max_offenders:,})"
        )
    # by entry day: the offenders on the street so far are always a prefix of the arrays
    order = np.argsort(cols[6], kind="stable")
    cols = [c[order] for c in cols]
    return Population(
        node=cols[0].astype(np.int64),
        category=cols[1].astype(np.int16),
        hotspot=cols[2].astype(np.int16),
        p_base=cols[3],
        gain=cols[4],
        first_rung=cols[5].astype(np.int64),
        enter_day=cols[6],
    )


class Nearby:
    """Who stands within a radius of whom, asked only when a fine or a ruling is seen."""

    def __init__(self, net: StreetNetwork, node: np.ndarray) -> None:
        self.n = len(node)
        self.pts = np.column_stack([net.x[node], net.y[node]]) if self.n else np.zeros((0, 2))
        self.tree = cKDTree(self.pts) if self.n else None

    def around(self, who: np.ndarray, radius: float) -> np.ndarray:
        """Per offender, how many of ``who`` stand within ``radius`` (oneself excluded)."""
        counts = np.zeros(self.n)
        if self.tree is None or radius <= 0 or len(who) == 0:
            return counts
        hits = self.tree.query_ball_point(self.pts[who], radius)
        flat = np.fromiter((j for h in hits for j in h), dtype=np.int64)
        counts += np.bincount(flat, minlength=self.n)
        counts[who] -= 1.0
        return counts


def time_of_day(
    scenario: Scenario, sites: list[HotspotSite], spot: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Minute of the day of an offence: by the hourly profile, or within the hotspot's hours."""
    prof = np.asarray(scenario.demand.hourly_profile, dtype=float)
    cdf = np.cumsum(prof / prof.sum())
    h = np.minimum(np.searchsorted(cdf, u, side="right"), 23)
    lo = np.where(h > 0, cdf[h - 1], 0.0)
    width = np.maximum(cdf[h] - lo, 1e-12)
    tod: np.ndarray = (h + np.clip((u - lo) / width, 0.0, 1.0)) * 60.0
    for k, site in enumerate(sites):
        m = spot == k
        if m.any():
            start, end = site.window
            tod[m] = start + u[m] * ((end - start) % DAY_MIN or DAY_MIN)
    return tod
