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

from sim.analysis.hour_verdicts import office_hour_counts
from sim.analysis.metrics import flatten
from sim.analysis.record import measure_replication
from sim.batch.runkeys import FORMAT, world_key
from sim.errors import InputError
from sim.lifetime import die_with_parent
from sim.runner import simulate_chain
from sim.scenario import scenario_from_dict
from sim.world.build import World, build_world

_WORLDS: OrderedDict[str, World] = OrderedDict()
_WORLD_CACHE = 2


def _world(scenario: dict[str, Any], base_dir: str) -> tuple[World, float]:
    key = world_key(scenario, base_dir)
    if key in _WORLDS:
        _WORLDS.move_to_end(key)
        return _WORLDS[key], 0.0
    t0 = time.perf_counter()
    world = build_world(scenario_from_dict(scenario, base_dir=Path(base_dir)))
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
    record = measure_replication(world, table, outcome)
    by_office = [flatten(row) for row in record.by_office]  # staff.<role> columns
    return {
        "format": FORMAT,
        "scenario_name": sc.name,
        "seed": sc.seed,
        "replication": replication,
        "measures": record.run,
        "by_office": by_office,
        "by_hour": record.by_hour,
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
