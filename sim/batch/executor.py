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
    ) -> list[list[dict[str, Any]]]:
        """Records of replications 0..R-1 of every scenario (stored ones are reused).

        ``labels`` name the scenarios (e.g. ``staff.per_km2=10``) in problems that show
        only when a scenario's world is built.
        """
        store = self.store
        keys = [[run_key(sc, k) for k in range(replications)] for sc in scenarios]
        names = list(labels) if labels is not None else [""] * len(scenarios)
        records: dict[str, dict[str, Any]] = {}
        queued: set[str] = set()
        todo: OrderedDict[str, deque[Task]] = OrderedDict()
        for sc, row, name in zip(scenarios, keys, names, strict=True):
            resolved = sc.resolved()
            base = str(sc.base_dir)
            wkey = world_key(resolved, base)
            for k, key in enumerate(row):
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

    def run_sequential(
        self,
        scenarios: Sequence[Scenario],
        replications: int,
        looks: Sequence[int],
        stop: Callable[[list[dict[str, Any]]], bool],
        desc: str = "runs",
    ) -> list[list[dict[str, Any]]]:
        """Records of replications 0..n-1 of every scenario: n is the first of ``looks``
        (below R) after whose records ``stop`` holds, else R.

        Each scenario's replications are queued in order and a lane keeps to its world, so
        a scenario that stops early leaves its later replications unsimulated. What is
        kept depends only on the records: runs beyond n already under way when a scenario
        stops are dropped, neither stored nor counted, and a batch's new runs are stored
        when the batch ends (an interrupted batch is simulated again when resumed).
        """
        store = self.store
        keys = [[run_key(sc, k) for k in range(replications)] for sc in scenarios]
        records: dict[str, dict[str, Any]] = {}
        for key in dict.fromkeys(k for row in keys for k in row):
            got = store.get(key) if store is not None else None
            if got is not None:
                records[key] = got
        found = set(records)
        seq = _Sequential(keys, [n for n in looks if n < replications], stop, records)
        todo: OrderedDict[str, deque[Task]] = OrderedDict()
        queued: set[str] = set()
        for i, sc in enumerate(scenarios):
            if seq.advance(i):
                continue
            resolved, base = sc.resolved(), str(sc.base_dir)
            wkey = world_key(resolved, base)
            for k, key in enumerate(keys[i]):
                if key not in records and key not in queued:
                    queued.add(key)
                    todo.setdefault(wkey, deque()).append(Task(key, resolved, base, k))
        if store is not None:
            self.warnings += store.warnings
        if queued:
            self._execute(todo, len(queued), len(records), records, None, desc, seq)
        kept = dict.fromkeys(k for i, row in enumerate(keys) for k in row[: seq.final[i]])
        for key in kept:
            if key in found:
                self.reused += 1
                continue
            if store is not None:
                store.put(key, records[key])
            self.computed += 1
        return [[records[k] for k in row[: seq.final[i]]] for i, row in enumerate(keys)]

    def _execute(
        self,
        todo: OrderedDict[str, deque[Task]],
        n_todo: int,
        n_done: int,
        records: dict[str, dict[str, Any]],
        store: RunStore | None,
        desc: str,
        seq: _Sequential | None = None,
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
                    task = busy.pop(lane)
                    if seq is None:
                        self._keep(task, result, records, store)
                    else:  # kept, not yet stored or counted; later replications maybe not wanted
                        records[task.key] = self._record(task, result)
                        dropped = queue.drop(seq.after(task.key))
                        if bar is not None and dropped:
                            bar.total -= dropped
                            bar.refresh()
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
        record = self._record(task, result)
        if store is not None:
            store.put(task.key, record)
        records[task.key] = record
        self.computed += 1

    def _record(self, task: Task, result: dict[str, Any]) -> dict[str, Any]:
        """A finished run's record, its timing learnt; a world error raised."""
        if "error" in result:
            where = f" (variant {task.variant})" if task.variant else ""
            raise ScenarioError([f"{line}{where}" for line in result["error"]])
        record = {"key": task.key, **result, "scenario": task.scenario}
        self._learn(record)
        return record

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

    def drop(self, keys: set[str]) -> int:
        """Take the tasks of these run keys off the queue; how many there were."""
        if not keys:
            return 0
        before = sum(len(q) for q in self.todo.values())
        for w, q in self.todo.items():
            self.todo[w] = deque(t for t in q if t.key not in keys)
        return before - sum(len(q) for q in self.todo.values())


@dataclass
class _Sequential:
    """Which replications each scenario of a sequential batch keeps (see
    :meth:`Executor.run_sequential`): checked at each look once its first n are in."""

    keys: list[list[str]]
    looks: list[int]  # early looks, below R
    stop: Callable[[list[dict[str, Any]]], bool]
    records: dict[str, dict[str, Any]]
    final: dict[int, int] = field(default_factory=dict)  # scenario -> replications kept
    checked: dict[int, int] = field(default_factory=dict)  # scenario -> looks checked
    owners: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, row in enumerate(self.keys):
            for key in row:
                self.owners.setdefault(key, []).append(i)

    def advance(self, i: int) -> bool:
        """Settle scenario ``i`` as far as its leading records allow; is it final?"""
        if i in self.final:
            return True
        row = self.keys[i]
        have = next((k for k, key in enumerate(row) if key not in self.records), len(row))
        j = self.checked.get(i, 0)
        while j < len(self.looks) and self.looks[j] <= have:
            n = self.looks[j]
            j += 1
            if self.stop([self.records[key] for key in row[:n]]):
                self.final[i] = n
                break
        self.checked[i] = j
        if i not in self.final and have == len(row):
            self.final[i] = len(row)
        return i in self.final

    def after(self, key: str) -> set[str]:
        """A run arrived: the run keys no scenario needs any more (those that stopped)."""
        stopped = [i for i in self.owners.get(key, []) if i not in self.final and self.advance(i)]
        unwanted = {k for i in stopped for k in self.keys[i][self.final[i] :]}
        return {
            k
            for k in unwanted
            if all(
                o in self.final and k not in self.keys[o][: self.final[o]] for o in self.owners[k]
            )
        }


def _bar(total: int, initial: int, desc: str) -> Any:
    from tqdm import tqdm  # deferred: loaded only when a progress bar is shown

    return tqdm(
        total=total, initial=initial, desc=desc, unit="run", dynamic_ncols=True, smoothing=0.1
    )
