"""City-management dispatch simulator for the "double ten" rule (城管120).

import sim
result = sim.run(sim.load_scenario("scenarios/jinshui.yaml"), seed=1)
table = sim.sweep(scenario, vary={"staff.per_km2": [15, 20, 25]}, replications=5)
plan = sim.optimize(scenario, target={"double_ten": 0.95})

The functions ``sim.sweep`` and ``sim.optimize`` live in the modules :mod:`sim.batch.sweeps`
and :mod:`sim.batch.staffing` (which hold the rest of those APIs).

The package root imports nothing itself: each public name is loaded from its module when
it is first used (PEP 562), so ``import sim.roles`` or ``import sim.scenario`` costs only
those modules, and ``sim.run`` never loads the batch layer or the plots.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.batch.staffing import optimize
    from sim.batch.sweeps import sweep
    from sim.runner import RunResult, run, simulate
    from sim.scenario import (
        Scenario,
        ScenarioError,
        load_scenario,
        scenario_from_dict,
        with_overrides,
    )
    from sim.world.build import World, build_world

# each public name and the module that holds it
_PUBLIC: dict[str, str] = {
    "RunResult": "sim.runner",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.scenario",
    "World": "sim.world.build",
    "build_world": "sim.world.build",
    "load_scenario": "sim.scenario",
    "optimize": "sim.batch.staffing",
    "run": "sim.runner",
    "scenario_from_dict": "sim.scenario",
    "simulate": "sim.runner",
    "sweep": "sim.batch.sweeps",
    "with_overrides": "sim.scenario",
}

__all__ = [
    "RunResult",
    "Scenario",
    "ScenarioError",
    "World",
    "build_world",
    "load_scenario",
    "optimize",
    "run",
    "scenario_from_dict",
    "simulate",
    "sweep",
    "with_overrides",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (then kept here)."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
