"""Cases of a log placed on the street network: each at its nearest street node.

Simulated incidents happen at nodes, so a logged case is moved to the nearest node; a
case farther than ``max_m`` from every node lies outside the map (or its cut) and is
counted out. A run's own ``incidents.csv`` names its nodes: a row whose node is on this
map within a metre of the row's coordinates keeps that very node, so replaying a run's
own log puts every incident back where it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from sim.caselog.log import CaseLog
from sim.world.network import StreetNetwork

DEFAULT_SNAP_M = 250.0
_SAME_NODE_M = 1.0


@dataclass(frozen=True, eq=False)
class SnappedLog:
    """The cases on the map, with the node of each and how far it was moved."""

    log: CaseLog
    node: np.ndarray  # int64 index into the network
    moved_m: np.ndarray

    @property
    def n(self) -> int:
        return self.log.n


def snap_log(log: CaseLog, net: StreetNetwork, max_m: float = DEFAULT_SNAP_M) -> SnappedLog:
    """Each case at its nearest node; those beyond ``max_m`` counted "outside the map"."""
    dist, node = cKDTree(np.column_stack([net.x, net.y])).query(np.column_stack([log.x, log.y]))
    node = np.asarray(node, dtype=np.int64)
    dist = np.asarray(dist, dtype=float)
    if log.node_ids is not None and log.n:
        index = {str(i): k for k, i in enumerate(net.ids)}
        named = np.array([index.get(str(i), -1) for i in log.node_ids], dtype=np.int64)
        ok = named >= 0
        near = np.full(log.n, np.inf)
        near[ok] = np.hypot(net.x[named[ok]] - log.x[ok], net.y[named[ok]] - log.y[ok])
        same = near <= _SAME_NODE_M
        node = np.where(same, named, node)
        dist = np.where(same, near, dist)
    keep = dist <= max_m
    return SnappedLog(log.select(keep, "outside the map"), node[keep], dist[keep])


def outside_detail(log: CaseLog, net: StreetNetwork) -> str:
    """Where the map is and where the log's points are: for "every row is outside"."""
    if log.n == 0:
        return ""
    box = (net.x.min(), net.y.min(), net.x.max(), net.y.max())
    px = np.percentile(log.x, [5, 95])
    py = np.percentile(log.y, [5, 95])
    if net.crs:
        from pyproj import Transformer

        t = Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
        (a, c), (b, d) = t.transform([box[0], box[2]], [box[1], box[3]])
        (e, g), (f, h) = t.transform(list(px), list(py))
        return (
            f"the map spans lon {a:.3f}…{c:.3f}, lat {b:.3f}…{d:.3f}; most of the log's "
            f"points lie at lon {e:.3f}…{g:.3f}, lat {f:.3f}…{h:.3f}"
        )
    return (
        f"the map spans x {box[0]:.0f}…{box[2]:.0f}, y {box[1]:.0f}…{box[3]:.0f} m; most of "
        f"the log's points lie at x {px[0]:.0f}…{px[1]:.0f}, y {py[0]:.0f}…{py[1]:.0f}"
    )
