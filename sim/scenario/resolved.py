"""A scenario resolved once, before anything is built: what the later layers read.

:func:`resolve_scenario` turns what a scenario file says into values: each file it names becomes an
absolute path (relative ones are read from the scenario's folder), and the map source
becomes one of three kinds (inline, generated, a file with its cut and boundary offices).
Defaults are already filled in by the schema. Building the world, the memory estimate and
the run keys read the :class:`ResolvedScenario` and never go back to the scenario to
interpret its paths and options.

Two values need the map. Hotspot lon/lat become map metres only once the map's CRS is
known, so the world builder converts them, once, right after reading the network
(:func:`sim.world.hotspots.hotspot_points`). A demand given as a density
(``demand.density``) becomes a count of incidents a day once the map's street length and
area are known: the world builder calls :func:`demand_volume`, once, and the engine reads
the count from the world (``World.volume``), never the density.

What results save as the resolved scenario (``scenario_resolved`` in ``summary.json``) is
:meth:`ResolvedScenario.saved`: the scenario with its defaults filled in, paths as written,
so a saved scenario read from the same folder runs again unchanged and results do not
depend on where the project sits on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sim.errors import ScenarioError
from sim.scenario.demand import MAX_INCIDENTS_PER_DAY, Demand
from sim.scenario.model import Scenario
from sim.scenario.streetmap import GeneratedMap, InlineMap, MapCut, OsmOffices
from sim.scenario.trace import Trace


@dataclass(frozen=True)
class MapFile:
    """A street map read from a file, with the part to simulate and offices from it."""

    path: Path
    cut: MapCut | None  # the part to simulate
    cut_geojson: Path | None  # ``cut.geojson`` resolved
    boundaries: OsmOffices | None  # street offices from the file's own boundaries
    strict: bool  # ``require_connected``: refuse a map that is not one connected piece
    two_way: bool  # staff may use one-way streets both ways


MapSource = InlineMap | GeneratedMap | MapFile


@dataclass(frozen=True)
class ResolvedTrace:
    """``demand.trace`` with its files resolved and its label maps read."""

    path: Path
    spec: Trace
    categories: dict[str, str | None]
    channels: dict[str, str | None]
    label_files: dict[str, Path]  # categories/channels given as files


VolumeForm = Literal["incidents_per_day", "per_street_km", "per_km2"]


@dataclass(frozen=True)
class DemandVolume:
    """The background incidents a day of a scenario on its map, and what they came from."""

    incidents_per_day: float
    given: VolumeForm  # the key the scenario gave
    street_km: float  # of the map (or its cut)
    area_km2: float  # of its street offices

    @property
    def per_street_km(self) -> float | None:
        return self.incidents_per_day / self.street_km if self.street_km > 0 else None

    @property
    def per_km2(self) -> float | None:
        return self.incidents_per_day / self.area_km2 if self.area_km2 > 0 else None

    def text(self) -> str:
        """``2,704 incidents a day = 2.38 per km of street over 1,136 km``."""
        count = f"{self.incidents_per_day:,.0f} incidents a day"
        per_km2 = self.per_km2
        if self.given == "per_km2" and per_km2 is not None:
            return f"{count} = {per_km2:.3g} per km² over {self.area_km2:,.1f} km²"
        per_km = self.per_street_km
        if per_km is None:
            return f"{count} (the map has no street length)"
        given = " (a count for the whole map)" if self.given == "incidents_per_day" else ""
        return f"{count}{given} = {per_km:.3g} per km of street over {self.street_km:,.0f} km"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemandVolume:
        """The volume :meth:`as_dict` wrote (``summary.json``'s ``demand``)."""
        return cls(data["incidents_per_day"], data["given"], data["street_km"], data["area_km2"])

    def as_dict(self) -> dict[str, Any]:
        """What ``summary.json`` keeps under ``demand``."""
        return {
            "incidents_per_day": self.incidents_per_day,
            "given": self.given,
            "per_street_km": self.per_street_km,
            "per_km2": self.per_km2,
            "street_km": self.street_km,
            "area_km2": self.area_km2,
        }


def demand_volume(demand: Demand, street_km: float, area_km2: float) -> DemandVolume:
    """The background count a day that ``demand`` means on a map of ``street_km`` km of
    streets and ``area_km2`` km² of street offices (:class:`ScenarioError` if too many)."""
    if demand.density is None:
        assert demand.incidents_per_day is not None  # the schema asks for one of the two
        return DemandVolume(demand.incidents_per_day, "incidents_per_day", street_km, area_km2)
    d = demand.density
    if d.per_street_km is not None:
        form: VolumeForm = "per_street_km"
        count, rate, basis = d.per_street_km * street_km, d.per_street_km, street_km
        unit = f"per km of street × {basis:,.1f} km"
    else:
        assert d.per_km2 is not None  # the schema asks for one of the two
        form, count, rate, basis = "per_km2", d.per_km2 * area_km2, d.per_km2, area_km2
        unit = f"per km² × {basis:,.1f} km²"
    if count > MAX_INCIDENTS_PER_DAY:
        raise ScenarioError(
            [
                f"demand.density.{form}: {rate:g} {unit} is {count:,.0f} incidents a day, "
                f"more than the {MAX_INCIDENTS_PER_DAY:,.0f} a scenario may have"
            ]
        )
    return DemandVolume(count, form, street_km, area_km2)


@dataclass(frozen=True, eq=False)
class ResolvedScenario:
    """A validated scenario (defaults filled) with its map source and files resolved."""

    scenario: Scenario
    source: MapSource
    offices: Path | None  # GeoJSON of street-office polygons
    grids: Path | None  # GeoJSON of grid polygons
    roster: Path | None = None  # staff.roster.file: the district's posts
    trace: ResolvedTrace | None = None  # demand.trace, its files resolved

    def files(self) -> dict[str, Path]:
        """Every file the world is built from, by the scenario field that names it."""
        out: dict[str, Path] = {}
        if isinstance(self.source, MapFile):
            out["map.file"] = self.source.path
        if self.offices is not None:
            out["map.offices"] = self.offices
        if self.grids is not None:
            out["map.grids"] = self.grids
        if isinstance(self.source, MapFile) and self.source.cut_geojson is not None:
            out["map.cut.geojson"] = self.source.cut_geojson
        if self.roster is not None:
            out["staff.roster.file"] = self.roster
        if self.trace is not None:
            out["demand.trace.file"] = self.trace.path
            out |= {f"demand.trace.{k}": p for k, p in self.trace.label_files.items()}
        return out

    def saved(self) -> dict[str, Any]:
        """The resolved scenario as results save it: plain data, defaults filled in."""
        return self.scenario.resolved()


def resolve_scenario(scenario: Scenario) -> ResolvedScenario:
    """Resolve ``scenario`` once: absolute paths and the kind of map source."""
    spec = scenario.map
    source: MapSource
    if spec.inline is not None:
        source = spec.inline
    elif spec.generate is not None:
        source = spec.generate
    else:
        assert spec.file is not None  # the schema asks for exactly one source
        cut = spec.cut
        source = MapFile(
            path=scenario.resolve(spec.file),
            cut=cut,
            cut_geojson=scenario.resolve(cut.geojson) if cut and cut.geojson else None,
            boundaries=spec.offices if isinstance(spec.offices, OsmOffices) else None,
            strict=spec.require_connected,
            two_way=spec.staff_two_way,
        )
    return ResolvedScenario(
        scenario=scenario,
        source=source,
        offices=scenario.resolve(spec.offices) if isinstance(spec.offices, str) else None,
        grids=scenario.resolve(spec.grids) if spec.grids else None,
        roster=scenario.resolve(scenario.staff.roster.file) if scenario.staff.roster else None,
        trace=_trace(scenario),
    )


def _trace(scenario: Scenario) -> ResolvedTrace | None:
    """The trace's files as paths and its label maps read (a bad map: ScenarioError)."""
    spec = scenario.demand.trace
    if spec is None:
        return None
    # deferred: label maps read pandas, needed only when a log is replayed
    from sim.caselog.labels import read_label_map

    maps: dict[str, dict[str, str | None]] = {}
    files: dict[str, Path] = {}
    problems = []
    for key in ("categories", "channels"):
        source = getattr(spec, key)
        if isinstance(source, str):
            files[key] = scenario.resolve(source)
        try:
            maps[key] = read_label_map(source, scenario.base_dir, f"demand.trace.{key}")
        except ValueError as exc:
            problems += str(exc).splitlines()
    if problems:
        raise ScenarioError(problems)
    return ResolvedTrace(
        scenario.resolve(spec.file), spec, maps["categories"], maps["channels"], files
    )
