"""Fit the enforcement chain of the default Jinshui scenario to the source's outcomes.

The source (section 二) reports, over about two years since the mechanism started:
14,600 cases filed, 13,600 penalty decisions, 8.78 million yuan of fines, 123 cases sent
to the court and 121 rulings. A simulated year should give about half of each, with the
ratios within 10%.

What is derived and what is fitted (the scenario keeps every value with a comment):

* ``cases.decision`` = 13,600 / 14,600 and ``court.ruling`` = 121 / 123: the source's
  ratios, used as probabilities;
* ``court.referral`` = (123 / 14,600) / (decision x unpaid): the referred share of
  cases, given the assumed share of unpaid decisions;
* ``cases.track`` (the chance a known offender's escalation is put on the penalty
  track) and ``rungs[1].quit`` (the chance an offender gives up the street after the
  city-appearance fine, 退路进店) are fitted by simulation: track so that a year files
  7,300 cases, quit so that a decision averages 8.78 M / 13,600 = 646 yuan (the fewer
  offenders go on to the urban-road fine, the smaller the mean). Both feed back on
  behaviour, so they are fitted together by a few rounds of secant steps. The fine
  amounts themselves are assumptions within the legal caps.

The offender process runs ahead of the dispatch engine, so the fit simulates it alone
(seconds per year); ``--check`` then runs the whole simulation for the year and prints
the same table from it.

    python calibration/fit_enforcement.py            # fit and print
    python calibration/fit_enforcement.py --check    # also the full simulated year
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.engine.offenders import simulate_offenders  # noqa: E402
from sim.runner import prepare  # noqa: E402
from sim.scenario import Scenario, with_overrides  # noqa: E402
from sim.world.build import World, build_world  # noqa: E402

SOURCE = {
    "cases": 14_600,
    "decisions": 13_600,
    "fines_yuan": 8_780_000,
    "court_referrals": 123,
    "rulings": 121,
}
YEAR_SHARE = 0.5  # "about two years": a simulated year should give half
TOLERANCE = 0.10


def year_figures(world: World, replications: int) -> dict[str, float]:
    """Mean yearly enforcement figures of the offender process alone (no engine)."""
    sc = world.scenario
    rows = []
    for rep in range(replications):
        run = simulate_offenders(world, rep)
        plan = run.cases
        filed = run.occurred[plan.incident]
        m = (filed >= sc.warmup_min) & (filed < sc.horizon_min)
        rows.append(
            {
                "cases": float(m.sum()),
                "decisions": float((plan.decided & m).sum()),
                "fines_yuan": float(plan.fine[m].sum()),
                "court_referrals": float((plan.referred & m).sum()),
                "rulings": float((plan.ruled & m).sum()),
            }
        )
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def ratios(f: dict[str, float]) -> dict[str, float]:
    return {
        "decisions per case": f["decisions"] / f["cases"],
        "yuan per decision": f["fines_yuan"] / f["decisions"],
        "cases referred to court": f["court_referrals"] / f["cases"],
        "referrals ruled": f["rulings"] / f["court_referrals"] if f["court_referrals"] else 0.0,
    }


def print_fit(title: str, f: dict[str, float], years: float) -> bool:
    """Print simulated against the source; True when every ratio is within tolerance."""
    target = ratios({k: float(v) for k, v in SOURCE.items()})
    got = ratios(f)
    print(f"\n{title}")
    print(f"{'measure':<26}{'source':>14}{'simulated':>14}{'off by':>9}")
    ok = True
    for k, v in target.items():
        off = got[k] / v - 1
        ok &= abs(off) <= TOLERANCE
        fmt = "{:>14.1f}" if "yuan" in k else "{:>14.4f}"
        print(f"{k:<26}" + fmt.format(v) + fmt.format(got[k]) + f"{off:>+9.1%}")
    for k, v in SOURCE.items():
        per_year = v * YEAR_SHARE
        print(
            f"{k + ' a year':<26}{per_year:>14,.0f}{f[k] / years:>14,.0f}{f[k] / years / per_year - 1:>+9.1%}"
        )
    print("all ratios within 10%" if ok else "SOME RATIOS ARE OFF BY MORE THAN 10%")
    return ok


def derived(sc: Scenario) -> dict[str, Any]:
    """The values taken straight from the source's ratios."""
    decision = SOURCE["decisions"] / SOURCE["cases"]
    unpaid = sc.enforcement.cases.unpaid  # an assumption
    referral = SOURCE["court_referrals"] / SOURCE["cases"] / (decision * unpaid)
    return {
        "enforcement.cases.decision": round(decision, 4),
        "enforcement.court.referral": round(min(referral, 1.0), 4),
        "enforcement.court.ruling": round(SOURCE["rulings"] / SOURCE["court_referrals"], 4),
    }


def _evaluate(
    base: Scenario, values: dict[str, Any], x: np.ndarray, replications: int
) -> tuple[np.ndarray, dict[str, float], dict[str, Any]]:
    over = {
        **values,
        "enforcement.cases.track": round(float(x[0]), 4),
        "enforcement.rungs.1.quit": round(float(x[1]), 4),
    }
    figures = year_figures(build_world(with_overrides(base, over)), replications)
    y = np.array([figures["cases"], figures["fines_yuan"] / max(figures["decisions"], 1.0)])
    return y, figures, over


def fit(base: Scenario, replications: int, rounds: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Fit track and the quit chance after the city fine: damped Newton steps on logit scales.

    Both parameters move both measures (more enforcement, more deterrence, fewer
    offenders left), so each round estimates the 2x2 sensitivities by finite differences.
    Common random numbers keep the measures smooth in the parameters.
    """
    target = np.log([SOURCE["cases"] * YEAR_SHARE, SOURCE["fines_yuan"] / SOURCE["decisions"]])
    values = derived(base)
    z = _logit(np.array([base.enforcement.cases.track, base.enforcement.rungs[1].quit]))
    figures: dict[str, float] = {}
    over: dict[str, Any] = {}
    for i in range(rounds):
        x = _expit(z)
        y, figures, over = _evaluate(base, values, x, replications)
        print(
            f"round {i + 1}: track {x[0]:.4f}, quit after the city fine {x[1]:.4f} -> "
            f"{y[0]:,.0f} cases, {y[1]:,.0f} yuan per decision",
            flush=True,
        )
        gap = target - np.log(y)
        if i == rounds - 1 or np.all(np.abs(gap) < 0.02):
            break
        jac = np.zeros((2, 2))
        for j in range(2):
            dz = np.zeros(2)
            dz[j] = 0.25
            yj, _, _ = _evaluate(base, values, _expit(z + dz), replications)
            jac[:, j] = (np.log(yj) - np.log(y)) / dz[j]
        try:
            step = np.linalg.solve(jac, gap)
        except np.linalg.LinAlgError:
            step = gap
        z = z + np.clip(step, -1.5, 1.5)
    return over, figures


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    out: np.ndarray = np.log(q / (1 - q))
    return out


def _expit(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1 / (1 + np.exp(-z))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "jinshui.yaml")
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--check", action="store_true", help="also run the whole simulation for simulated years"
    )
    parser.add_argument(
        "--check-replications",
        type=int,
        default=10,
        help="simulated years of the check (the referral share needs several: about 62 "
        "referrals a year make one year's share uncertain by about ±13%%)",
    )
    parser.add_argument("--no-fit", action="store_true", help="only print the scenario's fit")
    args = parser.parse_args()
    base = prepare(sim.load_scenario(args.scenario), days=365)
    if args.no_fit:
        values: dict[str, Any] = {}
    else:
        values, _ = fit(base, args.replications, args.rounds)
        print("\nfitted values (keep them in the scenario, commented as fitted):")
        for k, v in values.items():
            print(f"  {k}: {v}")
    sc = with_overrides(base, values) if values else base
    world = build_world(sc)
    print_fit(
        "offender process alone, a simulated year", year_figures(world, args.replications), 1.0
    )
    if args.check:
        n = args.check_replications
        result = sim.run(sc, world=world, replications=n)
        e = result.summary["enforcement"]
        print_fit(f"whole simulation, mean of {n} simulated years", e, sc.duration.days / 365.0)
        assert result.cases is not None
        print_ratio_ci(per_replication(result.cases, n))
        print(f"double ten {result.summary['double_ten']:.4f}, escalations {e['escalations']:,.0f}")


def per_replication(cases: Any, n: int) -> list[dict[str, float]]:
    """The yearly counts of each replication, from the measured cases."""
    c = cases.columns
    out = []
    for rep in range(n):
        m = c["measured"] & (c["replication"] == rep)
        out.append(
            {
                "cases": float(m.sum()),
                "decisions": float((m & c["decided"]).sum()),
                "fines_yuan": float(c["fine_yuan"][m].sum()),
                "court_referrals": float((m & c["referred"]).sum()),
                "rulings": float((m & c["ruled"]).sum()),
            }
        )
    return out


def print_ratio_ci(rows: list[dict[str, float]]) -> None:
    """95% t interval of each ratio over replications (one simulated year each)."""
    from scipy import stats

    target = ratios({k: float(v) for k, v in SOURCE.items()})
    per = [ratios(r) for r in rows]
    n = len(per)
    if n < 2:
        return
    t = float(stats.t.ppf(0.975, n - 1))
    print(f"\n95% CI of each ratio over {n} replications (one simulated year each)")
    print(f"{'measure':<26}{'mean':>14}{'± 95% CI':>14}{'source in CI':>14}")
    for k, v in target.items():
        vals = np.array([p[k] for p in per])
        mean, hw = vals.mean(), t * vals.std(ddof=1) / np.sqrt(n)
        fmt = "{:>14.1f}" if "yuan" in k else "{:>14.4f}"
        inside = "yes" if abs(mean - v) <= hw else "no"
        print(f"{k:<26}" + fmt.format(mean) + fmt.format(hw) + f"{inside:>14}")


if __name__ == "__main__":
    main()
