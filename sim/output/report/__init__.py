"""``report.html``: one self-contained page per results folder, built from its files.

A run's report (:mod:`~sim.output.report.runpage`) reads the folder's ``summary.json``,
``results.gpkg`` and incident table; a sweep's and an optimiser's
(:mod:`~sim.output.report.batchpage`) their tables; several runs side by side
(:mod:`~sim.output.report.comparepage`). The page inlines its libraries and font and
loads nothing from the network (:mod:`~sim.output.report.page`).
"""

from __future__ import annotations

from pathlib import Path

from sim.engine.records import IncidentTable
from sim.errors import ArgumentError, ResultsError
from sim.output.folders import owned_file, read_manifest
from sim.output.report.batchpage import batch_report
from sim.output.report.inputs import read_run
from sim.output.report.runpage import run_page

REPORT = "report.html"

__all__ = ["REPORT", "run_report", "write_report"]


def run_report(
    folder: Path,
    *,
    day: int | None = None,
    table: IncidentTable | None = None,
    name: str | None = None,
) -> str:
    """The HTML of a run folder's report (``day`` to replay; ``table``: the incident
    table the folder was just written from, to save reading it back; ``name``: the
    folder's own name when ``folder`` is the temporary one it is written in)."""
    run = read_run(folder, table, name)
    try:
        return run_page(run, day).render()
    except ValueError as exc:
        if day is None:
            raise
        raise ArgumentError([f"day: {exc}"], ["day"]) from None


def folder_report(folder: Path, *, day: int | None = None) -> str:
    """The report of any results folder the tool wrote: a run's, a sweep's, an optimiser's."""
    manifest = read_manifest(folder)
    if manifest is None:
        raise ResultsError([f"{folder}: not a results folder of this tool (no manifest)"])
    kind = manifest.get("kind", "run")
    if kind == "run":
        return run_report(folder, day=day)
    if day is not None:
        raise ArgumentError(
            [f"day: only a run's report has a replay ({folder} is a {kind})"], ["day"]
        )
    return batch_report(folder, kind)


def write_report(
    folder: Path, *, day: int | None = None, out: Path | None = None, force: bool = False
) -> Path:
    """Rebuild ``folder``'s report into ``out`` (default ``folder/report.html``), atomically."""
    folder = Path(folder)
    text = folder_report(folder, day=day)
    target = out if out is not None else folder / REPORT
    with owned_file(target, command="report", force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target
