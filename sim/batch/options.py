"""The options every batch shares: how many runs, how long, where they run and are kept.

Sweeps (:func:`sim.batch.sweeps.run_sweep`), the staffing optimiser
(:func:`sim.batch.staffing.optimize_plan`) and the shift optimiser
(:func:`sim.batch.shiftplan.optimize_shifts`) take a :class:`BatchOptions`, or its
fields as keywords (``replications=5, workers=1``), which replace those of the
function's defaults (:data:`SWEEP` or :data:`OPTIMIZE`). The command line reads its
defaults from here too, so each default is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack

from sim.errors import ArgumentError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True, kw_only=True)
class BatchOptions:
    """How a batch of runs is run and where its runs are kept."""

    replications: int = 5  # per variant or plan; replication k of each uses the same streams
    days: float | None = None  # simulated days after warm-up (None: the scenario's)
    seed: int | None = None  # None: the scenario's
    out: str | Path | None = None  # folder for stored runs and results; rerun to resume
    workers: int | None = None  # local worker processes (None: all cores; 1: this process)
    scheduler: str | None = None  # tcp://host:port of a Dask scheduler, instead of workers
    progress: bool = False  # show progress bars
    force: bool = False  # write into ``out`` even if it holds files this tool did not write

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise ArgumentError(
                [
                    f"workers {self.workers}: the number of local worker processes is at "
                    "least 1 (1: in this process); leave it out to use all cores"
                ],
                ["workers"],
            )

    def but(self, **changes: Unpack[BatchFields]) -> BatchOptions:
        """These options with some fields replaced."""
        return replace(self, **changes) if changes else self


class BatchFields(TypedDict, total=False):
    """The fields of :class:`BatchOptions` as keyword arguments (names only, no defaults)."""

    replications: int
    days: float | None
    seed: int | None
    out: str | Path | None
    workers: int | None
    scheduler: str | None
    progress: bool
    force: bool


SWEEP = BatchOptions()
"""A sweep's defaults: 5 replications per variant."""

OPTIMIZE = BatchOptions(replications=10)
"""The optimisers' defaults: 10 replications per plan (their bounds need several)."""


Own = TypeVar("Own", bound="DataclassInstance")


def split(own: Own, batch: BatchOptions, options: Mapping[str, Any]) -> tuple[Own, BatchOptions]:
    """Keyword ``options`` put in place: those naming a field of ``own`` (a frozen dataclass
    of a command's own options) into it, the rest into ``batch``."""
    names = {f.name for f in fields(own)}
    mine = {k: v for k, v in options.items() if k in names}
    rest: Any = {k: v for k, v in options.items() if k not in names}
    return (replace(own, **mine) if mine else own), batch.but(**rest)
