"""Per-incident draws of the incident chain: durations and outcomes from named streams.

A stage that needs chance declares :class:`Draw` entries; before a replication runs,
each is drawn once for every incident, as a vector, from its own named random stream
(:mod:`sim.rng`). A stage reads its draw by name (``model.drawn["persuasion"][i]``).
Because each draw has its own stream, adding a stage (or a draw) changes no other
number: two variants of a scenario see the same incidents and the same outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from sim.engine.demand import Incidents
from sim.rng import stream
from sim.scenario import Category, Scenario


@dataclass(frozen=True, eq=False)
class Given:
    """Draws already decided for some incidents, by a process that ran ahead of the chain.

    The offender process (:mod:`sim.engine.offenders`) decides the on-scene outcome of
    its own incidents before the engine runs, because the next offence depends on it.
    Its incidents are merged into the ``background`` ones; a draw it gives is sampled for
    the background alone (so the background keeps the very numbers it has without
    offenders) and the given values fill the offenders' rows. A draw it does not give is
    sampled for every incident.
    """

    background: Incidents
    background_rows: np.ndarray  # row of each kept background incident in the merged ones
    keep: np.ndarray  # which background incidents were kept (not thinned out)
    rows: np.ndarray  # row of each given incident in the merged ones
    values: Mapping[str, np.ndarray]  # draw name -> one value per given incident


@dataclass(frozen=True, eq=False)
class DrawContext:
    """What a draw may read: the scenario, the replication's incidents, its streams."""

    scenario: Scenario
    incidents: Incidents
    replication: int
    given: Given | None = None

    @property
    def n(self) -> int:
        return self.incidents.n

    def stream(self, name: str) -> np.random.Generator:
        """The named stream of this replication (the same name gives the same numbers)."""
        return stream(self.scenario.seed, name, self.replication)

    def per_category(self, name: str, value: Callable[[Category], object]) -> np.ndarray:
        """One value per incident from its category's spec, a stream per category.

        ``value(spec)`` is a duration (sampled from stream ``<name>/<category>``) or a
        number (copied). A stream per category: changing one category's spec leaves the
        draws of the others alone.
        """
        out = np.zeros(self.n)
        category = self.incidents.category
        for c, (cat_name, spec) in enumerate(self.scenario.demand.categories.items()):
            idx = np.flatnonzero(category == c)
            v = value(spec)
            sample = getattr(v, "sample", None)
            if sample is not None:
                out[idx] = sample(self.stream(f"{name}/{cat_name}"), len(idx))
            else:
                out[idx] = float(v)  # type: ignore[arg-type]
        return out


@dataclass(frozen=True)
class Draw:
    """A named per-incident vector drawn before the run (see the module docstring)."""

    name: str
    sample: Callable[[DrawContext], np.ndarray]


def draw_all(draws: Sequence[Draw], context: DrawContext) -> dict[str, np.ndarray]:
    """Every draw of a chain for one replication, with any :class:`Given` values in place."""
    given = context.given
    if given is None:
        return {d.name: d.sample(context) for d in draws}
    background = replace(context, incidents=given.background, given=None)
    out: dict[str, np.ndarray] = {}
    for d in draws:
        fixed = given.values.get(d.name)
        if fixed is None:
            out[d.name] = d.sample(context)
            continue
        own = d.sample(background)
        full = np.empty(context.n, dtype=np.result_type(own, fixed))
        full[given.background_rows] = own[given.keep]
        full[given.rows] = fixed
        out[d.name] = full
    return out


def _persuasion(d: DrawContext) -> np.ndarray:
    return d.per_category("persuasion", lambda spec: spec.persuasion)


def _handling(d: DrawContext) -> np.ndarray:
    return d.per_category("handling", lambda spec: spec.handling)


def _persuaded(d: DrawContext) -> np.ndarray:
    success = d.per_category("success", lambda spec: spec.success)
    result: np.ndarray = d.stream("outcome").random(d.n) < success
    return result


def turnout(role: str) -> Draw:
    """Time from dispatch until a unit of ``role`` sets off (``dispatch.<role>_turnout``)."""
    name = f"{role}_turnout"

    def sample(d: DrawContext) -> np.ndarray:
        dist = getattr(d.scenario.dispatch, name)
        result: np.ndarray = dist.sample(d.stream(name), d.n)
        return result

    return Draw(name, sample)


PERSUASION = Draw("persuasion", _persuasion)
HANDLING = Draw("handling", _handling)
PERSUADED = Draw("persuaded", _persuaded)
