#!/usr/bin/env python3
"""Build the default street map of Jinshui District (Zhengzhou) for the simulator.

No public street network of Jinshui is available offline, so this script builds a
documented, reproducible *approximation* from public facts (see maps/jinshui/README.md):
real sub-district (street-office) names and known sizes, the district centre, the
real names and rough relative positions of the arterial roads, the 经/纬 numbered
near-grid layout of the old town, and Gangdu Street on the south edge of Nanyanglu.
Everything else (exact road positions, blocks, alleys, grid cells) is generated.
The hand data is in ``jinshui_build/facts.py``; the package's docstring lists the
other modules.

    python maps/build_jinshui.py [--out DIR]

Deterministic: a fixed seed (numpy default_rng), sorted output, fixed float
formatting and gzip with mtime=0, so two runs give byte-identical files.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from jinshui_build.build import build


def main(argv: Sequence[str] | None = None) -> None:
    """Build the map into --out (default: maps/jinshui) and say what came out."""
    ap = argparse.ArgumentParser(description="Build the default Jinshui District map.")
    ap.add_argument(
        "--out",
        default=str(Path(__file__).resolve().parent / "jinshui"),
        help="output directory (default: maps/jinshui next to this script)",
    )
    args = ap.parse_args(argv)
    st = build(args.out)
    print(
        f"wrote {args.out}: {st.n_nodes} nodes, {st.n_edges} directed edges, "
        f"{st.total_km:.1f} km of road, {st.total_km2:.2f} km2, "
        f"{len(st.offices)} offices, {st.n_grids} grids"
    )


if __name__ == "__main__":
    main()
