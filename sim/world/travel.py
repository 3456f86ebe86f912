"""Travel distances between staff posts and the street network.

Staff always set out from their post (they return there after each job), so distances
are tabulated once per role from the posts, with scipy's compiled Dijkstra, up to a
cutoff. For each node the table lists the units within the cutoff nearest first, which
makes "the nearest available unit" a short scan. Anything beyond the cutoff is computed
exactly on demand, so the table bounds memory without changing any answer.

Beyond the cutoff (every unit nearby busy: overload), the distance is read from a full
row of distances from the unit's post, searched once per post and kept
(:class:`FarRows`, least recently used dropped past a memory cap), not searched from the
incident per request. The row is searched from the other end of each path than the
exact answer (:meth:`TravelTable.to_node`, a search from the incident), so its float64
sums can differ in the last bits; a value is used only where both round to the same
float32, the precision of every distance the simulator keeps (:func:`certified_float32`),
so the unit sent, and when, is exactly what a search from the incident gives.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
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


UNIT_ROUNDOFF = 2.0**-53  # float64
BUILD_AT_ONCE = 2  # rows a request may always search for (see TravelTable.nearest)


def certified_float32(d: np.ndarray, n_nodes: int, shortest_edge_m: float) -> np.ndarray:
    """``d`` (float64 shortest-path lengths) as float32, NaN where the float32 is uncertain.

    A Dijkstra label is a float64 sum along a path; summed from the other end, the same
    path length can differ in its last bits. Both lie within ``k·u·L`` of the true length
    ``L``, with ``k`` at most the edges of a near-shortest path (``L`` over the shortest
    edge, and at most the nodes) and ``u`` the float64 unit roundoff. Where no float32
    rounding boundary lies within twice that of ``d``, any such sum rounds to the same
    float32; elsewhere (rarely: none in 50 rows of Jinshui, 3 in a million on a generated
    city) the answer is NaN. Unreachable nodes (inf) stay inf.
    """
    d = np.asarray(d, dtype=np.float64)
    hops = np.minimum(float(n_nodes), d * (1 + 1e-9) / shortest_edge_m + 2.0)
    slack = 4.0 * hops * UNIT_ROUNDOFF * d
    with np.errstate(invalid="ignore"):
        lo = (d - slack).astype(np.float32)
        hi = (d + slack).astype(np.float32)
    out = d.astype(np.float32)
    out[(lo != hi) & np.isfinite(d)] = np.nan
    return out


class FarRows:
    """Full rows of distances from posts, searched on demand and kept up to a cap.

    ``get(post)`` is the row of distances from ``post`` to every node, or ``None`` if it
    is not kept; ``build(posts)`` searches the missing ones (one Dijkstra each) and keeps
    them, dropping the least recently used past ``cap_bytes``. ``certify`` marks values
    that may round differently from a search the other way (:func:`certified_float32`).
    """

    def __init__(self, graph: sp.csr_matrix, cap_bytes: float, certify: bool) -> None:
        self.graph = graph
        n = graph.shape[0]
        self.cap_rows = int(max(min(cap_bytes / max(4 * n, 1), 2.0**62), 0))
        self.certify = certify
        positive = graph.data[graph.data > 0]
        self._shortest = float(positive.min()) if len(positive) else 1.0
        self._rows: OrderedDict[int, np.ndarray] = OrderedDict()
        self.searches = 0  # Dijkstra searches run (each gives one row)

    def get(self, post: int) -> np.ndarray | None:
        row = self._rows.get(post)
        if row is not None:
            self._rows.move_to_end(post)
        return row

    def can_keep(self, k: int) -> bool:
        """Whether ``k`` more rows fit under the cap at all."""
        return k <= self.cap_rows

    def build(self, posts: Sequence[int]) -> None:
        if not posts:
            return
        self.searches += len(posts)
        d = dijkstra(self.graph, directed=True, indices=np.asarray(posts, dtype=np.int64))
        d = np.atleast_2d(d)
        n = self.graph.shape[0]
        for post, row in zip(posts, d, strict=True):
            self._rows[post] = (
                certified_float32(row, n, self._shortest)
                if self.certify
                else row.astype(np.float32)
            )
        while len(self._rows) > self.cap_rows:
            self._rows.popitem(last=False)


class TravelTable:
    """Distances (metres) between the posts of one role's units and every node.

    ``far_bytes`` caps the memory of the full rows kept for distances beyond the cutoff
    (:class:`FarRows`; ``sim.budget.far_rows_allowance`` sizes it); past it rows are searched
    again, which is slower but gives the same answers.
    """

    def __init__(
        self,
        net: StreetNetwork,
        posts: np.ndarray,
        cutoff_m: float,
        far_bytes: float = float("inf"),
    ) -> None:
        self.net = net
        self.posts = np.asarray(posts, dtype=np.int64)
        self._post_of: list[int] = self.posts.tolist()
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
        share = far_bytes if self.symmetric else far_bytes / 2
        # out: searched from the post, certified against a search from the incident;
        # back (one-way streets only): searched from the post on the reversed graph,
        # which is how the way back is computed exactly, so no certificate is needed
        self.far_out = FarRows(net.lengths, share, certify=True)
        self.far_back = self.far_out if self.symmetric else FarRows(self._reverse, share, False)
        self._to_node = lru_cache(maxsize=256)(self._to_node_uncached)
        self.node_searches = 0  # searches from an incident's node (the exact fallback)

    @property
    def searches(self) -> int:
        """Shortest-path searches run since the table was built (tabulating not counted)."""
        back = 0 if self.far_back is self.far_out else self.far_back.searches
        return self.node_searches + self.far_out.searches + back

    def candidates(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """Units whose post lies within the cutoff of ``node``, nearest first, and distances."""
        ptr, units, dist = self._fwd
        a, b = ptr[node], ptr[node + 1]
        return units[a:b], dist[a:b]

    def to_node(self, node: int) -> np.ndarray:
        """Exact distance from every unit's post to ``node`` (no cutoff)."""
        return self._to_node(int(node))

    def nearest(self, node: int, units: Sequence[int]) -> tuple[int, float] | None:
        """The nearest of ``units`` (ascending indices) to ``node`` and its distance, or
        ``None`` if none can reach it; of equally near units the lower index.

        The same answer as the least of :meth:`to_node` over ``units``, read from the
        posts' full rows (:class:`FarRows`) instead of a search from ``node`` per request.
        A request missing more rows than :data:`BUILD_AT_ONCE` and than the searches
        from nodes made so far is answered by one such search (rows pay only when their
        posts are asked again: a run that rarely looks beyond the cutoff searches no more
        than before, and one that often does searches each post's row at most once, after
        at most as many searches from nodes); so is a value the rows cannot certify.
        """
        rows, post_of = self.far_out, self._post_of
        missing = list(dict.fromkeys(p for u in units if rows.get(p := post_of[u]) is None))
        if len(missing) > max(BUILD_AT_ONCE, self.node_searches) or not rows.can_keep(len(missing)):
            return self._nearest_searched(node, units)
        rows.build(missing)
        best, best_d = -1, np.inf
        for u in units:
            row = rows.get(post_of[u])
            d = np.inf if row is None else float(row[node])
            if d != d or row is None:  # uncertain (NaN), or dropped meanwhile
                return self._nearest_searched(node, units)
            if d < best_d:
                best, best_d = u, d
        return None if best < 0 else (best, best_d)

    def _nearest_searched(self, node: int, units: Sequence[int]) -> tuple[int, float] | None:
        full = self.to_node(node)[np.asarray(units, dtype=np.int64)]
        k = int(full.argmin()) if len(full) else 0
        if not len(full) or not np.isfinite(full[k]):
            return None
        return int(units[k]), float(full[k])

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
        if not back:
            found = self.nearest(node, [unit])
            return np.inf if found is None else found[1]
        rows, post = self.far_back, self._post_of[unit]
        row = rows.get(post)
        if row is None:
            if not rows.can_keep(1):
                rows.searches += 1
                graph = rows.graph
                return float(np.float32(dijkstra(graph, directed=True, indices=post)[node]))
            rows.build([post])
            row = rows.get(post)
            assert row is not None
        return float(row[node])

    def _to_node_uncached(self, node: int) -> np.ndarray:
        self.node_searches += 1
        d = np.asarray(dijkstra(self._reverse, directed=True, indices=node))
        return d[self.posts].astype(np.float32)  # the precision of the table
