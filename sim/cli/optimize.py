"""``optimize``: the least staff per street office, and the shift plan (``--shifts``)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.analysis.measures import TARGETS
from sim.batch.options import OPTIMIZE
from sim.batch.shiftplan import ShiftOptions, optimize_shifts, optimize_shifts_by_office
from sim.batch.staffing import PlanOptions, optimize_plan, parse_target, plan_text
from sim.batch.sweeps import parse_vary
from sim.cli.common import (
    EXIT_TARGET_NOT_MET,
    add_batch_args,
    add_common_args,
    add_scenario_args,
    api_default,
    batch_options,
    flag_parse,
    load,
    resumable,
    warn,
)
from sim.errors import ArgumentError
from sim.output.shiftreport import shifts_text
from sim.scenario import Scenario, with_overrides


def _plan_default(name: str) -> Any:
    return api_default(PlanOptions, name)


def _shift_default(name: str) -> Any:
    return api_default(ShiftOptions, name)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "optimize",
        help="find the least staff per street office that meets a target",
        description="Search per-street-office densities (staff.per_km2_by_office) for the least "
        "staff such that every office meets the target with the given confidence, and compare "
        "with a uniform plan. See docs/sweeps.md for the method and its limits.",
    )
    add_scenario_args(p)
    targets = [f"{m.name}{' (a ceiling)' if m.ceiling else ''}" for m in TARGETS.values()]
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="MEASURE=SHARE",
        help=f"{', '.join(targets[:-1])} or {targets[-1]} (repeatable; "
        "default: double_ten at the scenario's rules.target)",
    )
    add_batch_args(
        p, OPTIMIZE, "plan", "results folder (default: results/<scenario name>-optimize)"
    )
    p.add_argument(
        "--confidence",
        type=float,
        default=_plan_default("confidence"),
        help="one-sided confidence that an office's mean share reaches the target "
        f"(default {_plan_default('confidence'):g})",
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
    for flag, words in (
        ("start", "uniform density to start from"),
        ("step", "density step per office, per km²"),
        ("min_density", "lowest density tried"),
        ("max_density", "highest density tried"),
        ("baseline", "uniform density to compare with"),
    ):
        p.add_argument(
            "--" + flag.replace("_", "-"),
            type=float,
            default=_plan_default(flag),
            help=f"{words} (default {_plan_default(flag):g})",
        )
    p.add_argument(
        "--max-evaluations",
        type=int,
        default=_plan_default("max_evaluations"),
        metavar="N",
        help="evaluate at most N plans (each: R replications, or 3 or 5 for a plan that "
        f"certainly fails; default {_plan_default('max_evaluations')})",
    )
    p.add_argument(
        "--no-early-stop",
        action="store_true",
        help="simulate every plan for all R replications; by default a plan stops after 3 "
        "or 5 once some office is certainly below target (a stricter 99%% bound; "
        "docs/sweeps.md), and a plan that may meet the target always gets all R",
    )
    p.add_argument("--quiet", action="store_true", help="print no table")
    _add_shift_args(p)
    add_common_args(p)
    p.set_defaults(func=cmd_optimize)


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


def _kinds(text: str) -> int | None:
    """``--max-kinds``: a whole number, or ``none`` for no limit."""
    if text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number or 'none', got {text!r}"
        ) from None


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
    lengths = list(_shift_default("lengths"))
    g.add_argument(
        "--lengths",
        type=_hour_list,
        default=lengths,
        metavar="HOURS",
        help=f"allowed shift lengths in hours (default {','.join(map(str, lengths))})",
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
        default=_shift_default("headcount"),
        help="'fewer': at most today's staff per role; 'same': today's staff (default %(default)s)",
    )
    kinds = _shift_default("max_kinds")
    g.add_argument(
        "--max-kinds",
        type=_kinds,
        default=kinds,
        metavar="K",
        help=f"use at most K different shifts per role (default {kinds}, what a district can "
        "run: docs/shifts.md; 'none' for no limit)",
    )
    _add_shift_search_args(g)


def _add_shift_search_args(g: argparse._ArgumentGroup) -> None:
    """How sure a shift plan must be, and how hard the search may try."""
    g.add_argument(
        "--shift-target",
        type=float,
        metavar="SHARE",
        help="on-time share every hour must reach on each clock (default: rules.target)",
    )
    g.add_argument(
        "--need-method",
        choices=["lagged", "sipp"],
        default=_shift_default("method"),
        help="offered load per hour: lagged infinite-server load or SIPP (default %(default)s)",
    )
    g.add_argument(
        "--pilot-replications",
        type=int,
        default=_shift_default("pilot_replications"),
        metavar="R",
        help="replications of the scenario's own plan that the need is estimated from "
        "(default %(default)s)",
    )
    g.add_argument(
        "--max-rounds",
        type=int,
        default=_shift_default("max_rounds"),
        metavar="N",
        help="rounds of correcting the need by simulation (default %(default)s)",
    )
    g.add_argument(
        "--max-replications",
        type=int,
        default=_shift_default("max_replications"),
        metavar="R",
        help="replications a plan may get while some hour's bound is undecided: from "
        "--replications, doubling (default %(default)s)",
    )


def cmd_optimize(args: argparse.Namespace) -> int:
    target = dict(parse_target(t) for t in args.target)
    mix_values = None
    if args.mix_values:
        mix_values = flag_parse("--mix-values", parse_vary, f"staff.mix.advisor={args.mix_values}")[
            1
        ]
    if args.by_office and not args.shifts:
        raise ArgumentError(["--by-office: plans shifts; give --shifts too"], ["by_office"])
    scenario = load(args)
    out = args.out or Path("results") / f"{scenario.name}-optimize"
    if args.shifts and not args.density:
        return _optimize_shifts(args, scenario, out)
    with resumable(out):
        plan = optimize_plan(
            scenario,
            target or None,
            batch=batch_options(args, out),
            confidence=args.confidence,
            mix=args.mix,
            mix_values=mix_values,
            start=args.start,
            step=args.step,
            min_density=args.min_density,
            max_density=args.max_density,
            baseline=args.baseline,
            max_evaluations=args.max_evaluations,
            early_stop=not args.no_early_stop,
            log=lambda line: print(line, file=sys.stderr),
        )
    warn(plan.warnings)
    if not args.quiet:
        print(plan_text(plan))
    if not plan.meta["feasible"]:
        return _not_met(plan.meta["not_met"], out)
    if args.shifts:
        print("\nshift plan for the density plan found:", file=sys.stderr)
        return _optimize_shifts(args, with_overrides(scenario, plan.meta["overrides"]), out)
    print(f"\nresults written to {out}/", file=sys.stderr)
    return 0


def _not_met(why: str, out: Path) -> int:
    """Say why the target was not reached, where the best plan is, and exit with its code."""
    names = ["max_density", "max_evaluations", "max_rounds", "max_replications"]
    reason = ArgumentError([why], names).spelled({a: "--" + a.replace("_", "-") for a in names})[0]
    print(
        f"\ntarget not met: {reason}\nthe best plan found is written to {out}/ "
        f"(exit code {EXIT_TARGET_NOT_MET})",
        file=sys.stderr,
    )
    return EXIT_TARGET_NOT_MET


SHIFT_FLAGS = {"target": "shift_target", "method": "need_method"}
"""The shift optimiser's arguments whose flags have other names (``--shift-target``, as
``--target`` is the density search's)."""


@contextlib.contextmanager
def _shift_flags() -> Iterator[None]:
    """The shift optimiser's argument problems, named as this command's flags name them."""
    try:
        yield
    except ArgumentError as exc:
        raise exc.renamed(SHIFT_FLAGS) from None


def _optimize_shifts(args: argparse.Namespace, scenario: Scenario, out: Path) -> int:
    optimise = optimize_shifts_by_office if args.by_office else optimize_shifts
    with resumable(out), _shift_flags():
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
            pilot_replications=args.pilot_replications,
            max_rounds=args.max_rounds,
            max_replications=max(args.max_replications, args.replications),
            batch=batch_options(args, out),
            log=lambda line: print(line, file=sys.stderr),
        )
    warn([w for w in result.warnings if w != result.meta.get("not_met")])
    if not args.quiet:
        print(shifts_text(result))
    if not result.meta["feasible"]:
        return _not_met(result.meta["not_met"], out)
    where = result.scenario_file.name if result.scenario_file is not None else "-"
    print(
        f"\nresults written to {out}/; run the plan with: python -m sim run {out / where}",
        file=sys.stderr,
    )
    return 0
