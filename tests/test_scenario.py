"""Scenario validation: every bad input gives exit 2 and names its field, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, SMALL_CITY

import sim
from sim.cli import main
from sim.scenario import ScenarioError, load_scenario

RUNG_CITY = {"name": "fine_city", "fine_mean": 300, "fine_cap": 500}
RUNG_ROAD = {"name": "fine_road", "fine_mean": 3000, "fine_cap": 20000}
AGUAS = ROOT / "maps" / "aguascalientes" / "aguascalientes.osm.bz2"
BOW_TIE = [[-102.30, 21.87], [-102.28, 21.89], [-102.28, 21.87], [-102.30, 21.89]]


def write(tmp_path: Path, data: Any, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def with_change(path: str, value: Any) -> dict[str, Any]:
    import copy

    data = copy.deepcopy(SMALL_CITY)
    from sim.scenario import set_by_path

    set_by_path(data, path, value)
    return data


BAD_CASES = [
    ("unknown key", with_change("staff.per_km3", 20), "staff.per_km3: unknown key"),
    ("wrong type", with_change("duration.days", "a week"), "duration.days:"),
    ("negative rate", with_change("demand.incidents_per_day", -5), "demand.incidents_per_day:"),
    (
        "shares",
        with_change("staff.mix", {"grid": 0.5, "advisor": 0.4, "enforcer": 0.3}),
        "staff.mix: role shares must sum to 1",
    ),
    (
        "shift shares",
        with_change("staff.shifts.advisor", [{"start": "07:00", "end": "15:00", "share": 0.5}]),
        "staff.shifts: advisor shift shares must sum to 1",
    ),
    (
        "bad time",
        with_change("staff.shifts.grid", [{"start": "25:00", "end": "15:00", "share": 1}]),
        "staff.shifts.grid[0].start:",
    ),
    (
        "unknown distribution",
        with_change("discovery.processing", {"dist": "gamma", "mean": 2}),
        "discovery.processing:",
    ),
    (
        "disconnected map",
        {
            "name": "d",
            "map": {
                "inline": {
                    "nodes": [
                        {"id": 1, "x": 0, "y": 0},
                        {"id": 2, "x": 100, "y": 0},
                        {"id": 3, "x": 500, "y": 0},
                    ],
                    "edges": [{"u": 1, "v": 2}],
                }
            },
        },
        "map.inline: the street network is not connected",
    ),
    (
        "area without streets",
        {
            "name": "e",
            "map": {
                "inline": {
                    "nodes": [{"id": 1, "x": 0, "y": 0}, {"id": 2, "x": 100, "y": 0}],
                    "edges": [{"u": 1, "v": 2}],
                    "offices": [
                        {"name": "West", "polygon": [[-10, -10], [150, -10], [150, 10], [-10, 10]]},
                        {"name": "Empty", "polygon": [[1000, 1000], [1100, 1000], [1100, 1100]]},
                    ],
                }
            },
        },
        "map.offices[Empty]: the area has no streets",
    ),
    (
        "unknown office",
        with_change("staff.per_km2_by_office", {"Nowhere": 25}),
        "staff.per_km2_by_office.Nowhere:",
    ),
    (
        "missing map file",
        with_change("map", {"file": "no/such/map.graphml"}),
        "map.file: no such map file",
    ),
    # issue 20: contradictions that were accepted silently
    (
        "penalty rungs out of order",
        with_change(
            "enforcement",
            {"rungs": [RUNG_ROAD, {"name": "order", "case": False}, RUNG_CITY]},
        ),
        "enforcement.rungs: rungs[1] (order) has fine_cap 0, below the 20,000 of rungs[0]",
    ),
    (
        "a rung's cap above the next rung's",
        with_change(
            "enforcement",
            {"rungs": [RUNG_CITY, {**RUNG_ROAD, "fine_mean": 300, "fine_cap": 400}]},
        ),
        "enforcement.rungs: rungs[1] (fine_road) has fine_cap 400, below the 500 of rungs[0]",
    ),
    (
        "a bow-tie cut",
        with_change("map", {"file": str(AGUAS), "cut": {"polygon": BOW_TIE}}),
        "map.cut.polygon: the polygon is not simple (Self-intersection",
    ),
]


@pytest.mark.parametrize(("label", "data", "expected"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_input_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str, data: Any, expected: str
) -> None:
    path = write(tmp_path, data)
    code, _out, err = run_cli(["validate", str(path)], capsys)
    assert code == 2, err
    assert expected in err
    assert "Traceback" not in err
    code, _, err = run_cli(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 2 and expected in err
    assert not (tmp_path / "out").exists()


def test_missing_scenario_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(["run", str(tmp_path / "nope.yaml")], capsys)
    assert code == 2 and "no such scenario file" in err


def test_all_problems_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = with_change("staff.per_km2", -1)
    data["rules"] = {"advisor_minutes": 0, "colour": "red"}
    data["demand"]["incidents_per_day"] = "many"
    code, _, err = run_cli(["validate", str(write(tmp_path, data))], capsys)
    assert code == 2
    lines = [ln.strip() for ln in err.splitlines() if ln.startswith("  ")]
    assert len(lines) == 4
    assert {ln.split(":")[0] for ln in lines} == {
        "staff.per_km2",
        "rules.advisor_minutes",
        "rules.colour",
        "demand.incidents_per_day",
    }


def test_a_bow_tie_cut_suggests_its_corners_in_order() -> None:
    data = with_change("map", {"file": str(AGUAS), "cut": {"polygon": BOW_TIE}})
    with pytest.raises(ScenarioError) as err:
        sim.scenario_from_dict(data)
    (line,) = err.value.problems
    assert line.endswith(
        "in order around its middle the corners are [-102.3, 21.87], [-102.28, 21.87], "
        "[-102.28, 21.89], [-102.3, 21.89]"
    )


def test_every_problem_at_once_missing_files_included(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 20: a copy of jinshui.yaml elsewhere reported its hotspots file, and the missing
    # map only once that was fixed
    copy = tmp_path / "elsewhere" / "jinshui.yaml"
    copy.parent.mkdir()
    copy.write_bytes((ROOT / "scenarios" / "jinshui.yaml").read_bytes())
    for command in ("validate", "run"):
        code, _, err = run_cli([command, str(copy)], capsys)
        assert code == 2 and "4 problems" in err
        fields = [ln.split(":")[0].strip() for ln in err.splitlines() if ln.startswith("  ")]
        assert fields == ["demand.hotspots_from.geojson", "map.file", "map.offices", "map.grids"]
    # with a schema problem as well, all five at once
    code, _, err = run_cli(["validate", str(copy), "--set", "staff.per_km2=-1"], capsys)
    assert code == 2 and "5 problems" in err and "staff.per_km2:" in err and "map.file:" in err


def test_set_overrides_are_validated_like_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, SMALL_CITY)
    code, _, err = run_cli(
        ["validate", str(path), "--set", "staff.per_km2=-3", "--set", "dispatch.polcy=x"], capsys
    )
    assert code == 2
    assert "staff.per_km2:" in err and "dispatch.polcy: unknown key" in err
    with pytest.raises(ScenarioError, match=r"demand\.hourly_profile"):
        load_scenario(path, ["demand.hourly_profile=[1, 2]"])
    sc = load_scenario(path, ["staff.per_km2=25", "dispatch.policy=own_grid_first"])
    assert sc.staff.per_km2 == 25 and sc.dispatch.policy == "own_grid_first"


def test_suspicious_plans_run_with_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = with_change("staff.per_km2", 12)
    data["staff"]["shifts"] = {"enforcer": [{"start": "08:00", "end": "20:00", "share": 1.0}]}
    code, _out, err = run_cli(["validate", str(write(tmp_path, data))], capsys)
    assert code == 0
    assert "warning: staff: density under 20 per km²" in err
    assert "warning: staff.shifts.enforcer: nobody on duty 20:00–08:00" in err


def test_resolved_scenario_has_every_default(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, SMALL_CITY))
    resolved = sc.resolved()
    assert (
        resolved["rules"]["advisor_minutes"] == 10 and resolved["rules"]["enforcer_minutes"] == 10
    )
    assert len(resolved["demand"]["categories"]) == 11
    # the resolved form is itself a valid scenario that gives back the same thing
    assert sim.scenario_from_dict(resolved, base_dir=tmp_path).resolved() == resolved


def test_no_traceback_from_the_real_entry_point(tmp_path: Path) -> None:
    path = write(tmp_path, with_change("demand.incidents_per_day", -1))
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 2
    assert "demand.incidents_per_day" in proc.stderr and "Traceback" not in proc.stderr


def test_set_changes_one_value_of_a_default_table(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, SMALL_CITY), ["demand.categories.noise.success=0.5"])
    assert sc.demand.categories["noise"].success == 0.5
    assert len(sc.demand.categories) == 11
    assert sc.demand.categories["sanitation"].success == 0.9


def test_unquoted_times_get_a_helpful_message(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    text = yaml.safe_dump(
        with_change("staff.shifts.grid", [{"start": "XX", "end": "15:00", "share": 1}])
    )
    path.write_text(text.replace("start: XX", "start: 10:00"), encoding="utf-8")  # YAML: 600
    with pytest.raises(
        ScenarioError, match=r'staff\.shifts\.grid\[0\]\.start: write times as quoted "HH:MM"'
    ):
        load_scenario(path)


def test_empty_hotspot_window_is_rejected(tmp_path: Path) -> None:
    data = with_change(
        "demand.hotspots",
        [
            {
                "name": "m",
                "x": 0,
                "y": 0,
                "radius_m": 50,
                "incidents_per_hour": 1,
                "start": "18:00",
                "end": "18:00",
            }
        ],
    )
    with pytest.raises(ScenarioError, match=r"demand\.hotspots\[0\]: start and end are equal"):
        load_scenario(write(tmp_path, data))


def test_an_office_without_its_own_team_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 4 people in a 0.64 km² office: a team of two would take its only advisor
    data = with_change("staff.per_km2_by_office", {"Office-01": 6})
    code, _, err = run_cli(["validate", str(write(tmp_path, data))], capsys)
    assert code == 0
    assert (
        "warning: staff: no enforcer of their own in 1 street office(s), served from neighbours: Office-01"
        in err
    )
