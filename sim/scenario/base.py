"""Building blocks of the scenario schema: the strict base model, clock times, shares."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationInfo,
)
from pydantic.config import JsonDict

from sim.roles import STAFF_ROLES
from sim.roles import Mode as Mode

# the city-management staff roles (split by staff.mix), from the one registry (sim/roles.py)
ROLES: tuple[str, ...] = STAFF_ROLES
Role = Literal["grid", "advisor", "enforcer"]  # = ROLES, spelled out for the type checker
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
# a shift written as one text: 07:00-15:00 (also with –, —, ~ or 至, and spaces)
_WINDOW_RE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–—~至]\s*(\d{1,2}:\d{2})\s*$")
# a label that is also a safe file name on every platform: letters (any script), digits,
# "_", "-" and "." inside, not starting with "." (no "..", no hidden names, no separators)
_NAME_RE = re.compile(r"^[^\W_][\w.-]{0,63}$")
_COORD = 1e8  # metres or projected units: larger than any city, finite in float32 sums
_SHARE_TOL = 1e-6


class _Model(BaseModel):
    # NaN and infinities are rejected at the field, with pydantic's "finite number" message
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def clock_minutes(text: str) -> float:
    """Parse ``HH:MM`` (00:00 to 24:00) into minutes after midnight."""
    m = _TIME_RE.match(text)
    if not m:
        raise ValueError(f"time must look like HH:MM, got {text!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h > 24 or (h == 24 and mi != 0):
        raise ValueError(f"time {text!r} is not between 00:00 and 24:00")
    return float(h * 60 + mi)


def _check_clock(v: object) -> str:
    if not isinstance(v, str):
        # YAML 1.1 reads an unquoted 10:00 as the base-60 number 600
        raise ValueError('write times as quoted "HH:MM" strings, e.g. "10:00"')
    clock_minutes(v)
    return v


def window_minutes(text: str) -> tuple[float, float] | None:
    """``"07:00-15:00"`` → ``(420.0, 900.0)``; ``None`` if ``text`` is not of that form.

    ``ValueError`` if it is, but a time is out of range or the window is empty.
    """
    m = _WINDOW_RE.match(text)
    if not m:
        return None
    start, end = m.group(1), m.group(2)
    _check_window(start, end)  # also checks both times
    return clock_minutes(start), clock_minutes(end)


def _check_window(start: str, end: str) -> None:
    if clock_minutes(start) % 1440 == clock_minutes(end) % 1440 and not (
        clock_minutes(start) == 0 and clock_minutes(end) == 1440
    ):
        raise ValueError("start and end are equal; use 00:00 to 24:00 for all day")


def _check_shares(shares: Mapping[str, float], what: str) -> None:
    total = sum(shares.values())
    if shares and not math.isclose(total, 1.0, abs_tol=_SHARE_TOL):
        raise ValueError(f"{what} must sum to 1, they sum to {total:.6g}")


# marks a field that names a file, read relative to the scenario's folder: tools that move a
# scenario (``sim fit`` writing one into its own folder) rewrite exactly these
FILE_FIELD: JsonDict = {"x-file": "relative to the scenario's folder"}


def resolve_path(base_dir: Path, path: str) -> Path:
    """Absolute path of a file a scenario names: ``~`` expanded, relative to ``base_dir``."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base_dir / p)


def base_dir_of(info: ValidationInfo) -> Path:
    """Folder of the scenario being validated (``scenario_from_dict`` passes it)."""
    context = info.context if isinstance(info.context, Mapping) else {}
    base = context.get("base_dir")
    return Path(base) if base is not None else Path.cwd()
