"""The optimisers' cost as a ratio to a 30-day run's, and the size of the plans they find.

    python benchmarks/optimize.py                      # all three, once each
    python benchmarks/optimize.py --only staffing      # the 30-day run and the staffing one
    python benchmarks/optimize.py --before /tmp/before # the same in another checkout too

R30       `python -m sim run scenarios/jinshui.yaml --days 30 --quiet --no-plots
          --no-report`: the reference every figure is divided by (issue 18's 30-day run
          wrote no pictures and no report).
staffing  `python -m sim optimize scenarios/jinshui.yaml --target double_ten=0.95`,
          default settings: CPU ÷ R30's (target at most 120); the plan's staff.
shifts    `python -m sim optimize scenarios/jinshui.yaml --shifts --target
          double_ten=0.95`, default settings: CPU ÷ R30's (target at most 44); the plan's
          staff-hours and whether every hour met the target (exit code 3: not converged).

Each command is a fresh process with its own empty results folder (no stored runs to
reuse); wall and CPU time (user + system, the worker processes included: they are
waited for) are measured from outside, as in ``benchmarks/run.py``. The map and travel
tables are built (cached) before timing. ``--check-seed N`` then simulates the staffing
plan at seed N (the optimiser's replications, days and confidence) and says whether
every office's lower bound still reaches the target: the plan's quality, not an artefact
of the seed it was found with. Figures on a shared machine are rough; the final ones
need a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import Checkout, Figures, warm

SCENARIO = "scenarios/jinshui.yaml"
R30 = ["run", SCENARIO, "--days", "30", "--quiet", "--no-plots", "--no-report"]
STAFFING = ["optimize", SCENARIO, "--target", "double_ten=0.95", "--quiet"]
SHIFTS = ["optimize", SCENARIO, "--shifts", "--target", "double_ten=0.95", "--quiet"]
TARGET = 0.95
LIMITS = {"staffing": 120.0, "shifts": 44.0}  # issue 18 item 3: half of cc1fa4f's ratios


@dataclass(frozen=True)
class Result:
    """One command measured, and the plan it wrote."""

    figures: Figures
    code: int
    plan: dict[str, Any]


def measure(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[Figures, int]:
    """Wall and CPU seconds and peak RSS (MB) of one child; its exit code (0 or 3)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 3):
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.read().decode()[-2000:]}")
    return Figures(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024), code


def sim(co: Checkout, args: list[str], out: Path) -> tuple[Figures, int]:
    return measure([sys.executable, "-m", "sim", *args, "--out", str(out)], co.root, co.env())


def staffing_plan(out: Path) -> dict[str, Any]:
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    return {
        "staff": plan["totals"]["staff"],
        "feasible": plan["feasible"],
        "locally_minimal": plan["locally_minimal"],
        "evaluations": plan["evaluations"],
        "runs_simulated": plan["runs_simulated"],
        "overrides": plan["overrides"],
        "replications": plan["replications"],
        "confidence": plan["confidence"],
    }


def shifts_plan(out: Path) -> dict[str, Any]:
    plan = json.loads((out / "shifts.json").read_text(encoding="utf-8"))
    kept = plan["history"][plan["chosen_round"] - 1]
    return {
        "staff_hours": kept["staff_hours"],
        "every_hour_on_target": kept["every_hour_on_target"],
        "feasible": plan["feasible"],
        "rounds": plan["rounds"],
        "runs_simulated": plan["runs_simulated"],
    }


def run_checkout(co: Checkout, which: list[str]) -> dict[str, Result]:
    """R30, then each optimiser asked for, then R30 again (the mean is the reference)."""
    warm(co, [SCENARIO])
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory() as tmp:
        f, code = sim(co, R30, Path(tmp) / "r30a")
        results["R30a"] = Result(f, code, {})
        for name, args, read in (("staffing", STAFFING, staffing_plan),
                                 ("shifts", SHIFTS, shifts_plan)):  # fmt: skip
            if name in which:
                out = Path(tmp) / name
                f, code = sim(co, args, out)
                results[name] = Result(f, code, read(out))
                print(f"  {name}: {f.cpu_s:.1f} CPU s, {f.wall_s:.1f} s wall", file=sys.stderr)
        f, code = sim(co, R30, Path(tmp) / "r30b")
        results["R30b"] = Result(f, code, {})
    return results


def check_seed(co: Checkout, plan: dict[str, Any], seed: int) -> tuple[bool, float]:
    """Does the staffing plan meet the target at ``seed``? (every office; least bound)."""
    code = (
        "import json, sys\n"
        "import sim\n"
        "from sim.analysis.metrics import t_margin\n"
        "from sim.batch.sweeps import run_sweep\n"
        "p = json.loads(sys.argv[1])\n"
        f"base = sim.load_scenario({SCENARIO!r})\n"
        "dens = p['overrides']['staff.per_km2_by_office']\n"
        "r = run_sweep(base, {'staff.per_km2_by_office': {'plan': dens}}, plots=False,\n"
        "              replications=p['replications'], seed=int(sys.argv[2]))\n"
        "low = []\n"
        "for _, v in r.by_office.groupby('office')['double_ten']:\n"
        "    x = v.dropna().to_numpy(float)\n"
        "    low.append(x.mean() - t_margin(list(x), p['confidence']))\n"
        "print(min(low))\n"
    )
    got = subprocess.run(
        [sys.executable, "-c", code, json.dumps(plan), str(seed)],
        cwd=co.root,
        env=co.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    least = float(got.stdout.strip().splitlines()[-1])
    return least >= TARGET - 1e-12, least


def report(label: str, results: dict[str, Result]) -> list[str]:
    r30 = (results["R30a"].figures.cpu_s + results["R30b"].figures.cpu_s) / 2
    lines = [
        f"{label}: 30-day run {results['R30a'].figures.cpu_s:.2f} and "
        f"{results['R30b'].figures.cpu_s:.2f} CPU s (reference: their mean, {r30:.2f})",
        f"  {'optimiser':<10} {'CPU s':>8} {'wall s':>8} {'ratio':>7} {'limit':>6}  plan",
    ]
    for name, res in results.items():
        if name.startswith("R30"):
            continue
        p = res.plan
        size = (
            f"{p['staff']:,} staff, feasible {p['feasible']}, locally minimal "
            f"{p['locally_minimal']}, {p['evaluations']} evaluations, "
            f"{p['runs_simulated']} runs"
            if name == "staffing"
            else f"{p['staff_hours']:,.0f} staff-hours, every hour on target "
            f"{p['every_hour_on_target']} (exit {res.code}), {p['rounds']} rounds, "
            f"{p['runs_simulated']} runs"
        )
        f = res.figures
        lines.append(
            f"  {name:<10} {f.cpu_s:>8.1f} {f.wall_s:>8.1f} {f.cpu_s / r30:>6.1f}× "
            f"{LIMITS[name]:>5.0f}×  {size}"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["staffing", "shifts"], action="append")
    ap.add_argument("--before", type=Path, help="another checkout, measured first")
    ap.add_argument("--check-seed", type=int, default=2, metavar="N",
                    help="seed to check the staffing plan at (default 2; 0: no check)")  # fmt: skip
    ap.add_argument("--json", type=Path, help="write every figure here")
    a = ap.parse_args()
    which = a.only or ["staffing", "shifts"]
    root = Path(__file__).resolve().parents[1]
    cache = Path(os.environ.get("SIM_CACHE_DIR", Path(tempfile.gettempdir()) / "sim-bench"))
    checkouts = [("this checkout", Checkout(root, cache))]
    if a.before is not None:
        checkouts.insert(0, ("before", Checkout(a.before.resolve(), cache / "before")))
    everything: dict[str, Any] = {}
    for label, co in checkouts:
        print(f"{label}: {co.root}", file=sys.stderr)
        results = run_checkout(co, which)
        print("\n".join(report(label, results)))
        staffing = results.get("staffing")
        if staffing is not None and a.check_seed:
            ok, least = check_seed(co, staffing.plan, a.check_seed)
            print(
                f"  staffing plan at seed {a.check_seed}: least office lower bound "
                f"{100 * least:.2f}% → {'meets' if ok else 'MISSES'} the target"
            )
        everything[label] = {
            k: {"cpu_s": r.figures.cpu_s, "wall_s": r.figures.wall_s, "code": r.code, **r.plan}
            for k, r in results.items()
        }
    if a.json is not None:
        a.json.write_text(json.dumps(everything, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
