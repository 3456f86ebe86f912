"""The results folder: summary.json, incidents.csv and plots, written atomically.

Everything is first written into a sibling temporary folder and then moved into place,
so an interrupted run never leaves a half-written results folder or file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sim import report


def write_text_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see either the old or the whole new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def dumps(data: Any) -> str:
    """JSON as written everywhere in results: stable, readable, UTF-8."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` only if the block succeeds."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.partial-"))
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}"
            target.replace(old)
        tmp.replace(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


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
        if extra is not None:
            extra(tmp)
    return out
