"""The replay as the page carries it: one JSON block of base64 typed arrays for the player.

Times are minutes since the replayed day's start (float32); nodes, streets, paths and
posts are node indices (int32) into one coordinate list in metres. A day of Jinshui is
about a megabyte; a city's or an unbounded queue's at most a few more (the replay shows
at most :data:`~sim.analysis.replay.MAX_SHOWN` incidents, the background at most
:data:`MAX_STREETS` streets). The riding roles, their names, colours and shapes, come from
the role registry (``roles``), so the player knows no role by name.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from sim.analysis.replay import COLOURS, DAY_MIN, Replay
from sim.roles import BY_NAME

COLORS = COLOURS  # the player's colours of the drawn states (sim.analysis.replay)


def b64(a: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


def _typed(a: np.ndarray) -> dict[str, str]:
    if a.dtype == np.bool_:
        return {"t": "u1", "b": b64(a, "<u1")}
    if np.issubdtype(a.dtype, np.integer):
        return {"t": "i4", "b": b64(a, "<i4")}
    return {"t": "f4", "b": b64(a, "<f4")}


MAX_STREETS = 60_000  # beyond this the replay's background keeps the main roads only


def _shown_streets(replay: Replay) -> np.ndarray:
    """Indices of the streets drawn under the replay: all of them on a district's map; on
    a city's, the main roads (classes 0–3), so the page stays a few megabytes."""
    st = replay.streets
    every = np.arange(len(st.u))
    if len(every) <= MAX_STREETS:
        return every
    main = every[(st.road_class >= 0) & (st.road_class <= 3)]
    return main[:MAX_STREETS]


def _compact(replay: Replay, shown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nodes the page needs (shown streets, incidents, rides, posts), numbered anew:
    (old index of each kept node, new index of every old node or -1)."""
    st = replay.streets
    parts = [st.u[shown], st.v[shown], replay.incidents["node"]]
    for t in replay.trips.values():
        parts += [t.path, t.back]
    parts += list(replay.posts.values())
    used = np.unique(np.concatenate([np.asarray(p, dtype=np.int64) for p in parts]))
    used = used[used >= 0]
    new = np.full(len(st.x), -1, dtype=np.int64)
    new[used] = np.arange(len(used))
    return used, new


def roles_block(roles: Sequence[str]) -> list[dict[str, str]]:
    """The riding roles as the player draws them, from the role registry."""
    return [
        {
            "name": r,
            "one": BY_NAME[r].singular,
            "plural": BY_NAME[r].plural,
            "zh": BY_NAME[r].name_zh,
            "colour": BY_NAME[r].colour,
            "marker": BY_NAME[r].marker,
        }
        for r in roles
    ]


def replay_block(
    replay: Replay,
    rules: Mapping[str, Any],
    offices: Sequence[BaseGeometry],
    hotspots: Mapping[str, Sequence[Any]],
    window: tuple[float, float] = (0.0, DAY_MIN),
) -> dict[str, Any]:
    """The ``#replay-data`` block: everything the player draws."""
    st = replay.streets
    shown = _shown_streets(replay)
    used, new = _compact(replay, shown)
    inc = dict(replay.incidents)
    inc["node"] = new[inc["node"]]
    inc["counted"] = (inc["instructed"] >= 0) & (inc["instructed"] < DAY_MIN)
    rings = []
    for geom in offices:
        for part in getattr(geom, "geoms", [geom]):
            if part.geom_type == "Polygon":
                xy = np.asarray(part.exterior.coords)[:, :2]
                rings.append([round(v, 1) for v in xy.ravel().tolist()])
    x, y = st.x[used], st.y[used]
    bounds = [float(x.min()), float(y.min()), float(x.max()), float(y.max())]
    cls = np.where(st.road_class[shown] < 0, 255, st.road_class[shown])
    return {
        "day": replay.day,
        "from": window[0],
        "to": window[1],
        "bounds": bounds,
        "rules": {k: rules[k] for k in ("advisor_minutes", "enforcer_minutes")},
        "colors": COLORS,
        "roles": roles_block(list(replay.trips)),
        "shown": len(inc["node"]),
        "active": replay.incidents_active,
        "nodes": {"x": b64(x, "<f4"), "y": b64(y, "<f4")},
        "streets": {
            "u": b64(new[st.u[shown]], "<i4"),
            "v": b64(new[st.v[shown]], "<i4"),
            "cls": b64(cls, "<u1"),
        },
        "streets_shown": "all" if len(shown) == len(st.u) else "main roads",
        "offices": rings,
        "hotspots": [
            {"name": n, "x": x, "y": y, "r": r}
            for n, x, y, r in zip(
                hotspots.get("name", []),
                hotspots.get("x", []),
                hotspots.get("y", []),
                hotspots.get("radius_m", []),
                strict=True,
            )
        ],
        "incidents": {k: _typed(v) for k, v in inc.items() if k != "category"},
        "trips": {
            role: {
                "unit": b64(t.unit, "<i4"),
                "leave_post": b64(t.leave_post, "<f4"),
                "at_scene": b64(t.at_scene, "<f4"),
                "leave_scene": b64(t.leave_scene, "<f4"),
                "at_post": b64(t.at_post, "<f4"),
                "path": b64(new[t.path], "<i4"),
                "path_start": b64(t.path_start, "<i4"),
                "back": b64(new[t.back], "<i4"),
                "back_start": b64(t.back_start, "<i4"),
            }
            for role, t in replay.trips.items()
        },
        "posts": {role: b64(new[nodes], "<i4") for role, nodes in replay.posts.items()},
    }
