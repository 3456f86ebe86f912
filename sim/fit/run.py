"""``sim fit`` as a Python call: read a log, place it on the base scenario's map, fit::

import sim
from sim.fit.run import FitRequest, fit_case_log
result = fit_case_log(Path("cases.csv"), sim.load_scenario("scenarios/jinshui.yaml"))
result.fit.volume.per_day, [h.name for h in result.fit.hotspots]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sim import budget
from sim.caselog.clean import no_rows_left, read_log
from sim.caselog.errors import LogError
from sim.caselog.options import LogOptions, Target
from sim.fit.model import BaseHotspot, Fit, FitOptions, fit_log
from sim.scenario import Scenario, resolve_scenario
from sim.world.build import StreetMap, build_map
from sim.world.hotspots import hotspot_points
from sim.world.snap import DEFAULT_SNAP_M, outside_detail, snap_log


@dataclass(frozen=True)
class FitRequest:
    """How to read the log, how to fit it, and the run's limits."""

    log: LogOptions = field(default_factory=LogOptions)
    fit: FitOptions = field(default_factory=FitOptions)
    snap_m: float = DEFAULT_SNAP_M  # farther from every street node: off the map
    memory_limit: int | None = None  # bytes; default: what the machine has free
    progress: Callable[[int], None] | None = None  # told the rows of each chunk read


@dataclass(frozen=True, eq=False)
class FitResult:
    fit: Fit
    street_map: StreetMap
    notes: list[str] = field(default_factory=list)


def fit_case_log(path: Path, base: Scenario, request: FitRequest | None = None) -> FitResult:
    """Fit the demand of ``base``'s map to the case log at ``path``.

    Raises :class:`~sim.caselog.errors.LogError` (one line per problem) when the log
    cannot be read or no case is left on the map.
    """
    req = request or FitRequest()
    street_map = build_map(resolve_scenario(base), req.memory_limit)
    net = street_map.net
    cats = base.demand.categories
    target = Target(tuple(cats), tuple(c.name_zh for c in cats.values()), net.crs)
    check = functools.partial(budget.check_log, limit=req.memory_limit)
    log = read_log(path, req.log, target, check_rows=check, progress=req.progress)
    snapped = snap_log(log, net, req.snap_m)
    if snapped.n == 0:
        raise LogError(no_rows_left(snapped.log, {"outside the map": outside_detail(log, net)}))
    points = hotspot_points(base.demand.hotspots, net.crs)
    base_spots = [
        BaseHotspot(h.name, p[0], p[1], h.radius_m)
        for h, p in zip(base.demand.hotspots, points, strict=True)
        if p is not None
    ]
    fit = fit_log(snapped, net, street_map.areas, req.fit, base_spots)
    return FitResult(fit, street_map, [*log.notes, *_notes(base, fit)])


def _notes(base: Scenario, fit: Fit) -> list[str]:
    notes = []
    if fit.log.kind != "run":
        notes.append(
            "times: a case log records when a case was reported, not when the problem "
            "appeared; the fit takes the report time as the occurrence, so the fitted "
            "profile runs later than the problems by the discovery delay, and the simulated "
            "reports come one simulated discovery delay later still (docs/model.md)"
        )
        notes.append(
            "volume: a log holds only the problems somebody found; the simulator finds only "
            "some of those it draws (discovery.never_found), so simulated reports fall short "
            "of the log by that share"
        )
    groups = base.enforcement.offenders
    if base.enforcement.enabled and (groups.categories or groups.hotspots):
        notes.append(
            "offenders: the base runs the offender process; it replaces its shares of the "
            "fitted demand (the drawn incidents of those kinds are thinned by the same share), "
            "it does not add to them, so the log's volume, repeat offenders included, is "
            "counted once; deterrence then lowers it over a run"
        )
    if fit.fraction < 1:
        notes.append(
            f"sampling: the log is a {fit.fraction:g} sample; volumes and rates are divided "
            "by it, shares and profiles are not"
        )
    return notes
