"""The results folder: summary.json, incidents.csv and plots, written atomically.

Everything is first written into a sibling temporary folder and then moved into place,
so an interrupted run never leaves a half-written results folder or file.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.atomic import atomic_dir, write_text_atomic
from sim.lifetime import die_with_parent
from sim.output.csvfile import write_csv
from sim.output.folders import results_folder
from sim.viz import enforcementplot, mapplot, rankplot, report

if TYPE_CHECKING:
    from sim.runner import RunResult

__all__ = ["atomic_dir", "dumps", "write_run", "write_text_atomic"]


def dumps(data: Any) -> str:
    """JSON as written everywhere in results: stable, readable, UTF-8 and strict.

    Strict means what every JSON reader accepts: a measure that is undefined (NaN) or
    unbounded is written as ``null``, never as ``NaN`` or ``Infinity``.
    """
    return json.dumps(jsonable(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def jsonable(x: Any) -> Any:
    """Plain JSON data: numpy scalars as Python numbers, non-finite floats as ``None``."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_run(
    result: RunResult,
    out: Path,
    *,
    plots: bool = True,
    force: bool = False,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write a run's results folder atomically; return its path.

    ``out`` must be new, empty, or a results folder this tool wrote (see
    :mod:`sim.output.folders`); with ``force`` the files go beside foreign ones, deleting none.
    """
    with results_folder(out, "run", command="run", force=force) as tmp:
        figures: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        if plots:
            rules = result.scenario.rules
            figures = [
                (mapplot.draw_on_time_map, (result.world, result.summary, tmp / "on_time_map.png")),
                (report.plot_response_times, (result.table, rules, tmp / "response_times.png")),
                (report.plot_by_office, (result.summary, tmp / "on_time_by_office.png")),
                (report.plot_by_hour, (result.summary, tmp / "on_time_by_hour.png")),
            ]
            if "enforcement" in result.summary:
                figures += [
                    (enforcementplot.plot_funnel, (result.summary, tmp / "penalty_funnel.png")),
                    (
                        enforcementplot.plot_hotspots_weekly,
                        (result.summary, tmp / "hotspots_weekly.png"),
                    ),
                ]
            if result.evaluation is not None:
                figures += [
                    (rankplot.plot_bump, (result.evaluation, tmp / "ranking.png")),
                    (
                        rankplot.draw_score_map,
                        (result.world, result.evaluation, tmp / "score_map.png"),
                    ),
                ]
        with _drawing(figures):
            (tmp / "summary.json").write_text(dumps(result.summary), encoding="utf-8")
            write_csv(result.table.to_frame(), tmp / "incidents.csv", "%.3f")
            if result.cases is not None:
                write_csv(result.cases.to_frame(), tmp / "cases.csv", "%.3f")
            if result.evaluation is not None:
                write_csv(result.evaluation.frame(), tmp / "evaluation.csv", "%.4f")
            (tmp / "summary.txt").write_text(
                report.summary_text(result.summary) + "\n", encoding="utf-8"
            )
        if extra is not None:
            extra(tmp)
    return out


@contextlib.contextmanager
def _drawing(figures: list[tuple[Callable[..., None], tuple[Any, ...]]]) -> Iterator[None]:
    """Draw figures while the block runs: in forked processes where the platform allows.

    A run's figures take longer than its simulation, and each is independent of the
    others, so on a multi-core machine they are drawn side by side. Without ``fork``
    (Windows, or a single core) they are drawn one after another.
    """
    parallel = len(figures) > 1 and (os.cpu_count() or 1) > 1
    if not parallel or "fork" not in multiprocessing.get_all_start_methods():
        yield
        for draw, args in figures:
            draw(*args)
        return
    ctx = multiprocessing.get_context("fork")
    procs = [
        (ctx.Process(target=_child, args=(os.getpid(), draw, args), daemon=True), draw)
        for draw, args in figures
    ]
    for proc, _ in procs:
        proc.start()
    done = False
    try:
        yield
        for proc, _ in procs:
            proc.join()
        done = True
    finally:
        if not done:  # interrupted, here or while waiting: stop the drawers before leaving
            for proc, _ in procs:
                proc.kill()
            for proc, _ in procs:
                proc.join()
    failed = [draw.__name__ for proc, draw in procs if proc.exitcode != 0]
    if failed:
        raise RuntimeError(f"drawing failed: {', '.join(failed)}")


def _child(parent: int, draw: Callable[..., None], args: tuple[Any, ...]) -> None:
    """Run ``draw`` in a forked child that dies with its parent, even a ``kill -9``-ed one."""
    die_with_parent(parent)
    draw(*args)
