"""Sequential replications: stop simulating a plan once its verdict is certain.

The staffing optimiser judges a plan by every office's one-sided confidence bound over
R replications (:mod:`sim.batch.plansearch`). Most plans it tries fail, many of them
plainly (an office at 80% against a 95% target); ten replications of such a plan say
nothing three did not. So a plan is simulated in stages (:func:`looks`: 3, then 5, then
all R replications) and, after each early stage, judged with a *stricter* bound
(:data:`ALPHA_LOOK` per look, one-sided t over the replications so far):

* an office is **certainly failing** when its upper bound (for a ceiling such as
  ``black_flag``: its lower bound) is on the wrong side of the target;
* an office is **certainly passing** when its lower bound (ceiling: upper bound) is on
  the right side.

A plan stops early only when it is **certainly infeasible**: some office is certainly
failing (and, when the caller needs every office's verdict, as the bracketing search
does, every other office is certain too). A plan that may be feasible always gets all R
replications, so a plan the optimiser reports is judged exactly as before.

Soundness: for an office whose true mean meets the target, the chance that one look's
bound falls on the wrong side is at most ``ALPHA_LOOK`` (the t approximation, as for the
final verdict), so over the early looks at most ``ALPHA_LOOK × (number of early looks)``
(Bonferroni): 2% with the default looks. A plan whose offices meet the target with
margin, as any plan the search keeps must, is stopped wrongly far less often. The bound is
per office: a plan of k offices all just at the target may be stopped wrongly with a
chance of up to k × 2%, which costs staff (an office raised needlessly), never a plan
reported feasible that is not. Verdicts
depend only on the records, so the same seed gives the same stages and the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.analysis.measures import TARGETS
from sim.analysis.metrics import t_margin

ALPHA_LOOK = 0.01
"""One-sided error of the stricter bound at each early look."""

EARLY_LOOKS = (3, 5)
"""Replications after which a plan may stop early (those below R)."""


def looks(replications: int, early: bool = True) -> list[int]:
    """The cumulative replication counts a plan is simulated in: early looks, then R."""
    if not early:
        return [replications]
    return [n for n in EARLY_LOOKS if n < replications] + [replications]


def office_certainty(
    records: Sequence[Mapping[str, Any]],
    targets: Mapping[str, float],
    alpha: float = ALPHA_LOOK,
) -> tuple[np.ndarray, np.ndarray]:
    """(certainly failing, certainly passing) per office, from the records so far.

    An office is certainly failing when, for some target measure, its ``1 - alpha``
    one-sided bound on the wrong side of the mean is still beyond the target; certainly
    passing when, for every target measure, the bound on the other side clears it.
    Offices with too few values to bound are neither.
    """
    k = len(records[0]["by_office"]) if records else 0
    fails = np.zeros(k, dtype=bool)
    passes = np.ones(k, dtype=bool)
    for m, goal in targets.items():
        ceiling = TARGETS[m].ceiling
        for o in range(k):
            vals = [r["by_office"][o].get(m) for r in records]
            got = [float(v) for v in vals if v is not None]
            half = t_margin(got, 1 - alpha)
            if half is None:
                passes[o] = False
                continue
            mean = float(np.mean(got))
            best, worst = (mean - half, mean + half) if ceiling else (mean + half, mean - half)
            if (best > goal) if ceiling else (best < goal):
                fails[o] = True
            if (worst > goal) if ceiling else (worst < goal):
                passes[o] = False
    return fails, passes & ~fails


def settled(
    records: Sequence[Mapping[str, Any]],
    targets: Mapping[str, float],
    every_office: bool,
    alpha: float = ALPHA_LOOK,
) -> bool:
    """Is the plan certainly infeasible after these records? With ``every_office``, each
    office's own verdict must be certain too (the bracketing search moves every office)."""
    fails, passes = office_certainty(records, targets, alpha)
    if not fails.any():
        return False
    return bool((fails | passes).all()) if every_office else True
