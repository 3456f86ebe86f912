"""Staffing optimiser: the least staff per street office that meets an on-time target.

This is the Python API behind ``python -m sim optimize``::

    import sim
    table = sim.optimize(sim.load_scenario("scenarios/jinshui.yaml"),
                         target={"double_ten": 0.95}, replications=10, days=1)

A plan gives every street office its own density (``staff.per_km2_by_office``). An
office *meets the target* when the one-sided lower confidence bound (t over
replications) of its mean per-replication share is at least the target, for every
target measure. A plan is *feasible* when every office meets the target.

Offices interact (nearest dispatch crosses borders), so the search always evaluates
whole plans, every office at once, and decides per office from that joint evaluation:

1. **Bracketing search.** Start from a low uniform density. After each evaluation an
   office that fails is raised (by one step, then 2, 4, ... steps while it keeps
   failing) and an office that passes is lowered the same way, until each office has
   a failing and a passing level one step apart; then bisect between them. A
   bracket found in one context is dropped when the neighbours change the answer.
2. **Lowering passes.** From the cheapest feasible plan seen, try lowering each office
   by one step (all these plans are evaluated together, in parallel); keep every
   lowering that stays feasible if they are feasible together, else the best single
   one; repeat until no single one-step lowering is feasible. Then the plan is
   *locally minimal*: lowering any one office by a step makes some office fail.

All plans use the same seeds (common random numbers), so comparisons between plans are
paired and sharp; the number of plan evaluations is bounded (``max_evaluations``) and
reported. Runs are stored like a sweep's, so an interrupted optimisation resumes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import numpy as np

from sim.analysis.evaluation import month_count
from sim.analysis.measures import TARGETS, unknown_target
from sim.analysis.metrics import ci95_halfwidth, t_margin
from sim.batch.sweeps import DISCOVERY, Executor, discovery_measure
from sim.errors import ArgumentError
from sim.output.folders import open_batch
from sim.overrides import split_assignment
from sim.runner import prepare
from sim.scenario import ROLES, Scenario, ScenarioError, with_overrides

if TYPE_CHECKING:
    import pandas as pd

# What may be targeted (sim.analysis.measures.TARGETS), in words, and which targets are
# ceilings: an office meets ``black_flag=0.2`` when the one-sided upper confidence bound of
# its black-flag probability (share of evaluated months) is <= 0.2.
MEASURES: tuple[str, ...] = tuple(TARGETS)
LABELS: dict[str, str] = {m.name: m.label for m in TARGETS.values()}
AT_MOST: frozenset[str] = frozenset(m.name for m in TARGETS.values() if m.ceiling)
Log = Callable[[str], None]
# the keyword arguments whose problems :func:`optimize_plan` reports (the CLI's flags)
OPTIMIZE_ARGUMENTS = (
    "target", "days", "replications", "confidence", "min_density", "start", "max_density",
    "step", "max_evaluations", "mix",
)  # fmt: skip


def parse_target(text: str) -> tuple[str, float]:
    """``double_ten=0.95`` → ``("double_ten", 0.95)``; ``95%`` is accepted too."""
    key, raw = split_assignment(text, "MEASURE=SHARE, e.g. double_ten=0.95")
    raw = raw.strip()
    if not raw:
        raise ArgumentError([f"target {text!r}: expected MEASURE=SHARE"], ["target"])
    if key not in TARGETS:
        raise ArgumentError([unknown_target(key)], ["target"])
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ArgumentError([f"target {key}: {raw!r} is not a number"], ["target"]) from None
    if not 0 < value <= 1:
        raise ArgumentError(
            [f"target {key}: must be a share between 0 and 1 (or a percentage), got {raw}"],
            ["target"],
        )
    return key, value


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
    discovery: dict[str, float | None]  # district means of DISCOVERY (None: not measured)

    @property
    def feasible(self) -> bool:
        return bool(self.passes.all())

    @property
    def total(self) -> int:
        return int(self.staff.sum())


@dataclass
class Plan:
    """The optimiser's answer and how it was found."""

    table: pd.DataFrame  # one row per street office
    totals: dict[str, Any]
    meta: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


class _BudgetError(Exception):
    """The evaluation budget would be exceeded."""


class _Search:
    def __init__(
        self,
        base: Scenario,
        targets: dict[str, float],
        confidence: float,
        replications: int,
        executor: Executor,
        max_evaluations: int,
        log: Log,
    ) -> None:
        self.base = base
        self.targets = targets
        self.confidence = confidence
        self.replications = replications
        self.ex = executor
        self.max_evaluations = max_evaluations
        self.log = log
        self.memo: dict[tuple[tuple[int, ...], float | None], Evaluation] = {}
        self.evaluations = 0
        self.history: list[dict[str, Any]] = []
        self.offices: list[str] = []
        self.names_zh: list[str] = []
        self.km2 = np.zeros(0)
        self.warnings: dict[tuple[tuple[int, ...], float | None], list[str]] = {}

    @property
    def remaining(self) -> int:
        return self.max_evaluations - self.evaluations

    # ---------------------------------------------------------------- evaluation

    def density(self, people: int, o: int) -> float:
        """A density (4 decimals) that places exactly ``people`` staff in office ``o``."""
        return math.floor(people / float(self.km2[o]) * 1e4) / 1e4

    def people_at(self, density: float) -> np.ndarray:
        return np.array([math.ceil(density * float(a) - 1e-9) for a in self.km2], dtype=np.int64)

    def mix_for(self, advisor_share: float) -> dict[str, float]:
        g = float(self.base.staff.mix.grid)
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
    ) -> list[Evaluation]:
        new = list(dict.fromkeys(p for p in plans if p not in self.memo))
        if len(new) > self.remaining:
            raise _BudgetError
        if new:
            scenarios = [self.scenario(p, a) for p, a in new]
            what = f"{phase}: {len(new)} plan{'s' if len(new) > 1 else ''}"
            results = self.ex.run(scenarios, self.replications, desc=what)
            for plan, records in zip(new, results, strict=True):
                self.evaluations += 1
                ev = self._evaluation(records, plan[0], plan[1])
                self.memo[plan] = ev
                self.warnings[plan] = list(records[0].get("warnings", []))
                self._record(phase, ev)
        return [self.memo[p] for p in plans]

    def _evaluation(
        self, records: list[dict[str, Any]], people: tuple[int, ...], advisor_share: float | None
    ) -> Evaluation:
        k = len(self.offices)
        mean, lower, ci = {}, {}, {}
        assessable = np.ones(k, dtype=bool)
        passes = np.ones(k, dtype=bool)
        margin = math.inf
        for m in MEASURES:
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
                if m in AT_MOST and below is not None:
                    lo[o] = mu[o] + below  # the bound that matters for a ceiling
                if m in self.targets:
                    if np.isnan(lo[o]):
                        assessable[o] = False
                    elif m in AT_MOST:
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
        for key in DISCOVERY:
            per_rep = [discovery_measure(r["measures"], key) for r in records]
            got = [float(v) for v in per_rep if v is not None]
            discovery[key] = float(np.mean(got)) if got else None
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
            }
        )
        state = (
            "all offices meet the target"
            if ev.feasible
            else f"{len(failing)} office(s) below target"
        )
        self.log(f"  evaluation {self.evaluations:3d} ({phase}): {ev.total:,} staff, {state}")

    # -------------------------------------------------------------------- search

    def search(
        self, advisor_share: float | None, start: float, step: float, lo_d: float, hi_d: float
    ) -> tuple[Evaluation | None, bool]:
        """(cheapest feasible plan found, whether it is confirmed locally minimal)."""
        k = len(self.offices)
        steps = np.maximum(1, np.round(step * self.km2)).astype(np.int64)
        lo = np.maximum(0, self.people_at(lo_d))
        cap = np.maximum(lo, self.people_at(hi_d))
        n = np.clip(self.people_at(start), lo, cap)
        fail_at = np.full(k, -1, dtype=np.int64)
        pass_at = np.full(k, -1, dtype=np.int64)
        inc, dec = steps.copy(), steps.copy()
        seen: set[tuple[int, ...]] = set()
        rounds = max(6, self.remaining // 3)  # leave most of the budget to the lowering passes
        try:
            for _ in range(rounds):
                plan = tuple(int(x) for x in n)
                seen.add(plan)
                ok = self.evaluate([(plan, advisor_share)], "search")[0].passes
                nxt = n.copy()
                for o in range(k):
                    if ok[o]:
                        pass_at[o] = n[o] if pass_at[o] < 0 else min(pass_at[o], n[o])
                        if fail_at[o] >= n[o]:
                            fail_at[o], inc[o], dec[o] = -1, steps[o], steps[o]  # context changed
                        if fail_at[o] >= 0:
                            gap = n[o] - fail_at[o]
                            nxt[o] = n[o] if gap <= steps[o] else fail_at[o] + _half(gap, steps[o])
                        elif n[o] > lo[o]:
                            nxt[o] = max(lo[o], n[o] - dec[o])
                            dec[o] *= 2
                    else:
                        fail_at[o] = max(fail_at[o], n[o])
                        if 0 <= pass_at[o] <= n[o]:  # the neighbours changed the answer
                            pass_at[o], dec[o], inc[o] = -1, steps[o], steps[o]
                        if pass_at[o] >= 0:
                            gap = pass_at[o] - n[o]
                            nxt[o] = pass_at[o] if gap <= steps[o] else n[o] + _half(gap, steps[o])
                        else:
                            nxt[o] = min(cap[o], n[o] + inc[o])
                            inc[o] *= 2
                if (nxt == n).all() or tuple(int(x) for x in nxt) in seen:
                    break
                n = nxt
        except _BudgetError:
            self.log("  evaluation budget reached during the bracketing search")
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
            cut = {
                int(o): int(min(stride[o], (best.people[o] - lo[o]) // steps[o] * steps[o]))
                for o in np.argsort(-steps, kind="stable")
                if best.people[o] - steps[o] >= lo[o]
            }
            if not cut:
                return best, True
            singles = [(_lowered(best.people, {o: c}), a) for o, c in cut.items()]
            try:
                evs = dict(zip(cut, self.evaluate(singles, "lowering"), strict=True))
            except _BudgetError:
                self.log(
                    "  evaluation budget reached during a lowering pass: not confirmed minimal"
                )
                return best, False
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
            prefixes = prefixes[: max(0, self.remaining)]
            chosen, accepted = evs[ok[0]], ok[:1]
            if prefixes:
                for j, ev in zip(
                    sizes, self.evaluate(prefixes, "lowering, combined"), strict=False
                ):
                    if ev.feasible and ev.total < chosen.total:
                        chosen, accepted = ev, ok[:j]
            for o in accepted:
                stride[o] *= 2
            best = chosen


def _half(gap: int, step: int) -> int:
    """About half of ``gap``, in whole steps, strictly between 0 and ``gap``."""
    return int(min(max(step, round(gap / 2 / step) * step), gap - 1))


def _lowered(people: tuple[int, ...], cuts: Mapping[int, int]) -> tuple[int, ...]:
    out = list(people)
    for o, c in cuts.items():
        out[o] -= c
    return tuple(out)


# ------------------------------------------------------------------------ API


def optimize_plan(
    scenario: Scenario,
    target: Mapping[str, float] | None = None,
    *,
    replications: int = 10,
    days: float | None = None,
    seed: int | None = None,
    confidence: float = 0.95,
    mix: str | None = None,
    mix_values: Sequence[float] | None = None,
    start: float = 10.0,
    step: float = 1.0,
    min_density: float = 2.0,
    max_density: float = 100.0,
    baseline: float = 20.0,
    max_evaluations: int = 200,
    out: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    log: Log | None = None,
    force: bool = False,
) -> Plan:
    """The least staff per street office so that every office meets ``target``.

    ``target`` maps measures (``double_ten``, ``advisor_on_time``, ``enforcer_on_time``)
    to shares; default: double ten at the scenario's ``rules.target``. An office meets
    it when the one-sided ``confidence`` lower bound over ``replications`` of its mean
    share reaches it. ``mix="advisor"`` also tries advisor shares of advisors +
    enforcers (``mix_values``; default the current share ± 0.1). The search starts at
    the uniform density ``start``, changes offices by ``step`` per km² within
    ``min_density``..``max_density``, evaluates at most ``max_evaluations`` plans and
    compares with the uniform ``baseline``. ``out``, ``scheduler``, ``workers`` and
    ``progress`` are as for :func:`sim.batch.sweeps.run_sweep`; ``log`` receives progress lines.
    These keyword options, with these defaults, are also those of :func:`optimize`
    (:class:`OptimizeOptions`). See the module doc for the method.
    """
    targets = dict(target) if target else {"double_ten": prepare(scenario).rules.target}
    problems = [unknown_target(m) for m in targets if m not in TARGETS]
    problems += [
        f"target {m}: must be between 0 and 1" for m, v in targets.items() if not 0 < v <= 1
    ]
    if "black_flag" in targets and month_count(prepare(scenario, seed, days)) == 0:
        problems.append(
            "target black_flag: runs must cover at least one evaluation month "
            "(days >= evaluation.month_days)"
        )
    if "repeat_share" in targets and not scenario.enforcement.enabled:
        problems.append(
            "--target repeat_share: the scenario's enforcement chain is off "
            "(enforcement.enabled: false), so no incident has a known offender"
        )
    if replications < 2:
        problems.append(
            "replications: the optimiser needs at least 2 (to put bounds on its estimates)"
        )
    if not 0.5 <= confidence < 1:
        problems.append("confidence: must be at least 0.5 and below 1")
    if not 0 <= min_density <= start <= max_density <= 1000:
        problems.append("min_density <= start <= max_density <= 1000 must hold")
    if step <= 0:
        problems.append("step: must be positive")
    if max_evaluations < 3:
        problems.append("max_evaluations: must be at least 3")
    if mix not in (None, "advisor"):
        problems.append(f"mix: unknown mix search {mix!r} (use 'advisor')")
    if scenario.staff.posts is not None:
        raise ScenarioError(
            ["staff.posts: explicit posts replace densities; the optimiser needs density placement"]
        )
    if problems:
        raise ArgumentError(problems, OPTIMIZE_ARGUMENTS)
    base = prepare(scenario, seed, days)
    shares: list[float | None] = [None]
    if mix == "advisor":
        m = base.staff.mix
        current = float(m.advisor) / max(float(m.advisor + m.enforcer), 1e-9)
        raw = list(mix_values) if mix_values else [round(current + d, 2) for d in (-0.1, 0, 0.1)]
        bad = [v for v in raw if not isinstance(v, int | float) or not 0 < float(v) < 1]
        if bad:
            raise ArgumentError(
                [f"mix_values: shares must be between 0 and 1, got {', '.join(map(str, bad))}"],
                ["mix_values"],
            )
        shares = list(dict.fromkeys(round(float(v), 4) for v in raw))
    say: Log = log or (print if progress else (lambda _line: None))
    folder = Path(out) if out is not None else None
    if folder is not None:
        folder = open_batch(folder, "optimize", PLAN_FILES, force=force)
    with Executor(folder, workers=workers, scheduler=scheduler, progress=progress) as ex:
        s = _Search(base, targets, confidence, replications, ex, max_evaluations, say)
        for a in shares:  # validate every mix before any run
            if a is not None:
                s.scenario(None, a)
        say(f"optimising {base.name}: uniform {baseline:g}/km² first")
        uniform, uniform_warnings = s.baseline(baseline)
        found: list[tuple[Evaluation, bool]] = []
        for i, a in enumerate(shares):
            budget_left = s.remaining // (len(shares) - i)
            s.max_evaluations = s.evaluations + budget_left
            say(f"search{'' if a is None else f' with advisors = {a:.0%} of advisors + enforcers'}")
            best, minimal = s.search(a, start, step, min_density, max_density)
            s.max_evaluations = max_evaluations
            if best is not None:
                found.append((best, minimal))
        computed, reused = ex.computed, ex.reused
    if found:
        final, minimal = min(found, key=lambda f: (f[0].total, -f[0].margin))
    else:
        # nothing feasible found by the searches: the cheapest feasible plan evaluated (the
        # uniform one, say), else the plan with the fewest offices below target
        final = min(
            s.memo.values(),
            key=lambda e: (
                not e.feasible,
                e.total if e.feasible else int((~e.passes).sum()),
                -e.margin,
            ),
            default=uniform,
        )
        minimal = False
    plan_key = (final.people, final.advisor_share)
    warnings = s.warnings.get(plan_key, uniform_warnings if final is uniform else [])
    warnings = [*ex.warnings, *warnings]  # stored runs found damaged and simulated again
    table, totals = _table(s, final, uniform, baseline, base)
    meta = {
        "scenario": base.name,
        "targets": targets,
        "confidence": confidence,
        "criterion": f"one-sided {confidence:.0%} lower confidence bound (t over replications) "
        "of each office's mean share >= target, for every target measure",
        "replications": replications,
        "days": base.duration.days,
        "warmup_hours": base.duration.warmup_hours,
        "seed": base.seed,
        "feasible": final.feasible,
        "locally_minimal": minimal,
        "evaluations": s.evaluations,
        "max_evaluations": max_evaluations,
        "runs_simulated": computed,
        "runs_reused": reused,
        "search": {"start": start, "step": step, "min_density": min_density, "max_density": max_density},
        "baseline_density": baseline,
        "mix": s.mix_for(final.advisor_share)
        if final.advisor_share is not None
        else base.staff.mix.model_dump(),
        "mixes_tried": [
            {"advisor_share": e.advisor_share, "staff": e.total, "locally_minimal": mm} for e, mm in found
        ] if mix else [],
        "overrides": _overrides(s, final),
        "history": s.history,
    }  # fmt: skip
    plan = Plan(table, totals, meta, warnings)
    if folder is not None:
        write_plan(plan, folder)
    return plan


class OptimizeOptions(TypedDict, total=False):
    """The keyword options of :func:`optimize`: those of :func:`optimize_plan`, with its defaults."""

    replications: int
    days: float | None
    seed: int | None
    confidence: float
    mix: str | None
    mix_values: Sequence[float] | None
    start: float
    step: float
    min_density: float
    max_density: float
    baseline: float
    max_evaluations: int
    out: str | Path | None
    scheduler: str | None
    workers: int | None
    progress: bool
    log: Log | None
    force: bool


def optimize(
    scenario: Scenario,
    target: Mapping[str, float] | None = None,
    **options: Unpack[OptimizeOptions],
) -> pd.DataFrame:
    """The least staff per street office so that every office meets ``target``.

    Options and defaults are those of :func:`optimize_plan`. Returns one row per street
    office (density, staff by role, achieved shares with bounds) beside the uniform
    baseline plan; ``.attrs`` holds ``totals`` (including the district's discovery
    measures, e.g. ``never_found``) and ``meta`` (evaluations, whether the plan is
    feasible and locally minimal, the overrides to apply).
    """
    plan = optimize_plan(scenario, target, **options)
    table = plan.table.copy()
    table.attrs = {"totals": plan.totals, "meta": plan.meta}
    return table


def _overrides(s: _Search, ev: Evaluation) -> dict[str, Any]:
    over: dict[str, Any] = {
        "staff.per_km2_by_office": {
            o: s.density(n, k) for k, (o, n) in enumerate(zip(s.offices, ev.people, strict=True))
        }
    }
    if ev.advisor_share is not None:
        over["staff.mix"] = s.mix_for(ev.advisor_share)
    return over


def _table(
    s: _Search, ev: Evaluation, uniform: Evaluation, baseline: float, base: Scenario
) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pandas as pd

    days = base.duration.days
    rows = []
    for o, name in enumerate(s.offices):
        row: dict[str, Any] = {
            "office": name,
            "name_zh": s.names_zh[o],
            "area_km2": round(float(s.km2[o]), 4),
            "density": round(float(ev.staff[o].sum()) / float(s.km2[o]), 2),
            "staff": int(ev.staff[o].sum()),
            **{role: int(ev.staff[o][r]) for r, role in enumerate(ROLES)},
        }
        for m in s.targets:
            row[m] = _f(ev.mean[m][o])
            row[f"{m}.lower"] = _f(ev.lower[m][o])
            row[f"{m}.ci95"] = _f(ev.ci95[m][o])
        row["meets_target"] = bool(ev.passes[o])
        row["assessable"] = bool(ev.assessable[o])
        row["instructions_per_day"] = round(float(ev.incidents[o]) / days, 2)
        row["baseline_density"] = baseline
        row["baseline_staff"] = int(uniform.staff[o].sum())
        for m in s.targets:
            row[f"baseline_{m}"] = _f(uniform.mean[m][o])
            row[f"baseline_{m}.lower"] = _f(uniform.lower[m][o])
        row["baseline_meets_target"] = bool(uniform.passes[o])
        row["staff_change"] = row["staff"] - row["baseline_staff"]
        rows.append(row)
    table = pd.DataFrame(rows)
    total, base_total = ev.total, uniform.total
    area = float(s.km2.sum())
    totals = {
        "area_km2": round(area, 4),
        "staff": total,
        "density": round(total / area, 2) if area else None,
        "by_role": {role: int(ev.staff[:, r].sum()) for r, role in enumerate(ROLES)},
        "offices_meeting_target": int(ev.passes.sum()),
        "offices": len(s.offices),
        "baseline_staff": base_total,
        "baseline_offices_meeting_target": int(uniform.passes.sum()),
        "staff_change": total - base_total,
        "staff_change_pct": round(100 * (total - base_total) / base_total, 1)
        if base_total
        else None,
    }
    # district-level discovery: the target says nothing about problems left unfound
    for key in DISCOVERY:
        totals[key] = _f(ev.discovery.get(key))
        totals[f"baseline_{key}"] = _f(uniform.discovery.get(key))
    return table, totals


def _f(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), 6)


# ---------------------------------------------------------------------- output


def plan_text(plan: Plan) -> str:
    """The staffing table ``python -m sim optimize`` prints."""
    from sim.viz.report import format_table, place_label

    meta, tot, t = plan.meta, plan.totals, plan.table
    m = next(iter(meta["targets"]))

    def pct(v: Any) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"

    rows = []
    for r in t.to_dict("records"):
        meets = "yes" if r["meets_target"] else ("n/a" if not r["assessable"] else "NO")
        rows.append(
            [
                place_label(r["office"], r["name_zh"]),
                f"{r['area_km2']:.2f}",
                f"{r['density']:.1f}",
                r["staff"],
                f"{r['grid']}/{r['advisor']}/{r['enforcer']}",
                pct(r[m]),
                pct(r[f"{m}.lower"]),
                meets,
                r["baseline_staff"],
                pct(r[f"baseline_{m}.lower"]),
                f"{r['staff_change']:+d}",
            ]
        )
    rows.append(
        ["TOTAL", f"{tot['area_km2']:.2f}", f"{tot['density']:.1f}", tot["staff"],
         "/".join(str(tot["by_role"][r]) for r in ROLES), "", "",
         f"{tot['offices_meeting_target']}/{tot['offices']}", tot["baseline_staff"],
         f"{tot['baseline_offices_meeting_target']}/{tot['offices']} ok", f"{tot['staff_change']:+d}"]
    )  # fmt: skip
    conf = f"{meta['confidence']:.0%}"
    side = "upper" if m in AT_MOST else "lower"
    table = format_table(
        ["street office", "km²", "per km²", "staff", "grid/adv/enf", LABELS[m], f"{conf} {side}", "meets",
         f"uniform {meta['baseline_density']:g}", f"{conf} {side}", "change"],
        rows, align="lrrrrrrlrrr",
    )  # fmt: skip
    goals = ", ".join(
        f"{LABELS[k]} {'≤' if k in AT_MOST else '≥'} {100 * v:g}%"
        for k, v in meta["targets"].items()
    )
    head = (
        f"{meta['scenario']}: least staff per street office so that every office reaches {goals} "
        f"(one-sided {conf} lower bound over {meta['replications']} replications of "
        f"{meta['days']:g} day(s), seed {meta['seed']})"
    )
    change = tot["staff_change"]
    verdict = (
        f"saves {-change:,} staff ({tot['staff_change_pct']:+.1f}%)" if change < 0
        else f"needs {change:,} more staff ({tot['staff_change_pct']:+.1f}%)" if change > 0
        else "same staff"
    )  # fmt: skip
    lines = [
        head,
        "",
        table,
        "",
        f"plan: {tot['staff']:,} staff vs {tot['baseline_staff']:,} at a uniform "
        f"{meta['baseline_density']:g} per km²: {verdict}; the uniform plan has "
        f"{tot['baseline_offices_meeting_target']} of {tot['offices']} offices on target",
        f"target met in every office: {'yes' if meta['feasible'] else 'NO'}; locally minimal (no single "
        f"office can drop a step): {'yes' if meta['locally_minimal'] else 'not confirmed'}",
        f"{meta['evaluations']} plan evaluations (budget {meta['max_evaluations']}), "
        f"{meta['runs_simulated']} runs simulated, {meta['runs_reused']} reused",
    ]
    lost, base_lost = tot.get("never_found"), tot.get("baseline_never_found")
    if lost is not None:
        delay, base_delay = tot.get("report_delay_min"), tot.get("baseline_report_delay_min")
        delays = (
            f"; mean report delay {delay:.1f} min (uniform {base_delay:.1f})"
            if delay is not None and base_delay is not None
            else ""
        )
        lines.append(
            f"discovery (district; not part of the target): {pct(lost)} of problems never found "
            f"(uniform {pct(base_lost)}){delays}; the role mix is kept, so fewer staff means "
            "fewer grid members on patrol"
        )
    if meta["mixes_tried"]:
        tried = ", ".join(f"{x['advisor_share']:.0%} → {x['staff']:,}" for x in meta["mixes_tried"])
        mix = meta["mix"]
        best = " / ".join(f"{role} {100 * share:.1f}%" for role, share in mix.items())
        lines.append(f"advisor share of advisors + enforcers tried: {tried}; best mix: {best}")
    return "\n".join(lines)


PLAN_FILES = ("runs", "plan.csv", "plan.json", "plan.txt", "plan.png")
"""What the optimiser writes into its folder (and may overwrite when resumed)."""


def write_plan(plan: Plan, folder: Path) -> None:
    """``plan.csv`` (with a TOTAL row), ``plan.json``, ``plan.txt`` and ``plan.png``."""
    import pandas as pd

    from sim.atomic import atomic_path
    from sim.output.results import dumps, write_text_atomic

    tot = plan.totals
    total = {
        "office": "TOTAL",
        "area_km2": tot["area_km2"],
        "density": tot["density"],
        "staff": tot["staff"],
        **tot["by_role"],
        "meets_target": tot["offices_meeting_target"] == tot["offices"],
        "baseline_staff": tot["baseline_staff"],
        "staff_change": tot["staff_change"],
        **{k: tot.get(k) for k in (*DISCOVERY, *(f"baseline_{k}" for k in DISCOVERY))},
    }
    csv = pd.concat([plan.table, pd.DataFrame([total])], ignore_index=True)
    write_text_atomic(folder / "plan.csv", str(csv.to_csv(index=False, lineterminator="\n")))
    data = {
        **plan.meta,
        "totals": plan.totals,
        "offices": plan.table.to_dict("records"),
        "warnings": plan.warnings,
    }
    write_text_atomic(folder / "plan.json", dumps(data))
    write_text_atomic(folder / "plan.txt", plan_text(plan) + "\n")
    with atomic_path(folder / "plan.png") as tmp:
        plot_plan(plan, tmp)


def plot_plan(plan: Plan, path: Path) -> None:
    """Density per office (plan vs uniform) and the achieved lower bound vs the target."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from sim.viz.report import COLORS, place_label, save, style

    style()
    t = plan.table.sort_values("density")
    meta = plan.meta
    m = next(iter(meta["targets"]))
    target = meta["targets"][m]
    y = np.arange(len(t))
    fig, (a1, a2) = plt.subplots(
        1, 2, figsize=(12, 0.36 * len(t) + 2.8), sharey=True, layout="constrained"
    )
    ok = [bool(v) for v in t["meets_target"]]
    colors = [COLORS["double_ten"] if v else COLORS["enforcer"] for v in ok]
    a1.barh(y, t["density"], color=colors, alpha=0.85)
    a1.plot(t["baseline_staff"] / t["area_km2"], y, "|", color="black", ms=12, mew=2)
    for yi, (d, n) in enumerate(zip(t["density"], t["staff"], strict=True)):
        a1.text(0.3, yi, f"{d:.1f}/km² · {n} staff", va="center", fontsize=8, color="white")
    a1.set_yticks(y, [place_label(o, z) for o, z in zip(t["office"], t["name_zh"], strict=True)])
    a1.set_xlabel("staff per km² (all roles)")
    a1.set_title("Staff density per street office", fontsize=11)
    a1.grid(axis="y", visible=False)
    conf = f"{meta['confidence']:.0%}"
    plan_vals = np.array([np.nan if v is None else 100 * float(v) for v in t[f"{m}.lower"]], float)
    base_vals = np.array(
        [np.nan if v is None else 100 * float(v) for v in t[f"baseline_{m}.lower"]], float
    )
    a2.barh(y - 0.17, plan_vals, height=0.34, color=colors, alpha=0.85)
    a2.barh(y + 0.17, base_vals, height=0.34, color="#aaaaaa", alpha=0.85)
    a2.axvline(100 * target, color=COLORS["target"], ls=":", lw=1.3)
    lows = [float(v) for v in (*plan_vals, *base_vals) if np.isfinite(v)]
    if m in AT_MOST:
        a2.set_xlim(0, 100.5)
    else:
        a2.set_xlim(max(0.0, min([*lows, 100 * target]) - 3), 100.5)
    bound = "upper" if m in AT_MOST else "lower"
    a2.set_xlabel(f"{LABELS[m]}: {conf} {bound} confidence bound (%)")
    a2.set_title(f"Achieved {LABELS[m]} per street office", fontsize=11)
    a2.grid(axis="y", visible=False)
    handles = [
        Patch(color=COLORS["double_ten"], alpha=0.85, label="plan: office meets the target"),
        Patch(color=COLORS["enforcer"], alpha=0.85, label="plan: office below the target"),
        Patch(color="#aaaaaa", alpha=0.85, label=f"uniform {meta['baseline_density']:g} per km²"),
        Line2D([], [], color="black", marker="|", ls="", ms=12, mew=2,
               label=f"uniform {meta['baseline_density']:g} per km² (density)"),
        Line2D([], [], color=COLORS["target"], ls=":", label=f"target {100 * target:g}%"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncols=5, fontsize=8, frameon=False)
    tot = plan.totals
    status = (
        "every office meets the target"
        if tot["offices_meeting_target"] == tot["offices"]
        else f"TARGET NOT MET in {tot['offices'] - tot['offices_meeting_target']} office(s)"
    )
    fig.suptitle(
        f"{meta['scenario']}: {tot['staff']:,} staff in the plan ({status}) vs "
        f"{tot['baseline_staff']:,} at a uniform {meta['baseline_density']:g}/km² · "
        f"{meta['replications']} replications × {meta['days']:g} day(s)",
        fontsize=11,
    )
    save(fig, path)
