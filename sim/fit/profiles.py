"""When cases come: the daily volume, the hourly and weekday profiles, and their spread.

Rates are counts over exposure (:mod:`sim.fit.window`): the rate of hour *h* is the
cases in hour *h* over the hours of hour *h* observed, and the daily volume the sum of
the 24 hourly rates, divided by the sampling fraction. Intervals are Poisson (Garwood)
intervals widened by the daily index of dispersion when it is above 1 (quasi-Poisson).

Whether a Poisson process fits: the index of dispersion of the daily counts (variance
over mean against each day's expectation; 1 for Poisson) with its chi-square test, and
the same of the hourly counts within each day given the day's total. Overdispersed days
are described by a day-level random effect: each day's rate times a gamma multiplier
of mean 1 and coefficient of variation *cv*, estimated by moments,
cv² = Σ[(N_d − E_d)² − N_d] / Σ E_d² (unbiased under thinning, so a sampled log gives the
full log's *cv*). The weekday profile is tested against no weekday effect with a
chi-square test scaled by the daily index, and used only when the test rejects it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.caselog.log import CaseLog
from sim.fit.window import DAY_S, Exposure

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Volume:
    """How many cases a day, and how they spread over the hours (full, unsampled units)."""

    per_day: float
    ci95: tuple[float, float]
    hourly_rate: np.ndarray  # (24,) cases per hour
    hourly_share: np.ndarray  # (24,) sums to 1
    hourly_ci95: np.ndarray  # (24, 2) share intervals
    counts: np.ndarray  # (7, 24) cases in the log (sampled units)


@dataclass(frozen=True)
class Weekday:
    """The weekday profile and whether the data support one."""

    share: np.ndarray  # (7,) Monday first, sums to 1
    ci95: np.ndarray  # (7, 2)
    chi2: float | None
    p_value: float | None
    used: bool
    note: str


@dataclass(frozen=True)
class Dispersion:
    """Whether a Poisson process fits the counts of days and of hours within days."""

    days: int
    daily_index: float | None
    daily_p: float | None
    hourly_index: float | None
    hourly_p: float | None
    overdispersed: bool
    day_effect_cv: float | None
    daily_counts: np.ndarray
    daily_expected: np.ndarray
    note: str


def garwood(k: np.ndarray) -> np.ndarray:
    """Exact 95% Poisson intervals for counts ``k`` (rows: lower, upper)."""
    k = np.asarray(k, dtype=float)
    lo = np.where(k > 0, stats.chi2.ppf(0.025, 2 * k) / 2, 0.0)
    hi = stats.chi2.ppf(0.975, 2 * (k + 1)) / 2
    return np.column_stack([lo, hi])


def volume(log: CaseLog, exp: Exposure, fraction: float, spread: float = 1.0) -> Volume:
    """The daily volume and hourly profile of ``log`` over ``exp``."""
    counts = np.zeros((7, 24))
    np.add.at(counts, (log.weekdays(), log.hours()), 1.0)
    by_hour = counts.sum(axis=0)
    seen = np.maximum(exp.hour_hours, 1e-12)
    rate = np.where(exp.hour_hours > 0, by_hour / seen, 0.0)
    per_day_sampled = float(rate.sum())
    share = rate / per_day_sampled if per_day_sampled > 0 else np.full(24, 1 / 24)
    widen = np.sqrt(max(spread, 1.0))
    ci = garwood(by_hour)
    ci = by_hour[:, None] + (ci - by_hour[:, None]) * widen
    hourly_ci = np.clip(ci / seen[:, None] / max(per_day_sampled, 1e-12), 0.0, 1.0)
    n = float(by_hour.sum())
    half = Z95 * np.sqrt(widen**2 / max(n, 1.0))
    per_day = per_day_sampled / fraction
    return Volume(
        per_day=per_day,
        ci95=(per_day * max(0.0, 1 - half), per_day * (1 + half)),
        hourly_rate=rate / fraction,
        hourly_share=share,
        hourly_ci95=hourly_ci,
        counts=counts,
    )


def day_index(log: CaseLog, exp: Exposure) -> np.ndarray:
    """Each case's whole day of the exposure (an index into its days), -1 for none."""
    out = np.full(log.n, -1, dtype=np.int64)
    midnight = np.floor(log.wall / DAY_S) * DAY_S
    for seg in np.unique(exp.day_segment):
        days = np.flatnonzero(exp.day_segment == seg)
        starts = exp.day_start[days]  # ascending within a segment
        rows = np.flatnonzero(log.segment == seg)
        at = np.clip(np.searchsorted(starts, midnight[rows]), 0, len(starts) - 1)
        hit = starts[at] == midnight[rows]
        out[rows[hit]] = days[at[hit]]
    return out


def daily_counts(log: CaseLog, exp: Exposure) -> np.ndarray:
    """Cases on each whole day of the exposure."""
    idx = day_index(log, exp)
    out: np.ndarray = np.bincount(idx[idx >= 0], minlength=len(exp.day_start)).astype(float)
    return out


def weekday(vol: Volume, exp: Exposure, spread: float, alpha: float) -> Weekday:
    """Weekday factors and the scaled chi-square test of no weekday effect.

    A weekday the window never saw has no information: its factor is 1 (the average)
    and its interval is unknown (NaN).
    """
    rate = vol.hourly_rate / max(vol.hourly_rate.sum(), 1e-12)  # shape of a day
    expected_shape = (exp.hours * rate[None, :]).sum(axis=1)  # (7,) ∝ expected cases
    observed = vol.counts.sum(axis=1)
    n = observed.sum()
    seen = expected_shape > 0
    scale = n / max(expected_shape.sum(), 1e-12)  # cases per unit of expected shape
    factor = np.ones(7)
    factor[seen] = observed[seen] / (expected_shape[seen] * scale)
    ci = np.full((7, 2), np.nan)
    ci[seen] = garwood(observed[seen]) / (expected_shape[seen] * scale)[:, None]
    total = factor.sum()
    share, ci = factor / total, ci / total
    days_each = exp.hours.sum(axis=1) / 24.0
    if days_each.min() < 1.9 or n < 70:  # two of each weekday, first to last case
        note = "not tested: the window holds fewer than two of each weekday or under 70 cases"
        return Weekday(share, ci, None, None, False, note)
    expected = n * expected_shape / expected_shape.sum()
    chi2 = float(((observed - expected) ** 2 / expected).sum()) / max(spread, 1.0)
    p = float(stats.chi2.sf(chi2, 6))
    used = p < alpha
    note = (
        f"weekdays differ (chi-square {chi2:.1f} on 6 df, scaled by the daily dispersion, "
        f"p = {p:.2g}): the fitted scenario uses the weekday profile"
        if used
        else f"no weekday effect shown (chi-square {chi2:.1f} on 6 df, p = {p:.2g}): "
        "the fitted scenario has none"
    )
    return Weekday(share, ci, chi2, p, used, note)


def dispersion(
    log: CaseLog, exp: Exposure, vol: Volume, week: Weekday | None, alpha: float
) -> Dispersion:
    """Index of dispersion of daily counts (and of hours within days), and the day effect."""
    n_days = daily_counts(log, exp)
    per_day = float(
        vol.counts.sum(axis=0)
        @ np.where(exp.hour_hours > 0, 1.0 / np.maximum(exp.hour_hours, 1e-12), 0.0)
    )  # the log's own (sampled) cases a day
    wd = ((exp.day_start // DAY_S).astype(np.int64) + 3) % 7
    factor = 7 * week.share[wd] if week is not None and week.used else np.ones(len(wd))
    expected = per_day * factor
    days = len(n_days)
    if days < 2 or expected.sum() <= 0:
        return Dispersion(
            days,
            None,
            None,
            None,
            None,
            False,
            None,
            n_days,
            expected,
            "not tested: fewer than two whole days observed",
        )
    ok = expected > 0
    stat = float(((n_days[ok] - expected[ok]) ** 2 / expected[ok]).sum())
    index = stat / max(ok.sum() - 1, 1)
    p = float(stats.chi2.sf(stat, ok.sum() - 1))
    h_index, h_p = _within_days(log, exp, vol)
    over = p < alpha and index > 1
    cv = None
    if over:
        cv2 = float(((n_days - expected) ** 2 - n_days).sum() / (expected**2).sum())
        cv = float(min(np.sqrt(max(cv2, 0.0)), 5.0)) or None
    note = (
        f"overdispersed: daily index {index:.2f} (p = {p:.2g}); the fitted scenario adds a "
        f"day-level random effect of cv {cv:.2f}"
        if over and cv
        else f"consistent with Poisson days: daily index {index:.2f} (p = {p:.2g})"
    )
    return Dispersion(days, index, p, h_index, h_p, over, cv, n_days, expected, note)


def _within_days(log: CaseLog, exp: Exposure, vol: Volume) -> tuple[float | None, float | None]:
    """Index of dispersion of hourly counts given each whole day's total."""
    if not len(exp.day_start):
        return None, None
    idx = day_index(log, exp)
    on = idx >= 0
    cells = np.zeros((len(exp.day_start), 24))
    np.add.at(cells, (idx[on], log.hours()[on]), 1.0)
    totals = cells.sum(axis=1)
    expected = totals[:, None] * vol.hourly_share[None, :]
    ok = expected > 0
    df = int(ok.sum() - (totals > 0).sum())
    if df < 1:
        return None, None
    stat = float(((cells[ok] - expected[ok]) ** 2 / expected[ok]).sum())
    return stat / df, float(stats.chi2.sf(stat, df))


@dataclass(frozen=True)
class Trend:
    """The rate in equal stretches of the window, and whether it changed."""

    starts: np.ndarray  # wall seconds
    per_day: np.ndarray  # full units
    chi2: float
    p_value: float
    changed: bool
    note: str


def trend(log: CaseLog, exp: Exposure, fraction: float, alpha: float) -> Trend | None:
    """A chi-square test of a constant rate over up to eight equal stretches of the window.

    Only for a log of one stretch of time of at least four weeks (a run's own log has
    several segments, each a replication, and no trend to find).
    """
    if len(exp.spans) != 1:
        return None
    _, a, b = exp.spans[0]
    days = (b - a) / DAY_S
    k = int(min(8, days // 28))
    if k < 2:
        return None
    edges = np.linspace(a, b, k + 1)
    counts = np.histogram(log.wall, bins=edges)[0].astype(float)
    expected = np.full(k, counts.sum() / k)
    stat = float(((counts - expected) ** 2 / expected).sum())
    p = float(stats.chi2.sf(stat, k - 1))
    per_day = counts / ((b - a) / k / DAY_S) / fraction
    changed = p < alpha
    note = (
        f"the rate changed over the window ({', '.join(f'{r:,.1f}' for r in per_day)} a day in "
        f"{k} equal stretches; chi-square p = {p:.2g}): a long window's day-to-day spread "
        "partly stands for this; fit a recent stretch with --window"
        if changed
        else f"no change of the rate over the window shown ({k} stretches, p = {p:.2g})"
    )
    return Trend(edges[:-1], per_day, stat, p, changed, note)
