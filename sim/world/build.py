"""Assemble everything a run needs from a scenario: the map, areas, staff, travel tables.

The world is the part of a run that does not depend on the replication, so it is built
once and shared by every replication (and by the map picture).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry import Polygon

from sim import budget
from sim.roles import BY_NAME
from sim.scenario import (
    ROLES,
    GeneratedMap,
    InlineMap,
    ResolvedScenario,
    Scenario,
    ScenarioError,
    resolve_scenario,
)
from sim.world import osm
from sim.world.areas import Areas, build_areas, read_geojson_polygons
from sim.world.hotspots import HotspotSite, camera_nodes, resolve_hotspots
from sim.world.mapgen import generate_city
from sim.world.network import StreetNetwork, from_inline, read_map_file
from sim.world.staff import Roster, coverage_gaps, place_staff
from sim.world.travel import TravelTable

DENSITY_FLOOR = 20.0  # staff per km² the 城管120 model asks for


@dataclass(eq=False)
class World:
    resolved: ResolvedScenario
    net: StreetNetwork
    areas: Areas
    roster: Roster
    sites: list[HotspotSite]
    cameras: np.ndarray
    tables: dict[str, TravelTable]
    warnings: list[str] = field(default_factory=list)

    @property
    def scenario(self) -> Scenario:
        """The scenario the world was built from (defaults filled in)."""
        return self.resolved.scenario

    @property
    def staff_per_km2(self) -> float:
        return (
            sum(self.roster.headcount().values()) / self.areas.total_km2
            if self.areas.total_km2
            else 0.0
        )


def load_network(
    resolved: ResolvedScenario,
) -> tuple[StreetNetwork, list[tuple[str, str, Polygon]] | None, list[str]]:
    """The street network (in metres) and any offices the map source brings."""
    source = resolved.source
    warnings: list[str] = []
    offices = None
    if isinstance(source, InlineMap):
        net = from_inline(source)
        offices = [(a.name, "", Polygon(a.polygon)) for a in source.offices] or None
    elif isinstance(source, GeneratedMap):
        net, gen = generate_city(source)
        offices = [(name, "", poly) for name, poly in gen]
    else:
        cut = osm.cut_region(source.cut, source.path, source.cut_geojson) if source.cut else None
        net = read_map_file(source.path, strict=source.strict, two_way=source.two_way, cut=cut)
        warnings += net.notes
        if source.boundaries is not None:
            net, offices, notes = osm.offices_for(source.boundaries, source.path, cut, net)
            warnings += notes
    if net.dropped_nodes:
        warnings.append(
            f"map: kept the largest connected part of the street network; dropped {net.dropped_nodes} "
            f"of {net.n + net.dropped_nodes} nodes"
        )
    return net, offices, warnings


def build_world(scenario: Scenario | ResolvedScenario, memory_limit: int | None = None) -> World:
    """Everything replication-independent, checked against the map.

    A bare scenario is resolved first (:func:`~sim.scenario.resolve_scenario`); from then
    on only the resolved values are read. Each stage's memory is estimated before it is
    built (:mod:`sim.budget`); a world that would not fit in ``memory_limit`` bytes
    (default: what the machine has free) is refused with :class:`~sim.errors.ResourceError`.
    """
    resolved = scenario if isinstance(scenario, ResolvedScenario) else resolve_scenario(scenario)
    sc = resolved.scenario
    spec = sc.map
    budget.check_map(resolved.source, memory_limit)
    net, offices, warnings = load_network(resolved)
    if resolved.offices is not None:
        feats = read_geojson_polygons(resolved.offices, net.crs, "map.offices")
        offices = [
            (str(p.get("name", f"office-{k + 1}")), str(p.get("name_zh", "")), g)
            for k, (p, g) in enumerate(feats)
        ]
    area_km2 = sum(o[2].area for o in offices) / 1e6 if offices else None
    estimate = budget.check_world(sc, net, area_km2, limit=memory_limit)
    grids = None
    if resolved.grids is not None:
        feats = read_geojson_polygons(resolved.grids, net.crs, "map.grids")
        grids = [
            (str(p.get("office", "")), str(p.get("name", f"grid-{k + 1}")), g)
            for k, (p, g) in enumerate(feats)
        ]
    areas = build_areas(net, offices, grids, spec.grid_size_m, spec.office_size_m)
    roster = place_staff(net, areas, sc.staff)
    sites, hot_warnings = resolve_hotspots(sc, net)
    warnings += hot_warnings
    _check_scheduled(sc, net)
    check_offices(sc, areas.office_names)
    warnings += plan_warnings(sc, areas, roster)
    dispatched = [r for r in roster.present() if BY_NAME[r].dispatched]
    # the rows beyond the cutoff share the allowance in proportion to the posts
    posts = {r: len(np.unique(roster[r].node)) for r in dispatched}
    far = budget.far_rows_allowance(estimate, memory_limit) / max(sum(posts.values()), 1)
    tables = {
        role: TravelTable(
            net,
            roster[role].node,
            sc.travel.precompute_minutes * sc.travel.speed_m_per_min(role),
            far_bytes=far * posts[role],
        )
        for role in dispatched
    }
    return World(resolved, net, areas, roster, sites, camera_nodes(sc, net.n), tables, warnings)


def check_offices(scenario: Scenario, office_names: Sequence[str]) -> None:
    """Offices named in the evaluation's fixed scores must exist on the map."""
    known = set(office_names)
    bad = [
        f"evaluation.{part}.by_office: no street office {name!r} on the map"
        for part in ("business_bureaus", "assessment_office")
        for name in getattr(scenario.evaluation, part).by_office
        if name not in known
    ]
    if bad:
        raise ScenarioError(bad)


def _check_scheduled(scenario: Scenario, net: StreetNetwork) -> None:
    bad = [
        f"demand.scheduled[{i}].node: no node {s.node!r} on the map"
        for i, s in enumerate(scenario.demand.scheduled)
        if not net.has(s.node)
    ]
    if bad:
        raise ScenarioError(bad)


def plan_warnings(scenario: Scenario, areas: Areas, roster: Roster) -> list[str]:
    """Valid but suspicious plans: thin staffing, hours with a role absent."""
    out = []
    if scenario.staff.posts is None:
        thin = [
            f"{name} ({scenario.staff.per_km2_by_office.get(name, scenario.staff.per_km2):g})"
            for name in areas.office_names
            if scenario.staff.per_km2_by_office.get(name, scenario.staff.per_km2) < DENSITY_FLOOR
        ]
        if thin:
            out.append(
                f"staff: density under {DENSITY_FLOOR:g} per km² in {len(thin)} street office(s): "
                + _first(thin)
            )
        staff = roster.people_by_office(len(areas.office_names))
        for role in ("advisor", "enforcer"):
            empty = [areas.office_names[k] for k in np.flatnonzero(staff[role] == 0)]
            if empty and getattr(scenario.staff.mix, role) > 0 and roster[role].n > 0:
                out.append(
                    f"staff: no {role} of their own in {len(empty)} street office(s), served "
                    f"from neighbours: {_first(empty)}"
                )
    for role in ROLES:
        if roster[role].n == 0:
            out.append(f"staff: no {role} staff at all")
    for role, hours in coverage_gaps(roster).items():
        out.append(f"staff.shifts.{role}: nobody on duty in hour(s) {_hours(hours)}")
    return out


def _first(names: list[str], n: int = 5) -> str:
    return ", ".join(names[:n]) + (" …" if len(names) > n else "")


def _hours(hours: list[int]) -> str:
    """``[0, 1, 20, 21, 22, 23]`` → ``20:00-02:00`` (runs across midnight are joined)."""
    missing = set(hours)
    if len(missing) == 24:
        return "all day"
    runs = []
    for h in sorted(missing):
        if (h - 1) % 24 in missing:
            continue  # not the start of a run
        end = h
        while (end + 1) % 24 in missing:
            end = (end + 1) % 24
        runs.append(f"{h:02d}:00-{(end + 1) % 24:02d}:00")
    return ", ".join(runs)
