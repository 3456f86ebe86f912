"""Incident records: one immutable row per incident, the table every measure comes from.

:data:`RECORD` declares every column once, in the order of ``incidents.csv``: its
name, type, where it comes from and what it means. ``incident`` columns come from the
drawn incidents, ``chain`` columns are written by the incident chain's stages during
the run (into an :class:`IncidentLog` of preallocated arrays, no per-row objects),
``derived`` columns are computed from the others afterwards. A stage that adds a
column declares it on the stage (:class:`~sim.engine.chain.Stage`); it follows the
standard ones in the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from sim.engine.demand import Incidents

Source = Literal["incident", "chain", "derived"]


@dataclass(frozen=True, eq=False)
class RowSources:
    """What a column's value is computed from when a replication's table is assembled."""

    replication: int
    incidents: Incidents
    log: IncidentLog
    drawn: Mapping[str, np.ndarray]
    node_office: np.ndarray
    node_grid: np.ndarray
    warmup_min: float
    horizon_min: float


@dataclass(frozen=True)
class Column:
    """One column of the incident record.

    ``fill`` is a ``chain`` column's value until a stage writes it (NaN for times, -1
    for unit indices); ``value`` computes an ``incident`` or ``derived`` column.
    """

    name: str
    dtype: type[np.generic]
    source: Source
    doc: str
    fill: float = np.nan
    value: Callable[[RowSources], np.ndarray] | None = None


def _finite(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, np.nan)


def _inc(name: str, dtype: type[np.generic], doc: str) -> Column:
    return Column(
        name,
        dtype,
        "incident",
        doc,
        value=lambda s: getattr(s.incidents, name).astype(dtype, copy=False),
    )


def _time(name: str, doc: str) -> Column:
    return Column(name, np.float64, "chain", doc)


def _unit(name: str, doc: str) -> Column:
    return Column(name, np.int32, "chain", doc, fill=-1)


def role_columns(unit_column: str, prefix: str, what: str) -> tuple[Column, ...]:
    """The record columns of a dispatched role (see :class:`~sim.engine.crews.CrewRole`):
    the unit sent, and when it was dispatched, arrived and was back at its post.

    The standard roles' columns are spelled out in :data:`RECORD` (their places in
    ``incidents.csv`` are fixed); an optional role's stages declare these.
    """
    return (
        _unit(unit_column, f"{what} sent (-1: none)"),
        _time(f"{prefix}_dispatched", f"minute the {what} was dispatched"),
        _time(f"{prefix}_arrived", f"minute the {what} arrived"),
        _time(f"{prefix}_released", f"minute the {what} was back at its post"),
    )


def _persuaded(s: RowSources) -> np.ndarray:
    result: np.ndarray = s.drawn["persuaded"] & np.isfinite(s.log["persuasion_ended"])
    return result


def _escalated(s: RowSources) -> np.ndarray:
    result: np.ndarray = ~s.drawn["persuaded"] & np.isfinite(s.log["persuasion_ended"])
    return result


RECORD: tuple[Column, ...] = (
    Column(
        "replication",
        np.int32,
        "derived",
        "replication index",
        value=lambda s: np.full(s.incidents.n, s.replication, dtype=np.int32),
    ),
    Column(
        "incident",
        np.int64,
        "derived",
        "incident index within the replication (by occurrence)",
        value=lambda s: np.arange(s.incidents.n, dtype=np.int64),
    ),
    _inc("category", np.int16, "problem category (code into the category names)"),
    Column(
        "office",
        np.int32,
        "derived",
        "street office of the incident's node",
        value=lambda s: s.node_office[s.incidents.node].astype(np.int32),
    ),
    Column(
        "grid",
        np.int32,
        "derived",
        "grid of the incident's node",
        value=lambda s: s.node_grid[s.incidents.node].astype(np.int32),
    ),
    _inc("node", np.int64, "street node where it occurred"),
    _inc("hotspot", np.int16, "hotspot that produced it, -1 for none"),
    _inc("offender", np.int64, "persistent offender who caused it, -1 for a one-off"),
    _inc("occurred", np.float64, "minute the problem appeared"),
    Column(
        "reported",
        np.float64,
        "incident",
        "minute a channel found it (NaN: never)",
        value=lambda s: _finite(s.incidents.reported),
    ),
    _inc("channel", np.int8, "channel that found it first, -1 for never"),
    Column(
        "instructed",
        np.float64,
        "incident",
        "minute the command centre issued the instruction (clock 1 starts)",
        value=lambda s: _finite(s.incidents.instructed),
    ),
    _unit("advisor", "advisor sent (-1: none)"),
    _time("advisor_dispatched", "minute the advisor was dispatched"),
    _time("advisor_arrived", "minute the advisor arrived (clock 1 stops)"),
    _time("persuasion_ended", "minute persuasion ended (clock 2 starts if it failed)"),
    Column("persuaded", np.bool_, "derived", "persuasion worked", value=_persuaded),
    Column("escalated", np.bool_, "derived", "persuasion failed: enforcers sent", value=_escalated),
    _unit("enforcer_team", "enforcer team sent (-1: none)"),
    _time("enforcer_dispatched", "minute the enforcer team was dispatched"),
    _time("enforcer_arrived", "minute the enforcer team arrived (clock 2 stops)"),
    _time("closed", "minute the case was closed on scene"),
    _time("advisor_released", "minute the advisor was back at the post"),
    _time("enforcer_released", "minute the enforcer team was back at its post"),
    Column(
        "measured",
        np.bool_,
        "derived",
        "instructed inside the measured window (after warm-up, before the horizon)",
        value=lambda s: (
            (s.incidents.instructed >= s.warmup_min) & (s.incidents.instructed < s.horizon_min)
        ),
    ),
)

# Column order of the table and of incidents.csv.
COLUMNS: tuple[str, ...] = tuple(c.name for c in RECORD)


def cells(a: np.ndarray) -> memoryview[Any]:
    """The elements of a 1-D array as a sequence of Python scalars, sharing its memory.

    ``cells(a)[i]`` reads a Python ``float``/``int``/``bool`` and ``cells(a)[i] = x``
    writes into ``a``, each several times faster than indexing ``a`` itself (no numpy
    scalar is made): for the per-event hot path, where stages touch one element at a
    time. Same values as ``a[i]``, so the simulation is unchanged.
    """
    if a.ndim != 1 or not a.flags.c_contiguous:
        raise ValueError("cells() needs a contiguous 1-D array (it writes through)")
    return memoryview(a)  # type: ignore[arg-type]  # numpy arrays are buffers


class IncidentLog(dict[str, np.ndarray]):
    """What the chain writes per incident during a run: one array per ``chain`` column.

    A plain dict underneath, so a stage's ``log[column][i] = t`` costs no Python call.
    """

    @classmethod
    def empty(cls, n: int, columns: Iterable[Column]) -> IncidentLog:
        log = cls()
        for c in columns:
            if c.source == "chain":
                log[c.name] = np.full(n, c.fill, dtype=c.dtype)
        return log


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
        sources: RowSources,
        columns: Iterable[Column],
        labels: dict[str, tuple[str, ...]],
    ) -> IncidentTable:
        """The table of one replication: every declared column, in order."""
        cols = {
            c.name: c.value(sources) if c.value is not None else sources.log[c.name]
            for c in columns
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

    def to_frame(self, categorical: bool = False) -> pd.DataFrame:
        """The table as a pandas DataFrame with readable labels.

        ``categorical``: the label columns (category, office, grid, node, channel, hotspot)
        as pandas categoricals over their labels (missing ones NaN) instead of strings: the
        same cells in a CSV, without building a string per row (a simulated year has
        880,000 rows).
        """
        import pandas as pd  # deferred: pandas loads only when a table is made

        c = self.columns
        df = pd.DataFrame(dict(c))
        for name, labels in (
            ("category", self.categories),
            ("office", self.offices),
            ("grid", self.grids),
            ("node", self.node_ids),
            ("channel", self.channels),
            ("hotspot", self.hotspots),
        ):
            codes = c[name]
            if categorical and len(set(labels)) == len(labels):
                missing_as_minus_one = np.maximum(codes, -1).astype(np.int64)
                df[name] = pd.Categorical.from_codes(missing_as_minus_one, pd.Index(labels))
            else:
                df[name] = _decode(labels, codes)
        return df


def _decode(labels: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    out = np.full(len(codes), "", dtype=object)
    ok = codes >= 0
    out[ok] = np.asarray(labels, dtype=object)[codes[ok]]
    return out


def _label_kwargs(labels: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    keys = ("categories", "offices", "grids", "node_ids", "channels", "hotspots")
    return {k: tuple(labels[k]) for k in keys}
