"""CPU time of the load check before a run (``sim.analysis.preflight``), and its verdict.

    python benchmarks/preflight.py               # Jinshui at 2,704, 5,400 and 8,100 a day
    python benchmarks/preflight.py --city        # … and W4's city (200 offices, 100,000 a day)

The worlds are built first (and cached); the check itself is timed in this process, the
least CPU time (user + system) of ``--repeat`` calls, as ``sim.run`` makes it before the
first replication.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import sim
from sim.analysis.preflight import forecast, overload_warnings

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "jinshui": ("scenarios/jinshui.yaml", {}),
    "jinshui 5,400/day": ("scenarios/jinshui.yaml", {"demand.incidents_per_day": 5400}),
    "jinshui 8,100/day": ("scenarios/jinshui.yaml", {"demand.incidents_per_day": 8100}),
}
CITY = (
    "benchmarks/city_x10.yaml",
    {
        "map.generate.offices_x": 20,
        "map.generate.offices_y": 10,
        "demand.incidents_per_day": 100_000,
    },
)


def cpu_ms(world: sim.World, repeat: int) -> float:
    """The least CPU time of ``repeat`` checks, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        overload_warnings(world)
        best = min(best, time.process_time() - t)
    return 1000.0 * best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--city", action="store_true", help="also W4's city (a slow build)")
    parser.add_argument("--repeat", type=int, default=5, help="checks timed per case")
    args = parser.parse_args()
    cases = dict(CASES, **({"city 100,000/day": CITY} if args.city else {}))
    print(f"{'case':<20} {'CPU ms':>7}  advisors: estimate (tips a day), verdict")
    for name, (path, overrides) in cases.items():
        world = sim.build_world(sim.load_scenario(ROOT / path, overrides))
        ms = cpu_ms(world, args.repeat)
        f = forecast(world)["advisor"]
        verdict = "cannot keep up" if f.load.over_the_day else "keeps up"
        print(f"{name:<20} {ms:>7.0f}  {f.load.ratio or 0:.2f} ({f.tips_per_day:.2g}), {verdict}")


if __name__ == "__main__":
    main()
