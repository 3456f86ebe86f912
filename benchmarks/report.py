"""What the report and the GeoPackage cost a run: CPU, wall, size and memory of each.

    python benchmarks/report.py                 # W1: the default run (7 days), 3 repeats
    python benchmarks/report.py W2 --repeat 1   # W2: a year; one day's replay, the rest aggregated
    python benchmarks/report.py W4 --repeat 1   # W4's input: 200 offices, 100,000 incidents a day
    python benchmarks/report.py W1 W2 W4        # each in turn

Simulates once through the API, writes the results folder without them, then measures
``results.gpkg`` (its layers and writing) and ``report.html`` (reading the folder back,
the replay of the worst day, the page) as ``write_run`` does them, each in a process
forked from the one holding the run (so every repeat starts from the same memory):
wall and CPU seconds (median of the repeats), the file's size, and the peak memory the
stage adds to the run's (its child's high-water mark minus the resident memory it was
forked with). The run's own peak is printed beside it. A figure, not a test: on a shared
machine wall time moves with the load; CPU time and memory much less. So the wall time
is split (Linux's /proc/thread-self/schedstat): ``queued`` is the time the stage was
ready but waited for a CPU (the machine's load), ``blocked`` the rest of wall minus CPU:
waiting on the disk (an fsync) or sleeping, which is the stage's own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# the workloads of benchmarks/README.md (W1, W2, W4): scenario, days, overrides
WORKLOADS: dict[str, tuple[str, float | None, tuple[str, ...]]] = {
    "W1": ("scenarios/jinshui.yaml", None, ()),
    "W2": ("scenarios/jinshui.yaml", 365.0, ()),
    "W4": (
        "benchmarks/city_x10.yaml",
        7.0,
        (
            "map.generate.offices_x=20",
            "map.generate.offices_y=10",
            "demand.incidents_per_day=100000",
        ),
    ),
}


def _status_mb(key: str) -> float:
    """A figure of /proc/self/status in MB (VmRSS: resident now; VmHWM: its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _queued_s() -> float:
    """Seconds this thread has waited, runnable, for a CPU (0 where Linux does not say)."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def in_child(stage: Callable[[], int]) -> dict[str, float]:
    """Run ``stage`` (returning the bytes it wrote) in a forked child: its wall, CPU, the
    size and the memory it added to what it was forked with."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report through the pipe, leave at once
        os.close(read)
        try:
            rss0 = _status_mb("VmRSS")
            wall, cpu, queued = time.perf_counter(), time.process_time(), _queued_s()
            size = stage()
            out = {
                "wall": time.perf_counter() - wall,
                "cpu": time.process_time() - cpu,
                "queued": _queued_s() - queued,
                "size_mb": size / 1e6,
                "extra_mb": _status_mb("VmHWM") - rss0,
            }
        except BaseException as exc:  # said to the parent, which raises it
            out = {"error": repr(exc)}  # type: ignore[dict-item]
        os.write(write, json.dumps(out).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data: dict[str, Any] = json.loads(pipe.read() or b'{"error": "no answer"}')
    os.waitpid(pid, 0)
    if "error" in data:
        raise RuntimeError(f"stage failed: {data['error']}")
    return data


def workload(name: str, repeat: int) -> None:
    import sim
    from sim.output import gis
    from sim.output.report import REPORT, run_report
    from sim.output.results import RunFiles, write_run

    path, days, sets = WORKLOADS[name]
    cpu0 = time.process_time()
    result = sim.run(sim.load_scenario(ROOT / path, sets), days=days)
    run_cpu = time.process_time() - cpu0
    with tempfile.TemporaryDirectory() as tmp:
        out = write_run(result, Path(tmp) / "run", files=RunFiles(plots=False, report=False))
        run_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        def gpkg() -> int:
            target = out / "bench.gpkg"
            target.unlink(missing_ok=True)  # a new file each time, as a run writes it
            layers = gis.run_layers(result.world, result.summary, result.table)
            gis.write_gpkg(layers, result.world.net.crs, target)
            return target.stat().st_size

        def report() -> int:
            html = run_report(out, table=result.table)
            (out / REPORT).write_text(html, encoding="utf-8")
            return (out / REPORT).stat().st_size

        rows = {"results.gpkg": gpkg, "report.html": report}
        figures = {k: [in_child(stage) for _ in range(repeat)] for k, stage in rows.items()}
    print(
        f"{name}: {path} {' '.join(sets)}, {len(result.table):,} incidents; simulated in "
        f"{run_cpu:.1f} CPU s, peak RSS {run_peak:,.0f} MB before these; median of {repeat}"
    )
    for k, fs in figures.items():
        med = {f: statistics.median(x[f] for x in fs) for f in fs[0]}
        blocked = max(0.0, med["wall"] - med["cpu"] - med["queued"])
        print(
            f"  {k:13} wall {med['wall']:6.2f} s (queued {med['queued']:5.2f}, blocked "
            f"{blocked:5.2f})   CPU {med['cpu']:6.2f} s   {med['size_mb']:7.2f} MB   "
            f"peak RSS +{med['extra_mb']:,.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", metavar="|".join(WORKLOADS), default=["W1"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    for name in args.workloads:
        workload(name, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
