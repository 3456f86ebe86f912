"""Who a replayed log's incidents are against, when the log names nobody.

Each incident of an offender category or hotspot (``enforcement.offenders``) is an
offender's with the chance the scenario's own offender model gives it at its place
(:func:`attribution`): one-offs and offenders spread over the streets as in a drawn run,
each offender making ``daily_p`` offences a day, so a place with more of the group's
incidents than its streets draw is more likely an offender's. The chances are scaled so
that the group's attributed share is the scenario's ``share``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln, xlogy

from sim.engine.demand import location_p
from sim.engine.population import DAY_MIN, undeterred

if TYPE_CHECKING:
    from sim.world.build import World


@dataclass(frozen=True)
class Group:
    """Offenders of one category off the hotspots, or of one hotspot."""

    share: float
    rate: float  # offences a day of an offender at the start (daily_p, undeterred)
    first_rung: int
    weights: np.ndarray  # over the nodes: where the group's one-offs and offenders are


def groups(world: World) -> tuple[list[Group], np.ndarray]:
    """The offender groups of the scenario, and the group of each logged incident (-1:
    none): a hotspot's incidents belong to its group only, as a drawn run thins them."""
    sc, trace = world.scenario, world.trace
    assert trace is not None
    o = sc.enforcement.offenders
    cats = list(sc.demand.categories)
    out: list[Group] = []
    member = np.full(trace.n, -1, dtype=np.int64)
    spread = location_p(sc, world.net, world.areas)
    for name, g in o.categories.items():
        member[(trace.hotspot < 0) & (trace.category == cats.index(name))] = len(out)
        out.append(Group(g.share, g.daily_p * undeterred(sc, g.first_rung), g.first_rung, spread))
    for k, site in enumerate(world.sites):
        h = o.hotspots.get(site.name)
        if h is None:
            continue
        w = np.zeros(world.net.n)
        np.add.at(w, site.nodes, site.weights)
        member[trace.hotspot == k] = len(out)
        out.append(Group(h.share, h.daily_p * undeterred(sc, h.first_rung), h.first_rung, w))
    return out, member


def attribution(k: np.ndarray, w: np.ndarray, share: float, per_offender: float) -> np.ndarray:
    """The chance that an incident at each place is an offender's.

    ``k`` are a group's logged incidents at its places, ``w`` the places' share of the
    group's spread, ``per_offender`` the incidents an offender makes over the log. Under
    the scenario's own model the one-offs at a place are Poisson of mean λ = (1 − share) K w,
    its offenders Poisson of mean μ w, each making Poisson(``per_offender``) incidents; the
    chance is the posterior share of the place's k incidents that are offenders', with μ
    set so that the group's attributed share is ``share``. A place with more incidents
    than its streets draw is so more likely an offender's.
    """
    total = float(k.sum())
    if share <= 0.0 or total == 0.0:
        return np.zeros(len(k))
    if share >= 1.0:
        return np.ones(len(k))
    one_off = (1.0 - share) * total * w
    target = share * total

    def incidents(log_mu: float) -> np.ndarray:
        out = _offender_incidents(k, w, one_off, math.exp(log_mu), per_offender)
        return np.where(np.isnan(out), share * k, out)  # a place the spread misses: the share

    def excess(log_mu: float) -> float:
        return float(incidents(log_mu).sum())

    # the attributed incidents grow with μ, from 0 (none) towards every incident
    guess = math.log(target / per_offender)
    lo, hi = guess - 2.0, guess + 2.0
    while excess(hi) < target and hi < guess + 40.0:
        hi += 4.0
    while excess(lo) > target and lo > guess - 40.0:
        lo -= 4.0
    if excess(lo) >= target:
        log_mu = lo
    elif excess(hi) <= target:
        log_mu = hi
    else:
        log_mu = brentq(lambda x: excess(x) - target, lo, hi, xtol=1e-6)
    out: np.ndarray = np.clip(incidents(log_mu) / k, 0.0, 1.0)
    return out


_CHUNK = 4096  # places a block of the posterior at a time


def _offender_incidents(
    k: np.ndarray, w: np.ndarray, one_off: np.ndarray, mu: float, per_offender: float
) -> np.ndarray:
    """E[offenders' incidents at each place | its k incidents], μ offenders in all.

    The sum over the number of offenders at a place runs as far as either the prior or the
    place's count leaves any weight (six standard deviations past both), in blocks of
    places of similar reach. NaN where the model puts nothing at the place (a node the
    spread gives no weight).
    """
    prior = mu * w
    reach = np.minimum(prior + 6.0 * np.sqrt(prior), (k + 6.0 * np.sqrt(k)) / per_offender) + 8.0
    order = np.argsort(reach, kind="stable")
    out = np.zeros(len(k))
    for at in range(0, len(k), _CHUNK):
        idx = order[at : at + _CHUNK]
        n = np.arange(int(reach[idx].max()) + 1, dtype=float)[None, :]  # offenders there
        p, kk = prior[idx, None], k[idx, None]
        mean = one_off[idx, None] + n * per_offender
        log_w = xlogy(n, p) - p - gammaln(n + 1.0) + xlogy(kk, mean) - mean
        log_w[(mean == 0.0) & (kk > 0)] = -np.inf
        peak = log_w.max(axis=1, keepdims=True)
        weight = np.exp(log_w - np.where(np.isfinite(peak), peak, 0.0))
        norm = weight.sum(axis=1)
        part = n * per_offender / np.where(mean > 0.0, mean, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[idx] = np.where(norm > 0.0, k[idx] * (weight * part).sum(axis=1) / norm, np.nan)
    return out


def attribution_chances(world: World, groups_: list[Group], member: np.ndarray) -> np.ndarray:
    """Each logged incident's chance of being an offender's (0 outside every group)."""
    trace = world.trace
    assert trace is not None
    days = max((float(trace.occurred.max()) - float(trace.occurred.min())) / DAY_MIN, 1.0)
    chance = np.zeros(trace.n)
    for g, group in enumerate(groups_):
        mine = np.flatnonzero(member == g)
        if len(mine) == 0:
            continue
        nodes, place, k = np.unique(trace.node[mine], return_inverse=True, return_counts=True)
        p = attribution(k.astype(float), group.weights[nodes], group.share, group.rate * days)
        chance[mine] = p[place]
    return chance
