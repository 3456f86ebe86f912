"""What every command shares: scenario arguments, batch options, loading and warnings."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import inspect
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sim.batch.options import BatchOptions
from sim.budget import parse_size
from sim.overrides import parse_override
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.world.build import move_to_map

T = TypeVar("T")

EXIT_TARGET_NOT_MET = 3
"""Exit code of an optimisation that ran but did not reach its target (docs/reliability.md)."""


def api_default(source: Callable[..., Any], name: str) -> Any:
    """The default of ``name``, an argument of a function or a field of an options
    dataclass (:class:`~sim.batch.staffing.PlanOptions`): flags take their defaults from
    the API."""
    if dataclasses.is_dataclass(source):
        field = {f.name: f for f in dataclasses.fields(source)}[name]
        if field.default is dataclasses.MISSING:
            raise TypeError(f"{source.__name__}.{name} has no default")
        return field.default
    default = inspect.signature(source).parameters[name].default
    if default is inspect.Parameter.empty:
        raise TypeError(f"{source.__name__}({name}) has no default")
    return default


def add_overrides(p: argparse.ArgumentParser, help: str) -> None:
    """``--set KEY=VALUE`` (repeatable), into ``overrides``."""
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help
    )


def add_scenario_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, help="scenario YAML file, e.g. scenarios/jinshui.yaml")
    add_overrides(
        p, "override a scenario key by its dotted path (repeatable), e.g. --set staff.per_km2=25"
    )
    p.add_argument(
        "--map",
        type=Path,
        metavar="PATH",
        help="use this street map instead (GraphML, .osm.pbf, .osm, .osm.bz2 or .osm.gz); "
        "offices become square cells",
    )


def add_common_args(p: argparse.ArgumentParser) -> None:
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
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_force(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--force",
        action="store_true",
        help=f"write into {what} even if it holds files this tool did not write "
        "(files of the same names are replaced; nothing else is deleted)",
    )


def add_run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, metavar="N", help="random seed (default: the scenario's)")
    p.add_argument(
        "--days",
        type=float,
        metavar="D",
        help="simulated days after warm-up (default: the scenario's)",
    )


def add_batch_args(
    p: argparse.ArgumentParser, defaults: BatchOptions, per: str, out_help: str
) -> None:
    """The flags of :class:`~sim.batch.options.BatchOptions`, with its defaults."""
    add_run_args(p)
    p.add_argument(
        "--replications",
        type=int,
        default=defaults.replications,
        metavar="R",
        help=f"replications per {per} (default {defaults.replications})",
    )
    p.add_argument("--out", type=Path, metavar="DIR", help=out_help)
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local worker processes, at least 1 (1: in this process; default: all cores)",
    )
    p.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask distributed scheduler"
    )
    add_force(p, "--out")


def batch_options(args: argparse.Namespace, out: Path) -> BatchOptions:
    """The batch options of a sweep or an optimisation from its flags (progress bars on)."""
    return BatchOptions(
        replications=args.replications,
        days=args.days,
        seed=args.seed,
        out=out,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=True,
        force=args.force,
    )


def load(args: argparse.Namespace) -> Scenario:
    """The scenario named on the command line with its overrides and map replacement
    (a count of demand rescaled to the new map, in one line on stderr)."""
    overrides = dict(flag_parse("--set", parse_override, text) for text in args.overrides)
    scenario = load_scenario(args.scenario, overrides)
    if getattr(args, "map", None) is not None:
        scenario, note = move_to_map(scenario, args.map, getattr(args, "max_memory", None))
        if note:
            print(f"--map: {note}", file=sys.stderr)
    return scenario


def flag_parse(flag: str, parse: Callable[[str], T], text: str) -> T:
    """``parse(text)``, with the flag the text came from named in any problem."""
    try:
        return parse(text)
    except ScenarioError as exc:
        raise ScenarioError([f"{flag} {line}" for line in exc.problems]) from None


def warn(lines: Sequence[str]) -> None:
    for line in lines:
        print(f"warning: {line}", file=sys.stderr)


@contextlib.contextmanager
def resumable(out: Path) -> Iterator[None]:
    """Say where an interrupted batch keeps its finished runs, then let the interrupt go on."""
    try:
        yield
    except KeyboardInterrupt:
        print(f"stopped: finished runs are kept in {out}/runs/; rerun to resume", file=sys.stderr)
        raise
