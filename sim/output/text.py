"""Plain text for the terminal and the ``.txt`` files: tables, shares, numbers, places.

Each is formatted one way here, so the printed summary of a run, the sweep table, the
staffing plan and the shift plan read alike. Nothing here draws: a terminal shows Chinese
names whatever fonts matplotlib has.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from typing import Any

DASH = "–"  # what a table shows where there is no value


def missing(value: Any) -> bool:
    """No value: ``None`` or NaN (pandas' empty cell)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(share: float | None, width: int = 0, digits: int = 1) -> str:
    """A share as a percentage, ``0.9512`` → ``95.1%`` (``width`` pads the number)."""
    if share is None or math.isnan(share):
        return DASH
    return f"{100 * share:{width}.{digits}f}%"


def num(value: float | None, digits: int = 1) -> str:
    """A number with thousands separators and ``digits`` decimals."""
    if value is None or math.isnan(value):
        return DASH
    return f"{value:,.{digits}f}"


def place_label(name: str, name_zh: str = "") -> str:
    """``Nanyanglu 南阳路街道``, or ``Nanyanglu`` without a Chinese name."""
    return f"{name} {name_zh}" if name_zh else name


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, align: str) -> str:
    fill = " " * (width - display_width(text))
    return text + fill if align == "l" else fill + text


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None
) -> str:
    """A plain monospace table; ``align`` has one of 'l'/'r' per column."""
    cells = [[str(h) for h in headers]] + [[DASH if v is None else str(v) for v in r] for r in rows]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)

    def fmt(r: list[str]) -> str:
        return "  ".join(_pad(c, w, a) for c, w, a in zip(r, widths, align, strict=True)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(cells[0]), sep, *(fmt(r) for r in cells[1:])])


def days_text(days: float) -> str:
    """``1 day``, ``7 days``, ``0.5 days``."""
    return f"{days:g} day{'' if days == 1 else 's'}"
