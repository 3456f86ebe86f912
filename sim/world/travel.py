"""Travel distances between staff posts and the street network.

Staff always set out from their post (they return there after each job), so distances
are tabulated once per role from the posts, with scipy's compiled Dijkstra, up to a
cutoff. For each node the table lists the units within the cutoff nearest first, which
makes "the nearest available unit" a short scan. Anything beyond the cutoff is computed
exactly on demand, so the table bounds memory without changing any answer.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from sim.world import cache
from sim.world.network import StreetNetwork

_CHUNK = 128  # sources per Dijkstra call: bounds the dense block held at once


def _tabulate(
    lengths: sp.csr_matrix, posts: np.ndarray, cutoff_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ptr, units, dist): for node n, ``units[ptr[n]:ptr[n+1]]`` sorted by distance."""
    n = lengths.shape[0]
    unique, inverse = np.unique(posts, return_inverse=True)
    unit_order = np.argsort(inverse, kind="stable")
    unit_ptr = np.searchsorted(inverse[unit_order], np.arange(len(unique) + 1))
    node_parts, unit_parts, dist_parts = [], [], []
    for lo in range(0, len(unique), _CHUNK):
        block = dijkstra(lengths, directed=True, indices=unique[lo : lo + _CHUNK], limit=cutoff_m)
        rows, cols = np.nonzero(np.isfinite(block))
        d = block[rows, cols].astype(np.float32)
        del block
        rows = rows + lo
        reps = unit_ptr[rows + 1] - unit_ptr[rows]  # units sharing a post
        node_parts.append(np.repeat(cols.astype(np.int32), reps))
        dist_parts.append(np.repeat(d, reps))
        starts = np.repeat(unit_ptr[rows], reps)
        offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        unit_parts.append(unit_order[starts + offs].astype(np.int32))
    nodes = np.concatenate(node_parts) if node_parts else np.zeros(0, np.int32)
    units = np.concatenate(unit_parts) if unit_parts else np.zeros(0, np.int32)
    dist = np.concatenate(dist_parts) if dist_parts else np.zeros(0, np.float32)
    del node_parts, unit_parts, dist_parts
    by_unit = np.argsort(units, kind="stable")
    nodes, units, dist = nodes[by_unit], units[by_unit], dist[by_unit]
    # one sort key: the node, then the distance as a fraction below 1; the stable sort
    # keeps equally distant units in unit order, as the exact fallback's argmin does
    scale = float(dist.max()) * (1 + 1e-6) + 1.0 if len(dist) else 1.0
    order = np.argsort(nodes + dist.astype(np.float64) / scale, kind="stable")
    ptr = np.searchsorted(nodes[order], np.arange(n + 1)).astype(np.int64)
    return ptr, units[order], dist[order]


def _cached_tabulate(
    lengths: sp.csr_matrix, graph_key: str, posts: np.ndarray, cutoff_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    key = cache.digest([graph_key, posts.astype(np.int64), repr(float(cutoff_m))])
    hit = cache.load("travel", key)
    if hit is not None:
        return hit["ptr"], hit["units"], hit["dist"]
    ptr, units, dist = _tabulate(lengths, posts, cutoff_m)
    cache.store("travel", key, {"ptr": ptr, "units": units, "dist": dist})
    return ptr, units, dist


class TravelTable:
    """Distances (metres) between the posts of one role's units and every node."""

    def __init__(self, net: StreetNetwork, posts: np.ndarray, cutoff_m: float) -> None:
        self.net = net
        self.posts = np.asarray(posts, dtype=np.int64)
        self.cutoff_m = float(cutoff_m)
        self.symmetric = net.is_symmetric
        graph = net.content_hash()
        self._fwd = _cached_tabulate(net.lengths, graph, self.posts, cutoff_m)
        self.forward = self._fwd  # (ptr, units, dist): see :meth:`candidates`
        self._reverse = net.lengths.T.tocsr()
        self._back = (
            self._fwd
            if self.symmetric
            else _cached_tabulate(self._reverse, graph + "-reverse", self.posts, cutoff_m)
        )
        self._from_post = lru_cache(maxsize=256)(self._from_post_uncached)
        self._to_node = lru_cache(maxsize=256)(self._to_node_uncached)

    def candidates(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """Units whose post lies within the cutoff of ``node``, nearest first, and distances."""
        ptr, units, dist = self._fwd
        a, b = ptr[node], ptr[node + 1]
        return units[a:b], dist[a:b]

    def to_node(self, node: int) -> np.ndarray:
        """Exact distance from every unit's post to ``node`` (no cutoff)."""
        return self._to_node(int(node))

    def outbound(self, unit: int, node: int) -> float:
        """Distance from the unit's post to ``node``."""
        return self._lookup(self._fwd, unit, node, back=False)

    def inbound(self, unit: int, node: int) -> float:
        """Distance from ``node`` back to the unit's post."""
        return self._lookup(self._back, unit, node, back=True)

    def _lookup(
        self, table: tuple[np.ndarray, np.ndarray, np.ndarray], unit: int, node: int, back: bool
    ) -> float:
        ptr, units, dist = table
        a, b = ptr[node], ptr[node + 1]
        hit = np.flatnonzero(units[a:b] == unit)
        if len(hit):
            return float(dist[a + hit[0]])
        return float(self._from_post(int(self.posts[unit]), back)[node])

    def _from_post_uncached(self, post: int, back: bool) -> np.ndarray:
        graph = self._reverse if back else self.net.lengths
        return np.asarray(dijkstra(graph, directed=True, indices=post)).astype(np.float32)

    def _to_node_uncached(self, node: int) -> np.ndarray:
        d = np.asarray(dijkstra(self._reverse, directed=True, indices=node))
        return d[self.posts].astype(np.float32)  # the precision of the table
