"""The enforcement chain on a replayed case log: whom each logged incident is against.

A replayed log (``demand.trace``) is the whole demand, repeat offenders' incidents
included, so the offender process of a drawn run (:mod:`sim.engine.offenders`), which
decides when offenders offend, has nothing to decide: every offence is in the log. What
follows an offence still runs here, over the logged incidents in time order:

- **Who.** A log that names its parties (an ``offender`` column: 当事人, 商户, a licence)
  says it exactly, and a blank is a one-off. A log that does not has each incident of an
  offender category or hotspot attributed to an offender of its place (its street node)
  with the chance the scenario's own offender model gives it (:func:`attribution`); a
  place's attributed incidents are dealt among its offenders, each offending at most once
  a day, as in a drawn run.
- **What the offence meets.** Found or not and persuaded or not are the replay's own
  draws (discovery, ``outcome``); an escalation is put on the penalty track with
  ``cases.track`` and sanctioned at the offender's next rung; violent resistance; the
  campaign's joint team on site, which finds at once and skips persuasion; the case
  pipeline (:func:`sim.engine.penalties.draw_cases`).
- **Who gives up.** An attributed offender who quits after a sanction or around a court
  enforcement, or leaves for reasons of their own, is replaced by a newcomer at that place
  for its later logged incidents: deterrence cannot remove a logged incident. A party the
  log names keeps its own record: its later incidents are the log's.

Randomness: one block of numbers per logged incident from ``offenders/trace`` (every
incident has one, attributed or not), the case pipelines from ``cases`` and court
enforcements from ``court``, as in a drawn run. Discovery and the work on scene are the
replay's ordinary draws, so a replay sees the same ones with enforcement on or off (but
for the joint team's incidents).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from sim.engine.attribution import attribution_chances, groups
from sim.engine.campaign import CampaignPlan
from sim.engine.demand import Incidents
from sim.engine.offenders import NOMINAL_RESPONSE_MIN, OffenderRun
from sim.engine.penalties import CasePlan, draw_cases, rung_of
from sim.engine.population import DAY_MIN, Population
from sim.rng import stream

if TYPE_CHECKING:
    from sim.world.build import World

SEEN_DAYS = 7.0  # a replay's offenders "on the street": seen in the log within this many days
# rows of the block of numbers each logged incident has
_ATTRIBUTE, _SLOT, _TURNOVER, _TRACK, _RESIST, _QUIT = range(6)


@dataclass(frozen=True, eq=False)
class ReplayedOffenders(OffenderRun):
    """The offenders of a replayed log. The log shows an offender only when they offend,
    so one counts as on the street on a day when seen in the log within the
    :data:`SEEN_DAYS` from it (the last ones of the run, near its end)."""

    seen_day: np.ndarray  # per offender incident: its day (minutes / 1440)
    horizon_day: float

    def active_at(self, day: float) -> np.ndarray:
        lo = max(min(day, self.horizon_day - SEEN_DAYS), 0.0)
        seen = (self.seen_day >= lo) & (self.seen_day < lo + SEEN_DAYS)
        mask: np.ndarray = np.zeros(self.population.n, dtype=bool)
        mask[self.offender[seen]] = True
        return mask


@dataclass(frozen=True, eq=False)
class Replayed:
    """A replay's incidents and draws with the enforcement chain's decisions in place."""

    incidents: Incidents  # offender ids set; joint-team incidents found at once
    drawn: dict[str, np.ndarray]  # police and joint set; joint incidents not persuaded
    run: ReplayedOffenders
    rows: np.ndarray  # row of each offender incident in ``incidents``


def replay_offenders(
    world: World,
    inc: Incidents,
    drawn: dict[str, np.ndarray],
    replication: int,
    campaign: CampaignPlan | None,
) -> Replayed:
    """The enforcement chain's decisions on one replication of a replayed log.

    ``inc`` are the replay's incidents (the log's, in its order) and ``drawn`` the chain's
    draws for them; both are returned with the decisions in place.
    """
    process = _Replay(world, inc, drawn, replication, campaign)
    for day in range(process.days):
        process.day(day)
    return process.result()


class _Replay:
    """The replay of one replication: offenders' records and places, day by day."""

    def __init__(
        self,
        world: World,
        inc: Incidents,
        drawn: dict[str, np.ndarray],
        replication: int,
        campaign: CampaignPlan | None,
    ) -> None:
        sc, trace = world.scenario, world.trace
        assert trace is not None and trace.n == inc.n
        self.sc, self.e, self.inc, self.drawn = sc, sc.enforcement, inc, drawn
        self.days = math.ceil(sc.horizon_min / DAY_MIN)
        self.u = stream(sc.seed, "offenders/trace", replication).random((6, inc.n))
        self.cases_rng = stream(sc.seed, "cases", replication)
        self.court_rng = stream(sc.seed, "court", replication)
        groups_, member = groups(world)
        self.first = np.array([g.first_rung for g in groups_] + [0])[member]
        self.day_of = np.floor(inc.occurred / DAY_MIN).astype(np.int64)
        self.campaign = campaign
        self.offenders: _Parties | _Places
        if trace.offender is not None:
            self.rows = np.flatnonzero(trace.offender >= 0)
            self.offenders = _Parties(trace.offender, len(trace.parties), self.first)
        else:
            chance = attribution_chances(world, groups_, member)
            self.rows = np.flatnonzero(self.u[_ATTRIBUTE] < chance)
            rates = np.array([g.rate for g in groups_])[member[self.rows]]
            self.offenders = _Places(world, self, member[self.rows], rates)
        self.joint = self._joint()
        self.found = (inc.channel >= 0) | self.joint
        self.persuaded = drawn["persuaded"] & ~self.joint
        self.who = np.full(inc.n, -1, dtype=np.int64)
        self.rung = np.full(inc.n, -1, dtype=np.int64)
        self.police = np.zeros(inc.n, dtype=bool)
        self.steps = np.zeros(len(self.rows) + self.offenders.named, dtype=np.int64)
        self.case_rung = np.array([r.case for r in self.e.rungs])
        self.quit_p = np.array([r.quit for r in self.e.rungs])
        cats = sc.demand.categories.values()
        self.on_scene = np.array([c.persuasion.mean_value + c.handling.mean_value for c in cats])
        self.local = np.full(inc.n, -1, dtype=np.int64)
        self.local[self.rows] = np.arange(len(self.rows))
        cut = np.searchsorted(self.day_of[self.rows], np.arange(1, self.days))
        self.by_day = np.split(self.rows, cut)
        self.rulings: dict[int, list[int]] = defaultdict(list)
        self.plans: list[CasePlan] = []

    def _joint(self) -> np.ndarray:
        """Offences the campaign's joint team meets on site: at its hotspots, on its days."""
        joint = np.zeros(self.inc.n, dtype=bool)
        c, rows = self.campaign, self.rows
        if c is not None and c.sites:
            on = np.array([c.on(d) for d in range(self.days + 1)])
            joint[rows] = on[self.day_of[rows]] & np.isin(self.inc.hotspot[rows], c.sites)
        return joint

    def day(self, day: int) -> None:
        """Court enforcements due today, then today's logged offences in time order."""
        self.offenders.court(day, self.rulings.pop(day, []), self.court_rng)
        today = self.by_day[day]
        if len(today):
            self.who[today] = self.offenders.assign(day, today)
            # an attributed offender offends at most once a day; a party the log names may more
            rank = _rank_within(self.who[today])
            for r in range(int(rank.max()) + 1):
                self._offences(day, today[rank == r])

    def _offences(self, day: int, rows: np.ndarray) -> None:
        """Sanctions of one offence per offender: track, rung, resistance, quits, cases."""
        who = self.who[rows]
        rung_next = rung_of(self.steps[who], self.first[rows], len(self.e.rungs))
        escalated = self.found[rows] & ~self.persuaded[rows]
        tracked = escalated & ((self.u[_TRACK, rows] < self.e.cases.track) | self.joint[rows])
        rung = np.where(tracked, rung_next, -1)
        self.rung[rows] = rung
        self.police[rows] = tracked & (self.u[_RESIST, rows] < self.e.cases.resistance)
        self.steps[who[tracked]] += 1
        quits = tracked & (self.u[_QUIT, rows] < self.quit_p[np.maximum(rung, 0)])
        self.offenders.leave(who[quits], day + 1)
        has_case = tracked & self.case_rung[np.maximum(rung, 0)]
        if has_case.any():
            self._cases(rows[has_case], who[has_case], rung[has_case])

    def _cases(self, rows: np.ndarray, who: np.ndarray, rung: np.ndarray) -> None:
        """The cases filed on these offences and the court enforcements they will lead to."""
        plan = draw_cases(self.cases_rng, self.e, self.local[rows], who, rung)
        self.plans.append(plan)
        cat = self.inc.category[rows].astype(np.int64)
        close = self.inc.occurred[rows] + 2 * NOMINAL_RESPONSE_MIN + self.on_scene[cat]
        ruled_at = close[plan.ruled] + plan.ruling_after[plan.ruled]
        for j, at in zip(plan.offender[plan.ruled], ruled_at, strict=True):
            self.rulings[int(at // DAY_MIN) + 1].append(int(j))

    def result(self) -> Replayed:
        """The incidents and draws with the decisions in place, and the offenders' run."""
        inc, drawn, rows, joint = self.inc, dict(self.drawn), self.rows, self.joint
        offender = np.full(inc.n, -1, dtype=np.int64)
        offender[rows] = self.who[rows]
        inc = replace(
            inc,
            offender=offender,
            reported=np.where(joint, inc.occurred, inc.reported),
            instructed=np.where(joint, inc.occurred, inc.instructed),
            channel=np.where(joint, 0, inc.channel).astype(inc.channel.dtype),
        )
        drawn["police"], drawn["joint"], drawn["persuaded"] = self.police, joint, self.persuaded
        pop, gone = self.offenders.population(inc)
        run = ReplayedOffenders(
            population=pop,
            occurred=inc.occurred[rows],
            offender=offender[rows],
            reported=inc.reported[rows],
            channel=inc.channel[rows],
            instructed=inc.instructed[rows],
            persuasion=drawn["persuasion"][rows],
            persuaded=self.persuaded[rows],
            handling=drawn["handling"][rows],
            advisor_turnout=drawn["advisor_turnout"][rows],
            enforcer_turnout=drawn["enforcer_turnout"][rows],
            rung=self.rung[rows],
            police=self.police[rows],
            joint=joint[rows],
            cases=CasePlan.concat(self.plans),
            gone_day=gone,
            steps=self.steps[: pop.n],
            category_share=np.zeros(0),
            hotspot_share=np.zeros(0),
            seen_day=inc.occurred[rows] / DAY_MIN,
            horizon_day=self.sc.horizon_min / DAY_MIN,
        )
        return Replayed(inc, drawn, run, rows)


def _rank_within(key: np.ndarray) -> np.ndarray:
    """For each entry, how many entries with the same key come before it."""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    start = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]
    first = np.repeat(start, np.diff(np.r_[start, len(key)]))
    rank = np.empty(len(key), dtype=np.int64)
    rank[order] = np.arange(len(key)) - first
    return rank


class _Parties:
    """The offenders a log names: one per party, on its own record throughout. Its later
    incidents are the log's whatever it was sanctioned, so nobody leaves or is replaced."""

    def __init__(self, party: np.ndarray, n: int, first_rung: np.ndarray) -> None:
        self.party, self.named, self.first_rung = party, n, first_rung

    def assign(self, day: int, rows: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.party[rows]
        return out

    def leave(self, who: np.ndarray, day: int) -> None:
        pass

    def court(self, day: int, ruled: Sequence[int], rng: np.random.Generator) -> None:
        pass

    def population(self, inc: Incidents) -> tuple[Population, np.ndarray]:
        """Each party where and when the log first shows it."""
        parties, first = np.unique(self.party, return_index=True)
        first = first[parties >= 0]
        return (
            Population(
                node=inc.node[first],
                category=inc.category[first].astype(np.int16),
                hotspot=inc.hotspot[first].astype(np.int16),
                p_base=np.full(self.named, np.nan),
                gain=np.full(self.named, np.nan),
                first_rung=self.first_rung[first].astype(np.int64),
                enter_day=np.floor(inc.occurred[first] / DAY_MIN),
            ),
            np.full(self.named, np.inf),
        )


class _Places:
    """Attributed offenders at their places (a group and a street node).

    A place has as many offenders as its attributed incidents need at the group's daily
    chance, and at least its busiest day's count; each of its incidents goes to one who
    has not offended that day. Since the log's incidents stay, an offender who gives up
    the street (a rung's ``quit``, a court enforcement nearby) or leaves (turnover) is
    replaced by a newcomer, who takes the place's later incidents.
    """

    named = 0

    def __init__(self, world: World, replay: _Replay, group: np.ndarray, rate: np.ndarray):
        inc, e, rows = replay.inc, replay.e, replay.rows
        self.inc, self.first_rung, self.u = inc, replay.first, replay.u
        self.turnover, self.court_spec = e.offenders.turnover_per_day, e.court
        key = group * (world.net.n + 1) + inc.node[rows]
        _, first, place = np.unique(key, return_index=True, return_inverse=True)
        n_places = len(first)
        days = max((float(inc.occurred.max()) - float(inc.occurred.min())) / DAY_MIN, 1.0)
        busiest = np.zeros(n_places, dtype=np.int64)
        by_day = _rank_within(key * (replay.days + 1) + replay.day_of[rows])
        np.maximum.at(busiest, place, by_day + 1)
        need = np.rint(np.bincount(place, minlength=n_places) / (rate[first] * days))
        self.slots = np.maximum(np.maximum(need, 1), busiest).astype(np.int64)
        self.base = np.r_[0, np.cumsum(self.slots)[:-1]].astype(np.int64)
        self.row_place = np.full(inc.n, -1, dtype=np.int64)
        self.row_place[rows] = place
        n_slots = int(self.slots.sum())
        self.current = np.full(n_slots, -1, dtype=np.int64)  # each slot's offender, -1 none
        self.last_day = np.zeros(n_slots)
        self.slot_place = np.repeat(np.arange(n_places), self.slots)
        self.xy = np.column_stack([world.net.x, world.net.y])
        self.tree = cKDTree(self.xy[inc.node[rows][first]]) if n_places else None
        # per offender (at most one per attributed incident): the slot, the incident that
        # brought them in, the day they came and the day they left
        self.count, m = 0, len(rows)
        self.slot, self.row = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
        self.enter, self.gone = np.zeros(m), np.full(m, np.inf)

    def assign(self, day: int, rows: np.ndarray) -> np.ndarray:
        """The offender of each of today's incidents: one of its place's, one slot each;
        whoever left is replaced first."""
        place = self.row_place[rows]
        rank = _rank_within(place)
        lead = rank == 0
        offset = np.zeros(len(self.slots), dtype=np.int64)
        offset[place[lead]] = np.floor(self.u[_SLOT, rows[lead]] * self.slots[place[lead]])
        slot = self.base[place] + (offset[place] + rank) % self.slots[place]
        held = self.current[slot] >= 0
        gap = day - self.last_day[slot]
        left = held & (self.u[_TURNOVER, rows] < 1.0 - (1.0 - self.turnover) ** gap)
        self.leave(self.current[slot[left]], day)
        vacant = self.current[slot] < 0
        k = int(vacant.sum())
        ids = np.arange(self.count, self.count + k)
        self.count += k
        self.current[slot[vacant]] = ids
        self.slot[ids], self.row[ids], self.enter[ids] = slot[vacant], rows[vacant], day
        self.last_day[slot] = day
        out: np.ndarray = self.current[slot]
        return out

    def leave(self, who: np.ndarray, day: int) -> None:
        """These offenders give up their place from ``day``; a newcomer takes it then."""
        self.gone[who] = np.minimum(self.gone[who], day)
        slot = self.slot[who]
        mine = self.current[slot] == who
        self.current[slot[mine]] = -1

    def court(self, day: int, ruled: Sequence[int], rng: np.random.Generator) -> None:
        """Court enforcements today: the offender leaves, and those around give up with
        ``court.quit``, as in a drawn run."""
        if not ruled or self.tree is None:
            return
        radius = self.court_spec.radius_m
        for j in ruled:
            near = self.tree.query_ball_point(self.xy[self.inc.node[self.row[j]]], radius)
            slots = np.flatnonzero(np.isin(self.slot_place, near) & (self.current >= 0))
            seen = self.current[slots]
            seen = seen[seen != j]
            quits = seen[rng.random(len(seen)) < self.court_spec.quit]
            self.leave(np.r_[j, quits].astype(np.int64), day)

    def population(self, inc: Incidents) -> tuple[Population, np.ndarray]:
        """Each offender at their place, with the category of the incident that brought
        them in."""
        n, row = self.count, self.row[: self.count]
        return (
            Population(
                node=inc.node[row],
                category=inc.category[row].astype(np.int16),
                hotspot=inc.hotspot[row].astype(np.int16),
                p_base=np.full(n, np.nan),
                gain=np.full(n, np.nan),
                first_rung=self.first_rung[row].astype(np.int64),
                enter_day=self.enter[:n].copy(),
            ),
            self.gone[:n].copy(),
        )
