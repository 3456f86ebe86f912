"""``python -m sim fit`` as a planner runs it: files written, the fitted scenario runs,
and a bad log is a few lines and exit code 2, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.scenario.demand import read_hotspots
from tests.conftest import ROOT

MAP = ROOT / "maps" / "aguascalientes" / "aguascalientes.osm.bz2"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A base scenario in its own folder, naming its map relatively and two hotspots in
    its enforcement sections: one the log has, one it cannot have (rate 0)."""
    root = tmp_path_factory.mktemp("fitcli")
    (root / "maps").mkdir()
    shutil.copy(MAP, root / "maps" / "a.osm.bz2")
    (root / "scen").mkdir()
    data = yaml.safe_load((ROOT / "scenarios" / "aguascalientes.yaml").read_text(encoding="utf-8"))
    data["map"]["file"] = "../maps/a.osm.bz2"
    data["duration"] = {"days": 10, "warmup_hours": 0}
    market = data["demand"]["hotspots"][0]
    market["incidents_per_hour"] = 3.0
    ghost = {"name": "Ghost", "lon": -102.2700, "lat": 21.8650, "radius_m": 100,
             "incidents_per_hour": 0.0}  # fmt: skip
    data["demand"]["hotspots"].append(ghost)
    data["enforcement"] = {
        "enabled": True,
        "offenders": {"hotspots": {market["name"]: {"share": 0.5}, "Ghost": {"share": 0.5}}},
        "campaign": {"hotspots": [market["name"], "Ghost"]},
    }
    path = root / "scen" / "base.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["run", str(path), "--out", str(root / "run"), "--no-plots", "--quiet"]) == 0
    return path


def test_fit_writes_a_fitted_scenario_that_runs(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = base.parent.parent / "run" / "incidents.csv"
    out = tmp_path / "out" / "fit"
    assert main(["fit", str(log), "--scenario", str(base), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "incidents per day" in printed.out and "Traceback" not in printed.err
    assert {p.name for p in out.iterdir()} >= {
        "scenario.yaml", "hotspots.geojson", "fit.json", "fit.txt", "fit_profiles.png",
        "fit_categories.png", "fit_hotspots.png", "fit_dispersion.png",
    }  # fmt: skip
    summary = json.loads((out / "fit.json").read_text(encoding="utf-8"))
    assert summary["rows"]["read"] == summary["rows"]["used"] + sum(
        summary["rows"]["dropped"].values()
    )
    assert sum(summary["hourly_profile"]) == pytest.approx(1.0, abs=1e-5)
    assert len(summary["weekday_profile"]) == 7
    assert sum(summary["categories"].values()) == pytest.approx(1.0, abs=1e-5)
    assert {"name", "lon", "lat", "radius_m", "start", "end", "incidents_per_hour"} <= set(
        summary["hotspots"][0]
    )
    assert {"daily_index", "overdispersed"} <= set(summary["dispersion"])
    fitted = yaml.safe_load((out / "scenario.yaml").read_text(encoding="utf-8"))
    # relative to the new folder, and still the base's map
    assert not Path(fitted["map"]["file"]).is_absolute()
    assert (out / fitted["map"]["file"]).resolve() == (
        base.parent.parent / "maps" / "a.osm.bz2"
    ).resolve()
    names = {h["name"] for h in fitted["demand"]["hotspots"]}
    market = "Downtown evening market"
    assert market in names and "Ghost" not in names
    assert set(fitted["enforcement"]["offenders"]["hotspots"]) == {market}
    assert fitted["enforcement"]["campaign"]["hotspots"] == [market]
    assert "Ghost: no fitted hotspot covers it; dropped" in (out / "fit.txt").read_text(
        encoding="utf-8"
    )
    geo = json.loads((out / "hotspots.geojson").read_text(encoding="utf-8"))
    assert geo["type"] == "FeatureCollection" and geo["features"][0]["geometry"]["type"] == "Point"
    # the file is what demand.hotspots_from reads: the same hotspots come back
    from_file = read_hotspots(out / "hotspots.geojson", {})
    assert [h.name for h in from_file] == [h["name"] for h in fitted["demand"]["hotspots"]]
    runs = tmp_path / "runs"
    assert main(["run", str(out / "scenario.yaml"), "--days", "1", "--out", str(runs),
                 "--no-plots", "--quiet"]) == 0  # fmt: skip


def _fails(args: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[0].startswith("error: ")
    return lines


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"", "the file is empty"),
        (bytes(range(256)) * 40, "not a text file"),
        (b"time,category,lon,lat\n", "no rows"),
        (b"time,category,lon,lat\nnever,noise,x,y\nsoon,,1,2\n", "no usable row"),
        (
            b"time,category,lon,lat\n2024-01-01T08:00+08:00,noise,-102.27,21.87\n"
            b"2024-01-01T08:00Z,noise,-102.27,21.87\n",
            "different UTC offsets",
        ),
        (b"time,category,lon,lat\n2024-01-01 08:00,noise,-118.3,34.1\n", "outside the map"),
    ],
)
def test_a_bad_log_is_exit_2_with_a_line_per_problem(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expect: str
) -> None:
    log = tmp_path / "log.csv"
    log.write_bytes(content)
    lines = _fails(["fit", str(log), "--scenario", str(base), "--out", str(tmp_path / "o")], capsys)
    assert any(expect in line for line in lines), lines
    assert not (tmp_path / "o").exists()


def test_bad_flags_are_named_as_flags(
    base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.csv"
    pd.DataFrame([{"t": "2024-01-01 08:00", "c": "noise", "lon": -102.27, "lat": 21.87}]).to_csv(
        log
    )
    lines = _fails(
        ["fit", str(log), "--scenario", str(base), "--columns", "when=t",
         "--sample-fraction", "2", "--timezone", "Nowhere/Else"],
        capsys,
    )  # fmt: skip
    text = "\n".join(lines)
    assert "--columns" in text and "--sample-fraction" in text and "--timezone" in text


def _field_at(path: str) -> Any:
    """The pydantic field at a dotted schema path (optional models followed)."""
    from sim.scenario import Scenario

    model: Any = Scenario
    field = None
    for part in path.replace("[]", "").split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        field = fields[part]
        args = [field.annotation, *getattr(field.annotation, "__args__", ())]
        model = next((a for a in args if hasattr(a, "model_fields")), None)
    return field


def test_every_field_naming_a_file_is_rewritten_when_a_fit_moves_a_scenario() -> None:
    """A field that names a file must carry the marker ``fitted_scenario`` rewrites by;
    one whose description says it is read relative to the scenario is such a field."""
    from sim.scenario import Scenario, file_fields
    from tests.test_docs import schema_keys

    marked = set(file_fields())
    assert {
        "map.file", "map.offices", "map.grids", "map.cut.geojson", "demand.hotspots_from.geojson",
        "demand.trace.file", "staff.roster.file",
    } <= marked  # fmt: skip
    assert '"x-file"' in json.dumps(Scenario.model_json_schema())  # editors see it too
    described = {
        path
        for path, _, _ in schema_keys(Scenario)
        if "relative to the scenario" in (getattr(_field_at(path), "description", "") or "")
    }
    assert {"staff.roster.file", "demand.hotspots_from.geojson"} <= described
    assert described <= marked
