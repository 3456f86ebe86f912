"""Incident records: one immutable row per incident, the table every measure comes from.

During a run the model fills an :class:`IncidentLog` (preallocated arrays, no per-row
objects). Afterwards the log and the drawn incidents are frozen into an
:class:`IncidentTable`, which metrics, CSV output and plots all read.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from sim.demand import Incidents


@dataclass(eq=False)
class IncidentLog:
    """What the event model writes per incident (minutes; NaN or -1 until it happens)."""

    advisor: np.ndarray
    advisor_dispatched: np.ndarray
    advisor_arrived: np.ndarray
    persuasion_ended: np.ndarray
    enforcer: np.ndarray
    enforcer_dispatched: np.ndarray
    enforcer_arrived: np.ndarray
    closed: np.ndarray
    advisor_released: np.ndarray
    enforcer_released: np.ndarray

    @classmethod
    def empty(cls, n: int) -> IncidentLog:
        kw = {f.name: np.full(n, np.nan) for f in fields(cls)}
        kw["advisor"] = np.full(n, -1, dtype=np.int32)
        kw["enforcer"] = np.full(n, -1, dtype=np.int32)
        return cls(**kw)


# Column order of the table and of incidents.csv.
COLUMNS: tuple[str, ...] = (
    "replication",
    "incident",
    "category",
    "office",
    "grid",
    "node",
    "hotspot",
    "offender",
    "occurred",
    "reported",
    "channel",
    "instructed",
    "advisor",
    "advisor_dispatched",
    "advisor_arrived",
    "persuasion_ended",
    "persuaded",
    "escalated",
    "enforcer_team",
    "enforcer_dispatched",
    "enforcer_arrived",
    "closed",
    "advisor_released",
    "enforcer_released",
    "measured",
)


@dataclass(frozen=True, eq=False)
class IncidentTable:
    """All incidents of one or more replications as read-only columns.

    Integer codes (category, office, grid, node, channel, hotspot) index the label
    tuples, so the table stays compact; :meth:`to_frame` spells them out.
    """

    columns: dict[str, np.ndarray]
    categories: tuple[str, ...]
    offices: tuple[str, ...]
    grids: tuple[str, ...]
    node_ids: tuple[str, ...]
    channels: tuple[str, ...]
    hotspots: tuple[str, ...]

    def __post_init__(self) -> None:
        for arr in self.columns.values():
            arr.flags.writeable = False

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.columns["incident"])

    @classmethod
    def from_run(
        cls,
        replication: int,
        inc: Incidents,
        log: IncidentLog,
        *,
        node_office: np.ndarray,
        node_grid: np.ndarray,
        warmup_min: float,
        horizon_min: float,
        labels: dict[str, tuple[str, ...]],
    ) -> IncidentTable:
        n = inc.n
        escalated = ~inc.persuaded & np.isfinite(log.persuasion_ended)
        cols = {
            "replication": np.full(n, replication, dtype=np.int32),
            "incident": np.arange(n, dtype=np.int64),
            "category": inc.category.astype(np.int16),
            "office": node_office[inc.node].astype(np.int32),
            "grid": node_grid[inc.node].astype(np.int32),
            "node": inc.node.astype(np.int64),
            "hotspot": inc.hotspot.astype(np.int16),
            "offender": inc.offender.astype(np.int64),
            "occurred": inc.occurred,
            "reported": np.where(np.isfinite(inc.reported), inc.reported, np.nan),
            "channel": inc.channel.astype(np.int8),
            "instructed": np.where(np.isfinite(inc.instructed), inc.instructed, np.nan),
            "advisor": log.advisor,
            "advisor_dispatched": log.advisor_dispatched,
            "advisor_arrived": log.advisor_arrived,
            "persuasion_ended": log.persuasion_ended,
            "persuaded": inc.persuaded & np.isfinite(log.persuasion_ended),
            "escalated": escalated,
            "enforcer_team": log.enforcer,
            "enforcer_dispatched": log.enforcer_dispatched,
            "enforcer_arrived": log.enforcer_arrived,
            "closed": log.closed,
            "advisor_released": log.advisor_released,
            "enforcer_released": log.enforcer_released,
            "measured": (inc.instructed >= warmup_min) & (inc.instructed < horizon_min),
        }
        return cls(columns=cols, **_label_kwargs(labels))

    @classmethod
    def concat(cls, tables: list[IncidentTable]) -> IncidentTable:
        """The rows of several tables (replications) in one."""
        cols = {k: np.concatenate([t.columns[k] for t in tables]) for k in tables[0].columns}
        return replace(tables[0], columns=cols)

    def select(self, mask: np.ndarray) -> IncidentTable:
        """The rows where ``mask`` holds."""
        return replace(self, columns={k: v[mask] for k, v in self.columns.items()})

    def to_frame(self) -> pd.DataFrame:
        """The table as a pandas DataFrame with readable labels."""
        import pandas as pd

        c = self.columns
        df = pd.DataFrame({k: c[k] for k in COLUMNS})
        df["category"] = np.asarray(self.categories, dtype=object)[c["category"]]
        df["office"] = np.asarray(self.offices, dtype=object)[c["office"]]
        df["grid"] = np.asarray(self.grids, dtype=object)[c["grid"]]
        df["node"] = np.asarray(self.node_ids, dtype=object)[c["node"]]
        df["channel"] = _decode(self.channels, c["channel"])
        df["hotspot"] = _decode(self.hotspots, c["hotspot"])
        df["advisor"] = np.where(c["advisor"] >= 0, c["advisor"], -1)
        return df


def _decode(labels: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    out = np.full(len(codes), "", dtype=object)
    ok = codes >= 0
    out[ok] = np.asarray(labels, dtype=object)[codes[ok]]
    return out


def _label_kwargs(labels: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    keys = ("categories", "offices", "grids", "node_ids", "channels", "hotspots")
    return {k: tuple(labels[k]) for k in keys}
