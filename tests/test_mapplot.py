"""Map pictures: the CLI writes them, and the advisor coverage they state is right."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
import yaml

import sim
from sim.cli import main
from sim.viz import mapplot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIXED1 = {"dist": "fixed", "value": 1}

TINY: dict[str, Any] = {
    "name": "t",
    "map": {"generate": {"offices_x": 2, "offices_y": 2, "office_size_m": 800, "block_m": 100}},
    "duration": {"days": 0.5, "warmup_hours": 1},
    "demand": {
        "incidents_per_day": 300,
        "hotspots": [
            {"name": "market", "x": 400, "y": 400, "radius_m": 150, "incidents_per_hour": 2}
        ],
    },
}


def tiny(**over: Any) -> dict[str, Any]:
    data = copy.deepcopy(TINY)
    data.update(over)
    return data


def write_scenario(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def assert_png(path: Path) -> None:
    assert path.is_file()
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")], "temp file left"


def test_cli_map_writes_png_and_states_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path, tiny())
    out = tmp_path / "pics" / "map.png"
    assert main(["map", str(scenario), "--out", str(out)]) == 0
    assert_png(out)
    text = capsys.readouterr().out
    assert str(out) in text
    assert "advisor coverage:" in text and "%" in text


def test_cli_map_default_path_and_bad_hour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path, tiny())
    monkeypatch.chdir(tmp_path)
    assert main(["map", str(scenario), "--hour", "14", "--set", "staff.per_km2=25"]) == 0
    assert_png(tmp_path / "results" / "t" / "map.png")
    assert main(["map", str(scenario), "--hour", "25"]) == 2
    assert "--hour" in capsys.readouterr().err


def test_coverage_is_complete_with_a_huge_deadline() -> None:
    world = sim.build_world(sim.scenario_from_dict(tiny(rules={"advisor_minutes": 1000})))
    cov = mapplot.advisor_coverage(world)
    assert cov.share == pytest.approx(1.0)
    assert cov.posts == world.roster["advisor"].n > 0
    assert np.isfinite(cov.minutes).all()


def test_coverage_by_hand_on_a_line() -> None:
    """0 -100- 1 -100- 2 -100- 3, advisor at 0, 100 m/min, 1 min turnout, 3.5 min deadline:
    nodes 0, 1, 2 are reached in time (1, 2, 3 min), node 3 (4 min) is not; each node
    carries half of each street at it, so 50 + 100 + 100 of 300 m are covered."""
    world = sim.build_world(
        sim.scenario_from_dict(
            {
                "name": "line",
                "map": {
                    "inline": {
                        "nodes": [{"id": i, "x": 100.0 * i, "y": 0.0} for i in range(4)],
                        "edges": [{"u": i, "v": i + 1} for i in range(3)],
                    }
                },
                "travel": {"speed_kmh": {"ebike": 6.0}},
                "staff": {"posts": {"advisor": [{"node": 0}], "enforcer": [{"node": 3}]}},
                "dispatch": {"advisor_turnout": FIXED1},
                "rules": {"advisor_minutes": 3.5},
            }
        )
    )
    cov = mapplot.advisor_coverage(world)
    order = [world.net.index_of(i) for i in range(4)]
    np.testing.assert_allclose(cov.minutes[order], [1.0, 2.0, 3.0, 4.0])
    assert cov.share == pytest.approx(250 / 300)
    assert mapplot.band_of(cov.minutes[order], 3.5).tolist() == [0, 0, 0, 1]


def test_coverage_matches_brute_force_dijkstra() -> None:
    """An irregular inline map with a one-way street and several posts, checked against
    networkx's multi-source Dijkstra and road length summed street by street."""
    rng = np.random.default_rng(7)
    side = 6
    nodes = [
        {"id": f"n{i}-{j}", "x": 120.0 * i + rng.uniform(-30, 30), "y": 90.0 * j}
        for i in range(side)
        for j in range(side)
    ]
    edges: list[dict[str, Any]] = []
    for i in range(side):
        for j in range(side):
            if i + 1 < side:
                edges.append({"u": f"n{i}-{j}", "v": f"n{i + 1}-{j}"})
            if j + 1 < side and not (i == 2 and j == 3):
                edges.append(
                    {"u": f"n{i}-{j}", "v": f"n{i}-{j + 1}", "length": float(rng.uniform(90, 260))}
                )
    edges.append({"u": "n0-0", "v": "n5-5", "length": 400.0, "oneway": True})
    posts = ["n1-1", "n4-2", "n2-5"]
    sc = sim.scenario_from_dict(
        {
            "name": "brute",
            "map": {"inline": {"nodes": nodes, "edges": edges}, "staff_two_way": False},
            "travel": {"speed_kmh": {"ebike": 9.0}},
            "staff": {
                "posts": {"advisor": [{"node": p} for p in posts], "enforcer": [{"node": "n0-0"}]}
            },
            "dispatch": {"advisor_turnout": {"dist": "uniform", "low": 0.5, "high": 1.5}},
            "rules": {"advisor_minutes": 3.0},
        }
    )
    world = sim.build_world(sc)
    cov = mapplot.advisor_coverage(world)

    g = nx.DiGraph()
    for e in edges:
        a = next(n for n in nodes if n["id"] == e["u"])
        b = next(n for n in nodes if n["id"] == e["v"])
        length = e.get("length") or float(np.hypot(a["x"] - b["x"], a["y"] - b["y"]))
        g.add_edge(e["u"], e["v"], length=length)
        if not e.get("oneway"):
            g.add_edge(e["v"], e["u"], length=length)
    dist = nx.multi_source_dijkstra_path_length(g, set(posts), weight="length")
    speed = 9000.0 / 60.0
    minutes = {n: 1.0 + d / speed for n, d in dist.items()}
    for n in g.nodes:
        assert cov.minutes[world.net.index_of(n)] == pytest.approx(minutes.get(n, np.inf))
    covered = total = 0.0
    for u, v, length in nx.Graph(g.to_undirected()).edges(data="length"):
        total += length
        covered += length / 2 * (minutes.get(u, np.inf) <= 3.0)
        covered += length / 2 * (minutes.get(v, np.inf) <= 3.0)
    assert 0.1 < covered / total < 0.95  # the case is not trivial
    assert cov.share == pytest.approx(covered / total)
    assert cov.road_km == pytest.approx(total / 1000)


def test_nobody_on_duty_means_no_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = [{"start": "07:00", "end": "15:00", "share": 1.0}]
    data = tiny(staff={"shifts": {"advisor": day}})
    world = sim.build_world(sim.scenario_from_dict(data))
    assert mapplot.advisor_coverage(world, hour=3).share == 0.0
    assert mapplot.advisor_coverage(world, hour=3).posts == 0
    assert mapplot.advisor_coverage(world, hour=10).share > 0.5
    scenario = write_scenario(tmp_path, data)
    out = tmp_path / "night.png"
    assert main(["map", str(scenario), "--out", str(out), "--hour", "3"]) == 0
    assert_png(out)
    assert "advisor coverage: 0.0%" in capsys.readouterr().out


def test_run_writes_on_time_map(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, tiny())
    out = tmp_path / "res"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    assert_png(out / "on_time_map.png")
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["by_grid"]


def test_on_time_map_with_grids_without_incidents(tmp_path: Path) -> None:
    world = sim.build_world(sim.scenario_from_dict(tiny()))
    names = world.areas.grid_names
    rows = [
        {
            "grid": g,
            "incidents": 0 if k % 3 == 0 else 10,
            "double_ten": None if k % 3 == 0 else k / len(names),
        }
        for k, g in enumerate(names)
    ]
    out = tmp_path / "otm.png"
    mapplot.draw_on_time_map(world, {"by_grid": rows, "double_ten": 0.5, "incidents": 100}, out)
    assert_png(out)
    empty = {"by_grid": [{"grid": g, "incidents": 0, "double_ten": None} for g in names]}
    mapplot.draw_on_time_map(world, empty, out)
    assert_png(out)


def test_street_importance_from_graphml(tmp_path: Path) -> None:
    g = nx.MultiDiGraph(crs="EPSG:32649")
    for i in range(4):
        g.add_node(i, x=700000.0 + 100 * i, y=3850000.0)
    g.add_node(4, x=700100.0, y=3850100.0)
    kinds = {(0, 1): "primary", (1, 2): "['residential', 'secondary']", (2, 3): "service"}
    for (u, v), hw in kinds.items():
        for a, b in ((u, v), (v, u)):
            g.add_edge(a, b, length=100.0, highway=hw)
    g.add_edge(1, 4, length=100.0)
    g.add_edge(4, 1, length=100.0)
    path = tmp_path / "streets.graphml"
    nx.write_graphml(g, path)
    world = sim.build_world(
        sim.scenario_from_dict({"name": "hw", "map": {"file": str(path), "office_size_m": 500}})
    )
    ranks = world.net.street_classes()
    assert ranks is not None
    u, v, _ = world.net.streets
    got = {
        tuple(sorted((int(world.net.ids[a]), int(world.net.ids[b])))): int(r)
        for a, b, r in zip(u, v, ranks, strict=True)
    }
    assert got == {(0, 1): 1, (1, 2): 2, (2, 3): 5, (1, 4): 5}
    mapplot.draw_map(world, tmp_path / "hw.png")
    assert_png(tmp_path / "hw.png")
    # generated cities mark their arterials as primary roads, the rest residential
    generated = sim.build_world(sim.scenario_from_dict(tiny()))
    classes = generated.net.street_classes()
    assert classes is not None and set(classes.tolist()) == {1, 4}
