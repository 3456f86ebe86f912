"""Variants of a sweep: every combination of the varied scenario keys, validated up front."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.overrides import parse_values
from sim.scenario import Scenario, ScenarioError, with_overrides


@dataclass(frozen=True, eq=False)
class Variant:
    """One combination of varied values and the validated scenario it gives."""

    index: int
    labels: dict[str, Any]  # what the tables show per varied key
    scenario: Scenario

    @property
    def title(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.labels.items()) or "base"


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``staff.per_km2=10,15,20`` → ``("staff.per_km2", [10, 15, 20])`` (:mod:`sim.overrides`)."""
    return parse_values(text)


def _label(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def variants(base: Scenario, vary: Mapping[str, Any]) -> list[Variant]:
    """Every combination of ``vary`` applied to ``base``, all validated first.

    A value list gives the values; a mapping gives labelled values (``{"label": value}``),
    handy for whole sub-trees such as shift plans. All problems of all variants are
    reported together as one :class:`ScenarioError`, each naming its field path.
    """
    keys = list(vary)
    options: list[list[tuple[Any, Any]]] = []
    problems: list[str] = []
    for key in keys:
        spec = vary[key]
        if isinstance(spec, Mapping):
            opts = [(label, value) for label, value in spec.items()]
        elif isinstance(spec, list | tuple):
            opts = [(_label(v), v) for v in spec]
        else:
            opts = [(_label(spec), spec)]
        if not opts:
            problems.append(f"{key}: no values to vary over")
        options.append(opts)
    if problems:
        raise ScenarioError(problems)
    out: list[Variant] = []
    for index, combo in enumerate(itertools.product(*options)):
        labels = {k: label for k, (label, _) in zip(keys, combo, strict=True)}
        overrides = {k: value for k, (_, value) in zip(keys, combo, strict=True)}
        try:
            sc = with_overrides(base, overrides) if overrides else base
        except ScenarioError as exc:
            where = ", ".join(f"{k}={v}" for k, v in labels.items())
            problems += [f"{line} (variant {where})" for line in exc.problems]
            continue
        out.append(Variant(index, labels, sc))
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return out
