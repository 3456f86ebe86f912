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

from sim.records import IncidentTable
from sim.scenario import Rules
from sim.staff import Units, in_window

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


def duty_unit_minutes(units: Units, start: float, end: float) -> float:
    """Unit-minutes on shift within [start, end), summed over the role's units."""
    if units.n == 0 or end <= start:
        return 0.0
    minutes = np.arange(math.floor(start), math.ceil(end)) + 0.5
    tod = minutes % 1440.0
    per_shift = [float(in_window(tod, s, e).sum()) for s, e in units.shifts]
    return float(np.bincount(units.shift, minlength=len(units.shifts)) @ np.asarray(per_shift))


def busy_minutes(start: np.ndarray, end: np.ndarray, lo: float, hi: float) -> float:
    """Total length of the intervals [start, end] clipped to [lo, hi].

    A job that started but never ended (still open when the run stopped) is busy to ``hi``.
    """
    ok = np.isfinite(start)
    stop = np.where(np.isfinite(end[ok]), end[ok], hi)
    return float(np.clip(np.minimum(stop, hi) - np.maximum(start[ok], lo), 0, None).sum())


def replication_measures(
    t: IncidentTable, rules: Rules, units: dict[str, Units], warmup: float, horizon: float
) -> dict[str, Any]:
    """The headline measures of one replication's table."""
    c = clocks(t, rules)
    m = t["measured"]
    esc = m & t["escalated"]
    util = {}
    for role, (a, b) in {
        "advisor": ("advisor_dispatched", "advisor_released"),
        "enforcer": ("enforcer_dispatched", "enforcer_released"),
    }.items():
        duty = duty_unit_minutes(units[role], warmup, horizon)
        util[role] = busy_minutes(t[a], t[b], warmup, horizon) / duty if duty else None
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
