"""Staff needed on duty per hour of the day, from time-varying demand and service times.

The need of a role (advisors; enforcer teams) in hour ``h`` is the least number ``c`` of
units on duty such that the expected share of requests served on time reaches the
target, in a district-wide M/M/c-like model of that hour (Green, Kolesar and Whitt 2007,
"Coping with time-varying demand when setting staffing requirements for a service
system"):

* **Offered load.** ``sipp`` (stationary independent period by period): the hour's
  request rate times the mean service time. ``lagged`` (default): the mean over the hour
  of the infinite-server load ``a(t) = ∫ λ(u) P(S > t − u) du``, which lags the demand by
  about one service time and so sees the backlog that a peak leaves behind (GKW's lagged
  and modified-offered-load approximations).
* **On time.** A request waits ``W`` for a unit, then needs ``R`` minutes to reach the
  scene (turnout and travel). With Erlang C, ``P(W = 0) = 1 − C(c, a)`` and otherwise
  ``W`` is exponential with rate ``(c − a)/E[S]``; the on-time share is the mean of
  ``P(W ≤ τ − R)`` over the simulated ``R`` (``τ`` the clock, 10 minutes).
* **Space.** Travel grows as fewer units are free: by the square-root law of spatial
  queues (Larson and Odoni, ch. 3 and 5) the distance to the nearest of ``n`` idle units
  spread over an area goes as ``1/sqrt(n)``. Every simulated travel time is scaled to
  one idle unit, ``travel · sqrt(c₀ − a₀)`` with ``c₀ − a₀`` the idle units in its hour
  under the plan it was simulated with, and pooled over the day; with ``c`` units on
  duty it becomes ``travel₁ / sqrt(c − a)``.

Request rates, service times (dispatch to back at post) and response legs all come from
a pilot simulation of the scenario as written (:func:`pilot_stats`), so they carry the
scenario's demand profile, hotspots, categories and street network. The approximations
are checked and corrected by simulation in :mod:`sim.batch.shiftplan`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from sim.analysis.metrics import asked_for, clock_of, window_minutes_before
from sim.rng import stream
from sim.roles import BY_NAME, CLOCKED_ROLES

if TYPE_CHECKING:
    from sim.engine.records import IncidentTable
    from sim.world.build import World
    from sim.world.staff import Units

DAY = 1440.0
Method = Literal["lagged", "sipp"]
METHODS: tuple[str, ...] = ("lagged", "sipp")
# the roles whose shifts are planned: placed by density (in the staff mix), on a clock
SHIFT_ROLES: tuple[str, ...] = tuple(r for r in CLOCKED_ROLES if BY_NAME[r].mix is not None)
_MAX_SAMPLES = 4000  # service-time samples kept per role
_MAX_LEGS = 400  # response-leg samples kept per role and hour


@dataclass(frozen=True)
class RoleStats:
    """What the pilot simulation says about one role (minutes; rates per minute)."""

    role: str
    clock_min: float  # the double-ten clock of this role
    turnout_min: float  # mean turnout (the part of a response leg that is not travel)
    people_per_unit: int
    rate: list[float]  # requests per minute, by hour of day
    service: list[float]  # busy time per request: dispatch until back at post
    legs: list[list[float]]  # response legs (turnout + travel) by hour of the request
    on_duty: list[float]  # units on duty by hour in the pilot's plan

    @property
    def mean_service(self) -> float:
        return float(np.mean(self.service)) if self.service else 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def on_duty_by_hour(windows: Sequence[tuple[float, float]], counts: Sequence[float]) -> np.ndarray:
    """Mean units on duty in each hour (0-23) when ``counts[k]`` work window ``k``."""
    starts = np.arange(24) * 60.0
    out = np.zeros(24)
    for (s, e), n in zip(windows, counts, strict=True):
        out += n * (
            window_minutes_before(starts + 60.0, s, e) - window_minutes_before(starts, s, e)
        )
    return out / 60.0


def units_on_duty(units: Units, office: int | None = None) -> np.ndarray:
    """Mean units of a role on duty in each hour of the day (of one street office's)."""
    shift = units.shift if office is None else units.shift[units.office == office]
    counts = np.bincount(shift, minlength=len(units.shifts)).astype(float)
    return on_duty_by_hour(units.shifts, counts.tolist())


def _thin(values: np.ndarray, keep: int, seed: int, name: str) -> list[float]:
    """At most ``keep`` of ``values``, drawn reproducibly (rounded to 0.01 min)."""
    v = values[np.isfinite(values)]
    if len(v) > keep:
        v = stream(seed, name).choice(v, size=keep, replace=False)
    return [round(float(x), 2) for x in np.sort(v)]


def pilot_stats(
    world: World, tables: Sequence[IncidentTable], office: int | None = None
) -> dict[str, RoleStats]:
    """Request rates, service times and response legs per role from pilot runs.

    With ``office``, of the requests in that street office (whichever unit served them)
    and its own units on duty: the need of one office.
    """
    sc = world.scenario
    days = sc.duration.days * max(len(tables), 1)
    out: dict[str, RoleStats] = {}
    where = "" if office is None else f"-office-{office}"
    for role in SHIFT_ROLES:
        req, disp, arr, rel = [], [], [], []
        for t in tables:
            m = t["measured"] if office is None else t["measured"] & (t["office"] == office)
            clock, info = clock_of(role), BY_NAME[role]
            cols = (
                clock.starts,
                f"{info.prefix}_dispatched",
                info.arrived,
                f"{info.prefix}_released",
            )
            sel = m & asked_for(t, role) & np.isfinite(t[clock.starts])
            req.append(t[clock.starts][sel])
            sel = sel & np.isfinite(t[cols[1]])
            disp.append((t[cols[0]][sel], t[cols[1]][sel]))
            arr.append(t[cols[2]][sel] - t[cols[1]][sel])
            rel.append(t[cols[3]][sel] - t[cols[1]][sel])
        requested = np.concatenate(req) if req else np.zeros(0)
        rate = np.bincount((requested // 60 % 24).astype(int), minlength=24) / (days * 60.0)
        asked = np.concatenate([a for a, _ in disp]) if disp else np.zeros(0)
        legs_all = np.concatenate(arr) if arr else np.zeros(0)
        hour = (asked // 60 % 24).astype(int)
        turnout = getattr(sc.dispatch, f"{role}_turnout").mean_value
        out[role] = RoleStats(
            role=role,
            clock_min=sc.rules.minutes(role),
            turnout_min=float(turnout),
            people_per_unit=world.roster[role].people_per_unit,
            rate=[float(x) for x in rate],
            service=_thin(np.concatenate(rel) if rel else np.zeros(0), _MAX_SAMPLES, sc.seed,
                          f"shift-pilot-{role}-service{where}"),
            legs=[
                _thin(legs_all[hour == h], _MAX_LEGS, sc.seed,
                      f"shift-pilot-{role}-legs-{h}{where}")
                for h in range(24)
            ],
            on_duty=[float(x) for x in units_on_duty(world.roster[role], office)],
        )  # fmt: skip
    return out


# ------------------------------------------------------------------ queueing


def erlang_c(c: int, a: float) -> float:
    """Probability that a request waits in an M/M/c queue with offered load ``a`` (< c)."""
    if a <= 0:
        return 0.0
    if c <= a:
        return 1.0
    b = 1.0  # Erlang B by its stable recursion
    for n in range(1, c + 1):
        b = a * b / (n + a * b)
    return c * b / (c - a * (1.0 - b))


def offered_load(rate: Sequence[float], service: Sequence[float], method: Method) -> np.ndarray:
    """Offered load (busy units) by hour of day from hourly rates per minute."""
    lam = np.asarray(rate, float)
    s = np.asarray(service, float)
    if len(s) == 0 or not lam.any():
        return np.zeros(24)
    if method == "sipp":
        return lam * float(s.mean())
    # infinite-server load a(t) = Σ_k λ(t − k) P(S > k), on a minute grid, cyclic over the day
    span = int(min(math.ceil(float(s.max())) + 1, 7 * DAY))
    survival = 1.0 - np.searchsorted(np.sort(s), np.arange(span) + 0.5, side="right") / len(s)
    per_min = np.repeat(lam, 60)
    load = np.zeros(int(DAY))
    for k in range(span):
        load += np.roll(per_min, k) * survival[k]
    hourly: np.ndarray = load.reshape(24, 60).mean(axis=1)
    return hourly


def on_time_share(
    c: int, a: float, mean_service: float, turnout: float, travel_one: np.ndarray, clock: float
) -> float:
    """Expected share on time with ``c`` units on duty (see the module doc).

    ``travel_one`` are travel times scaled to one idle unit on duty (the square-root law):
    with ``c − a`` idle units each is divided by ``sqrt(c − a)``.
    """
    if a <= 0:
        return 1.0
    if c <= a or mean_service <= 0:
        return 0.0
    wait_p = erlang_c(c, a)
    legs = turnout + (travel_one / math.sqrt(c - a) if len(travel_one) else np.zeros(1))
    slack = clock - legs
    theta = (c - a) / mean_service
    ok = np.where(slack >= 0, 1.0 - wait_p * np.exp(-theta * np.maximum(slack, 0.0)), 0.0)
    return float(ok.mean())


def travel_at_one(stats: RoleStats, load: np.ndarray) -> np.ndarray:
    """Every simulated travel time, scaled to one idle unit: ``travel · sqrt(c₀ − a₀)``.

    Hours the pilot's plan had (nearly) no idle units in are left out: their travel says
    more about who happened to come free than about distance.
    """
    out = []
    for h in range(24):
        idle = stats.on_duty[h] - float(load[h])
        if idle >= 1.0 and stats.legs[h]:
            travel = np.maximum(np.array(stats.legs[h], float) - stats.turnout_min, 0.0)
            out.append(travel * math.sqrt(idle))
    return np.concatenate(out) if out else np.zeros(0)


@dataclass(frozen=True)
class HourlyNeed:
    """Units needed on duty per hour, with the load and model share behind each."""

    role: str
    need: np.ndarray  # int, 24
    load: np.ndarray  # offered load (busy units), 24
    share: np.ndarray  # model on-time share at the need, 24
    reachable: np.ndarray  # bool: the target was reached below the search cap


def hourly_need(stats: RoleStats, target: float, method: Method = "lagged") -> HourlyNeed:
    """The least units on duty per hour whose model on-time share reaches ``target``."""
    load = offered_load(stats.rate, stats.service, method)
    travel = travel_at_one(stats, load)
    es = stats.mean_service
    need = np.zeros(24, dtype=np.int64)
    share = np.ones(24)
    reachable = np.ones(24, dtype=bool)
    for h in range(24):
        a = float(load[h])
        if a <= 0:
            continue
        cap = int(max(20 * stats.on_duty[h], 10 * a, 50) + 10)
        c = max(1, math.floor(a) + 1)
        p = on_time_share(c, a, es, stats.turnout_min, travel, stats.clock_min)
        while p < target and c < cap:
            c += 1
            p = on_time_share(c, a, es, stats.turnout_min, travel, stats.clock_min)
        need[h], share[h], reachable[h] = c, p, p >= target
    return HourlyNeed(stats.role, need, load, share, reachable)
