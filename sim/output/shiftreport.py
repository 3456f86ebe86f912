"""What the shift optimiser writes: the scenario with the plan, the comparison as text,
table and JSON, and its two pictures (:mod:`sim.viz.shiftplot`)."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sim.analysis.hour_verdicts import CLOCKS, OPEN
from sim.atomic import atomic_path, write_text_atomic
from sim.output.report.batchpage import shift_page
from sim.output.strictjson import dumps
from sim.output.text import DASH, format_table, missing, pct
from sim.scenario import ROLES, Scenario, resolve_scenario, set_by_path

if TYPE_CHECKING:
    from sim.batch.shiftplan import ShiftResult

SHIFT_FILES = (
    "runs",
    "shift_pilot.json",
    "shifts.json",
    "shifts.csv",
    "shifts.txt",
    "shift_staff.png",
    "shift_on_time.png",
    "report.html",
)
"""What the shift optimiser writes into its folder, besides the scenario it writes."""


def scenario_name(scenario: Scenario) -> str:
    return f"{scenario.name}-shifts.yaml"


_CLOCK = re.compile(r"\d{2}:\d{2}")


def scenario_yaml(scenario: Scenario, folder: Path, note: str | None = None) -> str:
    """The scenario as YAML to be read from ``folder``: files it names re-pointed there;
    ``note`` is a comment line for the head (which round of the search it is)."""
    dumper = _dumper()
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    data["name"] = scenario.name  # required, even when equal to a default
    data.setdefault("map", {})
    for dotted, path in resolve_scenario(scenario).files().items():
        set_by_path(data, dotted, _relative(path, folder))
    schema = Path(__file__).resolve().parents[2] / "scenarios" / "scenario.schema.json"
    head = []
    if schema.is_file():
        head.append(f"# yaml-language-server: $schema={_relative(schema, folder)}")
    head.append(
        f"# {scenario.name} with the shift plan of `python -m sim optimize --shifts` "
        "(see shifts.txt beside this file)"
    )
    if note:
        head.append(f"# {note}")
    body = yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(head) + "\n" + body


def _clock_quoted(dumper: Any, value: str) -> Any:
    """Times of day as the schema has them, quoted ("07:00"): unquoted YAML 1.1 reads
    some of them as base-60 numbers (10:00 is 600) and editors flag them."""
    style = '"' if _CLOCK.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _dumper() -> type:
    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(str, _clock_quoted)
    return Dumper


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive
        return path.resolve().as_posix()


def chosen_text(meta: dict[str, Any]) -> str:
    """Which round's plan was kept, and why: one line for the text and the scenario."""
    n, rounds = meta["chosen_round"], meta["rounds"]
    if meta["feasible"]:
        return (
            f"plan kept: round {n} of {rounds}, the fewest staff-hours among the rounds whose "
            "every hour met the target"
        )
    entry = meta["history"][n - 1]
    short = sum(len(v) for v in entry["hours_short"].values())
    undecided = sum(len(v) for v in entry["hours_undecided"].values())
    return (
        f"plan kept: round {n} of {rounds}, NOT CONVERGED: no round met the target in every "
        f"hour; this one had the fewest hours shown short ({short}), then undecided "
        f"({undecided}), then staff-hours"
    )


def bound_pct(v: Any) -> str:
    """A lower confidence bound as a percentage rounded *down* to 0.1, so that a bound
    just under the target never prints as the target."""
    if missing(v):
        return DASH
    return f"{math.floor(1000 * float(v) + 1e-9) / 10:.1f}%"


def shifts_text(result: ShiftResult) -> str:
    """The comparison ``python -m sim optimize --shifts`` prints."""
    meta = result.meta
    roles = meta["roles"]
    ov = meta["overall"]
    whole_day = ", ".join(
        f"{role} clock {pct(ov['old'][clock])} → {pct(ov['new'][clock])}"
        for role, clock in CLOCKS.items()
    )
    return "\n".join(
        [
            f"{meta['scenario']}: shift plan with the fewest staff-hours such that every hour "
            f"meets {100 * meta['target']:g}% on time on the {' and '.join(roles)} clock(s) "
            f"(one-sided {meta['confidence']:.0%} lower bound over {meta['replications']} "
            f"replications of {meta['days']:g} day(s), seed {meta['seed']})",
            "",
            _role_table(result),
            "",
            *_new_shifts(result),
            "",
            _hour_table(result),
            "",
            "lower: the hour's one-sided lower bound, rounded down (a bound of 94.97% reads "
            "94.9%, never 95.0%); ✓ the bound reaches the target; ? undecided: the mean is on "
            "target but the bound is not; ✗ below target, or not shown to reach it",
            f"whole day: {whole_day}",
            f"every hour on target: {'yes' if meta['feasible'] else 'NO'}; {meta['rounds']} "
            f"round(s) of simulation; {meta['runs_simulated']} runs simulated, "
            f"{meta['runs_reused']} reused",
            chosen_text(meta),
        ]
    )


def _role_table(result: ShiftResult) -> str:
    """Per planned role: units, staff and staff-hours, old and new."""
    rows = []
    for r in ROLES:
        x = result.roles[r]
        if not x["planned"]:
            continue
        o, n = x["old"], x["new"]
        rows.append(
            [
                f"{r} ({x['unit']}s)",
                o["units"],
                n["units"],
                o["staff"],
                n["staff"],
                f"{o['staff_hours']:,.0f}",
                f"{n['staff_hours']:,.0f}",
                f"{n['staff_hours'] - o['staff_hours']:+,.0f}",
            ]
        )
    head = ["role", "units old", "units new", "staff old", "staff new", "staff-h/day old",
            "staff-h/day new", "change"]  # fmt: skip
    return format_table(head, rows)


def _new_shifts(result: ShiftResult) -> list[str]:
    """Each planned role's new shifts (and each office's, in a plan by office)."""
    lines = []
    for r in result.meta["roles"]:
        shifts = ", ".join(
            f"{s['start']}–{s['end']} ({s['hours']:g} h) × {s['units']}"
            for s in result.roles[r]["new"]["shifts"]
        )
        lines.append(f"new {r} shifts: {shifts}")
        for office, windows in result.roles[r]["new"].get("by_office", {}).items():
            listed = ", ".join(
                f"{s['start']}–{s['end']} × {s['units']}" for s in windows if s["units"]
            )
            lines.append(f"  {office}: {listed or 'nobody'}")
    return lines


def _hour_table(result: ShiftResult) -> str:
    """Per hour: need and units on duty per role, each clock's share old, new and bound."""
    roles = result.meta["roles"]
    head = ["hour"]
    for r in roles:
        head += [f"{r[:3]} need", f"{r[:3]} old", f"{r[:3]} new"]
    for clock in CLOCKS.values():
        short = clock.split("_")[0][:3]
        head += [f"{short} clock old", f"{short} clock new", "lower"]
    hr = []
    for row in result.hours.to_dict("records"):
        cells: list[Any] = [row["hour"]]
        for r in roles:
            cells += [row[f"{r}.need"], f"{row[f'{r}.on_duty_old']:.0f}",
                      f"{row[f'{r}.on_duty_new']:.0f}"]  # fmt: skip
        for clock in CLOCKS.values():
            st = row[f"{clock}.new.status"]
            flag = " ✓" if row[f"{clock}.new.meets"] else " ?" if st == OPEN else " ✗"
            cells += [pct(row[f"{clock}.old"]), pct(row[f"{clock}.new"]),
                      bound_pct(row[f"{clock}.new.lower"]) + flag]  # fmt: skip
        hr.append(cells)
    return format_table(head, hr)


def write_shifts(result: ShiftResult, folder: Path) -> None:
    """``shifts.json``, ``shifts.csv``, ``shifts.txt``, the scenario and two pictures."""
    # deferred: matplotlib loads only when the plan's pictures are drawn
    from sim.viz.shiftplot import plot_on_time, plot_staff

    write_text_atomic(
        folder / "shifts.csv", str(result.hours.to_csv(index=False, lineterminator="\n"))
    )
    path = folder / scenario_name(result.scenario)
    write_text_atomic(path, scenario_yaml(result.scenario, folder, chosen_text(result.meta)))
    result.scenario_file = path
    data = {
        **result.meta,
        "scenario_file": path.name,
        "roles_detail": result.roles,
        "hours": result.hours.to_dict("records"),
        "warnings": result.warnings,
    }
    write_text_atomic(folder / "shifts.json", dumps(data))
    write_text_atomic(folder / "shifts.txt", shifts_text(result) + "\n")
    with atomic_path(folder / "shift_staff.png") as tmp:
        plot_staff(result, tmp)
    with atomic_path(folder / "shift_on_time.png") as tmp:
        plot_on_time(result, tmp)
    write_text_atomic(folder / "report.html", shift_page(folder).render())
