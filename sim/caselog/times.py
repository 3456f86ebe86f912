"""Times of a case log: many formats, one clock.

Every time becomes local wall-clock seconds since 1970-01-01 00:00 (an int64): the hour
of day and the weekday a planner sees. Times without a UTC offset are taken as local
already; times with one (``+08:00``, ``Z``) are converted into the log's zone
(``timezone``, an IANA name such as ``Asia/Shanghai``), or, without it, kept on their own
clock when every such row shares one offset. Rows whose offsets disagree and no zone to
bring them together are a problem, not a guess.

The format is found once, on a sample, from :data:`FORMATS` (the one that reads most of
the sample; ISO 8601 first), unless ``time_format`` names it (``strptime`` codes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FORMATS: tuple[str, ...] = (
    "ISO8601",
    "%m/%d/%y %H:%M",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H时%M分%S秒",
    "%Y年%m月%d日%H时%M分",
    "%Y%m%d%H%M%S",
    "%d.%m.%Y %H:%M",
)
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_FIRST, _LAST = pd.Timestamp("1980-01-01"), pd.Timestamp("2200-01-01")
EPOCH_SECONDS = 0  # wall-clock seconds are counted from 1970-01-01 00:00


@dataclass
class TimeReader:
    """Parses chunks of a time column with one format, found on the first chunk."""

    time_format: str | None = None
    timezone: str | None = None
    offsets: dict[str, int] = field(default_factory=dict)  # rows per UTC offset seen
    ambiguous: bool = False  # day/month order could not be told from the data

    def _choose(self, text: pd.Series) -> str:
        sample = text.dropna().head(2000)
        best, best_ok, oks = FORMATS[0], -1, {}
        for fmt in FORMATS:
            ok = int(_parse(sample, fmt).notna().sum())
            oks[fmt] = ok
            if ok > best_ok:
                best, best_ok = fmt, ok
        md, dm = oks["%m/%d/%Y %H:%M"], oks["%d/%m/%Y %H:%M"]
        self.ambiguous = best in ("%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M") and md == dm
        return best

    def read(self, values: pd.Series) -> np.ndarray:
        """Wall-clock seconds of each value, ``NaT`` ones as the int64 minimum."""
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            stamps = values
        elif pd.api.types.is_numeric_dtype(values.dtype):
            stamps = _excel_or_epoch(values)
        else:
            text = values.astype("string").str.strip()
            has_offset = text.str.contains(_OFFSET, na=False)
            if self.time_format is None:
                self.time_format = self._choose(text[~has_offset] if (~has_offset).any() else text)
            stamps = _parse(text.where(~has_offset), self.time_format)
            if has_offset.any():
                stamps = stamps.where(~has_offset, self._aware(text[has_offset]))
        stamps = pd.to_datetime(stamps, errors="coerce")
        stamps = stamps.where((stamps >= _FIRST) & (stamps < _LAST))
        secs = stamps.to_numpy(dtype="datetime64[s]").astype(np.int64)
        return np.where(stamps.isna().to_numpy(), np.iinfo(np.int64).min, secs)

    def _aware(self, text: pd.Series) -> pd.Series:
        """Local wall clock of times carrying a UTC offset."""
        fmt = "ISO8601" if self.time_format in (None, "ISO8601") else self.time_format
        utc = pd.to_datetime(text, format=fmt, utc=True, errors="coerce")
        offset_text = text.str.extract(r"(Z|[+-]\d{2}:?\d{2})$", expand=False)
        for off, n in offset_text.value_counts().items():
            text_off = str(off)
            key = "+00:00" if text_off == "Z" else f"{text_off[:3]}:{text_off[-2:]}"
            self.offsets[key] = self.offsets.get(key, 0) + int(n)
        if self.timezone is not None:
            local = utc.dt.tz_convert(self.timezone).dt.tz_localize(None)
        else:
            # one shared offset (checked once every chunk is read): its own clock
            minutes = offset_text.map(_offset_minutes)
            local = utc.dt.tz_localize(None) + pd.to_timedelta(minutes, unit="min")
        return pd.Series(local, index=text.index)

    def problems(self) -> list[str]:
        """What the times cannot be read as without being told more."""
        if self.timezone is None and len(self.offsets) > 1:
            seen = ", ".join(f"{k}: {v:,} rows" for k, v in sorted(self.offsets.items()))
            return [
                f"times carry different UTC offsets ({seen}); give the district's zone "
                "with --timezone (e.g. Asia/Shanghai) to put them on one clock"
            ]
        return []


def _offset_minutes(text: object) -> float:
    if not isinstance(text, str) or text == "Z":
        return 0.0
    sign = -1.0 if text[0] == "-" else 1.0
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4]))


def _parse(text: pd.Series, fmt: str) -> pd.Series:
    try:
        return pd.to_datetime(text, format=fmt, errors="coerce")
    except (ValueError, TypeError, OverflowError):
        return pd.Series(pd.NaT, index=text.index)


def _excel_or_epoch(values: pd.Series) -> pd.Series:
    """Numbers as times: Excel day serials, or Unix seconds or milliseconds."""
    v = pd.to_numeric(values, errors="coerce").astype(float)
    med = float(np.nanmedian(v)) if v.notna().any() else 0.0
    if 20_000 <= med <= 80_000:  # Excel serial days (1954 … 2119)
        return pd.to_datetime(v, unit="D", origin="1899-12-30", errors="coerce")
    if med > 1e11:
        return pd.to_datetime(v, unit="ms", errors="coerce")
    return pd.to_datetime(v, unit="s", errors="coerce")


def check_timezone(name: str) -> str | None:
    """A problem with a ``timezone`` option, or ``None``."""
    try:
        pd.Timestamp("2020-01-01", tz=name)
    except Exception:  # pytz/zoneinfo raise several kinds for unknown names
        return f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)"
    return None


def weekday(seconds: np.ndarray) -> np.ndarray:
    """Day of the week of wall-clock seconds, Monday 0 (1970-01-01 was a Thursday)."""
    out: np.ndarray = (seconds // 86400 + 3) % 7
    return out


def hour_of_day(seconds: np.ndarray) -> np.ndarray:
    out: np.ndarray = seconds % 86400 // 3600
    return out
