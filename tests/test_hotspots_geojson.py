"""Hotspots read from a map's GeoJSON (``demand.hotspots_from``) instead of copied by hand."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, SMALL_CITY

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario, scenario_from_dict, with_overrides

MARKET = {
    "name": "market",
    "radius_m": 150,
    "incidents_per_hour": 4.0,
    "start": "18:00",
    "end": "02:00",
    "categories": {"street_vending": 0.7, "noise": 0.3},
}
STATION = {"name": "station", "radius_m": 200, "incidents_per_hour": 1.5}
AT = {"market": (113.6608322, 34.7682904), "station": (113.6809232, 34.7653064)}


def feature(props: dict[str, Any], lon: float, lat: float) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {**props, "name_zh": "夜市", "note": "ignored"},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def write_geojson(path: Path, feats: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), "utf-8")
    return path


def scenario(tmp_path: Path, demand: dict[str, Any], name: str = "s.yaml") -> Path:
    data = copy.deepcopy(SMALL_CITY)
    data["demand"] = {"incidents_per_day": 600, **demand}
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


@pytest.fixture
def two_spots(tmp_path: Path) -> Path:
    return write_geojson(
        tmp_path / "spots.geojson",
        [feature(MARKET, *AT["market"]), feature(STATION, *AT["station"])],
    )


def test_loading_from_the_file_equals_writing_the_hotspots_inline(
    tmp_path: Path, two_spots: Path
) -> None:
    inline = [
        {**MARKET, "lon": AT["market"][0], "lat": AT["market"][1]},
        {**STATION, "lon": AT["station"][0], "lat": AT["station"][1]},
    ]
    a = load_scenario(scenario(tmp_path, {"hotspots": inline}, "inline.yaml"))
    b = load_scenario(scenario(tmp_path, {"hotspots_from": {"geojson": "spots.geojson"}}))
    assert b.resolved() == a.resolved()
    # the resolved scenario lists the hotspots as used, without the file
    assert [h["name"] for h in b.resolved()["demand"]["hotspots"]] == ["market", "station"]
    assert "hotspots_from" not in b.resolved()["demand"]
    # and runs again from itself without reading the file twice
    assert scenario_from_dict(b.resolved(), base_dir=Path("/nowhere")).resolved() == b.resolved()


def test_the_jinshui_scenarios_read_every_hotspot_of_the_map() -> None:
    feats = json.loads((ROOT / "maps/jinshui/hotspots.geojson").read_text("utf-8"))["features"]
    for name in ("jinshui", "jinshui_night_market", "jinshui_shifts"):
        spots = load_scenario(ROOT / "scenarios" / f"{name}.yaml").demand.hotspots
        assert [(h.name, h.lon, h.lat, h.radius_m, h.categories) for h in spots] == [
            (
                f["properties"]["name"],
                *f["geometry"]["coordinates"],
                f["properties"]["radius_m"],
                f["properties"]["categories"],
            )
            for f in feats
        ], name


def test_file_hotspots_come_first_and_overrides_change_one(tmp_path: Path, two_spots: Path) -> None:
    extra = {"name": "depot", "x": 100, "y": 100, "radius_m": 50, "incidents_per_hour": 1}
    change = {"station": {"incidents_per_hour": 6.0, "start": "07:00", "end": "09:00"}}
    sc = load_scenario(
        scenario(
            tmp_path,
            {
                "hotspots_from": {"geojson": "spots.geojson", "overrides": change},
                "hotspots": [extra],
            },
        )
    )
    spots = sc.demand.hotspots
    assert [h.name for h in spots] == ["market", "station", "depot"]
    assert (spots[1].incidents_per_hour, spots[1].start, spots[1].end) == (6.0, "07:00", "09:00")
    assert spots[1].radius_m == 200  # the file's, not changed
    assert spots[0].incidents_per_hour == 4.0


def test_the_path_is_relative_to_the_scenario_file(
    tmp_path: Path, two_spots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = scenario(tmp_path / "sub", {"hotspots_from": {"geojson": "../spots.geojson"}})
    monkeypatch.chdir(ROOT)  # where a path taken from the working folder would not find it
    assert len(load_scenario(path).demand.hotspots) == 2


def test_a_bad_feature_is_named_with_its_problem(tmp_path: Path) -> None:
    write_geojson(
        tmp_path / "spots.geojson",
        [
            feature(MARKET, *AT["market"]),
            feature({**STATION, "radius_m": -5}, *AT["station"]),
            feature({**STATION, "name": "gate", "start": "25:00"}, 0.0, 0.0),
            {"type": "Feature", "properties": {"name": "line"}, "geometry": {"type": "LineString"}},
        ],
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario(tmp_path, {"hotspots_from": {"geojson": "spots.geojson"}}))
    assert err.value.problems == [
        "demand.hotspots_from: feature 2 (station): radius_m: Input should be greater than 0",
        "demand.hotspots_from: feature 3 (gate): start: time '25:00' is not between 00:00 and 24:00",
        "demand.hotspots_from: feature 4 (line): geometry: must be a Point [lon, lat]",
    ]


@pytest.mark.parametrize(
    ("demand", "problem"),
    [
        (
            {"overrides": {"statoin": {"incidents_per_hour": 2}}},
            "demand.hotspots_from: overrides: no hotspot of this name in spots.geojson: statoin",
        ),
        (
            {"overrides": {"station": {"categories": {"noise": 0.5}}}},
            "demand.hotspots_from: feature 2 (station): hotspot category shares must sum to 1",
        ),
        (
            {"overrides": {"station": {"radius": 2}}},
            "demand.hotspots_from.overrides.station.radius: unknown key",
        ),
    ],
)
def test_bad_overrides_are_reported(
    tmp_path: Path, two_spots: Path, demand: dict[str, Any], problem: str
) -> None:
    path = scenario(tmp_path, {"hotspots_from": {"geojson": "spots.geojson", **demand}})
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_a_name_in_the_file_and_the_scenario_is_refused(tmp_path: Path, two_spots: Path) -> None:
    twice = {"name": "market", "x": 0, "y": 0, "radius_m": 50, "incidents_per_hour": 1}
    path = scenario(tmp_path, {"hotspots_from": {"geojson": "spots.geojson"}, "hotspots": [twice]})
    with pytest.raises(ScenarioError, match=r"demand: hotspot names given twice: market"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"type": "FeatureCollection", "features": [', "spots.geojson: not valid JSON"),
        ('{"type": "Feature"}', "spots.geojson: not a GeoJSON FeatureCollection"),
        (
            '{"type": "FeatureCollection", "features": [], "x": NaN}',
            "spots.geojson: not valid JSON (NaN is",
        ),
    ],
)
def test_a_file_that_is_no_feature_collection_is_refused(
    tmp_path: Path, text: str, problem: str
) -> None:
    (tmp_path / "spots.geojson").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario(tmp_path, {"hotspots_from": {"geojson": "spots.geojson"}}))
    assert err.value.problems[0].startswith(f"demand.hotspots_from: {problem}")


def test_a_missing_file_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(tmp_path, {"hotspots_from": {"geojson": "nowhere.geojson"}})
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "demand.hotspots_from.geojson: no such GeoJSON file:" in err
    assert "nowhere.geojson" in err and "Traceback" not in err


def test_overrides_reach_file_hotspots_by_their_place_in_the_list(
    tmp_path: Path, two_spots: Path
) -> None:
    path = scenario(tmp_path, {"hotspots_from": {"geojson": "spots.geojson"}})
    sc = load_scenario(path, ["demand.hotspots.1.incidents_per_hour=9"])
    assert sc.demand.hotspots[1].incidents_per_hour == 9
    assert with_overrides(sc, {"demand.hotspots.0.radius_m": 99}).demand.hotspots[0].radius_m == 99
    with pytest.raises(ScenarioError, match=r"demand\.hotspots_from\.geojson: the hotspots of"):
        load_scenario(path, ["demand.hotspots_from.geojson=other.geojson"])


def test_a_file_with_no_features_is_a_warning_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 20: an empty FeatureCollection gave no hotspots and no word
    write_geojson(tmp_path / "none.geojson", [])
    path = scenario(tmp_path, {"hotspots_from": {"geojson": "none.geojson"}})
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert "warning: demand.hotspots_from: none.geojson has no features" in err
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-plots", "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("none.geojson has no features" in w for w in summary["warnings"])
    assert "none.geojson has no features" in (out / "summary.txt").read_text(encoding="utf-8")


def test_enforcement_naming_a_hotspot_of_an_empty_file_blames_the_file(tmp_path: Path) -> None:
    # issue 20: the error blamed "enforcement:" instead of the file
    write_geojson(tmp_path / "none.geojson", [])
    data = copy.deepcopy(SMALL_CITY)
    data["demand"] = {"hotspots_from": {"geojson": "none.geojson"}}
    data["enforcement"] = {
        "offenders": {"hotspots": {"market": {"share": 1.0}}},
        "campaign": {"hotspots": ["market"]},
    }
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data, base_dir=tmp_path)
    assert err.value.problems == [
        f"enforcement.{key}: no hotspot named market in demand.hotspots or none.geojson "
        "(demand.hotspots_from, which has no features)"
        for key in ("offenders.hotspots", "campaign.hotspots")
    ]
