"""Read a case log into a :class:`~sim.caselog.log.CaseLog`, every left-out row counted.

Rows are checked in the order of :data:`~sim.caselog.log.REASONS`: a line the reader
could not split, a time it cannot read, no usable coordinates (missing, not numbers,
0/0 or off the globe), no category, a category the scenario does not map, and a second
copy of a case (the same case id, or without ids the same time, place and category).
Whether a row lies on the map is decided where the map is known
(:func:`sim.world.snap.snap_log`), and whether it lies in the fitted window by the fit.
A run's own ``incidents.csv`` is recognised by its columns and read with no options: its
``occurred`` minutes are placed from :data:`~sim.caselog.log.OWN_EPOCH_SECONDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.caselog.columns import Columns, find_columns
from sim.caselog.coords import GEOGRAPHIC, MAP, Projector
from sim.caselog.errors import LogError
from sim.caselog.labels import CHANNELS, LabelMap, category_map, channel_map
from sim.caselog.log import OWN_EPOCH_SECONDS, CaseLog, RowCounts
from sim.caselog.options import LogOptions, Target
from sim.caselog.read import Malformed, Opened, chunks, open_log
from sim.caselog.times import TimeReader

OWN_COLUMNS = frozenset({"replication", "incident", "occurred", "category", "node"})
_NO_TIME = np.iinfo(np.int64).min

ProgressFn = Callable[[int], None]
RowsCheck = Callable[[int, str], None]  # (estimated rows, file name): refuse what won't fit


@dataclass
class _Parts:
    """Arrays of the kept rows, chunk by chunk."""

    cols: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, **arrays: np.ndarray) -> None:
        for k, v in arrays.items():
            self.cols.setdefault(k, []).append(v)

    def get(self, key: str, dtype: type) -> np.ndarray:
        parts = self.cols.get(key)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


@dataclass
class _Reading:
    """The state of one read: columns chosen, label maps, the clock, counts."""

    opened: Opened
    columns: Columns
    own: bool
    use_lonlat: bool
    crs: str
    categories: LabelMap
    channels: LabelMap
    clock: TimeReader
    project: Projector
    rows: RowCounts = field(default_factory=RowCounts)
    parts: _Parts = field(default_factory=_Parts)


def read_log(
    path: Path,
    options: LogOptions,
    target: Target,
    *,
    check_rows: RowsCheck | None = None,
    progress: ProgressFn | None = None,
) -> CaseLog:
    """Read, clean and place the log at ``path`` (map metres of ``target.map_crs``).

    Raises :class:`LogError` (one line per problem) when the log cannot be read or no
    row is left. ``check_rows`` is given the estimated number of rows before any is
    read, to refuse a log too big for memory (:func:`sim.budget.check_log`).
    """
    problems = options.problems()
    if problems:
        raise LogError(problems)
    opened = open_log(path, options.encoding)
    reading = _start(opened, options, target)
    if check_rows is not None:
        check_rows(max(opened.rows_estimate, 1), opened.path.name)
    wanted = sorted(set(reading.columns.names.values()) | _own_extra(reading))
    bad = Malformed()
    for chunk in chunks(opened, wanted, options.chunk_rows, bad):
        _clean_chunk(reading, chunk)
        if progress is not None:
            progress(len(chunk))
    reading.rows.read += bad.lines
    reading.rows.drop("malformed line", bad.lines)
    problems = reading.clock.problems()
    if problems:
        raise LogError(problems)
    log = _assemble(reading)
    if log.n == 0:
        raise LogError(no_rows_left(log))
    return log


def _own_extra(reading: _Reading) -> set[str]:
    return {"replication", "incident", "node", "hotspot"} if reading.own else set()


def _start(opened: Opened, options: LogOptions, target: Target) -> _Reading:
    own = set(opened.header) >= OWN_COLUMNS and not options.columns
    given = dict(options.columns)
    if own:
        given = {"time": "occurred", "category": "category"}
        given |= {
            k: k for k in ("channel", "lon", "lat", "x", "y", "offender") if k in opened.header
        }
    columns, problems = find_columns(list(opened.header), given)
    categories = category_map(target.categories, target.categories_zh, dict(options.categories))
    channels = channel_map(dict(options.channels))
    problems += categories.problems("categories") + channels.problems("channels")
    use_lonlat, crs, more = _coordinates(columns, options.crs, target.map_crs, own)
    problems += more
    if problems:
        raise LogError([f"{opened.path.name}: {p}" for p in problems])
    clock = TimeReader(options.time_format, options.timezone)
    return _Reading(
        opened,
        columns,
        own,
        use_lonlat,
        crs,
        categories,
        channels,
        clock,
        Projector(target.map_crs),
    )


def _coordinates(
    columns: Columns, crs: str | None, map_crs: str | None, own: bool
) -> tuple[bool, str, list[str]]:
    """Whether to read lon/lat (else x/y), in which system, and any problem."""
    if crs is not None:
        use_lonlat = crs in GEOGRAPHIC
    else:
        use_lonlat = columns.has_lonlat and (map_crs is not None or not columns.has_xy)
        crs = "wgs84" if use_lonlat else MAP
    if own and columns.has_xy and map_crs is None:
        use_lonlat, crs = False, MAP
    need = ("lon", "lat") if use_lonlat else ("x", "y")
    problems = []
    missing = [c for c in need if columns.get(c) is None]
    if missing:
        problems.append(f"coordinates: no {'/'.join(missing)} column for crs {crs}")
    elif (use_lonlat or crs != MAP) and map_crs is None:
        problems.append(
            f"coordinates: the log gives {'lon/lat' if use_lonlat else crs} but the map has no "
            "coordinate system; give x/y in the map's metres (crs map)"
        )
    return use_lonlat, crs, problems


def _clean_chunk(r: _Reading, chunk: pd.DataFrame) -> None:
    n = len(chunk)
    r.rows.read += n
    cols = r.columns
    secs = _times(r, chunk[cols.names["time"]])
    ok = np.isfinite(secs)
    r.rows.drop("unparseable time", int((~ok).sum()))
    a, b = ("lon", "lat") if r.use_lonlat else ("x", "y")
    u = pd.to_numeric(chunk[cols.names[a]], errors="coerce").to_numpy(float)
    v = pd.to_numeric(chunk[cols.names[b]], errors="coerce").to_numpy(float)
    placed = np.isfinite(u) & np.isfinite(v)
    if r.use_lonlat:  # 0/0 is how many exports write "no place"
        placed &= (np.abs(u) <= 180) & (np.abs(v) <= 90) & ~((u == 0) & (v == 0))
    r.rows.drop("no coordinates", int((ok & ~placed).sum()))
    ok &= placed
    cat = r.categories.codes(chunk[cols.names["category"]].where(ok))
    r.rows.drop("no category", int((ok & (cat == -2)).sum()))
    r.rows.drop("unmapped category", int((ok & (cat == -1)).sum()))
    ok &= cat >= 0
    if r.use_lonlat:
        x, y = r.project.lonlat(u[ok], v[ok], r.crs)
    else:
        x, y = r.project.projected(u[ok], v[ok], r.crs)
    channel = (
        r.channels.codes(chunk[cols.names["channel"]][ok]).clip(-1).astype(np.int8)
        if "channel" in cols.names
        else np.full(int(ok.sum()), -1, dtype=np.int8)
    )
    r.parts.add(seconds=secs[ok], x=x, y=y, category=cat[ok], channel=channel)
    r.parts.add(key=_keys(r, chunk, ok, pd.DataFrame({"t": secs, "u": u, "v": v, "c": cat})))
    if "offender" in cols.names:
        r.parts.add(offender=_parties(chunk[cols.names["offender"]], r.own)[ok])
    if r.own:
        seg = pd.to_numeric(chunk["replication"], errors="coerce").fillna(0).to_numpy(np.int64)
        r.parts.add(segment=seg[ok].astype(np.int32))
        r.parts.add(node=chunk["node"].astype(str).to_numpy(dtype=object)[ok])
        r.parts.add(hotspot=chunk["hotspot"].fillna("").astype(str).to_numpy(dtype=object)[ok])


def _times(r: _Reading, values: pd.Series) -> np.ndarray:
    """Seconds from the log's origin (NaN: unreadable); a run's own log counts minutes."""
    if r.own:
        minutes = pd.to_numeric(values, errors="coerce").to_numpy(float)
        out: np.ndarray = np.where(np.isfinite(minutes), minutes * 60.0, np.nan)
        return out
    secs = r.clock.read(values)
    return np.where(secs == _NO_TIME, np.nan, secs.astype(float))


def _parties(values: pd.Series, own: bool) -> np.ndarray:
    """Who each case is against, as text ("" where the log names nobody; a run's own log
    writes -1 for a one-off)."""
    text = values.astype("string").str.strip().fillna("")
    if own:
        text = text.mask(text == "-1", "")
    out: np.ndarray = text.to_numpy(dtype=object)
    return out


def _keys(r: _Reading, chunk: pd.DataFrame, ok: np.ndarray, parsed: pd.DataFrame) -> np.ndarray:
    """A hash per kept row that two copies of one case share: its case id, or without ids
    its ``parsed`` time, place and category."""
    if r.own:
        keys = pd.util.hash_pandas_object(chunk[["replication", "incident"]], index=False)
        own: np.ndarray = keys.to_numpy(np.uint64)[ok]
        return own
    ident = r.columns.get("id")
    if ident is not None:
        ids = chunk[ident].astype("string").str.strip()
        hashed: np.ndarray = pd.util.hash_array(ids.fillna("").to_numpy(dtype=object))[ok]
        return hashed
    content: np.ndarray = pd.util.hash_pandas_object(parsed[ok], index=False).to_numpy(np.uint64)
    return content


def _assemble(r: _Reading) -> CaseLog:
    p = r.parts
    seconds = p.get("seconds", float)
    n = len(seconds)
    log = CaseLog(
        seconds=seconds,
        origin=OWN_EPOCH_SECONDS if r.own else 0,
        x=p.get("x", float),
        y=p.get("y", float),
        category=p.get("category", np.int16),
        channel=p.get("channel", np.int8),
        segment=p.get("segment", np.int32) if r.own else np.zeros(n, dtype=np.int32),
        categories=r.categories.names,
        channels=CHANNELS,
        rows=r.rows,
        columns=r.columns,
        kind="run" if r.own else r.opened.kind,
        has_channel="channel" in r.columns.names,
        unmapped_categories=r.categories.unmapped,
        unmapped_channels=r.channels.unmapped,
        unlisted_categories=frozenset(r.categories.unlisted),
        node_ids=p.get("node", object) if r.own else None,
        hotspot_names=p.get("hotspot", object) if r.own else None,
        offender=p.get("offender", object) if "offender" in r.columns.names else None,
        notes=_notes(r),
    )
    _, first = np.unique(p.get("key", np.uint64), return_index=True)
    keep = np.zeros(n, dtype=bool)
    keep[first] = True
    return log.select(keep, "duplicate") if not keep.all() else log


def _notes(r: _Reading) -> tuple[str, ...]:
    notes = [f"columns: {r.columns.describe()}"]
    if r.clock.time_format and r.clock.time_format != "ISO8601":
        notes.append(f"times read as {r.clock.time_format}")
    if r.clock.ambiguous:
        notes.append(
            "dates such as 01/02 could be month/day or day/month; read as month/day "
            "(give --time-format to say otherwise)"
        )
    return tuple(notes)


def no_rows_left(log: CaseLog, details: dict[str, str] | None = None) -> list[str]:
    """The lines of the problem "nothing usable is left": what became of every row."""
    details = dict(details or {})
    if log.unmapped_categories and "unmapped category" not in details:
        hint = "; map them with --categories" if log.unlisted_categories else ""
        details["unmapped category"] = top_values(log.unmapped_categories) + hint
    head = f"no usable row: {log.rows.read:,} read, every one left out"
    if log.rows.read == 0:
        head = "no rows: the log has a header but nothing under it"
    return [head, *log.rows.lines(details)]


def top_values(counts: dict[str, int], n: int = 6) -> str:
    """``"Graffiti 476, Sewer Issues 177, …"``: the most frequent values with counts."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {v:,}" for k, v in items[:n])
    return text + (f", … ({len(items) - n} more)" if len(items) > n else "")
