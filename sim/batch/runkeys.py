"""Run keys: what makes two runs the same, so a stored run is reused only for the same run.

A run's key hashes the resolved scenario (seed included), the replication, the record
format, the code that determines a run's numbers and the map files the scenario reads.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from sim.scenario import Scenario, resolve_scenario

FORMAT = "chengguan-sim/run-3"  # bump when a stored run's content changes meaning (2: checksum;
# 3: its measures from the measures record, named as in summary.json)


def canonical(data: Any) -> str:
    """Compact JSON with sorted keys: the text that is hashed."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _file_stamps(sc: Scenario) -> dict[str, Any]:
    """Files a scenario reads, with size and modification time (part of the run key)."""
    out: dict[str, Any] = {}
    for name, p in resolve_scenario(sc).files().items():
        try:
            st = p.stat()
            out[name] = [str(p), st.st_size, st.st_mtime_ns]
        except OSError:
            out[name] = [str(p), None, None]
    return out


# The code that determines a run's numbers: whole packages (a module added to one is
# covered without anyone listing it) and the top-level modules they build on. Editing
# anything else (plots, tables, the CLI, the optimiser's search) keeps stored runs valid.
SIMULATION_PACKAGES: tuple[str, ...] = ("caselog", "scenario", "engine", "world", "analysis")
SIMULATION_TOP_MODULES: tuple[str, ...] = (
    "overrides",
    "distributions",
    "rng",
    "errors",
    "budget",
    "runner",
    "roles",
)


def simulation_sources() -> list[Path]:
    """Every source file of :data:`SIMULATION_PACKAGES` and :data:`SIMULATION_TOP_MODULES`."""
    root = Path(__file__).resolve().parents[1]
    files = [root / f"{name}.py" for name in SIMULATION_TOP_MODULES]
    for package in SIMULATION_PACKAGES:
        files += sorted((root / package).rglob("*.py"))
    return files


@functools.cache
def code_fingerprint() -> str:
    """Digest of what determines a run's numbers, so runs stored by other code are not reused.

    Covers every file of :func:`simulation_sources`, the batch worker
    (:mod:`sim.batch.worker`, which turns a simulated replication into the stored record)
    and the numpy and scipy versions.
    """
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for path in [*simulation_sources(), root / "batch" / "worker.py"]:
        name = path.relative_to(root).as_posix()
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(f"numpy {np.__version__}\0scipy {scipy.__version__}".encode())
    return h.hexdigest()[:16]


def run_key(sc: Scenario, replication: int) -> str:
    """Key of one run: hash of the resolved scenario (sorted keys), its seed and the replication.

    Also covered: the record format, the simulating code and the numpy and scipy versions
    (:func:`code_fingerprint`) and the size and modification time of any map files the
    scenario reads.
    """
    payload = {
        "format": FORMAT,
        "code": code_fingerprint(),
        "scenario": sc.resolved(),
        "seed": sc.seed,
        "replication": replication,
        "files": _file_stamps(sc),
    }
    return hashlib.sha256(canonical(payload).encode("utf-8")).hexdigest()


def world_key(scenario: dict[str, Any], base_dir: str) -> str:
    """Runs with the same world key share a built world (resolved scenario and base folder)."""
    return hashlib.sha256((canonical(scenario) + "\0" + base_dir).encode("utf-8")).hexdigest()
