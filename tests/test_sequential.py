"""Sequential replications and pruned lowerings in the staffing optimiser's search.

The search runs here against a fake executor whose offices have a known on-time share
for each staffing level, so the tests know which plans fail, how clearly, and what the
least plan is; they count the replications and plans the search asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim.batch.executor import Executor
from sim.batch.plansearch import Search
from sim.batch.sequential import ALPHA_LOOK, looks, office_certainty, settled
from sim.scenario import ROLES, Scenario, with_overrides

SMALL: dict[str, Any] = {
    "name": "t",
    "duration": {"days": 0.25, "warmup_hours": 1},
    "map": {"generate": {"offices_x": 2, "offices_y": 1, "office_size_m": 600, "block_m": 100}},
    "demand": {"incidents_per_day": 200},
}

TARGET = {"double_ten": 0.95}
# replication k's deviation from an office's true share: mean 0, sd about 0.005
NOISE = (0.004, -0.006, 0.002, -0.001, 0.007, -0.005, 0.001, -0.003, 0.006, -0.005)


def records(shares: Sequence[Sequence[float | None]], key: str = "double_ten") -> list[dict]:
    """Run records with per-office values: ``shares[k][o]`` for replication k."""
    return [{"by_office": [{key: v} for v in row]} for row in shares]


def test_looks_stop_early_only_below_r() -> None:
    assert looks(10) == [3, 5, 10]
    assert looks(4) == [3, 4]
    assert looks(3) == [3]
    assert looks(2) == [2]
    assert looks(10, early=False) == [10]


def test_a_plainly_failing_office_is_certain_after_three_replications() -> None:
    # office 0 far below 95%, office 1 far above, office 2 on the edge
    recs = records([[0.80 + e, 0.99 + e / 4, 0.95 + e] for e in NOISE[:3]])
    fails, passes = office_certainty(recs, TARGET)
    assert list(fails) == [True, False, False]
    assert list(passes) == [False, True, False]
    assert settled(recs, TARGET, every_office=False)
    assert not settled(recs, TARGET, every_office=True)  # office 2 is undecided


def test_a_close_plan_is_not_stopped() -> None:
    # the mean is below target, but not by more than the stricter bound can tell
    recs = records([[0.945 + e, 0.99] for e in NOISE[:5]])
    fails, _ = office_certainty(recs, TARGET)
    assert not fails.any()
    assert not settled(recs, TARGET, every_office=False)
    # ten replications of the same office at the usual 95% bound do call it short
    assert office_certainty(records([[0.945 + e] for e in NOISE]), TARGET, 0.05)[0][0]


def test_the_stricter_bound_is_the_t_bound_at_alpha_per_look() -> None:
    from scipy import stats

    vals = [0.93 + e for e in NOISE[:3]]
    upper = np.mean(vals) + stats.t.ppf(1 - ALPHA_LOOK, 2) * np.std(vals, ddof=1) / np.sqrt(3)
    just_below, just_above = upper + 1e-6, upper - 1e-6
    assert office_certainty(records([[v] for v in vals]), {"double_ten": just_below})[0][0]
    assert not office_certainty(records([[v] for v in vals]), {"double_ten": just_above})[0][0]


def test_a_ceiling_is_certainly_failing_from_above() -> None:
    recs = records([[0.6 + e, 0.02 + e / 10] for e in NOISE[:3]], key="black_flag")
    fails, passes = office_certainty(recs, {"black_flag": 0.2})
    assert list(fails) == [True, False] and list(passes) == [False, True]


def test_too_few_values_decide_nothing() -> None:
    recs = records([[None, 0.5], [None, 0.5], [0.2, 0.5]])
    fails, passes = office_certainty(recs, TARGET)
    assert not fails[0] and not passes[0]
    assert fails[1]  # no spread at all: 0.5 is below 0.95 for sure


# ------------------------------------------------------------- the search, counted


class FakeExecutor:
    """Answers runs from a known share per (office, people); counts what is asked."""

    def __init__(self, share: Callable[[int, int], float]) -> None:
        self.share = share
        self.asked: list[tuple[tuple[int, ...], int]] = []  # (plan, replication)

    def run(
        self,
        scenarios: Sequence[Scenario],
        replications: int,
        desc: str = "",
        labels: Sequence[str] | None = None,
        start: int = 0,
    ) -> list[list[dict[str, Any]]]:
        out = []
        for sc in scenarios:
            by_office = sc.staff.per_km2_by_office
            people = tuple(round(by_office.get(f"o{o}", sc.staff.per_km2)) for o in range(3))
            reps = []
            for k in range(start, replications):
                self.asked.append((people, k))
                reps.append(self._record(people, k))
            out.append(reps)
        return out

    def run_sequential(
        self,
        scenarios: Sequence[Scenario],
        replications: int,
        looks: Sequence[int],
        stop: Callable[[list[dict[str, Any]]], bool],
        desc: str = "",
    ) -> list[list[dict[str, Any]]]:
        out = []
        for sc in scenarios:
            recs: list[dict[str, Any]] = []
            for n in [*(n for n in looks if n < replications), replications]:
                recs += self.run([sc], n, start=len(recs))[0]
                if n < replications and stop(recs):
                    break
            out.append(recs)
        return out

    def _record(self, people: tuple[int, ...], k: int) -> dict[str, Any]:
        return {
            "measures": {},
            "warnings": [],
            "by_office": [
                {
                    "office": f"o{o}",
                    "area_km2": 1.0,
                    "double_ten": min(1.0, self.share(o, n) + NOISE[k % len(NOISE)]),
                    "incidents": 100,
                    "staff.grid": n,
                    "staff.advisor": 0,
                    "staff.enforcer": 0,
                }
                for o, n in enumerate(people)
            ],
        }


def _share(o: int, n: int) -> float:
    """Office o's true share: 95.5% at 6 + o people (its bound over ten replications is
    about 95.2%: it passes), three points less per person fewer (92.5%: plainly fails)."""
    return 0.955 - 0.03 * (6 + o - n)


def _search(early_stop: bool) -> tuple[Search, FakeExecutor, tuple[int, ...], bool]:
    ex = FakeExecutor(_share)
    base = sim.scenario_from_dict(
        {"name": "fake", "map": {"generate": {"offices_x": 3, "offices_y": 1}}}
    )
    s = Search(base, TARGET, 0.95, 10, ex, 200, lambda _l: None, early_stop=early_stop)  # type: ignore[arg-type]
    s.baseline(20)
    best, minimal = s.search(None, 4, 1, 2, 100)
    assert best is not None
    return s, ex, best.people, minimal


def test_search_finds_the_least_plan_with_fewer_replications() -> None:
    s, ex, plan, minimal = _search(early_stop=True)
    full, ex_full, plan_full, _ = _search(early_stop=False)
    assert minimal and plan == plan_full == (6, 7, 8)
    # every plan that may be feasible got all ten; plainly failing ones stopped at 3 or 5
    reps = [h["replications"] for h in s.history]
    assert all(h["replications"] == 10 for h in s.history if h["feasible"])
    assert {3, 5} & set(reps)
    assert all(h["replications"] == 10 for h in full.history)
    assert len(ex.asked) < 0.8 * len(ex_full.asked), (len(ex.asked), len(ex_full.asked))


def test_lowering_never_simulates_a_plan_below_a_known_failure() -> None:
    s, ex, _plan, _ = _search(early_stop=True)
    plans = list(dict.fromkeys(p for p, _k in ex.asked))
    failed: list[tuple[int, ...]] = []
    for p in plans:
        assert not any(all(f >= q for f, q in zip(fp, p, strict=True)) for fp in failed), p
        if not s.memo[(p, None)].feasible:
            failed.append(p)


@pytest.mark.parametrize("office", [0, 1, 2])
def test_known_to_fail_is_dominance_by_an_infeasible_plan(office: int) -> None:
    s, _ex, plan, _ = _search(early_stop=True)
    lower = tuple(n - (i == office) for i, n in enumerate(plan))
    assert s.known_to_fail(lower, None)  # the search tried it, or a plan above it, and it failed
    assert not s.known_to_fail(plan, None)
    assert not s.known_to_fail(lower, 0.5)  # another mix is another search


def test_a_plan_short_only_by_its_bound_proves_nothing_below_it() -> None:
    # office 0 at 5 people: mean 95.1% (on target), lower bound about 94.8% (short)
    def share(o: int, n: int) -> float:
        return 0.951 if (o, n) == (0, 5) else 0.99 if n >= 5 else 0.90

    base = sim.scenario_from_dict(
        {"name": "fake", "map": {"generate": {"offices_x": 3, "offices_y": 1}}}
    )
    s = Search(base, TARGET, 0.95, 10, FakeExecutor(share), 50, lambda _l: None)  # type: ignore[arg-type]
    s.baseline(20)
    (marginal,) = s.evaluate([((5, 6, 6), None)], "lowering") or []
    assert not marginal.feasible and marginal.replications == 10
    assert not s.short_on_average(marginal)
    assert not s.known_to_fail((5, 5, 6), None)  # may pass with other neighbours: tried
    (plain,) = s.evaluate([((4, 6, 6), None)], "lowering") or []
    assert plain.replications == 3 and s.short_on_average(plain)
    assert s.known_to_fail((4, 5, 6), None) and s.known_to_fail((3, 6, 6), None)
    assert not s.known_to_fail((5, 5, 6), None)  # (4, 6, 6) has fewer in office 0


def test_the_executor_keeps_the_first_look_that_stops_and_stores_only_those(
    tmp_path: Path,
) -> None:
    base = sim.scenario_from_dict(SMALL)
    scenarios = [with_overrides(base, {"staff.per_km2": d}) for d in (4, 20)]

    def few_staff(records: list[dict[str, Any]]) -> bool:
        staff = (o[f"staff.{role}"] for o in records[0]["by_office"] for role in ROLES)
        return sum(staff) < 8  # 3 staff at 4 per km², 15 at 20

    with Executor(tmp_path, workers=1) as ex:
        got = ex.run_sequential(scenarios, 5, [3, 4], few_staff)
        assert [len(r) for r in got] == [3, 5]
        assert [r["replication"] for r in got[0]] == [0, 1, 2]
        assert ex.computed == 8 and ex.reused == 0
    assert len(list((tmp_path / "runs").glob("*.json"))) == 8
    with Executor(tmp_path, workers=1) as ex:  # resumed: everything stored is reused
        again = ex.run_sequential(scenarios, 5, [3, 4], few_staff)
        assert ex.computed == 0 and ex.reused == 8
    assert [[r["key"] for r in row] for row in again] == [[r["key"] for r in row] for row in got]
