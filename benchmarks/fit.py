"""How long ``python -m sim fit`` takes on a big case log (issue 17: seconds, not minutes).

    python benchmarks/fit.py                  # 100,000 rows, 3 runs, median
    python benchmarks/fit.py --rows 1000000 --repeat 1

The log is made here, as a Chinese district would export it: GBK-encoded CSV with the
数字城管 column names (上报时间, 小类, 经度, 纬度, 问题来源), times to the second over 90
days, GCJ-02 coordinates, on the streets of the default Jinshui map, with three hotspots.
Each run is a fresh process: ``python -m sim fit LOG --scenario scenarios/jinshui.yaml
--crs gcj02 --no-plots``, its wall time and peak memory measured from outside; then the
stages (read and clean, snap, fit) are timed inside one process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "jinshui.yaml"


def make_log(path: Path, rows: int, seed: int = 1) -> None:
    """A synthetic 数字城管 export of ``rows`` cases on the Jinshui map."""
    import sim
    from sim.caselog.coords import wgs84_to_gcj02
    from sim.scenario import resolve_scenario
    from sim.world.build import build_map

    rng = np.random.default_rng(seed)
    scenario = sim.load_scenario(SCENARIO)
    net = build_map(resolve_scenario(scenario)).net
    lon, lat = net.lonlat()
    assert lon is not None and lat is not None
    hot = rng.choice(net.n, 3, replace=False)
    node = rng.choice(net.n, rows, p=net.location_p())
    near = rng.random(rows) < 0.05  # 5% at three hotspots, within about 100 m
    node[near] = hot[rng.integers(0, 3, near.sum())]
    profile = np.asarray(scenario.demand.hourly_profile) / sum(scenario.demand.hourly_profile)
    hour = rng.choice(24, rows, p=profile)
    day = rng.integers(0, 90, rows)
    stamp = pd.Timestamp("2024-03-01") + pd.to_timedelta(day * 86400 + hour * 3600, unit="s")
    stamp += pd.to_timedelta(rng.integers(0, 3600, rows), unit="s")
    glon, glat = wgs84_to_gcj02(
        lon[node] + rng.normal(0, 2e-4, rows), lat[node] + rng.normal(0, 2e-4, rows)
    )
    zh = [c.name_zh for c in scenario.demand.categories.values()]
    shares = np.array([c.share for c in scenario.demand.categories.values()])
    frame = pd.DataFrame(
        {
            "案卷编号": np.arange(rows) + 2024000000,
            "上报时间": stamp.strftime("%Y/%m/%d %H:%M:%S"),
            "小类": np.asarray(zh, dtype=object)[rng.choice(len(zh), rows, p=shares)],
            "经度": np.round(glon, 6),
            "纬度": np.round(glat, 6),
            "问题来源": np.asarray(["监督员", "12345热线", "视频监控"], dtype=object)[
                rng.choice(3, rows, p=[0.6, 0.3, 0.1])
            ],
        }
    )
    frame.to_csv(path, index=False, encoding="gbk")


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.decode()}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def stages(log: Path) -> dict[str, float]:
    """Seconds of each stage of a fit, in this process (the map already cached)."""
    import sim
    from sim.caselog.clean import read_log
    from sim.caselog.options import LogOptions, Target
    from sim.fit.model import FitOptions, fit_log
    from sim.scenario import resolve_scenario
    from sim.world.build import build_map
    from sim.world.snap import snap_log

    scenario = sim.load_scenario(SCENARIO)
    out: dict[str, float] = {}
    t = time.perf_counter()
    street_map = build_map(resolve_scenario(scenario))
    out["map"] = time.perf_counter() - t
    cats = scenario.demand.categories
    target = Target(tuple(cats), tuple(c.name_zh for c in cats.values()), street_map.net.crs)
    t = time.perf_counter()
    case_log = read_log(log, LogOptions(crs="gcj02"), target)
    out["read"] = time.perf_counter() - t
    t = time.perf_counter()
    snapped = snap_log(case_log, street_map.net)
    out["snap"] = time.perf_counter() - t
    t = time.perf_counter()
    fit = fit_log(snapped, street_map.net, street_map.areas, FitOptions())
    out["fit"] = time.perf_counter() - t
    out["hotspots"] = len(fit.hotspots)
    out["rows"] = case_log.rows.read
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "cases.csv"
        make_log(log, args.rows)
        size = log.stat().st_size / 2**20
        env = {
            **os.environ,
            "SIM_CACHE_DIR": os.environ.get("SIM_CACHE_DIR", str(Path(tmp) / "cache")),
        }
        cmd = [
            sys.executable,
            "-m",
            "sim",
            "fit",
            str(log),
            "--scenario",
            str(SCENARIO),
            "--crs",
            "gcj02",
            "--no-plots",
            "--quiet",
            "--force",
            "--out",
            str(Path(tmp) / "fit"),
        ]
        measure(cmd, env)  # the map into the cache
        runs = [measure(cmd, env) for _ in range(args.repeat)]
        inside = stages(log)
    wall = statistics.median(r[0] for r in runs)
    rss = statistics.median(r[1] for r in runs)
    print(f"log: {args.rows:,} rows, {size:.1f} MiB of GBK CSV")
    print(
        f"python -m sim fit (whole process, map cached): {wall:.2f} s wall, peak {rss:.0f} MB "
        f"(median of {args.repeat})"
    )
    print(
        "stages in one process: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in inside.items() if k not in ("hotspots", "rows"))
        + f"; {int(inside['hotspots'])} hotspots found"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
