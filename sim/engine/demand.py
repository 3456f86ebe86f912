"""Demand: when and where problems occur, and how they become instructions.

Incidents arrive as a Poisson process whose rate follows a 24-hour profile (and, when
given, a weekday profile and a day-level random effect), spread over the streets by road
length (times an office's fitted intensity), plus hotspots (a point, a radius, a rate
and active hours, e.g. a night market) and any scheduled incidents; or a replayed case
log (``demand.trace``, read and placed by :mod:`sim.world.trace`) gives every incident's
time and node. Each becomes known through the first of three channels: a grid member's
patrol, a citizen report or a camera. The command centre then issues the instruction
after a processing delay.

Everything random about where, when and how an incident becomes known is drawn here, in
vectors, from named streams: two variants that share demand share every incident. What
happens on scene is drawn by the chain's stages (:mod:`sim.engine.outcomes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.rng import stream
from sim.world.areas import Areas
from sim.world.staff import Units

if TYPE_CHECKING:
    from sim.scenario import Scenario
    from sim.world.build import World
    from sim.world.network import StreetNetwork

CHANNELS: tuple[str, ...] = ("patrol", "citizen", "camera")
NOT_FOUND = -1


@dataclass(frozen=True, eq=False)
class Incidents:
    """All incidents of one replication, sorted by occurrence (times in minutes)."""

    occurred: np.ndarray
    node: np.ndarray
    category: np.ndarray
    hotspot: np.ndarray  # index into the scenario's resolved hotspots, -1 for none
    reported: np.ndarray  # inf when no channel ever found it
    channel: np.ndarray  # index into CHANNELS, -1 for never found
    instructed: np.ndarray
    offender: np.ndarray  # persistent offender who caused it (sim.engine.offenders), -1: none

    @property
    def n(self) -> int:
        return len(self.occurred)


def _windows(start: float, end: float, horizon: float) -> list[tuple[float, float]]:
    out = []
    length = (end - start) % 1440.0 or 1440.0
    day = -1
    while day * 1440.0 < horizon:
        a = day * 1440.0 + start
        b = a + length
        if b > 0 and a < horizon:
            out.append((max(a, 0.0), min(b, horizon)))
        day += 1
    return out


def _poisson_times(
    rng: np.random.Generator, windows: list[tuple[float, float]], rates: list[float]
) -> np.ndarray:
    spans = np.array([b - a for a, b in windows])
    starts = np.array([a for a, _ in windows])
    counts = rng.poisson(np.asarray(rates) * spans)
    times: np.ndarray = np.repeat(starts, counts) + rng.random(counts.sum()) * np.repeat(
        spans, counts
    )
    return times


def _patrol_delays(
    rng: np.random.Generator,
    t: np.ndarray,
    grid: np.ndarray,
    areas: Areas,
    patrol: Units,
    speed_m_per_min: float,
) -> np.ndarray:
    """Time until a patrolling grid member passes the spot.

    Each on-duty grid member walks an equal share of the grid's streets in a cycle, so
    the spot is passed a uniform fraction of one cycle after the problem appears: more
    grid members, shorter cycles, sooner discovery. With nobody on duty, discovery
    waits for the next shift that puts someone in the grid.
    """
    n_grids = len(areas.grid_names)
    if patrol.n == 0 or len(t) == 0:
        return np.full(len(t), np.inf)
    marks = np.array(sorted({0.0, *patrol.boundaries()}))
    seg_len = np.diff(np.append(marks, 1440.0))
    on = np.stack([patrol.on_duty(m + s / 2) for m, s in zip(marks, seg_len, strict=True)], axis=1)
    counts = np.zeros((n_grids, len(marks)))
    for s in range(len(marks)):
        counts[:, s] = np.bincount(patrol.grid[on[:, s]], minlength=n_grids)
    with np.errstate(divide="ignore"):
        cycle = np.where(
            counts > 0,
            areas.grid_road_m[:, None] / (np.maximum(counts, 1) * speed_m_per_min),
            np.inf,
        )
    # wait[g, s]: from the start of segment s to the start of the next covered segment
    n_seg = len(marks)
    wait = np.full((n_grids, n_seg), np.inf)
    nxt = np.full((n_grids, n_seg), -1)
    for _ in range(2):
        for s in range(n_seg - 1, -1, -1):
            s2 = (s + 1) % n_seg
            covered_next = counts[:, s2] > 0
            cand_wait = np.where(covered_next, seg_len[s], seg_len[s] + wait[:, s2])
            cand_next = np.where(covered_next, s2, nxt[:, s2])
            better = cand_wait < wait[:, s]
            wait[:, s] = np.where(better, cand_wait, wait[:, s])
            nxt[:, s] = np.where(better, cand_next, nxt[:, s])
    tod = t % 1440.0
    seg = np.searchsorted(marks, tod, side="right") - 1
    u = rng.random(len(t))
    here = cycle[grid, seg]
    covered = np.isfinite(here)
    delay = np.where(covered, u * np.where(covered, here, 0.0), np.inf)
    later = ~covered & (nxt[grid, seg] >= 0)
    g, s = grid[later], seg[later]
    delay[later] = (marks[s] + wait[g, s] - tod[later]) + u[later] * cycle[g, nxt[g, s]]
    return delay


def day_factors(scenario: Scenario, replication: int) -> np.ndarray | None:
    """Each day's multiplier of the demand rates (weekday profile, day effect), or None.

    Minute 0 of a run is a Monday. The day effect draws one gamma multiplier of mean 1 per
    day from its own stream (``day_effect``), so it changes no other draw.
    """
    d = scenario.demand
    if d.weekday_profile is None and d.day_effect is None:
        return None
    days = int(np.ceil(scenario.horizon_min / 1440.0)) + 1
    factor = np.ones(days)
    if d.weekday_profile is not None:
        week = np.asarray(d.weekday_profile, dtype=float)
        factor *= (7.0 * week / week.sum())[np.arange(days) % 7]
    if d.day_effect is not None:
        shape = 1.0 / d.day_effect.cv**2
        factor *= stream(scenario.seed, "day_effect", replication).gamma(shape, 1.0 / shape, days)
    return factor


def location_p(scenario: Scenario, net: StreetNetwork, areas: Areas) -> np.ndarray:
    """Chance of each node for a background incident: its street length, times its
    office's ``intensity`` when ``demand.offices`` gives one."""
    p = net.location_p()
    offices = scenario.demand.offices
    if not offices:
        return p
    scale = np.array([offices[n].intensity if n in offices else 1.0 for n in areas.office_names])
    w = p * scale[areas.node_office]
    if w.sum() <= 0:
        raise ValueError("demand.offices: every office's intensity is zero")
    out: np.ndarray = w / w.sum()
    return out


def _background_categories(
    scenario: Scenario, areas: Areas, node: np.ndarray, replication: int
) -> np.ndarray:
    """Categories of background incidents: the overall shares, or the office's own mix."""
    d = scenario.demand
    cats = list(d.categories)
    cat_p = np.array([c.share for c in d.categories.values()])
    rng = stream(scenario.seed, "categories", replication)
    own = {k: o.categories for k, o in d.offices.items() if o.categories is not None}
    if not own:
        out: np.ndarray = rng.choice(len(cats), size=len(node), p=cat_p)
        return out
    mixes = np.tile(cat_p, (len(areas.office_names), 1))
    for k, name in enumerate(areas.office_names):
        if name in own:
            mixes[k] = [own[name].get(c, 0.0) for c in cats]
    cdf = np.cumsum(mixes / mixes.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(node))
    row = cdf[areas.node_office[node]]
    drawn: np.ndarray = np.minimum((u[:, None] >= row).sum(axis=1), len(cats) - 1)
    return drawn


def _drawn(
    world: World, replication: int
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Background, hotspot and scheduled incidents: times, nodes, categories, hotspots.

    The background count a day is the world's (``demand.density`` resolved on its map).
    """
    scenario, net, areas, sites = world.scenario, world.net, world.areas, world.sites
    seed = scenario.seed
    d = scenario.demand
    horizon = scenario.horizon_min
    cats = list(d.categories)
    factor = day_factors(scenario, replication)

    # background: piecewise-constant hourly rates
    rng = stream(seed, "arrivals", replication)
    profile = np.asarray(d.hourly_profile) / sum(d.hourly_profile)
    hours = [(h * 60.0, min((h + 1) * 60.0, horizon)) for h in range(int(np.ceil(horizon / 60.0)))]
    # the count a day on this map (a density resolved)
    rates = [world.volume.incidents_per_day * profile[h % 24] / 60.0 for h in range(len(hours))]
    if factor is not None:
        rates = [r * factor[h // 24] for h, r in enumerate(rates)]
    t_bg = _poisson_times(rng, hours, rates)
    node_bg = stream(seed, "locations", replication).choice(
        net.n, size=len(t_bg), p=location_p(scenario, net, areas)
    )
    cat_bg = _background_categories(scenario, areas, node_bg, replication)

    times, nodes, categories, spots = [t_bg], [node_bg], [cat_bg], [np.full(len(t_bg), -1)]
    rng_h = stream(seed, "hotspots", replication)
    for k, site in enumerate(sites):
        win = _windows(*site.window, horizon)
        site_rates = [site.per_min] * len(win)
        if factor is not None:
            site_rates = [site.per_min * factor[int(a // 1440.0)] for a, _ in win]
        th = _poisson_times(rng_h, win, site_rates) if win else np.zeros(0)
        times.append(th)
        nodes.append(rng_h.choice(site.nodes, size=len(th), p=site.weights))
        categories.append(rng_h.choice(len(cats), size=len(th), p=site.category_p))
        spots.append(np.full(len(th), k))
    if d.scheduled:
        times.append(np.array([s.at_min for s in d.scheduled]))
        nodes.append(np.array([net.index_of(s.node) for s in d.scheduled]))
        categories.append(np.array([cats.index(s.category) for s in d.scheduled]))
        spots.append(np.full(len(d.scheduled), -1))
    return times, nodes, categories, spots


def generate_incidents(world: World, replication: int) -> Incidents:
    """Every incident of one replication on ``world``: drawn, or a replayed log's
    (``world.trace``) at their minutes and nodes; either way discovery is drawn here."""
    scenario, areas, patrol, cameras = (
        world.scenario,
        world.areas,
        world.roster["grid"],
        world.cameras,
    )
    seed = scenario.seed
    trace = world.trace
    if trace is None:
        times, nodes, categories, spots = _drawn(world, replication)
    else:
        times, nodes, categories, spots = (
            [trace.occurred],
            [trace.node],
            [trace.category],
            [trace.hotspot],
        )

    occurred = np.concatenate(times)
    order = np.argsort(occurred, kind="stable")
    occurred = occurred[order]
    node = np.concatenate(nodes).astype(np.int64)[order]
    category = np.concatenate(categories).astype(np.int16)[order]
    hotspot = np.concatenate(spots).astype(np.int16)[order]
    n = len(occurred)

    # discovery: the first channel to find it
    disc = scenario.discovery
    delays = np.full((len(CHANNELS), n), np.inf)
    if disc.patrol.enabled:
        delays[0] = _patrol_delays(
            stream(seed, "patrol", replication),
            occurred,
            areas.node_grid[node],
            areas,
            patrol,
            scenario.travel.speed_m_per_min("grid"),
        )
    rng_c = stream(seed, "citizen", replication)
    reports = rng_c.random(n) < disc.citizen.probability
    delays[1] = np.where(reports, disc.citizen.delay.sample(rng_c, n), np.inf)
    rng_cam = stream(seed, "camera", replication)
    delays[2] = np.where(cameras[node], disc.camera.delay.sample(rng_cam, n), np.inf)
    first = delays.argmin(axis=0)
    best = delays[first, np.arange(n)]
    found = np.isfinite(best)
    channel = np.where(found, first, NOT_FOUND).astype(np.int8)
    reported = occurred + best
    instructed = reported + disc.processing.sample(stream(seed, "processing", replication), n)

    offender = np.full(n, -1, dtype=np.int64)  # one-off: offenders join in sim.engine.offenders
    return Incidents(occurred, node, category, hotspot, reported, channel, instructed, offender)
