"""A pinned result: speed work must not change what is simulated.

The summary of a small scenario is stored in ``tests/data/pinned_summary.json``. Any
change to the numbers fails this test. When a change to the *model* is intended (not an
optimisation), regenerate the file and say so in the commit:

    SIM_REPIN=1 python -m pytest tests/test_pinned.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from conftest import SMALL_CITY

import sim
import sim.output.results

PINNED = Path(__file__).parent / "data" / "pinned_summary.json"


def _summary() -> dict[str, Any]:
    # thin staffing: queues and late arrivals, so the pin is sensitive to the engine
    # half-day evaluation months, so the evaluation block is pinned with numbers in it
    data = {
        **SMALL_CITY,
        "staff": {"per_km2": 12},
        "dispatch": {"policy": "own_grid_first"},
        "evaluation": {"month_days": 0.5},
    }
    result = sim.run(sim.scenario_from_dict(data), seed=5, replications=2)
    return json.loads(sim.output.results.dumps(result.summary))


def test_small_scenario_summary_is_unchanged() -> None:
    summary = _summary()
    if os.environ.get("SIM_REPIN"):
        PINNED.write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    assert summary["incidents"] > 500  # a pin of something, not of an empty run
    for key in pinned:
        assert summary[key] == pinned[key], key
    assert set(summary) == set(pinned)
