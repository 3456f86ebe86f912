"""report.html, results.gpkg and the replay: built from the results folder, true to it."""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

import sim
from sim.analysis import measures as registry
from sim.analysis import replay as rp
from sim.analysis.measures import lookup
from sim.cli import main
from sim.output.folders import read_manifest
from sim.output.results import RunFiles, write_run

ROOT = Path(__file__).resolve().parents[1]


class _Tagged(HTMLParser):
    """Every element carrying ``data-measure`` and ``data-value``, with its row's office."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str | None]] = []
        self.office: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr":
            self.office = a.get("data-office")
        if a.get("data-measure") is not None:
            self.found.append((str(a["data-measure"]), str(a.get("data-value") or ""), self.office))


def tagged(html: str) -> list[tuple[str, str, str | None]]:
    parser = _Tagged()
    parser.feed(html)
    return parser.found


@pytest.fixture(scope="module")
def jinshui(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days of the default scenario (a map with a geographic origin), written as a user would."""
    out = tmp_path_factory.mktemp("run") / "jinshui"
    code = main(["run", str(ROOT / "scenarios" / "jinshui.yaml"), "--days", "2", "--out", str(out),
                 "--quiet", "--no-plots"])  # fmt: skip
    assert code == 0
    return out


def summary_of(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return data


def test_every_number_in_the_report_is_the_summary_s(jinshui: Path) -> None:
    s = summary_of(jinshui)
    html = (jinshui / "report.html").read_text(encoding="utf-8")
    found = tagged(html)
    offices = {r["office"]: r for r in s["by_area"]}
    run_level = [(m, v) for m, v, office in found if office is None]
    in_rows = [(m, v, office) for m, v, office in found if office is not None]
    assert {m for m, _ in run_level} >= {"double_ten", "advisor_on_time", "enforcer_on_time",
                                         "headcount.total", "enforcement.cases"}  # fmt: skip
    for name, value in run_level:
        expected = lookup(s, name)  # every registry name is a path in summary.json
        assert value == ("" if expected is None else repr(expected)), name
    assert len({office for _, _, office in in_rows}) == len(offices)
    for name, value, office in in_rows:
        row = offices[str(office)]
        key = name.removeprefix("enforcement.")
        if name in registry.OFFICE:
            expected = row.get(name)
        elif key in ("cases", "fines_yuan"):
            expected = next(o[key] for o in s["enforcement"]["by_office"] if o["office"] == office)
        else:
            continue
        assert value == ("" if expected is None else repr(expected)), (office, name)


def test_the_report_is_one_file_with_nothing_to_fetch(jinshui: Path) -> None:
    from sim.output.report.page import plotly_js

    html = (jinshui / "report.html").read_text(encoding="utf-8")
    assert plotly_js() in html  # the library, inlined whole (its own links are in strings)
    ours = html.replace(plotly_js(), "")
    assert not re.search(r"""(src|href|url)[=(]["']?(https?:)?//""", ours)
    assert "<script src" not in ours and "<link" not in ours
    size = (jinshui / "report.html").stat().st_size
    assert size < 8e6, size
    # the Chinese glyphs come with the page, cut to the ones it uses: kilobytes
    font = re.search(r"atob\('([A-Za-z0-9+/=]+)'\)", html)
    assert font is not None and len(font.group(1)) < 200_000
    for name in ("北林路街道", "劝导员"):
        assert name in html


def test_the_geopackage_has_every_layer_with_the_summary_s_measures(jinshui: Path) -> None:
    import pyogrio

    path = jinshui / "results.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {"offices", "grids", "posts", "hotspots", "incidents", "streets"}
    s = summary_of(jinshui)
    assert pyogrio.read_info(path, layer="offices")["crs"] == "EPSG:4326"
    _, offices = pyogrio.read_arrow(path, layer="offices")
    got = dict(zip(offices["office"].to_pylist(), offices["double_ten"].to_pylist(), strict=True))
    assert got == {r["office"]: r["double_ten"] for r in s["by_area"]}
    lon = pyogrio.read_info(path, layer="offices")["total_bounds"]
    assert 113 < lon[0] < lon[2] < 114 and 34 < lon[1] < lon[3] < 35  # Zhengzhou, in lon/lat
    _, incidents = pyogrio.read_arrow(path, layer="incidents")
    assert incidents.num_rows == pytest.approx(s["incidents"], abs=0.5)  # measured ones only
    instructed = np.asarray(incidents["instructed"])
    assert instructed.min() >= 0 and instructed.max() < s["days"] * 1440  # minutes in the window
    _, posts = pyogrio.read_arrow(path, layer="posts")
    roles = posts["role"].to_pylist()
    assert roles.count("advisor") == s["headcount"]["advisor"]
    assert roles.count("enforcer") * 2 == s["headcount"]["enforcer"]  # teams of two


def test_an_old_folder_rebuilds_its_report_without_the_scenario(
    jinshui: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old"
    shutil.copytree(jinshui, old)
    (old / "report.html").unlink()
    manifest = read_manifest(old)
    assert manifest is not None and Path(manifest["sources"]["map.file"]).is_absolute()
    assert main(["report", str(old), "--day", "2"]) == 0
    html = (old / "report.html").read_text(encoding="utf-8")
    assert "Replaying day 2 of 2" in html
    assert sorted(tagged(html)) == sorted(tagged((jinshui / "report.html").read_text("utf-8")))
    assert main(["report", str(old), "--day", "3"]) == 2  # there is no day 3


def test_parquet_instead_of_csv(tmp_path: Path) -> None:
    from conftest import SMALL_CITY

    result = sim.run(sim.scenario_from_dict(SMALL_CITY), seed=2)
    out = write_run(
        result, tmp_path / "out", files=RunFiles(plots=False, incident_format="parquet")
    )
    assert (out / "incidents.parquet").is_file() and not (out / "incidents.csv").exists()
    import pandas as pd

    frame = pd.read_parquet(out / "incidents.parquet")
    assert len(frame) == len(result.table)
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0  # the rebuild reads the Parquet table
    assert (out / "report.html").stat().st_size > 1e6


def test_the_replay_rides_along_the_streets_at_the_role_s_speed(jinshui: Path) -> None:
    from sim.output.report.inputs import read_run
    from sim.output.report.runpage import replay_of

    run = read_run(jinshui)
    rep = replay_of(run, None)
    daily = [d["double_ten"] for d in rep.daily]
    assert rep.double_ten == min(daily)  # the worst day by default
    st = rep.streets
    graph = st.graph().tocsr()
    speed = 15 * 1000 / 60  # e-bike, km/h → m/min
    trips = rep.trips["advisor"]
    assert len(trips) > 1000
    for k in range(0, len(trips), 97):
        path = trips.path[trips.path_start[k] : trips.path_start[k + 1]]
        if len(path) < 2:
            continue
        length = sum(graph[a, b] for a, b in itertools.pairwise(path))  # streets
        ride = float(trips.at_scene[k] - trips.leave_post[k])
        assert ride == pytest.approx(length / speed, rel=1e-4, abs=1e-3)
        assert trips.leave_post[k] <= trips.at_scene[k] <= trips.leave_scene[k] <= trips.at_post[k]
        back = trips.back[trips.back_start[k] : trips.back_start[k + 1]]
        assert list(back) == list(path[::-1])  # the way back on two-way streets


def replay_data(html: str) -> dict[str, Any]:
    block = re.search(
        r'<script type="application/json" id="replay-data">(.*?)</script>', html, re.S
    )
    assert block is not None
    data: dict[str, Any] = json.loads(block.group(1))
    return data


def test_a_day_with_more_incidents_than_shown_is_thinned_and_says_so(
    jinshui: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.output.report import run_report
    from sim.output.report.inputs import read_run
    from sim.output.report.runpage import replay_of

    full = replay_of(read_run(jinshui), 1)
    assert len(full.incidents["occurred"]) == full.incidents_active > 1000  # not thinned
    monkeypatch.setattr(rp, "MAX_SHOWN", 400)
    rep = replay_of(read_run(jinshui), 1)
    assert len(rep.incidents["occurred"]) == 400 < rep.incidents_active == full.incidents_active
    assert rep.double_ten == full.double_ten and rep.daily == full.daily  # of every incident
    # the rides are of the shown incidents only, and within the day
    for trips in rep.trips.values():
        assert 0 < len(trips) <= 400
        assert np.all(~(trips.at_post < 0)) and np.all(trips.leave_post < rp.DAY_MIN)
    html = run_report(jinshui, day=1)
    assert "id='replay-thinned'" in html and f"{full.incidents_active:,} incidents" in html
    data = replay_data(html)
    assert (data["shown"], data["active"]) == (400, full.incidents_active)
    assert len(base64.b64decode(data["incidents"]["occurred"]["b"])) == 4 * 400


def test_rides_beyond_the_routing_budget_go_in_straight_lines(
    jinshui: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.output.report import run_report
    from sim.output.report.inputs import read_run
    from sim.output.report.runpage import replay_of

    routed = replay_of(read_run(jinshui), 1)
    assert routed.routed  # Jinshui's rides are routed along the streets
    monkeypatch.setattr(rp, "ROUTE_BUDGET", 0)
    rep = replay_of(read_run(jinshui), 1)
    assert not rep.routed
    trips, before = rep.trips["advisor"], routed.trips["advisor"]
    assert len(trips) == len(before) > 100
    assert np.all(np.diff(trips.path_start) == 2) and np.all(np.diff(trips.back_start) == 2)
    posts = rep.posts["advisor"][trips.unit]
    assert np.array_equal(trips.path[0::2], posts) and np.array_equal(trips.back[1::2], posts)
    # the same arrivals and returns; the ride out as long as it took from the dispatch
    assert np.array_equal(trips.at_scene, before.at_scene)
    assert np.array_equal(trips.at_post, before.at_post, equal_nan=True)
    assert np.all(trips.leave_post <= before.leave_post + 1e-3)
    assert "straight lines" in run_report(jinshui, day=1)


def test_thinned_keeps_evenly_spaced_rows() -> None:
    keep = rp.thinned(10, 4)
    assert keep.tolist() == [True, False, False, True, False, False, True, False, False, True]
    assert rp.thinned(3, 4).all()


def test_the_player_takes_its_roles_from_the_registry(jinshui: Path) -> None:
    from sim.roles import BY_NAME, CLOCKED_ROLES

    data = replay_data((jinshui / "report.html").read_text(encoding="utf-8"))
    assert [r["name"] for r in data["roles"]] == list(CLOCKED_ROLES) == list(data["trips"])
    for r in data["roles"]:
        info = BY_NAME[r["name"]]
        assert (r["colour"], r["marker"], r["plural"]) == (info.colour, info.marker, info.plural)
    js = (ROOT / "sim" / "output" / "report" / "player.js").read_text(encoding="utf-8")
    for role in BY_NAME:  # no role is named in the player: a new one needs no edit there
        assert f'"{role}"' not in js and f"'{role}'" not in js, role


def test_the_daily_chart_keeps_the_share_axis_rule() -> None:
    from sim.output.report import figures
    from sim.viz.scales import MIN_SHARE_SPAN, THIN_COLOUR

    rows = [{"day": d, "double_ten": 0.93 + 0.01 * d, "incidents": 3000} for d in range(1, 8)]
    rows[2]["incidents"] = 12  # a thin day: hollow
    fig = figures.daily(rows, 1, 0.95)
    trace = fig["data"][0]
    assert trace["type"] == "scatter"  # points, so the axis may zoom (bars start at zero)
    low, high = fig["layout"]["yaxis"]["range"]
    assert high >= 100 and high - low >= 100 * MIN_SHARE_SPAN and low <= 93
    assert trace["marker"]["color"][2] == THIN_COLOUR != trace["marker"]["color"][3]


def test_writing_the_geopackage_leaves_gdal_s_settings_as_they_were(tmp_path: Path) -> None:
    import pyogrio

    from sim.output import gis

    layer = gis.Layer("hotspots", "Point", np.array([shapely.Point(0, 0)]), {"n": np.array([1])})
    gis.write_gpkg([layer], None, tmp_path / "x.gpkg")
    assert pyogrio.read_info(tmp_path / "x.gpkg", layer="hotspots")["features"] == 1
    assert pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS") is None
    assert pyogrio.get_gdal_config_option("OGR_SQLITE_JOURNAL") is None


def test_states_follow_the_record() -> None:
    rules = sim.scenario.Rules()
    inc = {
        "occurred": np.array([0.0, 0.0, 0.0]),
        "instructed": np.array([5.0, 5.0, 5.0]),
        "advisor_arrived": np.array([9.0, 30.0, 9.0]),
        "persuasion_ended": np.array([15.0, 40.0, 15.0]),
        "enforcer_arrived": np.array([np.nan, np.nan, 20.0]),
        "closed": np.array([15.0, 40.0, 50.0]),
        "escalated": np.array([False, False, True]),
        "late": np.array([False, True, False]),
    }
    at = [list(rp.states_at(inc, t, rules)) for t in (1.0, 7.0, 17.0, 18.0, 25.0, 60.0, 100.0)]
    assert at[0] == [rp.UNREPORTED] * 3
    assert at[1] == [rp.WAITING] * 3
    assert at[2] == [rp.CLOSED, rp.LATE, rp.ESCALATED]  # 12 min without an advisor: late
    assert at[4] == [rp.CLOSED, rp.LATE, rp.TEAM]
    assert at[5] == [rp.HIDDEN, rp.CLOSED_LATE, rp.CLOSED]
    assert at[6] == [rp.HIDDEN] * 3


def test_replay_video_gif(jinshui: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "evening.gif"
    code = main(["replay", str(jinshui), "--day", "1", "--from", "18:00", "--to", "18:20",
                 "--step", "5", "--out", str(out)])  # fmt: skip
    assert code == 0
    with Image.open(out) as im:
        assert im.n_frames == 5
        # every state keeps its own colour (the legend draws each of them on every frame):
        # an adaptive palette merged the few red pixels of "late" into the waiting orange
        drawn = {c for _, c in im.convert("RGB").getcolors(maxcolors=1 << 16) or []}
    from sim.viz.replayvideo import STATE_COLORS

    legend = (rp.WAITING, rp.LATE, rp.ADVISOR, rp.ESCALATED, rp.TEAM, rp.CLOSED)
    for hexcolour in (STATE_COLORS[s] for s in legend):
        assert tuple(int(hexcolour[i : i + 2], 16) for i in (1, 3, 5)) in drawn, hexcolour
    assert main(["replay", str(jinshui), "--from", "20:00", "--to", "19:00",
                 "--out", str(tmp_path / "x.gif")]) == 2  # fmt: skip
    assert main(["replay", str(jinshui), "--out", str(tmp_path / "x.avi")]) == 2


def test_replay_video_mp4(jinshui: Path, tmp_path: Path) -> None:
    out = tmp_path / "evening.mp4"
    code = main(["replay", str(jinshui), "--from", "18:00", "--to", "18:10",
                 "--step", "5", "--out", str(out)])  # fmt: skip
    assert code == 0
    assert out.read_bytes()[4:8] == b"ftyp"  # an MP4 container


def test_two_runs_side_by_side(jinshui: Path, tmp_path: Path) -> None:
    from conftest import SMALL_CITY

    other = write_run(
        sim.run(sim.scenario_from_dict(SMALL_CITY), seed=2), tmp_path / "small",
        files=RunFiles(plots=False, report=False),
    )  # fmt: skip
    out = tmp_path / "cmp.html"
    assert main(["report", str(jinshui), str(other), "--out", str(out)]) == 0
    found = tagged(out.read_text(encoding="utf-8"))
    for folder in (jinshui, other):
        value = repr(summary_of(folder)["double_ten"])
        assert ("double_ten", value, None) in found


def test_a_sweep_folder_has_its_report(tmp_path: Path) -> None:
    import pandas as pd
    from conftest import SMALL_CITY

    from sim.batch.sweeps import run_sweep

    out = tmp_path / "sweep"
    run_sweep(sim.scenario_from_dict(SMALL_CITY), {"staff.per_km2": [15, 25]},
              replications=2, workers=1, out=out, plots=False)  # fmt: skip
    html = (out / "report.html").read_text(encoding="utf-8")
    summary = pd.read_csv(out / "summary.csv")
    found = [(m, v) for m, v, _ in tagged(html) if m == "double_ten"]
    assert [float(v) for _, v in found] == pytest.approx(list(summary["double_ten"]))
    assert (read_manifest(out) or {})["files"]["report.html"] == "sweep"
    assert main(["report", str(out)]) == 0  # rebuilt from the folder
    assert main(["report", str(out), "--day", "1"]) == 2  # a sweep has no replay


def test_a_shift_plan_s_report_shows_every_role_and_clock_by_hour(tmp_path: Path) -> None:
    from sim.output.report.batchpage import shift_page

    hours = [
        {"hour": f"{h:02d}:00",
         **{f"{r}.{k}": v for r in ("advisor", "enforcer")
            for k, v in (("need", 3), ("on_duty_old", 4.0), ("on_duty_new", 3.0))},
         **{f"{c}.{k}": v for c in ("advisor_on_time", "enforcer_on_time")
            for k, v in (("old", 0.9), ("new", 0.97), ("new.lower", 0.95))}}
        for h in range(24)
    ]  # fmt: skip
    (tmp_path / "shifts.json").write_text(
        json.dumps({"scenario": "x", "scenario_file": "x_shifts.yaml", "hours": hours}), "utf-8"
    )
    page = shift_page(tmp_path)
    duty = page.figures["shift-duty"]["data"]
    assert [t["name"] for t in duty][:3] == [
        "advisor: own shifts",
        "advisor: plan",
        "advisor: need",
    ]
    assert len(duty) == 6 and all(len(t["y"]) == 24 for t in duty)
    on_time = [t for t in page.figures["shift-on-time"]["data"] if t.get("name")]
    assert {t["name"] for t in on_time} == {
        "advisor_on_time: plan", "advisor_on_time: own shifts",
        "enforcer_on_time: plan", "enforcer_on_time: own shifts",
    }  # fmt: skip
    assert on_time[0]["y"][0] == pytest.approx(97.0)


def test_the_report_names_its_folder_and_the_files_it_was_built_from(jinshui: Path) -> None:
    """The report is written inside the run's temporary folder while figures are still being
    drawn beside it: its footer must name the folder the user gets and the files the report
    read, so that the same run writes the same page."""
    html = (jinshui / "report.html").read_text(encoding="utf-8")
    footer = re.search(r"Written by chengguan-sim from ([^<]*?)\. (?:Sources|Charts)", html)
    assert footer is not None
    assert footer.group(1) == "jinshui/ (summary.json, results.gpkg, incidents.csv)"
    assert ".jinshui.partial" not in html  # the temporary folder's name
