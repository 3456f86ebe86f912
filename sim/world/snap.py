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
    box_x = np.array([net.x.min(), net.x.max()])
    box_y = np.array([net.y.min(), net.y.max()])
    pick = np.random.default_rng(0).choice(log.n, size=min(log.n, 10_000), replace=False)
    px, py = log.x[pick], log.y[pick]
    if not net.crs:
        return (
            f"the map spans x {box_x[0]:.0f}…{box_x[1]:.0f}, y {box_y[0]:.0f}…{box_y[1]:.0f} m; "
            f"most of the log's points lie at x {np.percentile(px, 5):.0f}…"
            f"{np.percentile(px, 95):.0f}, y {np.percentile(py, 5):.0f}…{np.percentile(py, 95):.0f}"
        )
    from pyproj import Transformer  # deferred: pyproj loads only for coordinates to transform

    t = Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    mlon, mlat = t.transform(box_x, box_y)
    lon, lat = t.transform(px, py)
    lo = np.percentile(lon, [5, 95])
    la = np.percentile(lat, [5, 95])
    return (
        f"the map spans lon {mlon[0]:.3f}…{mlon[1]:.3f}, lat {mlat[0]:.3f}…{mlat[1]:.3f}; "
        f"most of the log's points lie at lon {lo[0]:.3f}…{lo[1]:.3f}, lat {la[0]:.3f}…{la[1]:.3f}"
    )
