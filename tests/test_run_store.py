"""Stored sweep runs: a damaged or edited record is simulated again, never trusted or fatal."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim
from sim.batch.sweeps import FORMAT, RunStore, SweepResult, record_checksum, run_sweep

SCENARIO: dict[str, Any] = {
    "name": "store",
    "duration": {"days": 0.5, "warmup_hours": 1},
    "map": {"generate": {"offices_x": 2, "offices_y": 1, "office_size_m": 600, "block_m": 100}},
    "demand": {"incidents_per_day": 300},
}
VARY = {"staff.per_km2": [20, 30]}


def sweep_into(out: Path) -> SweepResult:
    sc = sim.scenario_from_dict(SCENARIO)
    return run_sweep(sc, VARY, replications=2, workers=1, out=out, plots=False)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A finished sweep: its folder and its run table."""
    out = tmp_path_factory.mktemp("clean") / "sweep"
    result = sweep_into(out)
    assert result.computed == 4 and result.reused == 0 and not result.warnings
    return out, result.runs


def _edit_value(p: Path) -> None:
    record = json.loads(p.read_text(encoding="utf-8"))
    record["measures"]["double_ten"] = 1.0 - record["measures"]["double_ten"] / 2
    p.write_text(json.dumps(record, indent=2), encoding="utf-8")


def _drop_measure(p: Path) -> None:
    record = json.loads(p.read_text(encoding="utf-8"))
    del record["measures"]["advisor_on_time"]
    record["checksum"] = record_checksum(record)  # a consistent checksum does not excuse it
    p.write_text(json.dumps(record), encoding="utf-8")


def _wrong_type(p: Path) -> None:
    record = json.loads(p.read_text(encoding="utf-8"))
    record["by_office"] = {"office": "A"}
    p.write_text(json.dumps(record), encoding="utf-8")


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "list": (lambda p: p.write_text("[1, 2]", encoding="utf-8"), "not a JSON object"),
    "edited value": (_edit_value, "checksum does not match"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[:200]), "not valid JSON"),
    "missing measure": (_drop_measure, "advisor_on_time"),
    "wrong shape": (_wrong_type, "by_office"),
    "not UTF-8": (lambda p: p.write_bytes(b"\xff\xfe{"), "unreadable"),
    "deep nesting": (lambda p: p.write_text("[" * 200_000, encoding="utf-8"), "not valid JSON"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_an_invalid_stored_run_is_simulated_again_with_one_warning(
    damage: str, clean: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    src, runs = clean
    out = tmp_path / "sweep"
    shutil.copytree(src, out)
    victim = sorted((out / "runs").glob("*.json"))[1]
    spoil, reason = DAMAGE[damage]
    spoil(victim)

    result = sweep_into(out)

    assert (result.computed, result.reused) == (1, 3)
    store_lines = [w for w in result.warnings if "stored run" in w]
    assert len(store_lines) == 1
    assert str(victim) in store_lines[0] and reason in store_lines[0]
    pd.testing.assert_frame_equal(result.runs, runs)
    # the file was replaced by a valid record: the next sweep reuses everything quietly
    again = sweep_into(out)
    assert (again.computed, again.reused) == (0, 4)
    assert not [w for w in again.warnings if "stored run" in w]
    assert (out / "sweep.json").exists()


def test_records_carry_a_checksum_of_their_content(clean: tuple[Path, pd.DataFrame]) -> None:
    for p in (clean[0] / "runs").glob("*.json"):
        record = json.loads(p.read_text(encoding="utf-8"))
        assert record["format"] == FORMAT
        assert record["checksum"] == record_checksum(record)
        assert RunStore(p.parent).get(record["key"]) == record


def test_a_record_under_another_key_is_not_used(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    key_a, key_b = "a" * 64, "a" * 32 + "b" * 32  # same file name, different run
    record = {
        "key": key_a,
        "format": FORMAT,
        "scenario_name": "x",
        "seed": 1,
        "replication": 0,
        "measures": dict.fromkeys(sim.batch.sweeps.MEASURES, 0.5),
        "by_office": [],
        "by_hour": [],
        "warnings": [],
        "timing": {},
        "scenario": {},
    }
    store.put(key_a, record)
    assert store.get(key_a) == {**record, "checksum": record_checksum(record)}
    assert store.get(key_b) is None
    assert "another run's key" in store.warnings[-1]
