"""The staffing plan ``python -m sim optimize`` prints, as text."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

from sim.analysis.measures import TARGETS
from sim.output.text import format_table, pct, place_label
from sim.scenario import ROLES

if TYPE_CHECKING:
    import pandas as pd


class PlanLike(Protocol):
    """What the text and the plot of a staffing plan read (:class:`sim.batch.staffing.Plan`)."""

    table: pd.DataFrame  # one row per street office
    totals: dict[str, Any]
    meta: dict[str, Any]


def plan_text(plan: PlanLike) -> str:
    """The staffing table ``python -m sim optimize`` prints."""
    meta, tot = plan.meta, plan.totals
    conf = f"{meta['confidence']:.0%}"
    goals = ", ".join(
        f"{TARGETS[k].label} {'≤' if TARGETS[k].ceiling else '≥'} {100 * v:g}%"
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
        _office_table(plan),
        "",
        f"plan: {tot['staff']:,} staff vs {tot['baseline_staff']:,} at a uniform "
        f"{meta['baseline_density']:g} per km²: {verdict}; the uniform plan has "
        f"{tot['baseline_offices_meeting_target']} of {tot['offices']} offices on target",
        f"target met in every office: {'yes' if meta['feasible'] else 'NO'}; locally minimal (no single "
        f"office can drop a step): {'yes' if meta['locally_minimal'] else 'not confirmed'}",
        *([f"why not: {meta['not_met']}"] if meta.get("not_met") else []),
        f"{meta['evaluations']} plan evaluations (budget {meta['max_evaluations']}), "
        f"{meta['runs_simulated']} runs simulated, {meta['runs_reused']} reused",
        *_notes(plan),
    ]
    return "\n".join(lines)


def share_bound(value: float | None) -> float | None:
    """A confidence bound of a share, within 0 and 1: with few replications the t bound can
    fall below 0 (or, for a ceiling, above 1), which no share can."""
    if value is None or math.isnan(value):
        return value
    return min(max(value, 0.0), 1.0)


def _office_table(plan: PlanLike) -> str:
    """Per street office: the plan beside the uniform baseline, and the TOTAL row."""
    meta, tot, t = plan.meta, plan.totals, plan.table
    m = next(iter(meta["targets"]))
    rows = []
    for r in t.to_dict("records"):
        meets = "yes" if r["meets_target"] else ("n/a" if not r["assessable"] else "NO")
        rows.append(
            [
                place_label(r["office"], r["name_zh"]),
                f"{r['area_km2']:.2f}",
                f"{r['density']:.1f}",
                r["staff"],
                "/".join(str(r[role]) for role in ROLES),
                pct(r[m]),
                pct(share_bound(r[f"{m}.lower"])),
                meets,
                r["baseline_staff"],
                pct(share_bound(r[f"baseline_{m}.lower"])),
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
    side = "upper" if TARGETS[m].ceiling else "lower"
    label = TARGETS[m].label
    return format_table(
        ["street office", "km²", "per km²", "staff", "grid/adv/enf", label, f"{conf} {side}", "meets",
         f"uniform {meta['baseline_density']:g}", f"{conf} {side}", "change"],
        rows, align="lrrrrrrlrrr",
    )  # fmt: skip


def _notes(plan: PlanLike) -> list[str]:
    """What the plan does to discovery, and the role mixes tried."""
    meta, tot = plan.meta, plan.totals
    lines = []
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
    return lines
