"""A case log read and cleaned: one row per usable case, and the count of every other row."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from sim.caselog.columns import Columns
from sim.caselog.times import hour_of_day, weekday

# why a row was left out, in the order rows are checked: each row counts once, under the
# first reason it meets
REASONS: tuple[str, ...] = (
    "malformed line",
    "unparseable time",
    "no coordinates",
    "no category",
    "unmapped category",
    "duplicate",
    "outside the map",
    "outside the window",
)


@dataclass
class RowCounts:
    """Rows read, and those left out by reason; the rest were used."""

    read: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    @property
    def used(self) -> int:
        return self.read - sum(self.dropped.values())

    def drop(self, reason: str, n: int) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        if n:
            self.dropped[reason] += int(n)

    def as_dict(self) -> dict[str, object]:
        return {
            "read": self.read,
            "used": self.used,
            "dropped": {r: self.dropped[r] for r in REASONS if self.dropped[r]},
        }

    def lines(self, details: dict[str, str] | None = None) -> list[str]:
        """One line per reason rows were left out, with ``details`` where given."""
        details = details or {}
        out = []
        for r in REASONS:
            n = self.dropped[r]
            if n:
                more = f" ({details[r]})" if r in details else ""
                out.append(f"{n:,} row{'s' if n != 1 else ''}: {r}{more}")
        return out

    def copy(self) -> RowCounts:
        return RowCounts(self.read, Counter(self.dropped))


# the run's own incidents.csv: minute 0 of a run is placed on this Monday
OWN_EPOCH_SECONDS = 1_704_067_200  # 2024-01-01 00:00, wall clock


@dataclass(frozen=True, eq=False)
class CaseLog:
    """Usable cases: when (wall-clock seconds ``origin + seconds``), where (map metres),
    what (category code), how found (channel code, -1 unknown).

    ``segment`` separates independent stretches of time (the replications of a run's own
    log); each is observed from its first to its last case.
    """

    seconds: np.ndarray  # float64, from ``origin``
    origin: int  # wall-clock seconds since 1970 of ``seconds == 0``
    x: np.ndarray
    y: np.ndarray
    category: np.ndarray  # int16 into ``categories``
    channel: np.ndarray  # int8 into ``channels``, -1 unknown
    segment: np.ndarray  # int32
    categories: tuple[str, ...]
    channels: tuple[str, ...]
    rows: RowCounts
    columns: Columns
    kind: str  # csv, xlsx, geojson, parquet; "run" for a run's own incidents.csv
    has_channel: bool
    unmapped_categories: Counter[str] = field(default_factory=Counter)
    unmapped_channels: Counter[str] = field(default_factory=Counter)
    unlisted_categories: frozenset[str] = frozenset()  # unmapped and not in the category map
    node_ids: np.ndarray | None = None  # a run's own log: the node of each row, as text
    hotspot_names: np.ndarray | None = None  # a run's own log: its hotspot label
    offender: np.ndarray | None = None  # who each case is against (text, "" blank); None: no column
    notes: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.seconds)

    @property
    def wall(self) -> np.ndarray:
        """Wall-clock seconds since 1970 (float)."""
        out: np.ndarray = self.origin + self.seconds
        return out

    def hours(self) -> np.ndarray:
        return hour_of_day(np.floor(self.wall).astype(np.int64))

    def weekdays(self) -> np.ndarray:
        return weekday(np.floor(self.wall).astype(np.int64))

    def select(self, keep: np.ndarray, reason: str) -> CaseLog:
        """The rows where ``keep`` holds; the others are counted under ``reason``."""
        rows = self.rows.copy()
        rows.drop(reason, int((~keep).sum()))

        def part(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[keep]

        return replace(
            self,
            seconds=self.seconds[keep],
            x=self.x[keep],
            y=self.y[keep],
            category=self.category[keep],
            channel=self.channel[keep],
            segment=self.segment[keep],
            rows=rows,
            node_ids=part(self.node_ids),
            hotspot_names=part(self.hotspot_names),
            offender=part(self.offender),
        )
