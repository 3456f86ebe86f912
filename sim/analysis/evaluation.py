"""The monthly evaluation of the street offices: scores, ranks, flags, fund, escalation.

Section 一 of the source: every month the district scores its street offices on a
third-party inspection (40%), the digital case system (40%), the business bureaus (15%)
and the district assessment office (5%), ranks them, gives red flags to the top two and
a black flag to the last, moves money from a yearly fund by rank, and escalates for an
office at the bottom month after month (a talk, a formal warning, suspension of its
head). Months are ``evaluation.month_days`` long and counted from the end of warm-up;
only whole months are scored (a shorter run has no evaluation, a remainder is left out).

Scores are 0-100:

- **third party**: 100 minus ``points_per_problem_km`` per open problem found per
  inspected km (:mod:`sim.analysis.inspection`);
- **digital**: a weighted mean of the share of the month's instructions meeting the
  double ten, closed by the month's end, closed within ``close_within_min``, and the
  share of the month's reported problems the office's own grid members found first;
- **business bureaus** and **assessment office**: not simulated; fixed per office or
  drawn each month from a normal distribution (named random streams).

Everything is computed from the immutable incident table and the world: the engine
knows nothing of it, and its random streams leave the simulated incidents unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.inspection import plan_inspections, problems_seen, visible_until
from sim.analysis.metrics import clocks
from sim.engine.records import IncidentTable
from sim.rng import stream
from sim.scenario import DIGITAL_PARTS, Escalation, Fund, Scenario
from sim.world.build import check_offices

if TYPE_CHECKING:
    import pandas as pd

    from sim.world.areas import Areas
    from sim.world.build import World

COMPONENTS: tuple[str, ...] = ("third_party", "digital", "business_bureaus", "assessment_office")
OUTSIDE: tuple[str, ...] = ("business_bureaus", "assessment_office")
STAGES: tuple[str, ...] = ("", "talk", "warning", "suspension")
RED, BLACK = "red", "black"


# ------------------------------------------------------------------ the rules


def weighted_total(scores: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Σ weight × score over the components named in ``weights``."""
    return sum((float(w) * np.asarray(scores[k], float) for k, w in weights.items()), np.zeros(1))


def ranks(total: np.ndarray) -> np.ndarray:
    """Rank 1 for the highest total along the last axis; ties go to the earlier office."""
    order = np.argsort(-total, axis=-1, kind="stable")
    out = np.empty_like(order)
    np.put_along_axis(out, order, np.arange(1, total.shape[-1] + 1), axis=-1)
    return out


def flags(rank: np.ndarray, n: int, red: int, black: int) -> np.ndarray:
    """``red`` for the top ``red`` ranks, ``black`` for the last ``black`` (black wins a tie)."""
    out = np.full(rank.shape, "", dtype=object)
    out[rank <= red] = RED
    out[rank > n - black] = BLACK
    return out


def fund_transfers(rank: np.ndarray, n: int, fund: Fund) -> np.ndarray:
    """Yuan to (+) or from (−) each office: rewards by rank from the top, deductions from the bottom."""
    monthly = fund.yearly_yuan / 12.0
    out = np.zeros(rank.shape)
    for k, share in enumerate(fund.deductions):
        out[rank == n - k] = -share * monthly
    for k, share in enumerate(fund.rewards):
        out[rank == k + 1] = share * monthly  # a small group: a reward wins over a deduction
    return out


def escalation(black: np.ndarray, steps: Escalation) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive black-flag months up to each month, and the step it brings (``STAGES``).

    ``black`` is (..., months, offices); a month without the black flag resets the count.
    """
    run = np.zeros(black.shape, dtype=np.int64)
    for m in range(black.shape[-2]):
        before = run[..., m - 1, :] if m else 0
        run[..., m, :] = np.where(black[..., m, :], before + 1, 0)
    stage = (
        (run >= steps.talk).astype(int)
        + (run >= steps.warning).astype(int)
        + (run >= steps.suspension).astype(int)
    )
    return run, np.asarray(STAGES, dtype=object)[stage]


# -------------------------------------------------------------------- scoring


def month_count(scenario: Scenario) -> int:
    """Whole evaluation months in the measured window."""
    ev = scenario.evaluation
    if not ev.enabled:
        return 0
    return int(np.floor(scenario.duration.days / ev.month_days + 1e-9))


def office_street_km(areas: Areas) -> np.ndarray:
    """Street length per office (km)."""
    return (
        np.bincount(areas.grid_office, weights=areas.grid_road_m, minlength=len(areas.office_names))
        / 1000.0
    )


def _digital(
    table: IncidentTable, scenario: Scenario, months: int, k: int, ok: np.ndarray
) -> dict[str, np.ndarray]:
    """Case-system shares per month × office for one replication (1.0 where nothing to count)."""
    ev = scenario.evaluation
    size = ev.month_days * 1440.0
    start = scenario.warmup_min
    office = table["office"]
    out = {p: np.ones((months, k)) for p in DIGITAL_PARTS}
    out["instructions"] = np.zeros((months, k))

    def month_of(t: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            m = np.floor((t - start) / size)
        return np.where(np.isfinite(m) & (m >= 0) & (m < months), m, -1).astype(np.int64)

    mi = month_of(table["instructed"])
    mr = month_of(table["reported"])
    inst, rep = mi >= 0, mr >= 0
    cells = months * k

    def count(mask: np.ndarray, m: np.ndarray) -> np.ndarray:
        return np.bincount(m[mask] * k + office[mask], minlength=cells).reshape(months, k)

    n = count(inst, mi)
    closed = table["closed"]
    month_end = start + (mi + 1) * size
    with np.errstate(invalid="ignore"):
        closed_in_month = closed <= month_end
        fast = closed - table["instructed"] <= ev.digital.close_within_min
    n_rep = count(rep, mr)
    parts = {
        "double_ten": (count(inst & ok, mi), n),
        "closing_rate": (count(inst & closed_in_month, mi), n),
        "closing_time": (count(inst & fast, mi), n),
        "self_found": (count(rep & (table["channel"] == 0), mr), n_rep),
    }
    for p, (hit, of) in parts.items():
        out[p] = np.where(of > 0, hit / np.maximum(of, 1), 1.0)
    out["instructions"] = n.astype(float)
    return out


def _outside(
    scenario: Scenario, names: Sequence[str], months: int, rep: int
) -> dict[str, np.ndarray]:
    out = {}
    for part in OUTSIDE:
        spec = getattr(scenario.evaluation, part)
        draw = stream(scenario.seed, f"evaluation/{part}", rep).normal(
            spec.mean, spec.sd, (months, len(names))
        )
        fixed = np.array([spec.by_office.get(o, np.nan) for o in names])
        out[part] = np.clip(np.where(np.isfinite(fixed), fixed, draw), 0.0, 100.0)
    return out


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Every office's scores, rank, flag, fund transfer and escalation, month by month.

    Arrays are (replications, months, offices); ``parts`` holds the component scores
    and the measures behind them.
    """

    scenario: Scenario
    offices: tuple[str, ...]
    names_zh: tuple[str, ...]
    months: int
    parts: dict[str, np.ndarray]
    total: np.ndarray
    rank: np.ndarray
    flag: np.ndarray
    fund_yuan: np.ndarray
    bottom_run: np.ndarray
    stage: np.ndarray
    difficulty: dict[str, np.ndarray]
    other_groups: list[dict[str, Any]]

    @property
    def replications(self) -> int:
        return int(self.total.shape[0])

    def frame(self) -> pd.DataFrame:
        """One row per replication × month × office: the rows of ``evaluation.csv``."""
        import pandas as pd  # deferred: pandas loads only when a table is made

        r, m, k = self.total.shape
        rep, month, off = (
            a.ravel() for a in np.meshgrid(*map(np.arange, (r, m, k)), indexing="ij")
        )
        cols: dict[str, Any] = {
            "replication": rep,
            "month": month + 1,
            "office": np.asarray(self.offices, dtype=object)[off],
            "name_zh": np.asarray(self.names_zh, dtype=object)[off],
        }
        for key in (
            *COMPONENTS,
            "found",
            "inspected_km",
            "found_per_km",
            *DIGITAL_PARTS,
            "instructions",
        ):
            cols[key] = self.parts[key].ravel()
        cols.update(
            total=self.total.ravel(),
            rank=self.rank.ravel(),
            flag=self.flag.ravel(),
            fund_yuan=self.fund_yuan.ravel(),
            bottom_months=self.bottom_run.ravel(),
            escalation=self.stage.ravel(),
        )
        return pd.DataFrame(cols)

    def office_means(self, replication: int | None = None) -> list[dict[str, Any]]:
        """Per office, over months (and replications unless one is named): the measures
        sweeps and the optimiser use."""
        sel = slice(None) if replication is None else slice(replication, replication + 1)
        out = []
        for o, name in enumerate(self.offices):
            flag = self.flag[sel, :, o]
            out.append(
                {
                    "office": name,
                    "evaluation_score": float(self.total[sel, :, o].mean()),
                    "evaluation_rank": float(self.rank[sel, :, o].mean()),
                    "black_flag": float((flag == BLACK).mean()),
                    "red_flag": float((flag == RED).mean()),
                    "fund_yuan": float(self.fund_yuan[sel, :, o].mean()),
                }
            )
        return out

    def summary(self) -> dict[str, Any]:
        """The ``evaluation`` block of ``summary.json``."""
        sc = self.scenario
        ev = sc.evaluation
        r, m, k = self.total.shape
        per = self.office_means()
        offices = []
        for o, row in enumerate(per):
            rank_p = np.bincount(self.rank[:, :, o].ravel() - 1, minlength=k) / (r * m)
            offices.append(
                {
                    "office": row["office"],
                    "name_zh": self.names_zh[o],
                    "score": row["evaluation_score"],
                    **{c: float(self.parts[c][:, :, o].mean()) for c in COMPONENTS},
                    "mean_rank": row["evaluation_rank"],
                    "p_black_flag": row["black_flag"],
                    "p_red_flag": row["red_flag"],
                    "p_rank": [float(p) for p in rank_p],
                    "fund_yuan_per_month": row["fund_yuan"],
                    "difficulty": {key: float(v[o]) for key, v in self.difficulty.items()},
                }
            )
        last = []
        for o in np.argsort(self.rank[0, -1], kind="stable"):
            last.append(
                {
                    "rank": int(self.rank[0, -1, o]),
                    "office": self.offices[o],
                    "name_zh": self.names_zh[o],
                    "total": float(self.total[0, -1, o]),
                    **{c: float(self.parts[c][0, -1, o]) for c in COMPONENTS},
                    "flag": str(self.flag[0, -1, o]),
                    "fund_yuan": float(self.fund_yuan[0, -1, o]),
                    "escalation": str(self.stage[0, -1, o]),
                }
            )
        p_black = [x["p_black_flag"] for x in offices]
        worst = int(np.argmax(p_black))
        return {
            "months": m,
            "month_days": ev.month_days,
            "days_not_evaluated": round(sc.duration.days - m * ev.month_days, 6),
            "weights": ev.weights.street_offices.model_dump(),
            "max_p_black_flag": p_black[worst],
            "max_p_black_flag_office": self.offices[worst],
            "score_spread": float(np.ptp([x["score"] for x in offices])),
            "fund_yuan_paid_per_month": float(np.clip(self.fund_yuan, 0, None).sum() / (r * m)),
            "fund_yuan_deducted_per_month": float(
                -np.clip(self.fund_yuan, None, 0).sum() / (r * m)
            ),
            "last_month": last,
            "offices": offices,
            "other_groups": self.other_groups,
        }


def not_evaluated(scenario: Scenario) -> dict[str, Any]:
    """The ``evaluation`` block of a run too short for a whole month (or evaluation off)."""
    ev = scenario.evaluation
    why = (
        "evaluation.enabled is false"
        if not ev.enabled
        else f"the run is shorter than one evaluation month ({ev.month_days:g} days)"
    )
    return {"months": 0, "month_days": ev.month_days, "note": f"no evaluation: {why}"}


def difficulty(world: World) -> dict[str, np.ndarray]:
    """What makes an office hard, as the model sees it, per office."""
    areas, net = world.areas, world.net
    k = len(areas.office_names)
    staff = world.roster.people_by_office(k)
    people = np.sum([np.asarray(v, float) for v in staff.values()], axis=0)
    p = net.location_p()
    background = world.volume.incidents_per_day * np.bincount(
        areas.node_office, weights=p, minlength=k
    )
    hot = np.zeros(k)
    for site in world.sites:
        hot += site.per_day * np.bincount(
            areas.node_office[site.nodes], weights=site.weights, minlength=k
        )
    return {
        "street_km": office_street_km(areas),
        "area_km2": np.asarray(areas.office_km2, float),
        "staff": people,
        "km2_per_staff": np.where(people > 0, areas.office_km2 / np.maximum(people, 1), np.inf),
        "street_m_per_staff": np.where(
            people > 0, 1000.0 * office_street_km(areas) / np.maximum(people, 1), np.inf
        ),
        "hotspot_incidents_per_day": hot,
        "expected_incidents_per_day": background + hot,
    }


def _other_groups(scenario: Scenario) -> list[dict[str, Any]]:
    ev = scenario.evaluation
    out = []
    for group in ("district_bureaus", "special_work"):
        units = [u for u in ev.units if u.group == group]
        if not units:
            continue
        w = getattr(ev.weights, group).model_dump()
        totals = np.array([sum(w[c] * u.scores[c] for c in w) for u in units], dtype=float)
        for u, t, rk in zip(units, totals, ranks(totals), strict=True):
            out.append(
                {
                    "group": group,
                    "name": u.name,
                    "name_zh": u.name_zh,
                    "total": float(t),
                    "rank": int(rk),
                }
            )
    return out


def evaluate(world: World, table: IncidentTable) -> EvaluationResult | None:
    """Score, rank and flag the street offices month by month; None if no whole month."""
    sc = world.scenario
    months = month_count(sc)
    if months == 0:
        return None
    ev = sc.evaluation
    areas = world.areas
    names = areas.office_names
    k = len(names)
    check_offices(sc, names)  # a world built elsewhere may not have checked this scenario
    street_km = office_street_km(areas)
    ok = clocks(table, sc.rules)["double_ten_ok"]
    end = visible_until(table, ev.inspection, sc.seed)
    reps = [int(x) for x in np.unique(table["replication"])]
    keys = (*COMPONENTS, "found", "inspected_km", "found_per_km", *DIGITAL_PARTS, "instructions")
    parts = {key: np.zeros((len(reps), months, k)) for key in keys}
    for i, rep in enumerate(reps):
        mine = np.flatnonzero(table["replication"] == rep)
        insp = plan_inspections(world, street_km, months, rep)
        which, _ = problems_seen(
            table["node"][mine], table["occurred"][mine], end[mine], insp.visits
        )
        found = np.bincount(which, minlength=len(insp.office)).astype(float)
        cell = insp.month * k + insp.office
        n_found = np.bincount(cell, weights=found, minlength=months * k).reshape(months, k)
        km = np.bincount(cell, weights=insp.km, minlength=months * k).reshape(months, k)
        per_km = np.where(km > 0, n_found / np.maximum(km, 1e-12), 0.0)
        parts["found"][i], parts["inspected_km"][i], parts["found_per_km"][i] = n_found, km, per_km
        parts["third_party"][i] = np.clip(
            100.0 - ev.inspection.points_per_problem_km * per_km, 0, 100
        )
        dig = _digital(table.select(table["replication"] == rep), sc, months, k, ok[mine])
        for key in (*DIGITAL_PARTS, "instructions"):
            parts[key][i] = dig[key]
        w = ev.digital
        parts["digital"][i] = 100.0 * sum(getattr(w, p) * dig[p] for p in DIGITAL_PARTS)
        for key, v in _outside(sc, names, months, rep).items():
            parts[key][i] = v
    total = weighted_total(parts, ev.weights.street_offices.model_dump())
    rank = ranks(total)
    flag = flags(rank, k, ev.red_flags, ev.black_flags)
    run, stage = escalation(flag == BLACK, ev.escalation)
    return EvaluationResult(
        sc, names, areas.office_names_zh, months, parts, total, rank, flag,
        fund_transfers(rank, k, ev.fund), run, stage, difficulty(world), _other_groups(sc),
    )  # fmt: skip


def evaluation_block(result: EvaluationResult | None, scenario: Scenario) -> dict[str, Any]:
    """``summary.json``'s ``evaluation`` block (one with a ``note`` when there is none)."""
    return result.summary() if result is not None else not_evaluated(scenario)


# ------------------------------------------------------------ sweeps, optimiser


def add_office_columns(result: EvaluationResult | None, by_office: list[dict[str, Any]]) -> None:
    """Add each office's evaluation measures to its row of ``by_office`` (one replication,
    or the replications pooled): the mean score and rank over the months and the shares of
    months with a black or a red flag (None without a whole month).

    ``evaluation.max_p_black_flag`` of a run is the largest office share; across a sweep's
    replications it is recomputed from the office means (:func:`with_black_flag_probability`).
    """
    rows = result.office_means() if result is not None else None
    for k, row in enumerate(by_office):
        for key in ("evaluation_score", "evaluation_rank", "black_flag", "red_flag"):
            row[key] = rows[k][key] if rows is not None else None


def with_black_flag_probability(summary: pd.DataFrame, by_office: pd.DataFrame) -> pd.DataFrame:
    """Sweep summary with ``evaluation.max_p_black_flag``: the largest office black-flag
    probability per variant (mean share of months over replications, then max over offices)."""
    if "black_flag" not in by_office.columns or "variant" not in summary.columns:
        return summary
    probs = by_office.groupby(["variant", "office"], sort=False)["black_flag"].mean()
    worst = probs.groupby(level=0).max()
    out = summary.copy()
    out["evaluation.max_p_black_flag"] = out["variant"].map(worst)
    out["evaluation.max_p_black_flag.ci95"] = None  # a maximum of means: no t-interval
    out.attrs = dict(summary.attrs)
    return out
