"""A log's own words for categories and channels, mapped to the scenario's.

Categories: a log value that is a scenario category's name or its Chinese name
(``占道经营`` → ``street_vending``) maps to it; ``--categories MAP.yaml`` (or an inline
mapping) maps others, several to one allowed; a value mapped to nothing (``null``) or
not mentioned is *unmapped*: its rows are left out and counted by value.

Channels: a source maps to ``patrol``, ``citizen`` or ``camera`` by the words case
systems use (``监督员``/``网格员`` patrol, ``12345``/``公众举报`` citizen, ``视频`` camera, …)
or by ``--channels MAP.yaml``. A source left unmapped keeps its row: the channel is
only unknown, and the row is left out of the channel shares alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.caselog.columns import fold
from sim.overrides import read_yaml

CHANNELS: tuple[str, ...] = ("patrol", "citizen", "camera")  # = sim.engine.demand.CHANNELS
CHANNEL_WORDS: dict[str, tuple[str, ...]] = {
    "patrol": (
        "patrol",
        "grid",
        "gridmember",
        "inspector",
        "supervisor",
        "staff",
        "crew",
        "监督员",
        "网格员",
        "巡查",
        "巡查发现",
        "城管队员",
        "信息采集员",
        "自行发现",
    ),
    "citizen": (
        "citizen",
        "public",
        "phone",
        "call",
        "hotline",
        "12345",
        "12319",
        "311",
        "web",
        "app",
        "mobileapp",
        "email",
        "公众举报",
        "市民举报",
        "群众举报",
        "热线",
        "12345热线",
        "市民",
        "投诉",
    ),
    "camera": ("camera", "cctv", "video", "视频", "视频监控", "监控", "摄像头", "智能识别"),
}


def read_label_map(
    source: str | Mapping[str, object] | None, base: Path, what: str
) -> dict[str, str | None]:
    """A mapping of a log's values to the scenario's names (``None``: leave unmapped).

    ``source`` is a mapping or the path of a YAML file of one (relative to ``base``).
    Raises ``ValueError`` with one line per problem.
    """
    if source is None:
        return {}
    data: object = source
    if isinstance(source, str):
        path = Path(source).expanduser()
        path = path if path.is_absolute() else base / path
        try:
            data = read_yaml(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"{what}: cannot read {source} ({exc.strerror or exc})") from None
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else "not YAML"
            raise ValueError(f"{what}: {source} is not a YAML mapping ({first})") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{what}: must map the log's values to names (a YAML mapping)")
    out: dict[str, str | None] = {}
    bad = []
    for k, v in data.items():
        if v is not None and not isinstance(v, str):
            bad.append(f"{what}: {k}: must be a name or null, got {v!r}")
            continue
        out[str(k)] = v
    if bad:
        raise ValueError("\n".join(bad))
    return out


@dataclass
class LabelMap:
    """Codes of a log's values into ``names`` (-1: unmapped), counting the unmapped ones."""

    names: tuple[str, ...]
    given: dict[str, str | None]
    aliases: dict[str, int] = field(default_factory=dict)  # folded word -> code
    unmapped: Counter[str] = field(default_factory=Counter)
    unlisted: set[str] = field(default_factory=set)  # unmapped and not named in ``given``
    _memo: dict[str, int] = field(default_factory=dict)

    def problems(self, what: str) -> list[str]:
        """Targets of the given map that are not names of the scenario."""
        wrong = sorted({v for v in self.given.values() if v is not None and v not in self.names})
        if not wrong:
            return []
        return [
            f"{what}: not a {'category' if what == 'categories' else 'channel'} of the "
            f"scenario: {', '.join(wrong)} (known: {', '.join(self.names)})"
        ]

    def code(self, value: str) -> int:
        hit = self._memo.get(value)
        if hit is not None:
            return hit
        if value in self.given:
            target = self.given[value]
            out = self.names.index(target) if target in self.names else -1
        else:
            out = self.aliases.get(fold(value), -1)
        self._memo[value] = out
        return out

    def codes(self, values: pd.Series) -> np.ndarray:
        """Codes of a chunk; empty values are -2 (no value), unmapped ones -1 and counted."""
        text = values.astype("string").str.strip()
        empty = text.isna() | (text == "")
        uniq, inverse = np.unique(text[~empty].to_numpy(dtype=object), return_inverse=True)
        table = np.array([self.code(str(u)) for u in uniq], dtype=np.int16)
        out = np.full(len(text), -2, dtype=np.int16)
        mapped = table[inverse] if len(uniq) else np.zeros(0, dtype=np.int16)
        out[~empty.to_numpy()] = mapped
        for u, n in zip(uniq, np.bincount(inverse, minlength=len(uniq)), strict=True):
            if self.code(str(u)) < 0:
                self.unmapped[str(u)] += int(n)
                if str(u) not in self.given:
                    self.unlisted.add(str(u))
        return out


def category_map(
    names: Sequence[str], names_zh: Sequence[str], given: dict[str, str | None]
) -> LabelMap:
    """Categories: a scenario name or Chinese name matches itself; ``given`` maps others."""
    aliases: dict[str, int] = {}
    for k, (name, zh) in enumerate(zip(names, names_zh, strict=True)):
        aliases[fold(name)] = k
        if zh:
            aliases[fold(zh)] = k
    return LabelMap(tuple(names), given, aliases)


def channel_map(given: dict[str, str | None]) -> LabelMap:
    """Channels: the words of :data:`CHANNEL_WORDS`, and ``given``."""
    aliases = {fold(w): k for k, ch in enumerate(CHANNELS) for w in CHANNEL_WORDS[ch]}
    return LabelMap(CHANNELS, given, aliases)
