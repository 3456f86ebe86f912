"""Command line: ``python -m sim run|validate ...``.

The CLI only wires things together: it parses arguments, loads the scenario, calls the
Python API and prints. Bad input exits with code 2 and one line per problem.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, ScenarioError, load_scenario

EXIT_BAD_INPUT = 2


def _add_scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, help="scenario YAML file, e.g. scenarios/jinshui.yaml")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key by its dotted path (repeatable), e.g. --set staff.per_km2=25",
    )
    p.add_argument(
        "--map", type=Path, help="use this street map instead (GraphML, .osm or .osm.bz2)"
    )


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    p.add_argument(
        "--days", type=float, help="simulated days after warm-up (default: the scenario's)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="Simulate city-management dispatch under the 'double ten' rule (城管120): "
        "an advisor on scene within 10 minutes of an instruction, enforcers within 10 minutes "
        "of failed persuasion.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "run",
        help="simulate a scenario and write a results folder",
        description="Simulate a scenario, print on-time tables and write results.",
    )
    _add_scenario_args(p)
    _add_run_args(p)
    p.add_argument(
        "--replications",
        type=int,
        default=1,
        metavar="R",
        help="independent replications (95%% confidence intervals when R > 1)",
    )
    p.add_argument("--out", type=Path, help="results folder (default: results/<scenario name>)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="print no tables")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "validate",
        help="check a scenario without running it",
        description="Check a scenario file and its map; print problems and warnings.",
    )
    _add_scenario_args(p)
    p.set_defaults(func=cmd_validate)
    return parser


def load(args: argparse.Namespace) -> Scenario:
    """The scenario named on the command line with its overrides and map replacement."""
    overrides: list[str] | dict[str, Any] = list(args.overrides)
    scenario = load_scenario(args.scenario, overrides)
    if getattr(args, "map", None) is not None:
        from sim.scenario import with_overrides

        scenario = with_overrides(scenario, map_override(args.map))
    return scenario


def map_override(path: Path) -> dict[str, Any]:
    """Overrides that replace a scenario's map by a file; areas fall back to square cells."""
    return {
        "map.file": str(path.resolve()),
        "map.inline": None,
        "map.generate": None,
        "map.offices": None,
        "map.grids": None,
    }


def _warn(lines: Sequence[str]) -> None:
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.world import build_world

    scenario = load(args)
    world = build_world(scenario)
    _warn(world.warnings)
    heads = world.roster.headcount()
    print(
        f"{args.scenario}: valid. {world.net.n:,} nodes, {world.net.road_length_km:,.0f} km of streets, "
        f"{len(world.areas.office_names)} street offices, {len(world.areas.grid_names)} grids, "
        f"{sum(heads.values()):,} staff ({world.staff_per_km2:.1f} per km²)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from sim import report
    from sim.results import write_run
    from sim.runner import run

    if args.replications < 1:
        raise ScenarioError(["--replications: must be at least 1"])
    scenario = load(args)
    result = run(
        scenario, seed=args.seed, days=args.days, replications=args.replications, progress=True
    )
    _warn(result.warnings)
    out = args.out or Path("results") / result.scenario.name
    write_run(result, out, plots=not args.no_plots)
    if not args.quiet:
        print(report.summary_text(result.summary))
    print(f"\nresults written to {out}/", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ScenarioError as exc:
        n = len(exc.problems)
        print(
            f"error: {getattr(args, 'scenario', '')}: {n} problem{'s' if n != 1 else ''}",
            file=sys.stderr,
        )
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was left behind", file=sys.stderr)
        return 130
