"""Demand that follows the map: ``demand.density``, its resolution on the map, ``--map``."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import SMALL_CITY, grid_graphml

import sim
from sim.cli import main
from sim.engine.demand import generate_incidents
from sim.output import runtext
from sim.scenario import ScenarioError, scenario_from_dict
from sim.world.build import move_to_map


def city(demand: dict[str, Any], offices_x: int = 2) -> dict[str, Any]:
    """SMALL_CITY without hotspots, ``offices_x`` offices of 800 m across, this demand."""
    data = copy.deepcopy(SMALL_CITY)
    data["map"]["generate"]["offices_x"] = offices_x
    data["demand"] = demand
    return data


def problems(data: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, overrides=overrides or {})
    return err.value.problems


# ------------------------------------------------------------------------------ the schema


def test_a_count_and_a_density_together_is_one_clear_error() -> None:
    lines = problems(city({"incidents_per_day": 100, "density": {"per_street_km": 2}}))
    assert len(lines) == 1
    assert lines[0].startswith("demand: ")
    assert "incidents_per_day" in lines[0] and "density" in lines[0] and "not both" in lines[0]


@pytest.mark.parametrize(
    "density", [{}, {"per_street_km": 2, "per_km2": 40}, {"per_street_km": None}]
)
def test_a_density_gives_exactly_one_of_its_keys(density: dict[str, Any]) -> None:
    assert problems(city({"density": density})) == [
        "demand.density: give exactly one of per_street_km and per_km2"
    ]


@pytest.mark.parametrize(
    ("density", "field", "words"),
    [
        ({"per_street_km": -1}, "per_street_km", "greater than or equal to 0"),
        ({"per_street_km": 10_001}, "per_street_km", "less than or equal to 10000"),
        ({"per_km2": float("nan")}, "per_km2", "finite"),
        ({"per_km2": float("inf")}, "per_km2", "finite"),
        ({"per_street_km": "many"}, "per_street_km", "number"),
    ],
)
def test_densities_are_bounded_and_finite(density: dict[str, Any], field: str, words: str) -> None:
    lines = problems(city({"density": density}))
    assert any(line.startswith(f"demand.density.{field}: ") and words in line for line in lines)


def test_neither_given_is_the_default_density_not_a_count() -> None:
    sc = scenario_from_dict(city({}))
    assert sc.demand.incidents_per_day is None
    assert sc.demand.density is not None and sc.demand.density.per_street_km == 2.38
    # the saved scenario says so, and reads back the same
    saved = sc.resolved()
    assert saved["demand"]["density"] == {"per_street_km": 2.38}
    assert "incidents_per_day" not in saved["demand"]  # the form not given is left out
    assert scenario_from_dict(saved).resolved() == saved


def test_overriding_both_forms_at_once_is_refused() -> None:
    sc = scenario_from_dict(city({"density": {"per_street_km": 3}}))
    with pytest.raises(ScenarioError) as err:
        sim.with_overrides(sc, {"demand.incidents_per_day": 100, "demand.density.per_km2": 40})
    assert err.value.problems == [
        "demand.density.per_km2 and demand.incidents_per_day: both give the background "
        "demand; set one of them"
    ]


def test_an_override_of_one_form_replaces_the_other() -> None:
    density = scenario_from_dict(city({"density": {"per_street_km": 3}}))
    count = sim.with_overrides(density, {"demand.incidents_per_day": 8100})
    assert count.demand.incidents_per_day == 8100 and count.demand.density is None
    area = sim.with_overrides(count, {"demand.density.per_km2": 50})
    assert area.demand.incidents_per_day is None
    assert area.demand.density is not None and area.demand.density.per_km2 == 50
    street = sim.with_overrides(area, {"demand.density.per_street_km": 4})
    assert street.demand.density is not None
    assert (street.demand.density.per_street_km, street.demand.density.per_km2) == (4, None)
    whole = sim.with_overrides(count, {"demand.density": {"per_km2": 7}})
    assert whole.demand.incidents_per_day is None
    # clearing a key (null) clears nothing else
    assert sim.with_overrides(density, {"demand.incidents_per_day": None}) == density


# ---------------------------------------------------------------------- resolved on the map


def test_the_count_is_the_density_times_the_maps_streets_or_area() -> None:
    street = sim.build_world(scenario_from_dict(city({"density": {"per_street_km": 3}})))
    assert street.volume.incidents_per_day == pytest.approx(3 * street.net.road_length_km)
    assert street.volume.given == "per_street_km"
    area = sim.build_world(scenario_from_dict(city({"density": {"per_km2": 40}})))
    assert area.volume.incidents_per_day == pytest.approx(40 * area.areas.total_km2)
    assert area.volume.per_km2 == pytest.approx(40)
    count = sim.build_world(scenario_from_dict(city({"incidents_per_day": 123})))
    assert count.volume.incidents_per_day == 123 and count.volume.given == "incidents_per_day"
    assert count.volume.per_street_km == pytest.approx(123 / count.net.road_length_km)


def test_one_density_keeps_the_load_per_street_on_a_larger_map() -> None:
    small = sim.build_world(scenario_from_dict(city({"density": {"per_street_km": 3}}, 1)))
    large = sim.build_world(scenario_from_dict(city({"density": {"per_street_km": 3}}, 3)))
    ratio = large.net.road_length_km / small.net.road_length_km
    assert ratio > 2.5
    assert large.volume.incidents_per_day / small.volume.incidents_per_day == pytest.approx(ratio)


def test_drawn_incidents_follow_the_resolved_count() -> None:
    """The engine draws the world's count: Poisson totals within 4 standard deviations."""
    data = city({"density": {"per_street_km": 2}})
    data["duration"] = {"days": 3, "warmup_hours": 0}
    world = sim.build_world(scenario_from_dict(data))
    expected = world.volume.incidents_per_day * 3
    assert 100 < expected < 10_000
    total = sum(len(generate_incidents(world, rep).occurred) for rep in range(4))
    assert abs(total - 4 * expected) < 4 * math.sqrt(4 * expected)


def test_a_density_too_large_for_the_map_is_refused_with_its_arithmetic() -> None:
    data = city({"density": {"per_street_km": 10_000}}, 3)
    data["map"]["generate"]["office_size_m"] = 5000
    with pytest.raises(ScenarioError) as err:
        sim.build_world(scenario_from_dict(data))
    (line,) = err.value.problems
    assert line.startswith("demand.density.per_street_km: 10000 per km of street × ")
    assert "incidents a day, more than the 10,000,000" in line


def test_the_summary_keeps_the_count_and_prints_it() -> None:
    data = city({"density": {"per_street_km": 2}})
    data["duration"] = {"days": 0.25, "warmup_hours": 0}
    result = sim.run(scenario_from_dict(data))
    demand = result.summary["demand"]
    km = result.world.net.road_length_km
    assert demand["given"] == "per_street_km"
    assert demand["incidents_per_day"] == pytest.approx(2 * km, abs=1e-5)
    assert demand["street_km"] == pytest.approx(km, abs=1e-5)
    assert demand["hotspots"] == 0
    # the saved scenario keeps the density as written, so it still follows its map
    assert result.summary["scenario_resolved"]["demand"]["density"]["per_street_km"] == 2
    text = runtext.summary_text(result.summary)
    assert f"demand {2 * km:,.0f} incidents a day = 2 per km of street over {km:,.0f} km" in text


# ------------------------------------------------------------------------- another map


def on_file(tmp_path: Path, demand: dict[str, Any]) -> sim.Scenario:
    grid_graphml(tmp_path / "own.graphml", 10)  # 22 km of streets
    data = {"name": "own", "map": {"file": "own.graphml"}, "demand": demand}
    return scenario_from_dict(data, base_dir=tmp_path)


def test_moving_a_count_rescales_it_by_street_length(tmp_path: Path) -> None:
    """The issue's case: a district's count moved to a small map keeps its load per street."""
    sc = on_file(tmp_path, {"incidents_per_day": 2200})
    small = grid_graphml(tmp_path / "small.graphml", 2)  # 1.2 km of streets
    moved, note = move_to_map(sc, small)
    assert moved.demand.incidents_per_day is None and moved.demand.density is not None
    assert moved.demand.density.per_street_km == pytest.approx(2200 / 22.0)
    assert note is not None
    assert note.startswith("demand.incidents_per_day 2,200 is a count for the scenario's own map")
    assert "(22 km of streets): rescaled by street length to 100 per km of street" in note
    world = sim.build_world(moved)
    assert world.volume.incidents_per_day == pytest.approx(2200 * 1.2 / 22.0)


def test_moving_a_density_changes_nothing_but_the_map(tmp_path: Path) -> None:
    sc = on_file(tmp_path, {"density": {"per_km2": 30}})
    moved, note = move_to_map(sc, grid_graphml(tmp_path / "small.graphml", 2))
    assert note is None
    assert moved.demand == sc.demand
    assert moved.map.file == str((tmp_path / "small.graphml").resolve())


def test_moving_a_count_whose_own_map_cannot_be_read_keeps_it_and_says_so(
    tmp_path: Path,
) -> None:
    sc = on_file(tmp_path, {"incidents_per_day": 500})
    (tmp_path / "own.graphml").unlink()
    moved, note = move_to_map(sc, grid_graphml(tmp_path / "small.graphml", 2))
    assert moved.demand.incidents_per_day == 500
    assert note is not None and "could not be read" in note and "kept as a count" in note


@pytest.mark.usefixtures("keep_sigterm")
def test_map_flag_says_so_in_one_line_and_runs_with_the_rescaled_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grid_graphml(tmp_path / "own.graphml", 10)
    small = grid_graphml(tmp_path / "small.graphml", 2)
    path = tmp_path / "count.yaml"
    data = {
        "name": "count",
        "duration": {"days": 0.5, "warmup_hours": 0},
        "map": {"file": "own.graphml"},
        "staff": {"per_km2": 40},
        "demand": {"incidents_per_day": 220},
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", str(path), "--map", str(small), "--out", str(out), "--no-plots"])
    err = capsys.readouterr().err
    assert code == 0, err
    moved = [line for line in err.splitlines() if line.startswith("--map: ")]
    assert moved == [
        "--map: demand.incidents_per_day 220 is a count for the scenario's own map (22 km of "
        "streets): rescaled by street length to 10 per km of street on the new map"
    ]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["demand"]["incidents_per_day"] == pytest.approx(12.0)
    assert np.isclose(summary["demand"]["per_street_km"], 10.0)


def test_the_default_district_moved_to_a_small_real_extract_keeps_a_sane_load() -> None:
    """The issue's case: jinshui.yaml with --map on a 2.4 km² city centre (the
    Aguascalientes extract shipped in maps/) once drew Jinshui's 2,700 a day there."""
    root = Path(__file__).resolve().parents[1]
    jinshui = sim.load_scenario(root / "scenarios" / "jinshui.yaml")
    moved, note = move_to_map(jinshui, root / "maps" / "aguascalientes" / "aguascalientes.osm.bz2")
    assert note is None  # a density: nothing to rescale
    result = sim.run(moved, days=0.5, replications=2)
    km = result.world.net.road_length_km
    assert 50 < km < 80
    assert result.summary["demand"]["incidents_per_day"] == pytest.approx(2.38 * km, abs=1e-4)
    assert result.summary["demand"]["hotspots"] == 0  # Jinshui's hotspots are not on this map
    assert result.summary["double_ten"] > 0.6
    assert result.summary["advisor_on_time"] > 0.9
