"""docs/scenario.md documents every scenario key: a key added without docs fails here."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from sim.distributions import Exponential, Fixed, Lognormal, Uniform
from sim.scenario import DEFAULT_CATEGORIES, Scenario

DOC = Path(__file__).resolve().parents[1] / "docs" / "scenario.md"
DISTRIBUTIONS: tuple[type[BaseModel], ...] = (Fixed, Exponential, Lognormal, Uniform)


def _inner_types(tp: Any) -> Iterator[Any]:
    """``tp`` and every type nested in it (unions, Optional, list/dict/tuple, Annotated)."""
    yield tp
    for arg in typing.get_args(tp):
        yield from _inner_types(arg)


def _models(tp: Any) -> list[type[BaseModel]]:
    return [t for t in _inner_types(tp) if isinstance(t, type) and issubclass(t, BaseModel)]


def schema_keys(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str, bool]]:
    """(dotted path, key name, is_leaf) for every key of ``model``, recursively.

    Nested models, list items and dict values are walked into; a duration (the
    distribution union) is a leaf.
    """
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = _models(field.annotation)
        if not nested or any(issubclass(m, DISTRIBUTIONS) for m in nested):
            yield path, name, True
            continue
        yield path, name, False
        origin = typing.get_origin(field.annotation)
        item = "[]" if origin is list else ".<name>" if origin is dict else ""
        for sub in dict.fromkeys(nested):  # keep order, drop duplicates
            yield from schema_keys(sub, f"{path}{item}.")


def _documented_names() -> set[str]:
    """Last path component of every inline code span outside fenced code blocks."""
    text = re.sub(r"^```.*?^```", "", DOC.read_text(encoding="utf-8"), flags=re.M | re.S)
    spans = re.findall(r"`([^`\n]+)`", text)
    return {re.split(r"[.\]]", s.strip())[-1] for s in spans}


@pytest.fixture(scope="module")
def documented() -> set[str]:
    return _documented_names()


def test_the_walk_finds_nested_list_and_dict_keys() -> None:
    paths = {p for p, _, _ in schema_keys(Scenario)}
    assert {
        "duration.warmup_hours",
        "travel.precompute_minutes",
        "map.staff_two_way",
        "map.inline.nodes[].id",
        "staff.shifts.advisor[].start",
        "staff.posts.enforcer[].count",
        "demand.categories.<name>.persuasion",
        "demand.hotspots[].categories",
        "discovery.citizen.delay",
    } <= paths
    assert not any(p.startswith("demand.categories.<name>.persuasion.") for p in paths)


def test_every_leaf_key_is_documented(documented: set[str]) -> None:
    leaves = [(path, name) for path, name, leaf in schema_keys(Scenario) if leaf]
    assert len(leaves) > 60
    missing = sorted(path for path, name in leaves if name not in documented)
    assert not missing, f"add these keys to {DOC.name}, in backticks: {missing}"


def test_every_section_is_documented(documented: set[str]) -> None:
    sections = [(path, name) for path, name, leaf in schema_keys(Scenario) if not leaf]
    missing = sorted(path for path, name in sections if name not in documented)
    assert not missing, f"add these sections to {DOC.name}, in backticks: {missing}"


def test_every_default_category_is_documented(documented: set[str]) -> None:
    missing = sorted(set(DEFAULT_CATEGORIES) - documented)
    assert not missing, f"add these categories to the table in {DOC.name}: {missing}"


def test_every_distribution_and_parameter_is_documented(documented: set[str]) -> None:
    names = set()
    for dist in DISTRIBUTIONS:
        literal = dist.model_fields["dist"].annotation
        names |= set(typing.get_args(literal)) | set(dist.model_fields)
    missing = sorted(names - documented)
    assert not missing, f"add these to the distributions section of {DOC.name}: {missing}"
