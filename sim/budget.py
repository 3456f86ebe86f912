"""Memory estimates made before anything big is built, and the refusal when they do not fit.

A three-line scenario can ask for a city of a hundred million street nodes, a staff of
millions or a decade of incidents. Before each stage is built its memory is estimated
from the resolved scenario (and, once read, the street network); when the estimate exceeds the
limit, :class:`ResourceError` names the fields that drive it and nothing is built.

The figures are deliberately rough upper estimates of peak memory (bytes per node, per
travel-table entry, per incident), measured on the Jinshui map; ``benchmarks/run.py``
prints the measured peaks beside them. The limit is the memory the machine has
available now (``MemAvailable``, or a cgroup's limit if lower), or the caller's own.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import ResourceError, ScenarioError
from sim.roles import BY_NAME, DISPATCHED_ROLES
from sim.scenario import DemandVolume, GeneratedMap, InlineMap, clock_minutes, demand_volume
from sim.world import osm

if TYPE_CHECKING:
    from sim.scenario import MapSource, Scenario
    from sim.world.network import StreetNetwork

# peak bytes, measured on the Jinshui map (benchmarks/run.py prints them)
NODE_BYTES = 700  # network arrays, areas, dispatch lookups per street node (measured ~500)
PARSE_BYTES_PER_FILE_BYTE = 6  # parsing a map file, per uncompressed byte
COMPRESSION = 8  # assumed expansion of a .gz/.bz2 map file
TABLE_ENTRY_BYTES = 20  # travel-table entry (unit, node), at its peak while being sorted
GRID_BYTES = 4000  # one grid polygon with its intersection work
INCIDENT_BYTES = 700  # one incident: demand arrays, event log, record table
BASE_BYTES = 300 * 2**20  # the interpreter with numpy, scipy, pandas, shapely loaded
FAR_ROW_NODE_BYTES = 4  # a full row of distances from a post: float32 per street node
FAR_ROWS_SHARE = 0.25  # of the memory left after the estimate, for such rows (lazily, if needed)
FAR_ROWS_MAX = 4 * 2**30  # and never more than this per world

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"8G"``, ``"500M"``, ``"2.5GiB"`` or a number of bytes → bytes."""
    m = _SIZE_RE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size such as 8G or 500M")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2).lower()]
    value = float(m.group(1)) * scale
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{text!r} is not a positive size")
    return int(value)


def gib(n: float) -> str:
    """Bytes as a short human figure."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,.0f} B"


def available_memory() -> int:
    """Bytes this process may still use: MemAvailable, capped by a cgroup limit."""
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 8 * 2**30  # cannot tell: assume a modest machine
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(path).read_text().strip()
        except OSError:
            continue
        if raw.isdigit():
            avail = min(avail, int(raw))
    return int(min(avail, _address_space_left()))


def _address_space_left() -> float:
    """What an address-space limit (``ulimit -v``) still allows this process, if one is set."""
    try:
        import resource  # Unix only: imported where it is used, so the rest runs anywhere

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return math.inf
        pages = int(Path("/proc/self/statm").read_text().split()[0])
        return float(max(soft - pages * os.sysconf("SC_PAGE_SIZE"), 0))
    except (ImportError, OSError, ValueError, IndexError):
        return math.inf


@dataclass(frozen=True)
class Part:
    """One contributor to an estimate: its bytes, the field that drives it, and why."""

    field: str
    nbytes: float
    what: str


def _refuse_if_over(parts: list[Part], limit: int | None, stage: str) -> None:
    if limit is not None and limit < BASE_BYTES:
        raise ResourceError(
            [
                f"memory: a limit of {gib(limit)} is below the {gib(BASE_BYTES)} that "
                "the simulator itself needs to run at all"
            ]
        )
    total = BASE_BYTES + sum(p.nbytes for p in parts)
    cap = available_memory() if limit is None else limit
    if total <= cap:
        return
    whose = "the memory allowed" if limit is not None else "the memory this machine has free"
    lines = [
        f"memory: {stage} would need about {gib(total)}, more than {gib(cap)} "
        f"({whose}); nothing was built"
    ]
    for p in sorted(parts, key=lambda p: -p.nbytes):
        if p.nbytes >= 0.05 * total:
            lines.append(f"{p.field}: {p.what}: about {gib(p.nbytes)}")
    raise ResourceError(lines)


# one row of a case log at its peak: its arrays, their copies while placed on the map and
# fitted (measured: 2.1 GB for 10 million rows, benchmarks/fit.py --rows 10000000)
LOG_ROW_BYTES = 250
LOG_CHUNK_BYTES = 200_000 * 600  # one chunk of text rows while it is cleaned


def check_log(rows: int, name: str, limit: int | None = None) -> None:
    """Refuse, before reading it, a case log of about ``rows`` rows that would not fit."""
    _refuse_if_over(
        [
            Part("log", rows * LOG_ROW_BYTES, f"about {rows:,} rows kept as arrays"),
            Part("log", LOG_CHUNK_BYTES, "one chunk of rows being read"),
        ],
        limit,
        f"reading {name} (about {rows:,} rows)",
    )


def map_parts(source: MapSource) -> list[Part]:
    """What reading or generating the street network of a resolved map source will take."""
    if isinstance(source, GeneratedMap):
        g = source
        nodes = (round(g.offices_x * g.office_size_m / g.block_m) + 1) * (
            round(g.offices_y * g.office_size_m / g.block_m) + 1
        )
        return [
            Part(
                "map.generate",
                nodes * NODE_BYTES,
                f"{nodes:,} street nodes ({g.offices_x}×{g.offices_y} offices of "
                f"{g.office_size_m:g} m, blocks of {g.block_m:g} m)",
            )
        ]
    if isinstance(source, InlineMap):
        return [Part("map.inline", len(source.nodes) * NODE_BYTES, "inline nodes")]
    path = source.path
    try:
        size = path.stat().st_size
    except OSError:
        return []  # the loader reports a missing or unreadable file
    packed = path.suffix.lower() in (".gz", ".bz2", ".pbf")
    raw = size * (COMPRESSION if packed else 1)
    parse = raw * PARSE_BYTES_PER_FILE_BYTE
    if osm.is_osm(path):  # streamed: what is held is bounded by the streets kept
        parse = min(parse, osm.MAX_STREET_REFS * NODE_BYTES)
    return [Part("map.file", parse, f"parsing {path.name} ({gib(size)} on disk)")]


def check_map(source: MapSource, limit: int | None = None) -> None:
    """Refuse, before reading or generating it, a street network that would not fit."""
    _refuse_if_over(map_parts(source), limit, "the street network")


# ----------------------------------------------------------------------- world


def _area_m2(net: StreetNetwork) -> float:
    if net.n < 2:
        return 1.0
    return max(float(net.x.max() - net.x.min()) * float(net.y.max() - net.y.min()), 1.0)


@dataclass(frozen=True)
class Known:
    """What is known of a world before its areas and staff are built."""

    area_km2: float | None = None  # the district's area, when its offices are known
    rostered: Mapping[str, int] = field(default_factory=dict)  # units by role, staff.roster


def world_parts(
    scenario: Scenario,
    net: StreetNetwork,
    known: Known = Known(),
    replications: int = 1,
) -> list[Part]:
    """What the areas, staff, travel tables and incident log of ``net`` will take.

    ``known.area_km2`` is the district's area when known; otherwise the network's bounding
    box, which is larger, so the estimate errs on the side of refusing.
    """
    sc = scenario
    box_m2 = _area_m2(net)
    km2 = known.area_km2 if known.area_km2 is not None else box_m2 / 1e6
    parts = [Part("map", net.n * NODE_BYTES, f"{net.n:,} street nodes")]
    if not sc.map.grids:
        grids = box_m2 / sc.map.grid_size_m**2
        parts.append(
            Part(
                "map.grid_size_m",
                grids * GRID_BYTES,
                f"about {grids:,.0f} square grids of {sc.map.grid_size_m:g} m",
            )
        )
    units, staff_parts = _units(sc, km2, known.rostered)
    parts += staff_parts
    for role, (n_units, field_name) in units.items():
        reach_m = sc.travel.precompute_minutes * sc.travel.speed_m_per_min(role)
        share = min(1.0, math.pi * reach_m**2 / box_m2)
        entries = n_units * net.n * share
        twice = 1 if net.is_symmetric else 2
        parts.append(
            Part(
                field_name,
                entries * TABLE_ENTRY_BYTES * twice,
                f"travel table of {n_units:,.0f} {role} units × {net.n * share:,.0f} nodes "
                f"within travel.precompute_minutes",
            )
        )
    volume = demand_volume(sc.demand, net.road_length_km, km2)
    parts.append(incident_part(sc, volume, replications))
    return parts


def _units(
    sc: Scenario, km2: float, rostered: Mapping[str, int]
) -> tuple[dict[str, tuple[float, str]], list[Part]]:
    """Dispatched units by role, each with the field that sets it, and the staff's own part."""
    staff = sc.staff
    if staff.posts is not None:
        return {
            r: (float(sum(p.count for p in staff.posts.of(r))), "staff.posts")
            for r in DISPATCHED_ROLES
        }, []
    density = max([staff.per_km2, *staff.per_km2_by_office.values()])
    people = density * km2
    # a role posted on its own: in offices of about map.office_size_m (the square offices
    # used when none given)
    offices = max(1.0, km2 / (sc.map.office_size_m / 1000) ** 2)
    by_density = {
        r: people * staff.mix.of(r) / staff.team_size(r)
        if BY_NAME[r].mix is not None
        else staff.per_office(r) * offices
        for r in DISPATCHED_ROLES
    }
    field_name = "staff.per_km2" if not staff.per_km2_by_office else "staff.per_km2_by_office"
    units = {
        r: (float(rostered[r]), "staff.roster.file") if r in rostered else (n, field_name)
        for r, n in by_density.items()
    }
    return units, [Part(field_name, people * 200, f"{people:,.0f} staff")]


def expected_incidents(scenario: Scenario, background_per_day: float) -> float:
    """Incidents one replication generates on average (background, hotspots, scheduled),
    with ``background_per_day`` the background count a day on the map."""
    d = scenario.demand
    days = scenario.horizon_min / 1440.0
    per_day = background_per_day
    for h in d.hotspots:
        start = clock_minutes(h.start)
        end = clock_minutes(h.end)
        hours = ((end - start) % 1440 or 1440) / 60.0
        per_day += h.incidents_per_hour * hours
    return per_day * days + len(d.scheduled)


def incident_part(
    scenario: Scenario, volume: DemandVolume, replications: int = 1, traced: int | None = None
) -> Part:
    """The incident log's memory; ``traced``: the incidents of a replayed log, if any."""
    per_rep = expected_incidents(scenario, volume.incidents_per_day) if traced is None else traced
    n = per_rep * replications
    reps = f" over {replications} replications" if replications > 1 else ""
    given = volume.given
    return Part(
        "demand.incidents_per_day" if given == "incidents_per_day" else f"demand.density.{given}",
        n * INCIDENT_BYTES,
        f"{n:,.0f} incidents in {scenario.duration.days:g} days "
        f"+ {scenario.duration.warmup_hours:g} h warm-up{reps}",
    )


def check_world(
    scenario: Scenario,
    net: StreetNetwork,
    known: Known = Known(),
    replications: int = 1,
    limit: int | None = None,
) -> float:
    """Refuse, before building them, areas, staff and tables that would not fit.

    Returns the estimate (bytes, the interpreter included) when they fit.
    """
    parts = world_parts(scenario, net, known, replications)
    _refuse_if_over(parts, limit, "this run")
    return BASE_BYTES + sum(p.nbytes for p in parts)


def far_rows_allowance(estimate: float, limit: int | None = None) -> float:
    """Bytes the travel tables may keep in full rows of distances beyond their cutoff.

    When every unit near an incident is busy, the nearest free unit is found from full
    rows of distances from the free units' posts (``sim.world.travel.FarRows``): one row
    of :data:`FAR_ROW_NODE_BYTES` per street node for each post that needs one, so at
    most posts × nodes × 4 bytes (35 MB for Jinshui, 2 GB for a 200-office city of
    72,700 nodes and 7,000 posts), searched and kept only as an overloaded run needs
    them. They get :data:`FAR_ROWS_SHARE` of the memory ``estimate`` leaves free, at
    most :data:`FAR_ROWS_MAX`; past that, rows are dropped and searched again (slower,
    the same answers), so they never make a run refused.
    """
    cap = available_memory() if limit is None else limit
    return float(min(max(cap - estimate, 0.0) * FAR_ROWS_SHARE, FAR_ROWS_MAX))


def check_incidents(
    scenario: Scenario,
    volume: DemandVolume,
    replications: int,
    limit: int | None = None,
    traced: int | None = None,
) -> None:
    """Refuse a run whose incident log alone would not fit (checked before simulating);
    ``volume`` is the background on the run's map (``World.volume``), ``traced`` the
    incidents of a replayed log (``World.trace``), if any."""
    _refuse_if_over([incident_part(scenario, volume, replications, traced)], limit, "this run")


__all__ = [
    "Known",
    "Part",
    "ResourceError",
    "ScenarioError",
    "available_memory",
    "check_incidents",
    "check_log",
    "check_map",
    "check_world",
    "far_rows_allowance",
    "gib",
    "parse_size",
]
