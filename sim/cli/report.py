"""``report`` and ``replay``: rebuild or compare reports, and render a day for slides."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from sim.cli.common import add_force
from sim.errors import ArgumentError
from sim.output.folders import check_file, owned_file
from sim.scenario import Rules


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="rebuild a results folder's report.html, or compare runs side by side",
        description="Build report.html from a results folder (a run's, a sweep's or an "
        "optimiser's) without the scenario or its map files, or, given several run folders, "
        "one page comparing them. The page works from disk with no network.",
    )
    p.add_argument("folders", type=Path, nargs="+", metavar="RESULTS_DIR", help="results folder(s)")
    p.add_argument(
        "--day",
        type=int,
        metavar="D",
        help="the measured day to replay (day 1 is the first after the warm-up; "
        "default: the day with the lowest double ten)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="where to write the page (default: RESULTS_DIR/report.html; comparison.html "
        "in the current folder for several runs)",
    )
    add_force(p, "--out")
    p.add_argument(
        "--debug", action="store_true", help="show a traceback when something goes wrong"
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "replay",
        help="render a day of a run as a video (MP4 or GIF) for slides",
        description="Render the replay of one measured day of a run (incidents and their "
        "states, advisors and enforcer teams riding along the streets) as an MP4 or GIF.",
    )
    p.add_argument("folder", type=Path, metavar="RESULTS_DIR", help="a run's results folder")
    p.add_argument("--day", type=int, metavar="D", help="measured day (default: the worst)")
    p.add_argument(
        "--from", dest="start", default="00:00", metavar="HH:MM", help="start (default 00:00)"
    )
    p.add_argument("--to", dest="end", default="24:00", metavar="HH:MM", help="end (default 24:00)")
    p.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="evening.mp4 or evening.gif"
    )
    p.add_argument(
        "--fps", type=int, default=10, metavar="N", help="frames per second (default 10)"
    )
    p.add_argument(
        "--step",
        type=float,
        default=2.0,
        metavar="MIN",
        help="simulated minutes per frame (default 2)",
    )
    add_force(p, "--out")
    p.add_argument(
        "--debug", action="store_true", help="show a traceback when something goes wrong"
    )
    p.set_defaults(func=cmd_replay)


def _minute(flag: str, text: str) -> float:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if m is None or int(m.group(2)) > 59 or int(m.group(1)) * 60 + int(m.group(2)) > 1440:
        raise ArgumentError([f"{flag}: {text!r} is not a time of day HH:MM (00:00 to 24:00)"], [])
    return float(int(m.group(1)) * 60 + int(m.group(2)))


def cmd_report(args: argparse.Namespace) -> int:
    # deferred: the report's readers and pages load only for `python -m sim report`
    from sim.output.report import write_report
    from sim.output.report.comparepage import write_comparison

    if len(args.folders) == 1:
        out = write_report(args.folders[0], day=args.day, out=args.out, force=args.force)
    else:
        if args.day is not None:
            raise ArgumentError(["--day: replays one run; give one RESULTS_DIR"], [])
        out = write_comparison(args.folders, args.out or Path("comparison.html"), force=args.force)
    print(f"report written to {out}", file=sys.stderr)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    # deferred: the report's readers and matplotlib load only for `python -m sim replay`
    from sim.output.report.inputs import read_run
    from sim.output.report.runpage import replay_of
    from sim.viz.replayvideo import FORMATS, VideoOptions, render

    start, end = _minute("--from", args.start), _minute("--to", args.end)
    problems = []
    if end <= start:
        problems.append(f"--to: {args.end} is not after --from {args.start}")
    if args.fps < 1 or args.step <= 0:
        problems.append("--fps and --step: must be positive")
    if args.out.suffix.lower() not in FORMATS:
        problems.append(f"--out: {args.out.name}: give a .mp4 or .gif file")
    if problems:
        raise ArgumentError(problems, [])
    check_file(args.out, force=args.force)  # before any work
    run = read_run(args.folder)
    try:
        rep = replay_of(run, args.day)
    except ValueError as exc:
        raise ArgumentError([f"--day: {exc}"], []) from None
    options = VideoOptions(start, end, args.fps, args.step)
    rules = Rules(**run.summary["scenario_resolved"]["rules"])
    title = f"{run.summary['scenario']} · day {rep.day}"
    with owned_file(args.out, command="replay", force=args.force) as tmp:
        media = tmp.with_name(tmp.name + args.out.suffix.lower())  # writers go by the suffix
        try:
            n = render(rep, rules, run.geometry.offices.shapes, media, options, title)
            media.replace(tmp)
        finally:
            media.unlink(missing_ok=True)
    print(f"{n} frames written to {args.out}", file=sys.stderr)
    return 0
