"""Per-incident draws of the incident chain: durations and outcomes from named streams.

A stage that needs chance declares :class:`Draw` entries; before a replication runs,
each is drawn once for every incident, as a vector, from its own named random stream
(:mod:`sim.rng`). A stage reads its draw by name (``model.drawn["persuasion"][i]``).
Because each draw has its own stream, adding a stage (or a draw) changes no other
number: two variants of a scenario see the same incidents and the same outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.engine.demand import Incidents
from sim.rng import stream
from sim.scenario import Category, Scenario


@dataclass(frozen=True, eq=False)
class DrawContext:
    """What a draw may read: the scenario, the replication's incidents, its streams."""

    scenario: Scenario
    incidents: Incidents
    replication: int

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
