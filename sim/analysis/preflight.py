"""Before simulating: can each role keep up with the demand at all?

A run whose demand asks more of a role than its units on shift can give over the whole
day is hopeless: its queue grows without bound, every clock is late, and it is as slow
as it is long. :func:`expected_load` estimates, before the run, the offered load the
summary measures afterwards, and judges it with the same check
(:mod:`sim.analysis.capacity`); :func:`overload_warnings` words it as the summary does.

The estimate draws :data:`SAMPLE_DAYS` days of the scenario's demand and on-scene draws
(one-off incidents, before any offender is deterred). Each request holds a unit for its
turnout, its work on scene (an advisor whose case escalates also waits for the
enforcers' turnout and ride) and the ride out and back. How far the ride is depends on
the load, and this is what makes overload run away:

- in free flow the nearest *free* unit rides: with a share ``q`` of the role's units
  not free, the k-th nearest unit of the travel table is the first free one with
  probability ``q^k (1 - q)`` (units busy independently); the load of each hour is the
  fixed point of "busy units = requests × holding time(busy units)";
- an hour with no such fixed point below its capacity builds a backlog, and a unit that
  comes free into a backlog rides to the oldest request, anywhere: the ride of a post to
  a request at random.

The load of every hour is the free-flow one where it exists, else the backlog one. If
over the whole day that is at or above capacity, the backlog never clears, every hour
rides as in a backlog, and that load is the estimate. The enforcers are asked only for
what the advisors serve. On Jinshui it gives advisors 0.21 of capacity at the default
demand (0.20 measured after a run), 0.39 at 4,600 a day (0.40), 2.1 at 8,100 a day
(2.0), and 6.9 for ``benchmarks/city_x10.yaml`` with 200 offices and 100,000 incidents
a day (5.0). It
errs low on the margin of a run-away (a backlog that builds at a shift change is taken
to clear: at 5,400 a day it gives 0.56, and the run measured 1.33), so a run it does not
warn about may still be found overloaded afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.analysis.capacity import HourlyLoad, hourly_load
from sim.analysis.duty import hourly_capacity, window_minutes_before
from sim.analysis.metrics import load_note
from sim.engine.chain import standard_chain
from sim.engine.demand import generate_incidents
from sim.engine.outcomes import DrawContext, draw_all
from sim.rng import stream
from sim.scenario import with_overrides
from sim.world.staff import Units

if TYPE_CHECKING:
    from sim.world.build import World
    from sim.world.travel import TravelTable

SAMPLE_DAYS = 2.0  # days of demand drawn for the estimate (after the warm-up)
NODE_SAMPLE = 256  # request locations the rides are averaged over
POST_SAMPLE = 8  # posts searched for the ride to a request anywhere
_Q = np.linspace(0.0, 0.999, 64)  # shares of a role's units not free, for the ride curve
_RHO = np.linspace(0.0, 0.999, 400)  # shares of the units on shift busy, for the fixed point


@dataclass(frozen=True, eq=False)
class Rides:
    """How far (m) a unit of one role rides to a request: from the nearest free unit, for
    each share ``q`` of the role's units not free, and from a post to a request anywhere."""

    nearest_free: np.ndarray  # one mean per value of _Q
    anywhere: float

    @classmethod
    def of(cls, table: TravelTable, nodes: np.ndarray, rng: np.random.Generator) -> Rides:
        """Averaged over request locations ``nodes`` (a sample of them is used)."""
        nodes = rng.choice(nodes, min(NODE_SAMPLE, len(nodes)), replace=False)
        posts = rng.choice(table.posts, min(POST_SAMPLE, len(table.posts)), replace=False)
        far = dijkstra(table.net.lengths, directed=True, indices=posts)[:, nodes]
        anywhere = float(far[np.isfinite(far)].mean()) if np.isfinite(far).any() else 0.0
        ptr, _, dist = table.forward
        a, b = ptr[nodes], ptr[nodes + 1]
        count = b - a  # the units within the table's cutoff, nearest first
        rank = np.arange(int(count.max()) if len(count) else 0)
        near = np.zeros((len(nodes), len(rank)))
        near[rank[None, :] < count[:, None]] = np.concatenate(
            [dist[x:y] for x, y in zip(a, b, strict=True)]
        )
        # the k-th nearest is the first free one with probability q^k (1 - q); past the
        # table's units the ride is one from anywhere. Averaged over the nodes: the mean
        # k-th distance (0 where a node has fewer units) weighted by q^k (no BLAS call:
        # its threads would double the CPU time of so small a product)
        kth = near.mean(axis=0)
        within = (_Q[:, None] ** rank[None, :] * kth[None, :]).sum(axis=1) * (1.0 - _Q)
        curve = within + (_Q[None, :] ** count[:, None]).mean(axis=0) * anywhere
        return cls(curve, anywhere)


def _free_flow(
    rides: Rides, per_min: np.ndarray, fixed: np.ndarray, cap: np.ndarray, n: int, speed: float
) -> np.ndarray:
    """The ride (m) of each hour of day in free flow; NaN where a backlog builds.

    ``per_min`` and ``fixed`` are the hour's requests per minute and their mean minutes
    held besides riding, ``cap`` its mean units on shift of the role's ``n``. Busy units
    ``ρ·cap`` must carry the load the rides of ``ρ`` give.
    """
    out = np.full(24, np.nan)
    for h in range(24):
        if per_min[h] == 0:
            out[h] = 0.0
            continue
        if cap[h] <= 0:
            continue
        q = 1.0 - cap[h] / n * (1.0 - _RHO)
        ride = np.interp(q, _Q, rides.nearest_free)
        fits = per_min[h] * (fixed[h] + 2.0 * ride / speed) <= _RHO * cap[h]
        if fits.any():
            out[h] = ride[int(fits.argmax())]
    return out


def _by_hour(
    t: np.ndarray, values: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """Requests per minute in each hour of day within [lo, hi), and their mean ``values``."""
    hour = (t // 60 % 24).astype(np.int64)
    count = np.bincount(hour, minlength=24).astype(float)
    total = np.bincount(hour, weights=values, minlength=24)
    minutes = np.array(
        [window_minutes_before(hi, 60.0 * h, 60.0 * h + 60) for h in range(24)]
    ) - np.array([window_minutes_before(lo, 60.0 * h, 60.0 * h + 60) for h in range(24)])
    per_min = np.divide(count, minutes, out=np.zeros(24), where=minutes > 0)
    mean = np.divide(total, count, out=np.zeros(24), where=count > 0)
    return per_min, mean


def _role_load(
    requested: np.ndarray,
    fixed: np.ndarray,
    rides: Rides,
    units: Units,
    speed: float,
    window: tuple[float, float],
) -> tuple[HourlyLoad, np.ndarray]:
    """One role's expected load (module docstring) and its ride (m) in each hour of day."""
    lo, hi = window
    inside = (requested >= lo) & (requested < hi)
    per_min, mean_fixed = _by_hour(requested[inside], fixed[inside], lo, hi)
    cap = hourly_capacity(units, lo, hi)
    ride_h = _free_flow(rides, per_min, mean_fixed, cap, units.n, speed)
    ride_h = np.where(np.isnan(ride_h), rides.anywhere, ride_h)
    hour = (requested // 60 % 24).astype(np.int64)
    x = hourly_load(requested, fixed + 2.0 * ride_h[hour] / speed, units, lo, hi)
    if x.over_the_day:  # the backlog never clears: every ride is from anywhere
        ride_h = np.full(24, rides.anywhere)
        x = hourly_load(requested, fixed + 2.0 * rides.anywhere / speed, units, lo, hi)
    return x, ride_h


@dataclass(frozen=True, eq=False)
class _Sample:
    """The sampled demand as each role sees it (times in minutes, fixed parts of holds)."""

    instructed: np.ndarray  # advisors are asked at the instruction
    adv_fixed: np.ndarray  # turnout and persuasion
    escalated: np.ndarray  # which instructions the enforcers are asked for, and when
    enf_asked: np.ndarray
    enf_fixed: np.ndarray  # turnout and handling
    enf_turnout: np.ndarray  # an escalated advisor waits for it and the team's ride
    window: tuple[float, float]


def _sample(world: World, days: float) -> tuple[_Sample, np.ndarray]:
    """The demand of ``days`` days (and the warm-up) and the location of each request."""
    sc = world.scenario
    if days != sc.duration.days:
        sample = with_overrides(sc, {"duration.days": days})
        world = replace(world, resolved=replace(world.resolved, scenario=sample))
    sample = world.scenario
    inc = generate_incidents(world, 0)
    drawn = draw_all(standard_chain().draws, DrawContext(sample, inc, 0))
    asked = np.isfinite(inc.instructed)
    instructed = inc.instructed[asked]
    enf_asked = instructed + (drawn["advisor_turnout"] + drawn["persuasion"])[asked]
    if world.roster["advisor"].n:  # after the advisor's own ride, from the nearest post
        ptr, _, dist = world.tables["advisor"].forward
        a, b = ptr[inc.node[asked]], ptr[inc.node[asked] + 1]
        nearest = np.where(b > a, dist[np.minimum(a, max(len(dist) - 1, 0))], 0.0)
        enf_asked = enf_asked + nearest / world.scenario.travel.speed_m_per_min("advisor")
    return (
        _Sample(
            instructed=instructed,
            adv_fixed=(drawn["advisor_turnout"] + drawn["persuasion"])[asked],
            escalated=~drawn["persuaded"].astype(bool)[asked],
            enf_asked=enf_asked,
            enf_fixed=(drawn["enforcer_turnout"] + drawn["handling"])[asked],
            enf_turnout=drawn["enforcer_turnout"][asked],
            window=(sample.warmup_min, sample.horizon_min),
        ),
        inc.node[asked],
    )


def expected_load(world: World, sample_days: float = SAMPLE_DAYS) -> dict[str, HourlyLoad]:
    """The offered load of the advisors and the enforcer teams against their units on
    shift, expected before the run (module docstring); roles without units are left out.

    The enforcers are asked for what the advisors serve: when advisors cannot keep up
    (ratio ρ > 1) only 1/ρ of the escalations reach them, in the run as here.
    """
    sc = world.scenario
    s, node = _sample(world, min(sc.duration.days, sample_days))
    rng = stream(sc.seed, "preflight", 0)
    adv, enf = world.roster["advisor"], world.roster["enforcer"]
    adv_speed, enf_speed = (sc.travel.speed_m_per_min(r) for r in ("advisor", "enforcer"))
    out: dict[str, HourlyLoad] = {}
    if not len(node):
        return out
    adv_rides = Rides.of(world.tables["advisor"], node, rng) if adv.n else None
    esc = s.escalated
    enf_rides = Rides.of(world.tables["enforcer"], node[esc], rng) if enf.n and esc.any() else None
    thin = rng.random(len(node))  # the same draws whatever the thinning

    def enforcers(share: float) -> np.ndarray:
        """Their load, with the share of escalations the advisors serve; their rides."""
        if enf_rides is None:
            return np.zeros(24)
        keep = esc & (thin < share)
        out["enforcer"], ride = _role_load(
            s.enf_asked[keep], s.enf_fixed[keep], enf_rides, enf, enf_speed, s.window
        )
        return ride

    def advisors(enf_ride: np.ndarray) -> float:
        """Their load (an escalated advisor waits for the team's ride); the share served."""
        if adv_rides is None:
            return 1.0
        hour = (s.instructed // 60 % 24).astype(np.int64)
        wait = np.where(esc, s.enf_turnout + enf_ride[hour] / enf_speed, 0.0)
        x, _ = _role_load(s.instructed, s.adv_fixed + wait, adv_rides, adv, adv_speed, s.window)
        out["advisor"] = x
        return 1.0 if x.ratio is None or x.ratio <= 1 else 1.0 / x.ratio

    served = advisors(enforcers(1.0))
    if served < 1.0:  # fewer escalations reach the enforcers, whose rides then shorten
        advisors(enforcers(served))
    return dict(sorted(out.items(), key=lambda kv: kv[0] != "advisor"))


def overload_warnings(world: World, sample_days: float = SAMPLE_DAYS) -> list[str]:
    """A warning for each role whose expected load (:func:`expected_load`) is over capacity
    over the whole day, in the words of the summary's overload notes."""
    out = []
    for role, x in expected_load(world, sample_days).items():
        if x.over_the_day:
            note = load_note(
                role,
                {
                    "offered_load_ratio": x.ratio,
                    "status": x.status(),
                    "queue_growing": None,
                    "hours_over": x.hours_over,
                    "hours_unstaffed": x.hours_unstaffed,
                },
            )
            out.append(f"load: expected before the run: {note}")
    return out
