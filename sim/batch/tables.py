"""A sweep's tables: one row per run (and per office, per hour), and means with 95% CIs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.measures import RUN
from sim.analysis.metrics import ci95_halfwidth
from sim.batch.variants import Variant
from sim.roles import CLOCKED_ROLES

if TYPE_CHECKING:
    import pandas as pd

ID_COLUMNS = ("variant", "replication", "seed")
# per-office and per-hour percentiles are not kept in a sweep's tables
_P90 = frozenset(f"{role}_p90_min" for role in CLOCKED_ROLES)


def _ordered(columns: Sequence[str], first: Sequence[str]) -> list[str]:
    rank = {c: i for i, c in enumerate(RUN)}
    rest = [c for c in columns if c not in first]
    return [*first, *sorted(rest, key=lambda c: (rank.get(c, len(rank)), c))]


def tables(
    items: Sequence[Variant], records: Sequence[Sequence[dict[str, Any]]]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One row per variant × replication; the same × street office; the same × hour."""
    import pandas as pd  # deferred: pandas loads only when a table is made

    keys = list(items[0].labels) if items else []
    rows, office_rows, hour_rows = [], [], []
    for v, recs in zip(items, records, strict=True):
        for rec in recs:
            ids = {
                "variant": v.index,
                **v.labels,
                "replication": rec["replication"],
                "seed": rec["seed"],
            }
            rows.append({**ids, **rec["measures"]})
            for o in rec["by_office"]:
                office_rows.append({**ids, **{k: val for k, val in o.items() if k not in _P90}})
            for h in rec.get("by_hour", []):
                hour_rows.append({**ids, **{k: val for k, val in h.items() if k not in _P90}})
    first = ["variant", *keys, "replication", "seed"]
    runs = pd.DataFrame(rows)
    runs = runs[_ordered(list(runs.columns), first)] if rows else pd.DataFrame(columns=first)
    by_office = pd.DataFrame(office_rows)
    by_hour = pd.DataFrame(hour_rows)
    for df in (runs, by_office, by_hour):
        df.attrs["vary"] = keys
    return runs, by_office, by_hour


def summarize(runs: pd.DataFrame, keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean and 95% CI half-width (t over replications) of every measure, per variant.

    Columns: the variant, the varied keys, ``replications``, then ``<measure>`` and
    ``<measure>.ci95`` for every measure.
    """
    import pandas as pd  # deferred: pandas loads only when a table is made

    keys = list(keys if keys is not None else runs.attrs.get("vary", []))
    group = (["variant"] if "variant" in runs.columns else []) + keys
    skip = set(group) | set(ID_COLUMNS)
    measures = [c for c in runs.columns if c not in skip and pd.api.types.is_numeric_dtype(runs[c])]
    rows = []
    grouped = runs.groupby(group, sort=False, dropna=False) if group else [((), runs)]
    for gkey, part in grouped:
        gvals = gkey if isinstance(gkey, tuple) else (gkey,)
        row: dict[str, Any] = dict(zip(group, gvals, strict=True))
        row["replications"] = len(part)
        for m in measures:
            vals = [float(x) for x in part[m] if pd.notna(x)]
            row[m] = float(np.mean(vals)) if vals else None
            row[f"{m}.ci95"] = ci95_halfwidth(list(vals))
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["vary"] = keys
    return out
