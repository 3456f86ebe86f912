"""What the enforcement chain yields: the case table and its measures.

After the engine has run, each planned case (``sim.engine.penalties.CasePlan``) is filed at the
moment its incident was really closed, and its pipeline's delays are counted from there.
A case whose incident was never closed (the run ended first) is not filed.

Counting is by cohort: the cases filed in the measured period, and what becomes of them
(decision, fine, referral, ruling), however long after the horizon that happens; the
source's totals likewise count each filed case's fate.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.metrics import ci95_halfwidth
from sim.engine.campaign import CampaignPlan, effort, weekly_counts, weeks_to_fraction
from sim.engine.offenders import OffenderRun
from sim.engine.records import RowSources

if TYPE_CHECKING:
    import pandas as pd

    from sim.engine.records import IncidentTable
    from sim.world.build import World

DAY_MIN = 1440.0
CASE_COLUMNS: tuple[str, ...] = (
    "replication",
    "case",
    "incident",
    "offender",
    "office",
    "category",
    "hotspot",
    "rung",
    "police_support",
    "filed",
    "decided",
    "decision_at",
    "fine_yuan",
    "mediated",
    "paid",
    "paid_at",
    "referred",
    "referred_at",
    "ruled",
    "ruled_at",
    "measured",
)
COUNTS = ("cases", "decisions", "fines_yuan", "court_referrals", "rulings", "mediations")


@dataclass(frozen=True, eq=False)
class CaseTable:
    """One row per filed case (times in minutes from the start, like incidents.csv)."""

    columns: dict[str, np.ndarray]
    rungs: tuple[str, ...]
    offices: tuple[str, ...]
    categories: tuple[str, ...]
    hotspots: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.columns["case"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @classmethod
    def concat(cls, tables: list[CaseTable]) -> CaseTable:
        cols = {k: np.concatenate([t.columns[k] for t in tables]) for k in tables[0].columns}
        return replace(tables[0], columns=cols)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd  # deferred: pandas loads only when a table is made

        c = self.columns
        df = pd.DataFrame({k: c[k] for k in CASE_COLUMNS})
        df["rung"] = np.asarray(self.rungs, dtype=object)[c["rung"]]
        df["office"] = np.asarray(self.offices, dtype=object)[c["office"]]
        df["category"] = np.asarray(self.categories, dtype=object)[c["category"]]
        names = np.asarray(("", *self.hotspots), dtype=object)
        df["hotspot"] = names[c["hotspot"] + 1]
        return df


@dataclass(frozen=True, eq=False)
class EnforcementOutcome:
    """What the enforcement chain did in one replication: the filed cases, the offender
    process and the campaign's plan (its measures: :func:`measures`)."""

    cases: CaseTable
    run: OffenderRun
    plan: CampaignPlan | None


def case_table(
    sources: RowSources, run: OffenderRun, rows: np.ndarray, labels: dict[str, tuple[str, ...]]
) -> CaseTable:
    """The filed cases of one replication, timed from their incidents' real close.

    ``sources`` are those of the replication's incident table; ``rows`` the rows of the
    offender incidents in it."""
    replication, inc, log = sources.replication, sources.incidents, sources.log
    node_office, warmup_min, horizon_min = (
        sources.node_office,
        sources.warmup_min,
        sources.horizon_min,
    )
    plan = run.cases
    incident = rows[plan.incident]
    filed = log["closed"][incident]
    ok = np.isfinite(filed)
    plan = plan.select(ok)
    incident, filed = incident[ok], filed[ok]
    n = plan.n
    cols = {
        "replication": np.full(n, replication, dtype=np.int32),
        "case": np.arange(n, dtype=np.int64),
        "incident": incident,
        "offender": plan.offender,
        "office": node_office[inc.node[incident]].astype(np.int32),
        "category": inc.category[incident].astype(np.int16),
        "hotspot": inc.hotspot[incident].astype(np.int16),
        "rung": plan.rung,
        "police_support": run.police[plan.incident],
        "filed": filed,
        "decided": plan.decided,
        "decision_at": filed + plan.decision_after,
        "fine_yuan": plan.fine,
        "mediated": plan.mediated,
        "paid": plan.paid,
        "paid_at": filed + plan.paid_after,
        "referred": plan.referred,
        "referred_at": filed + plan.referral_after,
        "ruled": plan.ruled,
        "ruled_at": filed + plan.ruling_after,
        "measured": (filed >= warmup_min) & (filed < horizon_min),
    }
    return CaseTable(
        cols,
        rungs=labels["rungs"],
        offices=labels["offices"],
        categories=labels["categories"],
        hotspots=labels["hotspots"],
    )


def _counts(cases: CaseTable, mask: np.ndarray) -> dict[str, float]:
    c = cases.columns
    m = c["measured"] & mask
    return {
        "cases": int(m.sum()),
        "decisions": int((m & c["decided"]).sum()),
        "fines_yuan": float(c["fine_yuan"][m].sum()),
        "court_referrals": int((m & c["referred"]).sum()),
        "rulings": int((m & c["ruled"]).sum()),
        "mediations": int((m & c["mediated"]).sum()),
    }


def measures(world: World, table: IncidentTable, outcome: EnforcementOutcome) -> dict[str, Any]:
    """The enforcement measures of one replication (totals, by office, campaign, and the
    police units' when the scenario posts police)."""
    sc = world.scenario
    cases, run, campaign = outcome.cases, outcome.run, outcome.plan
    node_office, n_offices = world.areas.node_office, len(world.areas.office_names)
    warmup_min, horizon_min = sc.warmup_min, sc.horizon_min
    site_windows = [s.window for s in world.sites]
    m = table["measured"]
    esc = table["escalated"] & m
    offender = table["offender"]
    out: dict[str, Any] = {
        "escalations": int(esc.sum()),
        **_counts(cases, np.ones(len(cases), dtype=bool)),
        "police_support": int((cases["police_support"] & cases["measured"]).sum()),
        "repeat_share": float((offender[m] >= 0).mean()) if m.any() else None,
    }
    start_day = warmup_min / DAY_MIN
    end_day = horizon_min / DAY_MIN
    a0, a1 = run.active_at(start_day), run.active_at(end_day - 1e-9)
    office_of = node_office[run.population.node]
    out["offenders_active"] = {"start": int(a0.sum()), "end": int(a1.sum())}
    if "police_called" in table.columns:
        out["police"] = police_measures(table, sc.enforcement.cases.police_target_minutes)
    rows = []
    for k in range(n_offices):
        here = office_of == k
        rows.append(
            {
                "escalations": int((esc & (table["office"] == k)).sum()),
                **_counts(cases, cases["office"] == k),
                "offenders_active": {
                    "start": int((a0 & here).sum()),
                    "end": int((a1 & here).sum()),
                },
            }
        )
    out["by_office"] = rows
    out["weekly_by_hotspot"] = [
        weekly_counts(table["occurred"][table["hotspot"] == k], warmup_min, horizon_min).tolist()
        for k in range(len(site_windows))
    ]
    if campaign is not None:
        out["campaign"] = campaign_measures(
            table, cases, campaign, site_windows, warmup_min, horizon_min,
            sc.staff.team_size("enforcer"),
        )  # fmt: skip
    return out


def police_measures(table: IncidentTable, target_min: float) -> dict[str, Any]:
    """Police calls from measured incidents, the wait for a unit, and the share on time.

    The wait runs from the call (violent resistance met) to the unit's arrival; a call
    no unit answered before the record ended counts as late and is not in the mean.
    """
    called = table["measured"] & np.isfinite(table["police_called"])
    n = int(called.sum())
    wait = table["police_arrived"][called] - table["police_called"][called]
    came = np.isfinite(wait)
    return {
        "calls": n,
        "answered": int(came.sum()),
        "wait_min": float(wait[came].mean()) if came.any() else None,
        "on_scene_within_target": float((wait[came] <= target_min).sum()) / n if n else None,
    }


def campaign_measures(
    table: IncidentTable,
    cases: CaseTable,
    campaign: CampaignPlan,
    site_windows: list[tuple[float, float]],
    warmup_min: float,
    horizon_min: float,
    team_size: int,
) -> dict[str, Any]:
    """Weeks to bring each campaign hotspot below 5% of its first week, and the effort.

    Everything counts the campaign's days inside the measured run only: ``days`` of its
    ``planned_days``; ``in_run`` is False when it starts after the run ends.
    """
    lo = max(campaign.first_day * DAY_MIN, warmup_min)
    hi = min(campaign.end_day * DAY_MIN, horizon_min)
    at = np.isin(table["hotspot"], campaign.sites)
    during = at & (table["occurred"] >= lo) & (table["occurred"] < hi)
    counts = weekly_counts(table["occurred"][at], lo, hi)
    busy = table["enforcer_released"] - table["enforcer_dispatched"]
    team_hours = float(np.nansum(busy[during])) / 60.0 * team_size
    in_case = (
        np.isin(cases["hotspot"], campaign.sites) & (cases["filed"] >= lo) & (cases["filed"] < hi)
    )
    eff = effort(campaign, site_windows, warmup_min, horizon_min)
    return {
        "enabled": campaign.enabled,
        "in_run": bool(hi > lo),
        "planned_days": float(campaign.end_day - campaign.first_day),
        "first_day": campaign.first_day - warmup_min / DAY_MIN,
        "weeks_to_5pct": weeks_to_fraction(counts, 0.05),
        "first_week": int(counts[0]) if len(counts) else 0,
        "last_week": int(counts[-1]) if len(counts) else 0,
        "weeks": len(counts),
        "fines_yuan": float(cases["fine_yuan"][in_case].sum()),
        "cases": int(in_case.sum()),
        "enforcer_team_hours": round(team_hours, 1),
        "enforcer_hours": round(team_hours + eff["joint_person_hours"], 1),
        **eff,
    }


def repeat_share_by(table: IncidentTable, group: np.ndarray, n: int) -> list[float | None]:
    """Share of measured incidents caused by known offenders, per group (e.g. office)."""
    m = table["measured"]
    total = np.bincount(group[m], minlength=n)
    known = np.bincount(group[m & (table["offender"] >= 0)], minlength=n)
    return [float(k / t) if t else None for k, t in zip(known, total, strict=True)]


def _mean(values: list[Any]) -> Any:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    if isinstance(vals[0], bool):  # a fact of the plan, the same in every replication
        return all(vals)
    if isinstance(vals[0], dict):
        return {k: _mean([v[k] for v in vals if v is not None]) for k in vals[0]}
    if isinstance(vals[0], list):
        if vals[0] and isinstance(vals[0][0], dict | list):
            return [_mean([v[i] for v in vals]) for i in range(len(vals[0]))]
        return np.mean(np.array(vals, dtype=float), axis=0).tolist()
    return float(np.mean(vals))


def summary_block(per_rep: list[dict[str, Any]], office_names: tuple[str, ...]) -> dict[str, Any]:
    """The ``enforcement`` block of summary.json: one replication's measures (counts stay
    whole numbers), or means over replications with 95% CIs; a part the run has not (no
    police posted, no campaign) is there with a ``note``."""
    block: dict[str, Any] = copy.deepcopy(per_rep[0]) if len(per_rep) == 1 else _mean(per_rep)
    block["by_office"] = [
        {"office": name, **row} for name, row in zip(office_names, block["by_office"], strict=True)
    ]
    cases = block["cases"] or 0
    block["ratios"] = {
        "decisions_per_case": block["decisions"] / cases if cases else None,
        "yuan_per_decision": block["fines_yuan"] / block["decisions"]
        if block["decisions"]
        else None,
        "referred_per_case": block["court_referrals"] / cases if cases else None,
        "ruled_per_referral": (
            block["rulings"] / block["court_referrals"] if block["court_referrals"] else None
        ),
    }
    ci = {k: ci95_halfwidth([r[k] for r in per_rep]) for k in (*COUNTS, "repeat_share")}
    if "campaign" in block:
        weeks = [r["campaign"]["weeks_to_5pct"] for r in per_rep]
        block["campaign"]["weeks_to_5pct"] = (
            float(np.mean(weeks)) if all(w is not None for w in weeks) else None
        )
        block["campaign"]["reached_in"] = sum(w is not None for w in weeks)
        ci["campaign.weeks_to_5pct"] = (
            ci95_halfwidth(weeks) if all(w is not None for w in weeks) else None
        )
    block["ci95"] = {k: v for k, v in ci.items() if v is not None}
    block.setdefault("police", {"note": "no police posted (staff.police_per_office, staff.posts)"})
    block.setdefault("campaign", {"note": "no campaign (enforcement.campaign)"})
    return block
