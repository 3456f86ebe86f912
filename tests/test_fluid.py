"""The fluid model of a role's queue through the day (``sim.analysis.fluid``).

Every case is small enough to work out by hand: a queue whose holding time does not
depend on the load (one node, no rides), where the fluid is the textbook one, and a
queue whose holds are short while units are free and long once requests wait, where it
has two regimes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analysis.duty import duty_steps, hourly_capacity
from sim.analysis.fluid import PER_HOUR, Q_GRID, STEPS, Flow, carry_backlog, surge_stays
from sim.scenario.staff import Shift
from sim.world.staff import Units


def flow(
    per_hour: list[float] | float,
    free: float,
    slow: float,
    units: int,
    capacity: list[float] | None = None,
) -> Flow:
    """Requests an hour (one number or 24); a request holds a unit ``slow`` minutes when
    it waited, and ``free`` minutes when units are free at once, rising to ``slow`` as
    the last units get busy (``free + (slow - free)·q^40``, ``q`` the share not free:
    the nearest free unit is far only when hardly any is left). ``units`` all on shift
    unless ``capacity`` (24 hourly values) says otherwise; busy units carry over."""
    rate = np.broadcast_to(np.asarray(per_hour, dtype=float) / 60.0, (24,)).copy()
    cap = np.repeat(np.asarray(capacity if capacity else [units] * 24, dtype=float), PER_HOUR)
    curve = free + (slow - free) * Q_GRID**40
    return Flow(
        arrivals_h=rate,
        backlog_hold_h=np.full(24, slow),
        free_hold=np.tile(curve, (24, 1)),
        capacity=cap,
        kept=np.ones(STEPS),
        units=units,
    )


def hour_of(step: int) -> float:
    return step / PER_HOUR


def test_a_peak_backlog_clears_when_the_quiet_hours_can_carry_it() -> None:
    """Ten units holding every request 30 minutes; 60 requests an hour at 09:00-11:00
    and 10 otherwise. Before the peak 5 are busy; at 09:00 busy units climb towards 30
    (30 - 25·e^(-t/30)) and all ten are busy at 09:07. Then 60 an hour come and 20 are
    served: 2/3 × 113 minutes ≈ 75.5 wait at 11:00. The quiet hours serve 20 an hour
    and bring 10, so the queue is gone 7.55 hours later, at 18:33. Over the day the load
    is 0.69 of capacity, so it settles."""
    per_hour = [10.0] * 24
    per_hour[9] = per_hour[10] = 60.0
    day = carry_backlog(flow(per_hour, 30.0, 30.0, 10))
    assert not day.grows
    waiting = np.flatnonzero(day.share > 0)
    assert hour_of(int(waiting[0])) == pytest.approx(9 + 5 / 60)  # the step 09:05-09:10
    last = int(waiting[-1])
    assert hour_of(last) + day.share[last] / PER_HOUR == pytest.approx(18 + 33 / 60, abs=0.1)
    assert day.waiting[11 * PER_HOUR] == pytest.approx(75.5, abs=1.5)
    assert day.tips().sum() == 0  # the backlog clears on its own: no tip can stick


@pytest.mark.parametrize(
    ("per_hour", "grows"),
    [
        ([18.0] * 24, False),  # 0.9 of capacity
        ([22.0] * 24, True),  # 1.1
        ([60.0] * 2 + [10.0] * 22, False),  # peaks at 3.0, 0.69 over the day
        ([60.0] * 8 + [10.0] * 16, True),  # 1.33 over the day
    ],
)
def test_with_fixed_holds_the_backlog_grows_exactly_when_the_day_is_over_capacity(
    per_hour: list[float], grows: bool
) -> None:
    """The summary's check (offered load ≥ capacity over the day) and the fluid's agree
    when holds do not depend on the load: a periodic queue is stable below capacity."""
    f = flow(per_hour, 30.0, 30.0, 10)
    assert ((f.backlog_ratio or 0) >= 1) is grows
    assert carry_backlog(f).grows is grows


def test_short_free_holds_and_long_backlog_holds_make_two_regimes() -> None:
    """20 units; a request a minute holds a unit 10 minutes when units are free and 40
    once requests wait. Free flow keeps 10 busy (half the units; the hold only lengthens
    with the last one or two free), yet a backlog, once there, meets 40 units of load
    with 20: it never clears. From an empty start the day stays in free flow; a surge at
    any hour stays for good."""
    f = flow(60.0, 10.0, 40.0, 20)
    day = carry_backlog(f)
    assert not day.grows
    assert (day.share == 0).all()
    assert day.free_ratio == pytest.approx(0.5, rel=1e-3)
    assert f.backlog_ratio == pytest.approx(2.0)
    assert all(surge_stays(f, h * PER_HOUR, day.busy) for h in range(24))


def poisson(k: int, mean: float) -> float:
    return math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))


def test_chance_fills_every_unit_at_the_rate_of_a_poisson_count_one_short() -> None:
    """The holds lengthen only with the last unit free (λ·S(19 busy) = 14 < 19), so
    nothing pushes the busy count over before every unit is busy: it is Poisson with
    mean λ·S = 10 (an infinite-server queue), and every unit (20) fills at the rate
    requests come times P(N = 19). A backlog never clears, so each of those tips
    counts: 1440 · 1 · e^-10 10^19 / 19! ≈ 5.4 a day."""
    day = carry_backlog(flow(60.0, 10.0, 40.0, 20))
    assert day.tips().sum() == pytest.approx(1440.0 * poisson(19, 10.0), rel=0.01)


def test_tips_count_only_where_the_backlog_stays() -> None:
    """The same queue with 45 units: a backlog meets 40 units of load and clears, so a
    surge is only a surge; with 30 it stays, and the rarer tips (P(N = 29)) count."""
    assert carry_backlog(flow(60.0, 10.0, 40.0, 45)).tips().sum() == 0
    rare = carry_backlog(flow(60.0, 10.0, 40.0, 30)).tips().sum()
    assert rare == pytest.approx(1440.0 * poisson(29, 10.0), rel=0.01)


def test_an_hour_without_free_flow_tips_the_two_regimes_for_good() -> None:
    """The two-regime queue with one hour at three requests a minute: 30 units of free
    load against 20 fill them all, the backlog then rides 40 minutes a request and never
    clears. Over the day free flow alone would be 0.54 of capacity."""
    per_hour = [60.0] * 24
    per_hour[18] = 180.0
    day = carry_backlog(flow(per_hour, 10.0, 40.0, 20))
    assert day.grows
    assert (day.share == 1).all()


def test_a_new_shift_takes_the_waiting_requests_at_once() -> None:
    """Five units at night keep up with 10 requests an hour but not with 60 at 06:00:
    all five are busy after five minutes, and then 60 an hour come while they serve 30
    an hour on their 10-minute jobs, falling to 7.5 on 40-minute ones: some 40 wait at
    07:00. 45 fresh units take them at once, nearest first, at the short hold, and the
    queue is gone within ten minutes."""
    per_hour = [10.0] * 24
    per_hour[6] = 60.0
    day = carry_backlog(flow(per_hour, 10.0, 40.0, 50, capacity=[5.0] * 7 + [50.0] * 17))
    assert 35 < day.waiting[7 * PER_HOUR] < 50
    assert day.waiting[7 * PER_HOUR + 2] == 0
    assert (day.share[: 6 * PER_HOUR] == 0).all() and not day.grows


def test_duty_steps_hand_over_the_busy_units_of_the_shifts_that_end() -> None:
    """Six units on 07:00-15:00, four on 10:00-18:00, two on 15:00-07:00: at 07:00 the
    whole night shift leaves (none kept), at 10:00 nobody does, at 15:00 the four of the
    10:00 shift stay of ten, at 18:00 the two night units of six."""
    units = Units(
        role="advisor",
        node=np.zeros(12, dtype=np.int64),
        office=np.zeros(12, dtype=np.int64),
        grid=np.zeros(12, dtype=np.int64),
        shift=np.array([0] * 6 + [1] * 4 + [2] * 2),
        shifts=((420.0, 900.0), (600.0, 1080.0), (900.0, 420.0)),
    )
    cap, kept = duty_steps(units, 1440.0, 2880.0, 5.0)
    at = {h: h * PER_HOUR for h in (7, 10, 15, 18)}
    assert [cap[at[h]] for h in at] == [6, 10, 6, 2]
    assert kept[at[7]] == 0 and kept[at[10]] == 1
    assert kept[at[15]] == pytest.approx(0.4) and kept[at[18]] == pytest.approx(1 / 3)
    assert (kept[[s for s in range(STEPS) if s not in at.values()]] == 1).all()
    hourly = cap.reshape(24, PER_HOUR).mean(axis=1)
    assert hourly == pytest.approx(hourly_capacity(units, 1440.0, 2880.0))
    # day 1 on one 12-hour shift from 08:00 (a campaign's): days 1 and 2 averaged
    with_period = units.with_period(1, 2, [Shift(start="08:00", end="20:00", share=1.0)])
    cap, _ = duty_steps(with_period, 1440.0, 4320.0, 5.0)
    assert cap.reshape(24, PER_HOUR).mean(axis=1) == pytest.approx(
        hourly_capacity(with_period, 1440.0, 4320.0)
    )
