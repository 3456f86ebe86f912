"""The "归零" (bring to zero) campaign against night markets and open-air barbecue.

Every evening of the campaign, in the hotspot's own hours, a leader-led joint team
enforces on site: every offence there is found at once and goes straight to the penalty
track (no persuasion round, no discretion), and every offender there sees the presence,
which raises the certainty they perceive (Nagin 2013: certainty deters more than
severity). Enforcer shifts may be staggered and extended (错时/延时) for the campaign:
they hold on the campaign's days, the ordinary plan on the others (the world is built so:
:func:`sim.world.staff.with_campaign_shifts`).

This module holds the campaign's plan and its measures (weeks to zero, effort); the
offender process (``sim.engine.offenders``) applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.scenario import Scenario
from sim.world.staff import campaign_days as days
from sim.world.staff import campaign_shifts as campaign_shifts

DAY_MIN = 1440.0
WEEK_MIN = 7 * DAY_MIN


@dataclass(frozen=True)
class CampaignPlan:
    """Which hotspots (indices of the resolved sites) and which days the campaign covers."""

    sites: tuple[int, ...]
    first_day: int
    end_day: int  # exclusive
    joint_staff: int
    presence_weight: float
    enabled: bool = True  # False: the same hotspots and days, watched without a campaign

    def on(self, day: int) -> bool:
        return self.enabled and self.first_day <= day < self.end_day


def plan(scenario: Scenario, site_names: list[str]) -> CampaignPlan | None:
    """The campaign of the scenario on its resolved hotspots, or None.

    A campaign that names its hotspots but is not enabled still gives a plan: its measures
    (weeks to zero) are then those of the same district without it.
    """
    c = scenario.enforcement.campaign
    if not (scenario.enforcement.enabled and (c.enabled or c.hotspots)):
        return None
    names = c.hotspots or site_names
    sites = tuple(k for k, name in enumerate(site_names) if name in names)
    first, end = days(scenario)
    return CampaignPlan(sites, first, end, c.joint_staff, c.presence_weight, c.enabled)


def warnings(scenario: Scenario) -> list[str]:
    """A campaign switched on whose days all fall after the run ends: valid, but it does
    nothing (the summary's campaign block says it was not in the run)."""
    c = scenario.enforcement.campaign
    if not (scenario.enforcement.enabled and c.enabled):
        return []
    first, _ = days(scenario)
    if first * DAY_MIN < scenario.horizon_min:
        return []
    return [
        f"enforcement.campaign.start_day: the campaign starts on day {c.start_day:g}, after "
        f"the run's {scenario.duration.days:g} days: it is not in the run"
    ]


def weekly_counts(occurred: np.ndarray, start_min: float, horizon_min: float) -> np.ndarray:
    """Incidents per whole week from ``start_min`` (a trailing partial week is left out;
    none when the period is shorter than a week or empty)."""
    return binned_counts(occurred, start_min, horizon_min, WEEK_MIN)


def binned_counts(
    occurred: np.ndarray, start_min: float, horizon_min: float, width_min: float
) -> np.ndarray:
    """Incidents per whole bin of ``width_min`` minutes from ``start_min``."""
    bins = max(0, int((horizon_min - start_min) // width_min))
    k = ((occurred - start_min) // width_min).astype(np.int64)
    ok = (k >= 0) & (k < bins)
    counts: np.ndarray = np.bincount(k[ok], minlength=bins)
    return counts


def weeks_to_fraction(counts: np.ndarray, fraction: float = 0.05) -> float | None:
    """Weeks after the first until a week's count falls below ``fraction`` of the first's."""
    if len(counts) == 0 or counts[0] == 0:
        return None
    below = np.flatnonzero(counts[1:] < fraction * counts[0])
    return float(below[0] + 1) if len(below) else None


def effort(
    plan_: CampaignPlan, windows: list[tuple[float, float]], start_min: float, end_min: float
) -> dict[str, Any]:
    """The campaign's days and person-hours of joint enforcement on site that fall in the
    minutes ``[start_min, end_min)`` of the run (the part simulated and measured).

    A campaign's planned days past the run's end cost nothing here: they were not run.
    """
    if not plan_.enabled:
        return {"days": 0.0, "joint_person_hours": 0.0}
    lo = max(start_min, plan_.first_day * DAY_MIN)
    hi = min(end_min, plan_.end_day * DAY_MIN)
    minutes = 0.0
    for day in range(plan_.first_day, plan_.end_day):
        if day * DAY_MIN >= hi:
            break
        for k in plan_.sites:
            start, end = windows[k]
            a = day * DAY_MIN + start
            b = a + ((end - start) % DAY_MIN or DAY_MIN)
            minutes += max(0.0, min(b, hi) - max(a, lo))
    return {
        "days": round(max(0.0, hi - lo) / DAY_MIN, 3),
        "joint_person_hours": round(plan_.joint_staff * minutes / 60.0, 1),
    }
