"""The roster file (``staff.roster``): the district's own posts, one row per post.

A planner's roster is a table, as a spreadsheet exports it (CSV), or a GeoJSON file of
points. Each row is a post: where it stands (lon/lat, or x/y in the map's coordinate
system), its role, its street office, optionally its shift (a name of
``staff.roster.shifts`` or ``HH:MM-HH:MM``) and how many units stand there (enforcers
count in teams, as in ``staff.posts``). :func:`read_roster` checks every row and reports
every problem at once; :func:`place_roster` snaps each post to the nearest street (the
nearer end of it, a node of the network), refuses posts off the map and warns of posts
far from any street. The roles the file lists are posted from it alone
(:func:`sim.world.staff.place_staff`); the others are placed by density as usual.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import shape

from sim.budget import gib
from sim.errors import require_file
from sim.roles import ALL_ROLES, REGISTRY
from sim.scenario import RosterSpec, ScenarioError, window_minutes
from sim.world.areas import Areas
from sim.world.network import StreetNetwork
from sim.world.osm.boundaries import first_names

FIELD = "staff.roster.file"
MAX_POSTS = 100_000  # rows of a file, and units they post
MAX_BYTES = 32 * 2**20  # about 300 bytes a row at the most rows
MAX_COUNT = 1_000  # units at one post
MAX_LINES = 50  # problems shown one per line; the rest are counted in one more
_COORD = 1e8  # map metres, as the scenario's x/y

# our name of each column → the headers it may have (compared without case or spaces)
HEADERS: dict[str, tuple[str, ...]] = {
    "role": ("role", "角色", "岗位"),
    "office": ("office", "street_office", "街道", "街道办事处"),
    "shift": ("shift", "班次"),
    "count": ("count", "units", "人数", "数量"),
    "name": ("name", "post", "id", "名称", "岗位名称"),
    "lon": ("lon", "longitude", "lng", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "x": ("x",),
    "y": ("y",),
}
# a role by its name or its Chinese name (网格员, 劝导员, 执法队, 公安警务室)
ROLE_NAMES: dict[str, str] = {
    **{r.name: r.name for r in REGISTRY},
    **{r.name_zh: r.name for r in REGISTRY},
}


@dataclass(frozen=True)
class RosterRow:
    """One post of the file, checked but not yet on the map."""

    where: str  # "roster.csv row 5 (Gate 3)": the place in the file, for messages
    line: str  # "row 5"
    role: str
    office: str | None  # None: the office the post stands in
    window: tuple[float, float] | None  # minutes of day; None: the role's shift list
    count: int
    a: float  # lon, or x in map metres
    b: float  # lat, or y
    # None: a GeoJSON point, in lon/lat when the map has a coordinate system and every
    # point of the file looks like degrees (as map.offices), else in map metres
    lonlat: bool | None


@dataclass(frozen=True, eq=False)
class RosterPosts:
    """The units a roster posts, one entry per unit, for each role it lists."""

    node: dict[str, np.ndarray]
    office: dict[str, np.ndarray]  # index of the unit's street office
    window: dict[str, list[tuple[float, float] | None]]  # None: the role's shift list

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self.node)


def units_by_role(roster: RosterFile | None) -> dict[str, int]:
    """Units each listed role gets from the roster (for the memory estimate)."""
    out: dict[str, int] = defaultdict(int)
    for r in roster.rows if roster is not None else ():
        out[r.role] += r.count
    return dict(out)


def capped(lines: Sequence[str], what: str = "problems") -> list[str]:
    """At most :data:`MAX_LINES` lines, the rest counted in one more."""
    if len(lines) <= MAX_LINES:
        return list(lines)
    return [*lines[:MAX_LINES], f"{FIELD}: … and {len(lines) - MAX_LINES:,} more {what}"]


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RosterFile:
    """A roster file read: its usable posts, the problems of its rows, and the street
    offices each name is given for (``office name → ["row 5", ...]``, every row)."""

    name: str
    rows: list[RosterRow]
    problems: list[str]
    offices: dict[str, list[str]]


def read_roster(path: Path, spec: RosterSpec) -> RosterFile:
    """The posts of a CSV or GeoJSON roster, every row checked.

    The problems of rows (``staff.roster.file: roster.csv row 5 (Gate 3): role: ...``;
    rows are counted as a spreadsheet shows them, the header being row 1) are kept, to be
    reported with those only the map can show (:func:`place_roster`). A file that cannot
    be a roster (missing, binary, too large, with its estimated rows, no role or
    coordinate column, no rows) is :class:`ScenarioError` at once.
    """
    require_file(path, FIELD, "roster file")
    _check_size(path)
    text = _text(path)
    geo = path.suffix.lower() in (".geojson", ".json")
    records = _features(path.name, text) if geo else _table(path.name, text)
    if not records:
        raise ScenarioError([f"{FIELD}: {path.name} lists no posts"])
    rows: list[RosterRow] = []
    problems: list[str] = []
    offices: dict[str, list[str]] = defaultdict(list)
    for line, cells, point in records:
        row, bad = _row((path.name, line), cells, point, spec)
        problems += bad
        if row is not None:
            rows.append(row)
        if cells.get("office"):
            offices[cells["office"]].append(line)
    units = sum(r.count for r in rows)
    if units > MAX_POSTS:
        raise ScenarioError([f"{FIELD}: {path.name} posts {units:,} units; at most {MAX_POSTS:,}"])
    return RosterFile(path.name, rows, problems, dict(offices))


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size <= MAX_BYTES:
        return
    with path.open("rb") as f:
        head = f.read(1 << 16)
    per_row = len(head) / max(head.count(b"\n"), 1)
    raise ScenarioError(
        [
            f"{FIELD}: {path.name} is {gib(size)}, about {size / per_row:,.0f} rows; a roster "
            f"may have at most {MAX_POSTS:,} posts in {MAX_BYTES // 2**20} MiB"
        ]
    )


def _text(path: Path) -> str:
    """The file as text: UTF-8 (with or without a byte-order mark), else GB 18030."""
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        workbook = path.suffix.lower() in (".xlsx", ".xls", ".ods")
        hint = ": save the sheet as CSV" if workbook else " (CSV or GeoJSON)"
        raise ScenarioError([f"{FIELD}: {path.name} is not a text file{hint}"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")  # what Chinese spreadsheets often save
    except UnicodeDecodeError:
        raise ScenarioError([f"{FIELD}: {path.name} is neither UTF-8 nor GB 18030 text"]) from None


Record = tuple[str, dict[str, str], tuple[float, float] | None]  # where, cells, GeoJSON point


def _columns(header: Sequence[str]) -> dict[str, int]:
    """Our column names → their positions in ``header`` (unknown columns are ignored)."""
    norm = ["".join(h.split()).lower() for h in header]
    out: dict[str, int] = {}
    for ours, names in HEADERS.items():
        for k, h in enumerate(norm):
            if h in names and ours not in out:
                out[ours] = k
    return out


def _table(name: str, text: str) -> list[Record]:
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096].split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if header is None:
        raise ScenarioError([f"{FIELD}: {name} is empty"])
    cols = _columns(header)
    missing = [c for c in ("role",) if c not in cols]
    if not ({"lon", "lat"} <= cols.keys() or {"x", "y"} <= cols.keys()):
        missing.append("lon and lat (or x and y)")
    if missing:
        shown = ", ".join(h.strip() for h in header[:12]) or "none"
        raise ScenarioError(
            [f"{FIELD}: {name} has no column {' or '.join(missing)} (its columns: {shown})"]
        )
    out: list[Record] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line
        if len(out) >= MAX_POSTS:
            raise ScenarioError([f"{FIELD}: {name} has more than {MAX_POSTS:,} rows"])
        got = {c: cells[k].strip() for c, k in cols.items() if k < len(cells)}
        out.append((f"row {line}", got, None))
    return out


def _features(name: str, text: str) -> list[Record]:
    try:
        data = json.loads(text, parse_constant=_not_a_number)
    except ValueError as exc:
        raise ScenarioError([f"{FIELD}: {name} is not valid JSON ({exc})"]) from None
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list) or data.get("type") != "FeatureCollection":
        raise ScenarioError([f"{FIELD}: {name} is not a GeoJSON FeatureCollection"])
    if len(feats) > MAX_POSTS:
        raise ScenarioError([f"{FIELD}: {name} has {len(feats):,} features; at most {MAX_POSTS:,}"])
    out: list[Record] = []
    for i, f in enumerate(feats, 1):
        props = f.get("properties") if isinstance(f, dict) else None
        props = props if isinstance(props, dict) else {}
        keys = list(props)
        cells = {c: _cell(props[keys[k]]) for c, k in _columns([str(k) for k in keys]).items()}
        try:
            geom = shape(f["geometry"])
            point = (float(geom.x), float(geom.y)) if geom.geom_type == "Point" else None
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.ShapelyError):
            point = None
        out.append((f"feature {i}", cells, point if point is not None else (math.nan, math.nan)))
    return out


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _row(
    place: tuple[str, str],
    cells: Mapping[str, str],
    point: tuple[float, float] | None,
    spec: RosterSpec,
) -> tuple[RosterRow | None, list[str]]:
    """A checked row of file ``place[0]`` at ``place[1]`` (``row 5``), or ``None`` and its
    problems (one line each)."""
    shown = " ".join(cells.get("name", "").split())[:60]
    where = f"{place[0]} {place[1]}" + (f" ({shown})" if shown else "")
    at = f"{FIELD}: {where}"
    problems: list[str] = []
    role = ROLE_NAMES.get(cells.get("role", "").lower()) or ROLE_NAMES.get(cells.get("role", ""))
    if role is None:
        given = cells.get("role", "")
        known = ", ".join(ALL_ROLES) + " (or " + ", ".join(r.name_zh for r in REGISTRY) + ")"
        problems.append(
            f"{at}: role: {given!r} is not a role: {known}" if given else f"{at}: role: missing"
        )
    where_at, lonlat, bad = _position(cells, point)
    problems += [f"{at}: {p}" for p in bad]
    window, bad_shift = _shift(cells.get("shift", ""), spec)
    if bad_shift:
        problems.append(f"{at}: shift: {bad_shift}")
    count, bad_count = _count(cells.get("count", ""))
    if bad_count:
        problems.append(f"{at}: count: {bad_count}")
    if problems or role is None or where_at is None:
        return None, problems
    office = cells.get("office") or None
    return RosterRow(where, place[1], role, office, window, count, *where_at, lonlat), []


def _position(
    cells: Mapping[str, str], point: tuple[float, float] | None
) -> tuple[tuple[float, float] | None, bool | None, list[str]]:
    """(a, b), whether they are lon/lat (None: decided with the map), and any problems."""
    if point is not None:  # a GeoJSON point; (nan, nan): the feature has none
        a, b = point
        if not (math.isfinite(a) and math.isfinite(b)):
            return None, None, ["geometry: must be a Point"]
        if max(abs(a), abs(b)) > _COORD:
            return None, None, ["geometry: coordinates out of range"]
        return (a, b), None, []
    lonlat = bool(cells.get("lon") or cells.get("lat")) or not (cells.get("x") or cells.get("y"))
    names = ("lon", "lat") if lonlat else ("x", "y")
    bounds = (180.0, 90.0) if lonlat else (_COORD, _COORD)
    values: list[float] = []
    problems: list[str] = []
    for key, bound in zip(names, bounds, strict=True):
        text = cells.get(key, "")
        try:
            v = float(text)
        except ValueError:
            problems.append(f"{key}: {text!r} is not a number" if text else f"{key}: missing")
            continue
        if not (math.isfinite(v) and abs(v) <= bound):
            problems.append(f"{key}: {text} is not between {-bound:g} and {bound:g}")
        values.append(v)
    if problems:
        return None, lonlat, problems
    return (values[0], values[1]), lonlat, []


def _shift(text: str, spec: RosterSpec) -> tuple[tuple[float, float] | None, str]:
    """The row's shift window (``None``: the role's shift list) and any problem."""
    if not text:
        return None, ""
    try:
        window = window_minutes(text)
    except ValueError as exc:
        return None, str(exc)
    if window is not None:
        return window, ""
    named = spec.shifts.get(text)
    if named is not None:
        return window_minutes(named), ""
    names = ", ".join(spec.shifts) or "none are given"
    return None, f'{text!r} is neither "HH:MM-HH:MM" nor a name of staff.roster.shifts ({names})'


def _count(text: str) -> tuple[int, str]:
    if not text:
        return 1, ""
    try:
        value = float(text)
    except ValueError:
        return 1, f"{text!r} is not a whole number"
    if not (value.is_integer() and 1 <= value <= MAX_COUNT):
        return 1, f"{text} is not a whole number from 1 to {MAX_COUNT:,}"
    return int(value), ""


# ----------------------------------------------------------------------------- placing


def place_roster(
    roster: RosterFile, net: StreetNetwork, areas: Areas, snap_warn_m: float
) -> tuple[RosterPosts, list[str]]:
    """The roster's posts on the map, and a warning for each post far from a street.

    Each post goes to the nearer end node of the nearest street. The problems of the
    file's rows, posts more than ``snap_warn_m`` outside every street office (off the
    map) and offices the map does not have are :class:`ScenarioError` lines, all at once;
    posts farther than ``snap_warn_m`` from the nearest street are warnings.
    """
    rows = roster.rows
    x, y, problems = _map_points(rows, net.crs)
    problems = roster.problems + problems + _off_map(rows, x, y, areas, snap_warn_m)
    problems += _unknown_offices(roster.offices, areas)
    if problems:
        raise ScenarioError(capped(problems))
    node, dist = snap(net, x, y)
    index = _office_index(areas)
    office = np.array([index.get(r.office or "", -1) for r in rows], dtype=np.int64)
    office = np.where(office >= 0, office, areas.node_office[node])
    far = [
        f"{FIELD}: {rows[k].where}: {dist[k]:,.0f} m from the nearest street "
        f"(staff.roster.snap_warn_m: {snap_warn_m:g}); posted at node {net.ids[node[k]]}"
        for k in np.flatnonzero(dist > snap_warn_m).tolist()
    ]
    warnings = capped(far, f"posts farther than {snap_warn_m:g} m from a street")
    counts = np.array([r.count for r in rows], dtype=np.int64)
    posts = RosterPosts({}, {}, {})
    for role in ALL_ROLES:
        mine = np.array([r.role == role for r in rows], dtype=bool)
        if not mine.any():
            continue
        posts.node[role] = np.repeat(node[mine], counts[mine])
        posts.office[role] = np.repeat(office[mine], counts[mine])
        posts.window[role] = [
            rows[k].window for k in np.flatnonzero(mine).tolist() for _ in range(rows[k].count)
        ]
    return posts, warnings


def _map_points(
    rows: Sequence[RosterRow], crs: str | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every post in map metres (lon/lat projected into ``crs``)."""
    x = np.array([r.a for r in rows], dtype=float)
    y = np.array([r.b for r in rows], dtype=float)
    auto = np.array([r.lonlat is None for r in rows], dtype=bool)
    degrees = bool(
        crs and np.all((np.abs(x[auto]) <= 180) & (np.abs(y[auto]) <= 90))
    )  # GeoJSON points
    geo = np.array([degrees if r.lonlat is None else r.lonlat for r in rows], dtype=bool)
    if not geo.any():
        return x, y, []
    if not crs:
        first = rows[int(np.flatnonzero(geo)[0])].where
        return (
            x,
            y,
            [
                f"{FIELD}: {int(geo.sum()):,} posts (the first: {first}) are in lon/lat, but the "
                "map has no coordinate system (a generated or inline map): give x and y in map metres"
            ],
        )
    from pyproj import Transformer  # deferred: pyproj loads only for posts in lon/lat

    to_map = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x[geo], y[geo] = to_map.transform(x[geo], y[geo])
    return x, y, []


def _off_map(
    rows: Sequence[RosterRow], x: np.ndarray, y: np.ndarray, areas: Areas, tolerance: float
) -> list[str]:
    """A line for each post more than ``tolerance`` metres outside every street office."""
    district = shapely.union_all(list(areas.office_shapes))
    outside = np.flatnonzero(~shapely.intersects_xy(district, x, y))
    gap = shapely.distance(district, shapely.points(x[outside], y[outside]))
    return [
        f"{FIELD}: {rows[k].where}: off the map, {_distance(g)} outside its street offices"
        for k, g in zip(outside.tolist(), gap.tolist(), strict=True)
        if g > tolerance
    ]


def _distance(metres: float) -> str:
    return f"{metres / 1000:,.1f} km" if metres >= 1000 else f"{metres:,.0f} m"


def _office_index(areas: Areas) -> dict[str, int]:
    """A street office's index by its name or its Chinese name."""
    index = {zh: k for k, zh in enumerate(areas.office_names_zh) if zh}
    index.update({name: k for k, name in enumerate(areas.office_names)})
    return index


def _unknown_offices(named: Mapping[str, list[str]], areas: Areas) -> list[str]:
    """A line per office name the roster gives that the map does not have, with its rows."""
    known = _office_index(areas)
    names = first_names(list(areas.office_names), 8)
    return [
        f"{FIELD}: office {name!r} ({first_names(where, 3)}) "
        f"is not a street office on the map ({names})"
        for name, where in named.items()
        if name not in known
    ]


def snap(net: StreetNetwork, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the nearer end node of the nearest street and the distance to that
    street (to the nearest node when the map has no streets)."""
    u, v, _ = net.streets
    if len(u) == 0:
        dist, node = cKDTree(np.column_stack([net.x, net.y])).query(np.column_stack([x, y]))
        return np.asarray(node, dtype=np.int64), np.asarray(dist, dtype=float)
    ends = np.stack([np.column_stack([net.x[u], net.y[u]]), np.column_stack([net.x[v], net.y[v]])])
    tree = shapely.STRtree(shapely.linestrings(ends.transpose(1, 0, 2)))
    (point, street), dist = tree.query_nearest(
        shapely.points(x, y), return_distance=True, all_matches=False
    )
    seg = np.empty(len(x), dtype=np.int64)
    seg[point] = street
    gap = np.empty(len(x))
    gap[point] = dist
    to_u = np.hypot(x - net.x[u[seg]], y - net.y[u[seg]])
    to_v = np.hypot(x - net.x[v[seg]], y - net.y[v[seg]])
    return np.where(to_u <= to_v, u[seg], v[seg]).astype(np.int64), gap
