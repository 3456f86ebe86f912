"""One role registry (sim/roles.py); police as an optional extra unit; campaign shifts by day."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_enforcement import lone_offender

import sim
from sim.analysis.duty import duty_unit_minutes, on_shift_minutes
from sim.analysis.measures import RUN, lookup
from sim.analysis.metrics import ROLE_COLUMNS, ROLE_PLURAL
from sim.engine.crews import ROLES as CHAIN_ROLES
from sim.engine.records import COLUMNS
from sim.roles import ALL_ROLES, BY_NAME, CLOCKED_ROLES, REGISTRY, STAFF_ROLES
from sim.scenario import (
    ROLES,
    ExplicitPosts,
    RoleMix,
    RoleModes,
    RoleShifts,
    Rules,
    ScenarioError,
    Shift,
    Staff,
)
from sim.scenario.staff import OfficeShifts
from sim.world.build import build_world
from sim.world.staff import Units, shift_windows

DAY = 1440.0


# ------------------------------------------------------------------ the registry


def test_the_schema_has_one_field_per_role_of_the_registry() -> None:
    for model in (RoleShifts, OfficeShifts, RoleModes, ExplicitPosts):
        assert tuple(model.model_fields) == ALL_ROLES, model.__name__
    assert tuple(RoleMix.model_fields) == STAFF_ROLES == ROLES
    assert tuple(Rules.model_fields) == (*(f"{r}_minutes" for r in CLOCKED_ROLES), "target")
    assert {r: Rules().minutes(r) for r in CLOCKED_ROLES} == {
        r: BY_NAME[r].clock.minutes for r in CLOCKED_ROLES if BY_NAME[r].clock
    }
    # defaults come from the registry
    assert {r: getattr(RoleMix(), r) for r in STAFF_ROLES} == {
        r: BY_NAME[r].mix for r in STAFF_ROLES
    }
    assert {r: getattr(RoleModes(), r) for r in ALL_ROLES} == {r.name: r.mode for r in REGISTRY}
    assert Staff().enforcer_team_size == BY_NAME["enforcer"].team_size
    assert sum(BY_NAME[r].mix or 0 for r in STAFF_ROLES) == pytest.approx(1.0)


def test_engine_and_measures_read_the_registry() -> None:
    assert tuple(r.name for r in CHAIN_ROLES) == CLOCKED_ROLES
    assert tuple(ROLE_COLUMNS) == tuple(ROLE_PLURAL) == CLOCKED_ROLES
    for role in CHAIN_ROLES:  # the standard roles' columns are in the fixed record
        info = BY_NAME[role.name]
        assert (role.unit_column, role.prefix) == (info.unit_column, info.prefix)
        assert {role.unit_column, role.dispatched, role.arrived, role.released} <= set(COLUMNS)
        assert set(ROLE_COLUMNS[role.name]) <= set(COLUMNS)
    assert "police" not in COLUMNS  # an optional role's columns come with its stages


# ------------------------------------------------------------------ a clock for police

# Gives the police role a response clock through the registry alone (sim.roles.use, before
# the rest of sim is imported), then runs a scenario and one replication as a sweep does.
POLICE_CLOCK = r"""
import dataclasses, json, sys
import sim.roles as roles

police = dataclasses.replace(
    roles.BY_NAME["police"],
    clock=roles.Clock("police_called", 15.0, asks="police_called", short="police"),
)
roles.use(tuple(police if r.name == "police" else r for r in roles.REGISTRY))

import sim
from sim.analysis.measures import OFFICE, RUN
from sim.batch.worker import run_replication
from sim.output.strictjson import jsonable
from sim.output.runtext import summary_text
from sim.scenario import Rules

sc = sim.scenario_from_dict(json.loads(sys.argv[1]))
result = sim.run(sc)
record = run_replication(sc.resolved(), sys.argv[2], 0)

# its riders in the report's replay: as the run wrote it, and rebuilt from incidents.csv
import pathlib, re
from sim.output.report import run_report
from sim.output.results import RunFiles, write_run

folder = write_run(result, pathlib.Path(sys.argv[2]) / "run", files=RunFiles(plots=False))
def riders(html):
    block = re.search(r'id="replay-data">(.*?)</script>', html, re.S).group(1)
    data = json.loads(block)
    return {r["name"]: [r["colour"], r["marker"], len(data["trips"][r["name"]]["unit"])]
            for r in data["roles"]}

print(json.dumps(jsonable({
    "summary": result.summary, "text": summary_text(result.summary), "row": record["measures"],
    "office": record["by_office"][0], "run": list(RUN), "office_measures": list(OFFICE),
    "rules": list(Rules.model_fields),
    "replay": [riders((folder / "report.html").read_text(encoding="utf-8")),
               riders(run_report(folder))],
})))
"""


def test_a_police_clock_is_one_registry_entry(tmp_path: Path) -> None:
    data = _police_case(True)
    data["rules"] = {"police_minutes": 15}  # the deadline the new clock brings to the schema
    with pytest.raises(ScenarioError, match=r"rules\.police_minutes: unknown key"):
        sim.scenario_from_dict(data)  # not a key of the registry as it is
    out = subprocess.run(
        [sys.executable, "-c", POLICE_CLOCK, json.dumps(data), str(tmp_path)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1],
    )  # fmt: skip
    got = json.loads(out.stdout)
    s, row = got["summary"], got["row"]
    assert got["rules"] == ["advisor_minutes", "enforcer_minutes", "police_minutes", "target"]
    # its clock: every call answered within 15 minutes (3 minutes by car at most)
    calls = s["enforcement"]["police"]["calls"]
    assert calls >= 5 and s["police_requests"] == calls
    assert s["police_on_time"] == 1.0
    wait = s["enforcement"]["police"]["wait_min"]  # the enforcement chain's own measure
    assert s["police_response_min"]["mean"] == pytest.approx(wait) and 0 < wait <= 3
    # its utilisation and load
    assert 0 < s["utilization"]["police"] < 1
    assert s["overload"]["police"]["offered_load_ratio"] > 0
    # its summary lines: a row of the clocks table, and its part of the role lines
    lines = got["text"].splitlines()
    assert any(line.startswith("police within 15 min") for line in lines)
    util = next(line for line in lines if line.startswith("utilization"))
    assert "advisor" in util and "enforcer" in util and "police" in util
    # its sweep columns, with the values of the run, and its office measure
    new = {"police_on_time", "police_requests", "utilization.police"}
    new |= {f"police_response_min.{q}" for q in ("mean", "p50", "p90", "p95")}
    new |= {f"overload.police.{k}" for k in ("offered_load_ratio", "unstable")}
    assert new <= set(got["run"]) and not new & set(RUN)
    for name in new:
        assert row[name] == pytest.approx(lookup(s, name), abs=1e-6), name
    assert "police_on_time" in got["office_measures"] and "police_on_time" in got["office"]
    # its units ride in the report's replay, drawn as the registry says, with no edit there
    police = BY_NAME["police"]
    for riders in got["replay"]:
        assert list(riders) == ["advisor", "enforcer", "police"]
        assert riders["police"][:2] == [police.colour, police.marker]
        assert riders["police"][2] > 0  # its rides of the day


# ------------------------------------------------------------------ police


def _police_case(police: bool, days: float = 8) -> dict[str, Any]:
    """The lone offender on a two-node street; every escalation meets resistance."""
    data = lone_offender(days=days)
    data["map"] = {
        "inline": {
            "nodes": [{"id": 0, "x": 0, "y": 0}, {"id": 1, "x": 1000, "y": 0}],
            "edges": [{"u": 0, "v": 1}],
        }
    }
    data["demand"]["categories"]["only"]["handling"] = {"dist": "fixed", "value": 12}
    data["enforcement"]["cases"]["resistance"] = 1.0
    data["enforcement"]["cases"]["police_minutes"] = {"dist": "fixed", "value": 30}
    data["travel"] = {"speed_kmh": {"car": 20.0, "ebike": 15.0}}
    if police:
        data["staff"]["posts"]["police"] = [{"node": 1}]
    return data


def test_police_unit_comes_from_its_post_and_the_team_waits_for_it() -> None:
    t = sim.run(sim.scenario_from_dict(_police_case(True))).table
    called = np.isfinite(t["police_called"])
    assert called.sum() >= 5 and t["police_support"][called].all()
    assert not np.isfinite(t["police_called"][~t["police_support"]]).any()
    # the team calls as it comes to enforce: after its 12 minutes of handling
    assert np.allclose(t["police_called"][called], t["enforcer_arrived"][called] + 12)
    assert np.allclose(t["police_dispatched"][called], t["police_called"][called])  # free
    # 1000 m by car at 20 km/h: 3 minutes from node 1 to node 0, none at node 1
    ride = np.where(t["node"][called] == 0, 3.0, 0.0)
    assert (ride > 0).any()
    assert np.allclose(t["police_arrived"][called], t["police_called"][called] + ride)
    # then 30 minutes with police on scene; both leave, the team closes the case
    assert np.allclose(t["closed"][called], t["police_arrived"][called] + 30)
    assert np.allclose(t["police_released"][called], t["closed"][called] + ride)
    assert (t["police"][called] == 0).all()
    summary = sim.run(sim.scenario_from_dict(_police_case(True))).summary
    assert summary["headcount"]["police"] == 2 and summary["headcount"]["total"] == 3  # 1 + team
    s = summary["enforcement"]["police"]
    assert s["calls"] == s["answered"] == int(called.sum())
    assert s["wait_min"] == pytest.approx(float(ride.mean()), abs=1e-6)
    assert s["on_scene_within_target"] == 1.0


def test_without_police_the_stage_only_lengthens_time_on_scene() -> None:
    t = sim.run(sim.scenario_from_dict(_police_case(False))).table
    assert "police_called" not in t.columns and "police" not in t.columns
    done = t["police_support"] & np.isfinite(t["closed"])
    assert done.any()
    assert np.allclose(t["closed"][done], t["enforcer_arrived"][done] + 12 + 30)
    # the same incidents and draws with police posted (common random numbers)
    u = sim.run(sim.scenario_from_dict(_police_case(True))).table
    for col in ("occurred", "instructed", "enforcer_arrived", "police_support"):
        assert np.array_equal(t[col], u[col])


def test_police_runs_are_deterministic() -> None:
    data = _police_case(True)
    a = sim.run(sim.scenario_from_dict(data), replications=2).table
    b = sim.run(sim.scenario_from_dict(data), replications=2).table
    for col in a.columns:
        assert np.array_equal(a[col], b[col], equal_nan=True), col


def test_police_per_office_and_its_keys() -> None:
    data = copy.deepcopy(_police_case(False))
    data["staff"] = {"per_km2": 20, "police_per_office": 2}
    data["map"] = {"generate": {"offices_x": 2, "offices_y": 1, "office_size_m": 600}}
    w = build_world(sim.scenario_from_dict(data))
    units = w.roster["police"]
    assert units.n == 4 and units.people_per_unit == BY_NAME["police"].team_size
    assert np.bincount(units.office).tolist() == [2, 2]
    assert "police" not in w.roster.headcount()  # not city-management staff
    assert "police" in w.roster.present() and "police" in w.tables
    data["staff"]["posts"] = {"advisor": [{"node": 0}]}
    with pytest.raises(ScenarioError, match=r"staff\.posts\.police"):
        sim.scenario_from_dict(data)


# ------------------------------------------------------------------ shifts by day


def _units(shifts: list[Shift]) -> Units:
    n = 1
    return Units(
        role="enforcer",
        node=np.zeros(n, dtype=np.int64),
        office=np.zeros(n, dtype=np.int64),
        grid=np.zeros(n, dtype=np.int64),
        shift=np.zeros(n, dtype=np.int64),
        shifts=shift_windows(shifts),
    )


def test_an_extended_shift_holds_on_the_campaign_days_only() -> None:
    ordinary = [Shift(start="08:00", end="16:00", share=1.0)]
    extended = [Shift(start="16:00", end="02:00", share=1.0)]
    u = _units(ordinary).with_period(2, 4, extended)  # days 2 and 3
    at = lambda day, hh: u.on_duty(day * DAY + hh * 60.0)[0]  # noqa: E731
    assert at(1, 9) and not at(1, 17) and not at(1, 23)  # ordinary day
    assert not at(2, 9) and at(2, 17) and at(2, 23) and at(3, 1)  # campaign days
    assert at(4, 1) and not at(4, 3)  # the last campaign evening's shift is worked to 02:00
    assert at(4, 9) and not at(4, 17)  # the ordinary plan again
    assert not at(2, 1)  # the ordinary day before had no night shift
    # duty minutes agree with on_duty, minute by minute
    minutes = np.arange(0, 6 * DAY, 1.0)
    on = np.array([u.on_duty(m + 0.5)[0] for m in minutes])
    assert duty_unit_minutes(u, 0.0, 6 * DAY) == pytest.approx(on.sum())
    assert on_shift_minutes(u, np.array([0]), 2 * DAY, 3 * DAY)[0] == pytest.approx(
        on[int(2 * DAY) : int(3 * DAY)].sum()
    )
    assert u.boundaries() == [120.0, 480.0, 960.0]  # shift changes of both patterns


def test_campaign_enforcer_shifts_only_on_its_days() -> None:
    data = lone_offender(days=6)
    data["staff"]["shifts"] = {"enforcer": [{"start": "08:00", "end": "16:00", "share": 1.0}]}
    data["enforcement"]["campaign"] = {
        "enabled": True,
        "start_day": 2,
        "days": 2,
        "enforcer_shifts": [{"start": "16:00", "end": "02:00", "share": 1.0}],
    }
    w = build_world(sim.scenario_from_dict(data))  # a whole world: the campaign's days too
    u = w.roster["enforcer"]
    per_day = [sum(bool(u.on_duty(d * DAY + h * 60 + 1)[0]) for h in range(24)) for d in range(6)]
    assert per_day == [8, 8, 8, 2 + 8, 2 + 8, 8]  # campaign: days 2 and 3
    assert w.scenario.staff.shifts.enforcer[0].start == "08:00"  # the scenario is unchanged
