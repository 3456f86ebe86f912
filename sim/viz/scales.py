"""The colour and axis rules of every picture, written once for every renderer.

The PNGs (matplotlib) and the interactive report (HTML) draw with these rules, so this
module is pure Python: no matplotlib, no numpy. A renderer asks it for a scale's bounds,
ticks and colour stops (value → ``#rrggbb``, linear between stops) and draws them its way.

The rules, and why:

1. **Compliance colours** (on-time shares) diverge around the target on one *linear*
   scale: a percentage point is the same colour distance above and below the target.
   The scale runs from ``low`` (the lowest share shown, rounded down to 5 points, and at
   least :data:`MIN_BELOW_TARGET` under the target) to 100%, with a half-width of the
   larger of ``target − low`` and ``1 − target``. With a 95% target and grids down to
   85%, 100% is therefore a middling green: two points above the target look like two
   points, not like "pass" against "fail".
2. **Scores** (the monthly evaluation, points out of 100) diverge around the district's
   mean with a half-width of at least :data:`SCORE_HALF_SPAN` (10 points): scores a
   month moves by chance differ by pale shades, and only a gap of several points reads
   as red against green. The README's "within about 3 points, much of it luck" then
   looks like it.
3. **Flags are counts or probabilities**, never means per run: with one replication the
   number of months an office got the flag ("2 of 3 months"), with several the share of
   the office's months over all replications ("33% of 6 months") — :func:`flag_text`.
4. **Sample sizes are shown** beside every share, and a share from fewer than
   :data:`THIN_SAMPLE` cases is marked thin (a hollow mark): a line resting on a handful of
   escalations must not look as firm as one over thousands of instructions.
5. **Axes do not exaggerate.** A bar's length is its value, so bars (counts or shares)
   start at zero. Points and lines of shares may zoom in, but the axis ends at 100%,
   includes the target and spans at least :data:`MIN_SHARE_SPAN` (20 points), so a
   3-point spread never fills a plot (:func:`share_axis`). Counts start at zero.
6. **Time at the run's resolution.** Counts over time are per week when the run has at
   least :data:`MIN_WEEKS` whole weeks, per day when it has at least two whole days, and
   a total per series otherwise (:func:`time_bins`); a campaign band is clipped to the
   days simulated and says so when the campaign goes on past them (:func:`clip_band`).
7. **Legends list only what the picture shows** (no "below target" entry when nothing
   is below it); that rule is the renderer's to keep.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MIN_BELOW_TARGET = 0.10
"""A compliance scale reaches at least this far (10 points) under the target."""
SCORE_HALF_SPAN = 10.0
"""Least half-width of the score scale, in points out of 100."""
MIN_SHARE_SPAN = 0.20
"""Least span of a zoomed share axis: 20 percentage points."""
THIN_SAMPLE = 30
"""A share from fewer cases than this is drawn as thin (hollow)."""
MIN_WEEKS = 3
"""Whole weeks a run needs before counts over time are drawn per week."""

DIVERGING: tuple[str, ...] = (
    "#a50f15",
    "#ef6548",
    "#fdd49e",
    "#f7f7d0",
    "#d3ecae",
    "#9fd18c",
    "#52a96a",
)
"""Red (worse) → pale (the centre) → green (better), evenly spaced over a scale."""
THIN_COLOUR = "#ffffff"
"""Face of a thin mark: hollow."""


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255)


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(255 * min(max(c, 0.0), 1.0)):02x}" for c in rgb)


def palette_colour(position: float, palette: Sequence[str] = DIVERGING) -> str:
    """The colour at ``position`` (0–1, clipped) of a palette, linear in sRGB between its
    evenly spaced colours (as matplotlib's ``LinearSegmentedColormap.from_list``)."""
    p = min(max(position, 0.0), 1.0) * (len(palette) - 1)
    i = min(int(p), len(palette) - 2)
    a, b = _rgb(palette[i]), _rgb(palette[i + 1])
    f = p - i
    return _hex([x + (y - x) * f for x, y in zip(a, b, strict=True)])


@dataclass(frozen=True)
class Scale:
    """A diverging colour scale: values ``low``..``high`` shown, centred on ``centre``.

    A value's colour is the palette's at ``0.5 + (value − centre) / (2 · half_width)``:
    the same distance in value is the same distance in colour on both sides.
    """

    low: float
    high: float
    centre: float
    half_width: float
    ticks: tuple[float, ...]
    palette: tuple[str, ...] = DIVERGING

    def position(self, value: float) -> float:
        """Where ``value`` sits on the palette (0–1; 0.5 at the centre)."""
        return min(max(0.5 + (value - self.centre) / (2 * self.half_width), 0.0), 1.0)

    def colour(self, value: float) -> str:
        """``#rrggbb`` of ``value`` (clipped to the scale)."""
        return palette_colour(self.position(min(max(value, self.low), self.high)), self.palette)

    def stops(self) -> list[tuple[float, str]]:
        """``(value, colour)`` from ``low`` to ``high``: linear interpolation between them
        gives every colour of the scale (a colour bar, a CSS gradient, a JS scale)."""
        n = len(self.palette) - 1
        inner = [self.centre + (2 * k / n - 1) * self.half_width for k in range(n + 1)]
        values = [self.low, *(v for v in inner if self.low < v < self.high), self.high]
        return [(v, self.colour(v)) for v in values]


def _step(span: float, steps: Sequence[float], most: int) -> float:
    return next((s for s in steps if span / s <= most), steps[-1])


def nice_ticks(low: float, high: float, steps: Sequence[float], most: int = 7) -> list[float]:
    """Round ticks from ``low`` to ``high``: the smallest step of ``steps`` that gives at
    most ``most`` intervals."""
    step = _step(high - low, steps, most)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


SHARE_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25)
SCORE_STEPS = (1.0, 2.0, 5.0, 10.0, 20.0)


def compliance_scale(values: Iterable[float | None], target: float) -> Scale:
    """Rule 1: on-time shares coloured around ``target`` (shares 0–1), linear both sides."""
    known = [float(v) for v in values if v is not None and math.isfinite(v)]
    centre = min(float(target), 1.0 - 1e-6)
    low = min([*known, centre - MIN_BELOW_TARGET])
    low = max(0.0, math.floor(low * 20 + 1e-9) / 20)
    half = max(centre - low, 1.0 - centre)
    ticks = [t for t in nice_ticks(low, 1.0, SHARE_STEPS) if abs(t - centre) > 0.01]
    return Scale(low, 1.0, centre, half, tuple(sorted({*ticks, centre})))


def score_scale(values: Iterable[float]) -> Scale:
    """Rule 2: scores (points of 100) around their mean, at least ±``SCORE_HALF_SPAN``."""
    known = [float(v) for v in values if math.isfinite(v)]
    if not known:
        return Scale(0.0, 100.0, 50.0, 50.0, (0.0, 50.0, 100.0))
    centre = sum(known) / len(known)
    spread = max(abs(v - centre) for v in known)
    half = max(SCORE_HALF_SPAN, math.ceil(spread / 5) * 5)
    low, high = max(0.0, centre - half), min(100.0, centre + half)
    return Scale(low, high, centre, half, tuple(nice_ticks(low, high, SCORE_STEPS)))


def share_axis(
    values: Iterable[float | None], target: float | None = None, *, bars: bool = False
) -> tuple[float, float]:
    """Rule 5: the range (shares 0–1) of an axis of shares.

    Bars start at 0. Points and lines: from the lowest value or the target, rounded down
    to 5 points, at most ``1 − MIN_SHARE_SPAN``, to 100%.
    """
    if bars:
        return (0.0, 1.0)
    known = [float(v) for v in values if v is not None and math.isfinite(v)]
    if target is not None:
        known.append(float(target))
    low = min([*known, 1.0 - MIN_SHARE_SPAN])
    return (max(0.0, math.floor(low * 20 + 1e-9) / 20), 1.0)


def is_thin(n: float | None) -> bool:
    """Rule 4: a share from fewer than ``THIN_SAMPLE`` cases (or none) is thin."""
    return n is None or n < THIN_SAMPLE


def flag_text(count: int, replications: int, months: int, *, short: bool = False) -> str:
    """Rule 3: how often an office got a flag, as a count or a share of its months.

    ``count`` is the number of office-months with the flag over all replications;
    ``short`` leaves out what it is counted over (say it once, with :func:`flag_legend`).
    """
    if replications <= 1:
        return f"{count} of {months}" + ("" if short else f" month{'s' if months != 1 else ''}")
    share = f"{100 * count / (replications * months):.0f}%"
    return share if short else f"{share} of {replications * months} months"


def flag_legend(replications: int, months: int) -> str:
    """What :func:`flag_text` counts, for a legend or title."""
    if replications <= 1:
        return f"months with the flag, of {months}"
    return (
        f"share of the office's {replications * months} months "
        f"({replications} replications × {months}) with the flag"
    )


@dataclass(frozen=True)
class Bins:
    """How counts over time are grouped (rule 6)."""

    unit: str  # "week", "day" or "run" (one total)
    days: float  # days per bin (the run's length for "run")
    count: int  # whole bins in the run


def time_bins(days: float) -> Bins:
    """Rule 6: per week from ``MIN_WEEKS`` whole weeks, per day from 2 whole days, else
    one total over the run."""
    if days >= 7 * MIN_WEEKS:
        return Bins("week", 7.0, int(days // 7))
    if days >= 2:
        return Bins("day", 1.0, int(days // 1))
    return Bins("run", float(days), 1)


@dataclass(frozen=True)
class Band:
    """A period (days from the end of the warm-up) clipped to the days simulated."""

    start: float
    end: float
    starts_late: bool  # the period starts after the run ends: nothing to shade
    goes_on: bool  # the period goes on past the run's end


def clip_band(start: float, end: float, run_days: float) -> Band:
    """Rule 6: a campaign's days ``[start, end)`` within a run of ``run_days`` days."""
    lo, hi = max(0.0, start), min(end, run_days)
    return Band(lo, max(lo, hi), start >= run_days, end > run_days)
