"""The compliance colour scale of the interactive report, free of matplotlib.

On-time shares diverge around the target on one *linear* scale: a percentage point is
the same colour distance above and below the target. The scale runs from ``low`` (the
lowest share shown, rounded down to 5 points, and at least ten points under the target)
to 100%, with a half-width of the larger of ``target − low`` and ``1 − target``, so a
3-point spread reads as three points, not as pass against fail.

This is issue 20's rule 1 (``sim/viz/scales.py`` on its branch), with the same names;
when that module lands on main the report imports it instead and this one goes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MIN_BELOW_TARGET = 0.10
DIVERGING: tuple[str, ...] = (
    "#a50f15", "#ef6548", "#fdd49e", "#f7f7d0", "#d3ecae", "#9fd18c", "#52a96a",
)  # fmt: skip
"""Red (worse) → pale (the centre) → green (better), evenly spaced over a scale."""
NO_DATA = "#d9d9d9"


def _rgb(colour: str) -> tuple[float, float, float]:
    h = colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255)


def palette_colour(position: float, palette: Sequence[str] = DIVERGING) -> str:
    """The colour at ``position`` (0–1, clipped), linear in sRGB between the colours."""
    p = min(max(position, 0.0), 1.0) * (len(palette) - 1)
    i = min(int(p), len(palette) - 2)
    a, b = _rgb(palette[i]), _rgb(palette[i + 1])
    f = p - i
    return "#" + "".join(f"{round(255 * (x + (y - x) * f)):02x}" for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class Scale:
    """A diverging scale: values ``low``..``high`` shown, centred on ``centre``."""

    low: float
    high: float
    centre: float
    half_width: float
    ticks: tuple[float, ...]

    def position(self, value: float) -> float:
        """Where ``value`` sits on the palette (0–1; 0.5 at the centre)."""
        return min(max(0.5 + (value - self.centre) / (2 * self.half_width), 0.0), 1.0)

    def colour(self, value: float | None) -> str:
        """``#rrggbb`` of ``value`` (clipped to the scale; grey when there is none)."""
        if value is None or not math.isfinite(value):
            return NO_DATA
        return palette_colour(self.position(min(max(value, self.low), self.high)))

    def stops(self) -> list[tuple[float, str]]:
        """``(value, colour)`` from ``low`` to ``high``, linear between them."""
        n = len(DIVERGING) - 1
        inner = [self.centre + (2 * k / n - 1) * self.half_width for k in range(n + 1)]
        values = [self.low, *(v for v in inner if self.low < v < self.high), self.high]
        return [(v, self.colour(v)) for v in values]


def compliance_scale(values: Iterable[float | None], target: float) -> Scale:
    """On-time shares coloured around ``target`` (shares 0–1), linear both sides."""
    known = [float(v) for v in values if v is not None and math.isfinite(v)]
    centre = min(float(target), 1.0 - 1e-6)
    low = min([*known, centre - MIN_BELOW_TARGET])
    low = max(0.0, math.floor(low * 20 + 1e-9) / 20)
    half = max(centre - low, 1.0 - centre)
    tens = [k / 20 for k in range(math.ceil(low * 20 - 1e-9), 21)]
    ticks = [t for t in tens if abs(t - centre) > 0.01]
    return Scale(low, 1.0, centre, half, tuple(sorted({*ticks, centre})))
