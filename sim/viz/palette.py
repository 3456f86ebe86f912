"""Colour rules shared by the PNG maps and the interactive report, free of matplotlib.

The compliance scale diverges around the target: red below it, pale at it, green above.
Its span never shrinks to the data: the low end is at least ten points under the target
(further only if a value is lower), the high end is 100%, so a spread of three points
reads as three points, not as pass and fail.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

# on-time share: red far below the target, pale at it, green above (the centre is index 3)
ON_TIME_COLORS = ("#a50f15", "#ef6548", "#fdd49e", "#f7f7d0", "#d3ecae", "#9fd18c", "#52a96a")
NO_DATA = "#d9d9d9"
MIN_SPAN = 0.10  # the scale reaches at least this far below the target


@dataclass(frozen=True)
class ComplianceScale:
    """A diverging scale from ``low`` through ``center`` (the target) to ``high``."""

    low: float
    center: float
    high: float = 1.0

    def position(self, value: float) -> float:
        """Where ``value`` sits on the colour ramp, 0 (low) … 0.5 (target) … 1 (high)."""
        v = min(max(value, self.low), self.high)
        if v <= self.center:
            return 0.5 * (v - self.low) / max(self.center - self.low, 1e-12)
        return 0.5 + 0.5 * (v - self.center) / max(self.high - self.center, 1e-12)

    def color(self, value: float | None) -> str:
        """The colour of a share (grey when there is none)."""
        if value is None or not math.isfinite(value):
            return NO_DATA
        return ramp(self.position(value))

    def stops(self) -> list[tuple[float, str]]:
        """The ramp as (position, colour) pairs, for a colour bar."""
        n = len(ON_TIME_COLORS) - 1
        return [(k / n, c) for k, c in enumerate(ON_TIME_COLORS)]

    def value_stops(self) -> list[tuple[float, str]]:
        """The ramp as (share, colour) pairs: the target at the middle colour."""
        n = len(ON_TIME_COLORS) - 1
        half = n // 2
        lows = [self.low + (self.center - self.low) * k / half for k in range(half)]
        highs = [
            self.center + (self.high - self.center) * k / (n - half) for k in range(n - half + 1)
        ]
        return list(zip([*lows, *highs], ON_TIME_COLORS, strict=True))

    def ticks(self) -> list[float]:
        """Shares to label on a colour bar: the ends, the target, whole tens between."""
        tens = [k / 10 for k in range(math.ceil(self.low * 10), 10)]
        out = sorted({self.low, self.center, self.high, *tens})
        return [t for t in out if abs(t - self.center) > 0.02 or t == self.center]


def compliance_scale(values: Iterable[float | None], target: float) -> ComplianceScale:
    """The scale for these shares around ``target`` (see the module docstring)."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    center = min(target, 1.0 - 1e-6)
    low = min(min(known, default=center), center - MIN_SPAN)
    vmin = max(0.0, math.floor(low * 20) / 20)
    return ComplianceScale(min(vmin, center - 0.01), center)


def ramp(position: float) -> str:
    """The colour at ``position`` (0…1) along :data:`ON_TIME_COLORS`, interpolated."""
    n = len(ON_TIME_COLORS) - 1
    x = min(max(position, 0.0), 1.0) * n
    k = min(int(x), n - 1)
    a, b = _rgb(ON_TIME_COLORS[k]), _rgb(ON_TIME_COLORS[k + 1])
    f = x - k
    return "#" + "".join(f"{round(p + (q - p) * f):02x}" for p, q in zip(a, b, strict=True))


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
