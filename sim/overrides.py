"""Dotted overrides of a scenario: the one parser behind ``--set``, ``--vary`` and the optimiser.

``staff.per_km2=25`` sets one value; ``staff.per_km2=10,15,20`` lists several (commas
inside brackets, braces or quotes do not split). Values are YAML (numbers, strings,
lists, mappings), read strictly. :func:`set_by_path` applies a dotted key to plain data,
list items by index (``demand.hotspots.0.radius_m``). Problems are
:class:`~sim.errors.ScenarioError` lines naming the key and the text given.
"""

from __future__ import annotations

import contextlib
from typing import Any

import yaml

from sim.errors import ScenarioError


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader that refuses a key given twice in one mapping.

    PyYAML keeps the last of two equal keys without a word, so a second ``staff:`` block
    would silently replace the first.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            with contextlib.suppress(TypeError):  # unhashable keys are reported by the schema
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"key {key!r} is given twice, on lines {seen[key]} and {line}",
                        key_node.start_mark,
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml(text: str) -> Any:
    """Parse YAML safely, refusing duplicate keys (``yaml.YAMLError`` on any problem)."""
    return yaml.load(text, Loader=_StrictLoader)


def split_assignment(text: str, expected: str = "KEY=VALUE") -> tuple[str, str]:
    """``key.path=raw`` → ``("key.path", "raw")``; ``expected`` describes the form in errors."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError([f"{text!r}: expected {expected}"])
    return key, raw


def parse_value(key: str, raw: str) -> Any:
    """The YAML value ``raw`` given for ``key`` (empty text is the empty string)."""
    if not raw.strip():
        return ""
    try:
        return read_yaml(raw)
    except yaml.YAMLError as exc:
        raise ScenarioError(
            [f"{key}: value {raw!r} is not valid YAML ({exc.__class__.__name__})"]
        ) from None


def split_values(raw: str) -> list[str]:
    """Split ``a,b,[c,d]`` at top-level commas (brackets, braces and quotes nest)."""
    parts, depth, quote, cur = [], 0, "", ""
    for ch in raw:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return [p.strip() for p in parts]


def parse_override(text: str) -> tuple[str, Any]:
    """``key.path=value`` → ``(key, value)``."""
    key, raw = split_assignment(text)
    return key, parse_value(key, raw)


def parse_values(text: str) -> tuple[str, list[Any]]:
    """``staff.per_km2=10,15,20`` → ``("staff.per_km2", [10, 15, 20])``."""
    key, raw = split_assignment(text, "KEY=VALUE1,VALUE2,...")
    if not raw.strip():
        raise ScenarioError([f"{text!r}: expected KEY=VALUE1,VALUE2,..."])
    values = []
    for part in split_values(raw):
        if not part:
            raise ScenarioError([f"{key}: empty value in {text!r}"])
        values.append(parse_value(key, part))
    return key, values


def set_by_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` (or ``a.list.0.b``) in nested plain data, creating mappings as needed."""
    parts = dotted.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError([f"{dotted}: no list item {part!r}"])
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                nxt = node.get(part)
                if not isinstance(nxt, dict | list):
                    nxt = {}
                    node[part] = nxt
                node = nxt
        else:
            raise ScenarioError([f"{dotted}: {'.'.join(parts[:i])} is not a mapping"])
