"""Demand: when and where problems occur, and how they become instructions.

Incidents arrive as a Poisson process whose rate follows a 24-hour profile, spread over
the streets by road length, plus hotspots (a point, a radius, a rate and active hours,
e.g. a night market) and any scheduled incidents. Each becomes known through the first
of three channels: a grid member's patrol, a citizen report or a camera. The command
centre then issues the instruction after a processing delay.

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
    from sim.world.build import World

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


def generate_incidents(world: World, replication: int) -> Incidents:
    """Draw every incident of one replication on ``world``.

    The background count a day is the world's (``demand.density`` resolved on its map).
    """
    scenario, net, areas, sites, patrol, cameras = (
        world.scenario,
        world.net,
        world.areas,
        world.sites,
        world.roster["grid"],
        world.cameras,
    )
    seed = scenario.seed
    d = scenario.demand
    horizon = scenario.horizon_min
    cats = list(d.categories)
    cat_p = np.array([c.share for c in d.categories.values()])

    # background: piecewise-constant hourly rates
    rng = stream(seed, "arrivals", replication)
    profile = np.asarray(d.hourly_profile) / sum(d.hourly_profile)
    hours = [(h * 60.0, min((h + 1) * 60.0, horizon)) for h in range(int(np.ceil(horizon / 60.0)))]
    # the count a day on this map (a density resolved)
    rates = [world.volume.incidents_per_day * profile[h % 24] / 60.0 for h in range(len(hours))]
    t_bg = _poisson_times(rng, hours, rates)
    node_bg = stream(seed, "locations", replication).choice(
        net.n, size=len(t_bg), p=net.location_p()
    )
    cat_bg = stream(seed, "categories", replication).choice(len(cats), size=len(t_bg), p=cat_p)

    times, nodes, categories, spots = [t_bg], [node_bg], [cat_bg], [np.full(len(t_bg), -1)]
    rng_h = stream(seed, "hotspots", replication)
    for k, site in enumerate(sites):
        win = _windows(*site.window, horizon)
        th = _poisson_times(rng_h, win, [site.per_min] * len(win)) if win else np.zeros(0)
        times.append(th)
        nodes.append(rng_h.choice(site.nodes, size=len(th), p=site.weights))
        categories.append(rng_h.choice(len(cats), size=len(th), p=site.category_p))
        spots.append(np.full(len(th), k))
    if d.scheduled:
        times.append(np.array([s.at_min for s in d.scheduled]))
        nodes.append(np.array([net.index_of(s.node) for s in d.scheduled]))
        categories.append(np.array([cats.index(s.category) for s in d.scheduled]))
        spots.append(np.full(len(d.scheduled), -1))

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
