"""The roster file (``staff.roster``): the district's own posts, snapped to the streets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import SMALL_CITY, grid_graphml
from pyproj import Transformer

import sim
from sim import budget
from sim.cli import main
from sim.scenario import ScenarioError, resolve_scenario, scenario_from_dict
from sim.world import rosterfile

X0, Y0 = 700000.0, 3850000.0  # south-west corner of grid_graphml's streets (UTM 49N)
TO_LONLAT = Transformer.from_crs("EPSG:32649", "EPSG:4326", always_xy=True)
HEADER = "name,role,office,shift,x,y,count"


def row(name: str, role: str, office: str, shift: str, x: float, y: float, count: str = "") -> str:
    """A CSV row of HEADER at ``x``, ``y`` metres from the grid's corner (map coordinates)."""
    return f"{name},{role},{office},{shift},{X0 + x:.2f},{Y0 + y:.2f},{count}"


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Map metres (from the grid's corner) → lon/lat."""
    lon, lat = TO_LONLAT.transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


def scenario(folder: Path, roster: str, text: str, **staff: Any) -> sim.Scenario:
    """Six 100 m blocks a side (600 m) in square offices of 300 m (A1, B1, C1, A2, …), and
    the roster ``text`` written to ``folder/roster``."""
    grid_graphml(folder / "streets.graphml", 6)
    (folder / roster).write_text(text, encoding="utf-8")
    data = {
        "name": "roster",
        "duration": {"days": 0.25, "warmup_hours": 0},
        "map": {"file": "streets.graphml", "office_size_m": 300, "grid_size_m": 300},
        "staff": {
            "per_km2": 40,
            "roster": {"file": roster, "shifts": {"day": "07:00-19:00", "night": "19:00-07:00"}},
            **staff,
        },
        "demand": {"incidents_per_day": 50},
    }
    return scenario_from_dict(data, base_dir=folder)


def problems(sc: sim.Scenario) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        sim.build_world(sc)
    return err.value.problems


# --------------------------------------------------------------------------- placing


def test_listed_roles_stand_at_their_snapped_posts_the_rest_by_density(tmp_path: Path) -> None:
    text = "\n".join(
        [
            HEADER,
            row(
                "Gate", "advisor", "", "", 210, 330, ""
            ),  # 10 m from the street x = 200, nearer its node 2-3
            row("Market", "advisor", "B2", "day", 590, 585, "2"),  # in B2 already; two advisors
            row("Depot", "enforcer", "A1", "19:00-07:00", 5, 5, ""),  # one team, at the corner
        ]
    )
    world = sim.build_world(scenario(tmp_path, "posts.csv", text))
    ids = world.net.ids
    adv, enf = world.roster["advisor"], world.roster["enforcer"]
    assert [ids[k] for k in adv.node] == ["2-3", "6-6", "6-6"]
    assert [ids[k] for k in enf.node] == ["0-0"]
    office = world.areas.office_names
    assert [office[k] for k in adv.office] == [
        office[world.areas.node_office[adv.node[0]]],
        "B2",
        "B2",
    ]
    assert office[enf.office[0]] == "A1"
    # grid members are not in the roster: placed by density exactly as without one
    plain = sim.build_world(sim.with_overrides(world.scenario, {"staff.roster": None}))
    assert np.array_equal(world.roster["grid"].node, plain.roster["grid"].node)
    assert world.roster.rostered == ("advisor", "enforcer")
    assert world.roster["enforcer"].people == 2  # one team of enforcer_team_size


def test_shifts_by_name_by_window_or_the_roles_list(tmp_path: Path) -> None:
    text = "\n".join(
        [
            HEADER,
            row("a", "advisor", "", "day", 100, 100, ""),
            row("b", "advisor", "", "night", 100, 100, ""),
            row(
                "c", "advisor", "", "08:00–12:00", 100, 100, ""
            ),  # an en dash, as spreadsheets write it
            row("d", "advisor", "", "", 100, 100, ""),  # the role's list: 10:00-14:00
        ]
    )
    shifts = {"advisor": [{"start": "10:00", "end": "14:00", "share": 1.0}]}
    world = sim.build_world(scenario(tmp_path, "posts.csv", text, shifts=shifts))
    adv = world.roster["advisor"]
    on = {h: adv.on_duty(h * 60.0 + 1).tolist() for h in (3, 9, 11, 13, 20)}
    assert on == {
        3: [False, True, False, False],
        9: [True, False, True, False],
        11: [True, False, True, True],
        13: [True, False, False, True],
        20: [False, True, False, False],
    }


def test_lon_lat_and_geojson_rosters_land_on_the_same_nodes(tmp_path: Path) -> None:
    points = [(210.0, 330.0), (590.0, 585.0)]
    rows = [HEADER.replace(",x,y,", ",lon,lat,")]
    feats = []
    for i, (x, y) in enumerate(points):
        lon, lat = lonlat(x, y)
        rows.append(f"p{i},advisor,,,{lon:.8f},{lat:.8f},")
        feats.append(
            {
                "type": "Feature",
                "properties": {"name": f"p{i}", "role": "劝导员", "note": "ignored"},
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
        )
    csv_world = sim.build_world(scenario(tmp_path, "posts.csv", "\n".join(rows)))
    geo = json.dumps({"type": "FeatureCollection", "features": feats})
    geo_world = sim.build_world(scenario(tmp_path, "posts.geojson", geo))
    ids = csv_world.net.ids
    assert [ids[k] for k in csv_world.roster["advisor"].node] == ["2-3", "6-6"]
    assert np.array_equal(csv_world.roster["advisor"].node, geo_world.roster["advisor"].node)


def test_chinese_headers_and_roles_in_a_gb18030_file(tmp_path: Path) -> None:
    lon, lat = lonlat(210, 330)
    text = (
        f"名称,角色,街道,班次,经度,纬度\n东门,执法队,A2,,{lon},{lat}\n北门,网格员,,,{lon},{lat}\n"
    )
    grid_graphml(tmp_path / "streets.graphml", 6)
    sc = scenario(tmp_path, "posts.csv", "")
    (tmp_path / "posts.csv").write_bytes(text.encode("gb18030"))
    world = sim.build_world(sc)
    assert world.roster["enforcer"].n == 1 and world.roster["grid"].n == 1
    assert world.areas.office_names[world.roster["enforcer"].office[0]] == "A2"
    assert world.roster.rostered == ("grid", "enforcer")


def test_a_post_far_from_any_street_is_a_warning_with_its_distance(tmp_path: Path) -> None:
    text = "\n".join(
        [
            HEADER,
            row("mid-block", "advisor", "", "", 245, 240),  # 40 m from y = 200, nearer 2-2
            row("on the street", "advisor", "", "", 300, 250),
        ]
    )
    sc = scenario(tmp_path, "posts.csv", text)
    sc = sim.with_overrides(sc, {"staff.roster.snap_warn_m": 30})
    world = sim.build_world(sc)
    far = [w for w in world.warnings if w.startswith("staff.roster.file:")]
    assert far == [
        "staff.roster.file: posts.csv row 2 (mid-block): 40 m from the nearest street "
        "(staff.roster.snap_warn_m: 30); posted at node 2-2"
    ]


def test_every_problem_of_a_roster_at_once_one_line_each(tmp_path: Path) -> None:
    text = "\n".join(
        [
            HEADER,
            row("ok", "advisor", "", "", 100, 100, ""),
            row("typo", "advisr", "", "", 100, 100, ""),
            "nowhere,enforcer,,,abc,,",  # no number, no y
            row("shift", "advisor", "", "late", 100, 100, ""),
            row("count", "advisor", "", "", 100, 100, "0"),
            row("empty window", "advisor", "", "07:00-07:00", 100, 100, ""),
        ]
    )
    lines = problems(scenario(tmp_path, "posts.csv", text))
    at = "staff.roster.file: posts.csv"
    assert lines == [
        f"{at} row 3 (typo): role: 'advisr' is not a role: grid, advisor, enforcer, police "
        "(or 网格员, 劝导员, 执法队, 公安警务室)",
        f"{at} row 4 (nowhere): x: 'abc' is not a number",
        f"{at} row 4 (nowhere): y: missing",
        f"{at} row 5 (shift): shift: 'late' is neither \"HH:MM-HH:MM\" nor a name of "
        "staff.roster.shifts (day, night)",
        f"{at} row 6 (count): count: 0 is not a whole number from 1 to 1,000",
        f"{at} row 7 (empty window): shift: start and end are equal; use 00:00 to 24:00 for all day",
    ]


def test_posts_off_the_map_and_unknown_offices_are_errors_on_the_map(tmp_path: Path) -> None:
    text = "\n".join(
        [
            HEADER,
            row("ok", "advisor", "A1", "", 100, 100, ""),
            row("east", "advisor", "", "", 2600, 300, ""),  # 2 km east of the map
            row("near", "advisor", "", "", 650, 300, ""),  # 50 m beyond the last street: snapped
            row("a", "advisor", "Nowhere", "", 100, 100, ""),
            row("b", "enforcer", "Nowhere", "", 100, 100, ""),
        ]
    )
    lines = problems(scenario(tmp_path, "posts.csv", text))
    assert lines == [
        "staff.roster.file: posts.csv row 3 (east): off the map, 2.0 km outside its street offices",
        "staff.roster.file: office 'Nowhere' (row 5, row 6) is not a street office on the map "
        "(A1, B1, C1, A2, B2, C2, A3, B3 …)",
    ]


def test_lon_lat_on_a_map_without_coordinates_says_to_give_x_and_y(tmp_path: Path) -> None:
    (tmp_path / "posts.csv").write_text("role,lon,lat\nadvisor,113.7,34.8\n", encoding="utf-8")
    data = {
        "name": "gen",
        "map": {"generate": {"offices_x": 1, "offices_y": 1, "office_size_m": 400}},
        "staff": {"roster": {"file": "posts.csv"}},
    }
    (line,) = problems(scenario_from_dict(data, base_dir=tmp_path))
    assert "in lon/lat, but the map has no coordinate system" in line
    assert "give x and y in map metres" in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "posts.csv is empty"),
        (b"name,role,x,y\n", "posts.csv lists no posts"),
        (b"name,place\nGate,A\n", "posts.csv has no column role or lon and lat (or x and y)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "posts.csv is not a text file (CSV or GeoJSON)"),
    ],
    ids=["empty", "header-only", "no-columns", "binary"],
)
def test_files_that_are_no_roster_are_one_clear_line(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    sc = scenario(tmp_path, "posts.csv", "")
    (tmp_path / "posts.csv").write_bytes(content)
    (line,) = problems(sc)
    assert line.startswith("staff.roster.file: ") and expected in line


def test_a_workbook_is_asked_for_as_csv(tmp_path: Path) -> None:
    sc = scenario(tmp_path, "posts.csv", "")
    (tmp_path / "posts.xlsx").write_bytes(b"PK\x03\x04\x14\x00\x00\x00")
    sc = sim.with_overrides(sc, {"staff.roster.file": "posts.xlsx"})
    assert problems(sc) == [
        "staff.roster.file: posts.xlsx is not a text file: save the sheet as CSV"
    ]


def test_a_huge_roster_is_refused_with_its_estimated_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [HEADER] + [row(f"p{i}", "advisor", "", "", 100, 100, "") for i in range(2000)]
    sc = scenario(tmp_path, "posts.csv", "\n".join(rows) + "\n")
    monkeypatch.setattr(rosterfile, "MAX_BYTES", 10_000)
    (line,) = problems(sc)
    size = (tmp_path / "posts.csv").stat().st_size
    assert line.startswith(f"staff.roster.file: posts.csv is {budget.gib(size)}, about 2,0")
    assert "rows; a roster may have at most 100,000 posts" in line


def test_more_rows_than_a_roster_may_have_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rosterfile, "MAX_POSTS", 5)
    rows = [HEADER] + [row(f"p{i}", "advisor", "", "", 100, 100, "") for i in range(6)]
    (line,) = problems(scenario(tmp_path, "posts.csv", "\n".join(rows)))
    assert line == "staff.roster.file: posts.csv has more than 5 rows"


def test_problem_lines_are_capped_and_the_rest_counted(tmp_path: Path) -> None:
    rows = [HEADER] + [row(f"p{i}", "nobody", "", "", 100, 100, "") for i in range(70)]
    lines = problems(scenario(tmp_path, "posts.csv", "\n".join(rows)))
    assert len(lines) == rosterfile.MAX_LINES + 1
    assert lines[-1] == "staff.roster.file: … and 20 more problems"


# --------------------------------------------------------------------------- the schema


def test_posts_and_a_roster_together_are_refused() -> None:
    data = {
        "name": "both",
        "map": {"inline": {"nodes": [{"id": 0, "x": 0, "y": 0}]}},
        "staff": {"posts": {"advisor": [{"node": 0}]}, "roster": {"file": "posts.csv"}},
    }
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert err.value.problems == [
        "staff: give staff.posts (posts at nodes) or staff.roster (posts from a file), not both"
    ]


@pytest.mark.parametrize(
    ("shifts", "words"),
    [
        ({"day": "7-15"}, "day: write the shift as \"HH:MM-HH:MM\", got '7-15'"),
        ({"day": "07:00-25:00"}, "day: time '25:00' is not between 00:00 and 24:00"),
        ({"07:00-15:00": "07:00-15:00"}, "a shift name must be a name of 1 to 64 characters"),
        ({"x" * 65: "07:00-15:00"}, "a shift name must be a name of 1 to 64 characters"),
    ],
)
def test_roster_shift_names_are_checked(shifts: dict[str, str], words: str) -> None:
    data = {
        "name": "s",
        "map": {"inline": {"nodes": [{"id": 0, "x": 0, "y": 0}]}},
        "staff": {"roster": {"file": "posts.csv", "shifts": shifts}},
    }
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert any(
        line.startswith("staff.roster.shifts: ") and words in line for line in err.value.problems
    )


# --------------------------------------------------------------------------- the run


def test_the_roster_file_is_part_of_the_run_key_and_the_memory_estimate(tmp_path: Path) -> None:
    sc = scenario(tmp_path, "posts.csv", f"{HEADER}\n{row('a', 'advisor', '', '', 100, 100, '3')}")
    assert resolve_scenario(sc).files()["staff.roster.file"] == tmp_path / "posts.csv"
    world = sim.build_world(sc)
    parts = budget.world_parts(sc, world.net, budget.Known(None, {"advisor": 100_000}))
    table = [p for p in parts if p.field == "staff.roster.file"]
    assert len(table) == 1 and "100,000 advisor units" in table[0].what


@pytest.mark.usefixtures("keep_sigterm")
def test_run_and_map_with_a_roster_and_a_bad_one_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = scenario(
        tmp_path,
        "posts.csv",
        "\n".join(
            [
                HEADER,
                row("a", "advisor", "", "", 100, 100, "3"),
                row("b", "enforcer", "", "", 500, 500),
            ]
        ),
    )
    path = tmp_path / "roster.yaml"
    path.write_text(yaml.safe_dump(sc.resolved()), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-plots", "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["headcount"]["advisor"] == 3 and summary["headcount"]["enforcer"] == 2
    assert main(["map", str(path), "--out", str(tmp_path / "map.png")]) == 0
    assert "from all 3 advisor posts" in capsys.readouterr().out
    bad = [HEADER, row("a", "advisr", "", "", 100, 100), row("b", "advisor", "", "", 9000, 0)]
    (tmp_path / "posts.csv").write_text("\n".join(bad), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "row 2 (a): role: 'advisr' is not a role" in err


def test_the_optimisers_refuse_a_roster_before_simulating(tmp_path: Path) -> None:
    from sim.batch.shiftplan import optimize_shifts
    from sim.batch.staffing import optimize_plan

    sc = scenario(tmp_path, "posts.csv", f"{HEADER}\n{row('a', 'advisor', '', '', 100, 100)}")
    with pytest.raises(ScenarioError) as err:
        optimize_plan(sc, {"double_ten": 0.9}, replications=2, workers=1)
    assert err.value.problems[0].startswith("staff.roster: a roster's posts replace densities")
    with pytest.raises(ScenarioError) as err:
        optimize_shifts(sc, replications=2, workers=1)
    assert err.value.problems[0].startswith("staff.roster: the shift optimiser deals")


def test_a_roster_of_the_placed_posts_reproduces_the_density_run(tmp_path: Path) -> None:
    """Every advisor and enforcer team written out as a roster row (node, office, shift)
    and read back gives the same posts, duties and hence the same incidents."""
    data = {**SMALL_CITY, "duration": {"days": 0.5, "warmup_hours": 1}}
    data["staff"] = {
        "shifts": {
            "advisor": [
                {"start": "07:00", "end": "19:00", "share": 0.6},
                {"start": "19:00", "end": "07:00", "share": 0.4},
            ]
        }
    }
    placed = sim.run(scenario_from_dict(data), seed=3)
    world = placed.world
    lines = [HEADER]
    for role in ("advisor", "enforcer"):
        u = world.roster[role]
        for k in range(u.n):
            start, end = u.shifts[u.shift[k]]
            window = f"{int(start) // 60:02d}:{int(start) % 60:02d}-{int(end) // 60:02d}:00"
            office = world.areas.office_names[u.office[k]]
            x, y = world.net.x[u.node[k]], world.net.y[u.node[k]]
            lines.append(f"{role}{k},{role},{office},{window},{x},{y},")
    (tmp_path / "posts.csv").write_text("\n".join(lines), encoding="utf-8")
    rostered = scenario_from_dict(
        {**data, "staff": {**data["staff"], "roster": {"file": "posts.csv"}}}, base_dir=tmp_path
    )
    again = sim.run(rostered, seed=3)
    assert again.world.roster.rostered == ("advisor", "enforcer")
    for role in ("grid", "advisor", "enforcer"):
        assert np.array_equal(again.world.roster[role].node, world.roster[role].node), role
        for t in (0.0, 420.0, 1200.0):
            assert np.array_equal(
                again.world.roster[role].on_duty(t), world.roster[role].on_duty(t)
            ), role
    assert again.table.to_frame().equals(placed.table.to_frame())


def test_row_problems_and_map_problems_are_reported_together(tmp_path: Path) -> None:
    text = "\n".join(
        [
            HEADER,
            row("typo", "advisr", "", "", 100, 100),
            row("east", "advisor", "", "", 2600, 300),
            row("both", "advisor", "Nowhere", "late", 100, 100),  # bad shift, unknown office
        ]
    )
    lines = problems(scenario(tmp_path, "posts.csv", text))
    assert [line.split(": ", 2)[1] for line in lines] == [
        "posts.csv row 2 (typo)",
        "posts.csv row 4 (both)",
        "posts.csv row 3 (east)",
        "office 'Nowhere' (row 4) is not a street office on the map (A1, B1, C1, A2, B2, C2, "
        "A3, B3 …)",
    ]
