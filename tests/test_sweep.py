"""Sweeps: the tidy table, common random numbers, resumability, Dask, the CLI."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
import sim.batch.sweeps
from sim.analysis.metrics import ci95_halfwidth
from sim.batch import shiftplan, staffing, sweeps
from sim.batch.options import BatchFields, BatchOptions
from sim.batch.sweeps import Executor, parse_vary, run_key, summarize
from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def small(days: float = 1, offices_x: int = 2, per_day: float = 400) -> dict[str, Any]:
    """Four (or six) street offices of 0.64 km²; at this demand density decides the outcome."""
    return {
        "name": "t",
        "duration": {"days": days, "warmup_hours": 2},
        "map": {
            "generate": {
                "offices_x": offices_x,
                "offices_y": 2,
                "office_size_m": 800,
                "block_m": 100,
            }
        },
        "demand": {"incidents_per_day": per_day},
    }


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), e.get("PYTHONPATH", "")) if p)
    return e


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_rows_common_random_numbers_and_summary() -> None:
    vary = {"staff.per_km2": [7, 12, 20], "dispatch.policy": ["nearest", "own_grid_first"]}
    runs = sim.sweep(sim.scenario_from_dict(small()), vary, replications=3, workers=1)
    assert len(runs) == 6 * 3
    assert list(runs.columns[:5]) == [
        "variant",
        "staff.per_km2",
        "dispatch.policy",
        "replication",
        "seed",
    ]
    for col in ("double_ten", "advisor_on_time", "enforcer_on_time", "advisor_response_min.mean"):
        assert col in runs.columns
    assert runs["staff.per_km2"].map(type).eq(int).all()
    # common random numbers: replication k of every variant sees the same incidents
    per_rep = runs.groupby("replication")["incidents_occurred"].nunique()
    assert (per_rep == 1).all()
    assert runs.groupby("replication")["incidents_occurred"].first().nunique() > 1
    # density matters on this map
    means = runs.groupby("staff.per_km2")["double_ten"].mean()
    assert means[20] > means[7] + 0.2

    summary = summarize(runs)
    assert len(summary) == 6 and (summary["replications"] == 3).all()
    for row in summary.to_dict("records"):
        part = runs[
            (runs["staff.per_km2"] == row["staff.per_km2"])
            & (runs["dispatch.policy"] == row["dispatch.policy"])
        ]
        for m in ("double_ten", "advisor_on_time", "incidents"):
            assert row[m] == pytest.approx(part[m].mean())
            assert row[f"{m}.ci95"] == pytest.approx(ci95_halfwidth(list(part[m])))


def test_labelled_values_and_single_variant() -> None:
    base = sim.scenario_from_dict(small())
    runs = sim.sweep(
        base,
        {"dispatch.policy": {"cross borders": "nearest", "own grid": "own_grid_first"}},
        replications=2,
        workers=1,
    )
    assert sorted(runs["dispatch.policy"].unique()) == ["cross borders", "own grid"]
    one = sim.sweep(base, replications=2, workers=1)
    assert len(one) == 2 and "variant" in one.columns


def test_parse_vary_reads_yaml_scalars() -> None:
    assert parse_vary("staff.per_km2=10,15.5, 20") == ("staff.per_km2", [10, 15.5, 20])
    _, values = parse_vary("dispatch.policy=nearest,own_grid_first")
    assert values == ["nearest", "own_grid_first"]
    assert parse_vary("demand.hourly_profile=[1, 2],[3, 4]")[1] == [[1, 2], [3, 4]]
    with pytest.raises(sim.ScenarioError):
        parse_vary("staff.per_km2")


def test_cli_bad_vary_exits_2_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_yaml(tmp_path / "t.yaml", small())
    out = tmp_path / "sw"
    code = main(["sweep", str(scenario), "--vary", "staff.per_km3=1,2", "--out", str(out)])
    assert code == 2
    assert "staff.per_km3" in capsys.readouterr().err
    # one bad value among good ones: nothing runs at all
    code = main(["sweep", str(scenario), "--vary", "staff.per_km2=10,-5,2000", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("staff.per_km2:") == 2 and "-5" in err and "2000" in err
    assert not out.exists()


def test_outputs_and_reuse(tmp_path: Path) -> None:
    base = sim.scenario_from_dict(small())
    vary = {"staff.per_km2": [8, 12, 20]}
    first = sim.sweep(base, vary, replications=2, out=tmp_path, workers=1)
    assert len(list((tmp_path / "runs").glob("*.json"))) == 6
    for name in ("runs.csv", "runs_by_office.csv", "summary.csv", "sweep.json"):
        assert (tmp_path / name).is_file()
    for name in (
        "double_ten",
        "advisor_on_time",
        "enforcer_on_time",
        "advisor_response_mean",
        "overview",
    ):
        assert (tmp_path / "plots" / f"{name}.png").stat().st_size > 10_000
    assert len(pd.read_csv(tmp_path / "runs.csv")) == 6
    # the key names the resolved scenario, its seed and the replication
    sc = sim.with_overrides(base, {"staff.per_km2": 8})
    assert (tmp_path / "runs" / f"{run_key(sc, 1)[:32]}.json").is_file()
    assert run_key(sc, 1) != run_key(sim.with_overrides(sc, {"seed": 2}), 1)
    # a second sweep sharing a variant reuses its runs
    from sim.batch.sweeps import run_sweep

    again = run_sweep(
        base, {"staff.per_km2": [12, 25]}, replications=2, out=tmp_path, workers=1, plots=False
    )
    assert (again.reused, again.computed) == (2, 2)
    pd.testing.assert_frame_equal(
        again.runs[again.runs["staff.per_km2"] == 12]
        .drop(columns="variant")
        .reset_index(drop=True),
        first[first["staff.per_km2"] == 12].drop(columns="variant").reset_index(drop=True),
    )


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.glob("*.json")}


def test_resume_after_sigkill(tmp_path: Path) -> None:
    data = small(days=3, offices_x=3, per_day=1500)
    scenario = write_yaml(tmp_path / "t.yaml", data)
    out = tmp_path / "sw"
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "sweep",
        str(scenario),
        "--vary",
        "staff.per_km2=10,16,24",
        "--replications",
        "4",
        "--out",
        str(out),
        "--no-plots",
        "--quiet",
        "--workers",
        "2",
    ]
    runs = out / "runs"
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env(), stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(runs.glob("*.json"))) < 2:
            if proc.poll() is not None:
                break
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)  # the main process only, as `kill -9 PID` would
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(0.3)  # orphaned workers notice their closed pipe and exit without writing
    before = _snapshot(runs)
    assert 2 <= len(before) < 12, "the sweep should have been interrupted part-way"
    assert not (out / "runs.csv").exists()
    assert not list(runs.glob(".*.tmp"))  # nothing half-written

    done = subprocess.run(cmd, cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} reused" in done.stderr
    after = _snapshot(runs)
    assert len(after) == 12
    for name, stamp in before.items():
        assert after[name] == stamp  # untouched: same mtime, same bytes

    resumed = pd.read_csv(out / "runs.csv")
    ref = sim.sweep(
        sim.scenario_from_dict(data), {"staff.per_km2": [10, 16, 24]}, replications=4, workers=1
    )
    ref.to_csv(tmp_path / "ref.csv", index=False)
    pd.testing.assert_frame_equal(resumed, pd.read_csv(tmp_path / "ref.csv"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("distributed")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], name: str) -> None:
        with (logs / f"{name}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]],
                    cwd=ROOT,
                    env=env(),
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            )

    try:
        start(
            ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], "scheduler"
        )
        for i in range(2):
            start(
                [
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--local-directory",
                    str(tmp_path / f"w{i}"),
                ],
                f"worker{i}",
            )
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="2s") as client:
                    client.wait_for_workers(2, timeout=30)
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield address
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def test_dask_cluster_gives_the_local_results(dask_cluster: str, tmp_path: Path) -> None:
    data = small()
    scenario = write_yaml(tmp_path / "t.yaml", data)
    out = tmp_path / "sw"
    code = main(
        [
            "sweep",
            str(scenario),
            "--vary",
            "staff.per_km2=8,14,20",
            "--vary",
            "dispatch.policy=nearest,own_grid_first",
            "--replications",
            "2",
            "--out",
            str(out),
            "--no-plots",
            "--quiet",
            "--scheduler",
            dask_cluster,
        ]
    )
    assert code == 0
    stored = [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]
    assert len(stored) == 12
    remote = pd.read_csv(out / "runs.csv")
    local = sim.sweep(
        sim.scenario_from_dict(data, base_dir=tmp_path),
        {"staff.per_km2": [8, 14, 20], "dispatch.policy": ["nearest", "own_grid_first"]},
        replications=2,
        workers=1,
    )
    local.to_csv(tmp_path / "local.csv", index=False)
    pd.testing.assert_frame_equal(remote, pd.read_csv(tmp_path / "local.csv"))


def test_api_functions_do_not_shadow_their_modules() -> None:
    assert callable(sim.sweep) and callable(sim.optimize)
    assert inspect.ismodule(importlib.import_module("sim.batch.sweeps"))
    assert inspect.ismodule(importlib.import_module("sim.batch.staffing"))
    assert (
        sim.batch.sweeps.__name__ == "sim.batch.sweeps"
    )  # `import sim.batch.sweeps` gives the module
    assert sim.sweep is sweeps.sweep and sim.optimize is staffing.optimize


def _keyword_options(fn: Any) -> set[str]:
    params = inspect.signature(fn).parameters.values()
    return {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def test_short_api_takes_exactly_the_full_functions_options() -> None:
    # the defaults live only on run_sweep / optimize_plan and BatchOptions; the TypedDicts
    # list the names
    fields = {f.name for f in dataclasses.fields(BatchOptions)}
    assert set(BatchFields.__annotations__) == fields
    plan = {f.name for f in dataclasses.fields(staffing.PlanOptions)}
    assert set(staffing.PlanFields.__annotations__) == plan
    for short, full, options, own in (
        (sweeps.sweep, sweeps.run_sweep, sweeps.SweepOptions, set()),
        (staffing.optimize, staffing.optimize_plan, staffing.OptimizeOptions, plan),
    ):
        assert set(options.__annotations__) == _keyword_options(full) | fields | own
        assert not _keyword_options(short)  # nothing of its own to drift
    shifts = {f.name for f in dataclasses.fields(shiftplan.ShiftOptions)}
    assert set(shiftplan.ShiftFields.__annotations__) == shifts | fields


def test_batch_options_as_an_object_or_as_keywords_give_the_same_sweep() -> None:
    base = sim.scenario_from_dict(small())
    vary = {"staff.per_km2": [10, 20]}
    by_object = sim.sweep(base, vary, batch=BatchOptions(replications=2, workers=1, seed=3))
    by_keywords = sim.sweep(base, vary, replications=2, workers=1, seed=3)
    pd.testing.assert_frame_equal(by_object, by_keywords)
    assert sorted(by_object["seed"].unique()) == [3]
    # keywords replace the object's fields
    mixed = sim.sweep(base, vary, batch=BatchOptions(replications=2, seed=3), workers=1, seed=4)
    assert sorted(mixed["seed"].unique()) == [4] and len(mixed) == 4


def test_later_larger_batches_get_more_worker_processes() -> None:
    """The optimiser's pattern: a first batch of R runs, then many plans × R runs."""
    base = sim.scenario_from_dict(small())
    with Executor(workers=4) as ex:
        ex.run([base], 2)
        assert 1 <= ex.processes <= 2  # a small batch starts no more processes than it needs
        plans = [sim.with_overrides(base, {"staff.per_km2": d}) for d in (8, 12, 16)]
        ex.run(plans, 2)
        assert ex.processes >= 3  # not stuck at the first batch's 2
        assert (ex.computed, ex.reused) == (8, 0)


def test_run_key_covers_simulating_code_and_library_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sc = sim.scenario_from_dict(small())
    key = run_key(sc, 0)
    root = Path(sweeps.__file__).parents[1]
    covered = {p.relative_to(root).with_suffix("").as_posix().replace("/", ".")
               for p in sweeps.simulation_sources()}  # fmt: skip
    assert {"engine.model", "engine.chain", "world.network", "analysis.metrics"} <= covered
    # the covered code is closed under its imports within sim
    for name in covered:
        tree = ast.parse((root / (name.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
            if module == "sim" or module in {f"sim.{p}" for p in sweeps.SIMULATION_PACKAGES}:
                prefix = module.removeprefix("sim").removeprefix(".")
                # a submodule of the package, or a name its __init__ re-exports
                used = {
                    f"{prefix}.{a.name}".lstrip(".")
                    if (root / prefix / f"{a.name}.py").exists() or not prefix
                    else f"{prefix}.__init__"
                    for a in node.names
                }
            elif module.startswith("sim."):
                used = {module.removeprefix("sim.")}
            else:
                continue
            assert used <= covered, f"{name} imports {used - covered}, not covered by the run key"
    assert not {"batch.sweeps", "batch.staffing", "viz.report", "viz.mapplot", "cli"} & covered
    for attr in ("np.__version__", "scipy.__version__"):
        sweeps.code_fingerprint.cache_clear()
        with monkeypatch.context() as m:
            if attr.startswith("np"):
                m.setattr(np, "__version__", "0.0.0")
            else:
                m.setattr(importlib.import_module("scipy"), "__version__", "0.0.0")
            assert run_key(sc, 0) != key
        sweeps.code_fingerprint.cache_clear()
    assert run_key(sc, 0) == key


def test_world_errors_name_the_variant(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An unknown office shows only when the variant's world is built; say which variant."""
    code = main(
        [
            "sweep",
            str(ROOT / "scenarios" / "jinshui.yaml"),
            "--out",
            str(tmp_path / "sw"),  # not results/ in the working folder
            "--vary",
            "staff.per_km2_by_office={Nope: 5},{Office-01: 5}",
            "--days",
            "0.05",
            "--replications",
            "1",
            "--workers",
            "1",
            "--no-plots",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    line = next(x for x in err.splitlines() if "Nope" in x)
    assert line.strip().startswith("staff.per_km2_by_office.Nope:")
    assert line.endswith('(variant staff.per_km2_by_office={"Nope": 5})'), line


def test_discovery_measures_reach_the_tables(tmp_path: Path) -> None:
    """never_found and report_delay_min (the target ignores discovery) are table columns."""
    base = sim.scenario_from_dict(small())
    sweeps.run_sweep(
        base, {"staff.per_km2": [8, 20]}, replications=2, out=tmp_path, workers=1, plots=False
    )
    runs, summary = pd.read_csv(tmp_path / "runs.csv"), pd.read_csv(tmp_path / "summary.csv")
    for name in sweeps.DISCOVERY:
        [col] = [c for c in runs.columns if c.split(".")[-1] == name]
        assert runs[col].notna().all()
        assert {col, f"{col}.ci95"} <= set(summary.columns)
        if name == "never_found":
            assert runs[col].between(0, 1).all()


def test_sweeps_vary_enforcement_keys_and_store_its_measures() -> None:
    data = small(days=3, per_day=200)
    data["duration"]["warmup_hours"] = 0
    data["evaluation"] = {"enabled": False}
    data["enforcement"] = {
        "enabled": True,
        "offenders": {"categories": {"street_vending": {"share": 0.8, "daily_p": 0.6}}},
    }
    vary = {"enforcement.cases.track": [0.0, 1.0]}
    runs = sim.sweep(sim.scenario_from_dict(data), vary, replications=2, workers=1)
    for m in ("cases", "fines_yuan", "court_referrals", "repeat_share"):
        assert f"enforcement.{m}" in runs.columns
    by = runs.groupby("enforcement.cases.track")
    assert (by.get_group(0.0)["enforcement.cases"] == 0).all()
    assert (by.get_group(1.0)["enforcement.cases"] > 0).all()
    assert (runs["enforcement.repeat_share"] > 0).all()
    # without the chain the columns are there and empty
    plain = sim.sweep(
        sim.scenario_from_dict(small()), {"staff.per_km2": [10]}, replications=1, workers=1
    )
    assert plain["enforcement.cases"].isna().all()
    record = sweeps.run_replication(sim.scenario_from_dict(data).resolved(), str(ROOT), 0)
    assert all(0 <= row["repeat_share"] <= 1 for row in record["by_office"])
