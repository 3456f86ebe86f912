"""The table ``python -m sim sweep`` prints: the registry's table measures per variant."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sim.analysis import measures as registry
from sim.output.text import format_table, missing, num, pct
from sim.roles import BY_NAME, CLOCKED_ROLES

if TYPE_CHECKING:
    import pandas as pd


def sweep_table(summary: pd.DataFrame, keys: Sequence[str]) -> str:
    """The table ``python -m sim sweep`` prints: per variant (a row of the sweep's summary),
    the varied keys, the registry's table measures and the load in words."""

    def cell(m: registry.Measure, row: Any) -> str:
        v, ci = row.get(m.name), row.get(f"{m.name}.ci95")
        if m.unit == "share":
            return pct(v) + ("" if missing(v) or missing(ci) else f" ± {100 * ci:.1f}")
        text = num(v)
        return text.removesuffix(".0") if m.unit in ("people", "count") else text

    shown = registry.tabled()
    headers = [*keys, *(m.header for m in shown), "load"]
    rows = [
        [*(row[k] for k in keys), *(cell(m, row) for m in shown), load_note(row)]
        for row in summary.to_dict("records")
    ]
    return format_table(headers, rows, align="l" * len(keys) + "r" * len(shown) + "l")


def load_note(row: Mapping[Any, Any]) -> str:
    """Words for a variant's load: which roles are overloaded, or over capacity at peaks.

    ``row`` is a row of :func:`summarize`: means over replications, so ``unstable`` is
    the share of replications in which the role's queue grew without bound.
    """

    def get(key: str) -> float | None:
        v = row.get(key)
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    notes = []
    runs = int(row.get("replications") or 1)
    for role, name in ((r, BY_NAME[r].plural) for r in CLOCKED_ROLES):
        unstable = get(f"overload.{role}.unstable")
        ratio = get(f"overload.{role}.offered_load_ratio")
        peak = get(f"overload.{role}.peak_ratio")
        if unstable is None:
            continue
        of = "no unit on shift" if ratio is None else f"offered load {ratio:.2f} of capacity"
        if unstable >= 0.5:
            notes.append(f"{name} overloaded: {of}")
        elif unstable > 0:
            notes.append(f"{name} overloaded in {round(unstable * runs)} of {runs} runs: {of}")
        elif peak is not None and peak >= 1:
            notes.append(f"{name} over capacity at peak hours (up to {peak:.2f})")
    return "; ".join(notes)
