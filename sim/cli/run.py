"""``run`` and ``validate``: simulate one scenario, or only check it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.common import (
    add_common_args,
    add_force,
    add_run_args,
    add_scenario_args,
    api_default,
    load,
    warn,
)
from sim.engine import campaign
from sim.output.folders import claim
from sim.output.runtext import summary_text
from sim.runner import run
from sim.scenario import ScenarioError
from sim.world.build import build_world


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="simulate a scenario and write a results folder",
        description="Simulate a scenario, print on-time tables and write results.",
    )
    add_scenario_args(p)
    add_run_args(p)
    p.add_argument(
        "--replications",
        type=int,
        default=api_default(run, "replications"),
        metavar="R",
        help="independent replications (95%% confidence intervals when R > 1; default %(default)s)",
    )
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="results folder (default: results/<scenario name>)"
    )
    add_force(p, "--out")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument(
        "--no-report",
        action="store_true",
        help="skip report.html (results.gpkg is still written; 'python -m sim report DIR' "
        "builds the report later)",
    )
    p.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="file format of the incident table: incidents.csv or incidents.parquet "
        "(default %(default)s)",
    )
    p.add_argument("--quiet", action="store_true", help="print no tables")
    add_common_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "validate",
        help="check a scenario without running it",
        description="Check a scenario file and its map; print problems and warnings.",
    )
    add_scenario_args(p)
    add_common_args(p)
    p.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = load(args)
    world = build_world(scenario, args.max_memory)
    warn([*world.warnings, *campaign.warnings(scenario)])
    heads = world.roster.headcount()
    print(
        f"{args.scenario}: valid. {world.net.n:,} nodes, {world.net.road_length_km:,.0f} km of streets, "
        f"{len(world.areas.office_names)} street offices, {len(world.areas.grid_names)} grids, "
        f"{sum(heads.values()):,} staff ({world.staff_per_km2:.1f} per km²); "
        f"demand {world.volume.text()}"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    # deferred: writing a run loads matplotlib; validate, schema and --help need not
    from sim.output.results import RunFiles, write_run

    if args.replications < 1:
        raise ScenarioError(["--replications: must be at least 1"])
    scenario = load(args)
    out = args.out or Path("results") / scenario.name
    claim(out, "run", force=args.force)  # before simulating, not after
    result = run(
        scenario,
        seed=args.seed,
        days=args.days,
        replications=args.replications,
        progress=True,
        memory_limit=args.max_memory,
        warn=warn,  # at once, before the progress bar
    )
    files = RunFiles(
        plots=not args.no_plots,
        report=not args.no_report,
        incident_format=args.format,
        scenario_file=args.scenario,
    )
    write_run(result, out, files=files, force=args.force)
    if not args.quiet:
        print(summary_text(result.summary))
    print(f"\nresults written to {out}/", file=sys.stderr)
    return 0
