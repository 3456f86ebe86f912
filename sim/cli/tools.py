"""``schema`` and ``cache``: the scenario schema for editors, and the map cache."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sim.budget import gib
from sim.cli.common import warn
from sim.output.text import format_table
from sim.scenario import json_schema
from sim.world import cache
from sim.world.cache import DEFAULT_MAX_MB


def register(sub: Any) -> None:
    p = sub.add_parser(
        "schema",
        help="print the scenario schema (JSON Schema) for editors and other tools",
        description="Print the JSON Schema every scenario is checked against. The shipped "
        "scenarios point editors at the copy in scenarios/scenario.schema.json.",
    )
    p.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser(
        "cache",
        help="show or empty the cache of parsed maps and travel tables",
        description="Show the cache of parsed street maps and travel-distance tables: its "
        "folder, its size by kind of entry and its size limit. Runs store entries there to "
        "start faster next time; when the cache grows past its limit the least recently "
        "used entries are deleted. Environment: SIM_CACHE_DIR moves the cache, "
        f"SIM_CACHE_MAX_MB sets the limit in MiB (default {DEFAULT_MAX_MB}), SIM_NO_CACHE=1 "
        "switches it off.",
    )
    p.add_argument(
        "--clear",
        action="store_true",
        help="delete every cached entry and say how much was freed; files the cache did not "
        "write are left alone. Safe at any time: entries are rebuilt when needed",
    )
    p.set_defaults(func=cmd_cache)


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    use = cache.usage()
    if use.folder is None:
        print("the cache is switched off (SIM_NO_CACHE is set); nothing is stored")
        return 0
    if use.limit_problem:
        warn([use.limit_problem])
    if args.clear:
        files, freed = cache.clear()
        print(f"cleared {use.folder}: {files:,} file(s) deleted, {gib(freed)} freed")
        return 0
    share = f" ({100 * use.total / use.limit:.0f}% of the limit)" if use.limit else ""
    print(f"cache folder: {use.folder}{'' if use.folder.is_dir() else ' (not created yet)'}")
    print(f"size: {gib(use.total)} in {use.count:,} entries{share}")
    print(
        f"limit: {gib(use.limit)} (SIM_CACHE_MAX_MB; least recently used entries "
        "are deleted beyond it)"
    )
    if use.kinds:
        rows = [[k, f"{n:,}", gib(size)] for k, (n, size) in use.kinds.items()]
        print()
        print(format_table(["kind", "entries", "size"], rows, align="lrr"))
    return 0
