"""Persistent offenders, whose next offence depends on what happened to the last.

Per category (and per hotspot) a share of incidents comes from a population of offenders
at street nodes (:mod:`sim.engine.population`); the rest stay one-off. The process runs
day by day, ahead of the dispatch engine: each day every active offender decides whether
to offend (Becker 1968: offend while the day's gain exceeds the perceived certainty of a
sanction times its severity), the offence is found, persuaded or escalated, and an escalation on the
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

from sim.engine.campaign import CampaignPlan
from sim.engine.demand import CHANNELS, NOT_FOUND, Incidents, _patrol_delays
from sim.engine.outcomes import Given
from sim.engine.penalties import CasePlan, draw_cases, rung_of
from sim.engine.population import (
    DAY_MIN,
    Nearby,
    Population,
    becker,
    draw_population,
    severity,
    time_of_day,
)
from sim.rng import stream
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.world.build import World

NOMINAL_RESPONSE_MIN = 10.0  # the double-ten target: used to estimate an outcome's time


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
    process = _Process(world, replication, campaign)
    for day in range(process.days):
        process.day(day)
    return process.result()


class _Process:
    """The offender process of one replication: what every offender perceives and has
    received, and the offences so far (:func:`simulate_offenders` runs it day by day)."""

    def __init__(self, world: World, replication: int, campaign: CampaignPlan | None) -> None:
        net, areas, sites = world.net, world.areas, world.sites
        patrol, cameras = world.roster["grid"], world.cameras  # grid members patrol
        sc = self.sc = world.scenario
        e = self.e = sc.enforcement
        self.areas, self.patrol, self.sites, self.cameras = areas, patrol, sites, cameras
        self.campaign = campaign
        pop = self.pop = draw_population(world, replication)
        n = pop.n
        self.horizon = sc.horizon_min
        self.days = math.ceil(self.horizon / DAY_MIN)
        self.rs = _Streams(sc, replication)
        self.sev = severity(sc)
        self.n_rungs = len(e.rungs)
        self.case_rung = np.array([r.case for r in e.rungs])
        self.quit_p = np.array([r.quit for r in e.rungs])
        self.near = Nearby(net, pop.node)
        self.fade = 0.5 ** (1.0 / e.deterrence.forget_days)
        categories = sc.demand.categories.values()
        self.success = np.array([c.success for c in categories])
        self.on_scene_mean = np.array(
            [c.persuasion.mean_value + c.handling.mean_value for c in categories]
        )
        # a patrol finds the offence eventually where its grid has anyone on some shift
        patrolled = np.bincount(patrol.grid, minlength=len(areas.grid_names)) > 0
        self.findable = (
            patrolled[areas.node_grid[pop.node]] if sc.discovery.patrol.enabled else False
        ) | cameras[pop.node]
        self.on_site, self.enter_day = np.zeros(n, dtype=bool), pop.enter_day
        if campaign is not None:
            self.on_site = np.isin(pop.hotspot, campaign.sites)
            if campaign.enabled:
                # nobody new sets up where the joint team stands every evening: newcomers
                # due there during the campaign come after it (an assumption; docs/model.md)
                due = (
                    self.on_site
                    & (self.enter_day > campaign.first_day)
                    & (self.enter_day < campaign.end_day)
                )
                self.enter_day = np.where(due, float(campaign.end_day), self.enter_day)
        # what each offender perceives and has received, and when they left (inf: active)
        self.certainty = np.full(n, e.deterrence.prior_certainty)
        self.steps = np.zeros(n, dtype=np.int64)
        self.gone = np.full(n, np.inf)
        self.rulings: dict[int, list[int]] = defaultdict(list)  # day -> enforced by the court
        self.out: dict[str, list[np.ndarray]] = defaultdict(list)
        self.plans: list[CasePlan] = []
        self.count = 0

    # ---------------------------------------------------------------- one day

    def day(self, day: int) -> None:
        """One day: court enforcements, then each active offender decides, then the
        offences' outcomes, the campaign's presence, departures and fading memories."""
        pop, e, gone = self.pop, self.e, self.gone
        self._court(day)
        # one block of draws per offender entered so far (a prefix, see draw_population)
        entered = int(np.searchsorted(pop.enter_day, day, side="right"))
        u = np.ones((8, pop.n))
        u[:, :entered] = self.rs.behaviour.random((8, entered))
        active = (self.enter_day <= day) & (gone > day)
        rung_next = rung_of(self.steps, pop.first_rung, self.n_rungs)
        p = pop.p_base * becker(self.sc, self.certainty, self.sev[rung_next], pop.gain)
        cand = np.flatnonzero(active & (u[_OFFEND] < p))
        t_c = day * DAY_MIN + time_of_day(self.sc, self.sites, pop.hotspot[cand], u[_TIME, cand])
        who, t = cand[t_c < self.horizon], t_c[t_c < self.horizon]
        campaign = self.campaign
        campaign_on = campaign is not None and campaign.on(day)
        if len(who):
            self._offences(day, who, t, u, rung_next[who], campaign_on)
        if campaign is not None and campaign_on:
            seen = self.on_site & active
            self.certainty[seen] += campaign.presence_weight * (1.0 - self.certainty[seen])
        leave = active & (u[_LEAVE] < e.offenders.turnover_per_day)
        gone[leave] = np.minimum(gone[leave], day + 1)
        prior = e.deterrence.prior_certainty
        self.certainty = prior + (self.certainty - prior) * self.fade

    def _court(self, day: int) -> None:
        """Court enforcements that happen today clear their street (the Gangdu example)."""
        court, gone = self.e.court, self.gone
        for j in self.rulings.pop(day, []):
            gone[j] = min(gone[j], day)
            seen = np.flatnonzero(self.near.around(np.array([j]), court.radius_m) > 0)
            quits = seen[self.rs.court.random(len(seen)) < court.quit]
            gone[quits] = np.minimum(gone[quits], day)
            self.certainty[seen] = 1.0

    def _offences(
        self,
        day: int,
        who: np.ndarray,
        t: np.ndarray,
        u: np.ndarray,
        rung_next: np.ndarray,
        campaign_on: bool,
    ) -> None:
        """Today's offences: found, persuaded or sanctioned, and what the offenders learn."""
        e, det, m = self.e, self.e.deterrence, len(who)
        cat = self.pop.category[who].astype(np.int64)
        citizen = u[_CITIZEN, who] < self.sc.discovery.citizen.probability
        found = self.findable[who] | citizen
        persuaded = u[_PERSUADE, who] < self.success[cat]
        joint = self.on_site[who] if campaign_on else np.zeros(m, dtype=bool)
        # the joint team on site finds every offence at once and enforces by law
        found |= joint
        persuaded &= ~joint
        escalated = found & ~persuaded
        tracked = escalated & ((u[_TRACK, who] < e.cases.track) | joint)
        rung = np.where(tracked, rung_next, -1)
        police = tracked & (u[_RESIST, who] < e.cases.resistance)
        # own experience: was this offence sanctioned?
        self.certainty[who] += det.own_weight * (tracked - self.certainty[who])
        sanctioned = who[tracked]
        self.steps[sanctioned] += 1
        quits = sanctioned[u[_QUIT, sanctioned] < self.quit_p[rung[tracked]]]
        self.gone[quits] = np.minimum(self.gone[quits], day + 1)
        # fines seen nearby raise everyone's perceived certainty around them
        fined = who[tracked & (rung > 0)]
        if len(fined) and det.neighbour_weight > 0:
            seen_k = self.near.around(fined, det.radius_m)
            self.certainty = 1.0 - (1.0 - self.certainty) * (1.0 - det.neighbour_weight) ** seen_k
        # cases: their pipeline, and court enforcements that will clear the street
        has_case = tracked & self.case_rung[np.maximum(rung, 0)]
        if has_case.any():
            self._cases(np.flatnonzero(has_case), who, t, rung, cat)
        for key, arr in (
            ("occurred", t), ("offender", who), ("found", found), ("citizen", citizen),
            ("joint", joint), ("persuaded", persuaded), ("rung", rung), ("police", police),
        ):  # fmt: skip
            self.out[key].append(arr)
        self.count += m

    def _cases(
        self, local: np.ndarray, who: np.ndarray, t: np.ndarray, rung: np.ndarray, cat: np.ndarray
    ) -> None:
        """The cases filed today and the court enforcements they will lead to."""
        plan = draw_cases(self.rs.cases, self.e, self.count + local, who[local], rung[local])
        self.plans.append(plan)
        close = t[local] + 2 * NOMINAL_RESPONSE_MIN + self.on_scene_mean[cat[local]]
        ruled_at = close[plan.ruled] + plan.ruling_after[plan.ruled]
        for j, at in zip(plan.offender[plan.ruled], ruled_at, strict=True):
            self.rulings[int(at // DAY_MIN) + 1].append(int(j))

    # ---------------------------------------------------------------- the run

    def col(self, key: str, dtype: type) -> np.ndarray:
        out = self.out[key]
        return np.concatenate(out).astype(dtype) if out else np.zeros(0, dtype=dtype)

    def _discovery(
        self, occurred: np.ndarray, node: np.ndarray, found: np.ndarray, joint: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """How each offence came to light, drawn for all at once: (channel, reported,
        instructed); unfound ones are never reported."""
        sc, rs, disc, k = self.sc, self.rs, self.sc.discovery, len(occurred)
        delays = np.full((len(CHANNELS), k), np.inf)
        if disc.patrol.enabled:
            delays[0] = _patrol_delays(
                rs.patrol, occurred, self.areas.node_grid[node], self.areas, self.patrol,
                sc.travel.speed_m_per_min("grid"),
            )  # fmt: skip
        citizen = self.col("citizen", bool)
        delays[1] = np.where(citizen, disc.citizen.delay.sample(rs.citizen, k), np.inf)
        delays[2] = np.where(self.cameras[node], disc.camera.delay.sample(rs.camera, k), np.inf)
        delays[:, joint] = np.inf
        delays[0, joint] = 0.0
        delays[:, ~found] = np.inf
        processing = np.where(joint, 0.0, disc.processing.sample(rs.processing, k))
        first = delays.argmin(axis=0)
        reported = occurred + delays[first, np.arange(k)]
        channel = np.where(found, first, NOT_FOUND).astype(np.int8)
        return (
            channel,
            np.where(found, reported, np.inf),
            np.where(found, reported + processing, np.inf),
        )

    def _on_scene(self, cat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(persuasion, handling) minutes of each offence, drawn per category at once."""
        cats = list(self.sc.demand.categories)
        persuasion, handling = np.zeros(len(cat)), np.zeros(len(cat))
        for c in np.unique(cat):
            idx = np.flatnonzero(cat == c)
            spec = self.sc.demand.categories[cats[c]]
            g = self.rs.durations[cats[c]]
            persuasion[idx] = spec.persuasion.sample(g, len(idx))
            handling[idx] = spec.handling.sample(g, len(idx))
        return persuasion, handling

    def _shares(self) -> tuple[np.ndarray, np.ndarray]:
        """Share of each category's and hotspot's one-off draws given to offenders."""
        o, cats = self.e.offenders, list(self.sc.demand.categories)
        cat_share = np.zeros(len(cats))
        for name, grp in o.categories.items():
            cat_share[cats.index(name)] = grp.share
        spot_share = np.array(
            [o.hotspots[s.name].share if s.name in o.hotspots else 0.0 for s in self.sites]
        )
        return cat_share, spot_share

    def result(self) -> OffenderRun:
        """The offender incidents with their discovery and on-scene times, and the fates."""
        occurred, offender = self.col("occurred", float), self.col("offender", np.int64)
        found, joint = self.col("found", bool), self.col("joint", bool)
        police = self.col("police", bool)
        channel, reported, instructed = self._discovery(
            occurred, self.pop.node[offender], found, joint
        )
        persuasion, handling = self._on_scene(self.pop.category[offender].astype(np.int64))
        turn, k = self.sc.dispatch, len(occurred)
        cat_share, spot_share = self._shares()
        return OffenderRun(
            population=replace(self.pop, enter_day=self.enter_day),
            occurred=occurred,
            offender=offender,
            reported=reported,
            channel=channel,
            instructed=instructed,
            persuasion=persuasion,
            persuaded=self.col("persuaded", bool),
            handling=handling,
            advisor_turnout=turn.advisor_turnout.sample(self.rs.turnout, k),
            enforcer_turnout=turn.enforcer_turnout.sample(self.rs.turnout, k),
            rung=self.col("rung", np.int64),
            police=police,
            joint=joint,
            cases=CasePlan.concat(self.plans),
            gone_day=self.gone,
            steps=self.steps,
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
