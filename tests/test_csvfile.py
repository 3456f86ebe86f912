"""The fast CSV writer writes the very bytes pandas' ``to_csv`` writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.output.csvfile import write_csv


def _same(frame: pd.DataFrame, tmp: Path, float_format: str = "%.3f") -> None:
    want, got = tmp / "pandas.csv", tmp / "ours.csv"
    frame.to_csv(want, index=False, float_format=float_format, lineterminator="\n")
    write_csv(frame, got, float_format)
    assert got.read_bytes() == want.read_bytes()


@pytest.mark.parametrize("float_format", ["%.3f", "%.4f"])
def test_every_kind_of_column_and_awkward_value(tmp_path: Path, float_format: str) -> None:
    rng = np.random.default_rng(0)
    n = 3000
    awkward = [0.0005, 0.0015, 1.0005, 2.675, -0.0, -0.0004, np.inf, -np.inf, np.nan, 1e12 + 0.5]
    labels = ["a", "b,c", 'q"uote', "new\nline", "", "x\ry", " sp", "街道", None]
    frame = pd.DataFrame(
        {
            "int": rng.integers(-5, 10**9, n),
            "int32": rng.integers(-1, 100, n).astype(np.int32),
            "flag": rng.random(n) < 0.5,
            "minutes": np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 1e4, n)),
            "awkward": rng.choice(awkward, n),
            "label": np.asarray(labels, dtype=object)[rng.integers(0, len(labels), n)],
            "a,b": np.zeros(n),  # a header that must be quoted
        }
    )
    _same(frame, tmp_path, float_format)


def test_a_frame_of_a_kind_it_does_not_know_is_left_to_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame({"when": pd.date_range("2026-01-01", periods=5), "x": np.arange(5.0)})
    _same(frame, tmp_path)
    _same(pd.DataFrame({"only": ["", "a", ""]}), tmp_path)  # one column: empty cells quoted


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=50))
def test_any_floats(tmp_path_factory: pytest.TempPathFactory, values: list[float]) -> None:
    frame = pd.DataFrame({"x": np.asarray(values, dtype=float), "n": np.arange(len(values))})
    _same(frame, tmp_path_factory.mktemp("floats"))
