"""The third-party inspector: who sees which problems, where and when.

An inspection company checks a street office unannounced: it walks a random route of
the office's streets at a random time in its working hours, and once or more a month
takes a census of every street of the office. At a street node and a minute it sees
every problem there that has occurred and is not yet closed, reported or not. A problem
nobody ever reports is never closed: it stays visible for a lifetime of its own (drawn
from ``evaluation.inspection.unfound_lifetime``), after which it has gone by itself (the
vendor moved on, the rubbish was blown away). A problem found but still open when the
run stopped stays visible.

Everything here reads the immutable incident table and the world; random draws come
from named streams, so the simulated incidents are not touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sim.engine.records import IncidentTable, cells
from sim.rng import stream
from sim.scenario import Inspection, clock_minutes
from sim.world.build import World
from sim.world.network import StreetNetwork


@dataclass(frozen=True, eq=False)
class Visits:
    """Places and times inspected: one row per (inspection, node) passed."""

    inspection: np.ndarray  # index of the inspection (a route or a census)
    node: np.ndarray
    time: np.ndarray  # minute the inspector is at the node


@dataclass(frozen=True, eq=False)
class Inspections:
    """The inspections of one replication, with what each covered."""

    office: np.ndarray  # per inspection
    month: np.ndarray  # per inspection
    km: np.ndarray  # street length inspected, per inspection
    census: np.ndarray  # per inspection: True for a census
    visits: Visits


def visible_until(table: IncidentTable, spec: Inspection, seed: int) -> np.ndarray:
    """Minute each problem stops being visible: its closing, its own end if never found.

    Problems found but never closed (still open at the end) stay visible (inf).
    """
    end = np.where(np.isfinite(table["closed"]), table["closed"], np.inf)
    unfound = table["channel"] < 0
    for rep in np.unique(table["replication"]):
        mine = table["replication"] == rep
        idx = np.flatnonzero(mine & unfound)
        n = int(table["incident"][mine].max()) + 1
        life = spec.unfound_lifetime.sample(stream(seed, "inspection/lifetime", int(rep)), n)
        # one draw per incident of the replication, by its index: the lifetime of an
        # incident does not depend on which others went unfound
        end[idx] = table["occurred"][idx] + life[table["incident"][idx]]
    return end


def problems_seen(
    node: np.ndarray,
    occurred: np.ndarray,
    visible_end: np.ndarray,
    visits: Visits,
) -> tuple[np.ndarray, np.ndarray]:
    """(inspection, incident) pairs: each problem open at a visited node when visited.

    A problem is open at minute t when ``occurred <= t < visible_end``. A problem seen
    twice by one inspection counts once.
    """
    order = np.argsort(node, kind="stable")
    sorted_nodes = node[order]
    lo = np.searchsorted(sorted_nodes, visits.node, side="left")
    hi = np.searchsorted(sorted_nodes, visits.node, side="right")
    counts = hi - lo
    if counts.sum() == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # every (visit, incident at its node) candidate is checked; in blocks of visits, so
    # a year of censuses over a year of incidents never needs all candidates at once
    ends = np.cumsum(counts)
    cuts = np.searchsorted(ends, np.arange(_BLOCK, int(ends[-1]), _BLOCK), side="left")
    parts = []
    for a, b in zip(np.r_[0, cuts + 1], np.r_[cuts + 1, len(counts)], strict=True):
        if b <= a:
            continue
        c = counts[a:b]
        visit = np.repeat(np.arange(a, b), c)
        offsets = np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c)
        inc = order[np.repeat(lo[a:b], c) + offsets]
        t = visits.time[visit]
        open_ = (occurred[inc] <= t) & (t < visible_end[inc])
        parts.append(np.stack([visits.inspection[visit[open_]], inc[open_]]))
    pairs = np.unique(np.concatenate(parts, axis=1), axis=1)
    return pairs[0], pairs[1]


_BLOCK = 1 << 21  # candidate (visit, incident) pairs checked at once


def undirected(net: StreetNetwork) -> sp.csr_matrix:
    """Street lengths both ways: inspectors walk, so one-way streets do not bind them."""
    sym: sp.csr_matrix = net.lengths.maximum(net.lengths.T).tocsr()
    return sym


class Streets:
    """The street graph as plain lists, for walking it one step at a time.

    A random walk looks at a handful of neighbours per step, thousands of steps per
    replication: Python lists answer that faster than slicing the sparse matrix.
    """

    def __init__(self, adj: sp.csr_matrix) -> None:
        self.indptr: list[int] = adj.indptr.tolist()
        self.indices: list[int] = adj.indices.tolist()
        self.lengths: list[float] = adj.data.tolist()


def random_route(
    adj: sp.csr_matrix | Streets,
    allowed: np.ndarray,
    start: int,
    length_m: float,
    rng: np.random.Generator,
) -> tuple[list[int], list[float]]:
    """A random walk from ``start`` over streets inside ``allowed`` nodes.

    Returns the nodes passed and the metres walked to each; the walk does not turn back
    unless it must, and stops once ``length_m`` is walked or it is stuck.
    """
    streets = adj if isinstance(adj, Streets) else Streets(adj)
    indptr, indices, lengths = streets.indptr, streets.indices, streets.lengths
    inside = cells(np.ascontiguousarray(allowed, dtype=bool))
    nodes, dist = [start], [0.0]
    prev, here, walked = -1, start, 0.0
    while walked < length_m:
        ways = [j for j in range(indptr[here], indptr[here + 1]) if inside[indices[j]]]
        if not ways:
            break
        if len(ways) > 1:
            ways = [j for j in ways if indices[j] != prev]
        j = ways[int(rng.integers(len(ways)))]
        prev, here = here, indices[j]
        walked += lengths[j]
        nodes.append(here)
        dist.append(walked)
    return nodes, dist


def plan_inspections(
    world: World, office_street_km: np.ndarray, months: int, replication: int
) -> Inspections:
    """Draw every inspection of one replication: routes and censuses per office and month."""
    plan = _Planner(world, office_street_km, replication)
    weights = world.net.node_weights()
    spec = plan.spec
    for m in range(months):
        for o, mine in enumerate(plan.members):
            if len(mine) == 0:
                continue
            w = weights[mine]
            p = w / w.sum() if w.sum() > 0 else None
            for _ in range(spec.per_month):
                plan.route(m, o, mine, p)
            for _ in range(spec.census_per_month):
                plan.census(m, o, mine)
    return plan.inspections()


class _Planner:
    """The inspections of one replication as they are drawn (:func:`plan_inspections`)."""

    def __init__(self, world: World, office_street_km: np.ndarray, replication: int) -> None:
        sc = world.scenario
        self.spec, self.month_days = sc.evaluation.inspection, sc.evaluation.month_days
        self.start_min = sc.warmup_min
        self.rng = stream(sc.seed, "inspection/routes", replication)
        self.street_km = office_street_km
        self.a, b = clock_minutes(self.spec.start), clock_minutes(self.spec.end)
        self.span = (b - self.a) % 1440.0 or 1440.0
        self.days = max(int(np.floor(self.month_days)), 1)
        self.speed = self.spec.speed_kmh * 1000.0 / 60.0
        self.node_office = world.areas.node_office
        self.streets = Streets(undirected(world.net))
        # per office: the nodes a route may pass through, and their indices
        self.inside = [self.node_office == o for o in range(len(office_street_km))]
        self.members = [np.flatnonzero(here) for here in self.inside]
        self.office: list[int] = []
        self.month: list[int] = []
        self.km: list[float] = []
        self.census_: list[bool] = []
        self.v_insp: list[np.ndarray] = []
        self.v_node: list[np.ndarray] = []
        self.v_time: list[np.ndarray] = []

    def when(self, m: int) -> float:
        """A random minute of month ``m`` in the inspectors' working hours (if it has any)."""
        rng, a, span, month_days = self.rng, self.a, self.span, self.month_days
        m0 = self.start_min + m * month_days * 1440.0
        if month_days >= 1:
            day = int(rng.integers(self.days))
            return m0 + day * 1440.0 + (a + rng.random() * span - m0 % 1440.0) % 1440.0
        t = m0 + rng.random() * month_days * 1440.0
        for _ in range(100):  # a month shorter than a day: working hours inside it
            if (t - a) % 1440.0 < span:
                break
            t = m0 + rng.random() * month_days * 1440.0
        return t

    def _add(self, m: int, o: int, nodes: np.ndarray, times: np.ndarray, km: float) -> None:
        self.v_insp.append(np.full(len(nodes), len(self.office)))
        self.v_node.append(nodes)
        self.v_time.append(times)
        self.office.append(o)
        self.month.append(m)
        self.km.append(km)

    def route(self, m: int, o: int, mine: np.ndarray, p: np.ndarray | None) -> None:
        """An inspector walks a random route through office ``o`` in month ``m``."""
        t0 = self.when(m)
        start = int(self.rng.choice(mine, p=p))
        nodes, dist = random_route(
            self.streets, self.inside[o], start, self.spec.route_km * 1000.0, self.rng
        )
        self._add(
            m, o, np.asarray(nodes, dtype=np.int64), t0 + np.asarray(dist) / self.speed,
            dist[-1] / 1000.0,
        )  # fmt: skip
        self.census_.append(False)

    def census(self, m: int, o: int, mine: np.ndarray) -> None:
        """A census: every street of office ``o`` seen at one moment of month ``m``."""
        t0 = self.when(m)
        self._add(m, o, mine.astype(np.int64), np.full(len(mine), t0), float(self.street_km[o]))
        self.census_.append(True)

    def inspections(self) -> Inspections:
        return Inspections(
            office=np.asarray(self.office, dtype=np.int64),
            month=np.asarray(self.month, dtype=np.int64),
            km=np.asarray(self.km, dtype=float),
            census=np.asarray(self.census_, dtype=bool),
            visits=Visits(
                _cat(self.v_insp, np.int64), _cat(self.v_node, np.int64),
                _cat(self.v_time, np.float64),
            ),
        )  # fmt: skip


def _cat(parts: list[np.ndarray], dtype: type[np.generic]) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)
