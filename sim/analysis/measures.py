"""The registry of measures: each measure declared once, read by everything that shows one.

A sweep stores one row of *run measures* per replication (:data:`RUN`; their dotted names
are the sweep's columns, in this order) and one row of *office measures* per street office
(:data:`OFFICE`). From the same entries the sweep summary gets its columns, the printed
sweep table its headers and number formats, the sweep plots their measures, titles and
axes, the staffing optimiser its targets (:data:`TARGETS`), their words and whether a
target is a floor or a ceiling, and the printed summary of one run (``python -m sim run``)
its headline rows and lines, the street-office columns and the enforcement table
(:class:`Summary`, :func:`summarized`).

Adding a measure: compute it in :mod:`sim.analysis` (into the block of a replication's
measures it belongs to) and add one entry here. See docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from sim.roles import BY_NAME, CLOCKED_ROLES, STAFF_ROLES, Clock

Part = Literal["staff", "clocks", "lines", "offices", "enforcement"]
Unit = Literal["share", "minutes", "count", "people", "ratio", "hours", "yuan", "weeks", "number"]
Better = Literal["higher", "lower"]
WHOLE_UNITS: tuple[Unit, ...] = ("count", "people")
"""Units of whole numbers: one replication's value of such a measure is whole."""


@dataclass(frozen=True)
class Plot:
    """A measure a sweep plots by default: its place, file name and title."""

    order: int  # the first four make the sweep's overview.png
    file: str  # <file>.png in the sweep's plots/ folder
    title: str  # may name a clock's deadline in minutes by its role: {advisor} (deadlines())


@dataclass(frozen=True)
class Summary:
    """Where the printed summary of one run shows a measure (:mod:`sim.viz.report`).

    The parts: ``staff`` the people of each role on the staff line ("453 grid members");
    ``clocks`` a row of the clocks table, whose further columns (mean min, p90 min,
    count) are the measures named in ``cells``; ``lines`` a line under that table,
    "words: value ± CI" or, for measures of one role each that share their order and
    words, one line "words: advisor v, enforcer v"; ``offices`` a column of the street-office table
    (:data:`OFFICE` measures); ``enforcement`` a row of the enforcement table (the run
    and a year at its rate).
    """

    part: Part
    order: int  # its place within the part
    words: str | None = None  # its words there (default: the short header or the label);
    # a clock's may name its deadline in minutes by its role: {advisor} (deadlines())
    digits: int | None = None  # decimals of a mean over replications (default: 0 for counts
    # and people, else 1); a count of one replication is a whole number and prints without
    cells: tuple[str, ...] = ()  # clocks: the measures of its mean, p90 and count columns
    nonzero: bool = False  # lines: leave a role out while its value is 0


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
    summary: Summary | None = None  # shown in the printed summary of one run
    role: str | None = None  # the role it is of (sim.roles), e.g. a clock's or a headcount's

    @property
    def header(self) -> str:
        return self.short or self.label

    @property
    def words(self) -> str:
        """Its words in the printed summary of one run."""
        return (self.summary.words if self.summary else None) or self.header

    @property
    def digits(self) -> int:
        """Decimals of its value as a number (a share prints as a percentage)."""
        if self.summary is not None and self.summary.digits is not None:
            return self.summary.digits
        return 0 if self.unit in WHOLE_UNITS else 1

    def digits_for(self, replications: int) -> int:
        """Decimals as printed: a count of one replication is a whole number; a mean over
        several keeps :attr:`digits`."""
        return 0 if replications <= 1 and self.unit in WHOLE_UNITS else self.digits

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


# the response clocks of the registry (sim.roles), in clock order
_CLOCKS: dict[str, Clock] = {r: c for r in CLOCKED_ROLES if (c := BY_NAME[r].clock) is not None}


def _registry(*measures: Measure) -> dict[str, Measure]:
    out = {m.name: m for m in measures}
    if len(out) != len(measures):
        raise ValueError("a measure is declared twice")
    return out


# What the load analysis (sim.analysis.metrics.role_load) says per role, as measures.
_LOAD: tuple[tuple[str, str, Unit, Better | None, Summary | None], ...] = (
    ("offered_load_ratio", "offered load / capacity on shift", "ratio", "lower",
     Summary("lines", 3, "offered load / capacity on shift over the day", digits=2)),
    ("peak_ratio", "peak-hour load / capacity", "ratio", "lower", None),
    ("hours_over_count", "hours of the day over capacity", "count", "lower", None),
    ("unstable", "queue grows without bound (1 yes, 0 no)", "number", "lower", None),
    ("overtime_unit_hours_per_day", "work past shift end (unit-hours per day)", "hours", "lower",
     Summary("lines", 2, "work past shift end (unit-hours per day)", nonzero=True)),
)  # fmt: skip

# Where a sweep shows the standard clocks' measures: its printed table's columns and its
# plots (a clock added in the registry gets its measures without these).
_SHOWN: dict[str, dict[str, Any]] = {
    "advisor_on_time": {"table": 3, "plot": Plot(2, "advisor_on_time",
                                                  "Clock 1: advisor on scene within {advisor:g} min")},
    "enforcer_on_time": {"table": 4, "plot": Plot(3, "enforcer_on_time",
                         "Clock 2: enforcers within {enforcer:g} min of failed persuasion")},
    "advisor_response_min.mean": {"table": 5, "short": "adv. mean min", "plot": Plot(
        4, "advisor_response_mean", "Mean time from instruction to advisor on scene")},
    "enforcer_response_min.mean": {"plot": Plot(
        5, "enforcer_response_mean", "Mean time from failed persuasion to enforcers")},
}  # fmt: skip


def _shown(m: Measure) -> Measure:
    return replace(m, **_SHOWN.get(m.name, {}))


def _clock_measures() -> tuple[list[Measure], list[Measure], list[Measure], list[Measure]]:
    """Each clocked role's measures of a run: (on time; response times; utilisation and
    load; the count of the incidents that asked), in the registry's clock order."""
    on_time, times, load, counts = [], [], [], []
    for k, role in enumerate(CLOCKED_ROLES):
        info = BY_NAME[role]
        clock = info.clock
        assert clock is not None
        deadline = f"{role}_minutes"
        on_time.append(
            Measure(
                f"{role}_on_time",
                f"{role} clock",
                "share",
                "higher",
                color=role,
                short=clock.short,
                role=role,
                summary=Summary(
                    "clocks",
                    k + 1,
                    f"{clock.short} within {{{role}:g}} min",
                    cells=(f"{role}_response_min.mean", f"{role}_response_min.p90", clock.count),
                ),
            )
        )
        times += [
            Measure(
                f"{role}_response_min.{q}",
                f"{q} minutes to {clock.words}",
                "minutes",
                "lower",
                deadline=deadline,
                color=role,
                role=role,
            )
            for q in ("mean", "p50", "p90", "p95")
        ]
        load.append(
            Measure(
                f"utilization.{role}",
                f"{info.singular} utilisation (busy share on shift)",
                "share",
                role=role,
                summary=Summary("lines", 1, "utilization (busy share of on-shift time)"),
            )
        )
        counts.append(Measure(clock.count, clock.counted, "count", role=role))
    for role in CLOCKED_ROLES:
        plural = BY_NAME[role].plural
        aliases = {"hours_over_count": ("hours_over",)}
        load += [
            Measure(
                f"overload.{role}.{name}",
                f"{plural}: {words}",
                unit,
                better,
                role=role,
                summary=shown,
                aliases=tuple(f"overload.{role}.{a}" for a in aliases.get(name, ())),
            )
            for name, words, unit, better, shown in _LOAD
        ]
    return ([_shown(m) for m in on_time], [_shown(m) for m in times], load, counts)


_ON_TIME, _TIMES, _LOAD_MEASURES, _COUNTS = _clock_measures()

RUN: dict[str, Measure] = _registry(
    Measure("double_ten", "double ten", "share", "higher", color="double_ten", table=2,
            plot=Plot(1, "double_ten", "Double ten: every clock met"),
            summary=Summary("clocks", len(CLOCKED_ROLES) + 1, "double ten (all clocks)")),
    *_ON_TIME,
    Measure("worst_office.double_ten", "double ten in the worst street office", "share",
            "higher", table=6, short="worst office",
            plot=Plot(6, "worst_office_double_ten", "Double ten in the worst street office")),
    Measure("offices_on_target", "share of street offices on target", "share", "higher"),
    *_TIMES,
    *_LOAD_MEASURES,
    *_COUNTS,
    Measure("incidents_occurred", "problems that occurred", "count"),
    # the double-ten clocks start at the instruction: only these show problems left unfound
    Measure("discovery.never_found", "share of problems never found", "share", "lower",
            aliases=("never_found",)),
    Measure("discovery.report_delay_min", "mean minutes from problem to report", "minutes",
            "lower", aliases=("report_delay_min",)),
    # the enforcement chain's measures (None when it is off; sim.analysis.enforcement)
    Measure("enforcement.cases", "cases filed", "count",
            summary=Summary("enforcement", 2)),
    Measure("enforcement.decisions", "penalty decisions", "count",
            summary=Summary("enforcement", 3)),
    Measure("enforcement.fines_yuan", "fines decided (yuan)", "yuan",
            summary=Summary("enforcement", 4, "fines (yuan)", digits=0)),
    Measure("enforcement.court_referrals", "court referrals", "count",
            summary=Summary("enforcement", 5, "sent to court", digits=1)),
    Measure("enforcement.rulings", "court rulings", "count",
            summary=Summary("enforcement", 6, digits=1)),
    Measure("enforcement.mediations", "mediations", "count",
            summary=Summary("enforcement", 7, digits=1)),
    Measure("enforcement.escalations", "escalations up the enforcement ladder", "count",
            summary=Summary("enforcement", 1, "escalations")),
    Measure("enforcement.police_support", "cases with police support", "count",
            summary=Summary("enforcement", 8, "police support", digits=1)),
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
    Measure("evaluation.max_p_black_flag", "largest black-flag probability of a street office",
            "share", "lower", aliases=("evaluation.max_black_flag",)),
    Measure("evaluation.months", "evaluated months", "count"),
    Measure("evaluation.score_spread", "spread of street office scores (points)", "number"),
    Measure("headcount.total", "total staff", "people", table=1, short="staff"),
    *(Measure(f"headcount.{role}", BY_NAME[role].people, "people", role=role,
              summary=Summary("staff", k + 1)) for k, role in enumerate(STAFF_ROLES)),
    Measure("headcount.per_km2", "staff per km² (all roles)", "number"),
    Measure("area_km2", "area (km²)", "number"),
)  # fmt: skip
"""Measures of one run: the sweep's columns, in this order."""


def _office_measures() -> list[Measure]:
    on_time = [
        Measure(
            f"{role}_on_time",
            f"{role} clock",
            "share",
            "higher",
            target=True,
            role=role,
            short=clock.short,
            summary=Summary("offices", k + 2),
        )
        for k, (role, clock) in enumerate(_CLOCKS.items())
    ]
    p90 = [  # the first clock's shows in the printed street-office table
        Measure(
            f"{role}_p90_min",
            f"p90 minutes to {clock.words}",
            "minutes",
            "lower",
            role=role,
            short="p90 min" if k == 0 else None,
            summary=Summary("offices", len(_CLOCKS) + 3) if k == 0 else None,
        )
        for k, (role, clock) in enumerate(_CLOCKS.items())
    ]
    counts = [Measure(c.count, c.counted, "count", role=r) for r, c in _CLOCKS.items()]
    return [
        replace(counts[0], short="incidents", summary=Summary("offices", 1)), *counts[1:],
        Measure("double_ten", "double ten", "share", "higher", target=True,
                summary=Summary("offices", len(_CLOCKS) + 2)),
        *on_time, *p90,
    ]  # fmt: skip


OFFICE: dict[str, Measure] = _registry(
    *_office_measures(),
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


def deadlines(rules: Mapping[str, Any]) -> dict[str, float]:
    """Each clock's deadline in minutes by its role, from a scenario's ``rules`` as data:
    what the titles and words of measures may name (``{advisor:g}``)."""
    return {role: float(rules[f"{role}_minutes"]) for role in CLOCKED_ROLES}


def summarized(part: Part) -> list[Measure]:
    """The measures a part of the printed summary of one run shows, in their order there.

    The ``offices`` part is of :data:`OFFICE` measures, the others of :data:`RUN`.
    """
    pool = OFFICE if part == "offices" else RUN
    shown = (m for m in pool.values() if m.summary and m.summary.part == part)
    return sorted(shown, key=lambda m: m.summary.order if m.summary else 0)


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


def lookup(tree: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """The value at a measure's dotted name in a nested summary (``default`` if absent)."""
    node: Any = tree
    for key in name.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node
