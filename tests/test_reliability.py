"""Issue 8: never lose a planner's files, never fall over on a small input.

One test (or parametrised case) per row of the issue's table that this code owns, each
asserting what a regression would break. Most call the CLI in-process; a process is
started only where the behaviour is about processes (signals, children, concurrency)
or could eat the machine if it regressed (those run under a memory rlimit).
"""

from __future__ import annotations

import csv
import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import ROOT

import sim.lifetime
import sim.world.build
from sim.cli import main
from sim.output import runtext
from sim.output.folders import MANIFEST

TINY: dict[str, Any] = {
    "name": "tiny",
    "duration": {"days": 0.25, "warmup_hours": 0},
    "map": {"generate": {"offices_x": 1, "offices_y": 1, "office_size_m": 400, "block_m": 100}},
    "staff": {"per_km2": 100},
    "demand": {"incidents_per_day": 200},
    "evaluation": {"enabled": False},
}
RUN_FILES = {"summary.json", "summary.txt", "incidents.csv", MANIFEST}
MEMORY_CAP = 3 * 2**30  # address space of processes that could eat the machine on a regression


@pytest.fixture(autouse=True)
def _keep_sigterm() -> Iterator[None]:
    """``main`` installs a SIGTERM handler; give pytest its own back."""
    old = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, old)


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    return write_yaml(folder / "tiny.yaml", TINY)


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` (hidden ones too) with the bytes of each file."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def work_folders(parent: Path) -> list[str]:
    """Hidden work folders of the tool beside results (``.NAME.partial-…``, ``.NAME.old-…``)."""
    return sorted(p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name)


def assert_complete_run(out: Path) -> dict[str, Any]:
    """``out`` holds exactly one run: every file listed, nothing else, parts consistent."""
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["tool"] == "chengguan-sim"
    assert {p.name for p in out.iterdir()} == set(manifest["files"]) | {MANIFEST}
    assert set(manifest["files"]) | {MANIFEST} >= RUN_FILES
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    with (out / "incidents.csv").open(encoding="utf-8", newline="") as f:
        measured = [r for r in csv.DictReader(f) if r["measured"] == "True"]
    # the table, the summary and its text are of one run
    assert len(measured) == summary["incidents"]
    assert sum(r["escalated"] == "True" for r in measured) == summary["escalated"]
    text = (out / "summary.txt").read_text(encoding="utf-8")
    assert text == runtext.summary_text(summary) + "\n"
    return summary


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def sim_process(*args: object, **kw: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kw,
    )


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie waiting for init to reap it counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_until(check: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.01)
    return check()


def children_of(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


linux_only = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="needs Linux /proc to see child processes"
)


def start_and_catch_drawing(tiny: Path, out: Path) -> tuple[subprocess.Popen[str], list[int]]:
    """Start a run with plots and return once it is drawing in children into its work folder."""
    proc = sim_process("run", tiny, "--out", out, "--quiet")

    def drawing() -> bool:  # children at work and the summary already in the work folder
        return len(children_of(proc.pid)) >= 2 and any(
            (out.parent / w / "summary.json").exists() for w in work_folders(out.parent)
        )

    if not wait_until(drawing, 120):
        proc.kill()
        pytest.fail(f"the run never drew in child processes: {proc.communicate()}")
    return proc, children_of(proc.pid)


# ----------------------------------------------------------- row 1: foreign files in --out


def test_out_folder_holding_a_planners_file_is_refused_untouched(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "keep.txt").write_text("x\n", encoding="utf-8")
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "run", tiny, "--out", d, "--quiet", "--no-plots")
    assert code == 2
    assert "keep.txt" in err and "--force" in err  # what is in the way and what to do
    assert snapshot(tmp_path) == before  # keep.txt, its content, and nothing new anywhere


def test_force_writes_beside_a_planners_file_and_deletes_none(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "keep.txt").write_text("x\n", encoding="utf-8")
    for seed in (1, 2):  # the second run replaces the tool's files, still not keep.txt
        args = ["--out", d, "--force", "--seed", seed, "--quiet", "--no-plots"]
        code, _, _ = cli(capsys, "run", tiny, *args)
        assert code == 0
        assert (d / "keep.txt").read_text(encoding="utf-8") == "x\n"
        manifest = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
        assert "keep.txt" not in manifest["files"] and "summary.json" in manifest["files"], seed
    assert work_folders(tmp_path) == []


# ----------------------------------------------------------- row 2: --out naming a file


@pytest.mark.parametrize(
    "args",
    [["run", "--quiet", "--no-plots"], ["run", "--force", "--no-plots"], ["map"]],
    ids=["run", "run-force", "map"],
)
def test_out_naming_an_existing_file_leaves_it_alone(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    target = tmp_path / "report.docx"
    target.write_bytes(b"the planner's report")
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, args[0], tiny, "--out", target, *args[1:])
    assert code == 2
    assert str(target) in err
    assert snapshot(tmp_path) == before


# ----------------------------------------------------------- row 3: name is a label


@pytest.mark.parametrize("name", ["..", ".", "../up", "{tmp}/abs", "a/b", ".hidden", "a\\b", ""])
def test_scenario_name_is_a_label_never_a_path(
    tmp_path: Path,
    tiny: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    cwd = tmp_path / "work"
    cwd.mkdir()
    (cwd / "important.txt").write_text("keep me\n", encoding="utf-8")
    monkeypatch.chdir(cwd)
    before = snapshot(tmp_path)
    name = name.format(tmp=tmp_path)
    code, _, err = cli(capsys, "run", tiny, "--set", f"name={name}", "--quiet", "--no-plots")
    assert code == 2
    assert "name:" in err
    assert snapshot(tmp_path) == before


def test_a_name_in_any_script_is_a_label(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, _ = cli(capsys, "run", tiny, "--set", "name=金水-v1.2", "--quiet", "--no-plots")
    assert code == 0
    assert_complete_run(tmp_path / "results" / "金水-v1.2")


# ----------------------------------------------------------- row 4: sim map, then sim run


def test_the_map_sim_map_drew_survives_sim_run(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # both default to results/tiny/
    assert cli(capsys, "map", tiny)[0] == 0
    picture = tmp_path / "results" / "tiny" / "map.png"
    drawn = picture.read_bytes()
    for _ in range(2):  # carried over from run to run, not just once
        assert cli(capsys, "run", tiny, "--quiet", "--no-plots")[0] == 0
        assert picture.read_bytes() == drawn
        assert_complete_run(picture.parent)
        manifest = json.loads((picture.parent / MANIFEST).read_text(encoding="utf-8"))
        assert manifest["files"]["map.png"] == "map"
    summary = (picture.parent / "summary.json").read_bytes()
    assert cli(capsys, "map", tiny)[0] == 0  # and a new map leaves the run's files alone
    assert (picture.parent / "summary.json").read_bytes() == summary
    assert work_folders(picture.parent.parent) == []


# ----------------------------------------------------------- row 5: kill -9, stale folders


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A run SIGKILLed while its children draw: what it leaves, and its children's fate."""
    base = tmp_path_factory.mktemp("killed")
    tiny = write_yaml(base / "tiny.yaml", TINY)
    out = base / "results" / "tiny"
    out.parent.mkdir()
    proc, children = start_and_catch_drawing(tiny, out)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    survivors = [c for c in children if not wait_until(lambda c=c: gone(c), 5)]
    return {
        "tiny": tiny,
        "out": out,
        "children": children,
        "survivors": survivors,
        "left": work_folders(out.parent),
    }


@linux_only
def test_kill_9_of_a_run_stops_its_drawing_children(killed_run: dict[str, Any]) -> None:
    assert killed_run["children"] and killed_run["survivors"] == []
    assert not killed_run["out"].exists()  # no half-written results folder under the name


@linux_only
def test_the_run_after_a_kill_9_removes_what_it_left(
    killed_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    out = killed_run["out"]
    assert killed_run["left"], "the kill left no work folder; nothing to clean up"
    assert cli(capsys, "run", killed_run["tiny"], "--out", out, "--quiet", "--no-plots")[0] == 0
    assert_complete_run(out)
    assert work_folders(out.parent) == []


def make_work_folder(
    path: Path, files: dict[str, str] | None, contents: dict[str, bytes], work: bool = False
) -> dict[str, bytes | None]:
    """A folder as the tool leaves it (manifest listing ``files``; None: no manifest)."""
    path.mkdir()
    if files is not None:
        manifest: dict[str, Any] = {"tool": "chengguan-sim", "kind": "run", "files": files}
        if work:
            manifest["work"] = True
        (path / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    for name, data in contents.items():
        (path / name).write_bytes(data)
    return snapshot(path)


def test_a_killed_runs_partial_folder_is_removed_by_the_next_run(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = dead_pid()
    # what a kill -9 during writing leaves: the marker written first, then some files
    make_work_folder(
        tmp_path / f".out.partial-{pid}-abc123",
        {},
        {"summary.json": b"{}", "response_times.png": b"\x89PNG half"},
        work=True,
    )
    assert cli(capsys, "run", tiny, "--out", tmp_path / "out", "--quiet", "--no-plots")[0] == 0
    assert work_folders(tmp_path) == []


def test_stale_folders_are_cleaned_only_when_the_tool_owns_them(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = dead_pid()
    ours = tmp_path / f".out.partial-{pid}-abc123"
    make_work_folder(ours, {}, {})
    users = tmp_path / f".out.partial-{pid}-mine"  # same name pattern, but no manifest
    user_files = make_work_folder(users, None, {"thesis.tex": b"chapter 1"})
    ours_old = tmp_path / f".out.old-{pid}-1a2b3c4d"
    make_work_folder(ours_old, {"summary.json": "run"}, {"summary.json": b"{}"})
    alive = tmp_path / f".out.partial-{os.getpid()}-live"  # a writer still at work
    alive_files = make_work_folder(alive, {}, {"summary.json": b"{}"})
    assert cli(capsys, "run", tiny, "--out", tmp_path / "out", "--quiet", "--no-plots")[0] == 0
    assert not ours.exists() and not ours_old.exists()
    assert snapshot(users) == user_files
    assert snapshot(alive) == alive_files
    assert_complete_run(tmp_path / "out")


def test_an_interrupted_swap_is_restored_when_the_results_folder_is_missing(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = dead_pid()
    old = tmp_path / f".out.old-{pid}-1a2b3c4d"  # killed between moving out and moving in
    make_work_folder(
        old, {"summary.json": "run", "map.png": "map"}, {"summary.json": b"{}", "map.png": b"png"}
    )
    assert cli(capsys, "run", tiny, "--out", tmp_path / "out", "--quiet", "--no-plots")[0] == 0
    # the old folder went back in place, so the picture it held came along into the new run
    assert (tmp_path / "out" / "map.png").read_bytes() == b"png"
    assert_complete_run(tmp_path / "out")
    assert work_folders(tmp_path) == []


def test_a_dead_writers_temporary_file_in_the_results_folder_is_removed(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert cli(capsys, "run", tiny, "--out", out, "--quiet", "--no-plots")[0] == 0
    stale = out / f".map.png.{dead_pid()}-1a2b3c4d.tmp"
    stale.write_bytes(b"half a picture")
    assert cli(capsys, "run", tiny, "--out", out, "--quiet", "--no-plots")[0] == 0
    assert not stale.exists()
    assert_complete_run(out)


CHILD_SCRIPT = r"""
import importlib.util, os, sys, time
spec = importlib.util.spec_from_file_location("lifetime", sys.argv[1])
lifetime = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lifetime)
parent = os.getpid()
kids = []
for bound in (True, False):
    pid = os.fork()
    if pid == 0:
        if bound:
            lifetime.die_with_parent(parent)
        time.sleep(60)
        os._exit(0)
    kids.append(pid)
print(*kids, flush=True)
time.sleep(60)
"""


@linux_only
def test_a_child_dies_with_its_parent_even_on_kill_9() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_SCRIPT, sim.lifetime.__file__],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    bound, free = map(int, proc.stdout.readline().split())
    try:
        time.sleep(0.2)  # let the bound child make its request before the parent dies
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert wait_until(lambda: gone(bound), 5), "the child outlived its killed parent"
        # a child that did not ask lives on: the kill alone did not take the children
        assert not gone(free)
    finally:
        for pid in (bound, free):
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


# ----------------------------------------------------------- SIGTERM / SIGINT mid-run


@linux_only
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_run_leaves_nothing_and_no_traceback(tmp_path: Path, sig: int) -> None:
    tiny = write_yaml(tmp_path / "tiny.yaml", TINY)
    out = tmp_path / "results" / "tiny"
    out.parent.mkdir()
    proc, children = start_and_catch_drawing(tiny, out)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert work_folders(out.parent) == [] and not out.exists()
    assert all(wait_until(lambda c=c: gone(c), 5) for c in children)


# ----------------------------------------------------------- row 6: concurrent runs


CONCURRENT = r"""
import multiprocessing as mp, os, sys, time
import sim, sim.output.results  # imported once, before the fork, not once per run
from sim.cli import main

def work(barrier, args):
    barrier.wait()
    sys.exit(main(args))

if __name__ == "__main__":
    scenario, out, *seeds = sys.argv[1:]
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(len(seeds))
    procs = [
        ctx.Process(target=work, args=(barrier, ["run", scenario, "--out", out, "--seed", s,
                                                 "--quiet", "--no-plots"]))
        for s in seeds
    ]
    for p in procs:
        p.start()
    half = 0  # times a reader saw the folder without every file of a run
    while any(p.is_alive() for p in procs):
        try:
            names = set(os.listdir(out))
        except FileNotFoundError:
            names = None
        if names is not None and not {"summary.json", "incidents.csv", "summary.txt"} <= names:
            half += 1
        time.sleep(0.005)
    for p in procs:
        p.join()
    print(half, *(p.exitcode for p in procs))
"""


def test_concurrent_runs_on_one_out_all_finish_with_one_complete_run(
    tmp_path: Path, tiny: Path
) -> None:
    out = tmp_path / "out"
    seeds = ["11", "12", "13", "14"]
    done = subprocess.run(
        [sys.executable, "-c", CONCURRENT, str(tiny), str(out), *seeds],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    half, *codes = map(int, done.stdout.split())
    assert codes == [0] * len(seeds), done.stderr
    assert "Traceback" not in done.stderr
    assert half == 0
    summary = assert_complete_run(out)
    assert str(summary["seed"]) in seeds
    assert work_folders(tmp_path) == []


# ----------------------------------------------------------- rows 7-9: bounded resources


@pytest.mark.parametrize(
    ("generate", "expected"),
    [
        ({"offices_x": 100, "offices_y": 100, "block_m": 11}, "map.generate.block_m"),
        (
            {"offices_x": 100, "offices_y": 100, "office_size_m": 5000, "block_m": 20},
            "map.generate:",
        ),
    ],
    ids=["block_m-below-bound", "within-bounds-but-huge"],
)
def test_a_huge_generated_map_is_refused_before_it_is_built(
    tmp_path: Path, generate: dict[str, Any], expected: str
) -> None:
    path = write_yaml(tmp_path / "big.yaml", {"name": "big", "map": {"generate": generate}})
    done = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_memory,  # a regression fails here instead of eating the machine
    )
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr
    if expected == "map.generate:":
        assert "memory: the street network would need about" in done.stderr


def test_the_densest_documented_staff_is_refused_with_its_estimate_before_building(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sim.world

    def built(*args: Any, **kw: Any) -> None:
        raise AssertionError("built the world before checking its memory")

    monkeypatch.setattr(sim.world.build, "build_areas", built)
    monkeypatch.setattr(sim.world.build, "place_staff", built)
    code, _, err = cli(
        capsys,
        "run",
        ROOT / "scenarios" / "jinshui.yaml",
        "--set",
        "staff.per_km2=1000",
        "--days",
        "1",
        "--max-memory",
        "2G",
        "--out",
        tmp_path / "out",
    )
    assert code == 2
    assert "memory: this run would need about" in err and "2.0 GiB" in err
    assert "staff.per_km2: travel table" in err
    assert not (tmp_path / "out").exists()


def test_max_memory_below_what_any_run_needs_is_refused(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "run", tiny, "--max-memory", "1M", "--out", tmp_path / "out")
    assert code == 2
    assert "memory:" in err and "1.0 MiB" in err and "--max-memory" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("size", ["abc", "0", "-1G", "1e999"])
def test_a_max_memory_that_is_not_a_size_is_a_usage_error(
    tiny: Path, capsys: pytest.CaptureFixture[str], size: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["validate", str(tiny), f"--max-memory={size}"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--max-memory" in err and "Traceback" not in err


# ----------------------------------------------------------- rows 10-14: bounds, finite numbers


def lognormal(mean: float, sd: float) -> dict[str, Any]:
    return {"only": {"share": 1.0, "persuasion": {"dist": "lognormal", "mean": mean, "sd": sd}}}


HOTSPOT_X_1E300 = "{name: h, x: 1.0e+300, y: 0, radius_m: 9, incidents_per_hour: 1}"
BAD_VALUES = [
    # (id, --set overrides, change to the file, field the message must name, words it must say)
    ("grid_size_m=0.5", ["map.grid_size_m=0.5"], {}, "map.grid_size_m", "equal to 50"),
    ("warmup=100000", ["duration.warmup_hours=100000"], {}, "duration.warmup_hours", "2160"),
    ("days=1e6", ["duration.days=1e6"], {}, "duration.days", "3660"),
    ("incidents=.inf", ["demand.incidents_per_day=.inf"], {}, "demand.incidents_per_day", "finite"),
    ("warmup=.inf", ["duration.warmup_hours=.inf"], {}, "duration.warmup_hours", "finite"),
    ("warmup=-.inf", ["duration.warmup_hours=-.inf"], {}, "duration.warmup_hours", "finite"),
    ("advisor_minutes=.inf", ["rules.advisor_minutes=.inf"], {}, "rules.advisor_minutes", "finite"),
    ("per_km2=.nan", ["staff.per_km2=.nan"], {}, "staff.per_km2", "finite"),
    ("by_office=.nan", ["staff.per_km2_by_office={A: .nan}"], {}, "per_km2_by_office", ""),
    ("hourly=.inf", [], {"hourly_profile": [float("inf")] * 24}, "demand.hourly_profile", ""),
    ("x=1e300", [f"demand.hotspots=[{HOTSPOT_X_1E300}]"], {}, "demand.hotspots[0].x", ""),
    (
        "lognormal-sd-1e160",
        [],
        {"categories": lognormal(8.0, 1e160)},
        "demand.categories.only.persuasion.sd",
        "",
    ),
    (
        "lognormal-1e-300-1e300",
        [],
        {"categories": lognormal(1e-300, 1e300)},
        "demand.categories.only.persuasion.mean",
        "",
    ),
    (
        "lognormal-sd-over-cv",
        [],
        {"categories": lognormal(1.0, 5000.0)},
        "demand.categories.only.persuasion",
        "times the mean",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "demand", "field", "words"),
    [c[1:] for c in BAD_VALUES],
    ids=[c[0] for c in BAD_VALUES],
)
def test_out_of_bounds_and_non_finite_values_are_refused_at_the_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    overrides: list[str],
    demand: dict[str, Any],
    field: str,
    words: str,
) -> None:
    data = json.loads(json.dumps(TINY))
    data["demand"].update(demand)
    path = write_yaml(tmp_path / "s.yaml", data)
    sets = [a for o in overrides for a in ("--set", o)]
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", path, *sets, "--out", out, "--quiet", "--no-plots")
    assert code == 2
    assert field in err and words in err
    assert not out.exists()  # refused before simulating, not after


def test_nan_is_called_not_finite_rather_than_out_of_range(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "validate", tiny, "--set", "staff.per_km2=.nan")
    assert code == 2
    line = next(x for x in err.splitlines() if "staff.per_km2" in x)
    assert "finite" in line and "1000" not in line


# ----------------------------------------------------------- paths: long, under a file, read-only


LONG = "x" * 5000


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "{tiny}", "--out", f"{{tmp}}/{LONG}"], "longer than"),
        (["run", "{tiny}", "--out", "{tmp}/" + "/".join(["d" * 49] * 100)], "longer than"),
        (["map", "{tiny}", "--out", f"{{tmp}}/{LONG}.png"], "longer than"),
        (["validate", f"{{tmp}}/{LONG}.yaml"], "cannot read"),
        (["validate", "{tiny}", "--map", f"{{tmp}}/{LONG}.graphml"], "map"),
        (["run", "{tiny}", "--out", "{tmp}/afile/sub"], "is a file"),
        (["map", "{tiny}", "--out", "{tmp}/afile/sub/map.png"], "is a file"),
        (["validate", "{tiny}", "--map", "{tmp}"], "map"),
    ],
    ids=[
        "out-5000-char-name",
        "out-5000-char-path",
        "map-out-5000-chars",
        "scenario-5000-chars",
        "map-file-5000-chars",
        "out-under-a-file",
        "map-out-under-a-file",
        "map-file-is-a-folder",
    ],
)
def test_unusable_paths_are_the_planners_mistake(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    (tmp_path / "afile").write_text("a file\n", encoding="utf-8")
    before = snapshot(tmp_path)
    argv = [a.format(tiny=tiny, tmp=tmp_path) for a in args] + (
        ["--quiet", "--no-plots"] if args[0] == "run" else []
    )
    code, _, err = cli(capsys, *argv)
    assert code == 2
    assert words in err
    assert max(map(len, err.splitlines())) < 1000  # a path is shortened, not echoed whole
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_out_is_refused_before_simulating(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.runner

    def simulated(*args: Any, **kw: Any) -> None:
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(sim.runner, "run", simulated)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        for out in (ro, ro / "sub"):
            code, _, err = cli(capsys, "run", tiny, "--out", out, "--quiet")
            assert code == 2 and "cannot write" in err
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


@linux_only
def test_a_location_nobody_may_write_is_refused_even_for_root(
    tiny: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.runner

    def simulated(*args: Any, **kw: Any) -> None:
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(sim.runner, "run", simulated)
    code, _, err = cli(capsys, "run", tiny, "--out", "/proc/no-results-here", "--quiet")
    assert code == 2 and "cannot write" in err


# ----------------------------------------------------------- row 15: duplicate YAML keys


def test_a_key_given_twice_names_the_key_and_both_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "name: twice\n"  # 1
        "map: {generate: {offices_x: 1, offices_y: 1, office_size_m: 400}}\n"  # 2
        "staff:\n"  # 3
        "  per_km2: 30\n"  # 4
        "  shifts: {advisor: [{start: '07:00', end: '19:00', share: 1}]}\n"  # 5
        "demand: {incidents_per_day: 100}\n"  # 6
        "staff:\n"  # 7
        "  per_km2: 40\n"  # 8
    )
    path = tmp_path / "twice.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = cli(capsys, "validate", path)
    assert code == 2
    assert "'staff'" in err and "lines 3 and 7" in err


def test_a_key_given_twice_inside_a_block_or_a_set_value_is_refused(
    tmp_path: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tiny.read_text(encoding="utf-8").replace(
        "  per_km2: 100\n", "  per_km2: 100\n  per_km2: 10\n"
    )
    assert text.count("per_km2") == 2
    path = tmp_path / "nested.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = cli(capsys, "validate", path)
    assert code == 2 and "'per_km2'" in err
    code, _, err = cli(
        capsys, "validate", tiny, "--set", "staff.mix={grid: 0.5, grid: 0.2, advisor: 0.3}"
    )
    assert code == 2 and "staff.mix" in err


# ----------------------------------------------------------- JSON Schema


def test_the_schema_command_matches_the_repository_copy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    copy = json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text(encoding="utf-8"))
    assert printed == copy, "regenerate: python -m sim schema > scenarios/scenario.schema.json"


SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_point_at_the_schema_and_pass_it(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    schema_path = path.parent / first.split("$schema=", 1)[1].strip()
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(validator.iter_errors(data)) == []
    # and the schema is strict enough to help an editor: a misspelt key is flagged
    assert list(validator.iter_errors({**data, "stafff": {"per_km2": 20}}))
    assert list(validator.iter_errors({**data, "name": "../up"}))


# ----------------------------------------------------------- strict JSON


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_every_json_the_tool_writes_is_strict_even_with_undefined_measures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(json.dumps(TINY))
    data["name"] = "calm"
    data["evaluation"] = {"enabled": True, "month_days": 0.25}
    data["demand"]["categories"] = {
        "only": {"share": 1.0, "persuasion": {"dist": "fixed", "value": 5}, "success": 1.0}
    }  # nothing escalates, so every enforcer measure is undefined
    path = write_yaml(tmp_path / "calm.yaml", data)
    run_out, sweep_out = tmp_path / "run", tmp_path / "sweep"
    assert cli(capsys, "run", path, "--out", run_out, "--quiet", "--no-plots")[0] == 0
    sweep = ["sweep", path, "--vary", "staff.per_km2=100,120", "--replications", "1"]
    assert (
        cli(capsys, *sweep, "--workers", "1", "--out", sweep_out, "--quiet", "--no-plots")[0] == 0
    )
    summary = strict_json((run_out / "summary.json").read_text(encoding="utf-8"))
    assert summary["escalated"] == 0 and summary["enforcer_on_time"] is None
    written = sorted(tmp_path.rglob("*.json"))
    assert {p.parent.name for p in written} >= {"run", "sweep", "runs"}
    for p in written:
        strict_json(p.read_text(encoding="utf-8"))


# ----------------------------------------------------------- exit codes: the machine's errors


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "no space left on the disk"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "no space left on the disk"),
        (MemoryError(), "out of memory"),
        (RuntimeError("a bug"), "internal error"),
    ],
    ids=["ENOSPC", "EDQUOT", "MemoryError", "bug"],
)
def test_a_machine_error_is_exit_1_in_one_line_with_a_traceback_only_on_debug(
    tmp_path: Path,
    tiny: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
    words: str,
) -> None:
    import sim.output.results

    def failing(data: Any) -> str:
        raise error

    monkeypatch.setattr(sim.output.results, "dumps", failing)
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", tiny, "--out", out, "--quiet", "--no-plots")
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and words in errors[0]
    assert not out.exists() and work_folders(tmp_path) == []
    with pytest.raises(type(error)):  # --debug lets it through, for its traceback
        main(["run", str(tiny), "--out", str(out), "--quiet", "--no-plots", "--debug"])
    assert not out.exists() and work_folders(tmp_path) == []


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@linux_only
@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="figures are drawn in children only on 2+ cores"
)
def test_drawing_children_are_stopped_when_interrupted_while_waiting_for_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import multiprocessing.context

    from sim.output import results

    started: list[Any] = []
    real_start = multiprocessing.context.ForkProcess.start

    def start(self: Any) -> None:
        real_start(self)
        started.append(self)

    def join(self: Any, timeout: float | None = None) -> None:
        raise KeyboardInterrupt  # Ctrl-C or SIGTERM arrives while the parent waits

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", start)
    monkeypatch.setattr(multiprocessing.context.ForkProcess, "join", join)
    try:
        with pytest.raises(KeyboardInterrupt), results._drawing([(_sleep, (30,)), (_sleep, (30,))]):
            pass
        assert len(started) == 2
        assert wait_until(lambda: not any(p.is_alive() for p in started), 3)
    finally:
        for p in started:
            if p.is_alive():
                p.kill()


@linux_only
@pytest.mark.parametrize("command", ["cache", "schema", "validate", "run"])
def test_a_pipe_closed_by_its_reader_ends_the_command_quietly(
    tiny: Path, tmp_path: Path, command: str
) -> None:
    # issue 20: `python -m sim cache | head -1` said "error: cannot access: Broken pipe", exit 1.
    # The test closes the pipe itself, before the command writes a byte: no race.
    args = {
        "cache": ["cache"],
        "schema": ["schema"],
        "validate": ["validate", tiny],
        "run": ["run", tiny, "--out", tmp_path / "out", "--no-plots"],
    }[command]
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sim", *map(str, args)],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert "error" not in proc.stderr and "Traceback" not in proc.stderr
    assert "Exception ignored" not in proc.stderr
    if command == "run":  # the results were written before the table was printed
        assert_complete_run(tmp_path / "out")


def test_a_broken_pipe_that_is_not_stdout_is_the_machines_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.cli.tools

    def broken(args: object) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(sim.cli.tools, "cmd_cache", broken)
    assert main(["cache"]) == 1
    assert "Broken pipe" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_workers_below_one_are_refused_naming_the_flag(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    # issue 20: --workers 0 was accepted, and nothing said what 0 means
    code, _, err = cli(
        capsys, "sweep", tiny, "--vary", "staff.per_km2=90,100", "--workers", workers,
        "--out", tmp_path / "sweep",
    )  # fmt: skip
    assert code == 2
    assert f"--workers {workers}: the number of local worker processes is at least 1" in err
    assert "leave it out to use all cores" in err and not (tmp_path / "sweep").exists()
    from sim.batch.options import SWEEP
    from sim.errors import ArgumentError

    with pytest.raises(ArgumentError):
        SWEEP.but(workers=0)
