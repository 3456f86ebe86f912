"""The worker side of a batch: simulate one replication, plain data in, plain data out.

:func:`run_replication` is what every backend executes (in this process, in a local
worker process through :func:`serve`, or on a Dask worker). A worker keeps the last few
worlds it built, so replications of one variant do not build the world again.
"""

from __future__ import annotations

import signal
import time
import traceback
from collections import OrderedDict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sim.analysis import measures as registry
from sim.analysis.enforcement import repeat_share_by, sweep_measures
from sim.analysis.evaluation import evaluate, evaluation_measures
from sim.analysis.hour_verdicts import office_hour_counts
from sim.analysis.metrics import flatten, load, replication_measures
from sim.batch.runkeys import FORMAT, world_key
from sim.engine.campaign import staffed
from sim.errors import InputError
from sim.lifetime import die_with_parent
from sim.runner import hour_rows, office_rows, simulate_chain
from sim.scenario import ROLES, scenario_from_dict
from sim.world.build import World, build_world

_WORLDS: OrderedDict[str, World] = OrderedDict()
_WORLD_CACHE = 2


def _world(scenario: dict[str, Any], base_dir: str) -> tuple[World, float]:
    key = world_key(scenario, base_dir)
    if key in _WORLDS:
        _WORLDS.move_to_end(key)
        return _WORLDS[key], 0.0
    t0 = time.perf_counter()
    # the campaign's enforcer shifts on the campaign's days, as in sim.run
    world = staffed(build_world(scenario_from_dict(scenario, base_dir=Path(base_dir))))
    _WORLDS[key] = world
    while len(_WORLDS) > _WORLD_CACHE:
        _WORLDS.popitem(last=False)
    return world, time.perf_counter() - t0


def run_replication(scenario: dict[str, Any], base_dir: str, replication: int) -> dict[str, Any]:
    """Simulate one replication of a resolved scenario; plain data in, plain data out.

    This is what a worker (a local process or a Dask worker) executes. A scenario that
    turns out to be unusable only on its map comes back as ``{"error": [problems]}``.
    """
    try:
        world, build_s = _world(scenario, base_dir)
    except InputError as exc:  # a scenario unusable only on its map, or too big to build
        return {"error": exc.problems}
    sc = world.scenario
    t0 = time.perf_counter()
    table, outcome = simulate_chain(world, replication)
    sim_s = time.perf_counter() - t0
    measures = flatten(
        replication_measures(table, sc.rules, world.roster.units, sc.warmup_min, sc.horizon_min)
    )
    occurred = table["occurred"]
    measures["incidents_occurred"] = int(
        ((occurred >= sc.warmup_min) & (occurred < sc.horizon_min)).sum()
    )
    by_office = [flatten(row) for row in office_rows(world, table)]  # staff.<role> columns
    repeat = repeat_share_by(table, table["office"], len(by_office))
    for row, share in zip(by_office, repeat, strict=True):
        row["repeat_share"] = share  # an optimiser target (a ceiling)
    measures.update(sweep_measures(outcome.measures if outcome is not None else None))
    by_hour = hour_rows(table, sc.rules)
    shares = [r["double_ten"] for r in by_office if r["double_ten"] is not None]
    measures["worst_office.double_ten"] = min(shares) if shares else None
    measures["offices_on_target"] = (
        sum(s >= sc.rules.target for s in shares) / len(shares) if shares else None
    )
    overload = load(table, world.roster.units, sc.warmup_min, sc.horizon_min)
    for measure in registry.group("overload"):
        _, role, name = measure.name.split(".")
        x = overload[role]
        value = x.get(name)
        if name == "hours_over":
            value = len(x["hours_over"])
        elif name == "unstable":
            value = int(x["status"] == "unstable")
        measures[measure.name] = value
    evaluation = evaluate(world, table)  # per office: score, rank, flag shares over months
    measures.update(evaluation_measures(evaluation, by_office))
    heads = world.roster.headcount()
    measures.update({f"headcount.{r}": heads[r] for r in ROLES})
    measures["headcount.total"] = sum(heads.values())
    measures["headcount.per_km2"] = world.staff_per_km2
    measures["area_km2"] = world.areas.total_km2
    return {
        "format": FORMAT,
        "scenario_name": sc.name,
        "seed": sc.seed,
        "replication": replication,
        "measures": measures,
        "by_office": by_office,
        "by_hour": by_hour,
        "by_office_hour": office_hour_counts(table, sc.rules, len(by_office)),
        "warnings": list(world.warnings),
        "timing": {"build_s": round(build_s, 4), "simulate_s": round(sim_s, 4)},
    }


def serve(read_fd: int, write_fd: int, parent: int | None = None) -> None:
    """A local worker process: receive a task, send back its record, until told to stop."""
    if parent is not None:
        die_with_parent(parent)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    inbox, outbox = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    while True:
        try:
            msg = inbox.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if msg is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", run_replication(*msg))
        except Exception:
            reply = ("failed", traceback.format_exc())
        try:
            outbox.send(reply)
        except OSError:
            return
