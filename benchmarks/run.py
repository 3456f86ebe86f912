"""Speed and memory of the reference workloads, as a user runs them (issue: performance).

    python benchmarks/run.py                  # every workload, 3 runs each, medians
    python benchmarks/run.py W2 S --repeat 5  # W2 beside the bare-SimPy ceiling
    python benchmarks/run.py L                # CPU per incident at 3x demand vs default

W1  `python -m sim run scenarios/jinshui.yaml`: 7 days, every output and figure; with a
    cold cache and with a warm one.
W2  `python -m sim run scenarios/jinshui.yaml --days 365 --quiet`: a simulated year,
    every output and figure (about 880,000 incidents).
W3  `benchmarks/city_x10.yaml` (a generated city ten times Jinshui), 7 days, no figures.
W4  the same city with 200 offices and 100,000 incidents a day, 7 days, no figures: a
    run hopelessly over capacity, which must still finish in minutes.
S   bare SimPy, the ceiling: a source process starting, per incident, a process that
    yields three timeouts (no model at all).
L   CPU per incident at the default demand and at 3x (8,100 a day: queues that never
    empty): the CPU of a 28-day run minus a 7-day one, over the extra incidents, so
    start-up cancels.

Every run is a fresh process: wall time, CPU time (user + system, its children
included) and peak memory (RSS) are measured from outside; incidents are the rows of the
run's incidents.csv. CPU time is what load from other work disturbs least, so the rates
are per CPU second. The figures printed beside each other: W2's incidents per CPU second
as a share of the ceiling's (target at least 25%), W2's peak memory (at most 1.5 GB) and
L's ratio (at most 3). A map and its travel tables are built (cached) before timing,
except W1 cold. ``benchmarks/compare.py`` runs these for two checkouts alternately.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CITY_100K = [
    "--set", "map.generate.offices_x=20", "--set", "map.generate.offices_y=10",
    "--set", "demand.incidents_per_day=100000",
]  # fmt: skip
LOAD_DAYS = (7, 28)  # the short and the long run of L
LOAD_DEMANDS = {"default": 2700, "3x": 8100}
CEILING_INCIDENTS = 1_000_000


@dataclass(frozen=True)
class Figures:
    """One run of one command, measured from outside."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    incidents: int = 0

    @property
    def per_cpu_s(self) -> float:
        return self.incidents / self.cpu_s if self.cpu_s else 0.0


@dataclass(frozen=True)
class Checkout:
    """The source tree whose ``sim`` a run uses, and its own cache folder."""

    root: Path
    cache: Path

    def env(self, cache: Path | None = None) -> dict[str, str]:
        path = os.pathsep.join(filter(None, [str(self.root), os.environ.get("PYTHONPATH")]))
        return {**os.environ, "PYTHONPATH": path, "SIM_CACHE_DIR": str(cache or self.cache)}


def measure(cmd: list[str], cwd: Path, env: dict[str, str]) -> Figures:
    """Wall and CPU seconds and peak RSS (MB) of one child process, which must succeed."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.read().decode()[-2000:]}")
    return Figures(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def sim_run(co: Checkout, args: list[str], cache: Path | None = None) -> Figures:
    """``python -m sim run ARGS --out TMP`` in the checkout; incidents from incidents.csv."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "sim", "run", *args, "--out", str(out)]
        f = measure(cmd, co.root, co.env(cache))
        with (out / "incidents.csv").open("rb") as fh:
            rows = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1
    return Figures(f.wall_s, f.cpu_s, f.peak_rss_mb, rows)


def warm(co: Checkout, args: list[str]) -> None:
    """Build (and cache) the map and travel tables of a scenario, untimed."""
    cmd = [sys.executable, "-m", "sim", "validate", *args]
    measure(cmd, co.root, co.env())


# ------------------------------------------------------------------- workloads


def w1(co: Checkout) -> dict[str, Figures]:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["scenarios/jinshui.yaml", "--quiet"]
        return {"cold": sim_run(co, args, Path(tmp)), "warm": sim_run(co, args, Path(tmp))}


def _plain(scenario: str, *flags: str) -> Callable[[Checkout], dict[str, Figures]]:
    """A workload of one ``python -m sim run SCENARIO FLAGS`` (``--set`` flags too)."""
    sets = [x for k, a in enumerate(flags) if a == "--set" for x in (a, flags[k + 1])]

    def workload(co: Checkout) -> dict[str, Figures]:
        warm(co, [scenario, *sets])
        return {"run": sim_run(co, [scenario, *flags])}

    return workload


def load_runs(co: Checkout) -> dict[str, Figures]:
    """L: a short and a long run at each demand."""
    warm(co, ["scenarios/jinshui.yaml"])
    out = {}
    for name, per_day in LOAD_DEMANDS.items():
        for days in LOAD_DAYS:
            args = ["scenarios/jinshui.yaml", "--days", str(days), "--quiet", "--no-plots"]
            args += ["--set", f"demand.incidents_per_day={per_day}"]
            out[f"{name}_{days}d"] = sim_run(co, args)
    return out


def ceiling(co: Checkout) -> dict[str, Figures]:
    """S: bare SimPy in a fresh process (the checkout does not matter)."""
    cmd = [sys.executable, __file__, "--ceiling-worker", str(CEILING_INCIDENTS)]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status):
            raise RuntimeError("the SimPy ceiling failed")
        out.seek(0)
        inside = json.loads(out.read().decode())
    # the rate is over the simulation's own CPU (imports excluded), the wall is whole
    return {"run": Figures(wall, inside["cpu_s"], usage.ru_maxrss / 1024, inside["incidents"])}


def ceiling_worker(n: int) -> None:
    """Inside the child: n incidents, each a process of three timeouts, started by a source."""
    import random

    import simpy

    env = simpy.Environment()
    rng = random.Random(1)

    def incident(env: simpy.Environment) -> Any:
        yield env.timeout(rng.expovariate(0.2))  # to the scene
        yield env.timeout(rng.expovariate(0.1))  # on scene
        yield env.timeout(rng.expovariate(0.2))  # back to the post

    def source(env: simpy.Environment) -> Any:
        for _ in range(n):
            env.process(incident(env))
            yield env.timeout(rng.expovariate(2.0))

    env.process(source(env))
    start = time.process_time()
    env.run()
    print(json.dumps({"incidents": n, "cpu_s": time.process_time() - start}))


WORKLOADS: dict[str, Callable[[Checkout], dict[str, Figures]]] = {
    "W1": w1,
    "W2": _plain("scenarios/jinshui.yaml", "--days", "365", "--quiet"),
    "W3": _plain("benchmarks/city_x10.yaml", "--quiet", "--no-plots"),
    "W4": _plain("benchmarks/city_x10.yaml", "--quiet", "--no-plots", *CITY_100K),
    "S": ceiling,
    "L": load_runs,
}

Runs = dict[str, dict[str, list[Figures]]]  # workload -> part -> one Figures per run


def run_all(co: Checkout, names: list[str], repeat: int, runs: Runs | None = None) -> Runs:
    """Each workload ``repeat`` times, in turn; adds to ``runs``."""
    runs = runs if runs is not None else {}
    for _ in range(repeat):
        for name in names:
            print(f"  {name} in {co.root} …", file=sys.stderr, flush=True)
            for part, f in WORKLOADS[name](co).items():
                runs.setdefault(name, {}).setdefault(part, []).append(f)
    return runs


# ------------------------------------------------------------------- reporting


def med(fs: list[Figures], attr: str) -> float:
    return statistics.median(getattr(f, attr) for f in fs)


def per_incident_us(runs: Runs, name: str) -> float | None:
    """L: median CPU of the long run minus the short one, per extra incident (µs)."""
    parts = runs.get("L", {})
    short, long = parts.get(f"{name}_{LOAD_DAYS[0]}d"), parts.get(f"{name}_{LOAD_DAYS[1]}d")
    if not short or not long:
        return None
    extra = med(long, "incidents") - med(short, "incidents")
    return 1e6 * (med(long, "cpu_s") - med(short, "cpu_s")) / extra if extra else None


def derived(runs: Runs) -> dict[str, float | None]:
    """The figures the targets are about, from the medians."""
    out: dict[str, float | None] = {}
    if "W2" in runs and "S" in runs:
        w2, s = runs["W2"]["run"], runs["S"]["run"]
        out["W2 / ceiling (incidents per CPU s)"] = med(w2, "per_cpu_s") / med(s, "per_cpu_s")
    if "W2" in runs:
        out["W2 peak RSS (MB)"] = med(runs["W2"]["run"], "peak_rss_mb")
    default, busy = per_incident_us(runs, "default"), per_incident_us(runs, "3x")
    if default is not None and busy is not None:
        out["L: CPU µs per incident, default"] = default
        out["L: CPU µs per incident, 3x demand"] = busy
        out["L: 3x / default"] = busy / default
    return out


def table(runs: Runs) -> list[str]:
    lines = [
        "| workload | part | wall (s) | CPU (s) | incidents | incidents per CPU s | peak RSS (MB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, parts in runs.items():
        for part, fs in parts.items():
            lines.append(
                f"| {name} | {part} | {med(fs, 'wall_s'):.2f} | {med(fs, 'cpu_s'):.2f} | "
                f"{med(fs, 'incidents'):,.0f} | {med(fs, 'per_cpu_s'):,.0f} | "
                f"{med(fs, 'peak_rss_mb'):,.0f} |"
            )
    return lines


def report(runs: Runs, repeat: int) -> str:
    head = f"median of {repeat} run(s); {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    load = os.getloadavg()[0]
    lines = [f"{head}, 1-min load average at the end {load:.1f}", "", *table(runs), ""]
    lines += [f"{k}: {v:,.3g}" if v is not None else f"{k}: –" for k, v in derived(runs).items()]
    return "\n".join(lines)


def as_json(runs: Runs) -> dict[str, Any]:
    return {
        "runs": {n: {p: [asdict(f) for f in fs] for p, fs in ps.items()} for n, ps in runs.items()},
        "derived": derived(runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workloads", nargs="*", metavar="WORKLOAD", help=", ".join(WORKLOADS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument("--ceiling-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ceiling_worker:
        ceiling_worker(args.ceiling_worker)
        return
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)} (use {', '.join(WORKLOADS)})")
    args.workloads = args.workloads or list(WORKLOADS)
    with tempfile.TemporaryDirectory() as cache:
        runs = run_all(Checkout(ROOT, Path(cache)), args.workloads, args.repeat)
    print(report(runs, args.repeat))
    if args.json:
        args.json.write_text(json.dumps(as_json(runs), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
