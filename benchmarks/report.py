"""What the report and the GeoPackage cost a run: time to write each, and the report's size.

    python benchmarks/report.py                # the default run (7 days), 3 repeats
    python benchmarks/report.py --days 365     # a year: one day's replay, the rest aggregated

Simulates once through the API, writes the results folder without them, then times
(wall and CPU, median of the repeats) ``results.gpkg`` (layers and writing) and
``report.html`` (reading the folder back, the replay of the worst day, the page) as
``write_run`` does them. A figure, not a test: the machine's load moves it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days", type=float, default=None, help="simulated days (default: the scenario's)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import sim
    from sim.output import gis
    from sim.output.report import REPORT, run_report
    from sim.output.results import RunFiles, write_run

    scenario = sim.load_scenario(ROOT / "scenarios" / "jinshui.yaml")
    result = sim.run(scenario, days=args.days)
    rows: dict[str, list[tuple[float, float]]] = {"results.gpkg": [], "report.html": []}
    size = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = write_run(result, Path(tmp) / "run", files=RunFiles(plots=False, report=False))
        for _ in range(args.repeat):
            path = out / "bench.gpkg"
            path.unlink(missing_ok=True)
            wall, cpu = time.perf_counter(), time.process_time()
            layers = gis.run_layers(result.world, result.summary, result.table)
            gis.write_gpkg(layers, result.world.net.crs, path)
            rows["results.gpkg"].append((time.perf_counter() - wall, time.process_time() - cpu))
            wall, cpu = time.perf_counter(), time.process_time()
            html = run_report(out, table=result.table)
            (out / REPORT).write_text(html, encoding="utf-8")
            rows["report.html"].append((time.perf_counter() - wall, time.process_time() - cpu))
            size = (out / REPORT).stat().st_size
        gpkg_size = (out / "bench.gpkg").stat().st_size
    print(f"jinshui, {scenario.duration.days if args.days is None else args.days:g} days, "
          f"{len(result.table):,} incidents; median of {args.repeat}")  # fmt: skip
    for name, r in rows.items():
        wall = statistics.median(w for w, _ in r)
        cpu = statistics.median(c for _, c in r)
        print(f"  {name:13} wall {wall:6.2f} s   CPU {cpu:6.2f} s")
    print(f"  report.html  {size / 1e6:.2f} MB;  results.gpkg {gpkg_size / 1e6:.2f} MB")


if __name__ == "__main__":
    sys.exit(main())
