"""The executor: runs (scenario, replication) pairs on a backend, reusing stored runs."""

from __future__ import annotations

import os
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.batch.backends import Backend, DaskCluster, InProcess, LocalProcesses, Task
from sim.batch.options import BatchOptions
from sim.batch.runkeys import run_key, world_key
from sim.batch.store import RunStore
from sim.scenario import Scenario, ScenarioError


@dataclass
class Executor:
    """Runs (scenario, replication) pairs on a backend, reusing and storing records.

    Keep one open across several batches (the optimiser does) so worker processes and
    their cached worlds survive between batches. Local worker processes start as lanes
    get work, up to ``workers`` (default: all cores), whatever the size of the first batch.
    """

    out: Path | None = None
    workers: int | None = None
    scheduler: str | None = None
    progress: bool = False
    computed: int = 0
    reused: int = 0
    warnings: list[str] = field(default_factory=list)  # stored runs found invalid, one line each
    _backend: Backend | None = field(default=None, repr=False)
    _timing: dict[str, float] = field(default_factory=dict, repr=False)

    @classmethod
    def for_batch(cls, out: Path | None, options: BatchOptions) -> Executor:
        """An executor storing runs in ``out`` and running them as ``options`` say."""
        return cls(
            out, workers=options.workers, scheduler=options.scheduler, progress=options.progress
        )

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._backend is not None:
            backend, self._backend = self._backend, None
            backend.close()

    @property
    def store(self) -> RunStore | None:
        return RunStore(self.out / "runs") if self.out is not None else None

    @property
    def processes(self) -> int:
        """Local worker processes started so far (0 in this process or on Dask)."""
        return self._backend.started if isinstance(self._backend, LocalProcesses) else 0

    def _open(self) -> Backend:
        if self._backend is None:
            if self.scheduler:
                self._backend = DaskCluster(self.scheduler)
            else:
                lanes = self.workers if self.workers is not None else (os.cpu_count() or 1)
                lanes = max(1, lanes)
                self._backend = InProcess() if lanes == 1 else LocalProcesses(lanes)
        return self._backend

    def run(
        self,
        scenarios: Sequence[Scenario],
        replications: int,
        desc: str = "runs",
        labels: Sequence[str] | None = None,
        start: int = 0,
    ) -> list[list[dict[str, Any]]]:
        """Records of replications start..R-1 of every scenario (stored ones are reused).

        ``labels`` name the scenarios (e.g. ``staff.per_km2=10``) in problems that show
        only when a scenario's world is built. ``start`` > 0 adds replications to those a
        caller already has (the staffing optimiser's sequential evaluation).
        """
        store = self.store
        keys = [[run_key(sc, k) for k in range(start, replications)] for sc in scenarios]
        names = list(labels) if labels is not None else [""] * len(scenarios)
        records: dict[str, dict[str, Any]] = {}
        queued: set[str] = set()
        todo: OrderedDict[str, deque[Task]] = OrderedDict()
        for sc, row, name in zip(scenarios, keys, names, strict=True):
            resolved = sc.resolved()
            base = str(sc.base_dir)
            wkey = world_key(resolved, base)
            for k, key in enumerate(row, start):
                if key in records or key in queued:
                    continue
                found = store.get(key) if store is not None else None
                if found is not None:
                    records[key] = found
                    self.reused += 1
                else:
                    queued.add(key)
                    todo.setdefault(wkey, deque()).append(Task(key, resolved, base, k, name))
        if store is not None:
            self.warnings += store.warnings
        n_todo = sum(len(q) for q in todo.values())
        if n_todo:
            self._execute(todo, n_todo, len(records), records, store, desc)
        return [[records[key] for key in row] for row in keys]

    def _execute(
        self,
        todo: OrderedDict[str, deque[Task]],
        n_todo: int,
        n_done: int,
        records: dict[str, dict[str, Any]],
        store: RunStore | None,
        desc: str,
    ) -> None:
        backend = self._open()
        bar = _bar(n_todo + n_done, n_done, desc) if self.progress else None
        queue = _Queue(todo, self._worth_joining)
        busy: dict[int, Task] = {}
        try:
            while True:
                for lane in range(backend.lanes):
                    task = None if lane in busy else queue.pick(lane)
                    if task is not None:
                        backend.submit(lane, task)
                        busy[lane] = task
                if not busy:
                    break
                for lane, result in backend.wait():
                    self._keep(busy.pop(lane), result, records, store)
                    if bar is not None:
                        bar.update(1)
        except BaseException:
            self.close()  # stop workers now: an interrupted batch's runs are not wanted
            raise
        finally:
            if bar is not None:
                bar.close()

    def _keep(
        self,
        task: Task,
        result: dict[str, Any],
        records: dict[str, dict[str, Any]],
        store: RunStore | None,
    ) -> None:
        """A finished run: stored, kept, and its timing learnt; a world error raised."""
        if "error" in result:
            where = f" (variant {task.variant})" if task.variant else ""
            raise ScenarioError([f"{line}{where}" for line in result["error"]])
        record = {"key": task.key, **result, "scenario": task.scenario}
        if store is not None:
            store.put(task.key, record)
        records[task.key] = record
        self.computed += 1
        self._learn(record)

    def _learn(self, record: dict[str, Any]) -> None:
        t = record.get("timing", {})
        if t.get("build_s"):
            self._timing["build_s"] = float(t["build_s"])
        self._timing["simulate_s"] = float(t.get("simulate_s", 0.0))

    def _worth_joining(self, pending: int) -> bool:
        """Should an idle worker build a variant another worker is already on?"""
        if "build_s" not in self._timing:
            return pending >= 2
        return pending * self._timing.get("simulate_s", 0.0) > self._timing["build_s"]


@dataclass
class _Queue:
    """The runs still to do, by world, and the world each lane is working on.

    A lane keeps to its world (its worker has built it); a free lane takes a world no lane
    has started, else joins the world with the most runs left if that is worth building
    it again (``worth_joining``), else waits.
    """

    todo: OrderedDict[str, deque[Task]]
    worth_joining: Callable[[int], bool]
    lane_world: dict[int, str] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)

    def pick(self, lane: int) -> Task | None:
        todo = self.todo
        own = self.lane_world.get(lane)
        if own is not None and todo.get(own):
            return todo[own].popleft()
        fresh = next((w for w, q in todo.items() if q and w not in self.started), None)
        if fresh is None:
            waiting = [w for w, q in todo.items() if q]
            if not waiting:
                return None
            fresh = max(waiting, key=lambda w: len(todo[w]))
            if not self.worth_joining(len(todo[fresh])):
                return None
        self.started.add(fresh)
        self.lane_world[lane] = fresh
        return todo[fresh].popleft()


def _bar(total: int, initial: int, desc: str) -> Any:
    from tqdm import tqdm  # deferred: loaded only when a progress bar is shown

    return tqdm(
        total=total, initial=initial, desc=desc, unit="run", dynamic_ncols=True, smoothing=0.1
    )
