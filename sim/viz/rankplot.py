"""The monthly evaluation for people: the printed ranking, ranks over the months, a score map."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cm
from matplotlib.lines import Line2D

from sim.viz import basemap, maplabels, report, scales

if TYPE_CHECKING:
    from sim.analysis.evaluation import EvaluationResult
    from sim.world.build import World

FLAG_COLORS = {"red": "#d62728", "black": "#111111"}


def plot_bump(result: EvaluationResult, path: Path) -> None:
    """Rank of every office month by month (replication 0), flags marked."""
    with basemap.map_style():
        rank = result.rank[0]
        flag = result.flag[0]
        months, k = rank.shape
        x = np.arange(1, months + 1)
        fig, ax = plt.subplots(figsize=(max(6.5, 1.0 * months + 4.5), 0.36 * k + 1.8))
        colors = [*plt.get_cmap("tab10")(np.arange(10)), *plt.get_cmap("Dark2")(np.arange(8))]
        for o in range(k):
            c = colors[o % len(colors)]
            ax.plot(x, rank[:, o], "-", color=c, lw=2.2, alpha=0.85, zorder=2)
            ax.scatter(x, rank[:, o], s=60, color=c, edgecolor="white", zorder=3)
            for which, fc in FLAG_COLORS.items():
                hit = flag[:, o] == which
                if hit.any():
                    ax.scatter(x[hit], rank[hit, o], s=140, marker="s", color=fc, zorder=4)
            label = report.place_label(result.offices[o], result.names_zh[o])
            ax.text(months + 0.25, rank[-1, o], label, va="center", fontsize=8.5, color=c)
            ax.text(0.75, rank[0, o], str(rank[0, o]), va="center", ha="right", fontsize=8)
        ax.set_ylim(k + 0.7, 0.3)
        ax.set_xlim(0.5, months + 0.5)
        ax.set_yticks(np.arange(1, k + 1))
        ax.set_xticks(x, [f"month {m}" for m in x] if months <= 12 else [str(m) for m in x])
        ax.set_ylabel("rank (1 = best)")
        ax.grid(axis="x", visible=False)
        ax.spines[["left", "bottom"]].set_visible(False)
        ax.tick_params(length=0)
        handles = [
            Line2D([], [], marker="s", ls="", color=FLAG_COLORS["red"], ms=9, label="red flag"),
            Line2D([], [], marker="s", ls="", color=FLAG_COLORS["black"], ms=9, label="black flag"),
        ]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.06), ncols=2,
                  frameon=False, fontsize=8.5)  # fmt: skip
        sc = result.scenario
        ax.set_title(
            f"{sc.name}: monthly ranking of the street offices "
            f"({months} month{'s' if months > 1 else ''} of {sc.evaluation.month_days:g} days, "
            "replication 0)",
            fontsize=11,
            loc="left",
        )
        report.save(fig, path)


def draw_score_map(world: World, result: EvaluationResult, path: Path) -> None:
    """Street offices coloured by mean total score around the district's mean (at least
    ±10 points: :func:`sim.viz.scales.score_scale`), with how often each got a flag, as a
    count of months (one replication) or a share of its months (several)."""
    with basemap.map_style():
        areas = world.areas
        score = result.total.mean(axis=(0, 1))
        reps, months = result.replications, result.months
        n_red = (result.flag == "red").sum(axis=(0, 1))
        n_black = (result.flag == "black").sum(axis=(0, 1))
        scale = scales.score_scale(score.tolist())
        cmap, norm = report.scale_colormap(scale)
        fig, ax, (sx, sy, sh) = basemap.map_figure(world)
        for o, geom in enumerate(areas.office_shapes):
            p = basemap.patch(geom, fc=scale.colour(score[o]), ec="none", alpha=0.8, zorder=1)
            if p is not None:
                ax.add_patch(p)
        basemap.draw_streets(
            ax, world.net, world.net.street_classes(), alpha=0.3, scale=0.7, zorder=2, max_class=3
        )
        basemap.draw_boundaries(
            ax, areas.office_shapes, color=basemap.OFFICE_EDGE, lw=1.5, zorder=4
        )
        labels = maplabels.office_labels(world, 9.5)
        by_text = {lab.text: lab for lab in labels}
        for o in range(len(areas.office_names)):
            zh, name = areas.office_names_zh[o], areas.office_names[o]
            text = report.place_label(name, zh)
            lab = by_text.get(f"{zh}\n{name}" if text != name else text)
            if lab is None:
                continue
            # the flags in the office's own label, so they are placed with it, never astray
            flags = "  ".join(
                f"{which} ⚑ {scales.flag_text(int(c), reps, months, short=True)}"
                for c, which in ((n_red[o], "red"), (n_black[o], "black"))
                if c
            )
            lab.text = f"{lab.text}\n{score[o]:.1f}" + (f"\n{flags}" if flags else "")
        maplabels.place_labels(ax, labels)
        basemap.scale_bar_and_north(fig, ax)
        cax = fig.add_axes((sx + 0.01, sy + sh * 0.42, 0.018, sh * 0.55))
        cb = fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax)
        cb.set_ticks(list(scale.ticks))
        cb.ax.axhline(scale.centre, color="black", lw=1.2)
        cb.set_label(
            f"mean monthly total score (points); line: district mean {scale.centre:.1f}",
            fontsize=9,
        )
        cb.ax.tick_params(labelsize=8.5)
        sc = result.scenario
        many = f"mean over {reps} replications; " if reps > 1 else ""
        ax.set_title(
            f"{sc.name}: street-office evaluation, mean total score over "
            f"{months} month(s)\n{many}⚑ red flags (top {sc.evaluation.red_flags}) and "
            f"black flags (last {sc.evaluation.black_flags}): {scales.flag_legend(reps, months)}",
            loc="left",
            fontsize=11.5,
            pad=10,
        )
        basemap.save_map(fig, path)
