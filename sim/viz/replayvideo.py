"""The replay of a day as a video for slides: MP4 (ffmpeg) or GIF (Pillow).

The same picture as the report's player (:mod:`sim.analysis.replay`): incidents in their
states, advisors (triangles) and enforcer teams (squares) riding along the streets, the
clock and running counts. matplotlib's animation writes the frames; MP4 goes through the
ffmpeg that the ``imageio-ffmpeg`` wheel ships (or one on the PATH), GIF through Pillow.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from PIL import Image
from shapely.geometry.base import BaseGeometry

from sim.analysis import replay as rp
from sim.errors import ArgumentError
from sim.roles import BY_NAME
from sim.scenario import Rules
from sim.viz import report
from sim.viz.basemap import polygons

if TYPE_CHECKING:
    from matplotlib.axes import Axes

STATE_COLORS = {
    rp.UNREPORTED: rp.COLOURS["unreported"],
    rp.WAITING: rp.COLOURS["waiting"],
    rp.LATE: rp.COLOURS["late"],
    rp.ADVISOR: rp.COLOURS["advisor"],
    rp.ESCALATED: rp.COLOURS["escalated"],
    rp.TEAM: rp.COLOURS["team"],
    rp.CLOSED: rp.COLOURS["closed"],
    rp.CLOSED_LATE: rp.COLOURS["late"],
}
FORMATS = (".mp4", ".gif")
BACKGROUND_COLOURS = ("#dadada", "#b5b5b5", "#555555")  # minor and main streets, offices


@dataclass(frozen=True)
class VideoOptions:
    """The part of the day, the frame rate and the simulated minutes per frame."""

    start_min: float = 0.0  # minutes since the day's start
    end_min: float = rp.DAY_MIN
    fps: int = 10
    minutes_per_frame: float = 2.0
    dpi: int = 100


def ffmpeg() -> str | None:
    """An ffmpeg executable: the imageio-ffmpeg wheel's, else one on the PATH."""
    try:
        import imageio_ffmpeg  # deferred: optional; without the wheel, ffmpeg on the PATH

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        return shutil.which("ffmpeg")


def render(
    replay: rp.Replay,
    rules: Rules,
    offices: Sequence[BaseGeometry],
    out: Path,
    options: VideoOptions = VideoOptions(),
    title: str = "",
) -> int:
    """Write the replay between ``options.start_min`` and ``end_min`` to ``out`` (.mp4 or
    .gif, by its suffix); return the number of frames."""

    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ArgumentError([f"out: {out.name}: give a .mp4 or .gif file"], ["out"])
    frames = np.arange(options.start_min, options.end_min + 1e-9, options.minutes_per_frame)
    report.style()
    fig = plt.figure(figsize=(12.0, 7.2))
    ax = fig.add_axes((0.0, 0.0, 0.72, 1.0))
    _background(ax, replay, offices)
    shown = len(replay.incidents["occurred"])
    if not title:
        title = f"Day {replay.day}"
        if shown < replay.incidents_active:  # thinned (rp.MAX_SHOWN): say so on every frame
            title += f" (a sample: {shown:,} of {replay.incidents_active:,} incidents)"
    artists = _artists(fig, ax, title, list(replay.trips))
    update = _updater(replay, rules, artists)
    anim = animation.FuncAnimation(fig, update, frames=frames, blit=False)
    if suffix == ".gif":
        writer: Any = _PaletteGif(fps=options.fps, colours=_drawn_colours(list(replay.trips)))
    else:
        exe = ffmpeg()
        if exe is None:
            raise ArgumentError(
                ["out: no ffmpeg for MP4 (pip install imageio-ffmpeg); or write a .gif"], ["out"]
            )
        plt.rcParams["animation.ffmpeg_path"] = exe
        writer = animation.FFMpegWriter(
            fps=options.fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"]
        )
    anim.save(str(out), writer=writer, dpi=options.dpi)
    plt.close(fig)
    return len(frames)


class _PaletteGif(animation.AbstractMovieWriter):
    """A GIF writer with one fixed palette holding every state's and role's colour.

    matplotlib's PillowWriter leaves the palette to Pillow, which picks it per frame from
    the pixels, so a colour that few pixels carry (a late incident's red, its legend mark)
    is merged into a neighbour (orange) and the states can no longer be told apart.
    """

    def __init__(self, fps: int, colours: Sequence[str]) -> None:
        super().__init__(fps=fps)
        self._palette = _palette(colours)
        self._frames: list[Image.Image] = []

    def setup(self, fig: Any, outfile: Any, dpi: float | None = None) -> None:
        super().setup(fig, outfile, dpi=dpi)
        self._frames = []

    def grab_frame(self, **savefig_kwargs: Any) -> None:
        buf = io.BytesIO()
        self.fig.savefig(buf, **{**savefig_kwargs, "format": "rgba", "dpi": self.dpi})
        rgba = Image.frombuffer("RGBA", self.frame_size, buf.getvalue(), "raw", "RGBA", 0, 1)
        frame = rgba.convert("RGB").quantize(palette=self._palette, dither=Image.Dither.NONE)
        self._frames.append(frame)

    def finish(self) -> None:
        self._frames[0].save(
            self.outfile,
            save_all=True,
            append_images=self._frames[1:],
            duration=int(1000 / self.fps),
            loop=0,
        )


def _drawn_colours(roles: Sequence[str]) -> list[str]:
    """The colours a frame must keep exactly: states, riding roles, streets and offices."""
    return [
        *STATE_COLORS.values(),
        *(BY_NAME[r].colour for r in roles),
        *BACKGROUND_COLOURS,
    ]


def _palette(colours: Sequence[str]) -> Image.Image:
    """A 256-colour palette: ``colours`` exactly, a grey ramp, and a 6×6×6 colour cube."""
    rgb = [tuple(int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)) for c in colours]
    rgb += [(g, g, g) for g in np.linspace(0, 255, 24).round().astype(int)]
    rgb += [
        (r, g, b) for r in range(0, 256, 51) for g in range(0, 256, 51) for b in range(0, 256, 51)
    ]
    flat = [v for c in dict.fromkeys(rgb) for v in c][: 256 * 3]
    pal = Image.new("P", (1, 1))
    pal.putpalette(flat + [0] * (256 * 3 - len(flat)))
    return pal


def _background(ax: Axes, replay: rp.Replay, offices: Sequence[BaseGeometry]) -> None:

    st = replay.streets
    segs = np.stack(
        [np.column_stack([st.x[st.u], st.y[st.u]]), np.column_stack([st.x[st.v], st.y[st.v]])], 1
    )
    main = (st.road_class >= 0) & (st.road_class <= 3)
    minor_c, main_c, office_c = BACKGROUND_COLOURS
    ax.add_collection(LineCollection(list(segs[~main]), colors=minor_c, linewidths=0.4))
    ax.add_collection(LineCollection(list(segs[main]), colors=main_c, linewidths=0.9))
    for geom in offices:
        for poly in polygons(geom):
            x, y = poly.exterior.xy
            ax.plot(x, y, color=office_c, lw=1.0)
    for role in replay.trips:  # the riding roles' posts, faint (shape and colour: sim/roles.py)
        nodes = replay.posts.get(role, np.zeros(0, dtype=np.int64))
        info = BY_NAME[role]
        ax.scatter(
            st.x[nodes], st.y[nodes], s=3, marker=info.marker, c=info.colour, alpha=0.18, lw=0
        )
    ax.set_aspect("equal")
    ax.set_xlim(st.x.min() - 100, st.x.max() + 100)
    ax.set_ylim(st.y.min() - 100, st.y.max() + 100)
    ax.set_axis_off()


def _artists(fig: Any, ax: Axes, title: str, roles: list[str]) -> dict[str, Any]:

    empty = np.zeros((0, 2))
    legend = [
        Line2D(
            [],
            [],
            ls="none",
            marker="o",
            mfc=STATE_COLORS[s],
            mec=STATE_COLORS[s],
            label=rp.STATE_NAMES[s],
        )
        for s in (rp.WAITING, rp.LATE, rp.ADVISOR, rp.ESCALATED, rp.TEAM)
    ] + [
        Line2D(
            [],
            [],
            ls="none",
            marker="o",
            mfc="none",
            mec=STATE_COLORS[rp.CLOSED],
            label="closed (30 min)",
        ),
    ] + [
        Line2D([], [], ls="none", marker=BY_NAME[r].marker, mfc=BY_NAME[r].colour, mec="none",
               label=f"{BY_NAME[r].singular} riding")
        for r in roles
    ]  # fmt: skip
    fig.legend(
        handles=legend, loc="lower left", bbox_to_anchor=(0.73, 0.06), frameon=False, fontsize=9
    )
    return {
        "incidents": ax.scatter(empty[:, 0], empty[:, 1], s=18, zorder=5, linewidths=1.0),
        **{r: ax.scatter([], [], s=24, marker=BY_NAME[r].marker, c=BY_NAME[r].colour, zorder=6,
                         lw=0) for r in roles},
        "clock": fig.text(0.74, 0.93, "", va="top", fontsize=17),
        "counts": fig.text(0.74, 0.80, "", va="top", fontsize=9.5, family="monospace"),
        "title": title,
    }  # fmt: skip


def _updater(replay: rp.Replay, rules: Rules, artists: Mapping[str, Any]) -> Any:
    inc, st = replay.incidents, replay.streets
    xy = np.column_stack([st.x[inc["node"]], st.y[inc["node"]]])

    def update(t: float) -> list[Any]:
        state = rp.states_at(inc, float(t), rules)
        shown = state != rp.HIDDEN
        artists["incidents"].set_offsets(xy[shown])
        colors = [STATE_COLORS[int(s)] for s in state[shown]]
        ring = np.isin(state[shown], (rp.UNREPORTED, rp.CLOSED, rp.CLOSED_LATE))
        artists["incidents"].set_edgecolor(colors)
        artists["incidents"].set_facecolor(
            [("none" if r else c) for c, r in zip(colors, ring, strict=True)]
        )
        for role, trips in replay.trips.items():
            artists[role].set_offsets(rp.positions_at(trips, st, float(t)))
        m = int(t) % 1440
        artists["clock"].set_text(f"{artists['title']}\n{m // 60:02d}:{m % 60:02d}")
        artists["counts"].set_text(_counts(state))
        return [artists[k] for k in ("incidents", *replay.trips, "clock", "counts")]

    return update


def _counts(state: np.ndarray) -> str:
    n = np.bincount(state, minlength=len(rp.STATE_NAMES))
    rows = [
        (rp.STATE_NAMES[s], int(n[s]))
        for s in (rp.WAITING, rp.LATE, rp.ADVISOR, rp.ESCALATED, rp.TEAM)
    ]
    return "\n".join(f"{name:<32}{count:5d}" for name, count in rows)
