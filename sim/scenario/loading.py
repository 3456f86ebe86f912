"""Reading and validating scenarios: YAML and overrides in, one line per problem out."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from sim.errors import ScenarioError, require_file
from sim.overrides import parse_override, read_yaml, set_by_path
from sim.scenario.base import problems_from as problems_from
from sim.scenario.base import resolve_path
from sim.scenario.model import (
    Scenario,
)

_MAP_FILES = (("file", "map file"), ("offices", "GeoJSON file"), ("grids", "GeoJSON file"))


def unreadable_map_files(raw: Mapping[str, Any], base: Path) -> list[str]:
    """The files the map section names that cannot be read, one line each (as the world
    builder says it), so they are reported with the schema's problems, not after them."""
    spec = raw.get("map")
    if not isinstance(spec, Mapping):
        return []
    named = [(f"map.{key}", spec.get(key), what) for key, what in _MAP_FILES]
    cut = spec.get("cut")
    if isinstance(cut, Mapping):
        named.append(("map.cut.geojson", cut.get("geojson"), "GeoJSON file"))
    problems: list[str] = []
    for where, value, what in named:
        if isinstance(value, str) and value:
            try:
                require_file(resolve_path(base, value), where, what)
            except ScenarioError as exc:
                problems += exc.problems
    return problems


# keys that say one thing in alternative ways: an override of one (to a value) clears the
# others, so ``--set demand.incidents_per_day=8100`` works on a scenario given as a density
_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "demand.incidents_per_day": ("demand.density",),
    "demand.density": ("demand.incidents_per_day",),
    "demand.density.per_street_km": ("demand.incidents_per_day", "demand.density.per_km2"),
    "demand.density.per_km2": ("demand.incidents_per_day", "demand.density.per_street_km"),
}


def _clear(data: dict[str, Any], dotted: str) -> None:
    """Remove ``a.b.c`` from nested plain data if it is there."""
    *parents, last = dotted.split(".")
    node: Any = data
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


def scenario_from_dict(
    data: Mapping[str, Any],
    base_dir: Path | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
) -> Scenario:
    """Validate plain data (plus ``--set`` style overrides) into a :class:`Scenario`.

    Overrides apply to the scenario with its defaults filled in, so that
    ``demand.categories.noise.success=0.5`` changes one value of the default table
    rather than replacing the table. Setting one of two alternative keys (a count or a
    density of demand) clears the other.
    """
    raw: dict[str, Any] = copy.deepcopy(dict(data))
    pairs = list(
        overrides.items() if isinstance(overrides, Mapping) else map(parse_override, overrides)
    )
    # files the scenario names (demand.hotspots_from) are read from its folder
    base = (base_dir or Path.cwd()).resolve()
    context = {"base_dir": base}
    from_file = [k for k, _ in pairs if k.split(".")[:2] == ["demand", "hotspots_from"]]
    if from_file:
        raise ScenarioError(
            [
                f"{k}: the hotspots of demand.hotspots_from are read into demand.hotspots "
                "when the scenario is loaded; change them there (demand.hotspots.0.…)"
                for k in from_file
            ]
        )
    given = {k for k, v in pairs if v is not None}
    both = sorted(
        {
            " and ".join(sorted((k, o)))
            for k in given
            for o in _ALTERNATIVES.get(k, ())
            if o in given
        }
    )
    if both:
        raise ScenarioError(
            [f"{b}: both give the background demand; set one of them" for b in both]
        )
    if pairs:
        # a file with problems of its own gets them reported with the overrides applied
        with contextlib.suppress(ValidationError):
            raw = Scenario.model_validate(raw, context=context).model_dump(mode="json")
        for key, value in pairs:
            for other in _ALTERNATIVES.get(key, ()) if value is not None else ():
                _clear(raw, other)
            set_by_path(raw, key, value)
    files = unreadable_map_files(raw, base)
    try:
        scenario = Scenario.model_validate(raw, context=context)
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc) + files) from None
    if files:
        raise ScenarioError(files)
    scenario._base_dir = base
    return scenario


def load_scenario(path: str | Path, overrides: Sequence[str] | Mapping[str, Any] = ()) -> Scenario:
    """Read and validate a scenario YAML file; raise :class:`ScenarioError` on any problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"{p}: no such scenario file"]) from None
    except UnicodeDecodeError:
        raise ScenarioError([f"{str(p)[:200]}: not a UTF-8 text file"]) from None
    except OSError as exc:  # a folder, no permission, a name too long, ...
        reason = exc.strerror or exc.__class__.__name__
        raise ScenarioError([f"{str(p)[:200]}: cannot read ({reason})"]) from None
    try:
        data = read_yaml(text)
    except yaml.constructor.ConstructorError as exc:
        raise ScenarioError([f"{p}: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError([f"{p}: not valid YAML{where}"]) from None
    if not isinstance(data, dict):
        raise ScenarioError([f"{p}: a scenario must be a mapping of keys"])
    return scenario_from_dict(data, base_dir=p.parent, overrides=overrides)


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any] | Sequence[str]) -> Scenario:
    """A copy of ``scenario`` with dotted-path overrides applied and re-validated."""
    return scenario_from_dict(scenario.resolved(), base_dir=scenario.base_dir, overrides=overrides)


def map_override(path: Path) -> dict[str, Any]:
    """Overrides that replace a scenario's map by a file; areas fall back to square cells."""
    return {
        "map.file": str(path.resolve()),
        "map.inline": None,
        "map.generate": None,
        "map.offices": None,
        "map.grids": None,
        "map.cut": None,
    }
