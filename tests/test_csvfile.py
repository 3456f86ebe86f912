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


def test_categoricals_of_strings_write_as_their_labels(tmp_path: Path) -> None:
    """The incident table's labels come as categoricals (no string per row): same bytes."""
    rng = np.random.default_rng(1)
    labels = ["a", "b,c", 'q"uote', "new\nline", "", "街道"]
    codes = rng.integers(-1, len(labels), 2000)  # -1: missing, an empty cell
    frame = pd.DataFrame(
        {
            "label": pd.Categorical.from_codes(codes, labels),
            "n": np.arange(2000),
            "numbers": pd.Categorical.from_codes(rng.integers(0, 3, 2000), [1.5, 2.0, 3.25]),
        }
    )
    _same(frame, tmp_path)
    as_text = frame.assign(label=frame["label"].astype(object).where(codes >= 0, ""))
    ours = tmp_path / "ours.csv"
    write_csv(as_text, tmp_path / "text.csv")
    assert (tmp_path / "text.csv").read_bytes() == ours.read_bytes()


def test_a_run_writes_the_same_incident_file_from_labels_as_from_text(tmp_path: Path) -> None:
    """``to_frame(categorical=True)`` and coordinates as categoricals: the very bytes of the
    text columns, on a map with a coordinate system (lon, lat filled) and hotspots."""
    import sim
    from sim.output.results import with_coordinates
    from sim.scenario.loading import load_scenario

    repo = Path(__file__).resolve().parents[1]
    scenario = load_scenario(repo / "scenarios" / "jinshui_night_market.yaml")
    result = sim.run(scenario, days=0.25)
    table, net = result.table, result.world.net
    assert (table["hotspot"] >= 0).any() and (table["channel"] >= 0).any()
    text = with_coordinates(table.to_frame(), table["node"], net)
    coded = with_coordinates(table.to_frame(categorical=True), table["node"], net, True)
    assert isinstance(coded["office"].dtype, pd.CategoricalDtype)
    assert text["lon"].str.len().min() > 0
    write_csv(text, tmp_path / "text.csv")
    write_csv(coded, tmp_path / "coded.csv")
    assert (tmp_path / "coded.csv").read_bytes() == (tmp_path / "text.csv").read_bytes()
    text.to_csv(tmp_path / "pandas.csv", index=False, float_format="%.3f", lineterminator="\n")
    assert (tmp_path / "coded.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
