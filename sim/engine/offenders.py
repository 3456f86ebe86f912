"""Persistent offenders, whose next offence depends on what happened to the last.

Per category (and per hotspot) a share of incidents comes from a population of offenders
at street nodes; the rest stay one-off. The process runs day by day, ahead of the
dispatch engine: each day every active offender decides whether to offend (Becker 1968:
offend while the day's gain exceeds the perceived certainty of a sanction times its
severity), the offence is found, persuaded or escalated, and an escalation on the
penalty track climbs the offender's ladder (``sim.engine.penalties``). The outcome then updates
what the offender perceives: from their own experience, from the fines they see nearby
and from court enforcements around them (Sah 1991), and perceptions fade back to the
prior. An offender may give up the street after a fine (退路进店), after a court
enforcement nearby, or for reasons of their own (turnover, replaced by newcomers).

Because a day's outcomes decide the next day's offences, offender incidents cannot be
drawn all at once like the background. The outcome time used here is an estimate (the
instruction plus typical response, persuasion and handling); the case pipeline's real
times are re-based on the engine's close times afterwards (``sim.analysis.enforcement``).

Randomness: the population and each day's behaviour come from named streams in blocks of
one draw per offender, so an offender sees the same numbers whatever the others do
(common random numbers between enforcement variants); a day's discovery and on-scene
durations come from their own ``offenders/...`` streams.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from sim.engine.campaign import CampaignPlan
from sim.engine.demand import CHANNELS, NOT_FOUND, Incidents, _patrol_delays
from sim.engine.outcomes import Given
from sim.engine.penalties import CasePlan, draw_cases, rung_of
from sim.rng import stream
from sim.scenario import Scenario
from sim.world.hotspots import HotspotSite
from sim.world.network import StreetNetwork

if TYPE_CHECKING:
    from sim.world.build import World

DAY_MIN = 1440.0
NOMINAL_RESPONSE_MIN = 10.0  # the double-ten target: used to estimate an outcome's time
BACKGROUND = -1


@dataclass(frozen=True, eq=False)
class Population:
    """Every offender who appears in one replication (newcomers included)."""

    node: np.ndarray
    category: np.ndarray
    hotspot: np.ndarray  # index of the resolved hotspot, -1 for a street offender
    p_base: np.ndarray  # daily offence chance when undeterred
    gain: np.ndarray  # yuan per offence
    first_rung: np.ndarray
    enter_day: np.ndarray

    @property
    def n(self) -> int:
        return len(self.node)


@dataclass(frozen=True, eq=False)
class OffenderRun:
    """The offender incidents of one replication, their cases, and the offenders' fates."""

    population: Population
    # one entry per offender incident, in the order they were generated
    occurred: np.ndarray
    offender: np.ndarray
    reported: np.ndarray
    channel: np.ndarray
    instructed: np.ndarray
    persuasion: np.ndarray
    persuaded: np.ndarray
    handling: np.ndarray
    advisor_turnout: np.ndarray
    enforcer_turnout: np.ndarray
    rung: np.ndarray  # rung of the sanction, -1 for none
    police: np.ndarray  # violent resistance: police support on scene (sim.engine.enforcement)
    joint: np.ndarray  # found by the campaign's joint team on site: no persuasion round
    cases: CasePlan
    gone_day: np.ndarray  # per offender: the day they left (inf: still active)
    steps: np.ndarray  # per offender: sanctions received
    # background thinning: share of each category's / hotspot's one-off draws given to offenders
    category_share: np.ndarray
    hotspot_share: np.ndarray

    @property
    def n(self) -> int:
        return len(self.occurred)

    def active_at(self, day: float) -> np.ndarray:
        """Which offenders are on the street on ``day``."""
        p = self.population
        mask: np.ndarray = (p.enter_day <= day) & (self.gone_day > day)
        return mask


def _becker(
    scenario: Scenario, certainty: np.ndarray, severity: np.ndarray, gain: np.ndarray
) -> np.ndarray:
    """Share of days the gain exceeds the expected penalty (log-logistic daily gains)."""
    k = scenario.enforcement.deterrence.shape
    ratio = certainty * severity / gain
    out: np.ndarray = 1.0 / (1.0 + ratio**k)
    return out


def _severity(scenario: Scenario) -> np.ndarray:
    """Perceived cost of each rung: its mean fine and the hassle of any sanction."""
    e = scenario.enforcement
    return np.array([r.fine_mean + e.deterrence.hassle_yuan for r in e.rungs])


def _groups(
    scenario: Scenario, sites: list[HotspotSite], per_day: float
) -> list[tuple[int, int, float, float, int]]:
    """(category or -1, hotspot or -1, share, incidents per day, first rung) per group;
    ``per_day`` is the background count a day on the map."""
    e = scenario.enforcement.offenders
    d = scenario.demand
    cats = list(d.categories)
    out = []
    for name, g in e.categories.items():
        rate = per_day * d.categories[name].share
        out.append((cats.index(name), BACKGROUND, g.share, rate, g.first_rung))
    for k, site in enumerate(sites):
        g2 = e.hotspots.get(site.name)
        if g2 is not None:
            out.append((BACKGROUND, k, g2.share, site.per_day, g2.first_rung))
    return out


def draw_population(world: World, replication: int) -> Population:
    """Offenders at the start, sized so they cause their share of incidents, and newcomers."""
    scenario, net, sites = world.scenario, world.net, world.sites
    e = scenario.enforcement
    o = e.offenders
    rng = stream(scenario.seed, "offenders/population", replication)
    days = math.ceil(scenario.horizon_min / DAY_MIN)
    sev = _severity(scenario)
    prior = e.deterrence.prior_certainty
    cats = list(scenario.demand.categories)
    parts: list[tuple[np.ndarray, ...]] = []
    for cat, spot, share, per_day, first in _groups(
        scenario, sites, world.volume.incidents_per_day
    ):
        site = sites[spot] if spot >= 0 else None
        p_mean = (
            o.hotspots[site.name].daily_p if site is not None else o.categories[cats[cat]].daily_p
        )
        # the initial offence chance already includes the prior's deterrence
        undeterred = _becker(
            scenario, np.array([prior]), np.array([sev[first]]), np.array([e.deterrence.gain_yuan])
        )[0]
        n0 = round(share * per_day / (p_mean * undeterred))
        n_new = int(rng.poisson(o.turnover_per_day * n0 * max(days - 1, 0)))
        n = n0 + n_new
        if n == 0:
            continue
        if site is None:
            node = rng.choice(net.n, size=n, p=net.location_p())
            category = np.full(n, cat)
        else:
            node = rng.choice(site.nodes, size=n, p=site.weights)
            category = rng.choice(len(cats), size=n, p=site.category_p)
        if o.spread > 0:
            shape = 1.0 / o.spread**2
            p_base = np.minimum(p_mean * rng.gamma(shape, 1.0 / shape, n), 1.0)
        else:
            p_base = np.full(n, p_mean)
        d = e.deterrence
        if d.gain_sd > 0:
            s2 = math.log1p((d.gain_sd / d.gain_yuan) ** 2)
            gain = rng.lognormal(math.log(d.gain_yuan) - s2 / 2, math.sqrt(s2), n)
        else:
            gain = np.full(n, d.gain_yuan)
        enter = np.zeros(n)
        enter[n0:] = rng.integers(1, max(days, 2), n_new)
        parts.append((node, category, np.full(n, spot), p_base, gain, np.full(n, first), enter))
    if not parts:
        return Population(
            *(
                np.zeros(0, dtype=t)
                for t in (np.int64, np.int16, np.int16, float, float, np.int64, float)
            )
        )
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    total = len(cols[0])
    if total > o.max_offenders:
        raise ValueError(
            f"{total:,} offenders exceed enforcement.offenders.max_offenders ({o.max_offenders:,})"
        )
    # by entry day: the offenders on the street so far are always a prefix of the arrays
    order = np.argsort(cols[6], kind="stable")
    cols = [c[order] for c in cols]
    return Population(
        node=cols[0].astype(np.int64),
        category=cols[1].astype(np.int16),
        hotspot=cols[2].astype(np.int16),
        p_base=cols[3],
        gain=cols[4],
        first_rung=cols[5].astype(np.int64),
        enter_day=cols[6],
    )


class _Nearby:
    """Who stands within a radius of whom, asked only when a fine or a ruling is seen."""

    def __init__(self, net: StreetNetwork, node: np.ndarray) -> None:
        self.n = len(node)
        self.pts = np.column_stack([net.x[node], net.y[node]]) if self.n else np.zeros((0, 2))
        self.tree = cKDTree(self.pts) if self.n else None

    def around(self, who: np.ndarray, radius: float) -> np.ndarray:
        """Per offender, how many of ``who`` stand within ``radius`` (oneself excluded)."""
        counts = np.zeros(self.n)
        if self.tree is None or radius <= 0 or len(who) == 0:
            return counts
        hits = self.tree.query_ball_point(self.pts[who], radius)
        flat = np.fromiter((j for h in hits for j in h), dtype=np.int64)
        counts += np.bincount(flat, minlength=self.n)
        counts[who] -= 1.0
        return counts


def _time_of_day(
    scenario: Scenario, sites: list[HotspotSite], spot: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Minute of the day of an offence: by the hourly profile, or within the hotspot's hours."""
    prof = np.asarray(scenario.demand.hourly_profile, dtype=float)
    cdf = np.cumsum(prof / prof.sum())
    h = np.minimum(np.searchsorted(cdf, u, side="right"), 23)
    lo = np.where(h > 0, cdf[h - 1], 0.0)
    width = np.maximum(cdf[h] - lo, 1e-12)
    tod: np.ndarray = (h + np.clip((u - lo) / width, 0.0, 1.0)) * 60.0
    for k, site in enumerate(sites):
        m = spot == k
        if m.any():
            start, end = site.window
            tod[m] = start + u[m] * ((end - start) % DAY_MIN or DAY_MIN)
    return tod


class _Streams:
    """The named generators of the offender process for one replication."""

    def __init__(self, scenario: Scenario, replication: int) -> None:
        seed = scenario.seed
        self.behaviour = stream(seed, "offenders/behaviour", replication)
        self.patrol = stream(seed, "offenders/patrol", replication)
        self.citizen = stream(seed, "offenders/citizen", replication)
        self.camera = stream(seed, "offenders/camera", replication)
        self.processing = stream(seed, "offenders/processing", replication)
        self.turnout = stream(seed, "offenders/turnout", replication)
        self.cases = stream(seed, "cases", replication)
        self.court = stream(seed, "court", replication)
        self.durations = {
            name: stream(seed, f"offenders/durations/{name}", replication)
            for name in scenario.demand.categories
        }


# rows of the daily block of draws, one number per offender each
_OFFEND, _TIME, _TRACK, _QUIT, _LEAVE, _RESIST, _CITIZEN, _PERSUADE = range(8)


def simulate_offenders(
    world: World, replication: int, campaign: CampaignPlan | None = None
) -> OffenderRun:
    """Run the offender process over the horizon, one day at a time.

    Inside the loop only what decides an outcome is drawn (whether the offence is found
    at all, persuaded, put on the penalty track); how long discovery and the work on
    scene take is drawn afterwards for all offender incidents at once.
    """
    sc, net, areas = world.scenario, world.net, world.areas
    patrol, sites, cameras = world.roster["grid"], world.sites, world.cameras
    e = sc.enforcement
    det = e.deterrence
    pop = draw_population(world, replication)
    n = pop.n
    horizon = sc.horizon_min
    days = math.ceil(horizon / DAY_MIN)
    rs = _Streams(sc, replication)
    sev = _severity(sc)
    n_rungs = len(e.rungs)
    case_rung = np.array([r.case for r in e.rungs])
    quit_p = np.array([r.quit for r in e.rungs])
    near = _Nearby(net, pop.node)
    certainty = np.full(n, det.prior_certainty)
    steps = np.zeros(n, dtype=np.int64)
    gone = np.full(n, np.inf)
    fade = 0.5 ** (1.0 / det.forget_days)
    cats = list(sc.demand.categories)
    success = np.array([c.success for c in sc.demand.categories.values()])
    on_scene_mean = np.array(
        [c.persuasion.mean_value + c.handling.mean_value for c in sc.demand.categories.values()]
    )
    disc = sc.discovery
    # a patrol finds the offence eventually where its grid has anyone on some shift
    patrolled = np.bincount(patrol.grid, minlength=len(areas.grid_names)) > 0
    findable = (patrolled[areas.node_grid[pop.node]] if disc.patrol.enabled else False) | cameras[
        pop.node
    ]
    on_site = np.zeros(n, dtype=bool)
    enter_day = pop.enter_day
    if campaign is not None:
        on_site = np.isin(pop.hotspot, campaign.sites)
        if campaign.enabled:
            # nobody new sets up where the joint team stands every evening: newcomers due
            # there during the campaign come after it (an assumption; see docs/model.md)
            due = on_site & (enter_day > campaign.first_day) & (enter_day < campaign.end_day)
            enter_day = np.where(due, float(campaign.end_day), enter_day)
    rulings: dict[int, list[int]] = defaultdict(list)  # day -> offenders enforced by the court
    out: dict[str, list[np.ndarray]] = defaultdict(list)
    plans: list[CasePlan] = []
    count = 0
    for day in range(days):
        # court enforcements that happen today clear their street (the Gangdu example)
        for j in rulings.pop(day, []):
            gone[j] = min(gone[j], day)
            seen = np.flatnonzero(near.around(np.array([j]), e.court.radius_m) > 0)
            quits = seen[rs.court.random(len(seen)) < e.court.quit]
            gone[quits] = np.minimum(gone[quits], day)
            certainty[seen] = 1.0
        # one block of draws per offender entered so far (a prefix, see draw_population)
        entered = int(np.searchsorted(pop.enter_day, day, side="right"))
        u = np.ones((8, n))
        u[:, :entered] = rs.behaviour.random((8, entered))
        active = (enter_day <= day) & (gone > day)
        rung_next = rung_of(steps, pop.first_rung, n_rungs)
        p = pop.p_base * _becker(sc, certainty, sev[rung_next], pop.gain)
        cand = np.flatnonzero(active & (u[_OFFEND] < p))
        t_c = day * DAY_MIN + _time_of_day(sc, sites, pop.hotspot[cand], u[_TIME, cand])
        who = cand[t_c < horizon]
        t = t_c[t_c < horizon]
        m = len(who)
        campaign_on = campaign is not None and campaign.on(day)
        if m:
            cat = pop.category[who].astype(np.int64)
            citizen = u[_CITIZEN, who] < disc.citizen.probability
            found = findable[who] | citizen
            persuaded = u[_PERSUADE, who] < success[cat]
            joint = on_site[who] if campaign_on else np.zeros(m, dtype=bool)
            # the joint team on site finds every offence at once and enforces by law
            found |= joint
            persuaded &= ~joint
            escalated = found & ~persuaded
            tracked = escalated & ((u[_TRACK, who] < e.cases.track) | joint)
            rung = np.where(tracked, rung_next[who], -1)
            police = tracked & (u[_RESIST, who] < e.cases.resistance)
            # own experience: was this offence sanctioned?
            certainty[who] += det.own_weight * (tracked - certainty[who])
            sanctioned = who[tracked]
            steps[sanctioned] += 1
            quits = sanctioned[u[_QUIT, sanctioned] < quit_p[rung[tracked]]]
            gone[quits] = np.minimum(gone[quits], day + 1)
            # fines seen nearby raise everyone's perceived certainty around them
            fined = who[tracked & (rung > 0)]
            if len(fined) and det.neighbour_weight > 0:
                seen_k = near.around(fined, det.radius_m)
                certainty = 1.0 - (1.0 - certainty) * (1.0 - det.neighbour_weight) ** seen_k
            # cases: their pipeline, and court enforcements that will clear the street
            has_case = tracked & case_rung[np.maximum(rung, 0)]
            if has_case.any():
                local = np.flatnonzero(has_case)
                plan = draw_cases(rs.cases, e, count + local, who[local], rung[local])
                plans.append(plan)
                close = t[local] + 2 * NOMINAL_RESPONSE_MIN + on_scene_mean[cat[local]]
                ruled_at = close[plan.ruled] + plan.ruling_after[plan.ruled]
                for j, at in zip(plan.offender[plan.ruled], ruled_at, strict=True):
                    rulings[int(at // DAY_MIN) + 1].append(int(j))
            for key, arr in (
                ("occurred", t),
                ("offender", who),
                ("found", found),
                ("citizen", citizen),
                ("joint", joint),
                ("persuaded", persuaded),
                ("rung", rung),
                ("police", police),
            ):
                out[key].append(arr)
            count += m
        if campaign_on and campaign is not None:
            seen_c = on_site & active
            certainty[seen_c] += campaign.presence_weight * (1.0 - certainty[seen_c])
        leave = active & (u[_LEAVE] < e.offenders.turnover_per_day)
        gone[leave] = np.minimum(gone[leave], day + 1)
        certainty = det.prior_certainty + (certainty - det.prior_certainty) * fade

    def col(key: str, dtype: type) -> np.ndarray:
        return np.concatenate(out[key]).astype(dtype) if out[key] else np.zeros(0, dtype=dtype)

    occurred, offender = col("occurred", float), col("offender", np.int64)
    found, joint = col("found", bool), col("joint", bool)
    police = col("police", bool)
    node = pop.node[offender]
    cat = pop.category[offender].astype(np.int64)
    # how long discovery and the work on scene take, for all offender incidents at once
    k = len(occurred)
    delays = np.full((len(CHANNELS), k), np.inf)
    if disc.patrol.enabled:
        delays[0] = _patrol_delays(
            rs.patrol,
            occurred,
            areas.node_grid[node],
            areas,
            patrol,
            sc.travel.speed_m_per_min("grid"),
        )
    citizen = col("citizen", bool)
    delays[1] = np.where(citizen, disc.citizen.delay.sample(rs.citizen, k), np.inf)
    delays[2] = np.where(cameras[node], disc.camera.delay.sample(rs.camera, k), np.inf)
    delays[:, joint] = np.inf
    delays[0, joint] = 0.0
    delays[:, ~found] = np.inf
    processing = np.where(joint, 0.0, disc.processing.sample(rs.processing, k))
    first = delays.argmin(axis=0)
    best = delays[first, np.arange(k)]
    channel = np.where(found, first, NOT_FOUND).astype(np.int8)
    reported = occurred + best
    persuasion = np.zeros(k)
    handling = np.zeros(k)
    for c in np.unique(cat):
        idx = np.flatnonzero(cat == c)
        spec = sc.demand.categories[cats[c]]
        g = rs.durations[cats[c]]
        persuasion[idx] = spec.persuasion.sample(g, len(idx))
        handling[idx] = spec.handling.sample(g, len(idx))
    turn = sc.dispatch
    cat_share = np.zeros(len(cats))
    for name, grp in e.offenders.categories.items():
        cat_share[cats.index(name)] = grp.share
    spot_share = np.array(
        [
            e.offenders.hotspots[s.name].share if s.name in e.offenders.hotspots else 0.0
            for s in sites
        ]
    )
    return OffenderRun(
        population=replace(pop, enter_day=enter_day),
        occurred=occurred,
        offender=offender,
        reported=np.where(found, reported, np.inf),
        channel=channel,
        instructed=np.where(found, reported + processing, np.inf),
        persuasion=persuasion,
        persuaded=col("persuaded", bool),
        handling=handling,
        advisor_turnout=turn.advisor_turnout.sample(rs.turnout, k),
        enforcer_turnout=turn.enforcer_turnout.sample(rs.turnout, k),
        rung=col("rung", np.int64),
        police=police,
        joint=joint,
        cases=CasePlan.concat(plans),
        gone_day=gone,
        steps=steps,
        category_share=cat_share,
        hotspot_share=spot_share,
    )


def merge(
    inc: Incidents, run: OffenderRun, scenario: Scenario, replication: int
) -> tuple[Incidents, Given]:
    """The background with the offenders' share thinned out, plus the offender incidents.

    Returns the merged incidents (sorted by occurrence) and the chain's draws the
    offender process has decided for its incidents, with the rows of both parts in the
    merged incidents. Thinning draws one number per background incident from its own
    stream, so the background that stays is the same draw as without offenders, and so
    are its on-scene draws (:func:`sim.engine.outcomes.draw_all`).
    """
    u = stream(scenario.seed, "offenders/thinning", replication).random(inc.n)
    share = np.where(
        inc.hotspot >= 0,
        run.hotspot_share[np.maximum(inc.hotspot, 0)] if len(run.hotspot_share) else 0.0,
        run.category_share[inc.category],
    )
    keep = u >= share
    pop = run.population
    k = run.n
    parts = {
        "occurred": (inc.occurred[keep], run.occurred),
        "node": (inc.node[keep], pop.node[run.offender]),
        "category": (inc.category[keep], pop.category[run.offender]),
        "hotspot": (inc.hotspot[keep], pop.hotspot[run.offender]),
        "reported": (inc.reported[keep], run.reported),
        "channel": (inc.channel[keep], run.channel),
        "instructed": (inc.instructed[keep], run.instructed),
        "offender": (inc.offender[keep], run.offender),
    }
    # both parts are sorted by occurrence: interleave them without a full sort
    by_time = np.argsort(run.occurred, kind="stable")
    bg_t = parts["occurred"][0]
    pos = np.searchsorted(bg_t, run.occurred[by_time], side="right") + np.arange(k)
    total = len(bg_t) + k
    is_off = np.zeros(total, dtype=bool)
    is_off[pos] = True
    merged = {}
    for key, (a, b) in parts.items():
        col = np.empty(total, dtype=a.dtype)
        col[~is_off] = a
        col[pos] = b[by_time]
        merged[key] = col
    rows = np.empty(k, dtype=np.int64)
    rows[by_time] = pos
    values = {
        "persuasion": run.persuasion,
        "persuaded": run.persuaded,
        "handling": run.handling,
        "advisor_turnout": run.advisor_turnout,
        "enforcer_turnout": run.enforcer_turnout,
        "police": run.police,
        "joint": run.joint,
    }
    given = Given(inc, np.flatnonzero(~is_off), keep, rows, values)
    return Incidents(**merged), given
