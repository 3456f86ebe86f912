"""The results folder: summary.json, incidents.csv and plots, written atomically.

Everything is first written into a sibling temporary folder and then moved into place,
so an interrupted run never leaves a half-written results folder or file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim import mapplot, report
from sim.atomic import atomic_dir, write_text_atomic

__all__ = ["atomic_dir", "dumps", "write_run", "write_text_atomic"]


def dumps(data: Any) -> str:
    """JSON as written everywhere in results: stable, readable, UTF-8."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_run(
    result: Any, out: Path, *, plots: bool = True, extra: Callable[[Path], None] | None = None
) -> Path:
    """Write a run's results folder; return its path."""
    with atomic_dir(out) as tmp:
        (tmp / "summary.json").write_text(dumps(result.summary), encoding="utf-8")
        frame = result.table.to_frame()
        frame.to_csv(tmp / "incidents.csv", index=False, float_format="%.3f", lineterminator="\n")
        (tmp / "summary.txt").write_text(
            report.summary_text(result.summary) + "\n", encoding="utf-8"
        )
        if plots:
            rules = result.scenario.rules
            report.plot_response_times(result.table, rules, tmp / "response_times.png")
            report.plot_by_hour(result.summary, tmp / "on_time_by_hour.png")
            report.plot_by_office(result.summary, tmp / "on_time_by_office.png")
            mapplot.draw_on_time_map(result.world, result.summary, tmp / "on_time_map.png")
        if extra is not None:
            extra(tmp)
    return out
