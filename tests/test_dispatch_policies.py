"""Each dispatch policy worked by hand on a five-node map.

Incident node ``c`` lies in grid W2 of office West. Around it: ``g`` in the same grid
but 2,000 m away by road (the only link is a detour), ``o`` in the same office but the
other grid (550 m), ``e`` across the office boundary (100 m). Three incidents at ``c``
at minutes 10, 11 and 12 each hold their advisor for an hour, and a fourth at 13 waits.
Travel at 250 m/min, no turnout, instant discovery:

================  ======================  ======================
policy            picks, in order         advisor arrivals
================  ======================  ======================
nearest           e, o, g, then e again   10.4, 13.2, 20.0, 71.2
own_grid_first    g, o, e, then e again   18.0, 13.2, 12.4, 73.2
================  ======================  ======================

(``e`` is back at its post first: under ``nearest`` at 10.4 + 60 + 0.4 = 70.8, under
``own_grid_first`` at 12.4 + 60 + 0.4 = 72.8; the fourth incident, queued since 13,
gets it then and it arrives 0.4 later.) Dropping the grid tier of ``own_grid_first``
sends ``o`` first; dropping the office tier sends ``e`` second: both fail here, which
the pinned summary alone would not show.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FIXED0, instant_discovery

import sim

FIVE_NODES = {
    "nodes": [
        {"id": "c", "x": 950, "y": 0},
        {"id": "g", "x": 900, "y": 50},
        {"id": "o", "x": 400, "y": 0},
        {"id": "e", "x": 1050, "y": 0},
        {"id": "w", "x": 0, "y": 0},
    ],
    "edges": [
        {"u": "c", "v": "e", "length": 100},
        {"u": "c", "v": "o", "length": 550},
        {"u": "c", "v": "g", "length": 2000},
        {"u": "o", "v": "w", "length": 400},
    ],
    "offices": [
        {"name": "West", "polygon": [[-100, -100], [1000, -100], [1000, 100], [-100, 100]]},
        {"name": "East", "polygon": [[1000, -100], [1200, -100], [1200, 100], [1000, 100]]},
    ],
}


def _scenario(policy: str) -> dict[str, Any]:
    return {
        "name": f"five-{policy}",
        "duration": {"days": 1, "warmup_hours": 0},
        "map": {"inline": FIVE_NODES, "grid_size_m": 550},
        "travel": {"speed_kmh": {"ebike": 15}, "mode": {"advisor": "ebike", "enforcer": "ebike"}},
        "staff": {
            "posts": {
                "advisor": [{"node": "g"}, {"node": "o"}, {"node": "e"}],
                "enforcer": [{"node": "w"}],
            }
        },
        "demand": {
            "incidents_per_day": 0,
            "categories": {
                "only": {
                    "share": 1.0,
                    "persuasion": {"dist": "fixed", "value": 60},
                    "success": 1.0,
                }
            },
            "scheduled": [{"at_min": m, "node": "c", "category": "only"} for m in (10, 11, 12, 13)],
        },
        "discovery": instant_discovery(),
        "dispatch": {"policy": policy, "advisor_turnout": FIXED0, "enforcer_turnout": FIXED0},
    }


@pytest.mark.parametrize(
    ("policy", "sent", "arrived"),
    [
        ("nearest", ["e", "o", "g", "e"], [10.4, 13.2, 20.0, 71.2]),
        ("own_grid_first", ["g", "o", "e", "e"], [18.0, 13.2, 12.4, 73.2]),
    ],
)
def test_policy_picks_by_hand(policy: str, sent: list[str], arrived: list[float]) -> None:
    result = sim.run(sim.scenario_from_dict(_scenario(policy)))
    world, table = result.world, result.table
    grid_of = dict(zip(world.net.ids, world.areas.node_grid, strict=True))
    office_of = dict(zip(world.net.ids, world.areas.node_office, strict=True))
    # the map is what the docstring says it is
    assert grid_of["c"] == grid_of["g"] != grid_of["o"]
    assert office_of["c"] == office_of["o"] != office_of["e"]
    post = [world.net.ids[n] for n in world.roster["advisor"].node]
    assert [post[u] for u in table["advisor"]] == sent
    assert table["advisor_arrived"].tolist() == pytest.approx(arrived)
    assert table["advisor_dispatched"][3] == pytest.approx(arrived[3] - 0.4)  # queued till free
