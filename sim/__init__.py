"""City-management dispatch simulator for the "double ten" rule (城管120).

import sim
result = sim.run(sim.load_scenario("scenarios/jinshui.yaml"), seed=1)
table = sim.sweep(scenario, vary={"staff.per_km2": [15, 20, 25]}, replications=5)
plan = sim.optimize(scenario, target={"double_ten": 0.95})

The functions ``sim.sweep`` and ``sim.optimize`` live in the modules :mod:`sim.batch.sweeps`
and :mod:`sim.batch.staffing` (which hold the rest of those APIs).
"""

from sim.batch.staffing import optimize
from sim.batch.sweeps import sweep
from sim.runner import RunResult, run, simulate
from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict, with_overrides
from sim.world.build import World, build_world

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
