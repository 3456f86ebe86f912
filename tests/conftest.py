"""Shared scenario builders for the tests: small, fast, fully specified."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# small real OpenStreetMap extracts shipped with the tests (ODbL; see its README.md), and
# downtown Aguascalientes, which ships with the scenario that runs on it
OSM_DIR = ROOT / "tests" / "data" / "osm"
AGUASCALIENTES = ROOT / "maps" / "aguascalientes" / "aguascalientes.osm.bz2"

FIXED0 = {"dist": "fixed", "value": 0}
ALL_DAY = [{"start": "00:00", "end": "24:00", "share": 1.0}]


def instant_discovery() -> dict[str, Any]:
    """Every incident is reported the moment it occurs and instructed at once."""
    return {
        "patrol": {"enabled": False},
        "citizen": {"probability": 1.0, "delay": FIXED0},
        "camera": {"coverage": 0.0},
        "processing": FIXED0,
    }


def one_category(
    persuasion: dict[str, Any], success: float, handling: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "only": {
            "share": 1.0,
            "persuasion": persuasion,
            "success": success,
            "handling": handling or FIXED0,
        }
    }


def queue_scenario(
    servers: int, mean_service: float, per_min: float, days: float
) -> dict[str, Any]:
    """An M/M/c queue as a scenario: one node, zero travel, exponential persuasion."""
    return {
        "name": "mmc",
        "duration": {"days": days, "warmup_hours": 24},
        "map": {"inline": {"nodes": [{"id": 0, "x": 0, "y": 0}]}},
        "staff": {"posts": {"advisor": [{"node": 0, "count": servers}], "enforcer": [{"node": 0}]}},
        "demand": {
            "incidents_per_day": per_min * 1440,
            "hourly_profile": [1] * 24,
            "categories": one_category({"dist": "exponential", "mean": mean_service}, 1.0),
        },
        "discovery": instant_discovery(),
        "dispatch": {"advisor_turnout": FIXED0, "enforcer_turnout": FIXED0},
    }


SMALL_CITY: dict[str, Any] = {
    "name": "small",
    "duration": {"days": 1, "warmup_hours": 2},
    "map": {"generate": {"offices_x": 2, "offices_y": 2, "office_size_m": 800, "block_m": 100}},
    "demand": {
        "incidents_per_day": 600,
        "hotspots": [
            {
                "name": "market",
                "x": 400,
                "y": 400,
                "radius_m": 150,
                "incidents_per_hour": 4,
                "start": "18:00",
                "end": "02:00",
            }
        ],
    },
}


def grid_graphml(path: Path, blocks: int) -> Path:
    """A square street grid of ``blocks`` × ``blocks`` blocks of 100 m, two-way, in UTM zone
    49N (from x 700000, y 3850000), written as GraphML; node ids are ``"i-j"``."""
    import networkx as nx

    g = nx.MultiDiGraph(crs="EPSG:32649")
    for i in range(blocks + 1):
        for j in range(blocks + 1):
            g.add_node(f"{i}-{j}", x=700000.0 + 100 * i, y=3850000.0 + 100 * j)
    for i in range(blocks + 1):
        for j in range(blocks + 1):
            for di, dj in ((1, 0), (0, 1)):
                if i + di <= blocks and j + dj <= blocks:
                    u, v = f"{i}-{j}", f"{i + di}-{j + dj}"
                    g.add_edge(u, v, length=100.0)
                    g.add_edge(v, u, length=100.0)
    nx.write_graphml(g, path)
    return path


@pytest.fixture
def keep_sigterm() -> Any:
    """``sim.cli.main`` installs a SIGTERM handler; give pytest its own back."""
    import signal

    old = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, old)


@pytest.fixture
def small_city() -> dict[str, Any]:
    return copy.deepcopy(SMALL_CITY)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Tests never read or fill the user's cache."""
    import os

    old = os.environ.get("SIM_CACHE_DIR")
    os.environ["SIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("sim-cache"))
    yield
    if old is None:
        os.environ.pop("SIM_CACHE_DIR", None)
    else:
        os.environ["SIM_CACHE_DIR"] = old
