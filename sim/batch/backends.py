"""Backends: where runs execute. In this process, in local worker processes, or on Dask.

Each backend has lanes (one run at a time each); the executor (:mod:`sim.batch.executor`)
decides which task goes to which lane, so replications of one variant reuse a world.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Protocol

from sim.batch.worker import run_replication
from sim.errors import ClusterError


@dataclass(frozen=True)
class Task:
    """A run as plain data (picklable; no live objects)."""

    key: str
    scenario: dict[str, Any]
    base_dir: str
    replication: int
    variant: str = ""  # names the variant in problems found only when its world is built


class Backend(Protocol):
    lanes: int

    def submit(self, lane: int, task: Task) -> None: ...
    def wait(self) -> list[tuple[int, dict[str, Any]]]: ...
    def close(self) -> None: ...


class InProcess:
    """Runs tasks one by one in this process (``workers=1``)."""

    lanes = 1

    def __init__(self) -> None:
        self._queue: deque[tuple[int, Task]] = deque()

    def submit(self, lane: int, task: Task) -> None:
        self._queue.append((lane, task))

    def wait(self) -> list[tuple[int, dict[str, Any]]]:
        lane, t = self._queue.popleft()
        return [(lane, run_replication(t.scenario, t.base_dir, t.replication))]

    def close(self) -> None:
        self._queue.clear()


class LocalProcesses:
    """Up to one worker process per lane, each fed one task at a time through a pipe.

    A lane's process starts when the lane gets its first task, so a small batch starts
    few processes and a later, larger batch (the optimiser's) still gets every lane.
    Workers are fresh interpreters (``python -c``) that import only :mod:`sim.batch.worker`, so
    they work from scripts without a ``__main__`` guard and from notebooks alike. They
    never write results: the parent stores each record as it arrives, so a killed parent
    leaves nothing half-done, and its workers exit when their pipe closes.
    """

    def __init__(self, lanes: int) -> None:
        root = str(Path(__file__).resolve().parents[2])
        self._env = dict(os.environ)
        self._env["PYTHONPATH"] = os.pathsep.join(
            p for p in (root, self._env.get("PYTHONPATH", "")) if p
        )
        self.lanes = lanes
        self._send: dict[int, Connection] = {}
        self._recv: dict[int, Connection] = {}
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._busy: set[int] = set()

    @property
    def started(self) -> int:
        """Worker processes started so far."""
        return len(self._procs)

    def _start(self, lane: int) -> None:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        code = f"from sim.batch.worker import serve; serve({task_r}, {result_w}, {os.getpid()})"
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", code],
                pass_fds=(task_r, result_w),
                stdin=subprocess.DEVNULL,
                env=self._env,
                start_new_session=True,  # a Ctrl-C in the terminal reaches only the parent
            )
        except BaseException:
            for fd in (task_r, task_w, result_r, result_w):
                os.close(fd)
            raise
        os.close(task_r)
        os.close(result_w)
        self._send[lane] = Connection(task_w, readable=False)
        self._recv[lane] = Connection(result_r, writable=False)
        self._procs[lane] = proc

    def submit(self, lane: int, task: Task) -> None:
        if lane not in self._procs:
            self._start(lane)
        try:
            self._send[lane].send((task.scenario, task.base_dir, task.replication))
        except OSError:
            raise RuntimeError(self._died(lane)) from None
        self._busy.add(lane)

    def _died(self, lane: int) -> str:
        proc = self._procs[lane]
        with contextlib.suppress(Exception):
            proc.wait(timeout=1.0)
        return f"a sweep worker process ended unexpectedly (exit code {proc.returncode})"

    def wait(self) -> list[tuple[int, dict[str, Any]]]:
        busy = sorted(self._busy)
        ready = wait([self._recv[i] for i in busy])
        out = []
        for lane in busy:
            if self._recv[lane] not in ready:
                continue
            self._busy.discard(lane)
            try:
                status, payload = self._recv[lane].recv()
            except (EOFError, OSError):
                raise RuntimeError(self._died(lane)) from None
            if status != "ok":
                raise RuntimeError(f"a sweep worker failed:\n{payload}")
            out.append((lane, payload))
        return out

    def close(self) -> None:
        for lane, proc in self._procs.items():
            if lane in self._busy:
                proc.terminate()  # interrupted mid-run: its result is not wanted
            else:
                with contextlib.suppress(OSError):
                    self._send[lane].send(None)
        for conn in (*self._send.values(), *self._recv.values()):
            conn.close()
        deadline = time.monotonic() + 3.0
        for proc in self._procs.values():
            try:
                proc.wait(timeout=max(0.05, deadline - time.monotonic()))
            except Exception:
                proc.kill()
                proc.wait()
        self._busy.clear()


class DaskCluster:
    """Tasks on a Dask distributed cluster, one lane per worker thread.

    Each task is pinned (loosely) to its lane's worker, so replications of one variant
    reuse the world that worker built; if that worker goes away, Dask runs it elsewhere.
    """

    def __init__(self, address: str) -> None:
        # by name, when a cluster is asked for: dask is heavy and optional at run time
        self._dd: Any = importlib.import_module("distributed")
        try:
            self.client: Any = self._dd.Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ClusterError([f"scheduler {address}: cannot connect ({exc})"]) from None
        workers = self.client.scheduler_info().get("workers", {})
        self._lane_worker = [
            addr
            for addr, info in sorted(workers.items())
            for _ in range(int(info.get("nthreads", 1)))
        ]
        if not self._lane_worker:
            self.client.close()
            raise ClusterError([f"scheduler {address}: the cluster has no workers"])
        self.lanes = len(self._lane_worker)
        self._futures: dict[Any, int] = {}

    def submit(self, lane: int, task: Task) -> None:
        fut = self.client.submit(
            run_replication, task.scenario, task.base_dir, task.replication,
            key=f"sim-run-{task.key}", pure=False,
            workers=[self._lane_worker[lane]], allow_other_workers=True,
        )  # fmt: skip
        self._futures[fut] = lane

    def wait(self) -> list[tuple[int, dict[str, Any]]]:
        done = self._dd.wait(list(self._futures), return_when="FIRST_COMPLETED").done
        out = []
        for fut in done:
            lane = self._futures.pop(fut)
            out.append((lane, fut.result()))
            fut.release()
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._futures:
                self.client.cancel(list(self._futures))
        self._futures.clear()
        self.client.close()
