"""Whether each hour of the day meets an on-time target, with confidence.

A shift plan is judged hour by hour on each clock: an hour's on-time share pools its
requests over replications, and a one-sided confidence bound that treats the
replications as clusters (:func:`share_bound`) says whether the hour meets the target,
is shown short of it, or is still undecided (:func:`judge_hours`). The shift optimiser
(:mod:`sim.batch.shiftplan`) corrects its plans by these verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import stdtrit

from sim.analysis.metrics import clock_of, clocks
from sim.roles import CLOCKED_ROLES

if TYPE_CHECKING:
    from sim.engine.records import IncidentTable
    from sim.scenario import Rules

CLOCKS = {role: f"{role}_on_time" for role in CLOCKED_ROLES}
"""The clock each dispatched role is judged on (the measure of its on-time share)."""


PASS, SHORT, OPEN, OPEN_BELOW, NO_DATA = "pass", "short", "open", "open below", "no data"


def share_bound(
    ok: Sequence[float] | np.ndarray, n: Sequence[float] | np.ndarray, confidence: float
) -> tuple[float | None, float | None]:
    """Pooled on-time share of an hour and its one-sided ``confidence`` lower bound.

    ``ok[k]`` of ``n[k]`` requests were on time in replication ``k``. The share pools
    every request (a ratio estimator: busy replications weigh more, and replications
    without a request in the hour cost nothing). Requests of one replication are not
    independent (one queue makes several late), so the replications are the clusters:
    the design effect ``deff`` is the cluster-robust variance of the ratio over the
    binomial one (at least 1), and the bound is Wilson's score bound for ``N / deff``
    requests with Student's t quantile on ``K − 1`` degrees of freedom, ``K`` the
    replications. Unlike a normal bound it does not collapse to 100% when every
    request of a small sample was on time (3 of 3 gives about 50%, not 100%).
    The bound is None with fewer than two replications with a request.
    """
    o, m = np.asarray(ok, float), np.asarray(n, float)
    total = float(m.sum())
    if total <= 0:
        return None, None
    p = float(o.sum()) / total
    k = len(m)
    if int((m > 0).sum()) < 2:
        return p, None
    z = float(stdtrit(k - 1, confidence))
    v_cluster = k / (k - 1) * float(((o - p * m) ** 2).sum()) / total**2
    v_binom = p * (1.0 - p) / total
    n_eff = total * min(1.0, v_binom / v_cluster) if v_cluster > 0 and v_binom > 0 else total
    z2 = z * z
    centre = p + z2 / (2 * n_eff)
    half = z * math.sqrt(p * (1.0 - p) / n_eff + z2 / (4 * n_eff**2))
    return p, max(0.0, (centre - half) / (1.0 + z2 / n_eff))


@dataclass(frozen=True)
class HourVerdicts:
    """On-time shares by hour, pooled over replications, per clock (arrays of 24)."""

    replications: int
    mean: dict[str, np.ndarray]
    lower: dict[str, np.ndarray]
    count: dict[str, np.ndarray]  # requests pooled over the replications
    # PASS (lower bound on target); SHORT (upper bound below it); undecided: OPEN (mean on
    # target) or OPEN_BELOW (mean below); NO_DATA
    status: dict[str, np.ndarray]
    overall: dict[str, float | None]

    @property
    def passes(self) -> dict[str, np.ndarray]:
        """Hours that meet the target (no request at all: nothing to hold against the plan)."""
        return {c: np.isin(s, (PASS, NO_DATA)) for c, s in self.status.items()}


_COUNTS = {"advisor_on_time": "incidents", "enforcer_on_time": "escalated"}


def judge_hours(
    records: Sequence[Mapping[str, Any]], target: float, confidence: float
) -> HourVerdicts:
    """Each hour's pooled on-time share, lower bound and verdict on both clocks.

    ``records`` are runs as the run store keeps them (``by_hour`` rows, ``measures``).
    """
    mean, lower, count, status = {}, {}, {}, {}
    for clock in CLOCKS.values():
        mu, lo = np.full(24, np.nan), np.full(24, np.nan)
        n_all = np.zeros(24)
        st = np.full(24, NO_DATA, dtype=object)
        for h in range(24):
            n = np.array([float(r["by_hour"][h][_COUNTS[clock]] or 0) for r in records])
            share = [r["by_hour"][h][clock] for r in records]
            ok = np.array(
                [round(s * c) if s is not None else 0.0 for s, c in zip(share, n, strict=True)]
            )
            p, b = share_bound(ok, n, confidence)
            n_all[h] = n.sum()
            if p is None:
                continue
            mu[h] = p
            if b is not None:
                lo[h] = b
            up = share_bound(n - ok, n, confidence)[1]  # Wilson's bound is symmetric
            if b is not None and b >= target - 1e-12:
                st[h] = PASS
            elif up is not None and 1.0 - up < target - 1e-12:
                st[h] = SHORT  # below target with the same confidence
            else:
                st[h] = OPEN if p >= target - 1e-12 else OPEN_BELOW
        mean[clock], lower[clock], count[clock], status[clock] = mu, lo, n_all, st
    overall: dict[str, float | None] = {}
    for clock in CLOCKS.values():
        got = [r["measures"].get(clock) for r in records]
        vals = [float(v) for v in got if v is not None]
        overall[clock] = float(np.mean(vals)) if vals else None
    return HourVerdicts(len(records), mean, lower, count, status, overall)


def office_hour_counts(t: IncidentTable, rules: Rules, n_offices: int) -> dict[str, list[int]]:
    """Requests and on-time ones per street office and hour of day, for one run.

    Flat lists of ``n_offices × 24`` counts (office-major), hours as :func:`judge_hours`
    has them (the hour the instruction was issued); kept in each stored run so that the
    shift optimiser by office can tell which office's requests were late.
    """
    c = clocks(t, rules)
    m = t["measured"]
    cell = t["office"].astype(np.int64) * 24 + np.where(m, t["instructed"] // 60 % 24, 0).astype(
        np.int64
    )
    size = n_offices * 24

    def count(mask: np.ndarray) -> list[int]:
        return [int(x) for x in np.bincount(cell[mask], minlength=size)]

    out: dict[str, list[int]] = {}
    for role in (r for r in CLOCKED_ROLES if f"{r}_ok" in c):
        asking = m & c[f"{role}_asked"]
        out[clock_of(role).count] = count(asking)
        out[f"{role}_ok"] = count(asking & c[f"{role}_ok"])
    return out


# per clocked role: the counts of the incidents that asked and of those on time
_OFFICE_COUNTS = {role: (clock_of(role).count, f"{role}_ok") for role in CLOCKED_ROLES}


def late_by_office(records: Sequence[Mapping[str, Any]], role: str, n_offices: int) -> np.ndarray:
    """Late requests on ``role``'s clock per office and hour (offices × 24), summed over runs."""
    asked, ok = _OFFICE_COUNTS[role]
    late = np.zeros(n_offices * 24)
    for r in records:
        cells = r.get("by_office_hour")
        if cells is None:
            raise ValueError("a stored run has no counts by office and hour; run it again")
        late += np.asarray(cells[asked], float) - np.asarray(cells[ok], float)
    return late.reshape(n_offices, 24)
