"""Measures of the double-ten rule, all computed from the incident table.

Clock 1 runs from the instruction to the advisor's arrival; clock 2 from the failure of
persuasion to the enforcers' arrival. Only incidents instructed inside the measured
window (after warm-up, before the horizon) count. An incident whose unit never came
counts as late.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import stdtrit

from sim.analysis.capacity import hourly_load
from sim.analysis.duty import DAY, duty_unit_minutes
from sim.analysis.duty import on_shift_minutes as on_shift_minutes
from sim.analysis.duty import window_minutes_before as window_minutes_before
from sim.engine.records import IncidentTable
from sim.roles import BY_NAME, CLOCKED_ROLES
from sim.scenario import Rules
from sim.world.staff import Units

SCALARS = ("advisor_on_time", "enforcer_on_time", "double_ten", "incidents", "escalated")


def _late_mask(resp: np.ndarray, limit: float) -> np.ndarray:
    return ~(resp <= limit)  # NaN (never arrived) is late


def clocks(t: IncidentTable, rules: Rules) -> dict[str, np.ndarray]:
    """Per-incident response times and on-time flags."""
    adv_resp = t["advisor_arrived"] - t["instructed"]
    enf_resp = t["enforcer_arrived"] - t["persuasion_ended"]
    adv_ok = ~_late_mask(adv_resp, rules.advisor_minutes)
    enf_ok = ~_late_mask(enf_resp, rules.enforcer_minutes)
    escalated = t["escalated"]
    return {
        "advisor_response": adv_resp,
        "enforcer_response": enf_resp,
        "advisor_ok": adv_ok,
        "enforcer_ok": enf_ok,
        "double_ten_ok": adv_ok & (~escalated | enf_ok) & (t["persuaded"] | escalated),
    }


def _share(ok: np.ndarray, of: np.ndarray) -> float | None:
    n = int(of.sum())
    return float((ok & of).sum()) / n if n else None


def response_stats(values: np.ndarray) -> dict[str, float | None]:
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return {"mean": None, "p50": None, "p90": None, "p95": None}
    p50, p90, p95 = np.percentile(v, [50, 90, 95])
    return {"mean": float(v.mean()), "p50": float(p50), "p90": float(p90), "p95": float(p95)}


# the roles on a double-ten clock, from the registry: (unit column, dispatched, released)
ROLE_COLUMNS = {
    r: (BY_NAME[r].unit_column, f"{BY_NAME[r].prefix}_dispatched", f"{BY_NAME[r].prefix}_released")
    for r in CLOCKED_ROLES
}


def busy_on_and_off_duty(
    t: IncidentTable, role: str, units: Units, lo: float, hi: float
) -> tuple[float, float]:
    """Busy unit-minutes within [lo, hi): (during the unit's shift, outside it).

    A unit is busy from dispatch until it is back at its post; a job still open when the
    run stopped is busy to ``hi``. A unit whose shift ends during a job finishes it, and
    that time is the second number: overtime, not utilisation.
    """
    unit_col, a, b = ROLE_COLUMNS[role]
    unit, start, end = t[unit_col], t[a], t[b]
    ok = (unit >= 0) & np.isfinite(start)
    if units.n == 0 or not ok.any():
        return 0.0, 0.0
    s = np.maximum(start[ok], lo)
    e = np.maximum(np.minimum(np.where(np.isfinite(end[ok]), end[ok], hi), hi), s)
    if units.periods:
        on = float(on_shift_minutes(units, unit[ok], s, e).sum())
        return on, float((e - s).sum()) - on
    shift = units.shift[unit[ok]]
    on = 0.0
    for k, (ws, we) in enumerate(units.shifts):
        sel = shift == k
        if sel.any():
            on += float(
                (
                    window_minutes_before(e[sel], ws, we) - window_minutes_before(s[sel], ws, we)
                ).sum()
            )
    return on, float((e - s).sum()) - on


def utilization(t: IncidentTable, role: str, units: Units, lo: float, hi: float) -> float | None:
    """Busy share of on-shift time: busy unit-minutes on shift ÷ unit-minutes on shift.

    A unit does one job at a time and its on-shift busy time is clipped to its shift, so
    the share cannot exceed 1 (the ``min`` only absorbs rounding).
    """
    duty = duty_unit_minutes(units, lo, hi)
    if not duty:
        return None
    on, _ = busy_on_and_off_duty(t, role, units, lo, hi)
    return min(on / duty, 1.0)


ROLE_PLURAL = {r: BY_NAME[r].plural for r in CLOCKED_ROLES}


def _request_times(t: IncidentTable, role: str) -> np.ndarray:
    """When each incident asked for a unit of the role (NaN if it never did)."""
    if role == "advisor":
        return np.asarray(t["instructed"], dtype=float)
    return np.where(t["escalated"], t["persuasion_ended"], np.nan)


def least_queue(
    requested: np.ndarray, dispatched: np.ndarray, days: Sequence[tuple[float, float]]
) -> list[int]:
    """The fewest requests waiting for a unit at any moment of each [start, end) in ``days``.

    A queue that stays stable empties now and then (at night at the latest); one that
    never empties and holds more on the last day than the first is growing.
    """
    asked = np.isfinite(requested)
    r, d = requested[asked], dispatched[asked]
    queued = ~(d <= r)  # dispatched at once: never in the queue; never dispatched: for ever
    r, d = r[queued], d[queued]
    d = d[np.isfinite(d)]
    # at equal times a dispatch comes first, so the count never runs ahead of the queue
    times = np.concatenate([d, r])
    order = np.lexsort((np.r_[np.zeros(len(d)), np.ones(len(r))], times))
    times = times[order]
    level = np.cumsum(np.r_[-np.ones(len(d)), np.ones(len(r))][order])
    out = []
    for start, end in days:
        i, j = np.searchsorted(times, [start, end], side="left")
        at_start = level[i - 1] if i > 0 else 0.0
        out.append(int(min(at_start, level[i:j].min() if j > i else at_start)))
    return out


def role_load(
    t: IncidentTable, role: str, units: Units, warmup: float, horizon: float
) -> dict[str, Any]:
    """Offered load of one role against the capacity on shift, by hour and over the day.

    Each request holds a unit from dispatch until it is back at the post (a request never
    served holds it for the mean); :func:`~sim.analysis.capacity.hourly_load` compares
    that with the units on shift, as the early warning does before a run. Queue growth
    is also measured directly (with 2 days or more measured): the queue is growing when
    it never empties on the last measured day and its low point is higher than on the
    first (:func:`least_queue`; over replications, when it does so in most).
    """
    reps = max(len(np.unique(t["replication"])), 1)
    lo, hi = warmup, horizon
    _, a, b = ROLE_COLUMNS[role]
    req = _request_times(t, role)
    asked = np.isfinite(req)
    inw = asked & (req >= lo) & (req < hi)
    hold = t[b] - t[a]
    known = inw & np.isfinite(hold)
    mean_hold = float(hold[known].mean()) if known.any() else None
    fill = mean_hold if mean_hold is not None else 0.0
    holding = np.where(np.isfinite(hold[asked]), hold[asked], fill)
    offered = hourly_load(req[asked], holding, units, lo, hi, reps)
    # queue wait; a request never served waited at least until the record ends
    ends = [c for c in (t[a], t[b]) if np.isfinite(c).any()]
    last = max([float(np.nanmax(c)) for c in ends], default=hi)
    wait = np.where(np.isfinite(t[a]), t[a], max(last, hi)) - req
    first_day = last_day = least_first = least_last = None
    growing: bool | None = None
    if hi - lo >= 2 * DAY:
        w1, w2 = wait[inw & (req < lo + DAY)], wait[inw & (req >= hi - DAY)]
        first_day = float(w1.mean()) if len(w1) else 0.0
        last_day = float(w2.mean()) if len(w2) else 0.0
        days = [(lo, lo + DAY), (hi - DAY, hi)]
        per_rep = np.array(
            [
                least_queue(req[sel], t[a][sel], days)
                for sel in (t["replication"] == r for r in np.unique(t["replication"]))
            ]
        ).reshape(-1, 2)
        least_first, least_last = (float(x) for x in per_rep.mean(axis=0))
        grew = (per_rep[:, 1] >= 1) & (per_rep[:, 1] > per_rep[:, 0])
        growing = bool(grew.sum() * 2 > len(grew))
    _, overtime = busy_on_and_off_duty(t, role, units, lo, hi)
    window_days = (hi - lo) / DAY
    out: dict[str, Any] = {
        "status": offered.status(growing),
        "offered_load_ratio": offered.ratio,
        "offered_load": offered.offered_load,
        "capacity": offered.capacity,
        "hold_min": mean_hold,
        "hours_over": offered.hours_over,
        "hours_unstaffed": offered.hours_unstaffed,
        "peak_hour": offered.peak_hour,
        "peak_ratio": offered.peak_ratio,
        "ratio_by_hour": offered.ratio_by_hour,
        "wait_first_day_min": first_day,
        "wait_last_day_min": last_day,
        "least_queue_first_day": least_first,
        "least_queue_last_day": least_last,
        "queue_growing": growing,
        "overtime_unit_hours_per_day": overtime / 60.0 / reps / window_days
        if window_days
        else None,
    }
    if role == "advisor":
        # an advisor whose case escalated waits on scene for the team: enforcer delay
        esc = inw & t["escalated"] & known
        waited = t["enforcer_arrived"][esc] - t["persuasion_ended"][esc]
        held = float(hold[known].sum())
        out["waiting_for_team_share"] = float(np.nansum(waited)) / held if held > 0 else None
    return out


def load(
    t: IncidentTable, units: dict[str, Units], warmup: float, horizon: float
) -> dict[str, Any]:
    """The ``overload`` block: each role's load (:func:`role_load`) and notes in words."""
    roles = {r: role_load(t, r, units[r], warmup, horizon) for r in ROLE_COLUMNS}
    return {**roles, "notes": [n for r in roles if (n := load_note(r, roles[r]))]}


def hour_ranges(hours: Sequence[int]) -> str:
    """``[7, 8, 9, 22, 23, 0]`` → ``"22:00–01:00, 07:00–10:00"``; all 24 → ``"every hour"``."""
    hs = sorted(set(hours))
    if len(hs) == 24:
        return "every hour"
    runs: list[list[int]] = []
    for h in hs:
        if runs and runs[-1][-1] == h - 1:
            runs[-1].append(h)
        else:
            runs.append([h])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 23:  # wraps past midnight
        runs = [*runs[1:-1], runs[-1] + runs[0]]
    return ", ".join(
        f"{r[0]:02d}:00–{(r[-1] + 1) % 24 if r[-1] + 1 < 24 else 24:02d}:00" for r in runs
    )


def load_note(role: str, x: dict[str, Any]) -> str | None:
    """One sentence for a planner when a role is over capacity; ``None`` when it is not."""
    name = ROLE_PLURAL[role]
    ratio = x["offered_load_ratio"]
    day = (
        "no unit on shift"
        if ratio is None
        else f"offered load {ratio:.2f} of capacity over the day"
    )
    trend = ""
    if x["queue_growing"]:
        trend = (
            f"the queue never emptied on the last measured day: at least "
            f"{x['least_queue_last_day']:,.0f} waiting, against {x['least_queue_first_day']:,.0f}"
            f" on the first; mean wait for a unit {x['wait_first_day_min']:,.0f} → "
            f"{x['wait_last_day_min']:,.0f} min"
        )
    extra = []
    if x["hours_over"]:
        extra.append(f"over capacity {hour_ranges(x['hours_over'])}")
    if x["hours_unstaffed"]:
        extra.append(f"nobody on shift {hour_ranges(x['hours_unstaffed'])}")
    share = x.get("waiting_for_team_share")
    if share is not None and share >= 0.25:
        extra.append(f"{100 * share:.0f}% of their time is waiting on scene for enforcer teams")
    if x["status"] == "unstable":
        if ratio is None or ratio >= 1:
            head = f"{name} overloaded: {day}, so the queue grows without bound"
            parts = [*extra, trend] if trend else extra
        else:
            head = f"{name} overloaded: {trend}, though {day}"
            parts = extra
        return head + (f" ({'; '.join(parts)})" if parts else "")
    if x["status"] == "peak":
        peak = x["peak_ratio"]
        top = f", up to {peak:.2f} at {x['peak_hour']:02d}:00" if peak is not None else ""
        clears = (
            "that clears later"
            if x["queue_growing"] is False
            else "that quieter hours must clear (measure 2 days or more to see that they do)"
        )
        return (
            f"{name} over capacity {hour_ranges(x['hours_over'])}{top}: a backlog builds "
            f"{clears}; {day}"
        )
    return None


def replication_measures(
    t: IncidentTable, rules: Rules, units: dict[str, Units], warmup: float, horizon: float
) -> dict[str, Any]:
    """The headline measures of one replication's table."""
    c = clocks(t, rules)
    m = t["measured"]
    esc = m & t["escalated"]
    util = {role: utilization(t, role, units[role], warmup, horizon) for role in ROLE_COLUMNS}
    return {
        "incidents": int(m.sum()),
        "escalated": int(esc.sum()),
        "advisor_on_time": _share(c["advisor_ok"], m),
        "enforcer_on_time": _share(c["enforcer_ok"], esc),
        "double_ten": _share(c["double_ten_ok"], m),
        "advisor_response_min": response_stats(c["advisor_response"][m]),
        "enforcer_response_min": response_stats(c["enforcer_response"][esc]),
        "utilization": util,
        "discovery": discovery(t, warmup, horizon),
    }


def discovery(t: IncidentTable, warmup: float, horizon: float) -> dict[str, Any]:
    """How problems came to light: the share never found, and how long finding took.

    The clocks start at the instruction, so they say nothing of problems nobody found;
    a plan with fewer grid members can look better on time while more go unfound.
    """
    window = (t["occurred"] >= warmup) & (t["occurred"] < horizon)
    found = window & (t["channel"] >= 0)
    delay = t["reported"][found] - t["occurred"][found]
    return {
        "never_found": float((window & ~found).sum()) / max(int(window.sum()), 1),
        "report_delay_min": float(delay.mean()) if len(delay) else None,
    }


def breakdown(
    t: IncidentTable, rules: Rules, codes: np.ndarray, labels: list[str], key: str
) -> list[dict[str, Any]]:
    """On-time shares per group (office, grid, hour, category), pooled over replications.

    Counts are per replication (a mean when there are several), like the headline counts.
    """
    c = clocks(t, rules)
    m = t["measured"]
    esc = m & t["escalated"]
    reps = max(len(np.unique(t["replication"])), 1)
    k = len(labels)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=k)

    n, n_esc = count(m), count(esc)
    adv, enf, both = (
        count(m & c["advisor_ok"]),
        count(esc & c["enforcer_ok"]),
        count(m & c["double_ten_ok"]),
    )
    resp = c["advisor_response"]
    rows = []
    for g, label in enumerate(labels):
        sel = m & (codes == g)
        r = resp[sel]
        r = r[np.isfinite(r)]
        rows.append(
            {
                key: label,
                "incidents": int(n[g]) if reps == 1 else float(n[g]) / reps,
                "escalated": int(n_esc[g]) if reps == 1 else float(n_esc[g]) / reps,
                "advisor_on_time": float(adv[g] / n[g]) if n[g] else None,
                "enforcer_on_time": float(enf[g] / n_esc[g]) if n_esc[g] else None,
                "double_ten": float(both[g] / n[g]) if n[g] else None,
                "advisor_p90_min": float(np.percentile(r, 90)) if len(r) else None,
            }
        )
    return rows


def t_margin(values: Sequence[float | None], quantile: float) -> float | None:
    """Student's t quantile times the standard error of the mean of independent replications.

    With ``quantile`` 0.975 it is the half-width of the two-sided 95% interval; with 0.95
    the distance to the one-sided 95% lower bound.
    """
    v = np.array([x for x in values if x is not None], dtype=float)
    if len(v) < 2:
        return None
    # scipy.special, not scipy.stats: the same number for a tenth of the import time
    return float(stdtrit(len(v) - 1, quantile) * v.std(ddof=1) / math.sqrt(len(v)))


def ci95_halfwidth(values: Sequence[float | None]) -> float | None:
    """Half-width of the 95% t-interval of the mean of independent replications."""
    return t_margin(values, 0.975)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` for scalar leaves."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
        elif not isinstance(v, list):
            out[name] = v
    return out


def combine(per_rep: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, float | None]]:
    """Mean over replications of every scalar measure, and its 95% CI half-width."""
    flat = [flatten(r) for r in per_rep]
    keys = list(flat[0])
    means: dict[str, Any] = {}
    ci: dict[str, float | None] = {}
    for k in keys:
        vals = [f.get(k) for f in flat]
        nums = [float(v) for v in vals if v is not None]
        means[k] = float(np.mean(nums)) if nums else None
        ci[k] = ci95_halfwidth(nums) if len(per_rep) > 1 else None
    if len(per_rep) == 1:
        means = flat[0]
    return _unflatten(means), ci


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in flat.items():
        node = out
        parts = k.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v
    return out
