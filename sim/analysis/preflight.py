"""Before simulating: can each role keep up with the demand at all?

A run whose demand asks more of a role than its units on shift can give over the whole
day is hopeless: its queue grows without bound, every clock is late, and it is as slow
as it is long. :func:`forecast` estimates, before the run, the offered load the summary
measures afterwards and judges it with the same check (:mod:`sim.analysis.capacity`);
:func:`overload_warnings` words it as the summary does.

The estimate draws :data:`SAMPLE_DAYS` days of the scenario's demand and on-scene draws
(one-off incidents, before any offender is deterred; requests a minute by hour of day
from up to :data:`RATE_DAYS`). Each request holds a unit for its turnout, its work on
scene (an advisor whose case escalates also waits for the enforcers' turnout and ride)
and the ride out and back. How far the ride is depends on whether requests wait, and
this is what makes overload run away:

- in free flow the nearest *free* unit rides: with a share ``q`` of the role's units
  not free, the k-th nearest unit of the travel table is the first free one with
  probability ``q^k (1 - q)`` (units busy independently), so the ride lengthens as the
  last units get busy;
- once requests wait, a unit that comes free rides to the oldest, anywhere: the ride
  of a post to a request at random, several times longer.

So near its margin a role is bistable: free flow keeps up, yet a backlog, once there,
makes the rides that keep it there. The fluid model of :mod:`sim.analysis.fluid`
carries each role's busy units and waiting requests through the day in five-minute
steps, day after day, with those holds and the shifts: the role **cannot keep up** when
its backlog grows day over day, and then every ride is from a backlog. Where the day
settles in free flow but a backlog at some hour would never clear, chance can tip it
there: the number busy is a Poisson count around the fluid's, and a tip is that count
reaching the point past which the rides alone fill every unit. When a tip is more
likely than not within the run (or within :data:`RISK_DAYS`, if the run is longer) the
run is judged by the backlog's load, which is then over capacity; when one is expected
less often but at least once in :data:`RISK_DAYS` days, the role is **at risk**, a
milder warning that names the hours and how often. The enforcers are asked only for
what the advisors serve.

On Jinshui (3-day runs, seed 1; docs/model.md has the table) it gives advisors 0.20 of
capacity at the default demand (0.20 measured), 0.40 at 4,600 a day (0.40), 1.44 at
5,400 (1.33: tipped at the evening peak of the warm-up day, never to clear), 1.57
at 6,000 (1.47) and 2.16 at 8,100 (1.98); ``benchmarks/city_x10.yaml`` with 200 offices
and 100,000 incidents a day gives 5.5 (5.0). The chance of a tip is an order of
magnitude, not more: it hangs on how far the free-flow load sits below the point of no
return, in Poisson standard deviations, and a few per cent more requests at one hour
move it tenfold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.analysis.capacity import HourlyLoad, hourly_load
from sim.analysis.duty import DAY, duty_steps, window_minutes_before
from sim.analysis.fluid import PER_HOUR, Q_GRID, STEP, STEPS, Backlog, Flow, carry_backlog
from sim.analysis.metrics import ROLE_PLURAL, load_note
from sim.engine.chain import standard_chain
from sim.engine.demand import generate_incidents
from sim.engine.outcomes import DrawContext, draw_all
from sim.rng import stream
from sim.scenario import with_overrides
from sim.scenario.base import hour_ranges
from sim.world.staff import Units

if TYPE_CHECKING:
    from sim.world.build import World
    from sim.world.travel import TravelTable

SAMPLE_DAYS = 2.0  # days of demand the load is estimated over (after the warm-up)
RATE_DAYS = 7.0  # days of demand requests a minute are counted over (after the warm-up)
RATE_REQUESTS = 50_000  # … but no more incidents than this
NODE_SAMPLE = 1024  # request locations the rides are averaged over
POST_SAMPLE = 8  # posts searched for the ride to a request anywhere
# the longest run the chance of a tip is judged over; a role is at risk when one is
# expected at least once in so many days
RISK_DAYS = 30.0


@dataclass(frozen=True, eq=False)
class Rides:
    """How far (m) a unit of one role rides to a request: from the nearest free unit, for
    each share ``q`` of the role's units not free, and from a post to a request anywhere."""

    nearest_free: np.ndarray  # one mean per value of Q_GRID
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
        within = (Q_GRID[:, None] ** rank[None, :] * kth[None, :]).sum(axis=1) * (1.0 - Q_GRID)
        curve = within + (Q_GRID[None, :] ** count[:, None]).mean(axis=0) * anywhere
        return cls(curve, anywhere)


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


@dataclass(frozen=True, eq=False)
class _Role:
    """A role's units, how far they ride, and how fast."""

    units: Units
    rides: Rides
    speed: float  # m/min

    def ride(self, busy: np.ndarray, on: np.ndarray) -> np.ndarray:
        """The ride (m) from the nearest free unit with ``busy`` of ``on`` units on shift
        busy: the role's units not free are the busy ones and those off shift."""
        q = 1.0 - (on - busy) / max(self.units.n, 1)
        out: np.ndarray = np.interp(q, Q_GRID, self.rides.nearest_free)
        return out


@dataclass(frozen=True, eq=False)
class RoleForecast:
    """One role's expected load (module docstring).

    ``backlog`` is the fluid model's day; ``tips_per_day`` the expected tips a day from
    free flow into a queue that never clears; ``tipped`` whether the run is expected to
    end up there (the backlog grows, or a tip is more likely than not within the run).
    ``load`` is the offered load of the day the run is expected to live: each request
    holding a unit as long as the moment it comes in has it (every ride from a backlog
    when ``tipped``); ``ride_h`` the mean ride (m) of the requests of each hour.
    """

    load: HourlyLoad
    backlog: Backlog
    ride_h: np.ndarray
    tips: np.ndarray  # expected tips in each step of the day (Backlog.tips)
    tipped: bool

    @property
    def tips_per_day(self) -> float:
        return float(self.tips.sum())

    def tip_hours(self) -> list[int]:
        """The hours of day tips start in: those with at least a tenth of the most."""
        by_hour = self.tips.reshape(24, PER_HOUR).sum(axis=1)
        top = float(by_hour.max())
        return [int(h) for h in np.flatnonzero((by_hour > 0) & (by_hour >= top / 10))]


def _role_load(role: _Role, requested: np.ndarray, fixed: np.ndarray, s: _Sample) -> RoleForecast:
    """One role's expected load (module docstring): requests at ``requested`` holding a
    unit ``fixed`` minutes besides the rides."""
    lo, hi = s.window
    inside = (requested >= lo) & (requested < s.rates_until)
    per_min, mean_fixed = _by_hour(requested[inside], fixed[inside], lo, s.rates_until)
    cap, kept = duty_steps(role.units, lo, hi, STEP)
    anywhere, speed = role.rides.anywhere, role.speed

    free_hold = mean_fixed[:, None] + 2.0 * role.rides.nearest_free[None, :] / speed
    slow = mean_fixed + 2.0 * anywhere / speed
    backlog = carry_backlog(Flow(per_min, slow, free_hold, cap, kept, role.units.n))
    tips = backlog.tips()
    # more likely than not within the run (or a month of such days, if longer)
    tipped = backlog.grows or float(tips.sum()) * min(s.run_days, RISK_DAYS) >= math.log(2.0)
    share = np.ones(STEPS) if tipped else backlog.share
    # each step's ride: from anywhere while requests wait, else from the nearest free unit
    ride = share * anywhere + (1.0 - share) * role.ride(backlog.busy, cap)
    early = requested < hi
    requested, fixed = requested[early], fixed[early]
    step = (requested % DAY // STEP).astype(np.int64)
    load = hourly_load(requested, fixed + 2.0 * ride[step] / speed, role.units, lo, hi)
    ride_h = ride.reshape(24, PER_HOUR).mean(axis=1)
    return RoleForecast(load, backlog, ride_h, tips, tipped)


@dataclass(frozen=True, eq=False)
class _Sample:
    """The sampled demand as each role sees it (times in minutes, fixed parts of holds)."""

    instructed: np.ndarray  # advisors are asked at the instruction
    adv_fixed: np.ndarray  # turnout and persuasion
    escalated: np.ndarray  # which instructions the enforcers are asked for, and when
    enf_asked: np.ndarray
    enf_fixed: np.ndarray  # turnout and handling
    enf_turnout: np.ndarray  # an escalated advisor waits for it and the team's ride
    window: tuple[float, float]  # the load is measured over these minutes
    rates_until: float  # requests a minute and fixed holds are from [window[0], this)
    run_days: float  # days the run simulates (warm-up included): the time a surge has


def _sample(world: World, days: float) -> tuple[_Sample, np.ndarray]:
    """The demand of ``days`` days (and the warm-up) and the location of each request;
    up to :data:`RATE_DAYS` days (at most :data:`RATE_REQUESTS` incidents) for the rates."""
    sc = world.scenario
    per_day = max(world.volume.incidents_per_day, 1.0)
    rate_days = min(sc.duration.days, max(days, min(RATE_DAYS, RATE_REQUESTS / per_day)))
    if rate_days != sc.duration.days:
        sample = with_overrides(sc, {"duration.days": rate_days})
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
            window=(sample.warmup_min, sample.warmup_min + days * DAY),
            rates_until=sample.horizon_min,
            run_days=sc.horizon_min / DAY,
        ),
        inc.node[asked],
    )


def forecast(world: World, sample_days: float = SAMPLE_DAYS) -> dict[str, RoleForecast]:
    """The expected load of the advisors and the enforcer teams against their units on
    shift, before the run (module docstring); roles without units are left out.

    The enforcers are asked for what the advisors serve: when advisors cannot keep up
    (ratio ρ > 1) only 1/ρ of the escalations reach them, in the run as here.
    """
    sc = world.scenario
    s, node = _sample(world, min(sc.duration.days, sample_days))
    rng = stream(sc.seed, "preflight", 0)
    out: dict[str, RoleForecast] = {}
    if not len(node):
        return out
    esc = s.escalated
    speed = {r: sc.travel.speed_m_per_min(r) for r in ("advisor", "enforcer")}
    adv = world.roster["advisor"]
    adv_role = (
        _Role(adv, Rides.of(world.tables["advisor"], node, rng), speed["advisor"])
        if adv.n
        else None
    )
    enf = world.roster["enforcer"]
    enf_role = (
        _Role(enf, Rides.of(world.tables["enforcer"], node[esc], rng), speed["enforcer"])
        if enf.n and esc.any()
        else None
    )
    thin = rng.random(len(node))  # the same draws whatever the thinning

    def enforcers(share: float) -> np.ndarray:
        """Their load, with the share of escalations the advisors serve; their rides."""
        if enf_role is None:
            return np.zeros(24)
        keep = esc & (thin < share)
        out["enforcer"] = _role_load(enf_role, s.enf_asked[keep], s.enf_fixed[keep], s)
        return out["enforcer"].ride_h

    def advisors(enf_ride: np.ndarray) -> float:
        """Their load (an escalated advisor waits for the team's ride); the share served."""
        if adv_role is None:
            return 1.0
        hour = (s.instructed // 60 % 24).astype(np.int64)
        wait = np.where(esc, s.enf_turnout + enf_ride[hour] / speed["enforcer"], 0.0)
        out["advisor"] = _role_load(adv_role, s.instructed, s.adv_fixed + wait, s)
        ratio = out["advisor"].load.ratio
        return 1.0 if ratio is None or ratio <= 1 else 1.0 / ratio

    served = advisors(enforcers(1.0))
    if served < 1.0:  # fewer escalations reach the enforcers, whose rides then shorten
        advisors(enforcers(served))
    return dict(sorted(out.items(), key=lambda kv: kv[0] != "advisor"))


def expected_load(world: World, sample_days: float = SAMPLE_DAYS) -> dict[str, HourlyLoad]:
    """Each role's offered load expected before the run (:func:`forecast`)."""
    return {role: f.load for role, f in forecast(world, sample_days).items()}


def overload_warnings(world: World, sample_days: float = SAMPLE_DAYS) -> list[str]:
    """A warning for each role whose expected load (:func:`forecast`) is over capacity
    over the whole day, in the words of the summary's overload notes, and a milder one
    for a role that keeps up only until a surge tips it into a queue that stays."""
    out = []
    for role, f in forecast(world, sample_days).items():
        x = f.load
        if x.over_the_day:
            note = (
                load_note(
                    role,
                    {
                        "offered_load_ratio": x.ratio,
                        "status": x.status(),
                        "queue_growing": None,
                        "hours_over": x.hours_over,
                        "hours_unstaffed": x.hours_unstaffed,
                    },
                )
                or ""
            )
            if f.tipped and not f.backlog.grows:
                note += (
                    f"; a surge {_when(f)} is expected to tip them out of "
                    f"free flow ({f.backlog.free_ratio or 0:.2f} of capacity) within "
                    f"{_days(1.0 / f.tips_per_day)}"
                )
            out.append(f"load: expected before the run: {note}")
        elif f.tips_per_day * RISK_DAYS >= 1.0:
            out.append(f"load: expected before the run: {at_risk_note(role, f)}")
    return out


def at_risk_note(role: str, f: RoleForecast) -> str:
    """The warning for a role that keeps up in free flow but not once a backlog forms."""
    return (
        f"{ROLE_PLURAL[role]} at risk: a surge {_when(f)} can tip them into "
        f"a queue that does not clear, about once in {_days(1.0 / f.tips_per_day)} at this "
        f"load (offered load {f.load.ratio or 0:.2f} of capacity over the day while units "
        f"ride from nearby, {f.backlog.flow.backlog_ratio or 0:.2f} once a backlog sends them to "
        "requests anywhere)"
    )


def _when(f: RoleForecast) -> str:
    """When tips start: ``"at 07:00"``, ``"at 07:00 or 19:00–21:00"``, or ``"at most
    hours, most of all at 19:00"``."""
    hours = f.tip_hours()
    if len(hours) == 24:
        return "at any hour"
    if len(hours) > 6:
        peak = int(np.argmax(f.tips.reshape(24, PER_HOUR).sum(axis=1)))
        return f"at most hours, most of all at {peak:02d}:00"
    spans = hour_ranges(hours).split(", ")  # "07:00–08:00" is the hour 07:00
    return "at " + " or ".join(
        a if (int(b[:2]) - int(a[:2])) % 24 == 1 else f"{a}–{b}"
        for a, b in (span.split("–") for span in spans)
    )


def _days(days: float) -> str:
    """``0.4`` → ``"a day"``, ``12.3`` → ``"12 days"``."""
    return "a day" if days < 1.5 else f"{days:,.0f} days"
