"""The results folder: summary.json, incidents, results.gpkg, report.html and plots, atomically.

Everything is first written into a sibling temporary folder and then moved into place,
so an interrupted run never leaves a half-written results folder or file.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from sim.atomic import atomic_dir, write_text_atomic
from sim.lifetime import die_with_parent
from sim.output import gis
from sim.output.csvfile import write_csv
from sim.output.folders import results_folder
from sim.output.report import REPORT, run_report
from sim.output.runtext import summary_text
from sim.output.strictjson import dumps, jsonable
from sim.viz import enforcementplot, mapplot, rankplot, report

if TYPE_CHECKING:
    import pandas as pd

    from sim.runner import RunResult
    from sim.world.network import StreetNetwork

__all__ = ["RunFiles", "atomic_dir", "dumps", "jsonable", "write_run", "write_text_atomic"]


@dataclass(frozen=True)
class RunFiles:
    """What a run's results folder holds besides ``summary.json``, ``summary.txt`` and the
    incident, case and evaluation tables (which every run writes)."""

    plots: bool = True  # the PNG figures
    report: bool = True  # report.html (results.gpkg is always written: the report reads it)
    incident_format: Literal["csv", "parquet"] = "csv"  # incidents.csv or incidents.parquet
    scenario_file: Path | None = None  # recorded, absolute, in the manifest's sources


def write_run(
    result: RunResult,
    out: Path,
    *,
    files: RunFiles = RunFiles(),
    force: bool = False,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write a run's results folder atomically; return its path.

    ``out`` must be new, empty, or a results folder this tool wrote (see
    :mod:`sim.output.folders`); with ``force`` the files go beside foreign ones, deleting none.
    The manifest records the absolute paths of the scenario and map files as ``sources``.
    """
    meta = {"sources": sources(result, files.scenario_file)}
    with results_folder(out, "run", command="run", force=force, meta=meta) as tmp:
        with _drawing(_figures(result, tmp) if files.plots else []):
            (tmp / "summary.json").write_text(dumps(result.summary), encoding="utf-8")
            _write_tables(result, tmp, files.incident_format)
            gis.write_gpkg(
                gis.run_layers(result.world, result.summary, result.table),
                result.world.net.crs,
                tmp / gis.GPKG,
            )
            (tmp / "summary.txt").write_text(summary_text(result.summary) + "\n", encoding="utf-8")
            if files.report:
                html = run_report(tmp, table=result.table, name=Path(out).resolve().name)
                (tmp / REPORT).write_text(html, encoding="utf-8")
        if extra is not None:
            extra(tmp)
    return out


def sources(result: RunResult, scenario_file: Path | None) -> dict[str, str]:
    """The files a run was built from, as absolute paths, by the scenario field naming each."""
    out = {"scenario": str(Path(scenario_file).resolve())} if scenario_file is not None else {}
    out["scenario folder"] = str(result.scenario.base_dir.resolve())
    out.update({k: str(v.resolve()) for k, v in result.world.resolved.files().items()})
    return out


def _figures(result: RunResult, tmp: Path) -> list[tuple[Callable[..., None], tuple[Any, ...]]]:
    rules = result.scenario.rules
    figures: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
        (mapplot.draw_on_time_map, (result.world, result.summary, tmp / "on_time_map.png")),
        (report.plot_response_times, (result.table, rules, tmp / "response_times.png")),
        (report.plot_by_office, (result.summary, tmp / "on_time_by_office.png")),
        (report.plot_by_hour, (result.summary, tmp / "on_time_by_hour.png")),
    ]
    if result.cases is not None:  # the enforcement chain ran
        figures += [
            (enforcementplot.plot_funnel, (result.summary, tmp / "penalty_funnel.png")),
            (
                enforcementplot.plot_hotspots_weekly,
                (result.summary, result.table, tmp / "hotspots_weekly.png"),
            ),
        ]
    if result.evaluation is not None:
        figures += [
            (rankplot.plot_bump, (result.evaluation, tmp / "ranking.png")),
            (rankplot.draw_score_map, (result.world, result.evaluation, tmp / "score_map.png")),
        ]
    return figures


def _write_tables(result: RunResult, tmp: Path, incident_format: str) -> None:
    """The incident table (CSV or Parquet), and the case and evaluation tables when present."""
    table, net = result.table, result.world.net
    if incident_format == "parquet":
        frame = with_coordinates(table.to_frame(), table["node"], net)
        frame.to_parquet(tmp / "incidents.parquet", index=False)
    else:  # the same cells from labels and codes: no string per row (csvfile)
        frame = with_coordinates(table.to_frame(categorical=True), table["node"], net, True)
        write_csv(frame, tmp / "incidents.csv", "%.3f")
    if result.cases is not None:
        write_csv(result.cases.to_frame(), tmp / "cases.csv", "%.3f")
    if result.evaluation is not None:
        write_csv(result.evaluation.frame(), tmp / "evaluation.csv", "%.4f")


# columns appended to incidents.csv after the record's own, so that the file is a case log
# (``python -m sim fit`` and ``demand.trace`` read it with no options)
PLACE_COLUMNS: tuple[str, ...] = ("x", "y", "lon", "lat")


def with_coordinates(
    frame: pd.DataFrame, node: np.ndarray, net: StreetNetwork, categorical: bool = False
) -> pd.DataFrame:
    """``frame`` with each incident's node in map metres (x, y) and in WGS84 (lon, lat;
    empty when the map has no coordinate system) appended.

    lon and lat are text (``%.7f``) formatted once per node, not once per incident; with
    ``categorical`` as pandas categoricals (see :meth:`IncidentTable.to_frame`).
    """
    import pandas as pd  # deferred: the results module is imported before any table exists

    frame = frame.copy()
    frame["x"] = net.x[node]
    frame["y"] = net.y[node]
    lon, lat = net.lonlat()
    if lon is None or lat is None:
        frame["lon"] = frame["lat"] = ""
        return frame
    nodes, at = np.unique(node, return_inverse=True)
    for name, values in (("lon", lon), ("lat", lat)):
        text = np.char.mod("%.7f", values[nodes]) if len(nodes) else np.zeros(0, dtype=str)
        if categorical:
            labels, codes = np.unique(text, return_inverse=True)
            frame[name] = pd.Categorical.from_codes(codes[at], labels.tolist())
        else:
            frame[name] = text[at]
    return frame


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
