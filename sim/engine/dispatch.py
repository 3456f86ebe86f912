"""Dispatch policies: which available unit goes to an incident.

``nearest`` sends the available unit with the least travel time, wherever it is.
``own_grid_first`` looks in the incident's grid first, then its street office, then
anywhere, taking the nearest available unit of the first tier that has one. Within a
role all units move at one speed, so nearest in distance is nearest in time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np

from sim.engine.records import cells
from sim.world.travel import TravelTable

if TYPE_CHECKING:
    from sim.world.build import World

Policy = Literal["nearest", "own_grid_first"]
Pick = Callable[[int], "tuple[int, float] | None"]

SCAN = 16  # candidates checked one by one before the rest are checked as an array


class Dispatcher:
    """Picks units of one role for incidents, given which units are available now."""

    def __init__(
        self,
        policy: Policy,
        table: TravelTable,
        unit_grid: np.ndarray,
        unit_office: np.ndarray,
        node_grid: np.ndarray,
        node_office: np.ndarray,
    ) -> None:
        self.policy = policy
        self.table = table
        self.unit_grid = unit_grid
        self.unit_office = unit_office
        self.node_grid = node_grid
        self.node_office = node_office
        self._forward = table.forward

    def pick(self, node: int, available: np.ndarray) -> tuple[int, float] | None:
        """The unit to send to ``node`` and its distance (m), or ``None`` if nobody is free."""
        if self.policy == "own_grid_first":
            for tier in (
                self.unit_grid == self.node_grid[node],
                self.unit_office == self.node_office[node],
            ):
                found = self._nearest(node, available & tier)
                if found is not None:
                    return found
        return self._nearest(node, available)

    def picker(self, available: np.ndarray) -> Pick:
        """:meth:`pick` for one crew, as ``pick(node)``: ``available`` must be updated in place.

        For ``nearest`` the candidates are checked one at a time in plain Python, nearest
        first, which is quicker than an array operation when, as usual, one of the first
        few is free (the first free one is the third candidate on average in Jinshui);
        after :data:`SCAN` of them the rest are checked as an array. Same answer as
        :meth:`pick`.
        """
        if self.policy != "nearest":
            return lambda node: self.pick(node, available)
        ptr_np, cand_np, dist_np = self._forward
        ptr, cand, dist, free = cells(ptr_np), cells(cand_np), cells(dist_np), cells(available)
        nearest = self._nearest

        def pick(node: int) -> tuple[int, float] | None:
            a, b = ptr[node], ptr[node + 1]
            stop = a + SCAN if a + SCAN < b else b
            for j in range(a, stop):
                if free[cand[j]]:
                    return cand[j], dist[j]
            if stop < b:
                ok = available[cand_np[stop:b]]
                k = int(ok.argmax())
                if ok[k]:
                    return cand[stop + k], dist[stop + k]
            return nearest(node, available, tabulated=False)

        return pick

    def _nearest(
        self, node: int, eligible: np.ndarray, tabulated: bool = True
    ) -> tuple[int, float] | None:
        ptr, cand, cand_dist = self._forward  # the table's candidates, inlined: a hot path
        a, b = ptr[node], ptr[node + 1]
        units, dist = cand[a:b], cand_dist[a:b]
        if tabulated and a < b:
            ok = eligible[units]
            k = int(ok.argmax())  # the first eligible: candidates are nearest first
            if ok[k]:
                return int(units[k]), float(dist[k])
        if not eligible.any():
            return None
        # every eligible unit is beyond the tabulated cutoff: exact distances from their posts
        return self.table.nearest(node, np.flatnonzero(eligible).tolist())


def dispatcher_for(world: World, role: str) -> Dispatcher:
    """The dispatcher of ``role`` on a built world, with the scenario's policy."""
    units = world.roster[role]
    return Dispatcher(
        world.scenario.dispatch.policy,
        world.tables[role],
        units.grid,
        units.office,
        world.areas.node_grid,
        world.areas.node_office,
    )
