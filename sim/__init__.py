"""City-management dispatch simulator for the "double ten" rule (城管120)."""

from sim.runner import RunResult, run, simulate
from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict, with_overrides
from sim.world import World, build_world

__all__ = [
    "RunResult",
    "Scenario",
    "ScenarioError",
    "World",
    "build_world",
    "load_scenario",
    "run",
    "scenario_from_dict",
    "simulate",
    "with_overrides",
]
__version__ = "0.1.0"
