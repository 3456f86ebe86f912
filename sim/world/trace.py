"""``demand.trace``: a case log read, placed on the map and put on the run's clock.

The engine replays what this gives it (:class:`TraceDemand`, plain arrays): each case at
its minute and street node, with its category and the hotspot it belongs to. Minute 0 of
the run is ``start`` (default: midnight before the log's first case; a run's own
``incidents.csv`` keeps its own minutes). Cases before minute 0 or after the run's
horizon are counted out ("outside the window"), like cases off the map.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import budget
from sim.caselog.clean import no_rows_left, read_log
from sim.caselog.errors import LogError
from sim.caselog.log import CaseLog, RowCounts
from sim.caselog.options import LogOptions, Target
from sim.errors import ScenarioError
from sim.scenario import Scenario
from sim.scenario.resolved import ResolvedTrace
from sim.world.hotspots import HotspotSite
from sim.world.network import StreetNetwork
from sim.world.snap import outside_detail, snap_log
from sim.world.staff import in_window

DAY_S = 86400.0


@dataclass(frozen=True, eq=False)
class TraceDemand:
    """The replayed incidents, sorted by minute."""

    occurred: np.ndarray  # minutes from the start of the run
    node: np.ndarray
    category: np.ndarray  # int16 into the scenario's categories
    hotspot: np.ndarray  # int16 into the resolved hotspots, -1 for none
    rows: RowCounts
    notes: tuple[str, ...]
    # who each case is against (index into ``parties``, -1: nobody named); None when the
    # log names no offender at all (sim.engine.trace_offenders then attributes cases)
    offender: np.ndarray | None = None
    parties: tuple[str, ...] = ()
    offenders_note: str = ""  # with enforcement on: the summary's line on whom cases are against

    @property
    def n(self) -> int:
        return len(self.occurred)


def log_options(rt: ResolvedTrace) -> LogOptions:
    s = rt.spec
    return LogOptions(
        columns=s.columns,
        categories=rt.categories,
        channels=rt.channels,
        timezone=s.timezone,
        time_format=s.time_format,
        crs=s.crs,
        encoding=s.encoding,
    )


def load_trace(
    rt: ResolvedTrace,
    scenario: Scenario,
    net: StreetNetwork,
    sites: list[HotspotSite],
    memory_limit: int | None = None,
) -> TraceDemand:
    """The trace of ``scenario`` on ``net`` (:class:`ScenarioError` when nothing is left)."""
    cats = scenario.demand.categories
    target = Target(tuple(cats), tuple(c.name_zh for c in cats.values()), net.crs)
    try:
        check = functools.partial(budget.check_log, limit=memory_limit)
        log = read_log(rt.path, log_options(rt), target, check_rows=check)
    except LogError as exc:
        raise ScenarioError([f"demand.trace: {p}" for p in exc.problems]) from None
    snapped = snap_log(log, net, rt.spec.snap_m)
    if snapped.n == 0:
        lines = no_rows_left(snapped.log, {"outside the map": outside_detail(log, net)})
        raise ScenarioError([f"demand.trace: {p}" for p in lines])
    placed = snapped.log
    node = snapped.node
    notes: list[str] = []
    if placed.kind == "run" and (placed.segment != placed.segment.min()).any():
        first = placed.segment == placed.segment.min()
        notes.append(f"replaying replication {int(placed.segment.min())} of a run's own log")
        placed, node = placed.select(first, "outside the window"), node[first]
    minutes = (placed.wall - _start(rt, placed)) / 60.0
    inside = (minutes >= 0) & (minutes < scenario.horizon_min)
    placed, node, minutes = (
        placed.select(inside, "outside the window"),
        node[inside],
        minutes[inside],
    )
    if placed.n == 0:
        raise ScenarioError([f"demand.trace: {p}" for p in _nothing_in_run(rt, scenario)])
    order = np.argsort(minutes, kind="stable")
    hotspot = _hotspots(placed, node, minutes, sites)
    offender, parties = _parties(placed.offender)
    notes += _notes(rt, placed, minutes, scenario)
    column = placed.columns.get("offender") if offender is not None else None
    said = offender_note(scenario, column, len(parties), offender, placed.n)
    return TraceDemand(
        minutes[order],
        node[order].astype(np.int64),
        placed.category[order].astype(np.int16),
        hotspot[order],
        placed.rows,
        tuple(notes),
        offender[order] if offender is not None else None,
        parties,
        said if scenario.enforcement.enabled else "",
    )


def _parties(names: np.ndarray | None) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Each case's party as an index into the parties (-1: blank), or None when the log has
    no offender column or names nobody in it."""
    if names is None or not (names != "").any():
        return None, ()
    codes, uniques = pd.factorize(pd.Series(names).replace("", None), use_na_sentinel=True)
    return codes.astype(np.int64), tuple(str(u) for u in uniques)


def offender_note(
    sc: Scenario, column: str | None, parties: int, offender: np.ndarray | None, n: int
) -> str:
    """The one line of a replay's summary that says what its cases rest on: the log's
    parties, or offenders attributed by the model (docs/model.md, "Replaying a case log")."""
    see = "(docs/model.md, 'Replaying a case log')"
    volume = "deterrence cannot lower a replayed log's volume: the log is what happened"
    if offender is not None:
        named = int((offender >= 0).sum())
        return (
            f"offenders from the log's column {column}: {parties:,} parties on {named:,} of "
            f"{n:,} cases (the rest one-offs), each on its own record; {volume} {see}"
        )
    groups = sc.enforcement.offenders
    if not (groups.categories or groups.hotspots):
        return (
            "offenders: none; the log names none and enforcement.offenders lists no category "
            f"or hotspot, so every case is a one-off and none is filed {see}"
        )
    return (
        "offenders attributed, not simulated: the log names none, so cases of "
        "enforcement.offenders' categories and hotspots are dealt to persistent offenders by "
        f"its shares; {volume} {see}"
    )


def _start(rt: ResolvedTrace, log: CaseLog) -> float:
    if rt.spec.start is not None:
        return float(pd.Timestamp(rt.spec.start).value // 10**9)
    if log.kind == "run":
        return float(log.origin)
    return float(np.floor(log.wall.min() / DAY_S) * DAY_S)


def _hotspots(
    log: CaseLog, node: np.ndarray, minutes: np.ndarray, sites: list[HotspotSite]
) -> np.ndarray:
    """The hotspot of each case: a run's own label, else the site whose nodes and hours hold it."""
    if log.hotspot_names is not None:
        index = {s.name: k for k, s in enumerate(sites)}
        return np.array([index.get(str(h), -1) for h in log.hotspot_names], dtype=np.int16)
    out = np.full(log.n, -1, dtype=np.int16)
    tod = minutes % 1440.0
    for k, site in enumerate(sites):
        start, end = site.window
        here = np.isin(node, site.nodes) & in_window(tod, start, end) & (out < 0)
        out[here] = k
    return out


def _notes(rt: ResolvedTrace, log: CaseLog, minutes: np.ndarray, sc: Scenario) -> list[str]:
    notes = []
    if log.rows.dropped:
        left = "; ".join(log.rows.lines())
        notes.append(
            f"demand.trace: replaying {log.n:,} of {log.rows.read:,} rows of {rt.path.name} "
            f"({left})"
        )
    last_day = float(minutes.max()) / 1440.0
    run_days = sc.horizon_min / 1440.0
    if last_day < run_days - 1.0:
        notes.append(
            f"demand.trace: the log ends on day {last_day:.1f} of the run's {run_days:g} "
            "(warm-up included): the days after it have no incidents"
        )
    return notes


def _nothing_in_run(rt: ResolvedTrace, sc: Scenario) -> list[str]:
    start = rt.spec.start or "midnight before the first case"
    return [
        f"no case of the log falls within the run: minute 0 is {start} and the run lasts "
        f"{sc.horizon_min / 1440.0:g} days (set demand.trace.start)"
    ]
