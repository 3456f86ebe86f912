"""``fit``: fit a scenario's demand to a district's case log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.common import add_common_args, add_force, add_overrides, load, warn
from sim.errors import ArgumentError, ScenarioError
from sim.output.folders import claim
from sim.overrides import read_yaml
from sim.scenario import load_scenario, map_override, with_overrides
from sim.world.build import build_world


def register(sub: Any) -> None:
    p = sub.add_parser(
        "fit",
        help="fit a scenario's demand to a case log and write the fitted scenario",
        description="Read a case log (CSV, .xlsx, GeoJSON or Parquet; a run's own "
        "incidents.csv too), place it on the base scenario's map and fit the demand: volume, "
        "hourly and weekday profiles, categories, channels, hotspots, office intensities and "
        "whether a Poisson process fits. Writes DIR/scenario.yaml (runnable with "
        "python -m sim run), hotspots.geojson, fit.json, fit.txt and pictures.",
    )
    p.add_argument("log", type=Path, help="the case log")
    p.add_argument(
        "--scenario",
        dest="base",
        type=Path,
        required=True,
        metavar="BASE.yaml",
        help="the scenario whose map, staff and rules the fit keeps",
    )
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="folder to write (default: results/fit-<log name>)"
    )
    add_overrides(p, "override a key of the base scenario (repeatable)")
    p.add_argument("--map", type=Path, metavar="PATH", help="fit on this street map instead")
    _add_log_args(p.add_argument_group("reading the log"))
    _add_fit_args(p.add_argument_group("fitting"))
    p.add_argument("--no-plots", action="store_true", help="skip the PNG pictures")
    p.add_argument("--quiet", action="store_true", help="print no tables")
    add_force(p, "--out")
    add_common_args(p)
    p.set_defaults(func=cmd_fit)  # fmt: skip


def _add_log_args(g: argparse._ArgumentGroup) -> None:
    """How the log is read: its columns, labels, clock, coordinates and encoding."""
    g.add_argument(
        "--columns",
        metavar="FIELD=COLUMN,...",
        help="name the columns: time, category, lon, lat, x, y, channel, closed, id, offender "
        "(e.g. time=Opened,lon=Long,lat=Lat)",
    )
    g.add_argument(
        "--categories",
        type=Path,
        metavar="MAP.yaml",
        help="YAML mapping of the log's categories to the scenario's (null: leave out)",
    )
    g.add_argument(
        "--channels",
        type=Path,
        metavar="MAP.yaml",
        help="YAML mapping of the log's sources to patrol, citizen or camera",
    )
    g.add_argument(
        "--timezone",
        metavar="ZONE",
        help="the district's zone (e.g. Asia/Shanghai): times with a UTC offset are "
        "put on its clock",
    )
    g.add_argument(
        "--time-format", metavar="FMT", help="strptime codes, e.g. '%%Y/%%m/%%d %%H:%%M'"
    )
    g.add_argument(
        "--crs",
        metavar="CRS",
        help="coordinates: wgs84 (default for lon/lat), gcj02, bd09, map (x/y in the "
        "map's metres, default for x/y) or an EPSG code of x/y",
    )
    g.add_argument("--encoding", metavar="ENC", help="text encoding (default: found from the file)")
    g.add_argument(
        "--snap-m",
        type=float,
        default=250.0,
        metavar="M",
        help="a case farther than this from every street node is off the map (default %(default)g)",
    )


def _add_fit_args(g: argparse._ArgumentGroup) -> None:
    """What is fitted: the window, the sample, the hotspot scan."""
    g.add_argument(
        "--window",
        metavar="START/END",
        help="fit only this stretch, e.g. 2020-01-01/2020-03-31 (default: first to last case)",
    )
    g.add_argument(
        "--sample-fraction",
        type=float,
        default=1.0,
        metavar="F",
        help="the log is this fraction of all cases (a random sample; default 1)",
    )
    g.add_argument(
        "--hotspot-radius",
        type=float,
        default=150.0,
        metavar="M",
        help="radius of the hotspot scan (default %(default)g m)",
    )
    g.add_argument(
        "--hotspot-hours",
        type=int,
        default=1,
        metavar="H",
        help="half-width of the scan's time window in hours (default %(default)s)",
    )
    g.add_argument(
        "--max-hotspots",
        type=int,
        default=20,
        metavar="N",
        help="keep at most this many hotspots, largest first (default %(default)s)",
    )


def _options(args: argparse.Namespace) -> tuple[Any, Any]:
    """The log and fit options from the flags (:class:`ArgumentError` names bad ones)."""
    # deferred: the case-log and fitting stack loads only for `python -m sim fit`
    from sim.caselog.columns import parse_columns
    from sim.caselog.labels import read_label_map
    from sim.caselog.options import LogOptions
    from sim.fit.hotspots import ScanOptions
    from sim.fit.model import FitOptions
    from sim.fit.window import parse_window

    problems, names = [], []
    columns, window, maps = {}, None, {}
    try:
        columns = parse_columns(args.columns or "")
    except ValueError as exc:
        problems.append(f"columns: {exc}")
        names.append("columns")
    for key in ("categories", "channels"):
        try:
            maps[key] = read_label_map(
                None if getattr(args, key) is None else str(getattr(args, key)), Path.cwd(), key
            )
        except ValueError as exc:
            problems += str(exc).splitlines()
            names.append(key)
    if args.window:
        try:
            window = parse_window(args.window)
        except ValueError as exc:
            problems.append(f"window: {exc}")
            names.append("window")
    checks = (
        ("sample_fraction", 0 < args.sample_fraction <= 1, "must be above 0 and at most 1"),
        ("snap_m", 0 < args.snap_m <= 5000, "must be above 0 and at most 5000"),
        ("hotspot_radius", 10 <= args.hotspot_radius <= 5000, "must be 10 to 5000 metres"),
        ("hotspot_hours", 0 <= args.hotspot_hours <= 6, "must be 0 to 6 hours"),
        ("max_hotspots", 0 <= args.max_hotspots <= 1000, "must be 0 to 1000"),
    )
    for name, ok, why in checks:
        if not ok:
            problems.append(f"{name}: {why}")
            names.append(name)
    log_options = LogOptions(
        columns=columns,
        categories=maps.get("categories", {}),
        channels=maps.get("channels", {}),
        timezone=args.timezone,
        time_format=args.time_format,
        crs=args.crs,
        encoding=args.encoding,
    )
    for p in log_options.problems():
        problems.append(p)
        names.append(p.split(":")[0])
    if problems:
        raise ArgumentError(problems, names)
    scan = ScanOptions(args.hotspot_radius, args.hotspot_hours, max_hotspots=args.max_hotspots)
    return log_options, FitOptions(window, args.sample_fraction, scan)


def _base(args: argparse.Namespace) -> Any:
    """The base scenario with ``--set`` and ``--map`` (its demand is replaced by the fit, so
    a count of demand is not rescaled to the new map)."""
    ns = argparse.Namespace(scenario=args.base, overrides=args.overrides, map=None)
    try:
        base = load(ns)
        return base if args.map is None else with_overrides(base, map_override(args.map))
    except ScenarioError as exc:
        raise ScenarioError([f"--scenario {args.base}: {p}" for p in exc.problems]) from None


def _raw(args: argparse.Namespace) -> dict[str, Any] | None:
    """The base file as written (kept close in the fitted file), with ``--map`` applied;
    ``None`` when ``--set`` changed it (then the base with its defaults is written)."""
    if args.overrides:
        return None
    data = read_yaml(args.base.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        return None
    if args.map is not None:
        spec = dict(data.get("map") or {})
        for dotted, value in map_override(args.map).items():
            key = dotted.split(".", 1)[1]
            if value is None:
                spec.pop(key, None)
            else:
                spec[key] = value
        data["map"] = spec
    return data


def cmd_fit(args: argparse.Namespace) -> int:
    # deferred: tqdm and the fitting stack (and its pictures) load only for `python -m sim fit`
    from tqdm import tqdm

    from sim.fit.run import FitRequest, fit_case_log
    from sim.fit.scenario import fitted_scenario
    from sim.fit.summary import fit_json
    from sim.output.fittext import FitFiles, WriteOptions, fit_text, write_fit

    log_options, options = _options(args)
    base = _base(args)
    args.scenario = args.log  # error messages name the log from here on
    out = args.out or Path("results") / f"fit-{args.log.stem}"
    claim(out, "fit", force=args.force)
    bar = tqdm(
        desc=f"reading {args.log.name}", unit=" rows", unit_scale=True, delay=2.0, leave=False
    )
    try:
        request = FitRequest(log_options, options, args.snap_m, args.max_memory, bar.update)
        result = fit_case_log(args.log, base, request)
    finally:
        bar.close()
    data, notes = fitted_scenario(base, _raw(args), result.fit, out, args.log)
    notes = [*result.notes, *notes]

    def check(path: Path) -> None:
        """The fitted scenario validates and its world builds, from where it is written."""
        try:
            warn(build_world(load_scenario(path), args.max_memory).warnings)
        except ScenarioError as exc:
            raise ScenarioError([f"the fitted scenario.yaml: {p}" for p in exc.problems]) from None

    text = fit_text(result, args.log.name, str(args.base), notes)
    files = FitFiles(data, fit_json(result.fit, args.log.name, notes), text)
    write_fit(result, out, files, WriteOptions(not args.no_plots, args.force, check))
    if not args.quiet:
        print(text)
    print(
        f"\nfit written to {out}/; run it with: python -m sim run {out / 'scenario.yaml'}",
        file=sys.stderr,
    )
    return 0
