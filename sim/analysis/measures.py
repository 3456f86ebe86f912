"""The registry of measures: each measure declared once, read by everything that shows one.

A sweep stores one row of *run measures* per replication (:data:`RUN`; their dotted names
are the sweep's columns, in this order) and one row of *office measures* per street office
(:data:`OFFICE`). From the same entries the sweep summary gets its columns, the printed
sweep table its headers and number formats, the sweep plots their measures, titles and
axes, and the staffing optimiser its targets (:data:`TARGETS`), their words and whether
a target is a floor or a ceiling.

Adding a measure: compute it in :mod:`sim.analysis` (into the block of a replication's
measures it belongs to) and add one entry here. See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sim.analysis.metrics import ROLE_PLURAL

Unit = Literal["share", "minutes", "count", "people", "ratio", "hours", "yuan", "weeks", "number"]
Better = Literal["higher", "lower"]


@dataclass(frozen=True)
class Plot:
    """A measure a sweep plots by default: its place, file name and title."""

    order: int  # the first four make the sweep's overview.png
    file: str  # <file>.png in the sweep's plots/ folder
    title: str  # may name the deadlines: {adv} and {enf} minutes (rules)


@dataclass(frozen=True)
class Measure:
    """One measure: its name, its words, its unit and how a batch uses it."""

    name: str  # dotted: the sweep column, the key in a run's flat measures
    label: str  # words for tables, plot axes and messages
    unit: Unit  # a share in 0..1 prints as a percentage; the others as numbers
    better: Better | None = None  # which way is good; None: neither (a count, a size)
    target: bool = False  # the optimiser may target it (office measures only)
    plot: Plot | None = None  # plotted by default in a sweep
    table: int | None = None  # its column in the printed sweep table (in this order)
    short: str | None = None  # its header there (default: the label)
    deadline: str | None = None  # rules key of the deadline a time in minutes is held to
    color: str | None = None  # style colour (sim.viz.report.COLORS) when drawn alone
    aliases: tuple[str, ...] = ()  # older names of it in stored runs

    @property
    def header(self) -> str:
        return self.short or self.label

    @property
    def ceiling(self) -> bool:
        """Met from below (at most the target), like a black-flag probability."""
        return self.better == "lower"

    def read(self, measures: Mapping[str, Any]) -> Any:
        """Its value in a run's flat measures (older stored names too); None when absent."""
        for key in (self.name, *self.aliases):
            if key in measures:
                return measures[key]
        return None


def _registry(*measures: Measure) -> dict[str, Measure]:
    out = {m.name: m for m in measures}
    if len(out) != len(measures):
        raise ValueError("a measure is declared twice")
    return out


# what the load analysis (sim.analysis.metrics.role_load) says per role, as measures
_LOAD: tuple[tuple[str, str, Unit, Better | None], ...] = (
    ("offered_load_ratio", "offered load / capacity on shift", "ratio", "lower"),
    ("peak_ratio", "peak-hour load / capacity", "ratio", "lower"),
    ("hours_over", "hours of the day over capacity", "count", "lower"),
    ("unstable", "queue grows without bound (1 yes, 0 no)", "number", "lower"),
    ("overtime_unit_hours_per_day", "work past shift end (unit-hours per day)", "hours", "lower"),
)

RUN: dict[str, Measure] = _registry(
    Measure("double_ten", "double ten", "share", "higher", color="double_ten", table=2,
            plot=Plot(1, "double_ten", "Double ten: every clock met")),
    Measure("advisor_on_time", "advisor clock", "share", "higher", color="advisor", table=3,
            short="advisor",
            plot=Plot(2, "advisor_on_time", "Clock 1: advisor on scene within {adv:g} min")),
    Measure("enforcer_on_time", "enforcer clock", "share", "higher", color="enforcer", table=4,
            short="enforcers",
            plot=Plot(3, "enforcer_on_time",
                      "Clock 2: enforcers within {enf:g} min of failed persuasion")),
    Measure("worst_office.double_ten", "double ten in the worst street office", "share",
            "higher", table=6, short="worst office",
            plot=Plot(6, "worst_office_double_ten", "Double ten in the worst street office")),
    Measure("offices_on_target", "share of street offices on target", "share", "higher"),
    Measure("advisor_response_min.mean", "mean minutes to advisor on scene", "minutes", "lower",
            deadline="advisor_minutes", color="advisor", table=5, short="adv. mean min",
            plot=Plot(4, "advisor_response_mean",
                      "Mean time from instruction to advisor on scene")),
    *(Measure(f"advisor_response_min.{q}", f"{q} minutes to advisor on scene", "minutes",
              "lower", deadline="advisor_minutes", color="advisor") for q in ("p50", "p90", "p95")),
    Measure("enforcer_response_min.mean", "mean minutes to enforcers after failed persuasion",
            "minutes", "lower", deadline="enforcer_minutes", color="enforcer",
            plot=Plot(5, "enforcer_response_mean",
                      "Mean time from failed persuasion to enforcers")),
    *(Measure(f"enforcer_response_min.{q}", f"{q} minutes to enforcers after failed persuasion",
              "minutes", "lower", deadline="enforcer_minutes", color="enforcer")
      for q in ("p50", "p90", "p95")),
    Measure("utilization.advisor", "advisor utilisation (busy share on shift)", "share"),
    Measure("utilization.enforcer", "enforcer team utilisation (busy share on shift)", "share"),
    *(Measure(f"overload.{role}.{name}", f"{plural}: {words}", unit, better)
      for role, plural in ROLE_PLURAL.items() for name, words, unit, better in _LOAD),
    Measure("incidents", "instructions measured", "count"),
    Measure("escalated", "instructions escalated to enforcers", "count"),
    Measure("incidents_occurred", "problems that occurred", "count"),
    # the double-ten clocks start at the instruction: only these show problems left unfound
    Measure("discovery.never_found", "share of problems never found", "share", "lower",
            aliases=("never_found",)),
    Measure("discovery.report_delay_min", "mean minutes from problem to report", "minutes",
            "lower", aliases=("report_delay_min",)),
    # the enforcement chain's measures (None when it is off; sim.analysis.enforcement)
    Measure("enforcement.cases", "cases filed", "count"),
    Measure("enforcement.decisions", "penalty decisions", "count"),
    Measure("enforcement.fines_yuan", "fines decided (yuan)", "yuan"),
    Measure("enforcement.court_referrals", "court referrals", "count"),
    Measure("enforcement.rulings", "court rulings", "count"),
    Measure("enforcement.mediations", "mediations", "count"),
    Measure("enforcement.escalations", "escalations up the enforcement ladder", "count"),
    Measure("enforcement.police_support", "cases with police support", "count"),
    Measure("enforcement.police.calls", "police units called (violent resistance)", "count"),
    Measure("enforcement.police.wait_min", "mean minutes from police call to police on scene",
            "minutes", "lower"),
    Measure("enforcement.police.on_scene_within_target",
            "share of police calls answered within the target", "share", "higher"),
    Measure("enforcement.repeat_share", "share of incidents by repeat offenders", "share",
            "lower"),
    Measure("enforcement.offenders_active.start", "active offenders at the start", "count"),
    Measure("enforcement.offenders_active.end", "active offenders at the end", "count", "lower"),
    Measure("enforcement.campaign.weeks_to_5pct",
            "campaign weeks until hotspot incidents fall below 5% of the first week",
            "weeks", "lower"),
    Measure("enforcement.campaign.fines_yuan", "campaign fines (yuan)", "yuan"),
    Measure("enforcement.campaign.enforcer_hours", "campaign enforcer hours", "hours"),
    Measure("evaluation.max_black_flag", "largest black-flag probability of a street office",
            "share", "lower"),
    Measure("evaluation.months", "evaluated months", "count"),
    Measure("evaluation.score_spread", "spread of street office scores (points)", "number"),
    Measure("headcount.total", "total staff", "people", table=1, short="staff"),
    Measure("headcount.grid", "grid members", "people"),
    Measure("headcount.advisor", "advisors", "people"),
    Measure("headcount.enforcer", "enforcers", "people"),
    Measure("headcount.per_km2", "staff per km² (all roles)", "number"),
    Measure("area_km2", "area (km²)", "number"),
)  # fmt: skip
"""Measures of one run: the sweep's columns, in this order."""

OFFICE: dict[str, Measure] = _registry(
    Measure("incidents", "instructions measured", "count"),
    Measure("escalated", "instructions escalated to enforcers", "count"),
    Measure("double_ten", "double ten", "share", "higher", target=True),
    Measure("advisor_on_time", "advisor clock", "share", "higher", target=True),
    Measure("enforcer_on_time", "enforcer clock", "share", "higher", target=True),
    # share of evaluated months with a black flag; a ceiling
    Measure("black_flag", "black-flag probability", "share", "lower", target=True),
    # share of incidents caused by known offenders (0 with the enforcement chain off)
    Measure("repeat_share", "share by repeat offenders", "share", "lower", target=True),
    Measure("red_flag", "red-flag probability", "share", "higher"),
    Measure("evaluation_score", "evaluation score", "number", "higher"),
    Measure("evaluation_rank", "evaluation rank", "number", "lower"),
)  # fmt: skip
"""Measures of one street office in one run (``runs_by_office.csv``)."""

TARGETS: dict[str, Measure] = {m.name: m for m in OFFICE.values() if m.target}
"""What the staffing optimiser may target: office measures, each met in every office."""

DISCOVERY: tuple[Measure, ...] = tuple(m for m in RUN.values() if m.name.startswith("discovery."))
"""District measures the on-time targets say nothing about: problems left unfound."""


def group(prefix: str) -> list[Measure]:
    """The run measures under ``prefix.`` (e.g. ``overload``, ``enforcement``)."""
    return [m for m in RUN.values() if m.name.startswith(prefix + ".")]


def plotted() -> list[Measure]:
    """The run measures a sweep plots by default, in their plot order."""
    return sorted((m for m in RUN.values() if m.plot), key=lambda m: m.plot.order if m.plot else 0)


def tabled() -> list[Measure]:
    """The run measures of the printed sweep table, in column order."""
    return sorted((m for m in RUN.values() if m.table), key=lambda m: m.table or 0)


def unknown_target(name: str) -> str:
    """The problem line for a target that is not one (names the measures that are)."""
    return f"target {name}: unknown measure (use {', '.join(TARGETS)})"
