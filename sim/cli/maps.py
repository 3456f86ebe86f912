"""``map``: draw the scenario's map with staff posts and advisor coverage."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.cli.common import add_common_args, add_force, add_scenario_args, load, warn
from sim.output.folders import check_file, owned_file
from sim.scenario import ScenarioError
from sim.world.build import build_world


def register(sub: Any) -> None:
    p = sub.add_parser(
        "map",
        help="draw the scenario's map with staff posts and advisor coverage",
        description="Draw the street network, street offices and grids, staff posts, hotspots "
        "and the streets an advisor reaches within the first clock; print the covered share.",
    )
    add_scenario_args(p)
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
    add_force(p, "--out")
    add_common_args(p)
    p.set_defaults(func=cmd_map)


def cmd_map(args: argparse.Namespace) -> int:
    from sim.viz.mapplot import clock_text, draw_map  # deferred: it loads matplotlib

    if args.hour is not None and not 0 <= args.hour < 24:
        raise ScenarioError([f"--hour: must be from 0 to below 24, got {args.hour:g}"])
    scenario = load(args)
    out = args.out or Path("results") / scenario.name / "map.png"
    check_file(out, force=args.force)  # before building anything
    world = build_world(scenario, args.max_memory)
    warn(world.warnings)
    with owned_file(out, command="map", force=args.force) as tmp:
        cov = draw_map(world, tmp, hour=args.hour)
    if cov.cutoff_min < cov.deadline:
        warn(
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
