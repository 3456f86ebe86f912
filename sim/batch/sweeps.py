"""Parameter sweeps: every combination of varied scenario keys, times replications.

This is the Python API behind ``python -m sim sweep``::

    import sim
    from sim.batch.sweeps import summarize

    runs = sim.sweep(sim.load_scenario("scenarios/jinshui.yaml"),
                     vary={"staff.per_km2": [10, 20, 30]}, replications=5, days=1)
    summarize(runs)          # means and 95% confidence half-widths per variant

Common random numbers: replication k of every variant uses the same seed and
replication index, so every variant that does not change demand sees the same incidents
and differences between variants are not drowned in sampling noise.

Each finished run is stored as ``<out>/runs/<key>.json``, written atomically, where the
key is a hash of the resolved scenario (seed included) and the replication. Running the
same sweep again computes only the runs that are missing, so an interrupted sweep loses
nothing already finished, and a sweep that shares runs with an earlier one reuses them.
A stored run carries a checksum and is checked on reading; one that is damaged or edited
is simulated again, with a warning naming its file.

Runs execute on all local cores (up to one worker process per core; a worker keeps the
world of its current variant, and replications of one variant go to the same worker
where that saves building the world again) or, with ``scheduler="tcp://host:port"``,
on a Dask distributed cluster.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import math
import os
import signal
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, Unpack

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from sim.analysis.enforcement import SWEEP_MEASURES as ENFORCEMENT_MEASURES
from sim.analysis.enforcement import repeat_share_by, sweep_measures
from sim.analysis.evaluation import evaluate, evaluation_measures, with_black_flag_probability
from sim.analysis.hour_verdicts import office_hour_counts
from sim.analysis.metrics import ROLE_PLURAL, ci95_halfwidth, flatten, load, replication_measures
from sim.engine.campaign import staffed
from sim.errors import ArgumentError, ClusterError, InputError
from sim.output.folders import open_batch
from sim.overrides import parse_values
from sim.runner import hour_rows, office_rows, prepare, simulate_chain
from sim.scenario import ROLES, Scenario, ScenarioError, scenario_from_dict, with_overrides

if TYPE_CHECKING:
    import pandas as pd

    from sim.world.build import World

FORMAT = "chengguan-sim/run-2"  # bump when a stored run's content changes meaning (2: checksum)

# Discovery measures of sim.analysis.metrics.replication_measures (flattened as ``discovery.<name>``):
# the double-ten clocks start at the instruction, so only these show problems left unfound.
DISCOVERY: tuple[str, ...] = ("never_found", "report_delay_min")

# per role, from the summary's overload block; ``unstable`` is 1 when the role's queue grows
# without bound (offered load at least the capacity on shift, or waits growing), else 0
LOAD_MEASURES: tuple[str, ...] = (
    "offered_load_ratio",
    "peak_ratio",
    "hours_over",
    "unstable",
    "overtime_unit_hours_per_day",
)

# Measure columns of the tidy table, in this order (anything else follows).
MEASURES: tuple[str, ...] = (
    "double_ten",
    "advisor_on_time",
    "enforcer_on_time",
    "worst_office.double_ten",
    "offices_on_target",
    "advisor_response_min.mean",
    "advisor_response_min.p50",
    "advisor_response_min.p90",
    "advisor_response_min.p95",
    "enforcer_response_min.mean",
    "enforcer_response_min.p50",
    "enforcer_response_min.p90",
    "enforcer_response_min.p95",
    "utilization.advisor",
    "utilization.enforcer",
    *(f"overload.{role}.{name}" for role in ROLE_PLURAL for name in LOAD_MEASURES),
    "incidents",
    "escalated",
    "incidents_occurred",
    *(f"discovery.{name}" for name in DISCOVERY),
    *(f"enforcement.{name}" for name in ENFORCEMENT_MEASURES),
    "evaluation.max_black_flag",
    "evaluation.months",
    "evaluation.score_spread",
    "headcount.total",
    "headcount.grid",
    "headcount.advisor",
    "headcount.enforcer",
    "headcount.per_km2",
    "area_km2",
)
ID_COLUMNS = ("variant", "replication", "seed")


OFFICE_MEASURES = ("incidents", "escalated", "advisor_on_time", "enforcer_on_time", "double_ten")


def discovery_measure(measures: Mapping[str, Any], name: str) -> Any:
    """A discovery measure (:data:`DISCOVERY`) of a run's flat measures; None when absent."""
    return measures.get(f"discovery.{name}", measures.get(name))


# --------------------------------------------------------------------- variants


@dataclass(frozen=True, eq=False)
class Variant:
    """One combination of varied values and the validated scenario it gives."""

    index: int
    labels: dict[str, Any]  # what the tables show per varied key
    scenario: Scenario

    @property
    def title(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.labels.items()) or "base"


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``staff.per_km2=10,15,20`` → ``("staff.per_km2", [10, 15, 20])`` (:mod:`sim.overrides`)."""
    return parse_values(text)


def _label(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def variants(base: Scenario, vary: Mapping[str, Any]) -> list[Variant]:
    """Every combination of ``vary`` applied to ``base``, all validated first.

    A value list gives the values; a mapping gives labelled values (``{"label": value}``),
    handy for whole sub-trees such as shift plans. All problems of all variants are
    reported together as one :class:`ScenarioError`, each naming its field path.
    """
    keys = list(vary)
    options: list[list[tuple[Any, Any]]] = []
    problems: list[str] = []
    for key in keys:
        spec = vary[key]
        if isinstance(spec, Mapping):
            opts = [(label, value) for label, value in spec.items()]
        elif isinstance(spec, list | tuple):
            opts = [(_label(v), v) for v in spec]
        else:
            opts = [(_label(spec), spec)]
        if not opts:
            problems.append(f"{key}: no values to vary over")
        options.append(opts)
    if problems:
        raise ScenarioError(problems)
    out: list[Variant] = []
    for index, combo in enumerate(itertools.product(*options)):
        labels = {k: label for k, (label, _) in zip(keys, combo, strict=True)}
        overrides = {k: value for k, (_, value) in zip(keys, combo, strict=True)}
        try:
            sc = with_overrides(base, overrides) if overrides else base
        except ScenarioError as exc:
            where = ", ".join(f"{k}={v}" for k, v in labels.items())
            problems += [f"{line} (variant {where})" for line in exc.problems]
            continue
        out.append(Variant(index, labels, sc))
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return out


# --------------------------------------------------------------------- run keys


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _file_stamps(sc: Scenario) -> dict[str, Any]:
    """Files a scenario reads, with size and modification time (part of the run key)."""
    out: dict[str, Any] = {}
    for name in ("file", "offices", "grids"):
        value = getattr(sc.map, name)
        if value:
            p = sc.resolve(value)
            try:
                st = p.stat()
                out[name] = [str(p), st.st_size, st.st_mtime_ns]
            except OSError:
                out[name] = [str(p), None, None]
    return out


# The code that determines a run's numbers: whole packages (a module added to one is
# covered without anyone listing it) and the top-level modules they build on. Editing
# anything else (plots, tables, the CLI, the optimiser's search) keeps stored runs valid.
SIMULATION_PACKAGES: tuple[str, ...] = ("scenario", "engine", "world", "analysis")
SIMULATION_TOP_MODULES: tuple[str, ...] = (
    "overrides",
    "distributions",
    "rng",
    "errors",
    "budget",
    "runner",
)


def simulation_sources() -> list[Path]:
    """Every source file of :data:`SIMULATION_PACKAGES` and :data:`SIMULATION_TOP_MODULES`."""
    root = Path(__file__).resolve().parents[1]
    files = [root / f"{name}.py" for name in SIMULATION_TOP_MODULES]
    for package in SIMULATION_PACKAGES:
        files += sorted((root / package).rglob("*.py"))
    return files


@functools.cache
def code_fingerprint() -> str:
    """Digest of what determines a run's numbers, so runs stored by other code are not reused.

    Covers every file of :func:`simulation_sources`, the source of :func:`run_replication`
    (which turns a simulated table into the stored measures) and the numpy and scipy
    versions.
    """
    import inspect

    import scipy

    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for path in simulation_sources():
        name = path.relative_to(root).as_posix()
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(inspect.getsource(run_replication).encode("utf-8") + b"\0")
    h.update(f"numpy {np.__version__}\0scipy {scipy.__version__}".encode())
    return h.hexdigest()[:16]


def run_key(sc: Scenario, replication: int) -> str:
    """Key of one run: hash of the resolved scenario (sorted keys), its seed and the replication.

    Also covered: the record format, the simulating code and the numpy and scipy versions
    (:func:`code_fingerprint`) and the size and modification time of any map files the
    scenario reads.
    """
    payload = {
        "format": FORMAT,
        "code": code_fingerprint(),
        "scenario": sc.resolved(),
        "seed": sc.seed,
        "replication": replication,
        "files": _file_stamps(sc),
    }
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


# ----------------------------------------------------------------- worker side

_WORLDS: OrderedDict[str, World] = OrderedDict()
_WORLD_CACHE = 2


def world_key(scenario: dict[str, Any], base_dir: str) -> str:
    """Runs with the same world key share a built world (resolved scenario and base folder)."""
    return hashlib.sha256((_canonical(scenario) + "\0" + base_dir).encode("utf-8")).hexdigest()


def _world(scenario: dict[str, Any], base_dir: str) -> tuple[World, float]:
    from sim.world.build import build_world

    key = world_key(scenario, base_dir)
    if key in _WORLDS:
        _WORLDS.move_to_end(key)
        return _WORLDS[key], 0.0
    t0 = time.perf_counter()
    # the campaign's enforcer shifts are in force for the whole run, as in sim.run
    world = build_world(staffed(scenario_from_dict(scenario, base_dir=Path(base_dir))))
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
    for role in ROLE_PLURAL:
        x = overload[role]
        for name in LOAD_MEASURES:
            value = x.get(name)
            if name == "hours_over":
                value = len(x["hours_over"])
            elif name == "unstable":
                value = int(x["status"] == "unstable")
            measures[f"overload.{role}.{name}"] = value
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


# -------------------------------------------------------------------- backends


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


def _serve(read_fd: int, write_fd: int, parent: int | None = None) -> None:
    """A local worker process: receive a task, send back its record, until told to stop."""
    from multiprocessing.connection import Connection

    if parent is not None:
        from sim.lifetime import die_with_parent

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


class LocalProcesses:
    """Up to one worker process per lane, each fed one task at a time through a pipe.

    A lane's process starts when the lane gets its first task, so a small batch starts
    few processes and a later, larger batch (the optimiser's) still gets every lane.
    Workers are fresh interpreters (``python -c``) that import only :mod:`sim.batch.sweeps`, so
    they work from scripts without a ``__main__`` guard and from notebooks alike. They
    never write results: the parent stores each record as it arrives, so a killed parent
    leaves nothing half-done, and its workers exit when their pipe closes.
    """

    def __init__(self, lanes: int) -> None:
        import subprocess
        from multiprocessing.connection import Connection

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
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        code = f"from sim.batch.sweeps import _serve; _serve({task_r}, {result_w}, {os.getpid()})"
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
        from multiprocessing.connection import wait

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
        import importlib

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


# -------------------------------------------------------------------- executor


class _StoredRun(BaseModel):
    """The shape a stored run record must have to be reused (see :class:`RunStore`)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    key: str
    format: str
    checksum: str
    scenario_name: str
    seed: int
    replication: int
    measures: dict[str, int | float | None]
    by_office: list[dict[str, int | float | str | None]]
    by_hour: list[dict[str, int | float | str | None]]
    by_office_hour: dict[str, list[int]] = {}  # requests, on time: office-major × 24
    warnings: list[str]
    timing: dict[str, int | float]
    scenario: dict[str, Any]


def record_checksum(record: Mapping[str, Any]) -> str:
    """SHA-256 of a run record's canonical JSON, its ``checksum`` field left out.

    Taken over the JSON round trip, so a record read back gives the same digest.
    """
    body = {k: v for k, v in record.items() if k != "checksum"}
    return hashlib.sha256(_canonical(json.loads(_canonical(body))).encode("utf-8")).hexdigest()


def record_problem(record: Any, key: str) -> str | None:
    """Why ``record`` is not a valid stored run for ``key``, or ``None`` when it is."""
    if not isinstance(record, dict):
        return f"not a JSON object but {type(record).__name__}"
    try:
        _StoredRun.model_validate(record)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "record"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{where}: {err['msg']}{more}"
    if record["format"] != FORMAT:
        return f"format {record['format']!r}, expected {FORMAT!r}"
    if record["key"] != key:
        return "stored under another run's key"
    missing = [m for m in MEASURES if m not in record["measures"]]
    if missing:
        return f"measures missing: {', '.join(missing)}"
    if record["checksum"] != record_checksum(record):
        return "its checksum does not match its content: edited or damaged"
    return None


class RunStore:
    """Finished runs as ``<dir>/<key>.json``; a valid stored run is never rewritten.

    Every record carries a checksum of its content and its shape is checked on reading
    (:func:`record_problem`): a file that is unreadable, not JSON, of the wrong shape or
    edited is treated as missing, so the run is simulated again and the file replaced,
    and one line naming the file is added to :attr:`warnings`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.warnings: list[str] = []

    def path(self, key: str) -> Path:
        return self.folder / f"{key[:32]}.json"

    def _read(self, key: str) -> tuple[dict[str, Any] | None, str | None]:
        """The valid record stored for ``key`` or ``None``, and why a file was not used."""
        p = self.path(key)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError) as exc:  # a folder, no permission, not UTF-8
            return None, f"unreadable: {exc.strerror if isinstance(exc, OSError) else exc}"
        try:
            record = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return None, f"not valid JSON: {exc}"
        problem = record_problem(record, key)
        return (None, problem) if problem else (record, None)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record of run ``key``, or ``None`` when it must be simulated."""
        record, problem = self._read(key)
        if problem is not None:
            self.warnings.append(
                f"{self.path(key)}: not a valid stored run, simulating it again: {problem}"
            )
        return record

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store a freshly simulated record with its checksum, atomically."""
        from sim.output.results import dumps, write_text_atomic

        if self._read(key)[0] is None:
            body = {k: v for k, v in record.items() if k != "checksum"}
            write_text_atomic(self.path(key), dumps({**body, "checksum": record_checksum(body)}))


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
        lane_world: dict[int, str] = {}
        busy: dict[int, Task] = {}
        started: set[str] = set()

        def pick(lane: int) -> Task | None:
            own = lane_world.get(lane)
            if own is not None and todo.get(own):
                return todo[own].popleft()
            fresh = next((w for w, q in todo.items() if q and w not in started), None)
            if fresh is None:
                waiting = [w for w, q in todo.items() if q]
                if not waiting:
                    return None
                fresh = max(waiting, key=lambda w: len(todo[w]))
                if not self._worth_joining(len(todo[fresh])):
                    return None
            started.add(fresh)
            lane_world[lane] = fresh
            return todo[fresh].popleft()

        try:
            while True:
                for lane in range(backend.lanes):
                    if lane not in busy:
                        task = pick(lane)
                        if task is not None:
                            backend.submit(lane, task)
                            busy[lane] = task
                if not busy:
                    break
                for lane, result in backend.wait():
                    task = busy.pop(lane)
                    if "error" in result:
                        where = f" (variant {task.variant})" if task.variant else ""
                        raise ScenarioError([f"{line}{where}" for line in result["error"]])
                    record = {"key": task.key, **result, "scenario": task.scenario}
                    if store is not None:
                        store.put(task.key, record)
                    records[task.key] = record
                    self.computed += 1
                    self._learn(record)
                    if bar is not None:
                        bar.update(1)
        except BaseException:
            self.close()  # stop workers now: an interrupted batch's runs are not wanted
            raise
        finally:
            if bar is not None:
                bar.close()

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


def _bar(total: int, initial: int, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, initial=initial, desc=desc, unit="run", dynamic_ncols=True, smoothing=0.1
    )


# ------------------------------------------------------------------------ tables


def _ordered(columns: Sequence[str], first: Sequence[str]) -> list[str]:
    rank = {c: i for i, c in enumerate(MEASURES)}
    rest = [c for c in columns if c not in first]
    return [*first, *sorted(rest, key=lambda c: (rank.get(c, len(rank)), c))]


def tables(
    items: Sequence[Variant], records: Sequence[Sequence[dict[str, Any]]]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One row per variant × replication; the same × street office; the same × hour."""
    import pandas as pd

    keys = list(items[0].labels) if items else []
    rows, office_rows, hour_rows = [], [], []
    for v, recs in zip(items, records, strict=True):
        for rec in recs:
            ids = {
                "variant": v.index,
                **v.labels,
                "replication": rec["replication"],
                "seed": rec["seed"],
            }
            rows.append({**ids, **rec["measures"]})
            for o in rec["by_office"]:
                office_rows.append(
                    {**ids, **{k: val for k, val in o.items() if k != "advisor_p90_min"}}
                )
            for h in rec.get("by_hour", []):
                hour_rows.append(
                    {**ids, **{k: val for k, val in h.items() if k != "advisor_p90_min"}}
                )
    first = ["variant", *keys, "replication", "seed"]
    runs = pd.DataFrame(rows)
    runs = runs[_ordered(list(runs.columns), first)] if rows else pd.DataFrame(columns=first)
    by_office = pd.DataFrame(office_rows)
    by_hour = pd.DataFrame(hour_rows)
    for df in (runs, by_office, by_hour):
        df.attrs["vary"] = keys
    return runs, by_office, by_hour


def summarize(runs: pd.DataFrame, keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean and 95% CI half-width (t over replications) of every measure, per variant.

    Columns: the variant, the varied keys, ``replications``, then ``<measure>`` and
    ``<measure>.ci95`` for every measure.
    """
    import pandas as pd

    keys = list(keys if keys is not None else runs.attrs.get("vary", []))
    group = (["variant"] if "variant" in runs.columns else []) + keys
    skip = set(group) | set(ID_COLUMNS)
    measures = [c for c in runs.columns if c not in skip and pd.api.types.is_numeric_dtype(runs[c])]
    rows = []
    grouped = runs.groupby(group, sort=False, dropna=False) if group else [((), runs)]
    for gkey, part in grouped:
        gvals = gkey if isinstance(gkey, tuple) else (gkey,)
        row: dict[str, Any] = dict(zip(group, gvals, strict=True))
        row["replications"] = len(part)
        for m in measures:
            vals = [float(x) for x in part[m] if pd.notna(x)]
            row[m] = float(np.mean(vals)) if vals else None
            row[f"{m}.ci95"] = ci95_halfwidth(list(vals))
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["vary"] = keys
    return out


# ------------------------------------------------------------------------- plots

AXIS_LABELS = {
    "staff.per_km2": "staff density (staff per km², all roles)",
    "demand.incidents_per_day": "instructions per day (district)",
    "dispatch.policy": "dispatch policy",
    "discovery.citizen.probability": "chance a citizen reports a problem",
    "travel.speed_kmh.ebike": "e-bike speed (km/h)",
    "travel.mode.advisor": "advisor travel mode",
    "travel.mode.enforcer": "enforcer travel mode",
    "staff.mix.advisor": "advisor share of staff",
    "staff.enforcer_team_size": "enforcers per team",
}

PLOTS: tuple[tuple[str, str, str], ...] = (
    ("double_ten", "double_ten", "Double ten: every clock met"),
    ("advisor_on_time", "advisor_on_time", "Clock 1: advisor on scene within {adv:g} min"),
    (
        "enforcer_on_time",
        "enforcer_on_time",
        "Clock 2: enforcers within {enf:g} min of failed persuasion",
    ),
    (
        "advisor_response_min.mean",
        "advisor_response_mean",
        "Mean time from instruction to advisor on scene",
    ),
    (
        "enforcer_response_min.mean",
        "enforcer_response_mean",
        "Mean time from failed persuasion to enforcers",
    ),
    ("worst_office.double_ten", "worst_office_double_ten", "Double ten in the worst street office"),
)


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def x_key(summary: pd.DataFrame, keys: Sequence[str]) -> str | None:
    """The varied key to put on the x-axis: the first numeric one with several values."""
    multi = [k for k in keys if summary[k].nunique(dropna=False) > 1]
    numeric = [k for k in multi if _numeric(list(summary[k]))]
    choice = numeric or multi
    return choice[0] if choice else None


def plot_measure(
    ax: Any,
    summary: pd.DataFrame,
    keys: Sequence[str],
    measure: str,
    rules: dict[str, Any],
    title: str,
) -> None:
    """One measure against the x key with 95% CI bands, one line per other combination."""
    from sim.viz.report import COLORS

    xk = x_key(summary, keys)
    if xk is None:
        return
    others = [k for k in keys if k != xk and summary[k].nunique(dropna=False) > 1]
    share = not measure.endswith(".mean")
    scale = 100.0 if share else 1.0
    numeric_x = _numeric(list(summary[xk]))
    cats = list(dict.fromkeys(summary[xk]))
    groups = summary.groupby(others, sort=False, dropna=False) if others else [((), summary)]
    palette = [
        "#1f77b4",
        "#d62728",
        "#2ca02c",
        "#9467bd",
        "#ff7f0e",
        "#8c564b",
        "#17becf",
        "#7f7f7f",
    ]
    single_color = {
        "double_ten": COLORS["double_ten"],
        "advisor": COLORS["advisor"],
        "enforcer": COLORS["enforcer"],
    }
    n_groups = len(groups) if others else 1
    for i, (gkey, part) in enumerate(groups):
        gvals = gkey if isinstance(gkey, tuple) else (gkey,)
        label = ", ".join(f"{k}={v}" for k, v in zip(others, gvals, strict=True)) or None
        part = part.sort_values(xk) if numeric_x else part
        x = (
            np.asarray(part[xk], dtype=float)
            if numeric_x
            else np.array([cats.index(v) for v in part[xk]], float)
        )
        y = np.array(
            [np.nan if v is None else float(v) * scale for v in part[measure]], dtype=float
        )
        ci_col = part.get(f"{measure}.ci95")
        ci = np.array(
            [
                0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) * scale
                for v in ci_col
            ]
            if ci_col is not None
            else np.zeros(len(part)),
            dtype=float,
        )
        if n_groups == 1:
            color = next((c for k, c in single_color.items() if measure.startswith(k)), palette[0])
        else:
            color = palette[i % len(palette)]
        low, high = y - ci, y + ci
        if share:  # a share's interval stays within 0-100%
            low, high = np.clip(low, 0.0, 100.0), np.clip(high, 0.0, 100.0)
        if numeric_x:
            ax.plot(x, y, marker="o", ms=4, lw=1.8, color=color, label=label)
            ax.fill_between(x, low, high, color=color, alpha=0.18, lw=0)
        else:
            off = (i - (n_groups - 1) / 2) * min(0.15, 0.6 / n_groups)
            yerr = np.vstack([y - low, high - y])
            ax.errorbar(x + off, y, yerr=yerr, fmt="o", ms=5, capsize=4, color=color, label=label)
    if share:
        target = float(rules["target"])
        ax.axhline(
            100 * target, color=COLORS["target"], ls=":", lw=1.3, label=f"target {100 * target:g}%"
        )
        ax.set_ylabel("instructions on time (%)")
        lo, hi = ax.get_ylim()
        ax.set_ylim(max(lo, -2.0), min(max(hi, 100 * target + 1), 101.0))
    else:
        limit = float(
            rules["advisor_minutes" if measure.startswith("advisor") else "enforcer_minutes"]
        )
        ax.axhline(limit, color=COLORS["target"], ls=":", lw=1.3, label=f"deadline {limit:g} min")
        vals = [float(v) for v in summary[measure] if v is not None and math.isfinite(float(v))]
        if vals and min(vals) > 0 and max(vals) / min(vals) > 20:
            ax.set_yscale("log")  # a collapsed variant would flatten all the others
            ax.set_ylabel("minutes (log scale)")
        else:
            ax.set_ylabel("minutes")
            ax.set_ylim(bottom=0)
    if not numeric_x:
        ax.set_xticks(range(len(cats)), [str(c) for c in cats])
        ax.set_xlim(-0.5, len(cats) - 0.5)
    ax.set_xlabel(AXIS_LABELS.get(xk, xk))
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, loc="best")


def _staff_axis(ax: Any, summary: pd.DataFrame, xk: str) -> None:
    """Total staff on a top axis when the x-axis is the density."""
    if xk != "staff.per_km2" or "headcount.total" not in summary.columns:
        return
    pairs = sorted(
        {(float(x), float(h)) for x, h in zip(summary[xk], summary["headcount.total"], strict=True)}
    )
    xs = [p[0] for p in pairs]
    if len(set(xs)) != len(xs):
        return
    top = ax.secondary_xaxis("top")
    top.set_xticks(xs, [f"{h:,.0f}" for _, h in pairs], fontsize=8)
    top.set_xlabel("total staff", fontsize=8)


def write_plots(
    summary: pd.DataFrame, keys: Sequence[str], rules: dict[str, Any], folder: Path, subtitle: str
) -> list[Path]:
    """One PNG per measure plus ``overview.png``; nothing when nothing was varied."""
    import matplotlib.pyplot as plt

    from sim.viz.report import save, style

    xk = x_key(summary, keys)
    if xk is None:
        return []
    style()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    fmt = {"adv": float(rules["advisor_minutes"]), "enf": float(rules["enforcer_minutes"])}
    for measure, name, title in PLOTS:
        if measure not in summary.columns:
            continue
        fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
        plot_measure(ax, summary, keys, measure, rules, title.format(**fmt))
        _staff_axis(ax, summary, xk)
        fig.supxlabel(subtitle, fontsize=8, color="#555555")
        save(fig, folder / f"{name}.png")
        written.append(folder / f"{name}.png")
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), layout="constrained")
    for ax, (measure, _, title) in zip(axes.flat, PLOTS[:4], strict=True):
        plot_measure(ax, summary, keys, measure, rules, title.format(**fmt))
    fig.suptitle(f"What-if sweep: {subtitle}", fontsize=11)
    save(fig, folder / "overview.png")
    written.append(folder / "overview.png")
    return written


# ----------------------------------------------------------------------- sweeps


@dataclass
class SweepResult:
    """Everything a sweep produced."""

    runs: pd.DataFrame  # one row per variant × replication
    by_office: pd.DataFrame  # one row per variant × replication × street office
    by_hour: pd.DataFrame  # one row per variant × replication × hour of day (instructed)
    summary: pd.DataFrame  # means and CI half-widths per variant
    variants: list[Variant]
    replications: int
    computed: int  # runs simulated now
    reused: int  # runs found in the store
    out: Path | None = None
    warnings: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def keys(self) -> list[str]:
        return list(self.variants[0].labels) if self.variants else []


def run_sweep(
    scenario: Scenario,
    vary: Mapping[str, Any] | None = None,
    *,
    replications: int = 1,
    days: float | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    plots: bool = True,
    force: bool = False,
) -> SweepResult:
    """Run every combination of ``vary`` × ``replications``; all the tables and counts.

    ``vary`` maps dotted scenario keys to a list of values (or to ``{label: value}``).
    Replication k of every variant uses the same random streams (common random numbers).
    ``days`` and ``seed`` replace the scenario's. With ``out``, runs are stored and reused
    (resumable) and ``runs.csv``, ``summary.csv``, the other tables and (with ``plots``)
    the plots are written there. ``scheduler="tcp://host:port"`` runs on a Dask cluster;
    otherwise ``workers`` processes (default: all cores; 1 runs in this process).
    ``progress`` shows a progress bar. These keyword options, with these defaults, are
    also those of :func:`sweep` (:class:`SweepOptions`).
    """
    if replications < 1:
        raise ArgumentError(["replications: must be at least 1"], ["replications"])
    t0 = time.perf_counter()
    base = prepare(scenario, seed, days)
    items = variants(base, dict(vary or {}))
    folder = Path(out) if out is not None else None
    if folder is not None:
        folder = open_batch(folder, "sweep", SWEEP_FILES, force=force)
    with Executor(folder, workers=workers, scheduler=scheduler, progress=progress) as ex:
        records = ex.run(
            [v.scenario for v in items],
            replications,
            desc=f"sweep {base.name}",
            labels=[v.title if v.labels else "" for v in items],
        )
    runs, by_office, by_hour = tables(items, records)
    summary = with_black_flag_probability(summarize(runs), by_office)
    warnings = list(
        dict.fromkeys(
            [*ex.warnings, *(w for recs in records for r in recs for w in r.get("warnings", []))]
        )
    )
    result = SweepResult(
        runs, by_office, by_hour, summary, items, replications, ex.computed, ex.reused, folder
    )
    result.warnings = warnings
    result.elapsed_s = time.perf_counter() - t0
    if folder is not None:
        write_outputs(result, base, folder, plots=plots)
    return result


SWEEP_FILES = (
    "runs",
    "runs.csv",
    "runs_by_office.csv",
    "runs_by_hour.csv",
    "summary.csv",
    "plots",
    "sweep.json",
)
"""What a sweep writes into its folder (and may overwrite when resumed)."""


class SweepOptions(TypedDict, total=False):
    """The keyword options of :func:`sweep`: those of :func:`run_sweep`, which sets the defaults."""

    replications: int
    days: float | None
    seed: int | None
    out: str | Path | None
    scheduler: str | None
    workers: int | None
    progress: bool
    plots: bool
    force: bool


def sweep(
    scenario: Scenario, vary: Mapping[str, Any] | None = None, **options: Unpack[SweepOptions]
) -> pd.DataFrame:
    """Run every combination of ``vary`` × ``replications``; return the tidy run table.

    One row per variant × replication: ``variant``, the varied keys, ``replication``,
    ``seed`` and every summary measure as a column. Options and defaults are those of
    :func:`run_sweep` (which also returns the per-office and per-hour tables and the
    summary). Means and confidence intervals: :func:`summarize`.
    """
    return run_sweep(scenario, vary, **options).runs


def _csv(df: pd.DataFrame) -> str:
    return str(df.to_csv(index=False, lineterminator="\n"))


def write_outputs(result: SweepResult, base: Scenario, folder: Path, *, plots: bool = True) -> None:
    """Tables, plots and ``sweep.json`` next to the stored runs, each written atomically."""
    from sim.output.results import atomic_dir, dumps, write_text_atomic

    write_text_atomic(folder / "runs.csv", _csv(result.runs))
    write_text_atomic(folder / "runs_by_office.csv", _csv(result.by_office))
    write_text_atomic(folder / "runs_by_hour.csv", _csv(result.by_hour))
    write_text_atomic(folder / "summary.csv", _csv(result.summary))
    if plots:
        with atomic_dir(folder / "plots") as tmp:
            write_plots(
                result.summary, result.keys, base.rules.model_dump(), tmp, describe(base, result)
            )
    meta = {
        "scenario": base.name,
        "seed": base.seed,
        "days": base.duration.days,
        "warmup_hours": base.duration.warmup_hours,
        "replications": result.replications,
        "vary": {k: list(dict.fromkeys(v.labels[k] for v in result.variants)) for k in result.keys},
        "variants": [
            {
                "variant": v.index,
                "values": v.labels,
                "runs": [run_key(v.scenario, k)[:32] for k in range(result.replications)],
            }
            for v in result.variants
        ],
        "computed_runs": result.computed,
        "reused_runs": result.reused,
        "warnings": result.warnings,
        "base_scenario": base.resolved(),
    }
    write_text_atomic(folder / "sweep.json", dumps(meta))


def describe(base: Scenario, result: SweepResult) -> str:
    """Subtitle for plots: scenario, run length, replications, fixed keys."""
    fixed = [
        f"{k}={result.variants[0].labels[k]}"
        for k in result.keys
        if result.summary[k].nunique() == 1
    ]
    parts = [
        base.name,
        f"{base.duration.days:g} day(s) after {base.duration.warmup_hours:g} h warm-up",
        f"{result.replications} replication(s), seed {base.seed}",
        "shaded bands / bars: 95% CI",
        *fixed,
    ]
    return " · ".join(parts)


def summary_text(result: SweepResult) -> str:
    """The table ``python -m sim sweep`` prints."""
    from sim.viz.report import format_table

    s = result.summary

    def pct(m: str, row: Any) -> str:
        v, ci = row.get(m), row.get(f"{m}.ci95")
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        half = (
            "" if ci is None or (isinstance(ci, float) and math.isnan(ci)) else f" ± {100 * ci:.1f}"
        )
        return f"{100 * v:.1f}%{half}"

    def num(m: str, row: Any) -> str:
        v = row.get(m)
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.1f}"

    headers = [
        *result.keys,
        "staff",
        "double ten",
        "advisor",
        "enforcers",
        "adv. mean min",
        "worst office",
        "load",
    ]
    rows = [
        [
            *(row[k] for k in result.keys),
            num("headcount.total", row).removesuffix(".0"),
            pct("double_ten", row),
            pct("advisor_on_time", row),
            pct("enforcer_on_time", row),
            num("advisor_response_min.mean", row),
            pct("worst_office.double_ten", row),
            load_note(row),
        ]
        for row in s.to_dict("records")
    ]
    return format_table(headers, rows, align="l" * len(result.keys) + "r" * 6 + "l")


def load_note(row: Mapping[Any, Any]) -> str:
    """Words for a variant's load: which roles are overloaded, or over capacity at peaks.

    ``row`` is a row of :func:`summarize`: means over replications, so ``unstable`` is
    the share of replications in which the role's queue grew without bound.
    """

    def get(key: str) -> float | None:
        v = row.get(key)
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    notes = []
    runs = int(row.get("replications") or 1)
    for role, name in ROLE_PLURAL.items():
        unstable = get(f"overload.{role}.unstable")
        ratio = get(f"overload.{role}.offered_load_ratio")
        peak = get(f"overload.{role}.peak_ratio")
        if unstable is None:
            continue
        of = "no unit on shift" if ratio is None else f"offered load {ratio:.2f} of capacity"
        if unstable >= 0.5:
            notes.append(f"{name} overloaded: {of}")
        elif unstable > 0:
            notes.append(f"{name} overloaded in {round(unstable * runs)} of {runs} runs: {of}")
        elif peak is not None and peak >= 1:
            notes.append(f"{name} over capacity at peak hours (up to {peak:.2f})")
    return "; ".join(notes)
