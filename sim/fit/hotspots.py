"""Hotspots: places and hours with more cases than the background explains.

A space-time scan of the snapped cases. For every street node and hour of day, the
cases within ``radius`` metres and ``±hours`` hours are counted and set against what the
background would put there: its share of the streets there (street length times the
office's intensity) times its share of those hours times the background's cases. Cells
whose Poisson tail probability is small are kept at a false discovery rate (Benjamini
and Hochberg over every node and hour), and scikit-learn's DBSCAN joins kept cells that
touch in space and time into clusters. Each cluster becomes one hotspot:

- its **hours**: the run of hours of day that maximises the Poisson likelihood ratio of
  the cases near it against the background (a scan over all 24 × 24 circular windows);
- its **centre**: the mean place of its excess cases (the cases near it in its hours,
  less the background's expected share of the same place);
- its **radius**: from the excess cases' mean squared distance from the centre, which
  is R²/2 for cases spread evenly over a disc of radius R, as the simulator spreads them;
- its **rate**: the excess cases in its hours over the hours observed;
- its **category mix**: the excess cases by category.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse, stats
from scipy.spatial import cKDTree

MIN_EXCESS = 5.0  # a hotspot explains at least this many cases of the log
MAX_RADIUS_M = 2000.0
MIN_RADIUS_M = 30.0


@dataclass(frozen=True)
class ScanOptions:
    radius_m: float = 150.0
    hours: int = 1  # half-width of the scan's time window
    fdr: float = 0.01
    max_hotspots: int = 20


@dataclass(frozen=True)
class Background:
    """What the background would produce: where, when, how many (sampled units)."""

    place: np.ndarray  # per node, sums to 1
    hour: np.ndarray  # (24,) share of background cases by hour of day
    cases: float
    categories: np.ndarray  # (n categories,) shares


@dataclass(frozen=True)
class FoundHotspot:
    x: float
    y: float
    radius_m: float
    start: int  # hour of day
    end: int  # hour of day (exclusive; <= start wraps past midnight; 24 h: start == end)
    hours: tuple[int, ...]
    rate: float  # excess cases per hour in its hours (sampled units)
    excess: float  # excess cases in the log
    categories: np.ndarray  # excess cases by category
    p_value: float

    def hour_mask(self) -> np.ndarray:
        mask = np.zeros(24, dtype=bool)
        mask[list(self.hours)] = True
        return mask


@dataclass(frozen=True)
class Cases:
    """The snapped cases: node, hour of day, category; and the nodes' places."""

    node: np.ndarray
    hour: np.ndarray
    category: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    hour_hours: np.ndarray  # hours observed of each hour of day
    n_categories: int


def find_hotspots(cases: Cases, bg: Background, opts: ScanOptions) -> list[FoundHotspot]:
    """The hotspots of ``cases`` against ``bg``, largest excess first."""
    if len(cases.node) == 0:
        return []
    cells = _significant_cells(cases, bg, opts)
    if len(cells[0]) == 0:
        return []
    labels = _clusters(cases, cells, opts)
    # each hotspot must stand out on its own against every place and hour the scan looked
    level = opts.fdr / (max(int((bg.place > 0).sum()), 1) * 24)
    found = []
    for label in np.unique(labels):
        nodes = cells[0][labels == label]
        weights = cells[2][labels == label]
        hot = _describe(cases, bg, nodes, weights, opts)
        if hot is not None and hot.p_value <= level:
            found.append(hot)
    return _distinct(sorted(found, key=lambda h: -h.excess))[: opts.max_hotspots]


def _window_sum(a: np.ndarray, half: int) -> np.ndarray:
    """Circular sums over ±``half`` columns (hours of day)."""
    return sum((np.roll(a, -k, axis=-1) for k in range(-half, half + 1)), np.zeros_like(a))


def _significant_cells(
    cases: Cases, bg: Background, opts: ScanOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(node, hour, excess) of the cells kept at the false discovery rate."""
    n_nodes = len(cases.node_x)
    pts = np.column_stack([cases.node_x, cases.node_y])
    tree = cKDTree(pts)
    active = np.unique(cases.node)
    near = tree.query_ball_point(pts[active], opts.radius_m)
    rows = np.repeat(np.arange(len(active)), [len(n) for n in near])
    cols = np.fromiter((j for n in near for j in n), dtype=np.int64, count=len(rows))
    a = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(active), n_nodes))
    counts = sparse.csr_matrix(
        (np.ones(len(cases.node)), (cases.node, cases.hour)), shape=(n_nodes, 24)
    )
    k = _window_sum(np.asarray((a @ counts).todense()), opts.hours)
    mass = a @ bg.place
    mu = bg.cases * mass[:, None] * _window_sum(bg.hour, opts.hours)[None, :]
    test = k >= 3
    p = np.ones_like(k)
    p[test] = stats.poisson.sf(k[test] - 1, np.maximum(mu[test], 1e-12))
    m = max(int((bg.place > 0).sum()), 1) * 24
    order = np.sort(p[test])
    passed = order <= opts.fdr * np.arange(1, len(order) + 1) / m
    if not passed.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    cut = order[np.flatnonzero(passed).max()]
    i, h = np.nonzero(test & (p <= cut))
    return active[i], h, (k - mu)[i, h]


def _clusters(
    cases: Cases, cells: tuple[np.ndarray, np.ndarray, np.ndarray], opts: ScanOptions
) -> np.ndarray:
    """DBSCAN labels of the kept cells: neighbours within the radius at the same hour, or
    the same node in adjacent hours."""
    from sklearn.cluster import DBSCAN  # deferred: scikit-learn loads only for a scan

    node, hour, _ = cells
    angle = 2 * np.pi * hour / 24.0
    ring = 1.0 / (2 * np.sin(np.pi / 24))  # adjacent hours one unit apart
    feats = np.column_stack(
        [
            cases.node_x[node] / opts.radius_m,
            cases.node_y[node] / opts.radius_m,
            ring * np.cos(angle),
            ring * np.sin(angle),
        ]
    )
    labels: np.ndarray = DBSCAN(eps=1.0 + 1e-6, min_samples=1).fit_predict(feats)
    return labels


def _describe(
    cases: Cases, bg: Background, nodes: np.ndarray, weights: np.ndarray, opts: ScanOptions
) -> FoundHotspot | None:
    """One hotspot from a cluster of cells: hours, centre, radius, rate, categories."""
    w = np.maximum(weights, 0.0)
    cx = float(np.average(cases.node_x[nodes], weights=w if w.sum() > 0 else None))
    cy = float(np.average(cases.node_y[nodes], weights=w if w.sum() > 0 else None))
    reach = float(np.hypot(cases.node_x[nodes] - cx, cases.node_y[nodes] - cy).max())
    reach = min(reach + opts.radius_m, MAX_RADIUS_M)
    hot = None
    for _ in range(2):  # hours and centre, then once more from the better centre
        hot = _measure(cases, bg, cx, cy, reach)
        if hot is None:
            return None
        cx, cy = hot.x, hot.y
    return hot


def _measure(
    cases: Cases, bg: Background, cx: float, cy: float, reach: float
) -> FoundHotspot | None:
    d2_case = (cases.node_x[cases.node] - cx) ** 2 + (cases.node_y[cases.node] - cy) ** 2
    d2_node = (cases.node_x - cx) ** 2 + (cases.node_y - cy) ** 2
    inside = d2_case <= reach**2
    disc = d2_node <= reach**2
    mass = float(bg.place[disc].sum())
    c_h = np.bincount(cases.hour[inside], minlength=24).astype(float)
    mu_h = bg.cases * mass * bg.hour
    hours = _best_hours(c_h, mu_h)
    if hours is None:
        return None
    in_hours = np.isin(cases.hour, hours)
    sel = inside & in_hours
    bg_n = float(mu_h[list(hours)].sum())
    excess = float(sel.sum()) - bg_n
    p = float(stats.poisson.sf(sel.sum() - 1, max(bg_n, 1e-12)))
    if excess < MIN_EXCESS:
        return None
    q = bg.place[disc] / max(mass, 1e-300)
    xs, ys = cases.node_x[cases.node[sel]], cases.node_y[cases.node[sel]]
    bx, by = float(q @ cases.node_x[disc]), float(q @ cases.node_y[disc])
    nx = (xs.sum() - bg_n * bx) / excess
    ny = (ys.sum() - bg_n * by) / excess
    m2 = (((xs - nx) ** 2 + (ys - ny) ** 2).sum() - bg_n * float(q @ d2_node[disc])) / excess
    # at least up to the nearest street node, so the simulator finds a street inside
    nearest = float(np.sqrt(((cases.node_x - nx) ** 2 + (cases.node_y - ny) ** 2).min()))
    floor = max(MIN_RADIUS_M, 1.05 * nearest + 1.0)
    radius = float(np.clip(np.sqrt(max(2.0 * m2, 0.0)), floor, max(reach, floor)))
    cats = np.bincount(cases.category[sel], minlength=cases.n_categories).astype(float)
    cats = np.clip(cats - bg_n * bg.categories, 0.0, None)
    seen = float(cases.hour_hours[list(hours)].sum())
    start, end = (0, 24) if len(hours) == 24 else (hours[0], (hours[-1] + 1) % 24)
    return FoundHotspot(
        float(nx),
        float(ny),
        radius,
        start,
        end,
        hours,
        excess / max(seen, 1e-12),
        excess,
        cats,
        p,
    )


# a window of its own is the best of 24 × 23: it must explain the hourly counts better
# than the whole day by the log of that many tries plus one (a Bonferroni-like price)
WINDOW_PENALTY = float(np.log(24 * 23)) + 1.0


def _flat_loglik(c: np.ndarray, mu: np.ndarray, hours: np.ndarray) -> tuple[float, float]:
    """Log-likelihood (up to a constant) of hourly counts ``c`` under the background ``mu``
    plus a flat rate over ``hours`` (a boolean mask), the rate fitted by moments."""
    rate = max(float((c[hours] - mu[hours]).sum()), 0.0) / max(int(hours.sum()), 1)
    lam = np.maximum(mu + rate * hours, 1e-12)
    return float((c * np.log(lam) - lam).sum()), rate


def _best_hours(c: np.ndarray, mu: np.ndarray) -> tuple[int, ...] | None:
    """The hours of a hotspot as the simulator draws it: a flat rate in one circular run
    of hours. The run whose flat rate best explains the hourly counts near the hotspot
    (Poisson likelihood over all 24 hours), or the whole day unless a run is clearly better;
    None when there is no excess."""
    if c.sum() <= mu.sum():
        return None
    whole, _ = _flat_loglik(c, mu, np.ones(24, dtype=bool))
    best, best_ll = None, -np.inf
    for start in range(24):
        for length in range(1, 24):
            mask = np.zeros(24, dtype=bool)
            mask[(start + np.arange(length)) % 24] = True
            ll, rate = _flat_loglik(c, mu, mask)
            if rate > 0 and ll > best_ll:
                best, best_ll = (start, length), ll
    if best is None or best_ll - whole < WINDOW_PENALTY:
        return tuple(range(24))
    start, length = best
    return tuple((start + j) % 24 for j in range(length))


def _distinct(found: list[FoundHotspot]) -> list[FoundHotspot]:
    """Drop a hotspot inside a larger one at overlapping hours (one cluster split in two)."""
    kept: list[FoundHotspot] = []
    for h in found:
        dup = any(
            np.hypot(h.x - k.x, h.y - k.y) <= max(h.radius_m, k.radius_m)
            and (h.hour_mask() & k.hour_mask()).any()
            for k in kept
        )
        if not dup:
            kept.append(h)
    return kept
