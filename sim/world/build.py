"""Assemble everything a run needs from a scenario: the map, areas, staff, travel tables.

The world is the part of a run that does not depend on the replication, so it is built
once and shared by every replication (and by the map picture).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from shapely.geometry import Polygon

from sim import budget
from sim.roles import BY_NAME
from sim.scenario import (
    ROLES,
    DemandVolume,
    GeneratedMap,
    InlineMap,
    ResolvedScenario,
    Scenario,
    ScenarioError,
    demand_volume,
    hour_ranges,
    map_override,
    resolve_scenario,
    with_overrides,
)
from sim.world import districts
from sim.world.areas import Areas, build_areas, read_geojson_polygons
from sim.world.hotspots import HotspotSite, camera_nodes, resolve_hotspots
from sim.world.mapgen import generate_city
from sim.world.network import StreetNetwork, from_inline, read_map_file
from sim.world.rosterfile import RosterFile, place_roster, read_roster, units_by_role
from sim.world.staff import Roster, coverage_gaps, place_staff, with_campaign_shifts
from sim.world.travel import TravelTable

if TYPE_CHECKING:
    from sim.world.trace import TraceDemand

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
    volume: DemandVolume  # background incidents a day on this map (demand.density resolved)
    warnings: list[str] = field(default_factory=list)
    trace: TraceDemand | None = None  # demand.trace: the replayed log, on the map

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
        cut = (
            districts.cut_region(source.cut, source.path, source.cut_geojson)
            if source.cut
            else None
        )
        net = read_map_file(source.path, strict=source.strict, two_way=source.two_way, cut=cut)
        warnings += net.notes
        if source.boundaries is not None:
            net, offices, notes = districts.offices_for(source.boundaries, source.path, cut, net)
            warnings += notes
    if net.dropped_nodes:
        warnings.append(
            f"map: kept the largest connected part of the street network; dropped {net.dropped_nodes} "
            f"of {net.n + net.dropped_nodes} nodes"
        )
    return net, offices, warnings


@dataclass(frozen=True, eq=False)
class StreetMap:
    """The map part of a world: the network and its street offices and grids."""

    net: StreetNetwork
    areas: Areas
    warnings: list[str]
    estimate: float = 0.0  # bytes the world is estimated to take (sim.budget.check_world)


def build_map(
    resolved: ResolvedScenario, memory_limit: int | None = None, posts: RosterFile | None = None
) -> StreetMap:
    """The street network with its offices and grids (what ``sim fit`` needs of a world);
    ``posts`` (a roster file) counts in the memory estimate of the world to come."""
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
    estimate = budget.check_world(
        sc, net, budget.Known(area_km2, units_by_role(posts)), limit=memory_limit
    )
    grids = None
    if resolved.grids is not None:
        feats = read_geojson_polygons(resolved.grids, net.crs, "map.grids")
        grids = [
            (str(p.get("office", "")), str(p.get("name", f"grid-{k + 1}")), g)
            for k, (p, g) in enumerate(feats)
        ]
    areas = build_areas(net, offices, grids, spec.grid_size_m, spec.office_size_m)
    return StreetMap(net, areas, warnings, estimate)


def build_world(scenario: Scenario | ResolvedScenario, memory_limit: int | None = None) -> World:
    """Everything replication-independent, checked against the map: the whole world,
    staff on the shifts they work each day (a campaign's enforcer shifts on its days).

    A bare scenario is resolved first (:func:`~sim.scenario.resolve_scenario`); from then
    on only the resolved values are read. Each stage's memory is estimated before it is
    built (:mod:`sim.budget`); a world that would not fit in ``memory_limit`` bytes
    (default: what the machine has free) is refused with :class:`~sim.errors.ResourceError`.
    """
    resolved = scenario if isinstance(scenario, ResolvedScenario) else resolve_scenario(scenario)
    sc = resolved.scenario
    posts = _roster_file(resolved)
    street_map = build_map(resolved, memory_limit, posts)
    net, areas, warnings = street_map.net, street_map.areas, list(street_map.warnings)
    volume = demand_volume(sc.demand, net.road_length_km, areas.total_km2)
    roster, staff_warnings = _place(sc, net, areas, posts)
    warnings += staff_warnings
    sites, hot_warnings = resolve_hotspots(sc, net)
    warnings += hot_warnings
    _check_scheduled(sc, net)
    check_offices(sc, areas.office_names)
    warnings += plan_warnings(sc, areas, roster)
    roster = with_campaign_shifts(roster, sc)  # after the warnings: they are of the plan
    trace = None
    if resolved.trace is not None:
        # deferred: reading a case log brings pandas and the log readers, which only a
        # replay needs (every command builds worlds; ``--help`` imports this module)
        from sim.world.trace import load_trace

        trace = load_trace(resolved.trace, sc, net, sites, memory_limit)
        warnings += list(trace.notes)
    dispatched = [r for r in roster.present() if BY_NAME[r].dispatched]
    # the rows beyond the cutoff share the allowance in proportion to the posts
    per_post = budget.far_rows_allowance(street_map.estimate, memory_limit)
    per_post /= max(sum(len(np.unique(roster[r].node)) for r in dispatched), 1)
    tables = {
        role: TravelTable(
            net,
            roster[role].node,
            sc.travel.precompute_minutes * sc.travel.speed_m_per_min(role),
            far_bytes=per_post * len(np.unique(roster[role].node)),
        )
        for role in dispatched
    }
    cameras = camera_nodes(sc, net.n)
    return World(resolved, net, areas, roster, sites, cameras, tables, volume, warnings, trace)


def _roster_file(resolved: ResolvedScenario) -> RosterFile | None:
    """The scenario's roster file, read and its rows checked (None without one)."""
    spec = resolved.scenario.staff.roster
    if spec is None or resolved.roster is None:
        return None
    return read_roster(resolved.roster, spec)


def _place(
    sc: Scenario, net: StreetNetwork, areas: Areas, posts: RosterFile | None
) -> tuple[Roster, list[str]]:
    """Staff on the map: the roster's posts snapped to the streets, the rest by density."""
    if posts is None or sc.staff.roster is None:
        return place_staff(net, areas, sc.staff), []
    rostered, warnings = place_roster(posts, net, areas, sc.staff.roster.snap_warn_m)
    return place_staff(net, areas, sc.staff, rostered), warnings


def move_to_map(
    scenario: Scenario, path: Path, memory_limit: int | None = None
) -> tuple[Scenario, str | None]:
    """``scenario`` on the map file ``path`` instead of its own (offices become square
    cells), and a line to tell the user when its demand was rescaled.

    A density of demand follows the new map by itself. A count
    (``demand.incidents_per_day``) is a count for the scenario's own map, so it becomes the
    same density per km of street of that map (read once, or from the cache): the load per
    street stays what the scenario meant. Hotspots keep their rates (they are per site).
    """
    moved = map_override(path)
    count = scenario.demand.incidents_per_day
    if count is None:
        return with_overrides(scenario, moved), None
    try:
        resolved = resolve_scenario(scenario)
        budget.check_map(resolved.source, memory_limit)
        km = load_network(resolved)[0].road_length_km
    except ScenarioError as exc:
        why = exc.problems[0] if exc.problems else "it cannot be read"
        return with_overrides(scenario, moved), (
            f"demand.incidents_per_day {count:,.0f} is a count for the scenario's own map, "
            f"which could not be read to rescale it ({why}); kept as a count for the new map"
        )
    if km <= 0:
        return with_overrides(scenario, moved), (
            f"demand.incidents_per_day {count:,.0f} is a count for the scenario's own map, "
            "which has no street length to rescale it by; kept as a count for the new map"
        )
    moved["demand.density.per_street_km"] = count / km  # clears the count (an alternative)
    return with_overrides(scenario, moved), (
        f"demand.incidents_per_day {count:,.0f} is a count for the scenario's own map "
        f"({km:,.0f} km of streets): rescaled by street length to {count / km:.3g} per km of "
        "street on the new map"
    )


def check_offices(scenario: Scenario, office_names: Sequence[str]) -> None:
    """Offices named in the evaluation's fixed scores and in the demand must exist on the map."""
    known = set(office_names)
    bad = [
        f"evaluation.{part}.by_office: no street office {name!r} on the map"
        for part in ("business_bureaus", "assessment_office")
        for name in getattr(scenario.evaluation, part).by_office
        if name not in known
    ]
    bad += [
        f"demand.offices: no street office {name!r} on the map"
        for name in scenario.demand.offices
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
    """Valid but suspicious plans: thin staffing, hours with a role absent, a file of
    hotspots with none in it."""
    out = []
    source = scenario.demand.hotspots_from
    if source is not None and not source.hotspots:
        out.append(
            f"demand.hotspots_from: {source.geojson} has no features: no hotspots come from it"
        )
    if scenario.staff.posts is None:
        thin = _thin_offices(scenario, areas, roster)
        if thin:
            out.append(
                f"staff: density under {DENSITY_FLOOR:g} per km² in {len(thin)} street office(s): "
                + _first(thin)
            )
        staff = roster.people_by_office(len(areas.office_names))
        for role in (r for r in ROLES if BY_NAME[r].dispatched):
            empty = [areas.office_names[k] for k in np.flatnonzero(staff[role] == 0)]
            wanted = role in roster.rostered or scenario.staff.mix.of(role) > 0
            if empty and wanted and roster[role].n > 0:
                out.append(
                    f"staff: no {role} of their own in {len(empty)} street office(s), served "
                    f"from neighbours: {_first(empty)}"
                )
    for role in ROLES:
        if roster[role].n == 0:
            out.append(f"staff: no {role} staff at all{_WITHOUT.get(role, '')}")
    for role, hours in coverage_gaps(roster).items():
        out.append(f"staff.shifts.{role}: nobody on duty {hour_ranges(hours)}")
    return out


# what a run without any staff of a role means, said with the warning
_WITHOUT = {
    "grid": ": problems are found only by citizens and cameras",
    "advisor": ": no instruction is answered",
    "enforcer": ": an advisor whose persuasion fails waits on scene for ever, for a team "
    "that never comes",
}


def _thin_offices(scenario: Scenario, areas: Areas, roster: Roster) -> list[str]:
    """Offices under the density floor, each with its density: the scenario's, or with a
    roster the staff actually posted there per km²."""
    staff = scenario.staff
    if not roster.rostered:
        density = [staff.per_km2_by_office.get(n, staff.per_km2) for n in areas.office_names]
        return [
            f"{n} ({d:g})"
            for n, d in zip(areas.office_names, density, strict=True)
            if d < DENSITY_FLOOR
        ]
    people = roster.people_by_office(len(areas.office_names))
    total = np.sum([people[r] for r in ROLES], axis=0)
    per_km2 = total / np.maximum(areas.office_km2, 1e-9)
    return [
        f"{n} ({d:.1f})"
        for n, d in zip(areas.office_names, per_km2.tolist(), strict=True)
        if d < DENSITY_FLOOR
    ]


def _first(names: list[str], n: int = 5) -> str:
    return ", ".join(names[:n]) + (" …" if len(names) > n else "")
