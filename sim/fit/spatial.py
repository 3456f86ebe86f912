"""Where cases come and what they are: office intensities, category and channel shares.

**Intensity per street office.** The background puts cases on the streets by length;
an office whose streets see more (or fewer) cases per km than the map's mean gets an
intensity above (below) 1. Small offices say little, so each is shrunk toward 1 by an
empirical-Bayes gamma–Poisson model: the office's background cases B ~ Poisson(E θ),
E its street-length share of the background, θ ~ Gamma(α, α); α from the spread of the
offices' ratios by moments, and θ̂ = (B + α) / (E + α). When the offices differ no more
than Poisson noise says, every θ̂ is 1 and the fitted scenario keeps the plain spread.

**Categories per office** where the data support it: an office with at least
:data:`MIN_OFFICE_CASES` cases whose mix differs from the district's (chi-square test at
the fit's level) keeps its own mix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.fit.profiles import Z95

MIN_OFFICE_CASES = 100


@dataclass(frozen=True)
class Shares:
    """Shares of a set of names with 95% intervals (normal approximation, clipped)."""

    names: tuple[str, ...]
    counts: np.ndarray
    share: np.ndarray
    ci95: np.ndarray

    @classmethod
    def of(cls, names: tuple[str, ...], counts: np.ndarray) -> Shares:
        n = max(float(counts.sum()), 1e-12)
        p = counts / n
        half = Z95 * np.sqrt(p * (1 - p) / n)
        return cls(
            names, counts, p, np.column_stack([np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)])
        )

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in zip(self.names, self.share, strict=True)}


@dataclass(frozen=True)
class OfficeFit:
    name: str
    cases: int
    street_km: float
    intensity: float
    categories: Shares
    own_mix: bool
    p_value: float | None


def intensities(
    background: np.ndarray, street_share: np.ndarray
) -> tuple[np.ndarray, float | None]:
    """Each office's intensity θ̂ (mean 1 over the streets) and the prior's α (None: no spread)."""
    total = background.sum()
    expected = total * street_share
    ok = expected > 0
    spread = ((background[ok] - expected[ok]) ** 2 - background[ok]).sum() / max(
        (expected[ok] ** 2).sum(), 1e-12
    )
    if total <= 0 or spread <= 0:
        return np.ones(len(background)), None
    alpha = 1.0 / spread
    theta = (background + alpha) / (expected + alpha)
    theta /= float(theta @ street_share)  # keep the total
    return theta, float(alpha)


def office_mixes(
    by_office: list[np.ndarray], names: tuple[str, ...], overall: np.ndarray, alpha: float
) -> list[tuple[Shares, bool, float | None]]:
    """Per office (its cases' category codes): its category shares, whether it keeps its
    own mix, and the test's p."""
    out: list[tuple[Shares, bool, float | None]] = []
    k = len(names)
    for category in by_office:
        counts = np.bincount(category, minlength=k).astype(float)
        shares = Shares.of(names, counts)
        n = counts.sum()
        if n < MIN_OFFICE_CASES:
            out.append((shares, False, None))
            continue
        expected = n * overall
        ok = expected > 0
        stat = float(((counts[ok] - expected[ok]) ** 2 / expected[ok]).sum())
        p = float(stats.chi2.sf(stat, max(int(ok.sum()) - 1, 1)))
        out.append((shares, p < alpha, p))
    return out
