"""What the shift optimiser may plan and how sure it must be: its options and their checks.

:class:`ShiftOptions` are the options of :func:`sim.batch.shiftplan.optimize_shifts`
(each also a keyword, like :class:`~sim.batch.options.BatchOptions`); :func:`problems`
lists every problem with them and the scenario before anything is simulated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.batch.options import BatchFields
from sim.batch.shiftcover import FEW_KINDS
from sim.batch.shiftneed import METHODS, SHIFT_ROLES, Method
from sim.batch.shiftroster import shifts_key
from sim.scenario import Scenario


@dataclass(frozen=True, kw_only=True)
class ShiftOptions:
    """What the shift optimiser may plan and how sure it must be (:func:`optimize_shifts`).

    ``roles``: the dispatched roles to plan. ``starts``: allowed start hours (None: every
    hour); ``lengths``: allowed shift lengths in hours, at most ``longest``.
    ``night_cover``: units of each role on duty in every hour from 22:00 to 06:00 at least
    (None: one per street office). ``headcount``: ``"fewer"`` (at most today's) or
    ``"same"`` (today's, spread like the plan). ``max_kinds``: different shifts per role
    (per office with :func:`~sim.batch.shiftplan.optimize_shifts_by_office`; default
    :data:`~sim.batch.shiftcover.FEW_KINDS`, what a district can run; None: no limit).
    ``method``: ``lagged`` or ``sipp`` offered load. ``target``: on-time share per
    hour on each clock (None: ``rules.target``), met when the one-sided ``confidence``
    lower bound reaches it, from the batch's replications doubling up to
    ``max_replications`` while some hour is undecided. ``pilot_replications`` simulate
    the scenario as written for the need; ``max_rounds`` rounds of correction follow.
    """

    roles: Sequence[str] = SHIFT_ROLES
    starts: Sequence[int] | None = None
    lengths: Sequence[int] = (8, 10, 11, 12)
    longest: int | None = None
    night_cover: int | None = None
    headcount: str = "fewer"
    max_kinds: int | None = FEW_KINDS
    method: Method = "lagged"
    target: float | None = None
    confidence: float = 0.95
    pilot_replications: int = 2
    max_rounds: int = 12
    max_replications: int = 48

    @property
    def start_hours(self) -> list[int]:
        return sorted({int(h) for h in (range(24) if self.starts is None else self.starts)})

    @property
    def allowed_lengths(self) -> list[int]:
        return sorted({int(h) for h in self.lengths if self.longest is None or h <= self.longest})


class ShiftFields(BatchFields, total=False):
    """The fields of :class:`ShiftOptions` and :class:`BatchOptions` as keyword arguments."""

    roles: Sequence[str]
    starts: Sequence[int] | None
    lengths: Sequence[int]
    longest: int | None
    night_cover: int | None
    headcount: str
    max_kinds: int | None
    method: Method
    target: float | None
    confidence: float
    pilot_replications: int
    max_rounds: int
    max_replications: int


SHIFTS = ShiftOptions()
"""The shift optimiser's defaults."""

# ------------------------------------------------------------------- problems


def _option_problems(o: ShiftOptions, replications: int) -> list[tuple[tuple[str, ...], str]]:
    """(the arguments it names, problem) for each option out of its range."""
    checks: list[tuple[bool, tuple[str, ...], str]] = [
        *(
            (r not in SHIFT_ROLES, ("roles",),
             f"roles: {r!r} is not a dispatched role (use {', '.join(SHIFT_ROLES)})")
            for r in o.roles
        ),
        (o.method not in METHODS, ("method",), f"method: use one of {', '.join(METHODS)}"),
        (o.headcount not in ("fewer", "same"), ("headcount",), "headcount: use 'fewer' or 'same'"),
        (replications < 2, ("replications",),
         "replications: the optimiser needs at least 2 (it uses confidence bounds)"),
        (not 1 <= o.pilot_replications <= 100, ("pilot_replications",),
         "pilot_replications: from 1 to 100"),
        (not 0.5 <= o.confidence < 1, ("confidence",),
         "confidence: must be at least 0.5 and below 1"),
        (o.target is not None and not 0 < o.target <= 1, ("target",),
         "target: must be a share between 0 and 1"),
        (not replications <= o.max_replications <= 1000, ("max_replications", "replications"),
         "max_replications: at least replications and at most 1000"),
        (not 0 <= o.max_rounds <= 100, ("max_rounds",), "max_rounds: from 0 to 100"),
        (o.max_kinds is not None and not 1 <= o.max_kinds <= 100, ("max_kinds",),
         "max_kinds: from 1 to 100 different shifts"),
        (o.night_cover is not None and not 0 <= o.night_cover <= 100_000, ("night_cover",),
         "night_cover: from 0 to 100000 units"),
    ]  # fmt: skip
    out = [(names, line) for bad, names, line in checks if bad]
    for name, given, lo, hi in (
        ("starts", list(range(24) if o.starts is None else o.starts), 0, 23),
        ("lengths", list(o.lengths), 1, 23),
    ):
        out += [((name,), line) for line in _hours_in(given, lo, hi, name)]
    if o.longest is not None and not 1 <= o.longest <= 23:
        out.append((("longest",), "longest: hours from 1 to 23"))
    return out


def problems(
    scenario: Scenario, o: ShiftOptions, replications: int, by_office: bool
) -> list[tuple[tuple[str, ...], str]]:
    """Every problem with the options and the scenario, before anything is simulated."""
    out = _option_problems(o, replications)
    if by_office and scenario.staff.posts is not None:
        out.append(
            (("by_office",),
             "by_office: staff placed at explicit posts (staff.posts) have no density to plan by")
        )  # fmt: skip
    if by_office and shifts_key(scenario, "enforcer") != "staff.shifts.enforcer":
        out.append(
            (("by_office",),
             "by_office: the campaign's enforcer shifts (enforcement.campaign.enforcer_shifts) "
             "are district-wide; plan the campaign without by_office")
        )  # fmt: skip
    if not out and o.longest is not None and not o.allowed_lengths:
        out.append((("longest",), f"longest {o.longest}: no allowed length is that short"))
    return out


def _hours_in(values: Sequence[int], lo: int, hi: int, what: str) -> list[str]:
    """Problems with a list of whole hours that must lie in ``lo..hi``."""
    bad = [v for v in values if not isinstance(v, int | np.integer) or not lo <= int(v) <= hi]
    if bad or not values:
        return [f"{what}: whole hours from {lo} to {hi}, got {bad or 'none'}"]
    return []
