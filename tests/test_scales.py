"""The picture rules (sim/viz/scales.py): what the PNGs and the interactive report share."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.viz import scales


def test_the_rules_need_no_matplotlib() -> None:
    code = "import sys, sim.viz.scales; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_compliance_colours_are_linear_on_both_sides_of_the_target() -> None:
    s = scales.compliance_scale([0.86, 0.99], 0.95)
    assert (s.low, s.high, s.centre) == (0.85, 1.0, 0.95)
    # two points above the target are as far from the centre as two points below
    assert s.position(0.97) - 0.5 == pytest.approx(0.5 - s.position(0.93))
    # 100% is not the end of the greens: five points above a 95% target is a middling green
    assert s.position(1.0) == pytest.approx(0.75)
    assert s.colour(0.95) == scales.DIVERGING[3]
    assert 0.95 in s.ticks and s.ticks[0] == 0.85 and s.ticks[-1] == 1.0


def test_compliance_scale_reaches_ten_points_below_the_target_and_the_worst_value() -> None:
    assert scales.compliance_scale([0.99], 0.95).low == pytest.approx(0.85)
    assert scales.compliance_scale([0.62, None, float("nan")], 0.95).low == pytest.approx(0.6)


def test_stops_interpolate_to_the_scale() -> None:
    s = scales.compliance_scale([0.7], 0.9)
    stops = s.stops()
    assert stops[0][0] == s.low and stops[-1][0] == s.high
    assert [v for v, _ in stops] == sorted(v for v, _ in stops)
    assert all(c == s.colour(v) for v, c in stops)


def test_a_three_point_spread_of_scores_is_pale_not_pass_and_fail() -> None:
    s = scales.score_scale([88.6, 90.0, 91.6])
    assert s.half_width == scales.SCORE_HALF_SPAN
    assert 0.3 < s.position(88.6) < s.position(91.6) < 0.7
    # a spread of 30 points widens the scale instead of clipping it
    wide = scales.score_scale([60.0, 90.0])
    assert wide.position(60.0) == pytest.approx(0.0) and wide.position(90.0) == 1.0


@pytest.mark.parametrize(
    ("values", "target", "bars", "expected"),
    [
        ([0.97, 0.99], 0.95, False, (0.8, 1.0)),  # at least 20 points: no zoom onto 3 points
        ([0.62, 0.99], 0.95, False, (0.6, 1.0)),
        ([0.97], 0.5, False, (0.5, 1.0)),  # the target is on the axis
        ([0.97, 0.99], 0.95, True, (0.0, 1.0)),  # bars start at zero
    ],
)
def test_share_axes_do_not_exaggerate(
    values: list[float], target: float, bars: bool, expected: tuple[float, float]
) -> None:
    assert scales.share_axis(values, target, bars=bars) == pytest.approx(expected)


def test_flags_read_as_counts_or_probabilities() -> None:
    assert scales.flag_text(2, 1, 3) == "2 of 3 months"
    assert scales.flag_text(1, 3, 2) == "17% of 6 months"
    assert "." not in scales.flag_text(1, 3, 2)


def test_thin_samples() -> None:
    assert scales.is_thin(None) and scales.is_thin(29) and not scales.is_thin(30)


@pytest.mark.parametrize(
    ("days", "unit", "count"), [(1, "run", 1), (7, "day", 7), (28, "week", 4), (91, "week", 13)]
)
def test_time_bins_follow_the_run(days: float, unit: str, count: int) -> None:
    b = scales.time_bins(days)
    assert (b.unit, b.count) == (unit, count)


def test_campaign_band_is_clipped_to_the_run() -> None:
    b = scales.clip_band(0, 90, 28)
    assert (b.start, b.end, b.goes_on, b.starts_late) == (0, 28, True, False)
    late = scales.clip_band(10, 100, 7)
    assert late.starts_late and late.end == late.start
