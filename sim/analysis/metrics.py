"""Measures of the double-ten rule, all computed from the incident table.

Clock 1 runs from the instruction to the advisor's arrival; clock 2 from the failure of
persuasion to the enforcers' arrival. Every clock is a role's (:class:`sim.roles.Clock`):
where it starts, which incidents ask for the role, its deadline; a role given a clock in
the registry is measured here like these two. Only incidents instructed inside the
measured window (after warm-up, before the horizon) count. An incident whose unit never
came counts as late.
"""

from __future__ import annotations

import itertools
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
from sim.roles import BY_NAME, CLOCKED_ROLES, Clock
from sim.scenario import Rules, hour_ranges
from sim.world.staff import Units


def _late_mask(resp: np.ndarray, limit: float) -> np.ndarray:
    return ~(resp <= limit)  # NaN (never arrived) is late


def clock_of(role: str) -> Clock:
    """The response clock of a clocked role."""
    clock = BY_NAME[role].clock
    if clock is None:
        raise ValueError(f"role {role!r} has no clock")
    return clock


def in_table(t: IncidentTable, role: str) -> bool:
    """Whether the run's record has the role's columns (an optional role: when posted)."""
    return ROLE_COLUMNS[role][0] in t.columns


def asked_for(t: IncidentTable, role: str) -> np.ndarray:
    """Which incidents asked for a unit of a clocked role (its clock started)."""
    name = clock_of(role).asks
    if name is None:
        return np.ones(len(t["instructed"]), dtype=bool)
    column = t[name]
    return column if column.dtype == bool else np.isfinite(column)


def clocks(t: IncidentTable, rules: Rules) -> dict[str, np.ndarray]:
    """Per-incident response times and on-time flags: ``<role>_response``, ``<role>_ok`` and
    ``<role>_asked`` for each clocked role in the record, and ``double_ten_ok``: every
    clock the incident started was met, and persuasion has an outcome."""
    out: dict[str, np.ndarray] = {}
    met = t["persuaded"] | t["escalated"]
    for role in CLOCKED_ROLES:
        if not in_table(t, role):
            continue
        resp = t[BY_NAME[role].arrived] - t[clock_of(role).starts]
        ok = ~_late_mask(resp, rules.minutes(role))
        ask = asked_for(t, role)
        out[f"{role}_response"], out[f"{role}_ok"], out[f"{role}_asked"] = resp, ok, ask
        met = met & (~ask | ok)
    out["double_ten_ok"] = met
    return out


def _share(ok: np.ndarray, of: np.ndarray) -> float | None:
    n = int(of.sum())
    return float((ok & of).sum()) / n if n else None


def response_stats(values: np.ndarray) -> dict[str, float | None]:
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return {"mean": None, "p50": None, "p90": None, "p95": None}
    p50, p90, p95 = np.percentile(v, [50, 90, 95])
    return {"mean": float(v.mean()), "p50": float(p50), "p90": float(p90), "p95": float(p95)}


# the roles on a response clock, from the registry: (unit column, dispatched, released)
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
    starts = np.asarray(t[clock_of(role).starts], dtype=float)
    return starts if clock_of(role).asks is None else np.where(asked_for(t, role), starts, np.nan)


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
    trend = _queue_trend(t, a, b, req, inw, lo, hi)
    _, overtime = busy_on_and_off_duty(t, role, units, lo, hi)
    window_days = (hi - lo) / DAY
    status = offered.status(trend["queue_growing"])
    hours_over = offered.hours_over
    out: dict[str, Any] = {
        "status": status,
        "unstable": int(status == "unstable"),
        "offered_load_ratio": offered.ratio,
        "offered_load": offered.offered_load,
        "capacity": offered.capacity,
        "hold_min": mean_hold,
        "hours_over": hours_over,
        "hours_over_count": len(hours_over),
        "hours_unstaffed": offered.hours_unstaffed,
        "peak_hour": offered.peak_hour,
        "peak_ratio": offered.peak_ratio,
        "ratio_by_hour": offered.ratio_by_hour,
        **trend,
        "overtime_unit_hours_per_day": overtime / 60.0 / reps / window_days
        if window_days
        else None,
    }
    other = clock_of(role).waits_for
    if other is not None:
        # e.g. an advisor whose case escalated waits on scene for the team: enforcer delay
        esc = inw & asked_for(t, other) & known
        waited = t[BY_NAME[other].arrived][esc] - t[clock_of(other).starts][esc]
        held = float(hold[known].sum())
        out["waiting_for_team_share"] = float(np.nansum(waited)) / held if held > 0 else None
    return out


def _queue_trend(
    t: IncidentTable,
    dispatched: str,
    released: str,
    req: np.ndarray,
    inw: np.ndarray,
    lo: float,
    hi: float,
) -> dict[str, Any]:
    """Whether the queue grows: the mean wait and the least queue on the first and the
    last measured day (None with less than 2 days measured)."""
    a, b = dispatched, released
    out: dict[str, Any] = dict.fromkeys(
        ("wait_first_day_min", "wait_last_day_min", "least_queue_first_day",
         "least_queue_last_day", "queue_growing"),
    )  # fmt: skip
    if hi - lo < 2 * DAY:
        return out
    # queue wait; a request never served waited at least until the record ends
    ends = [c for c in (t[a], t[b]) if np.isfinite(c).any()]
    last = max([float(np.nanmax(c)) for c in ends], default=hi)
    wait = np.where(np.isfinite(t[a]), t[a], max(last, hi)) - req
    w1, w2 = wait[inw & (req < lo + DAY)], wait[inw & (req >= hi - DAY)]
    days = [(lo, lo + DAY), (hi - DAY, hi)]
    per_rep = np.array(
        [
            least_queue(req[sel], t[a][sel], days)
            for sel in (t["replication"] == r for r in np.unique(t["replication"]))
        ]
    ).reshape(-1, 2)
    least_first, least_last = (float(x) for x in per_rep.mean(axis=0))
    grew = (per_rep[:, 1] >= 1) & (per_rep[:, 1] > per_rep[:, 0])
    out.update(
        wait_first_day_min=float(w1.mean()) if len(w1) else 0.0,
        wait_last_day_min=float(w2.mean()) if len(w2) else 0.0,
        least_queue_first_day=least_first,
        least_queue_last_day=least_last,
        queue_growing=bool(grew.sum() * 2 > len(grew)),
    )
    return out


def load(
    t: IncidentTable, units: dict[str, Units], warmup: float, horizon: float
) -> dict[str, Any]:
    """The ``overload`` block: each clocked role's load (:func:`role_load`; None for a role
    not in the run) and notes in words."""
    roles = {
        r: role_load(t, r, units[r], warmup, horizon) if in_table(t, r) else None
        for r in CLOCKED_ROLES
    }
    notes = [n for r, x in roles.items() if x is not None and (n := load_note(r, x))]
    return {**roles, "notes": notes}


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
    other = clock_of(role).waits_for
    if share is not None and share >= 0.25 and other is not None:
        extra.append(
            f"{100 * share:.0f}% of their time is waiting on scene for {BY_NAME[other].plural}"
        )
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
    """The headline measures of one replication's table: per clock, the incidents that
    asked (``incidents``, ``escalated``); the problems that occurred; per clock the share on
    time, then the double ten, then per clock the response times; each clocked role's
    utilisation; discovery. None for a role not in the run."""
    c = clocks(t, rules)
    m = t["measured"]
    here = [r for r in CLOCKED_ROLES if in_table(t, r)]
    asking = {r: m & c[f"{r}_asked"] for r in here}
    out: dict[str, Any] = {
        clock_of(r).count: int(asking[r].sum()) if r in here else None for r in CLOCKED_ROLES
    }
    occurred = t["occurred"]
    out["incidents_occurred"] = int(((occurred >= warmup) & (occurred < horizon)).sum())
    for r in CLOCKED_ROLES:
        out[f"{r}_on_time"] = _share(c[f"{r}_ok"], asking[r]) if r in here else None
    out["double_ten"] = _share(c["double_ten_ok"], m)
    for r in CLOCKED_ROLES:
        times = c[f"{r}_response"][asking[r]] if r in here else np.zeros(0)
        out[f"{r}_response_min"] = response_stats(times)
    out["utilization"] = {
        r: utilization(t, r, units[r], warmup, horizon) if r in here else None
        for r in CLOCKED_ROLES
    }
    out["discovery"] = discovery(t, warmup, horizon)
    return out


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
    """On-time shares per group (office, grid, hour, category), pooled over replications:
    per clock the incidents that asked, the share on time and the p90 response time
    (``<role>_p90_min``), and the double ten. None for a role not in the run.

    Counts are per replication (a mean when there are several), like the headline counts.
    """
    c = clocks(t, rules)
    m = t["measured"]
    reps = max(len(np.unique(t["replication"])), 1)
    k = len(labels)
    here = [r for r in CLOCKED_ROLES if in_table(t, r)]
    asking = {r: m & c[f"{r}_asked"] for r in here}

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=k)

    def share(hit: np.ndarray, of: np.ndarray, g: int) -> float | None:
        return float(hit[g] / of[g]) if of[g] else None

    n = {r: count(asking[r]) for r in here}
    ok = {r: count(asking[r] & c[f"{r}_ok"]) for r in here}
    n_all, both = count(m), count(m & c["double_ten_ok"])
    p90 = {r: _p90_by_group(codes, asking[r], c[f"{r}_response"], k) for r in here}
    rows = []
    for g, label in enumerate(labels):
        row: dict[str, Any] = {key: label}
        for r in CLOCKED_ROLES:
            row[clock_of(r).count] = (
                None if r not in here else int(n[r][g]) if reps == 1 else float(n[r][g]) / reps
            )
        for r in CLOCKED_ROLES:
            row[f"{r}_on_time"] = share(ok[r], n[r], g) if r in here else None
        row["double_ten"] = share(both, n_all, g)
        for r in CLOCKED_ROLES:
            row[f"{r}_p90_min"] = p90[r][g] if r in here else None
        rows.append(row)
    return rows


def _p90_by_group(
    codes: np.ndarray, mask: np.ndarray, times: np.ndarray, k: int
) -> list[float | None]:
    """The 90th percentile of the finite ``times`` under ``mask`` in each of ``k`` groups
    (None for a group with none): one sort, not a pass over the table per group."""
    sel = mask & np.isfinite(times)
    group, value = codes[sel], times[sel]
    order = np.argsort(group, kind="stable")
    group, value = group[order], value[order]
    bounds = np.searchsorted(group, np.arange(k + 1))
    return [
        float(np.percentile(value[a:b], 90)) if b > a else None
        for a, b in itertools.pairwise(bounds)
    ]


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
