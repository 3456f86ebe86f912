"""Pictures of a shift plan: staff on duty against the need, and on-time by hour."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from sim.analysis.hour_verdicts import CLOCKS
from sim.viz.report import COLORS, save, style
from sim.viz.scales import share_axis

if TYPE_CHECKING:
    from sim.batch.shiftplan import ShiftResult


def _hours() -> np.ndarray:
    return np.arange(25)


def _steps(values: list[float]) -> np.ndarray:
    """Hourly values as a step line over 0..24."""
    return np.array([*values, values[-1]], float)


def plot_staff(result: ShiftResult, path: Path) -> None:
    """Per planned role: units on duty by hour, old and new plan, against the need."""
    style()
    roles = result.meta["roles"]
    t = result.hours
    fig, axes = plt.subplots(
        1, len(roles), figsize=(6.2 * len(roles), 4.2), squeeze=False, layout="constrained"
    )
    x = _hours()
    for ax, r in zip(axes[0], roles, strict=True):
        unit = result.roles[r]["unit"]
        need = _steps(list(t[f"{r}.need"]))
        model = _steps(list(t[f"{r}.need_model"]))
        ax.fill_between(x, 0, need, step="post", color="#dddddd", label="needed (after simulation)")
        ax.step(
            x, model, where="post", color="#777777", ls=":", lw=1.2, label="needed (queue model)"
        )
        ax.step(
            x,
            _steps(list(t[f"{r}.on_duty_old"])),
            where="post",
            color="#555555",
            lw=1.6,
            label=f"own plan: {result.roles[r]['old']['staff_hours']:,.0f} staff-h/day",
        )
        ax.step(x, _steps(list(t[f"{r}.on_duty_new"])), where="post", color=COLORS[r], lw=2.0,
                label=f"new plan: {result.roles[r]['new']['staff_hours']:,.0f} staff-h/day")  # fmt: skip
        ax.set_xlim(0, 24)
        ax.set_xticks(range(0, 25, 3), [f"{h:02d}" for h in range(0, 25, 3)])
        ax.set_ylim(bottom=0)
        ax.set_xlabel("hour of day")
        ax.set_ylabel(f"{unit}s on duty")
        ax.set_title(f"{r.capitalize()}s on duty by hour", fontsize=11)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(
        f"{result.meta['scenario']}: staff on duty against the staff needed, own and new shift plan",
        fontsize=11,
    )
    save(fig, path)


def plot_on_time(result: ShiftResult, path: Path) -> None:
    """On-time share by hour for both clocks, own plan beside the new plan."""
    style()
    t = result.hours
    meta = result.meta
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.2), sharey=True, layout="constrained")
    h = np.arange(24) + 0.5
    lows = [100 * meta["target"]]
    for ax, tag, title in zip(axes, ("old", "new"), ("own plan", "new plan"), strict=True):
        for role, clock in CLOCKS.items():
            mean = np.array([np.nan if v is None else 100 * v for v in t[f"{clock}.{tag}"]], float)
            low = np.array(
                [np.nan if v is None else 100 * v for v in t[f"{clock}.{tag}.lower"]], float
            )
            ax.plot(h, mean, "-o", ms=3, color=COLORS[role], label=f"{role} clock")
            ax.fill_between(h, low, mean, color=COLORS[role], alpha=0.15, lw=0)
            lows += [float(v) for v in low if np.isfinite(v)]
            lows += [float(v) for v in mean if np.isfinite(v)]
        ax.axhline(100 * meta["target"], color=COLORS["target"], ls=":", lw=1.2,
                   label=f"target {100 * meta['target']:g}%")  # fmt: skip
        ax.set_xlim(0, 24)
        ax.set_xticks(range(0, 25, 3), [f"{x:02d}" for x in range(0, 25, 3)])
        ax.set_xlabel("hour of the instruction")
        ax.set_title(title, fontsize=11)
        ax.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel(f"on time (%); band: mean to {meta['confidence']:.0%} lower bound")
    bottom, top = share_axis([v / 100 for v in lows], meta["target"])  # at least 20 points
    axes[0].set_ylim(100 * bottom, 100 * top + 0.5)
    fig.suptitle(
        f"{meta['scenario']}: on-time share by hour · {meta['replications']} replications × "
        f"{meta['days']:g} day(s)",
        fontsize=11,
    )
    save(fig, path)
