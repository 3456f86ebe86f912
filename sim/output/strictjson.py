"""JSON as every results file writes it: stable, readable, UTF-8 and strict."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["dumps", "jsonable"]


def dumps(data: Any) -> str:
    """JSON as written everywhere in results: stable, readable, UTF-8 and strict.

    Strict means what every JSON reader accepts: a measure that is undefined (NaN) or
    unbounded is written as ``null``, never as ``NaN`` or ``Infinity``.
    """
    return json.dumps(jsonable(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def jsonable(x: Any) -> Any:
    """Plain JSON data: numpy scalars as Python numbers, non-finite floats as ``None``."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
