"""``sweep``: every combination of varied scenario keys × replications."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.batch.options import SWEEP
from sim.batch.sweeps import parse_vary, run_sweep, summary_text
from sim.cli.common import (
    add_batch_args,
    add_common_args,
    add_scenario_args,
    batch_options,
    flag_parse,
    load,
    resumable,
    warn,
)
from sim.scenario import ScenarioError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="run every combination of varied keys × replications",
        description="Run every combination of --vary values × replications with common random "
        "numbers; write a tidy table, means with 95% CIs and plots. Resumable: run the same "
        "command again to finish an interrupted sweep.",
    )
    add_scenario_args(p)
    p.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a scenario key and the values to try, read as YAML (repeatable), e.g. "
        "--vary staff.per_km2=10,20,30 --vary dispatch.policy=nearest,own_grid_first",
    )
    add_batch_args(p, SWEEP, "variant", "sweep folder (default: results/<scenario name>-sweep)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="print no table")
    add_common_args(p)
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    vary: dict[str, Any] = {}
    for text in args.vary:
        key, values = flag_parse("--vary", parse_vary, text)
        if key in vary:
            raise ScenarioError([f"{key}: given twice with --vary"])
        vary[key] = values
    scenario = load(args)
    out = args.out or Path("results") / f"{scenario.name}-sweep"
    with resumable(out):
        result = run_sweep(scenario, vary, batch=batch_options(args, out), plots=not args.no_plots)
    warn(result.warnings)
    if not args.quiet:
        print(summary_text(result))
    print(
        f"\n{len(result.runs)} runs ({result.computed} simulated, {result.reused} reused) in "
        f"{result.elapsed_s:.1f} s; results written to {out}/",
        file=sys.stderr,
    )
    return 0
