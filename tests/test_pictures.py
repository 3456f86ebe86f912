"""What the pictures and tables of a run say (issue 20: "misleading pictures").

Each test draws a picture from a small run, catches the figure before it is saved and
checks what a planner would misread if it regressed: an axis that exaggerates, a colour
scale that turns a 3-point spread into pass and fail, flags as fractions, a share without
its sample, a legend entry for nothing, an empty chart. The rules themselves are in
``sim/viz/scales.py`` (``tests/test_scales.py``).
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import SMALL_CITY
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import sim
from sim.output import runtext
from sim.runner import RunResult
from sim.viz import basemap, enforcementplot, mapplot, rankplot, report, scales


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Figure]]:
    """Figures the plot functions would save, kept for the test instead."""
    caught: list[Figure] = []

    def keep(fig: Figure, path: Path) -> None:
        caught.append(fig)

    for module, name in ((report, "save"), (enforcementplot, "save"), (basemap, "save_map"),
                         (mapplot, "save_map")):  # fmt: skip
        monkeypatch.setattr(module, name, keep)
    yield caught
    for fig in caught:
        plt.close(fig)


def _market(days: float, **campaign: Any) -> dict[str, Any]:
    """SMALL_CITY with the enforcement chain, its market, and a campaign of 90 days."""
    data = copy.deepcopy(SMALL_CITY)
    data["duration"] = {"days": days, "warmup_hours": 0}
    data["evaluation"] = {"enabled": False}
    data["enforcement"] = {
        "enabled": True,
        "offenders": {"hotspots": {"market": {"share": 1.0, "daily_p": 0.8}}},
        "cases": {"track": 0.3},
        "campaign": {"hotspots": ["market"], "days": 90, **campaign},
    }
    return data


@pytest.fixture(scope="module")
def evaluated() -> RunResult:
    """Two replications of four half-day months: an evaluation with flags to draw."""
    data = copy.deepcopy(SMALL_CITY)
    data["duration"] = {"days": 2, "warmup_hours": 2}
    data["evaluation"] = {"month_days": 0.5}
    return sim.run(sim.scenario_from_dict(data), replications=2)


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


def _legend_texts(fig: Figure) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    return [t.get_text() for lg in legends if lg is not None for t in lg.get_texts()]


def test_score_map_scale_says_how_big_differences_are_and_flags_are_counts(
    evaluated: RunResult, figures: list[Figure]
) -> None:
    # issue 20: the scale spanned 88-92 points (a 3-point spread looked like pass and fail)
    # and flags read "⚑0.5"
    assert evaluated.evaluation is not None
    rankplot.draw_score_map(evaluated.world, evaluated.evaluation, Path("unused.png"))
    (fig,) = figures
    cbar = fig.axes[-1]
    low, high = sorted(cbar.get_ylim())
    assert high - low >= 2 * scales.SCORE_HALF_SPAN - 1e-9 or high == 100 or low == 0
    flags = [line for t in _texts(fig) for line in t.splitlines() if "⚑" in line]
    assert flags, "no flag drawn"
    for line in flags:  # two replications: the share of the office's months, whole percent
        assert re.fullmatch(r"((red|black) ⚑ \d+%\s*)+", line), line
    months = evaluated.evaluation.months * 2
    assert any(f"share of the office's {months} months" in t for t in _texts(fig)) or any(
        f"share of the office's {months} months" in ax.get_title(loc="left") for ax in fig.axes
    )


def test_evaluation_table_says_what_each_column_is_over(evaluated: RunResult) -> None:
    # issue 20: replication 0's last-month rank stood beside the pooled mean rank (rank 1
    # beside mean rank 6.0), and an empty escalation column was printed
    block = evaluated.summary["evaluation"]
    pooled = runtext.evaluation_text(block, 2)
    head, table = pooled.split("\n", 2)[1], pooled.split("\n", 2)[2]
    assert "over 2 replications × 4 months" in head
    columns = table.splitlines()[0]
    assert columns.startswith("mean rank") and " rank " not in columns.removeprefix("mean rank")
    assert "flag" not in columns and "escalation" not in columns
    ranks = [float(line.split()[0]) for line in table.splitlines()[2:]]
    assert ranks == sorted(ranks)  # sorted by what is shown
    one = runtext.evaluation_text(block, 1)
    assert "month 4, the last" in one and "months with that flag, of the 4" in one
    assert "P(black)" not in one and "mean rank" not in one
    assert ("escalation" in one) == any(r["escalation"] for r in block["last_month"])


def test_on_time_by_hour_shows_the_enforcer_lines_sample(
    evaluated: RunResult, figures: list[Figure]
) -> None:
    # issue 20: the bars counted all instructions; the enforcer line rested on far fewer
    # escalations that were not shown
    s = evaluated.summary
    report.plot_by_hour(s, Path("unused.png"))
    (fig,) = figures
    ax, vol = fig.axes
    heights = [p.get_height() for p in vol.patches if isinstance(p, Rectangle)]
    assert [r["escalated"] for r in s["by_hour"]] == heights[24:48]
    assert [r["incidents"] for r in s["by_hour"]] == heights[:24]
    legend = " ".join(_legend_texts(fig))
    assert "the enforcer line's sample" in legend
    # a pooled share rests on every replication's escalations
    thin = [scales.is_thin(2 * r["escalated"]) for r in s["by_hour"]]
    enforcer = [c for c in ax.collections if isinstance(c, PathCollection)][1]
    faces = enforcer.get_facecolors()
    hollow = [bool(np.allclose(f[:3], 1.0)) for f in faces]
    assert hollow == thin and any(thin)
    low, _ = ax.get_ylim()
    assert low <= 100 * (1 - scales.MIN_SHARE_SPAN) + 1e-9


def test_plan_axis_starts_low_enough_and_legend_lists_only_what_is_shown(
    tmp_path: Path, figures: list[Figure]
) -> None:
    # issue 20: plan.png's right axis started at 92%, and the legend listed "office below
    # target" when none was
    from types import SimpleNamespace

    import pandas as pd

    from sim.viz.planplot import plot_plan

    plan = SimpleNamespace(
        table=pd.DataFrame(
            {
                "office": ["A", "B"],
                "name_zh": ["", ""],
                "density": [15.0, 18.0],
                "staff": [30, 36],
                "area_km2": [2.0, 2.0],
                "baseline_staff": [40, 40],
                "meets_target": [True, True],
                "double_ten.lower": [0.961, 0.975],
                "baseline_double_ten.lower": [0.97, 0.98],
            }
        ),
        totals={"staff": 66, "baseline_staff": 80, "offices": 2, "offices_meeting_target": 2},
        meta={"targets": {"double_ten": 0.95}, "confidence": 0.95, "baseline_density": 20,
              "scenario": "t", "replications": 4, "days": 1},
    )  # fmt: skip
    plot_plan(plan, tmp_path / "plan.png")
    (fig,) = figures
    right = fig.axes[1]
    assert right.get_xlim()[0] <= 80 + 1e-9
    assert not [p for p in right.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    legend = _legend_texts(fig)
    assert "plan: office meets the target" in legend
    assert not any("below the target" in t for t in legend)


def test_office_chart_has_no_truncated_bars(evaluated: RunResult, figures: list[Figure]) -> None:
    report.plot_by_office(evaluated.summary, Path("unused.png"))
    (fig,) = figures
    ax = fig.axes[0]
    assert not [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    assert ax.get_xlim()[0] <= 80 + 1e-9
    n = {round(2 * r["incidents"]) for r in evaluated.summary["by_area"]}  # pooled
    assert {int(t.get_text().rsplit("n=", 1)[1].replace(",", "")) for t in ax.texts} == n


def _hotspot_figure(days: float, figures: list[Figure], **campaign: Any) -> Figure:
    result = sim.run(sim.scenario_from_dict(_market(days, **campaign)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # issue 20: matplotlib warned of an empty legend
        enforcementplot.plot_hotspots_weekly(result.summary, result.table, Path("unused.png"))
    (fig,) = figures
    return fig


def test_hotspots_of_a_one_day_run_are_totals_not_an_empty_chart(figures: list[Figure]) -> None:
    ax = _hotspot_figure(1, figures).axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    assert len(bars) == 1 and "too short for a trend" in ax.get_title()


def test_hotspots_of_a_week_are_per_day(figures: list[Figure]) -> None:
    # issue 20: at 7 days one point on an axis from 0.96 to 1.04
    ax = _hotspot_figure(7, figures).axes[0]
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == list(range(1, 8))
    assert ax.get_xlim() == (0.5, 7.5) and "day of the run" in ax.get_xlabel()


def test_campaign_band_covers_only_the_days_run(figures: list[Figure]) -> None:
    # issue 20: at 28 days of a 90-day campaign two thirds of the chart was empty band
    fig = _hotspot_figure(21, figures, enabled=True)
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.5, 3.5)
    (band,) = [p for p in ax.patches if "campaign" in p.get_label()]
    corners = band.get_patch_transform().transform(band.get_path().vertices)
    assert corners[:, 0].min() == pytest.approx(0.5) and corners[:, 0].max() == pytest.approx(3.5)
    assert any("goes on to day 90" in t for t in _texts(fig))


def test_campaign_after_the_run_is_said_not_shaded(figures: list[Figure]) -> None:
    fig = _hotspot_figure(7, figures, enabled=True, start_day=10)
    assert any("after the run's end, not in it" in t for t in _texts(fig))
    assert "campaign" not in " ".join(_legend_texts(fig))


def test_on_time_map_scale_is_linear_around_the_target(
    evaluated: RunResult, figures: list[Figure]
) -> None:
    mapplot.draw_on_time_map(evaluated.world, evaluated.summary, Path("unused.png"))
    (fig,) = figures
    cbar = fig.axes[-1]
    low, high = sorted(cbar.get_ylim())
    assert high == pytest.approx(1.0) and low <= 0.85 + 1e-9
    title = fig.axes[0].get_title(loc="left")
    assert re.search(r"instructions per grid [\d,]+–[\d,]+ \(median [\d,]+\)", title)


def test_sweep_share_axis_does_not_zoom_onto_a_few_points() -> None:
    import pandas as pd

    from sim.viz.sweepplot import plot_measure

    summary = pd.DataFrame(
        {"staff.per_km2": [15, 20, 25], "double_ten": [0.97, 0.985, 0.99],
         "double_ten.ci95": [0.004, 0.003, 0.002]}
    )  # fmt: skip
    fig, ax = plt.subplots()
    plot_measure(ax, summary, ["staff.per_km2"], "double_ten", {"target": 0.95}, "t")
    low, high = ax.get_ylim()
    plt.close(fig)
    assert low <= 80 + 1e-9 and high >= 100
