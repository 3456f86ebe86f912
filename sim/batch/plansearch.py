"""The staffing optimiser's search: plans evaluated jointly, bracketed, then lowered.

An office *meets the target* when the one-sided confidence bound (t over replications)
of its mean per-replication share is on the right side of the target, for every target
measure (:data:`sim.analysis.measures.TARGETS`; a ceiling such as ``black_flag`` is met
from below). The method is described in :mod:`sim.batch.staffing`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis.measures import DISCOVERY, TARGETS
from sim.analysis.metrics import ci95_halfwidth, t_margin
from sim.batch.executor import Executor
from sim.batch.sequential import looks, settled
from sim.scenario import ROLES, Scenario, with_overrides

Log = Callable[[str], None]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """One plan evaluated over all replications (arrays are per street office)."""

    people: tuple[int, ...]
    advisor_share: float | None  # advisor share of advisors + enforcers, when searched
    mean: dict[str, np.ndarray]
    lower: dict[str, np.ndarray]  # one-sided lower confidence bound; NaN: too few data
    ci95: dict[str, np.ndarray]  # two-sided 95% half-width, for display
    passes: np.ndarray
    assessable: np.ndarray  # False: too few incidents in the office to judge
    staff: np.ndarray  # people per office × role (grid, advisor, enforcer)
    incidents: np.ndarray  # mean measured instructions per replication
    margin: float  # least (lower bound − target) over offices and measures
    discovery: dict[str, float | None]  # district discovery means by short name (None: absent)
    replications: int = 0  # replications simulated (fewer than R: stopped once certainly failing)

    @property
    def feasible(self) -> bool:
        return bool(self.passes.all())

    @property
    def total(self) -> int:
        return int(self.staff.sum())


class Search:
    """One optimisation: the plans evaluated so far and the bracketing and lowering search."""

    def __init__(
        self,
        base: Scenario,
        targets: dict[str, float],
        confidence: float,
        replications: int,
        executor: Executor,
        max_evaluations: int,
        log: Log,
        *,
        early_stop: bool = True,
    ) -> None:
        self.base = base
        self.targets = targets
        self.confidence = confidence
        self.replications = replications
        self.ex = executor
        self.max_evaluations = max_evaluations
        self.limit = max_evaluations  # the evaluations the search under way may reach
        self.log = log
        self.early_stop = early_stop  # stop a plan's replications once it certainly fails
        self.memo: dict[tuple[tuple[int, ...], float | None], Evaluation] = {}
        self.evaluations = 0
        self.history: list[dict[str, Any]] = []
        self.offices: list[str] = []
        self.names_zh: list[str] = []
        self.km2 = np.zeros(0)
        self.warnings: dict[tuple[tuple[int, ...], float | None], list[str]] = {}

    @property
    def remaining(self) -> int:
        """Plan evaluations the search under way may still make."""
        return self.limit - self.evaluations

    # ---------------------------------------------------------------- evaluation

    def density(self, people: int, o: int) -> float:
        """A density (4 decimals) that places exactly ``people`` staff in office ``o``."""
        return math.floor(people / float(self.km2[o]) * 1e4) / 1e4

    def people_at(self, density: float) -> np.ndarray:
        return np.array([math.ceil(density * float(a) - 1e-9) for a in self.km2], dtype=np.int64)

    def mix_for(self, advisor_share: float) -> dict[str, float]:
        g = self.base.staff.mix.of("grid")
        a = round((1 - g) * advisor_share, 4)
        return {"grid": g, "advisor": a, "enforcer": round(1 - g - a, 6)}

    def scenario(self, people: tuple[int, ...] | None, advisor_share: float | None) -> Scenario:
        over: dict[str, Any] = {}
        if people is not None:
            over["staff.per_km2_by_office"] = {
                o: self.density(n, k)
                for k, (o, n) in enumerate(zip(self.offices, people, strict=True))
            }
        if advisor_share is not None:
            over["staff.mix"] = self.mix_for(advisor_share)
        return with_overrides(self.base, over) if over else self.base

    def baseline(self, density: float) -> tuple[Evaluation, list[str]]:
        """The uniform plan; also learns the offices and their areas."""
        sc = with_overrides(self.base, {"staff.per_km2": density, "staff.per_km2_by_office": {}})
        records = self.ex.run([sc], self.replications, desc=f"uniform {density:g}/km²")[0]
        first = records[0]["by_office"]
        self.offices = [r["office"] for r in first]
        self.names_zh = [str(r.get("name_zh", "")) for r in first]
        self.km2 = np.array([float(r["area_km2"]) for r in first])
        self.evaluations += 1
        ev = self._evaluation(
            records, tuple(int(sum(r[f"staff.{x}"] for x in ROLES)) for r in first), None
        )
        self._record("baseline", ev)
        # the same staff per office as a per-office plan: a feasible start if nothing cheaper is
        self.memo[(tuple(int(n) for n in self.people_at(density)), None)] = ev
        return ev, list(records[0].get("warnings", []))

    def evaluate(
        self, plans: Sequence[tuple[tuple[int, ...], float | None]], phase: str
    ) -> list[Evaluation] | None:
        """The plans' evaluations (the new ones simulated); None when the new ones would
        exceed the evaluations left, and then none is simulated."""
        new = list(dict.fromkeys(p for p in plans if p not in self.memo))
        if len(new) > self.remaining:
            return None
        if new:
            scenarios = [self.scenario(p, a) for p, a in new]
            what = f"{phase}: {len(new)} plan{'s' if len(new) > 1 else ''}"
            results = self._simulate(scenarios, what, every_office=phase == "search")
            for plan, records in zip(new, results, strict=True):
                self.evaluations += 1
                ev = self._evaluation(records, plan[0], plan[1])
                self.memo[plan] = ev
                self.warnings[plan] = list(records[0].get("warnings", []))
                self._record(phase, ev)
        return [self.memo[p] for p in plans]

    def _simulate(
        self, scenarios: Sequence[Scenario], what: str, *, every_office: bool
    ) -> list[list[dict[str, Any]]]:
        """Each plan's records: all R replications, or those of the first look
        (:func:`sim.batch.sequential.looks`) after which the plan is certainly infeasible
        (:func:`sim.batch.sequential.settled`; ``every_office``: and every office's own
        verdict certain)."""
        if not self.early_stop:
            return self.ex.run(scenarios, self.replications, desc=what)
        return self.ex.run_sequential(
            scenarios,
            self.replications,
            looks(self.replications),
            lambda records: settled(records, self.targets, every_office),
            desc=what,
        )

    def known_to_fail(self, people: tuple[int, ...], advisor_share: float | None) -> bool:
        """Does a plan already evaluated with at least these staff in every office miss the
        target on average in some office? Then this plan fails too: fewer staff never make
        an office faster. (A plan that failed only by its bound, its mean on target, is no
        proof: with other neighbours the same office may pass.)"""
        return any(
            a == advisor_share
            and not e.feasible
            and self.short_on_average(e)
            and all(q >= n for q, n in zip(p, people, strict=True))
            for (p, a), e in self.memo.items()
        )

    def short_on_average(self, ev: Evaluation) -> bool:
        """Is some office's mean share on the wrong side of a target?"""
        for m, goal in self.targets.items():
            mean = ev.mean[m][~np.isnan(ev.mean[m])]
            if (mean > goal + 1e-12).any() if TARGETS[m].ceiling else (mean < goal - 1e-12).any():
                return True
        return False

    def _evaluation(
        self, records: list[dict[str, Any]], people: tuple[int, ...], advisor_share: float | None
    ) -> Evaluation:
        k = len(self.offices)
        mean, lower, ci = {}, {}, {}
        assessable = np.ones(k, dtype=bool)
        passes = np.ones(k, dtype=bool)
        margin = math.inf
        for m, measure in TARGETS.items():
            mu, lo, hw = np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan)
            for o in range(k):
                vals = np.array(
                    [
                        r["by_office"][o].get(m)
                        for r in records
                        if r["by_office"][o].get(m) is not None
                    ],
                    float,
                )
                if len(vals):
                    mu[o] = vals.mean()
                below = t_margin(list(vals), self.confidence)
                if below is not None:
                    lo[o] = mu[o] - below
                    hw[o] = ci95_halfwidth(list(vals))
                if measure.ceiling and below is not None:
                    lo[o] = mu[o] + below  # the bound that matters for a ceiling
                if m in self.targets:
                    if np.isnan(lo[o]):
                        assessable[o] = False
                    elif measure.ceiling:
                        passes[o] &= bool(lo[o] <= self.targets[m] + 1e-12)
                        margin = min(margin, self.targets[m] - float(lo[o]))
                    else:
                        passes[o] &= bool(lo[o] >= self.targets[m] - 1e-12)
                        margin = min(margin, float(lo[o]) - self.targets[m])
            mean[m], lower[m], ci[m] = mu, lo, hw
        staff = np.array(
            [
                [
                    int(np.mean([r["by_office"][o][f"staff.{role}"] for r in records[:1]]))
                    for role in ROLES
                ]
                for o in range(k)
            ]
        )
        incidents = np.array(
            [np.mean([r["by_office"][o]["incidents"] for r in records]) for o in range(k)]
        )
        discovery: dict[str, float | None] = {}
        for measure in DISCOVERY:
            per_rep = [measure.read(r["measures"]) for r in records]
            got = [float(v) for v in per_rep if v is not None]
            discovery[measure.name.split(".", 1)[1]] = float(np.mean(got)) if got else None
        return Evaluation(
            people,
            advisor_share,
            mean,
            lower,
            ci,
            passes,
            assessable,
            staff,
            incidents,
            margin,
            discovery,
            len(records),
        )

    def _record(self, phase: str, ev: Evaluation) -> None:
        failing = [self.offices[o] for o in np.flatnonzero(~ev.passes)]
        self.history.append(
            {
                "evaluation": self.evaluations,
                "phase": phase,
                "advisor_share": ev.advisor_share,
                "staff": ev.total,
                "feasible": ev.feasible,
                "offices_failing": failing,
                "least_margin": None if math.isinf(ev.margin) else round(ev.margin, 6),
                "replications": ev.replications,
            }
        )
        state = (
            "all offices meet the target"
            if ev.feasible
            else f"{len(failing)} office(s) below target"
        )
        if ev.replications < self.replications:
            state += f" (stopped after {ev.replications} replications: certainly failing)"
        self.log(f"  evaluation {self.evaluations:3d} ({phase}): {ev.total:,} staff, {state}")

    # -------------------------------------------------------------------- search

    def search(
        self,
        advisor_share: float | None,
        start: float,
        step: float,
        lo_d: float,
        hi_d: float,
        *,
        budget: int | None = None,
    ) -> tuple[Evaluation | None, bool]:
        """(cheapest feasible plan found, whether it is confirmed locally minimal).

        ``budget``: the number of evaluations (of the whole optimisation) this search may
        reach; default the optimisation's ``max_evaluations``."""
        self.limit = self.max_evaluations if budget is None else min(budget, self.max_evaluations)
        try:
            return self._search(advisor_share, start, step, lo_d, hi_d)
        finally:
            self.limit = self.max_evaluations

    def _search(
        self, advisor_share: float | None, start: float, step: float, lo_d: float, hi_d: float
    ) -> tuple[Evaluation | None, bool]:
        steps = np.maximum(1, np.round(step * self.km2)).astype(np.int64)
        lo = np.maximum(0, self.people_at(lo_d))
        cap = np.maximum(lo, self.people_at(hi_d))
        n = np.clip(self.people_at(start), lo, cap)
        brackets = _Brackets.start(steps)
        seen: set[tuple[int, ...]] = set()
        rounds = max(6, self.remaining // 3)  # leave most of the budget to the lowering passes
        for _ in range(rounds):
            plan = tuple(int(x) for x in n)
            seen.add(plan)
            evs = self.evaluate([(plan, advisor_share)], "search")
            if evs is None:
                self.log("  evaluation budget reached during the bracketing search")
                break
            nxt = brackets.next(n, evs[0].passes, lo, cap)
            if (nxt == n).all() or tuple(int(x) for x in nxt) in seen:
                break
            n = nxt
        best = self.best(advisor_share)
        if best is None:
            return None, False
        return self.lower_pass(best, steps, lo)

    def best(self, advisor_share: float | None) -> Evaluation | None:
        feasible = [e for (p, a), e in self.memo.items() if a == advisor_share and e.feasible]
        return min(feasible, key=lambda e: (e.total, -e.margin)) if feasible else None

    def lower_pass(
        self, best: Evaluation, steps: np.ndarray, lo: np.ndarray
    ) -> tuple[Evaluation, bool]:
        """Lower offices while the plan stays feasible; (plan, locally minimal?)."""
        a = best.advisor_share
        stride = steps.copy()  # grows while an office keeps dropping, shrinks when it fails
        while True:
            cut = self._cuts(best, stride, steps, lo)
            if not cut:
                return best, True
            singles = [(_lowered(best.people, {o: c}), a) for o, c in cut.items()]
            lowered = self.evaluate(singles, "lowering")
            if lowered is None:
                self.log(
                    "  evaluation budget reached during a lowering pass: not confirmed minimal"
                )
                return best, False
            evs = dict(zip(cut, lowered, strict=True))
            ok = sorted((o for o in cut if evs[o].feasible), key=lambda o: -evs[o].margin)
            for o in cut:
                if not evs[o].feasible:
                    stride[o] = max(steps[o], stride[o] // 2)
            if not ok:
                if all(cut[o] == steps[o] for o in cut):
                    return best, True  # every one-step lowering fails: locally minimal
                continue
            # lower the first j offices (most slack first) together, for j = 2, 4, 8, ... and all
            sizes = sorted({*(2**i for i in range(1, len(ok).bit_length())), len(ok)} - {1})
            prefixes = [(_lowered(best.people, {o: cut[o] for o in ok[:j]}), a) for j in sizes]
            kept = [i for i, (p, _) in enumerate(prefixes) if not self.known_to_fail(p, a)]
            sizes, prefixes = [sizes[i] for i in kept], [prefixes[i] for i in kept]
            prefixes = prefixes[: max(0, self.remaining)]
            chosen, accepted = evs[ok[0]], ok[:1]
            # within the evaluations left (trimmed above), so never refused
            combined = self.evaluate(prefixes, "lowering, combined") if prefixes else None
            for j, ev in zip(sizes, combined or [], strict=False):
                if ev.feasible and ev.total < chosen.total:
                    chosen, accepted = ev, ok[:j]
            for o in accepted:
                stride[o] *= 2
            best = chosen

    def _cuts(
        self, best: Evaluation, stride: np.ndarray, steps: np.ndarray, lo: np.ndarray
    ) -> dict[int, int]:
        """Per office, the people to take off in this lowering pass: its stride, halved
        (in whole steps) while the lowered plan is known to fail (:meth:`known_to_fail`);
        an office whose one-step lowering is known to fail is not tried again."""
        cut: dict[int, int] = {}
        for o in (int(x) for x in np.argsort(-steps, kind="stable")):
            if best.people[o] - steps[o] < lo[o]:
                continue
            c = int(min(stride[o], (best.people[o] - lo[o]) // steps[o] * steps[o]))
            while self.known_to_fail(_lowered(best.people, {o: c}), best.advisor_share):
                if c <= steps[o]:
                    c = 0
                    break
                c = max(int(steps[o]), c // 2 // int(steps[o]) * int(steps[o]))
            if c > 0:
                cut[o] = c
        return cut


@dataclass
class _Brackets:
    """Per office, in people: the highest level seen to fail and the lowest seen to pass
    (-1: none yet), and the next step up and down (doubling while the answer holds)."""

    steps: np.ndarray
    fail_at: np.ndarray
    pass_at: np.ndarray
    inc: np.ndarray
    dec: np.ndarray

    @classmethod
    def start(cls, steps: np.ndarray) -> _Brackets:
        none = np.full(len(steps), -1, dtype=np.int64)
        return cls(steps, none.copy(), none.copy(), steps.copy(), steps.copy())

    def next(self, n: np.ndarray, ok: np.ndarray, lo: np.ndarray, cap: np.ndarray) -> np.ndarray:
        """The next plan: an office that passed goes down, one that failed up, bisecting
        once it has both a failing and a passing level."""
        nxt = n.copy()
        for o in range(len(n)):
            nxt[o] = (
                self._passed(o, int(n[o]), int(lo[o]))
                if ok[o]
                else self._failed(o, int(n[o]), int(cap[o]))
            )
        return nxt

    def _passed(self, o: int, n: int, lo: int) -> int:
        step = int(self.steps[o])
        self.pass_at[o] = n if self.pass_at[o] < 0 else min(self.pass_at[o], n)
        if self.fail_at[o] >= n:  # the neighbours changed the answer
            self.fail_at[o], self.inc[o], self.dec[o] = -1, step, step
        if self.fail_at[o] >= 0:
            gap = n - int(self.fail_at[o])
            return n if gap <= step else int(self.fail_at[o]) + _half(gap, step)
        if n > lo:
            down = max(lo, n - int(self.dec[o]))
            self.dec[o] *= 2
            return down
        return n

    def _failed(self, o: int, n: int, cap: int) -> int:
        step = int(self.steps[o])
        self.fail_at[o] = max(self.fail_at[o], n)
        if 0 <= self.pass_at[o] <= n:  # the neighbours changed the answer
            self.pass_at[o], self.dec[o], self.inc[o] = -1, step, step
        if self.pass_at[o] >= 0:
            gap = int(self.pass_at[o]) - n
            return int(self.pass_at[o]) if gap <= step else n + _half(gap, step)
        up = min(cap, n + int(self.inc[o]))
        self.inc[o] *= 2
        return up


def _half(gap: int, step: int) -> int:
    """About half of ``gap``, in whole steps, strictly between 0 and ``gap``."""
    return int(min(max(step, round(gap / 2 / step) * step), gap - 1))


def _lowered(people: tuple[int, ...], cuts: Mapping[int, int]) -> tuple[int, ...]:
    out = list(people)
    for o, c in cuts.items():
        out[o] -= c
    return tuple(out)
