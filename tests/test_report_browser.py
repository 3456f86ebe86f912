"""The report in a real browser: Debian's Chromium, headless, driven by Playwright.

``.ci/run`` installs ``chromium`` with apt (Playwright's own browser download cannot be
used: it comes from outside the package registries). The tests skip only where no
Chromium is installed, and say so; under CI they fail instead, unless ``.ci/run`` could
not install it (not root and no sudo: ``SIM_NO_BROWSER`` says why).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

if not Path(CHROMIUM).is_file():
    if os.environ.get("CI") and not os.environ.get("SIM_NO_BROWSER"):
        pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium with apt")
    pytest.skip(
        f"no Chromium installed ({os.environ.get('SIM_NO_BROWSER') or 'apt install chromium'}"
        "), so the report cannot be opened in a real browser here",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="pip install -e '.[dev]' brings Playwright"
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "jinshui"
    assert main(["run", str(ROOT / "scenarios" / "jinshui.yaml"), "--days", "1", "--out",
                 str(out), "--quiet", "--no-plots"]) == 0  # fmt: skip
    return out


@pytest.fixture(scope="module")
def page(folder: Path) -> Iterator[Any]:
    """The report open in Chromium, every request that is not the file itself refused."""
    with sync_api.sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1000},
        )  # fmt: skip
        outside: list[str] = []
        errors: list[str] = []

        def refuse(route: Any) -> None:
            url = route.request.url
            if url.startswith("file://") and url.endswith("/report.html"):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        ctx.route("**/*", refuse)
        pg = ctx.new_page()
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto((folder / "report.html").as_uri())
        pg.wait_for_function("document.querySelectorAll('#map-grids path.js-fill').length > 0")
        pg.outside, pg.errors = outside, errors
        yield pg
        ctx.close()


def test_no_console_errors_and_nothing_leaves_the_file(page: Any) -> None:
    page.wait_for_timeout(500)
    assert page.errors == []
    assert page.outside == []


def test_one_shape_per_office_and_grid(page: Any, folder: Path) -> None:
    s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert page.locator("#map-offices path.js-fill").count() == len(s["by_area"]) == 15
    assert page.locator("#map-grids path.js-fill").count() == len(s["by_grid"]) == 102


def test_hovering_an_office_shows_its_figures(page: Any, folder: Path) -> None:
    from sim.analysis.measures import OFFICE
    from sim.output.report.inputs import read_run
    from sim.output.runtext import measure_text

    run = read_run(folder)
    names = run.geometry.offices.column("office")
    k = names.index("Dongfenglu")
    point = shapely.Polygon(run.geometry.offices.shapes[k].geoms[0]).representative_point()
    page.locator("#map-offices").scroll_into_view_if_needed()
    x, y = page.evaluate(
        """([x, y]) => { const gd = document.getElementById('map-offices');
        const L = gd._fullLayout, r = gd.getBoundingClientRect();
        return [r.left + L._size.l + L.xaxis.l2p(x), r.top + L._size.t + L.yaxis.l2p(y)]; }""",
        [point.x, point.y],
    )
    page.mouse.move(x, y)
    label = page.locator("#map-offices .hoverlayer .hovertext")
    label.wait_for(timeout=5000)
    text = label.text_content() or ""
    row = next(r for r in run.summary["by_area"] if r["office"] == "Dongfenglu")
    assert "Dongfenglu" in text and "东风路街道" in text
    for name in ("double_ten", "advisor_on_time", "enforcer_on_time", "incidents"):
        shown = measure_text(OFFICE[name], row[name], replications=1).strip()
        assert shown in text, name


def test_the_replay_clock_advances_after_play(page: Any) -> None:
    clock = page.locator("#replay-clock")
    page.locator("#replay").scroll_into_view_if_needed()
    before = clock.inner_text()
    assert before.startswith("Day 1 · 00:00")
    page.locator("#replay-play").click()
    page.wait_for_timeout(1500)
    page.locator("#replay-play").click()  # pause
    after = clock.inner_text()
    assert after != before and after > before
    assert int(page.locator("#replay-time").input_value()) > 0


def test_the_office_table_sorts(page: Any) -> None:
    first = page.locator("#office-table tbody tr").first
    header = page.locator("#office-table th", has_text="double ten")
    header.click()
    low = first.get_attribute("data-office")
    header.click()
    assert first.get_attribute("data-office") != low
