"""Command line: ``python -m sim run|validate|map|sweep|optimize ...``.

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
        "--map",
        type=Path,
        metavar="PATH",
        help="use this street map instead (GraphML, .osm.pbf, .osm, .osm.bz2 or .osm.gz); "
        "offices become square cells",
    )


def _add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, metavar="N", help="random seed (default: the scenario's)")
    p.add_argument(
        "--days",
        type=float,
        metavar="D",
        help="simulated days after warm-up (default: the scenario's)",
    )


def _add_where_args(p: argparse.ArgumentParser) -> None:
    """Where many runs go: local worker processes or a Dask cluster."""
    p.add_argument(
        "--workers", type=int, metavar="N", help="local worker processes (default: all cores)"
    )
    p.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask distributed scheduler"
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
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="results folder (default: results/<scenario name>)"
    )
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

    p = sub.add_parser(
        "sweep",
        help="run every combination of varied keys × replications",
        description="Run every combination of --vary values × replications with common random "
        "numbers; write a tidy table, means with 95% CIs and plots. Resumable: run the same "
        "command again to finish an interrupted sweep.",
    )
    _add_scenario_args(p)
    _add_run_args(p)
    p.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a scenario key and the values to try, read as YAML (repeatable), e.g. "
        "--vary staff.per_km2=10,20,30 --vary dispatch.policy=nearest,own_grid_first",
    )
    p.add_argument(
        "--replications",
        type=int,
        default=5,
        metavar="R",
        help="replications per variant (default 5)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="sweep folder (default: results/<scenario name>-sweep)",
    )
    _add_where_args(p)
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="print no table")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser(
        "optimize",
        help="find the least staff per street office that meets a target",
        description="Search per-street-office densities (staff.per_km2_by_office) for the least "
        "staff such that every office meets the target with the given confidence, and compare "
        "with a uniform plan. See docs/sweeps.md for the method and its limits.",
    )
    _add_scenario_args(p)
    _add_run_args(p)
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="MEASURE=SHARE",
        help="double_ten, advisor_on_time or enforcer_on_time (repeatable; "
        "default: double_ten at the scenario's rules.target)",
    )
    p.add_argument(
        "--replications",
        type=int,
        default=10,
        metavar="R",
        help="replications per plan (default 10)",
    )
    p.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        help="one-sided confidence that an office's mean share reaches the target (default 0.95)",
    )
    p.add_argument(
        "--mix",
        choices=["advisor"],
        help="also search the role mix: 'advisor' varies the advisor/enforcer split",
    )
    p.add_argument(
        "--mix-values",
        metavar="A1,A2,...",
        help="advisor shares of advisors + enforcers to try with --mix (default: current ± 0.1)",
    )
    p.add_argument(
        "--start", type=float, default=10.0, help="uniform density to start from (default 10)"
    )
    p.add_argument(
        "--step", type=float, default=1.0, help="density step per office (default 1 per km²)"
    )
    p.add_argument(
        "--min-density", type=float, default=2.0, help="lowest density tried (default 2)"
    )
    p.add_argument(
        "--max-density", type=float, default=100.0, help="highest density tried (default 100)"
    )
    p.add_argument(
        "--baseline", type=float, default=20.0, help="uniform density to compare with (default 20)"
    )
    p.add_argument(
        "--max-evaluations",
        type=int,
        default=200,
        metavar="N",
        help="evaluate at most N plans (each: R replications; default 200)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results folder (default: results/<scenario name>-optimize)",
    )
    _add_where_args(p)
    p.add_argument("--quiet", action="store_true", help="print no table")
    p.set_defaults(func=cmd_optimize)

    p = sub.add_parser(
        "map",
        help="draw the scenario's map with staff posts and advisor coverage",
        description="Draw the street network, street offices and grids, staff posts, hotspots "
        "and the streets an advisor reaches within the first clock; print the covered share.",
    )
    _add_scenario_args(p)
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE.png",
        help="PNG file to write (default: results/<scenario name>/map.png)",
    )
    p.add_argument(
        "--hour",
        type=float,
        metavar="H",
        help="count only advisors on duty at this hour of day, 0-24 (default: all posts)",
    )
    p.set_defaults(func=cmd_map)
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
        "map.cut": None,
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


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.sweeps import parse_vary, run_sweep, summary_text

    vary: dict[str, Any] = {}
    for text in args.vary:
        key, values = parse_vary(text)
        if key in vary:
            raise ScenarioError([f"{key}: given twice with --vary"])
        vary[key] = values
    scenario = load(args)
    out = args.out or Path("results") / f"{scenario.name}-sweep"
    try:
        result = run_sweep(
            scenario,
            vary,
            replications=args.replications,
            days=args.days,
            seed=args.seed,
            out=out,
            scheduler=args.scheduler,
            workers=args.workers,
            progress=True,
            plots=not args.no_plots,
        )
    except KeyboardInterrupt:
        print(f"stopped: finished runs are kept in {out}/runs/; rerun to resume", file=sys.stderr)
        raise
    _warn(result.warnings)
    if not args.quiet:
        print(summary_text(result))
    print(
        f"\n{len(result.runs)} runs ({result.computed} simulated, {result.reused} reused) in "
        f"{result.elapsed_s:.1f} s; results written to {out}/",
        file=sys.stderr,
    )
    return 0


def cmd_optimize(args: argparse.Namespace) -> int:
    from sim.staffing import optimize_plan, parse_target, plan_text

    target = dict(parse_target(t) for t in args.target)
    mix_values = None
    if args.mix_values:
        from sim.sweeps import parse_vary

        mix_values = parse_vary(f"staff.mix.advisor={args.mix_values}")[1]
    scenario = load(args)
    out = args.out or Path("results") / f"{scenario.name}-optimize"
    try:
        plan = optimize_plan(
            scenario,
            target or None,
            replications=args.replications,
            days=args.days,
            seed=args.seed,
            confidence=args.confidence,
            mix=args.mix,
            mix_values=mix_values,
            start=args.start,
            step=args.step,
            min_density=args.min_density,
            max_density=args.max_density,
            baseline=args.baseline,
            max_evaluations=args.max_evaluations,
            out=out,
            scheduler=args.scheduler,
            workers=args.workers,
            progress=True,
            log=lambda line: print(line, file=sys.stderr),
        )
    except KeyboardInterrupt:
        print(f"stopped: finished runs are kept in {out}/runs/; rerun to resume", file=sys.stderr)
        raise
    _warn(plan.warnings)
    if not args.quiet:
        print(plan_text(plan))
    print(f"\nresults written to {out}/", file=sys.stderr)
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from sim.mapplot import clock_text, draw_map
    from sim.world import build_world

    if args.hour is not None and not 0 <= args.hour < 24:
        raise ScenarioError([f"--hour: must be from 0 to below 24, got {args.hour:g}"])
    scenario = load(args)
    world = build_world(scenario)
    _warn(world.warnings)
    out = args.out or Path("results") / scenario.name / "map.png"
    cov = draw_map(world, out, hour=args.hour)
    if cov.cutoff_min < cov.deadline:
        _warn(
            [
                f"travel.precompute_minutes: advisor travel times are tabulated to "
                f"{cov.cutoff_min:.1f} min only; streets beyond count as not covered"
            ]
        )
    when = (
        f"the {cov.posts:,} of {cov.total_posts:,} advisors on duty at {clock_text(args.hour)}"
        if args.hour is not None
        else f"all {cov.posts:,} advisor posts"
    )
    print(f"map written to {out}")
    print(
        f"advisor coverage: {100 * cov.share:.1f}% of {cov.road_km:,.1f} km of streets reached "
        f"within {cov.deadline:g} min from {when}"
    )
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
