"""Speed and memory figures for the three reference workloads (issue: performance).

    python benchmarks/run.py                 # all workloads, 3 runs each, median
    python benchmarks/run.py W1 --repeat 5   # one workload

W1  `python -m sim run scenarios/jinshui.yaml` as a user runs it, whole process,
    with a cold cache and with a warm one.
W2  Jinshui for 365 simulated days (about a million incidents).
W3  A generated city ten times Jinshui (benchmarks/city_x10.yaml) for 7 days.

Each workload runs in a fresh process; wall time and peak memory (RSS) are measured
from outside, and the simulator's own timings (building the map and travel tables,
simulating) and event counts from inside. Figures are medians over the runs.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = {
    "W1": ("scenarios/jinshui.yaml", []),
    "W2": ("scenarios/jinshui.yaml", ["duration.days=365"]),
    "W3": ("benchmarks/city_x10.yaml", []),
}


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed")
    return wall, usage.ru_maxrss / 1024, out.decode()


def worker(name: str) -> None:
    """Inside the child: run one workload through the API and print its figures."""
    import sim

    path, overrides = WORKLOADS[name]
    scenario = sim.load_scenario(ROOT / path, overrides)
    result = sim.run(scenario)
    print(json.dumps({**result.stats, "incidents": len(result.table)}))


def bench_w1(repeat: int) -> dict[str, Any]:
    rows: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "SIM_CACHE_DIR": str(Path(tmp) / "cache")}
            cmd = [sys.executable, "-m", "sim", "run", "scenarios/jinshui.yaml", "--quiet",
                   "--out", str(Path(tmp) / "out")]  # fmt: skip
            for kind in ("cold", "warm"):
                wall, rss, _ = measure(cmd, env)
                rows[kind].append((wall, rss))
    inside = worker_figures("W1", repeat=1)
    return {
        "cold_s": statistics.median(w for w, _ in rows["cold"]),
        "warm_s": statistics.median(w for w, _ in rows["warm"]),
        "peak_rss_mb": max(r for _, r in rows["cold"] + rows["warm"]),
        **inside,
    }


def worker_figures(name: str, repeat: int) -> dict[str, Any]:
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "SIM_CACHE_DIR": str(Path(tmp) / "cache")}
            wall, rss, out = measure([sys.executable, __file__, "--worker", name], env)
            figures = json.loads(out.strip().splitlines()[-1])
            runs.append({"wall_s": wall, "peak_rss_mb": rss, **figures})
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    med["incidents_per_s"] = med["incidents"] / med["simulate_seconds"]
    med["events_per_s"] = med["events"] / med["simulate_seconds"]
    return med


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workloads", nargs="*", default=["W1", "W2", "W3"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    results: dict[str, dict[str, Any]] = {}
    for name in args.workloads:
        print(f"running {name} ({args.repeat}×) …", file=sys.stderr, flush=True)
        results[name] = bench_w1(args.repeat) if name == "W1" else worker_figures(name, args.repeat)
    print(report(results, args.repeat))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def report(results: dict[str, dict[str, Any]], repeat: int) -> str:
    lines = [
        f"median of {repeat} run(s) on {os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "",
        "| workload | wall (s) | incidents | incidents/s | events/s | build map+travel (s) | peak RSS (MB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        wall = (
            f"{r['cold_s']:.2f} cold / {r['warm_s']:.2f} warm"
            if name == "W1"
            else f"{r['wall_s']:.2f}"
        )
        lines.append(
            f"| {name} | {wall} | {r['incidents']:,.0f} | {r['incidents_per_s']:,.0f} | "
            f"{r['events_per_s']:,.0f} | {r['build_seconds']:.2f} | {r['peak_rss_mb']:,.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
