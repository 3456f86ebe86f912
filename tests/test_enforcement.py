"""The enforcement chain: offenders, the progressive penalty, the court, deterrence, campaign."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from conftest import FIXED0, SMALL_CITY, instant_discovery, one_category

import sim
from sim.engine.campaign import plan as campaign_plan
from sim.engine.campaign import weekly_counts, weeks_to_fraction
from sim.engine.offenders import OffenderRun, simulate_offenders
from sim.scenario import Scenario
from sim.world.build import build_world

DAY = 1440.0


def _fixed_days(v: float) -> dict[str, float]:
    return {"mean": v, "sd": 0.0}


def lone_offender(court: bool = False, days: float = 8) -> dict[str, Any]:
    """One offender on a one-node map who offends every day and is always sanctioned."""
    return {
        "name": "lone",
        "duration": {"days": days, "warmup_hours": 0},
        "map": {"inline": {"nodes": [{"id": 0, "x": 0, "y": 0}]}},
        "staff": {"posts": {"advisor": [{"node": 0}], "enforcer": [{"node": 0}]}},
        "demand": {
            "incidents_per_day": 1,
            "hourly_profile": [1] * 24,
            "categories": one_category(FIXED0, 0.0),
        },
        "discovery": instant_discovery(),
        "dispatch": {"advisor_turnout": FIXED0, "enforcer_turnout": FIXED0},
        "evaluation": {"enabled": False},
        "enforcement": {
            "enabled": True,
            "offenders": {
                "categories": {"only": {"share": 1.0, "daily_p": 1.0}},
                "spread": 0,
                "turnover_per_day": 0,
            },
            "rungs": [
                {"name": "order", "case": False},
                {"name": "fine_city", "fine_mean": 200, "fine_cap": 500},
                {"name": "fine_road", "fine_mean": 5000, "fine_cap": 20000},
            ],
            "deterrence": {"prior_certainty": 0, "own_weight": 0, "neighbour_weight": 0},
            "cases": {
                "track": 1.0,
                "decision": 1.0,
                "mediation": 0.0,
                "unpaid": 1.0 if court else 0.0,
                "resistance": 0.0,
                "approval": _fixed_days(1),
                "pay_time": _fixed_days(1),
            },
            "court": {
                "referral": 1.0,
                "ruling": 1.0,
                "referral_time": _fixed_days(1),
                "ruling_time": _fixed_days(1),
            },
        },
    }


def _offenders(data: dict[str, Any], rep: int = 0) -> tuple[Scenario, OffenderRun]:
    sc = sim.scenario_from_dict(data)
    w = build_world(sc)
    names = [s.name for s in w.sites]
    run = simulate_offenders(w, rep, campaign_plan(sc, names))
    return sc, run


def test_one_offender_climbs_every_rung_by_hand() -> None:
    sc, run = _offenders(lone_offender())
    assert run.population.n == 1
    # day 0 an order to correct, day 1 the city fine, from day 2 the road fine
    assert run.n == 8
    assert list(run.offender) == [0] * 8
    assert list(run.rung) == [0, 1, 2, 2, 2, 2, 2, 2]
    assert np.array_equal(run.occurred // DAY, np.arange(8))
    # only fines file cases; fines are the rung's fixed mean
    assert list(run.cases.rung) == [1, 2, 2, 2, 2, 2, 2]
    assert list(run.cases.fine) == [200.0] + [5000.0] * 6
    result = sim.run(sc)
    cases = result.cases
    assert cases is not None and len(cases) == 7
    inc = result.table
    assert np.all(inc["offender"] == 0)
    # each case is filed when its incident is closed; decided a day later; paid a day after
    closed = inc["closed"][cases["incident"]]
    assert np.allclose(cases["filed"], closed)
    assert np.allclose(cases["decision_at"] - cases["filed"], DAY)
    assert np.allclose(cases["paid_at"] - cases["filed"], 2 * DAY)
    assert not cases["referred"].any()
    e = result.summary["enforcement"]
    assert e["repeat_share"] == 1.0
    assert e["cases"] == 7 and e["decisions"] == 7 and e["fines_yuan"] == 200 + 6 * 5000


def test_unpaid_fine_goes_to_court_and_the_ruling_ends_the_offending() -> None:
    sc, run = _offenders(lone_offender(court=True, days=20))
    # the first fine (day 1) is referred and ruled 1+1+1+1 days after filing: the court
    # enforces on day 5, and the offender offends no more from then on
    assert run.gone_day[0] == 6
    assert run.occurred.max() < 6 * DAY
    result = sim.run(sc)
    cases = result.cases
    assert cases is not None
    first = int(np.argmin(cases["filed"]))
    assert cases["referred"][first] and cases["ruled"][first]
    assert np.isclose(cases["referred_at"][first] - cases["filed"][first], 3 * DAY)
    assert np.isclose(cases["ruled_at"][first] - cases["filed"][first], 4 * DAY)
    e = result.summary["enforcement"]
    assert e["court_referrals"] == e["rulings"] == len(cases)
    assert e["offenders_active"] == {"start": 1.0, "end": 0.0}


def test_court_enforcement_clears_the_neighbours() -> None:
    data = lone_offender(court=True, days=20)
    data["enforcement"]["offenders"]["categories"]["only"]["daily_p"] = 0.2
    data["demand"]["incidents_per_day"] = 4  # 20 offenders on the one node
    data["enforcement"]["court"]["quit"] = 1.0
    _, run = _offenders(data)
    assert run.population.n == 20
    first_ruling = int(run.gone_day.min())
    assert np.all(run.gone_day <= first_ruling)  # the whole street cleared that day
    data["enforcement"]["court"]["quit"] = 0.0
    data["enforcement"]["court"]["radius_m"] = 0.0
    _, alone = _offenders(data)
    assert np.isinf(alone.gone_day).any()  # without the example, some stay


def _street(track: float, days: float = 60) -> dict[str, Any]:
    data = copy.deepcopy(SMALL_CITY)
    data["duration"] = {"days": days, "warmup_hours": 0}
    data["evaluation"] = {"enabled": False}
    data["enforcement"] = {
        "enabled": True,
        "offenders": {
            "categories": {"street_vending": {"share": 0.8, "daily_p": 0.6}},
            "hotspots": {"market": {"share": 1.0, "daily_p": 0.8}},
            "turnover_per_day": 0.0,
        },
        "cases": {"track": track},
        "campaign": {"hotspots": ["market"], "days": days},
    }
    return data


def _rate(run: OffenderRun, first: int, last: int) -> float:
    """Offences per active offender and day over days [first, last)."""
    days = run.occurred // DAY
    n = ((days >= first) & (days < last)).sum()
    active = sum(run.active_at(d).sum() for d in range(first, last))
    return float(n / active)


def test_deterrence_makes_reoffending_fall() -> None:
    _, none = _offenders(_street(track=0.0))
    _, some = _offenders(_street(track=1.0))
    assert some.population.n == none.population.n
    # without sanctions the rate stays; with them each offender's rate falls over time
    assert abs(_rate(none, 50, 60) / _rate(none, 0, 10) - 1) < 0.15
    assert _rate(some, 50, 60) < 0.7 * _rate(some, 0, 10)
    assert some.n < none.n


def test_campaign_brings_the_market_to_zero_and_without_it_not() -> None:
    data = _street(track=0.1, days=63)
    _, without = _offenders(data)
    data["enforcement"]["campaign"]["enabled"] = True
    _, with_ = _offenders(data)
    spot = lambda r: r.occurred[r.population.hotspot[r.offender] == 0]  # noqa: E731
    w0 = weekly_counts(spot(without), 0, 63 * DAY)
    w1 = weekly_counts(spot(with_), 0, 63 * DAY)
    assert w0[0] > 20 and w1[0] > 5
    assert weeks_to_fraction(w1, 0.05) is not None
    assert w1[-1] < 0.05 * w1[0]
    assert weeks_to_fraction(w0, 0.05) is None
    assert w0[-3:].mean() > 0.5 * w0[0]


def test_campaign_measures_in_the_summary() -> None:
    data = _street(track=0.1, days=21)
    data["enforcement"]["campaign"]["enabled"] = True
    result = sim.run(sim.scenario_from_dict(data), replications=2)
    c = result.summary["enforcement"]["campaign"]
    assert c["first_week"] > 0 and c["last_week"] < c["first_week"]
    assert c["enforcer_hours"] > c["joint_person_hours"] > 0
    assert c["fines_yuan"] > 0


def test_same_seed_same_chain_and_common_random_numbers() -> None:
    data = _street(track=0.3, days=10)
    a = sim.run(sim.scenario_from_dict(data))
    b = sim.run(sim.scenario_from_dict(data))
    assert a.cases is not None and b.cases is not None
    for k in a.cases.columns:
        assert np.array_equal(a.cases[k], b.cases[k], equal_nan=True), k
    assert np.array_equal(a.table["offender"], b.table["offender"])
    # the offender process runs ahead of the engine: another dispatch, same offences
    data2 = copy.deepcopy(data)
    data2["dispatch"] = {"policy": "own_grid_first"}
    c = sim.run(sim.scenario_from_dict(data2))
    for name in ("occurred", "offender", "node"):
        assert np.array_equal(a.table[name], c.table[name]), name
    # police support lengthens handling only: who offends when is unchanged
    data3 = copy.deepcopy(data)
    data3["enforcement"]["cases"]["police_minutes"] = {"dist": "fixed", "value": 90}
    d = sim.run(sim.scenario_from_dict(data3))
    assert np.array_equal(a.table["occurred"], d.table["occurred"])
    # background rows of other categories stay put when one category's share changes
    data4 = copy.deepcopy(data)
    data4["enforcement"]["offenders"]["categories"]["noise"] = {"share": 0.5}
    e = sim.run(sim.scenario_from_dict(data4))
    keep = lambda t: (t["offender"] < 0) & (t["category"] != 4) & (t["category"] != 10)  # noqa: E731
    assert np.array_equal(a.table["occurred"][keep(a.table)], e.table["occurred"][keep(e.table)])


def test_enforcement_keys_are_validated() -> None:
    import pytest

    from sim.scenario import ScenarioError

    data = _street(track=0.3)
    data["enforcement"]["offenders"]["categories"]["nope"] = {"share": 0.1}
    data["enforcement"]["campaign"]["hotspots"] = ["nowhere"]
    with pytest.raises(ScenarioError) as err:
        sim.scenario_from_dict(data)
    assert "nope" in str(err.value)
    data = _street(track=0.3)
    data["enforcement"]["rungs"] = [{"name": "x", "fine_mean": 600, "fine_cap": 500}]
    with pytest.raises(ScenarioError):
        sim.scenario_from_dict(data)


def test_police_support_and_joint_team_are_stages_of_the_chain() -> None:
    from sim.engine.chain import standard_chain
    from sim.engine.enforcement import enforcement_chain

    names = [s.name for s in enforcement_chain(standard_chain()).stages]
    assert names.index("police_support") == names.index("handling") + 1
    data = _street(track=1.0, days=7)
    data["enforcement"]["cases"]["resistance"] = 0.5
    data["enforcement"]["cases"]["police_minutes"] = {"dist": "fixed", "value": 90}
    data["enforcement"]["campaign"]["enabled"] = True
    t = sim.run(sim.scenario_from_dict(data)).table
    done = np.isfinite(t["closed"]) & t["escalated"]
    police, joint = t["police_support"], t["joint"]
    assert (done & police).any() and (done & ~police).any() and joint.any()
    assert not (police | joint)[t["offender"] < 0].any()  # one-off incidents: neither
    data["enforcement"]["cases"]["police_minutes"] = {"dist": "fixed", "value": 0}
    u = sim.run(sim.scenario_from_dict(data)).table
    # the named draw lengthens time on scene where police came, and only there
    on_scene = lambda x: x["closed"] - x["enforcer_arrived"]  # noqa: E731
    assert np.allclose(on_scene(t)[done & police], on_scene(u)[done & police] + 90)
    assert np.allclose(on_scene(t)[done & ~police], on_scene(u)[done & ~police])
    # the joint team skips the persuasion round: no time persuading, never persuaded
    seen = joint & np.isfinite(t["persuasion_ended"])
    assert seen.any()
    assert np.array_equal(t["persuasion_ended"][seen], t["advisor_arrived"][seen])
    assert not t["persuaded"][joint].any()


def _campaign(days: float, **campaign: Any) -> dict[str, Any]:
    data = _street(track=0.1, days=days)
    data["enforcement"]["campaign"].update({"enabled": True, "days": 90, **campaign})
    return data


def test_a_campaign_that_starts_after_the_run_is_a_warning_not_a_crash() -> None:
    # issue 20: start_day 10 in a 7-day run ended in "internal error (ValueError: 'minlength'
    # must not be negative)" after the whole simulation
    assert len(weekly_counts(np.array([1.0, 2.0]), 10 * DAY, 7 * DAY)) == 0
    result = sim.run(sim.scenario_from_dict(_campaign(7, start_day=10)))
    c = result.summary["enforcement"]["campaign"]
    assert c["in_run"] is False and c["days"] == 0 and c["joint_person_hours"] == 0
    assert any("campaign.start_day" in w and "not in the run" in w for w in result.warnings)
    assert result.summary["warnings"] == result.warnings
    from sim.output.runtext import summary_text

    text = summary_text(result.summary)
    assert "not in the run" in text and "Warnings" in text


def test_campaign_costs_cover_only_the_days_simulated() -> None:
    # issue 20: a 14-day run reported the 90 planned days' 5,760 hours of joint enforcement
    result = sim.run(sim.scenario_from_dict(_campaign(10)))
    c = result.summary["enforcement"]["campaign"]
    assert (c["days"], c["planned_days"], c["in_run"]) == (10, 90, True)
    # 8 people, 18:00-02:00 every evening; the last evening's 2 hours after midnight fall
    # after the run's end
    assert c["joint_person_hours"] == 8 * (9 * 8 + 6)
    assert c["enforcer_hours"] == c["joint_person_hours"] + c["enforcer_team_hours"]
    from sim.output.runtext import campaign_text

    text = campaign_text(c, {}, 1)
    assert "10 of its 90 days in the run" in text and "624 of joint" in text


def test_a_campaign_that_is_off_prints_one_short_sentence() -> None:
    data = _street(track=0.1, days=14)  # the campaign names its hotspot, but is off
    c = sim.run(sim.scenario_from_dict(data)).summary["enforcement"]["campaign"]
    from sim.output.runtext import campaign_text

    text = campaign_text(c, {}, 1)
    assert text.startswith("归零 campaign: off;") and "\n" not in text
    assert "0 days" not in text and "not reached" not in text and "after" not in text


def test_counts_of_one_replication_print_as_whole_numbers() -> None:
    from sim.output.runtext import summary_text

    data = _street(track=0.5, days=7)
    one = summary_text(sim.run(sim.scenario_from_dict(data)).summary)
    rows = {line.split("  ")[0]: line for line in one.splitlines()}
    for words in ("sent to court", "court rulings", "mediations", "police support"):
        assert ".0 " not in rows[words] + " " and "." not in rows[words].split()[-2], rows[words]
    # a mean over replications keeps its decimal
    two = summary_text(sim.run(sim.scenario_from_dict(data), replications=2).summary)
    assert any(line.startswith("mediations") and "." in line for line in two.splitlines())


def test_validate_warns_of_a_campaign_after_the_run(tmp_path: Any, capsys: Any) -> None:
    import yaml

    from sim.cli import main

    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump(_campaign(7, start_day=10)), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert "warning: enforcement.campaign.start_day: the campaign starts on day 10" in (
        capsys.readouterr().err
    )
