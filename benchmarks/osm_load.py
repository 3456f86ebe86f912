"""Load time of a ~10 MB PBF city extract, cold (parsed) and warm (from the cache).

    python benchmarks/osm_load.py                # 3 runs each, medians
    python benchmarks/osm_load.py --tiles 25 --repeat 5

There is no city-sized extract in the repository, so one is made in a temporary folder:
downtown Aguascalientes (the shared real extract, 3,083 nodes) tiled N × N times side by
side, with a primary road joining neighbouring tiles, written as PBF with pyosmium
(25 × 25 tiles: about 1.9 million nodes, 10 MB). Each load runs in a fresh process:
``read_map_file`` time from inside, and the whole process from outside.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "osm" / "aguascalientes.osm.bz2"
if not SOURCE.is_file():
    SOURCE = ROOT / "maps" / "aguascalientes" / "aguascalientes.osm.bz2"


def make_city(dst: Path, tiles: int) -> None:
    """Write ``tiles`` × ``tiles`` copies of the source extract as one connected PBF city."""
    import osmium
    from osmium.osm import mutable

    from sim.world.network import read_map_file

    nodes, ways = [], []
    for o in osmium.FileProcessor(str(SOURCE)):
        if o.is_node():
            nodes.append((o.id, o.location.lon, o.location.lat, dict(o.tags)))
        elif o.is_way():
            ways.append(([n.ref for n in o.nodes], dict(o.tags)))
    b = osmium.FileProcessor(str(SOURCE)).header.box()
    w0, s0, e0, n0 = b.bottom_left.lon, b.bottom_left.lat, b.top_right.lon, b.top_right.lat
    local = {nid: k for k, (nid, *_) in enumerate(nodes)}
    # join tiles at nodes of the tile's own connected street network, at its four sides
    net = read_map_file(SOURCE, two_way=True)
    inside = [local[int(i)] for i in net.ids]
    east = max(inside, key=lambda k: nodes[k][1])
    west = min(inside, key=lambda k: nodes[k][1])
    north = max(inside, key=lambda k: nodes[k][2])
    south = min(inside, key=lambda k: nodes[k][2])
    n, dx, dy = len(nodes), e0 - w0, n0 - s0
    header = osmium.io.Header()
    header.add_box(
        osmium.osm.Box(
            osmium.osm.Location(w0, s0), osmium.osm.Location(w0 + tiles * dx, s0 + tiles * dy)
        )
    )
    writer = osmium.SimpleWriter(str(dst), 0, header)
    grid = [(i, j) for j in range(tiles) for i in range(tiles)]
    for k, (i, j) in enumerate(grid):
        for m, (_, lon, lat, tags) in enumerate(nodes):
            writer.add_node(
                mutable.Node(id=1 + k * n + m, location=(lon + i * dx, lat + j * dy), tags=tags)
            )
    wid = 1
    for k in range(len(grid)):
        for refs, tags in ways:
            writer.add_way(
                mutable.Way(id=wid, nodes=[1 + k * n + local[r] for r in refs], tags=tags)
            )
            wid += 1
    road = {"highway": "primary"}
    for k, (i, j) in enumerate(grid):
        if i + 1 < tiles:
            writer.add_way(
                mutable.Way(id=wid, nodes=[1 + k * n + east, 1 + (k + 1) * n + west], tags=road)
            )
            wid += 1
        if j + 1 < tiles:
            writer.add_way(
                mutable.Way(
                    id=wid, nodes=[1 + k * n + north, 1 + (k + tiles) * n + south], tags=road
                )
            )
            wid += 1
    writer.close()


def worker(path: str) -> None:
    """Inside the child: load the map once and print the figures."""
    start = time.perf_counter()
    from sim.world.network import read_map_file

    imported = time.perf_counter()
    net = read_map_file(Path(path), two_way=True)
    done = time.perf_counter()
    print(json.dumps({"import_s": imported - start, "load_s": done - imported, "nodes": net.n,
                      "km": net.road_length_km, "dropped": net.dropped_nodes}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiles", type=int, default=25, help="tiles per side (default 25)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    with tempfile.TemporaryDirectory(prefix="osm-bench-") as tmp:
        city = Path(tmp) / "city.osm.pbf"
        print(f"writing a {args.tiles}×{args.tiles}-tile city …", file=sys.stderr, flush=True)
        make_city(city, args.tiles)
        size_mb = city.stat().st_size / 2**20
        rows: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
        for _ in range(args.repeat):
            env = {**os.environ, "SIM_CACHE_DIR": tempfile.mkdtemp(dir=tmp)}
            for kind in ("cold", "warm"):
                start = time.perf_counter()
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", str(city)],
                    cwd=ROOT, env=env, capture_output=True, check=True, text=True,
                ).stdout  # fmt: skip
                figures = json.loads(out.strip().splitlines()[-1])
                rows[kind].append({**figures, "process_s": time.perf_counter() - start})
    first = rows["cold"][0]
    print(f"{size_mb:.1f} MB PBF, {first['nodes']:,} street nodes kept, {first['km']:,.0f} km of "
          f"streets; median of {args.repeat} run(s) on {os.cpu_count()} cores")  # fmt: skip
    print("\n| load | read_map_file (s) | whole process (s) |\n| --- | ---: | ---: |")
    for kind, runs in rows.items():
        load = statistics.median(r["load_s"] for r in runs)
        proc = statistics.median(r["process_s"] for r in runs)
        print(f"| {kind} | {load:.2f} | {proc:.2f} |")


if __name__ == "__main__":
    main()
