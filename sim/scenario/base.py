"""Building blocks of the scenario schema: the strict base model, models with one field per
role of the registry, clock times, shares, and problems as one line each."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    create_model,
)
from pydantic.config import JsonDict

from sim.roles import REGISTRY, STAFF_ROLES, RoleInfo
from sim.roles import Mode as Mode

# the city-management staff roles (split by staff.mix), from the one registry (sim/roles.py)
ROLES: tuple[str, ...] = STAFF_ROLES
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


M = TypeVar("M", bound=_Model)
FieldOf = Callable[[RoleInfo], tuple[Any, Any] | None]


def per_role(
    name: str,
    base: type[M],
    field: FieldOf,
    doc: str | None = None,
    *,
    key: Callable[[RoleInfo], str] = lambda r: r.name,
    after: Mapping[str, tuple[Any, Any]] | None = None,
) -> type[M]:
    """A schema model with a field for each role of the registry that ``field`` gives one
    (its type and default or ``Field``), named ``key(role)``, then the fields ``after``.

    The per-role parts of the schema are built this way, so a role added to the registry
    (:mod:`sim.roles`) has its keys, defaults and bounds without an edit here; ``base``
    holds the model's validators and the typed accessors code reads them by.
    """
    fields = {key(r): f for r in REGISTRY if (f := field(r)) is not None}
    return create_model(  # type: ignore[call-overload, no-any-return]
        name, __base__=base, __module__=base.__module__, __doc__=doc, **fields, **(after or {})
    )


def clock_minutes(text: str) -> float:
    """Parse ``HH:MM`` (00:00 to 24:00) into minutes after midnight."""
    m = _TIME_RE.match(text)
    if not m:
        raise ValueError(f"time must look like HH:MM, got {text!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h > 24 or (h == 24 and mi != 0):
        raise ValueError(f"time {text!r} is not between 00:00 and 24:00")
    return float(h * 60 + mi)


def hour_ranges(hours: Sequence[int]) -> str:
    """``[7, 8, 9, 22, 23, 0]`` → ``"22:00–01:00, 07:00–10:00"``; all 24 → ``"every hour"``.

    Runs of consecutive hours are joined, also across midnight (the words of warnings and
    load notes that name hours of the day).
    """
    hs = sorted(set(hours))
    if len(hs) == 24:
        return "every hour"
    runs: list[list[int]] = []
    for h in hs:
        if runs and runs[-1][-1] == h - 1:
            runs[-1].append(h)
        else:
            runs.append([h])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 23:  # wraps past midnight
        runs = [*runs[1:-1], runs[-1] + runs[0]]
    return ", ".join(
        f"{r[0]:02d}:00–{(r[-1] + 1) % 24 if r[-1] + 1 < 24 else 24:02d}:00" for r in runs
    )


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


# ---------------------------------------------------------------- problems, one line each


def _loc(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(scenario)"


def _describe(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


# tags of tagged unions, which pydantic puts in error paths but are no scenario keys:
# the distributions' anywhere, map.offices' only after "offices" (``geojson`` is a key too)
_UNION_TAGS = ("fixed", "exponential", "lognormal", "uniform")
_OFFICES_TAGS = ("geojson", "extract")


def _key_path(loc: Sequence[int | str]) -> list[int | str]:
    """An error's location without the union tags in it."""
    return [
        p
        for i, p in enumerate(loc)
        if p not in _UNION_TAGS and not (p in _OFFICES_TAGS and i and loc[i - 1] == "offices")
    ]


# a check of the whole scenario names the field it is about at the start of its message
_NAMES_ITS_FIELD = re.compile(r"^[a-z_]+(\.[\w\[\]]+)+: ")


def problems_from(exc: ValidationError) -> list[str]:
    """One ``path: message`` line per pydantic error."""
    lines = []
    for err in exc.errors():
        loc = _key_path(err["loc"])
        # a check may find several problems at one place (a file's features): a line each
        lines += [
            msg if not loc and _NAMES_ITS_FIELD.match(msg) else f"{_loc(loc)}: {msg}"
            for msg in _describe(err).split("\n")
        ]
    return lines


def base_dir_of(info: ValidationInfo) -> Path:
    """Folder of the scenario being validated (``scenario_from_dict`` passes it)."""
    context = info.context if isinstance(info.context, Mapping) else {}
    base = context.get("base_dir")
    return Path(base) if base is not None else Path.cwd()
