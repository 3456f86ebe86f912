"""The window a log observed: which hours of which weekdays, and which whole days.

A rate is cases over time observed, so everything fitted divides by exposure: the hours
of each (weekday, hour of day) the window covers. A window of whole weeks covers every
cell alike; a log from Tuesday 00:02 to Thursday 14:22 does not, and dividing by the
cells' own hours keeps the hourly profile and the daily volume unbiased. Each segment of
a log (the replications of a run's own log) is its own window, from its first to its
last case unless a window is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.caselog.log import CaseLog

HOUR_S = 3600.0
DAY_S = 86400.0


@dataclass(frozen=True, eq=False)
class Exposure:
    """Hours observed per (weekday, hour of day), and the whole days observed."""

    hours: np.ndarray  # (7, 24), Monday first
    spans: tuple[tuple[int, float, float], ...]  # (segment, start, end) wall seconds
    day_segment: np.ndarray  # per whole day: its segment
    day_start: np.ndarray  # per whole day: wall seconds of its midnight

    @property
    def days(self) -> float:
        return float(self.hours.sum()) / 24.0

    @property
    def hour_hours(self) -> np.ndarray:
        """Hours observed of each hour of day (over all weekdays)."""
        out: np.ndarray = self.hours.sum(axis=0)
        return out


def parse_window(text: str) -> tuple[float, float]:
    """``START/END`` (dates or date-times; a date-only END includes that whole day) →
    wall-clock seconds [start, end). Raises ``ValueError``."""
    start_text, sep, end_text = text.partition("/")
    if not sep:
        raise ValueError(f"{text!r} is not START/END, e.g. 2020-01-01/2020-01-31")
    try:
        start = pd.Timestamp(start_text.strip())
        end = pd.Timestamp(end_text.strip())
    except (ValueError, TypeError):
        raise ValueError(f"{text!r}: START and END must be dates such as 2020-01-31") from None
    if end == end.normalize() and len(end_text.strip()) <= 10:
        end += pd.Timedelta(days=1)
    if end <= start:
        raise ValueError(f"{text!r}: END must come after START")
    return start.value / 1e9, end.value / 1e9


def observe(log: CaseLog, window: tuple[float, float] | None) -> tuple[CaseLog, Exposure]:
    """The rows inside the window (others counted out) and the exposure of the window."""
    if window is not None:
        wall = log.wall
        log = log.select((wall >= window[0]) & (wall < window[1]), "outside the window")
    spans = []
    for seg in np.unique(log.segment):
        if window is not None:
            spans.append((int(seg), window[0], window[1]))
        else:
            wall = log.wall[log.segment == seg]
            spans.append((int(seg), float(wall.min()), float(wall.max())))
    hours = np.zeros((7, 24))
    day_seg, day_start = [], []
    for seg, a, b in spans:
        _add_hours(hours, a, b)
        first, last = int(np.ceil(a / DAY_S)), int(np.floor(b / DAY_S))
        days = np.arange(first, last)
        day_seg.append(np.full(len(days), seg))
        day_start.append(days * DAY_S)
    return log, Exposure(
        hours,
        tuple(spans),
        np.concatenate(day_seg) if day_seg else np.zeros(0, dtype=int),
        np.concatenate(day_start) if day_start else np.zeros(0),
    )


def _add_hours(hours: np.ndarray, a: float, b: float) -> None:
    """Add the hours of [a, b) to their (weekday, hour) cells."""
    slots = np.arange(int(np.floor(a / HOUR_S)), int(np.ceil(b / HOUR_S)) + 1)
    lo = np.maximum(slots * HOUR_S, a)
    hi = np.minimum((slots + 1) * HOUR_S, b)
    covered = np.clip(hi - lo, 0.0, None) / HOUR_S
    day = slots // 24
    np.add.at(hours, ((day + 3) % 7, slots % 24), covered)
