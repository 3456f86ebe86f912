"""The shift-plan optimiser: covering programme, hourly need, and the Jinshui plan."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FIXED0, ROOT, instant_discovery, one_category

import sim
from sim.batch.shiftcover import ShiftType, cover, shift_types
from sim.batch.shiftneed import hourly_need, offered_load, pilot_stats
from sim.cli import main
from sim.runner import prepare, simulate
from sim.scenario import Shift
from sim.world.build import build_world
from sim.world.staff import _assign_shifts, shares_for_counts

# --------------------------------------------------------------- covering programme


def test_cover_hand_worked_optimum() -> None:
    """Needs 2 (00-06), 4 (06-10), 6 (10-18), 4 (18-22), 2 (22-24); 8 h shifts at 6, 10, 14, 22.

    By hand: only the 22:00 shift covers 00-06, so x22 >= 2; only the 06:00 shift covers
    06-10, so x6 >= 4; 10-14 then needs x10 >= 2; 18-22 needs x14 >= 4, which with x10 = 2
    also covers 14-18. The lower bounds are met together: (4, 2, 4, 2), 96 unit-hours.
    """
    need = [2] * 6 + [4] * 4 + [6] * 8 + [4] * 4 + [2] * 2
    c = cover(need, shift_types([6, 10, 14, 22], [8]))
    assert c.feasible and c.optimal
    assert {s.start: n for s, n in c.used()} == {6: 4, 10: 2, 14: 4, 22: 2}
    assert c.unit_hours == 96
    assert (c.on_duty >= np.array(need)).all()


def test_cover_prefers_extended_shifts_when_they_save_hours() -> None:
    need = [0] * 8 + [3] * 12 + [0] * 4  # 3 units 08:00-20:00
    eight = cover(need, shift_types(range(24), [8]))
    assert eight.unit_hours == 48  # 12 hours cannot be covered by one 8 h shift: two per unit
    both = cover(need, shift_types(range(24), [8, 12]))
    assert both.unit_hours == 36 and both.used() == [(ShiftType(8, 12), 3)]
    assert ShiftType(20, 8).clock == ("20:00", "04:00") and ShiftType(16, 8).clock[1] == "24:00"


def test_cover_rules_headcount_night_and_kinds() -> None:
    day = shift_types([0, 8, 16], [8])
    assert cover([1] * 24, day).headcount == 3
    capped = cover([1] * 24, day, max_units=2)
    assert not capped.feasible and "2 units" in capped.message
    # with 12 h shifts allowed, equal staff-hours, the tie-break takes fewer people
    assert cover([1] * 24, shift_types(range(24), [8, 12])).headcount == 2
    night = cover([0] * 24, shift_types([22], [8]), night_hours=[22, 23, 0, 1, 2, 3, 4, 5],
                  night_cover=2)  # fmt: skip
    assert night.unit_hours == 16 and night.on_duty[3] == 2 and night.on_duty[12] == 0
    gap = cover([0] * 24, shift_types([8], [8]), night_hours=[23], night_cover=1)
    assert not gap.feasible and "23:00" in gap.message
    need = [0] * 6 + [2] * 3 + [4] * 6 + [2] * 3 + [0] * 6  # 06:00-18:00, a bump 09-15
    free = cover(need, shift_types(range(24), [8, 12]))
    one = cover(need, shift_types(range(24), [8, 12]), max_kinds=1)
    assert free.unit_hours == 40 and len(free.used()) == 2  # 2 × 12 h and 2 × 8 h
    assert one.unit_hours == 48 and one.used() == [(ShiftType(6, 12), 4)]
    wide = [0] * 6 + [1] * 14 + [0] * 4  # 14 hours: no single 12 h shift kind covers it
    none = cover(wide, shift_types(range(24), [12]), max_kinds=1)
    assert not none.feasible and "at most 1 different shift" in none.message


def test_shares_place_exactly_the_planned_units() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        counts = [int(x) for x in rng.integers(0, 30, size=int(rng.integers(1, 12)))]
        if not sum(counts):
            continue
        shares = shares_for_counts(counts)
        assert math.isclose(sum(shares), 1.0, abs_tol=1e-6) and min(shares) > 0
        shifts = [Shift(start="00:00", end="08:00", share=x) for x in shares]
        got = np.bincount(_assign_shifts(sum(counts), shifts), minlength=len(shifts))
        assert got.tolist() == [c for c in counts if c]


# ------------------------------------------------------------------- hourly need


def _erlang_c(c: int, a: float) -> float:
    """Textbook Erlang C from its closed form (independent of sim.batch.shiftneed)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


PROFILE = [0.3, 0.2, 0.2, 0.2, 0.3, 0.6, 1.0, 1.8, 2.4, 2.0, 1.5, 1.2,
           1.2, 1.3, 1.4, 1.6, 2.0, 2.6, 3.0, 2.2, 1.4, 1.0, 0.6, 0.4]  # fmt: skip


def test_hourly_need_follows_erlang_c_and_the_plan_matches_it() -> None:
    """Demand constant within each hour, 1.5-minute services, no travel: an M/M/c per hour."""
    days, per_day, clock, target = 30, 700.0, 1.0, 0.9
    data = {
        "name": "erlang",
        "duration": {"days": days, "warmup_hours": 24},
        "map": {"inline": {"nodes": [{"id": 0, "x": 0, "y": 0}]}},
        "staff": {"posts": {"advisor": [{"node": 0, "count": 40}], "enforcer": [{"node": 0}]}},
        "demand": {
            "incidents_per_day": per_day,
            "hourly_profile": PROFILE,
            "categories": one_category({"dist": "exponential", "mean": 1.5}, 1.0),
        },
        "discovery": instant_discovery(),
        "dispatch": {"advisor_turnout": FIXED0, "enforcer_turnout": FIXED0},
        "rules": {"advisor_minutes": clock},
    }
    sc = sim.scenario_from_dict(data)
    world = build_world(sc)
    stats = pilot_stats(world, [simulate(world, 0)])["advisor"]
    true_rate = np.array(PROFILE) / sum(PROFILE) * per_day / 60.0
    sd = np.sqrt(true_rate * 60 * days) / (60 * days)
    assert (np.abs(np.array(stats.rate) - true_rate) < 4 * sd).all()
    assert stats.mean_service == pytest.approx(1.5, rel=0.03)
    need = hourly_need(stats, target, "sipp")
    es = stats.mean_service
    for h in range(24):
        a = stats.rate[h] * es
        c = math.floor(a) + 1
        while 1 - _erlang_c(c, a) * math.exp(-(c - a) * clock / es) < target:
            c += 1
        assert need.need[h] == c, h
    assert len(set(need.need.tolist())) >= 3  # the hours really differ
    # hour-long shifts reproduce the need exactly; 8 h shifts cover it
    assert cover(need.need, shift_types(range(24), [1])).on_duty.tolist() == need.need.tolist()
    eight = cover(need.need, shift_types(range(24), [8]))
    assert (eight.on_duty >= need.need).all() and eight.unit_hours >= need.need.sum()
    # with services this short the lagged load is the stationary one
    lagged = offered_load(stats.rate, stats.service, "lagged")
    assert np.allclose(lagged, need.load, rtol=0.1)


def test_lagged_load_lags_a_step_in_demand() -> None:
    rate = [0.0] * 12 + [1.0] * 12
    service = [60.0] * 100  # one hour, fixed
    lagged = offered_load(rate, service, "lagged")
    sipp = offered_load(rate, service, "sipp")
    assert sipp[12] == pytest.approx(60.0) and lagged[12] == pytest.approx(30.0, rel=0.02)
    assert lagged[0] == pytest.approx(30.0, rel=0.02)  # the evening's work carries past midnight
    assert lagged[13] == pytest.approx(60.0, rel=0.02) and lagged[1] == pytest.approx(0.0)


# ------------------------------------------------------------------- the hourly verdict


def test_share_bound_pools_requests_and_is_honest_for_small_samples() -> None:
    from sim.analysis.hour_verdicts import share_bound

    # every request on time, but only 3 of them: far from proof of 90%
    p, low = share_bound([1, 0, 2, 0], [1, 0, 2, 0], 0.95)
    assert p == 1.0 and low is not None and low < 0.6
    assert share_bound([3], [3], 0.95) == (1.0, None)  # one replication: no bound
    assert share_bound([0, 0], [0, 0], 0.95) == (None, None)
    # 240 of 240 on time over 8 replications: Wilson's bound n / (n + t²)
    p, low = share_bound([30] * 8, [30] * 8, 0.95)
    t = 1.894578605  # Student's t, 7 degrees of freedom, 95% one-sided
    assert p == 1.0 and low == pytest.approx(240 / (240 + t * t), rel=1e-6)
    # pooling weighs busy replications more: 1 of 1 and 5 of 10 pool to 6 of 11
    assert share_bound([1, 5], [1, 10], 0.95)[0] == pytest.approx(6 / 11)
    # the same totals, late requests bunched in a few replications: a wider interval
    even = share_bound([27] * 8, [30] * 8, 0.95)[1]
    bunched = share_bound([30, 30, 30, 30, 30, 30, 18, 18], [30] * 8, 0.95)[1]
    assert even is not None and bunched is not None and bunched < even < 0.9


def test_judge_hours_verdicts() -> None:
    from sim.analysis.hour_verdicts import NO_DATA, OPEN, PASS, SHORT, judge_hours

    def run(ok: list[int], n: list[int]) -> dict[str, object]:
        rows = [
            {"incidents": n[h], "escalated": n[h],
             "advisor_on_time": ok[h] / n[h] if n[h] else None,
             "enforcer_on_time": ok[h] / n[h] if n[h] else None}
            for h in range(24)
        ]  # fmt: skip
        return {"by_hour": rows, "measures": {}}

    # hour 0: 40 of 40; hour 1: 5 of 5 (undecided); hour 2: 30 of 40 (short); hour 3: none
    ok = [40, 5, 30, 0] + [40] * 20
    n = [40, 5, 40, 0] + [40] * 20
    v = judge_hours([run(ok, n)] * 6, 0.9, 0.95)
    st = v.status["enforcer_on_time"]
    assert [st[0], st[1], st[2], st[3]] == [PASS, OPEN, SHORT, NO_DATA]
    assert v.passes["enforcer_on_time"][[0, 3]].all() and not v.passes["advisor_on_time"][1]
    assert v.count["advisor_on_time"][2] == 240 and v.replications == 6


def test_correction_steps_follow_the_hour_size_and_the_shortfall() -> None:
    from sim.analysis.hour_verdicts import OPEN, PASS, SHORT, HourVerdicts
    from sim.batch.shiftcorrect import correct, step

    # short by 20 points with 10 on duty: a tenth plus the gap, 30%: 3 units
    assert step(10, True, 0.2) == 3
    assert step(10, True, -0.01) == 1  # short although the mean is on target: a tenth
    # undecided at the most replications: 2% of the units on duty, at least one
    assert [step(d, False, 0.0) for d in (5, 50, 100, 120, 150)] == [1, 1, 2, 3, 3]
    clock = "advisor_on_time"
    status = np.full(24, PASS, dtype=object)
    status[21], status[3] = OPEN, SHORT
    mean, lower = np.full(24, 0.96), np.full(24, 0.955)
    mean[21], lower[21] = 0.955, 0.93
    mean[3], lower[3] = 0.85, 0.8
    ev = HourVerdicts(32, {clock: mean}, {clock: lower}, {clock: np.full(24, 500.0)},
                      {clock: status, "enforcer_on_time": status}, {})  # fmt: skip
    duty = np.full((1, 24), 150)
    want, floor = {"advisor": duty.copy()}, {"advisor": np.zeros((1, 24), np.int64)}
    late = {"advisor": np.ones((1, 24))}

    def corrected(max_replications: int) -> tuple[list[int], list[int]]:
        w, f = {"advisor": want["advisor"].copy()}, {"advisor": floor["advisor"].copy()}
        correct(ev, ["advisor"], {"advisor": duty}, w, f, late, 0.95, max_replications)
        return w["advisor"][0].tolist(), f["advisor"][0].tolist()

    w, f = corrected(32)  # 32 replications is the most: 21:00 is settled undecided
    assert w[21] == 153 and f[21] == 151  # 150 + ceil(3.0), not 150 + 1
    assert w[3] == 150 + math.ceil(150 * 0.2 - 1e-9) and f[3] == 151  # 10% + 10 points
    assert w[:3] == [150] * 3 and f[:3] == [0] * 3  # passing, not far above: unchanged
    w, f = corrected(64)  # more replications to come: the undecided hour waits
    assert w[21] == 150 and f[21] == 0 and w[3] == 180


def test_search_keeps_the_best_round_when_none_passes() -> None:
    from sim.batch.shiftcorrect import best_round, round_rank
    from sim.output.shiftreport import chosen_text

    def entry(n: int, short: list[int], open_: list[int], cost: float) -> dict[str, object]:
        return {"round": n, "hours_short": {"advisor": short, "enforcer": []},
                "hours_undecided": {"advisor": open_, "enforcer": []}, "staff_hours": cost}  # fmt: skip

    history = [
        entry(1, [3, 4], [], 3000.0),  # cheapest, but hours shown short
        entry(2, [], [5, 21, 22], 4000.0),
        entry(3, [], [21, 22], 4100.0),  # fewest undecided: kept
        entry(4, [], [21, 22], 4200.0),  # as few, but dearer
        entry(5, [22], [], 4300.0),  # the last round: one hour shown short
    ]
    assert round_rank(history[2]) == (0, 2, 4100.0, 3)
    assert best_round(history) == 2
    meta = {"chosen_round": 3, "rounds": 5, "feasible": False, "history": history}
    text = chosen_text(meta)
    assert "round 3 of 5" in text and "NOT CONVERGED" in text
    # a round whose every hour met the target beats them all; the cheapest such one
    history += [entry(6, [], [], 4500.0), entry(7, [], [], 4400.0), entry(8, [], [], 4400.0)]
    assert best_round(history) == 6
    meta = {"chosen_round": 7, "rounds": 8, "feasible": True, "history": history}
    assert "round 7 of 8" in chosen_text(meta) and "NOT" not in chosen_text(meta)


def test_written_scenario_quotes_times_and_validates(tmp_path: Path) -> None:
    from sim.output.shiftreport import scenario_yaml

    sc = sim.load_scenario(
        ROOT / "scenarios" / "jinshui.yaml",
        ['staff.shifts.enforcer=[{"start": "10:00", "end": "22:00", "share": 1}]'],
    )
    text = scenario_yaml(sc, tmp_path)
    assert text.startswith("# yaml-language-server: $schema=")
    assert 'start: "10:00"' in text and 'end: "07:00"' in text and "start: 10:00" not in text
    (tmp_path / "x.yaml").write_text(text, encoding="utf-8")
    assert main(["validate", str(tmp_path / "x.yaml")]) == 0
    assert sim.load_scenario(tmp_path / "x.yaml").staff == sc.staff


# ------------------------------------------------------------------- Jinshui


JINSHUI_SEED = 7  # not the seed the plan was optimised on (1)
JINSHUI_REPS = 8


def test_committed_jinshui_plan_holds_at_another_seed() -> None:
    """scenarios/jinshui_shifts.yaml (optimised at seed 1), simulated at seed 7.

    Eight replications of a day cannot show 95% on time with 95% confidence in every hour
    (docs/shifts.md reports that check with 64); they can show that the hours the own
    plan misses (enforcer clock: about 54% at 07:00 and 83% at 00:00) are now above 85%
    with 95% confidence, that no hour of either clock is shown to be below target, and
    that the plan costs at least a tenth fewer staff-hours than the own plan.
    """
    from sim.analysis.hour_verdicts import SHORT
    from sim.batch.shiftplan import check_plan
    from sim.batch.shiftroster import staff_hours
    from sim.world.staff import Roster, place_staff

    path = ROOT / "scenarios" / "jinshui_shifts.yaml"
    assert path.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=scenario.schema.json\n"
    )
    plan = sim.load_scenario(path)
    own = sim.load_scenario(ROOT / "scenarios" / "jinshui.yaml")
    assert plan.demand == own.demand and plan.dispatch == own.dispatch
    world = build_world(prepare(plan, seed=JINSHUI_SEED, days=1))
    v = check_plan(world, JINSHUI_REPS)
    lower = v.lower["enforcer_on_time"]
    assert lower[7] >= 0.85 and lower[0] >= 0.85, lower
    assert v.count["enforcer_on_time"][7] >= 100  # the bound rests on real numbers
    for clock in ("advisor_on_time", "enforcer_on_time"):
        assert not (v.status[clock] == SHORT).any(), (clock, v.mean[clock])
        assert np.isfinite(v.lower[clock]).all()  # every hour had requests to judge

    def cost(roster: Roster) -> float:
        return sum(staff_hours(roster[r]) for r in ("advisor", "enforcer"))

    assert cost(world.roster) < 0.9 * cost(place_staff(world.net, world.areas, own.staff))


def test_cli_rejects_bad_shift_rules(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = ROOT / "scenarios" / "jinshui.yaml"
    code = main(
        ["optimize", str(path), "--shifts", "--lengths", "8,30", "--out", str(tmp_path / "x")]
    )
    assert code == 2
    assert "--lengths: whole hours from 1 to 23, got [30]" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_bad_shift_options_name_arguments_and_the_cli_names_flags(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The library speaks of Python arguments; only the CLI spells them as its flags."""
    from sim.batch.shiftplan import optimize_shifts
    from sim.errors import ArgumentError

    sc = sim.load_scenario(ROOT / "scenarios" / "jinshui.yaml")
    with pytest.raises(ArgumentError) as err:
        optimize_shifts(sc, replications=1, max_replications=2000, target=1.5, method="x")
    assert err.value.problems == [
        "method: use one of lagged, sipp",
        "replications: the optimiser needs at least 2 (it uses confidence bounds)",
        "target: must be a share between 0 and 1",
        "max_replications: at least replications and at most 1000",
    ]
    assert set(err.value.arguments) == {"method", "replications", "target", "max_replications"}
    out = tmp_path / "x"
    code = main(["optimize", str(ROOT / "scenarios" / "jinshui.yaml"), "--shifts", "--out",
                 str(out), "--replications", "1", "--max-replications", "2000",
                 "--shift-target", "1.5", "--longest", "30"])  # fmt: skip
    assert code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[1:] == [
        "  --replications: the optimiser needs at least 2 (it uses confidence bounds)",
        "  --shift-target: must be a share between 0 and 1",
        "  --max-replications: at least --replications and at most 1000",
        "  --longest: hours from 1 to 23",
    ]
    assert not out.exists()


def test_a_bound_just_under_the_target_never_prints_as_the_target() -> None:
    # issue 20: a lower bound printed "95.0% ?" read as a pass
    from sim.output.shiftreport import bound_pct

    assert bound_pct(0.94999) == "94.9%" and bound_pct(0.95) == "95.0%"
    assert bound_pct(0.9) == "90.0%" and bound_pct(None) == "–"


# advisors needed per hour in Jinshui (the queue model's need of a default run)
JINSHUI_ADVISOR_NEED = [65, 58, 58, 49, 49, 58, 55, 81, 98, 87, 85, 87,
                        83, 78, 74, 82, 83, 88, 93, 95, 90, 90, 81, 69]  # fmt: skip


def test_the_default_plan_has_few_enough_kinds_of_shift_to_run() -> None:
    # issue 20: the default settings gave 22 advisor and 22 enforcer shift kinds, no roster
    # a district can run
    from sim.batch.shiftcover import FEW_KINDS
    from sim.batch.shiftplan import SHIFTS

    assert SHIFTS.max_kinds == FEW_KINDS == 6
    types = shift_types(range(24), [8, 10, 11, 12])
    night: dict[str, Any] = {"night_hours": (22, 23, 0, 1, 2, 3, 4, 5), "night_cover": 15}
    free = cover(JINSHUI_ADVISOR_NEED, types, **night)
    few = cover(JINSHUI_ADVISOR_NEED, types, max_kinds=FEW_KINDS, **night)
    assert len(free.used()) > 3 * FEW_KINDS  # what the limit is for
    assert few.feasible and len(few.used()) <= FEW_KINDS
    assert (few.on_duty >= np.array(JINSHUI_ADVISOR_NEED)).all()
    assert free.unit_hours <= few.unit_hours <= 1.1 * free.unit_hours
    # a need the free plan already covers with few kinds gets that plan, exactly
    flat = [10] * 24
    assert cover(flat, types, max_kinds=FEW_KINDS).unit_hours == cover(flat, types).unit_hours


def test_a_shift_plan_that_misses_the_target_exits_3_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    data = {
        "name": "t",
        "duration": {"days": 0.5, "warmup_hours": 2},
        "map": {"generate": {"offices_x": 2, "offices_y": 2, "office_size_m": 800}},
        "demand": {"incidents_per_day": 400},
        "rules": {"advisor_minutes": 2},  # no plan gets advisors there in 2 minutes
    }
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code = main(
        ["optimize", str(path), "--shifts", "--replications", "2", "--max-replications", "2",
         "--max-rounds", "0", "--pilot-replications", "1", "--workers", "1",
         "--out", str(tmp_path / "o")]
    )  # fmt: skip
    assert code == 3
    err = capsys.readouterr().err
    assert "target not met: no round met the target in every hour" in err
    assert (
        "--max-rounds or --max-replications" in err and (tmp_path / "o" / "t-shifts.yaml").is_file()
    )
