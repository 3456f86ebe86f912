"""Fitting demand to a log: a run's own log fitted back recovers what generated it.

Tolerances come from the sampling error of the quantity checked (Poisson counts,
multinomial shares, replication spread), never from a number one seed happened to give:
a share within 4 standard errors (24 hours or 11 categories together: a false alarm
well under 1%), the daily volume within 3.5, a hotspot's centre within 300 m, and the
fitted scenario's clocks within 3 standard errors of the difference of two sets of
replications.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

import sim
from sim.fit.run import FitResult, fit_case_log
from sim.fit.scenario import fitted_scenario
from sim.output.results import with_coordinates
from sim.scenario import DEFAULT_CATEGORIES, DEFAULT_PROFILE, Scenario, scenario_from_dict

DAYS = 14
BACKGROUND = 900.0
HOTSPOTS = [
    {"name": "market", "x": 600, "y": 600, "radius_m": 150, "incidents_per_hour": 5,
     "start": "18:00", "end": "02:00", "categories": {"street_vending": 0.7, "noise": 0.3}},
    {"name": "station", "x": 1900, "y": 1700, "radius_m": 200, "incidents_per_hour": 3,
     "start": "07:00", "end": "10:00",
     "categories": {"nonmotor_parking": 0.6, "motor_parking": 0.4}},
]  # fmt: skip
HOURS = {"market": [18, 19, 20, 21, 22, 23, 0, 1], "station": [7, 8, 9]}
ORIGINAL: dict[str, Any] = {
    "name": "recovery",
    "seed": 3,
    "duration": {"days": DAYS, "warmup_hours": 0},
    "map": {"generate": {"offices_x": 3, "offices_y": 3, "office_size_m": 800, "block_m": 100}},
    # thin enough that the enforcer clock feels the load: the clocks check has teeth
    "staff": {"per_km2": 11},
    "demand": {"incidents_per_day": BACKGROUND, "hotspots": HOTSPOTS},
}


def run_log(scenario: Scenario, path: Path, **kw: Any) -> Path:
    """A run's own incidents.csv, as ``python -m sim run`` writes it."""
    result = sim.run(scenario, **kw)
    frame = with_coordinates(result.table.to_frame(), result.table["node"], result.world.net)
    frame.to_csv(path, index=False, float_format="%.3f", lineterminator="\n")
    return path


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, FitResult]:
    folder = tmp_path_factory.mktemp("recovery")
    original = scenario_from_dict(ORIGINAL, base_dir=folder)
    log = run_log(original, folder / "incidents.csv")
    return original, fit_case_log(log, original)


def true_hourly() -> np.ndarray:
    """Incidents per hour of day the original draws, hotspots included."""
    profile = np.asarray(DEFAULT_PROFILE) / sum(DEFAULT_PROFILE)
    rate = BACKGROUND * profile
    for h in HOTSPOTS:
        rate[HOURS[str(h["name"])]] += float(h["incidents_per_hour"])  # type: ignore[arg-type]
    return rate


def true_categories() -> dict[str, float]:
    counts = {n: BACKGROUND * c.share for n, c in DEFAULT_CATEGORIES.items()}
    for h in HOTSPOTS:
        per_day = float(h["incidents_per_hour"]) * len(HOURS[str(h["name"])])  # type: ignore[arg-type]
        for c, s in h["categories"].items():  # type: ignore[attr-defined]
            counts[c] += per_day * s
    total = sum(counts.values())
    return {n: v / total for n, v in counts.items()}


def test_the_daily_volume_is_recovered_within_sampling_error(
    recovered: tuple[Scenario, FitResult],
) -> None:
    fit = recovered[1].fit
    truth = true_hourly().sum()
    days = fit.exposure.days
    se = np.sqrt(truth / days)  # Poisson count over the window
    assert abs(fit.volume.per_day - truth) <= 3.5 * se
    assert fit.volume.ci95[0] <= truth <= fit.volume.ci95[1] or abs(fit.volume.per_day - truth) < se
    assert not fit.dispersion.overdispersed  # the original is Poisson


def test_the_hourly_profile_is_recovered_within_sampling_error(
    recovered: tuple[Scenario, FitResult],
) -> None:
    fit = recovered[1].fit
    p = true_hourly() / true_hourly().sum()
    se = np.sqrt(p * (1 - p) / fit.log.n)
    assert np.all(np.abs(fit.volume.hourly_share - p) <= 4 * se)
    assert fit.volume.hourly_share.sum() == pytest.approx(1.0)


def test_the_category_shares_are_recovered_within_sampling_error(
    recovered: tuple[Scenario, FitResult],
) -> None:
    fit = recovered[1].fit
    truth = true_categories()
    got = fit.categories.as_dict()
    for name, p in truth.items():
        assert abs(got[name] - p) <= 4 * np.sqrt(p * (1 - p) / fit.log.n), name


def test_the_hotspots_that_generated_the_log_are_found(
    recovered: tuple[Scenario, FitResult],
) -> None:
    fit = recovered[1].fit
    assert len(fit.hotspots) <= len(HOTSPOTS) + 1  # at most one false discovery
    for h in HOTSPOTS:
        found = [f for f in fit.hotspots if f.name == h["name"]]  # took the base's name
        assert len(found) == 1, h["name"]
        f = found[0]
        assert np.hypot(f.x - float(h["x"]), f.y - float(h["y"])) <= 300  # type: ignore[arg-type]
        hours = set(HOURS[str(h["name"])])
        assert len(hours & set(f.found.hours)) >= 0.75 * len(hours)
        assert len(set(f.found.hours) - hours) <= 2
        # its rate: the excess over its hours, whose spread is that of all cases there
        rate = float(h["incidents_per_hour"])  # type: ignore[arg-type]
        exposure = fit.exposure.hour_hours[list(hours)].sum()
        se = np.sqrt(2 * rate * exposure) / exposure  # background about as many again
        assert abs(f.incidents_per_hour - rate) <= 4 * se
        # its excess cases are of its own categories (the background's share subtracted)
        assert sum(f.categories.get(c, 0.0) for c in h["categories"]) >= 0.8  # type: ignore[union-attr]


def fitted_of(recovered: tuple[Scenario, FitResult], folder: Path) -> Scenario:
    """The scenario the fit writes, read back."""
    original, result = recovered
    data, _ = fitted_scenario(original, ORIGINAL, result.fit, folder, "incidents.csv")
    return scenario_from_dict(data, base_dir=folder)


def test_the_fitted_scenario_gives_the_original_clocks(
    recovered: tuple[Scenario, FitResult], tmp_path: Path
) -> None:
    original = recovered[0]
    fitted = fitted_of(recovered, tmp_path)
    reps = 4
    a = sim.run(original, days=3, replications=reps, seed=11)
    b = sim.run(fitted, days=3, replications=reps, seed=11)
    t = stats.t.ppf(0.975, reps - 1)
    for measure in ("double_ten", "enforcer_on_time", "advisor_response_min.mean"):
        head, _, sub = measure.partition(".")
        va = a.summary[head][sub] if sub else a.summary[head]
        vb = b.summary[head][sub] if sub else b.summary[head]
        se = np.hypot(a.summary["ci95"][measure], b.summary["ci95"][measure]) / t
        assert abs(va - vb) <= 3 * se + 1e-9, (measure, va, vb, se)
    assert a.summary["double_ten"] < 0.99  # the load bites: the check can fail


def test_a_fitted_scenario_run_and_fitted_again_keeps_its_volume(
    recovered: tuple[Scenario, FitResult], tmp_path: Path
) -> None:
    result = recovered[1]
    fitted = fitted_of(recovered, tmp_path)
    again = fit_case_log(run_log(fitted, tmp_path / "again.csv", seed=5), fitted).fit
    first = result.fit.volume
    se = np.sqrt(
        first.per_day / result.fit.exposure.days + again.volume.per_day / again.exposure.days
    )
    assert abs(again.volume.per_day - first.per_day) <= 3.5 * se
    assert {h.name for h in again.hotspots} >= {"market", "station"}


def test_weekdays_and_overdispersed_days_are_found_and_modelled(tmp_path: Path) -> None:
    data = copy.deepcopy(ORIGINAL)
    data["duration"]["days"] = 56
    data["demand"] = {
        "incidents_per_day": 300.0,
        "weekday_profile": [1.3, 1.2, 1.0, 1.0, 1.0, 0.8, 0.7],
        "day_effect": {"cv": 0.3},
    }
    data["discovery"] = {"patrol": {"enabled": False}}
    scenario = scenario_from_dict(data, base_dir=tmp_path)
    fit = fit_case_log(run_log(scenario, tmp_path / "log.csv"), scenario).fit
    assert fit.weekday.used and fit.dispersion.overdispersed
    truth = np.array(data["demand"]["weekday_profile"]) / 7.0
    # a weekday's share rests on 8 days of a gamma(cv 0.3) rate: about 0.3/√8 of itself
    assert np.all(np.abs(fit.weekday.share - truth) <= 3 * truth * np.hypot(0.3, 0.02) / np.sqrt(8))
    # cv² by moments from 56 days: its standard error is about cv² √(2/56) plus Poisson's part
    cv2 = fit.dispersion.day_effect_cv**2  # type: ignore[operator]
    assert abs(cv2 - 0.09) <= 3 * (0.09 * np.sqrt(2 / 56) + np.sqrt(2 / 56) / 300)
