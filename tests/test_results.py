"""The results folder: complete when written, untouched when a run fails part-way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.output.folders import MANIFEST
from sim.output.results import RunFiles, write_run
from sim.viz import report

FILES = {
    "summary.json", "summary.txt", "incidents.csv", "response_times.png",
    "on_time_by_hour.png", "on_time_by_office.png", "on_time_map.png", "results.gpkg",
    "report.html",
}  # fmt: skip


@pytest.fixture(scope="module")
def result() -> sim.RunResult:
    from conftest import SMALL_CITY

    return sim.run(sim.scenario_from_dict(SMALL_CITY), seed=3)


def test_write_run_writes_every_file(tmp_path: Path, result: sim.RunResult) -> None:
    out = write_run(result, tmp_path / "out")
    assert {p.name for p in out.iterdir()} == FILES | {MANIFEST}
    for name in FILES - {"summary.txt"}:
        assert (out / name).stat().st_size > 1000, name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    keys = {"scenario", "seed", "replications", "days", "headcount", "incidents", "escalated",
            "advisor_on_time", "enforcer_on_time", "double_ten", "advisor_response_min",
            "enforcer_response_min", "utilization", "by_area", "by_hour", "ci95",
            "scenario_resolved"}  # fmt: skip
    assert keys <= set(summary)
    assert set(summary["headcount"]) >= {"grid", "advisor", "enforcer", "per_km2"}
    header = (out / "incidents.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"category", "office", "grid", "node", "occurred", "reported", "instructed",
            "advisor_arrived", "persuasion_ended", "persuaded", "escalated", "enforcer_arrived",
            "closed", "advisor", "enforcer_team"} <= set(header)  # fmt: skip
    assert oct(out.stat().st_mode & 0o777) != oct(0o700)  # shared like any folder, not private


def test_a_failed_write_leaves_the_old_results_and_no_debris(
    tmp_path: Path, result: sim.RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = write_run(result, tmp_path / "out", files=RunFiles(plots=False))
    before = (out / "summary.json").read_bytes()

    def broken(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "plot_by_hour", broken)
    with pytest.raises(RuntimeError):
        write_run(result, out)
    assert (out / "summary.json").read_bytes() == before
    assert not (out / "on_time_map.png").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no partial or old folders left
