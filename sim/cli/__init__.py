"""Command line: ``python -m sim run|validate|map|sweep|optimize|fit|report|replay|schema|cache``.

The CLI only wires things together: it parses arguments, loads the scenario, calls the
Python API and prints. One module per command (:mod:`sim.cli.run` holds ``run`` and
``validate``; :mod:`sim.cli.report` ``report`` and ``replay``; :mod:`sim.cli.tools`
``schema`` and ``cache``); shared flags and the batch options, whose defaults come from
the API, in :mod:`sim.cli.common`. Exit codes: 0 done; 2 the planner's mistake (one line
per problem, naming the field or flag); 1 the machine's (a full disk, memory, a bug), in
one line; 3 an optimisation that did not reach its target (:data:`EXIT_TARGET_NOT_MET`);
130 interrupted. A traceback is shown only with ``--debug``. A reader that closes the
pipe early (``python -m sim cache | head -1``) ends any command quietly with 0: what it
did not read was not wanted.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import select
import signal
import sys
import traceback
from collections.abc import Sequence

from sim.cli import fit, maps, optimize, report, run, sweep, tools
from sim.cli.common import EXIT_TARGET_NOT_MET, load
from sim.errors import ArgumentError, ClusterError, InputError, OutputError, ResourceError
from sim.scenario import map_override

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERRUPTED", "EXIT_MACHINE", "EXIT_TARGET_NOT_MET",
           "build_parser", "load", "main", "map_override"]  # fmt: skip

EXIT_BAD_INPUT = 2
EXIT_MACHINE = 1
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="Simulate city-management dispatch under the 'double ten' rule (城管120): "
        "an advisor on scene within 10 minutes of an instruction, enforcers within 10 minutes "
        "of failed persuasion.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (run, sweep, optimize, fit, report, maps, tools):  # the order of the help's list
        command.register(sub)
    return parser


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
    return exc.spelled({a: "--" + a.replace("_", "-") for a in exc.arguments})


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


def _stdout_closed() -> bool:
    """Whether standard output is a pipe its reader has closed (``| head -1``): the
    write end of such a pipe polls as an error (where ``poll`` exists, else assumed)."""
    if not hasattr(select, "poll"):
        return True
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def _silence_stdout() -> None:
    """Point standard output at the null device, so the interpreter's last flush of
    what the reader did not take raises nothing."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    with contextlib.suppress(ValueError):  # only the main thread may set handlers
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # here, so that a closed pipe is met inside the try
        return code
    except BrokenPipeError as exc:
        if _stdout_closed():
            _silence_stdout()
            return 0
        if debug:  # another pipe (a worker's): the machine's problem
            raise
        print(_machine_error(exc), file=sys.stderr)
        return EXIT_MACHINE
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
