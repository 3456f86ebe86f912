"""Before and after: the workloads of ``benchmarks/run.py`` for two checkouts, alternately.

    git worktree add /tmp/before <commit>          # the code before, beside this one
    python benchmarks/compare.py --before /tmp/before --after . W2 S L --rounds 3

Each round runs every workload named (default W1 W2 S L) once for each checkout, in the
order before, after on odd rounds and after, before on even ones, so a machine that
speeds up or slows down during the sitting weighs on both alike. Each checkout runs its
own ``sim`` (``PYTHONPATH`` and the working folder are the checkout) with its own cache;
the scenarios are the checkout's own. Prints the medians of both, their change in CPU
time, and the figures the targets are about (``run.py``'s) for each; ``--json`` keeps
every run. Take final figures with nothing else running on the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import WORKLOADS, Checkout, Runs, as_json, derived, med, run_all


def compare(before: Runs, after: Runs) -> list[str]:
    """A table of both checkouts' medians and the change in CPU time."""
    lines = [
        "| workload | part | CPU before (s) | CPU after (s) | change | wall before (s) | "
        "wall after (s) | peak RSS before (MB) | peak RSS after (MB) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, parts in after.items():
        for part, fs in parts.items():
            bs = before.get(name, {}).get(part)
            if not bs:
                continue
            b, a = med(bs, "cpu_s"), med(fs, "cpu_s")
            lines.append(
                f"| {name} | {part} | {b:.2f} | {a:.2f} | {100 * (a - b) / b:+.1f}% | "
                f"{med(bs, 'wall_s'):.2f} | {med(fs, 'wall_s'):.2f} | "
                f"{med(bs, 'peak_rss_mb'):,.0f} | {med(fs, 'peak_rss_mb'):,.0f} |"
            )
    lines.append("")
    got_b, got_a = derived(before), derived(after)
    for key in got_a:
        b, a = got_b.get(key), got_a[key]
        lines.append(f"{key}: before {_fmt(b)}, after {_fmt(a)}")
    return lines


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:,.3g}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", type=Path, required=True, help="checkout of the code before")
    parser.add_argument("--after", type=Path, required=True, help="checkout of the code after")
    parser.add_argument("workloads", nargs="*", metavar="WORKLOAD", help=", ".join(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    args = parser.parse_args()
    names = args.workloads or ["W1", "W2", "S", "L"]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)} (use {', '.join(WORKLOADS)})")
    for path in (args.before, args.after):
        if not (path / "sim" / "__init__.py").is_file():
            parser.error(f"{path}: not a checkout of the simulator (no sim/__init__.py)")
    runs: dict[str, Runs] = {"before": {}, "after": {}}
    with tempfile.TemporaryDirectory() as tmp:
        checkouts = {
            side: Checkout(getattr(args, side).resolve(), Path(tmp) / side)
            for side in ("before", "after")
        }
        for k in range(args.rounds):
            order = ("before", "after") if k % 2 == 0 else ("after", "before")
            print(f"round {k + 1} of {args.rounds}: {', '.join(order)}", file=sys.stderr)
            for side in order:
                run_all(checkouts[side], names, 1, runs[side])
    print(
        f"median of {args.rounds} round(s), alternating; before {args.before}, after {args.after}"
    )
    print()
    print("\n".join(compare(runs["before"], runs["after"])))
    if args.json:
        data = {side: as_json(r) for side, r in runs.items()}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
