"""A replay of one measured day: incidents and their states, units riding out and back.

Day 1 is the first day after the warm-up. By default the replay shows the measured day
with the lowest double ten (of the first replication), the day a planner most wants to
watch. Everything here is read from the incident record: when each incident appeared, was
instructed, reached, escalated and closed, and which advisor and enforcer team served it.

Units ride **along the streets**: each trip follows the shortest path from the unit's post
to the incident (and back), the same distance the simulation charged, at the role's
speed. A unit leaves its post when its turnout is over (the arrival minus the ride) and
rides back when it leaves the scene (back at its post minus the ride back). Where that
would cost too much — more searches from posts than :data:`ROUTE_BUDGET` allows over the
map's nodes, a city's thousands of posts — units ride in straight lines from their
dispatch to their arrival and back in as long (``Replay.routed`` False; the page says so).

A replay is bounded whatever the run: it holds one day, and a day with more than
:data:`MAX_SHOWN` incidents on the map (a city, or a queue that never clears, carrying
days of backlog) shows an evenly spaced sample of them and the rides of their units,
saying so (``Replay.incidents_active`` against the incidents shown). The day's measures
(its double ten, the daily curve) are always of every incident.

The result is plain arrays (:class:`Replay`), drawn by the report's player and by the
video renderer (:mod:`sim.viz.replayvideo`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from sim.analysis.metrics import breakdown, clocks
from sim.engine.records import IncidentTable
from sim.roles import BY_NAME, CLOCKED_ROLES
from sim.scenario import Rules

DAY_MIN = 1440.0
ROLES = CLOCKED_ROLES  # the dispatched roles on a clock, as ridden in the replay
MAX_SHOWN = 10_000
"""Most incidents a replay shows; beyond, an evenly spaced sample (every k-th in the record's
order, which is the order they occurred). A busy Jinshui day has about 4,000 (8,100 a day
at three times the demand), so only cities and unbounded queues are thinned; the report
then stays a few megabytes and its cost does not grow with the backlog."""
ROUTE_BUDGET = 100_000_000
"""Posts searched from × street nodes, at most, to route the day's rides along the
streets (Jinshui: some 1,000 posts × 20,000 nodes; a 200-office city's thousands × 72,000
would cost several CPU seconds)."""
_CHUNK = 64  # posts per Dijkstra call: bounds the (posts × nodes) arrays in memory


@dataclass(frozen=True, eq=False)
class Streets:
    """The street graph the replay routes along: node positions (metres) and streets."""

    ids: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray  # street ends (node indices)
    v: np.ndarray
    length_m: np.ndarray
    oneway: np.ndarray  # ridden only from u to v
    road_class: np.ndarray  # 0 main … 5 minor, -1 unknown

    def graph(self) -> sp.csr_matrix:
        """Directed lengths, both ways for two-way streets."""
        two = ~self.oneway
        rows = np.concatenate([self.u, self.v[two]])
        cols = np.concatenate([self.v, self.u[two]])
        data = np.concatenate([self.length_m, self.length_m[two]])
        n = len(self.ids)
        return sp.csr_matrix((data, (rows, cols)), shape=(n, n))

    def index(self) -> dict[str, int]:
        return {nid: i for i, nid in enumerate(self.ids)}


@dataclass(frozen=True)
class ReplayOptions:
    """What to replay: the day (None: the worst), the replication, the roles' speeds."""

    speeds_m_per_min: Mapping[str, float]
    warmup_min: float
    days: float
    day: int | None = None
    replication: int = 0


@dataclass(frozen=True, eq=False)
class Trips:
    """The rides of one role's units: out along ``path``, back along ``back``.

    Times in minutes since the replayed day's start: ``leave_post``, ``at_scene``,
    ``leave_scene``, ``at_post`` (NaN where the run ended first). Paths are node indices,
    concatenated; trip ``k``'s are ``path[path_start[k]:path_start[k + 1]]``.
    """

    unit: np.ndarray
    leave_post: np.ndarray
    at_scene: np.ndarray
    leave_scene: np.ndarray
    at_post: np.ndarray
    path: np.ndarray
    path_start: np.ndarray
    back: np.ndarray
    back_start: np.ndarray

    def __len__(self) -> int:
        return len(self.unit)


@dataclass(frozen=True, eq=False)
class Replay:
    """One day: incidents (times since the day's start), trips by role, and the map."""

    day: int
    days: int  # measured days in the run (whole or part)
    start_min: float  # the day's start, in simulated minutes
    double_ten: float | None  # the day's share, pooled like the summary's
    incidents_measured: int
    incidents_active: int  # incidents seen during the day; more than shown when thinned
    routed: bool  # rides along the streets (else straight lines: ROUTE_BUDGET)
    daily: list[dict[str, float | int | None]]  # every day's double ten and count
    incidents: dict[str, np.ndarray]
    trips: dict[str, Trips]
    posts: dict[str, np.ndarray]  # node of each unit, by role
    streets: Streets


def day_count(days: float) -> int:
    """Measured days, a part day counting as one."""
    return max(1, int(np.ceil(days - 1e-9)))


def daily_double_ten(
    table: IncidentTable, rules: Rules, warmup_min: float, days: float, replication: int = 0
) -> list[dict[str, float | int | None]]:
    """Each measured day's double ten and instructions (one replication), as the summary
    pools them (:func:`~sim.analysis.metrics.breakdown`)."""
    t = _replication(table, replication)
    n = day_count(days)
    day = np.floor((np.nan_to_num(t["instructed"], nan=-1.0) - warmup_min) / DAY_MIN)
    codes = np.clip(day, 0, n - 1).astype(int)
    rows = breakdown(t, rules, codes, [str(d + 1) for d in range(n)], "day")
    return [
        {"day": int(r["day"]), "double_ten": r["double_ten"], "incidents": r["incidents"]}
        for r in rows
    ]


def worst_day(daily: Sequence[Mapping[str, float | int | None]], days: float) -> int:
    """The whole measured day with the lowest double ten (a part day only if none is whole)."""
    whole = int(np.floor(days + 1e-9))
    pool = [
        (float(d["double_ten"]), int(d["day"] or 0))
        for d in daily
        if d["double_ten"] is not None and (whole == 0 or int(d["day"] or 0) <= whole)
    ]
    return min(pool)[1] if pool else 1


def build_replay(
    table: IncidentTable,
    rules: Rules,
    streets: Streets,
    posts: Mapping[str, np.ndarray],
    options: ReplayOptions,
) -> Replay:
    """The replay of ``options.day`` (default: :func:`worst_day`) of one replication."""
    daily = daily_double_ten(table, rules, options.warmup_min, options.days, options.replication)
    n_days = day_count(options.days)
    day = options.day if options.day is not None else worst_day(daily, options.days)
    if not 1 <= day <= n_days:
        raise ValueError(f"{day} is not among the run's measured days (1 to {n_days})")
    start = options.warmup_min + (day - 1) * DAY_MIN
    t = _active(table, options.replication, start)
    active = len(t["occurred"])
    if active > MAX_SHOWN:
        t = t.select(thinned(active, MAX_SHOWN))
    incidents = _incident_arrays(t, rules, start)
    riding = [r for r in ROLES if len(posts.get(r, ())) and BY_NAME[r].unit_column in t.columns]
    routed = _sources(t, riding, posts) * len(streets.ids) <= ROUTE_BUDGET
    graph = streets.graph() if routed else None
    trips = {
        role: _trips(t, role, posts[role], start, graph, options.speeds_m_per_min[role])
        for role in riding
    }
    row = daily[day - 1]
    return Replay(
        day=day,
        days=n_days,
        start_min=start,
        double_ten=None if row["double_ten"] is None else float(row["double_ten"]),
        incidents_measured=int(row["incidents"] or 0),
        incidents_active=active,
        routed=routed,
        daily=daily,
        incidents=incidents,
        trips=trips,
        posts={r: np.asarray(posts[r]) for r in posts},
        streets=streets,
    )


def thinned(n: int, most: int) -> np.ndarray:
    """A mask of ``most`` evenly spaced rows of ``n`` (all of them when ``n <= most``)."""
    keep = np.zeros(n, dtype=bool)
    keep[np.linspace(0, n - 1, min(n, most)).round().astype(np.int64)] = True
    return keep


def _sources(t: IncidentTable, roles: Sequence[str], posts: Mapping[str, np.ndarray]) -> int:
    """How many posts the day's rides start from: the searches routing them would take."""
    n = 0
    for role in roles:
        unit = t[BY_NAME[role].unit_column]
        n += len(np.unique(np.asarray(posts[role])[unit[unit >= 0]]))
    return n


def _last_activity(t: IncidentTable) -> np.ndarray:
    times = [t[c] for c in ("closed", "advisor_released", "enforcer_released", "persuasion_ended")]
    with np.errstate(invalid="ignore"):
        last = np.fmax.reduce(times)
    open_ = ~np.isfinite(last)
    return np.where(open_, np.inf, last)


def _replication(table: IncidentTable, replication: int) -> IncidentTable:
    """The rows of one replication (the table itself when it holds no other)."""
    reps = table["replication"]
    if len(reps) == 0 or (reps.min() == replication == reps.max()):
        return table
    return table.select(reps == replication)


def _active(table: IncidentTable, replication: int, start: float) -> IncidentTable:
    """Incidents of one replication seen during the day: appeared before its end, not done
    before its start (selected once: a year's table is not copied)."""
    end = start + DAY_MIN
    keep = (table["replication"] == replication) & (table["occurred"] < end)
    keep &= _last_activity(table) >= start
    return table.select(keep)


def _incident_arrays(t: IncidentTable, rules: Rules, start: float) -> dict[str, np.ndarray]:
    c = clocks(t, rules)
    rel = {
        name: (t[name] - start).astype(np.float32)
        for name in (
            "occurred",
            "instructed",
            "advisor_arrived",
            "persuasion_ended",
            "enforcer_arrived",
            "closed",
        )
    }
    return {
        "node": t["node"].astype(np.int64),
        "category": t["category"].astype(np.int16),
        "escalated": t["escalated"].astype(bool),
        "late": np.logical_or.reduce(  # a clock it started was missed
            [c[f"{r}_asked"] & ~c[f"{r}_ok"] for r in ROLES if f"{r}_ok" in c]
            or [np.zeros(len(t["occurred"]), dtype=bool)]
        ),
        "measured": t["measured"].astype(bool),
        **rel,
    }


def _trips(
    t: IncidentTable,
    role: str,
    post_node: np.ndarray,
    start: float,
    graph: sp.csr_matrix | None,
    speed: float,
) -> Trips:
    """Each unit's ride of the day (sent before its end, back after its start): out along
    the streets, on scene, back."""
    prefix = BY_NAME[role].prefix
    unit = t[BY_NAME[role].unit_column]
    with np.errstate(invalid="ignore"):  # NaN: not sent, or not back when the run ended
        sent = (unit >= 0) & (t[f"{prefix}_dispatched"] < start + DAY_MIN)
        sent &= ~(t[f"{prefix}_released"] < start)
    unit = unit[sent].astype(np.int64)
    scene = t["node"][sent].astype(np.int64)
    post = np.asarray(post_node, dtype=np.int64)[unit]
    arrived = t[f"{prefix}_arrived"][sent] - start
    released = t[f"{prefix}_released"][sent] - start
    # the ride out is at most the time from dispatch to arrival: it bounds the search
    reach = np.nan_to_num((arrived - (t[f"{prefix}_dispatched"][sent] - start)) * speed, nan=0.0)
    if graph is None:  # straight lines, as long as the ride took
        out, back = _straight(post, scene), _straight(scene, post)
        out_len = back_len = reach
    else:
        out, out_len = _paths(graph, post, scene, reach)
        if _symmetric(graph):
            back, back_len = _reversed(out), out_len
        else:
            back, back_len = _paths(graph.T.tocsr(), post, scene, np.full(len(post), np.inf), True)
    with np.errstate(invalid="ignore"):
        leave_post = np.maximum(arrived - out_len / speed, t[f"{prefix}_dispatched"][sent] - start)
        leave_scene = np.maximum(released - back_len / speed, arrived)
    return Trips(
        unit=unit,
        leave_post=leave_post.astype(np.float32),
        at_scene=arrived.astype(np.float32),
        leave_scene=leave_scene.astype(np.float32),
        at_post=released.astype(np.float32),
        path=out[0],
        path_start=out[1],
        back=back[0],
        back_start=back[1],
    )


Paths = tuple[np.ndarray, np.ndarray]  # concatenated node indices, start offsets (n + 1)


def _straight(a: np.ndarray, b: np.ndarray) -> Paths:
    """Each ride as its two ends, from ``a`` to ``b``."""
    return np.column_stack([a, b]).ravel(), np.arange(0, 2 * len(a) + 1, 2)


def _symmetric(graph: sp.csr_matrix) -> bool:
    diff = graph - graph.T
    return diff.nnz == 0 or bool(np.all(np.abs(diff.data) < 1e-9))


def _reversed(paths: Paths) -> Paths:
    nodes, starts = paths
    out = np.empty_like(nodes)
    for k in range(len(starts) - 1):
        a, b = starts[k], starts[k + 1]
        out[a:b] = nodes[a:b][::-1]
    return out, starts


def _paths(
    graph: sp.csr_matrix,
    post: np.ndarray,
    scene: np.ndarray,
    reach: np.ndarray,
    reverse: bool = False,
) -> tuple[Paths, np.ndarray]:
    """Shortest paths post → scene, each no longer than ``reach`` metres (plus a margin)
    (``reverse``: scene → post, searched on the transposed graph)."""
    n_trips = len(post)
    lengths = np.full(n_trips, np.nan)
    pieces: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * n_trips
    sources = np.unique(post)
    # posts with similar reach share a search, so that one far ride does not widen them all
    reach_of = np.zeros(len(sources))
    np.maximum.at(reach_of, np.searchsorted(sources, post), reach)
    sources = sources[np.argsort(reach_of, kind="stable")]
    for lo in range(0, len(sources), _CHUNK):
        chunk = sources[lo : lo + _CHUNK]
        mine = np.isin(post, chunk)
        limit = float(reach[mine].max()) * 1.01 + 1.0 if mine.any() else 0.0
        dist, pred = dijkstra(graph, indices=chunk, return_predecessors=True, limit=limit)
        row_of = {int(s): r for r, s in enumerate(chunk.tolist())}
        for k in np.flatnonzero(mine).tolist():
            r = row_of[int(post[k])]
            lengths[k] = dist[r, scene[k]]
            path = _walk(pred[r], int(post[k]), int(scene[k]))
            pieces[k] = path[::-1] if reverse else path
    starts = np.zeros(n_trips + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(p) for p in pieces])
    nodes = np.concatenate(pieces) if n_trips else np.empty(0, dtype=np.int64)
    return (nodes, starts), lengths


def _walk(pred: np.ndarray, source: int, target: int) -> np.ndarray:
    """Nodes from ``source`` to ``target`` along a predecessor row (just ``target`` if none)."""
    path = [target]
    node = target
    while node != source:
        node = int(pred[node])
        if node < 0:
            return np.array([target], dtype=np.int64)
        path.append(node)
    return np.array(path[::-1], dtype=np.int64)


# the states an incident is drawn in (the report's player has the same rules, in player.js)
HIDDEN, UNREPORTED, WAITING, LATE, ADVISOR, ESCALATED, TEAM, CLOSED, CLOSED_LATE = range(9)
STATE_NAMES = (
    "hidden",
    "not yet reported",
    "waiting for an advisor",
    "late",
    "advisor on scene",
    "escalated, enforcers on the way",
    "enforcers on scene",
    "closed",
    "closed late",
)
CLOSED_SHOWN_MIN = 30.0  # a closed incident stays on the map this long

# the colour of each drawn state, by name, for the report's player and the video alike
# (the units on scene in the colours of their roles, sim/roles.py)
COLOURS = {
    "unreported": "#9a9a9a",
    "waiting": "#f08c1e",
    "late": "#d7191c",
    "advisor": BY_NAME[CLOCKED_ROLES[0]].colour,  # the first clock's unit on scene
    "escalated": "#8e44ad",
    "team": BY_NAME[CLOCKED_ROLES[1]].colour,  # the second's
    "closed": "#1a9850",
    "hotspot": "#c51b7d",
}


def states_at(inc: Mapping[str, np.ndarray], t: float, rules: Rules) -> np.ndarray:
    """The state of every incident of a replay at minute ``t`` of its day."""
    with np.errstate(invalid="ignore"):
        seen = t >= inc["occurred"]
        closed = inc["closed"] <= t
        out = np.full(len(inc["occurred"]), HIDDEN, dtype=np.int8)
        instructed = t >= inc["instructed"]
        reached = t >= inc["advisor_arrived"]
        ended = t >= inc["persuasion_ended"]
        team = t >= inc["enforcer_arrived"]
        esc = inc["escalated"]
        wait = t - inc["instructed"] > rules.minutes("advisor")
        wait_team = t - inc["persuasion_ended"] > rules.minutes("enforcer")
        out[seen & ~instructed] = UNREPORTED
        out[seen & instructed & ~reached] = np.where(wait, LATE, WAITING)[
            seen & instructed & ~reached
        ]
        on = seen & reached & ~ended
        out[on] = ADVISOR
        going = seen & ended & esc & ~team
        out[going] = np.where(wait_team, LATE, ESCALATED)[going]
        out[seen & ended & esc & team] = TEAM
        out[seen & ended & ~esc] = CLOSED
        shown = closed & (t - inc["closed"] <= CLOSED_SHOWN_MIN)
        out[seen & closed] = HIDDEN
        out[seen & shown] = np.where(inc["late"], CLOSED_LATE, CLOSED)[seen & shown]
    return out


def positions_at(trips: Trips, streets: Streets, t: float) -> np.ndarray:
    """Where the units riding at minute ``t`` are: an (n, 2) array of map metres."""
    with np.errstate(invalid="ignore"):
        out_ = (trips.leave_post <= t) & (t < trips.at_scene)
        back = (trips.leave_scene <= t) & (t < trips.at_post)
    pts = []
    for k in np.flatnonzero(out_ | back).tolist():
        if out_[k]:
            nodes = trips.path[trips.path_start[k] : trips.path_start[k + 1]]
            f = (t - trips.leave_post[k]) / max(
                float(trips.at_scene[k] - trips.leave_post[k]), 1e-6
            )
        else:
            nodes = trips.back[trips.back_start[k] : trips.back_start[k + 1]]
            f = (t - trips.leave_scene[k]) / max(
                float(trips.at_post[k] - trips.leave_scene[k]), 1e-6
            )
        pts.append(_along(streets, nodes, float(f)))
    return np.array(pts).reshape(-1, 2)


def _along(streets: Streets, nodes: np.ndarray, f: float) -> tuple[float, float]:
    x, y = streets.x[nodes], streets.y[nodes]
    if len(nodes) < 2:
        return float(x[0]), float(y[0])
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    goal = min(max(f, 0.0), 1.0) * cum[-1]
    return float(np.interp(goal, cum, x)), float(np.interp(goal, cum, y))
