"""Generated cities: a jittered street lattice with arterials, alleys and missing links.

Used for textbook experiments, tests and the city-scale benchmark; the faithful
Jinshui map is built by ``maps/build_jinshui.py`` instead.
"""

from __future__ import annotations

import numpy as np
from shapely.geometry import Polygon, box

from sim.rng import stream
from sim.scenario import GeneratedMap
from sim.world.network import HIGHWAY_CLASS, Edges, StreetNetwork, from_arrays


def generate_city(spec: GeneratedMap) -> tuple[StreetNetwork, list[tuple[str, Polygon]]]:
    """A street network and its rectangular street offices, both in metres."""
    rng = stream(spec.seed, "map")
    width = spec.offices_x * spec.office_size_m
    height = spec.offices_y * spec.office_size_m
    nx_ = round(width / spec.block_m) + 1
    ny_ = round(height / spec.block_m) + 1
    gx, gy = np.meshgrid(np.linspace(0, width, nx_), np.linspace(0, height, ny_), indexing="ij")
    col, row = np.meshgrid(np.arange(nx_), np.arange(ny_), indexing="ij")
    arterial_col = col % spec.arterial_every == 0
    arterial_row = row % spec.arterial_every == 0
    jitter = rng.uniform(-spec.jitter_m, spec.jitter_m, size=(2, nx_, ny_))
    # nodes on arterials stay on their line so arterials run straight
    x = (gx + np.where(arterial_col, 0, jitter[0])).clip(0, width).ravel()
    y = (gy + np.where(arterial_row, 0, jitter[1])).clip(0, height).ravel()
    idx = np.arange(nx_ * ny_).reshape(nx_, ny_)

    # horizontal links (along x, row fixed) and vertical links (along y, column fixed)
    hu, hv, h_art = idx[:-1, :].ravel(), idx[1:, :].ravel(), arterial_row[:-1, :].ravel()
    vu, vv, v_art = idx[:, :-1].ravel(), idx[:, 1:].ravel(), arterial_col[:, :-1].ravel()
    u = np.concatenate([hu, vu])
    v = np.concatenate([hv, vv])
    arterial = np.concatenate([h_art, v_art])
    keep = arterial | (rng.random(len(u)) >= spec.missing_links)
    u, v, arterial = u[keep], v[keep], arterial[keep]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    klass = np.where(arterial, HIGHWAY_CLASS["primary"], HIGHWAY_CLASS["residential"])
    net = from_arrays(
        [str(i) for i in range(len(x))],
        x,
        y,
        Edges(u, v, length, klass).both_ways(),
        source="generated",
        where="map.generate",
    )
    offices = [
        (
            f"Office-{j * spec.offices_x + i + 1:02d}",
            box(
                i * spec.office_size_m,
                j * spec.office_size_m,
                (i + 1) * spec.office_size_m,
                (j + 1) * spec.office_size_m,
            ),
        )
        for j in range(spec.offices_y)
        for i in range(spec.offices_x)
    ]
    return net, offices
