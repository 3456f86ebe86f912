"""Command line: ``python -m sim run|validate|map|sweep|optimize|schema|cache ...``.

The CLI only wires things together: it parses arguments, loads the scenario, calls the
Python API and prints. Exit codes: 0 done; 2 the planner's mistake (one line per
problem, naming the field or flag); 1 the machine's (a full disk, memory, a bug), in one
line; 130 interrupted. A traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sim.errors import ArgumentError, ClusterError, InputError, OutputError, ResourceError
from sim.overrides import parse_override
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.world.cache import DEFAULT_MAX_MB

EXIT_BAD_INPUT = 2
EXIT_MACHINE = 1
EXIT_INTERRUPTED = 130


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


def _add_common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-memory",
        type=_size,
        metavar="SIZE",
        help="refuse runs estimated to need more memory than this, e.g. 4G "
        "(default: what the machine has free)",
    )
    p.add_argument(
        "--debug", action="store_true", help="show a traceback when something goes wrong"
    )


def _size(text: str) -> int:
    from sim.budget import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_force(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--force",
        action="store_true",
        help=f"write into {what} even if it holds files this tool did not write "
        "(files of the same names are replaced; nothing else is deleted)",
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


def _hour_list(text: str) -> list[int]:
    """``6-10,14,18`` → ``[6, 7, 8, 9, 10, 14, 18]``."""
    out: list[int] = []
    try:
        for part in filter(None, (x.strip() for x in text.split(","))):
            lo, _, hi = part.partition("-")
            out += list(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected hours like 6-10,14,18, got {text!r}") from None
    return out


def _add_shift_args(p: argparse.ArgumentParser) -> None:
    """The shift-plan optimiser's options (``optimize --shifts``; docs/shifts.md)."""
    g = p.add_argument_group(
        "shift plan (--shifts)",
        "choose shift starts, lengths and staff per shift with the fewest staff-hours such "
        "that every hour meets the target on both clocks (docs/shifts.md)",
    )
    g.add_argument(
        "--shifts",
        action="store_true",
        help="optimise the shift plan (alone, or after the density search with --density)",
    )
    g.add_argument(
        "--density", action="store_true", help="with --shifts: run the density search first"
    )
    g.add_argument(
        "--by-office",
        action="store_true",
        help="with --shifts: a plan per street office, from each office's own demand",
    )
    g.add_argument(
        "--starts", type=_hour_list, metavar="HOURS", help="allowed start hours, e.g. 6-10,14-22"
    )
    g.add_argument(
        "--lengths",
        type=_hour_list,
        default=[8, 10, 11, 12],
        metavar="HOURS",
        help="allowed shift lengths in hours (default 8,10-12)",
    )
    g.add_argument("--longest", type=int, metavar="H", help="longest shift allowed, in hours")
    g.add_argument(
        "--night-cover",
        type=int,
        metavar="N",
        help="least units of each role on duty 22:00-06:00 (default: one per street office)",
    )
    g.add_argument(
        "--headcount",
        choices=["fewer", "same"],
        default="fewer",
        help="'fewer': at most today's staff per role (default); 'same': today's staff",
    )
    g.add_argument(
        "--max-kinds", type=int, metavar="K", help="use at most K different shifts per role"
    )
    g.add_argument(
        "--shift-target",
        type=float,
        metavar="SHARE",
        help="on-time share every hour must reach on each clock (default: rules.target)",
    )
    g.add_argument(
        "--need-method",
        choices=["lagged", "sipp"],
        default="lagged",
        help="offered load per hour: lagged infinite-server load (default) or SIPP",
    )
    g.add_argument(
        "--pilot-replications",
        type=int,
        default=2,
        metavar="R",
        help="replications of the scenario's own plan that the need is estimated from (default 2)",
    )
    g.add_argument(
        "--max-rounds",
        type=int,
        default=12,
        metavar="N",
        help="rounds of correcting the need by simulation (default 12)",
    )
    g.add_argument(
        "--max-replications",
        type=int,
        default=48,
        metavar="R",
        help="replications a plan may get while some hour's bound is undecided: from "
        "--replications, doubling (default 48)",
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
    _add_force(p, "--out")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="print no tables")
    _add_common_args(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "validate",
        help="check a scenario without running it",
        description="Check a scenario file and its map; print problems and warnings.",
    )
    _add_scenario_args(p)
    _add_common_args(p)
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
    _add_force(p, "--out")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="print no table")
    _add_common_args(p)
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
    _add_force(p, "--out")
    p.add_argument("--quiet", action="store_true", help="print no table")
    _add_shift_args(p)
    _add_common_args(p)
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
    _add_force(p, "--out")
    _add_common_args(p)
    p.set_defaults(func=cmd_map)

    p = sub.add_parser(
        "schema",
        help="print the scenario schema (JSON Schema) for editors and other tools",
        description="Print the JSON Schema every scenario is checked against. The shipped "
        "scenarios point editors at the copy in scenarios/scenario.schema.json.",
    )
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser(
        "cache",
        help="show or empty the cache of parsed maps and travel tables",
        description="Show the cache of parsed street maps and travel-distance tables: its "
        "folder, its size by kind of entry and its size limit. Runs store entries there to "
        "start faster next time; when the cache grows past its limit the least recently "
        "used entries are deleted. Environment: SIM_CACHE_DIR moves the cache, "
        f"SIM_CACHE_MAX_MB sets the limit in MiB (default {DEFAULT_MAX_MB}), SIM_NO_CACHE=1 "
        "switches it off.",
    )
    p.add_argument(
        "--clear",
        action="store_true",
        help="delete every cached entry and say how much was freed; files the cache did not "
        "write are left alone. Safe at any time: entries are rebuilt when needed",
    )
    p.set_defaults(func=cmd_cache)
    return parser


def load(args: argparse.Namespace) -> Scenario:
    """The scenario named on the command line with its overrides and map replacement."""
    overrides = dict(_flag_parse("--set", parse_override, text) for text in args.overrides)
    scenario = load_scenario(args.scenario, overrides)
    if getattr(args, "map", None) is not None:
        from sim.scenario import with_overrides

        scenario = with_overrides(scenario, map_override(args.map))
    return scenario


T = TypeVar("T")


def _flag_parse(flag: str, parse: Callable[[str], T], text: str) -> T:
    """``parse(text)``, with the flag the text came from named in any problem."""
    try:
        return parse(text)
    except ScenarioError as exc:
        raise ScenarioError([f"{flag} {line}" for line in exc.problems]) from None


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
    from sim.world.build import build_world

    scenario = load(args)
    world = build_world(scenario, args.max_memory)
    _warn(world.warnings)
    heads = world.roster.headcount()
    print(
        f"{args.scenario}: valid. {world.net.n:,} nodes, {world.net.road_length_km:,.0f} km of streets, "
        f"{len(world.areas.office_names)} street offices, {len(world.areas.grid_names)} grids, "
        f"{sum(heads.values()):,} staff ({world.staff_per_km2:.1f} per km²)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from sim.output.folders import claim
    from sim.output.results import write_run
    from sim.runner import run
    from sim.viz import report

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
    )
    _warn(result.warnings)
    write_run(result, out, plots=not args.no_plots, force=args.force)
    if not args.quiet:
        print(report.summary_text(result.summary))
    print(f"\nresults written to {out}/", file=sys.stderr)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.batch.sweeps import parse_vary, run_sweep, summary_text

    vary: dict[str, Any] = {}
    for text in args.vary:
        key, values = _flag_parse("--vary", parse_vary, text)
        if key in vary:
            raise ScenarioError([f"{key}: given twice with --vary"])
        vary[key] = values
    scenario = load(args)
    out = args.out or Path("results") / f"{scenario.name}-sweep"
    with _resumable(out):
        result = run_sweep(
            scenario,
            vary,
            replications=args.replications,
            days=args.days,
            seed=args.seed,
            plots=not args.no_plots,
            **_batch_options(args, out),
        )
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
    from sim.batch.staffing import optimize_plan, parse_target, plan_text

    target = dict(parse_target(t) for t in args.target)
    mix_values = None
    if args.mix_values:
        from sim.batch.sweeps import parse_vary

        mix_values = _flag_parse(
            "--mix-values", parse_vary, f"staff.mix.advisor={args.mix_values}"
        )[1]
    if args.by_office and not args.shifts:
        raise ScenarioError(["--by-office: plans shifts; give --shifts too"])
    scenario = load(args)
    out = args.out or Path("results") / f"{scenario.name}-optimize"
    if args.shifts and not args.density:
        return _optimize_shifts(args, scenario, out)
    with _resumable(out):
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
            log=lambda line: print(line, file=sys.stderr),
            **_batch_options(args, out),
        )
    _warn(plan.warnings)
    if not args.quiet:
        print(plan_text(plan))
    if args.shifts:
        from sim.scenario import with_overrides

        print("\nshift plan for the density plan found:", file=sys.stderr)
        return _optimize_shifts(args, with_overrides(scenario, plan.meta["overrides"]), out)
    print(f"\nresults written to {out}/", file=sys.stderr)
    return 0


def _batch_options(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """The options every batch (sweep, density and shift search) takes from the command line."""
    return {
        "out": out,
        "scheduler": args.scheduler,
        "workers": args.workers,
        "progress": True,
        "force": args.force,
    }


@contextlib.contextmanager
def _resumable(out: Path) -> Iterator[None]:
    """Say where an interrupted batch keeps its finished runs, then let the interrupt go on."""
    try:
        yield
    except KeyboardInterrupt:
        print(f"stopped: finished runs are kept in {out}/runs/; rerun to resume", file=sys.stderr)
        raise


def _optimize_shifts(args: argparse.Namespace, scenario: Scenario, out: Path) -> int:
    from sim.batch.shiftplan import optimize_shifts, optimize_shifts_by_office
    from sim.output.shiftreport import shifts_text

    optimise = optimize_shifts_by_office if args.by_office else optimize_shifts
    with _resumable(out):
        result = optimise(
            scenario,
            starts=args.starts,
            lengths=args.lengths,
            longest=args.longest,
            night_cover=args.night_cover,
            headcount=args.headcount,
            max_kinds=args.max_kinds,
            method=args.need_method,
            target=args.shift_target,
            confidence=args.confidence,
            replications=args.replications,
            pilot_replications=args.pilot_replications,
            max_rounds=args.max_rounds,
            max_replications=max(args.max_replications, args.replications),
            days=args.days,
            seed=args.seed,
            log=lambda line: print(line, file=sys.stderr),
            **_batch_options(args, out),
        )
    _warn(result.warnings)
    if not args.quiet:
        print(shifts_text(result))
    where = result.scenario_file.name if result.scenario_file is not None else "-"
    print(
        f"\nresults written to {out}/; run the plan with: python -m sim run {out / where}",
        file=sys.stderr,
    )
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from sim.output.folders import check_file, owned_file
    from sim.viz.mapplot import clock_text, draw_map
    from sim.world.build import build_world

    if args.hour is not None and not 0 <= args.hour < 24:
        raise ScenarioError([f"--hour: must be from 0 to below 24, got {args.hour:g}"])
    scenario = load(args)
    out = args.out or Path("results") / scenario.name / "map.png"
    check_file(out, force=args.force)  # before building anything
    world = build_world(scenario, args.max_memory)
    _warn(world.warnings)
    with owned_file(out, command="map", force=args.force) as tmp:
        cov = draw_map(world, tmp, hour=args.hour)
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


def cmd_schema(args: argparse.Namespace) -> int:
    from sim.scenario import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return 0


def _hint(exc: InputError) -> str | None:
    """What to do about an input error, in terms of this command line's flags."""
    if isinstance(exc, OutputError):
        return "use another --out" + (", or --force to write beside them" if exc.forceable else "")
    if isinstance(exc, ResourceError):
        return "make the scenario smaller, or set --max-memory if you know it fits"
    if isinstance(exc, ClusterError):
        return "check --scheduler, or leave it out to run on this machine"
    return None


def _as_flags(exc: InputError) -> list[str]:
    """The problems, with a library call's argument names spelled as this CLI's flags."""
    if not isinstance(exc, ArgumentError):
        return exc.problems
    names = "|".join(sorted(exc.arguments, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.-])({names})(?![\w.])")
    return [pattern.sub(lambda m: "--" + m.group(1).replace("_", "-"), p) for p in exc.problems]


def _report_input_error(args: argparse.Namespace, exc: InputError) -> None:
    n = len(exc.problems)
    where = str(getattr(args, "scenario", None) or "input")
    where = where if len(where) <= 200 else where[:200] + "…"
    print(f"error: {where}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
    for line in _as_flags(exc):
        print(f"  {line}", file=sys.stderr)
    hint = _hint(exc)
    if hint:
        print(f"  ({hint})", file=sys.stderr)


def _machine_error(exc: BaseException) -> str:
    """One line for a failure that is not the planner's: disk, memory, or a bug."""
    import errno

    if isinstance(exc, MemoryError):
        return "error: out of memory (the estimate was too low; try --max-memory or a smaller run)"
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"error: no space left on the disk ({exc.filename or 'while writing'})"
        what = f" {exc.filename}" if exc.filename else ""
        return f"error: cannot access{what}: {exc.strerror or exc}"
    return f"error: internal error ({exc.__class__.__name__}: {exc}); rerun with --debug"


def _on_sigterm(signum: int, frame: object) -> None:
    # unwind like Ctrl-C, so temporary folders are removed and children stopped
    raise KeyboardInterrupt


def cmd_cache(args: argparse.Namespace) -> int:
    from sim.budget import gib
    from sim.viz.report import format_table
    from sim.world import cache

    use = cache.usage()
    if use.folder is None:
        print("the cache is switched off (SIM_NO_CACHE is set); nothing is stored")
        return 0
    if use.limit_problem:
        _warn([use.limit_problem])
    if args.clear:
        files, freed = cache.clear()
        print(f"cleared {use.folder}: {files:,} file(s) deleted, {gib(freed)} freed")
        return 0
    share = f" ({100 * use.total / use.limit:.0f}% of the limit)" if use.limit else ""
    print(f"cache folder: {use.folder}{'' if use.folder.is_dir() else ' (not created yet)'}")
    print(f"size: {gib(use.total)} in {use.count:,} entries{share}")
    print(
        f"limit: {gib(use.limit)} (SIM_CACHE_MAX_MB; least recently used entries "
        "are deleted beyond it)"
    )
    if use.kinds:
        rows = [[k, f"{n:,}", gib(size)] for k, (n, size) in use.kinds.items()]
        print()
        print(format_table(["kind", "entries", "size"], rows, align="lrr"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    with contextlib.suppress(ValueError):  # only the main thread may set handlers
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args.func(args))
    except InputError as exc:
        if debug:
            traceback.print_exc()
        _report_input_error(args, exc)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was left behind", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if debug:
            raise
        print(_machine_error(exc), file=sys.stderr)
        return EXIT_MACHINE
