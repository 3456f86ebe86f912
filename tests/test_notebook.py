"""The what-if notebook runs top to bottom at small settings and is stored without outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "what_if.ipynb"

SMALL = {
    "WHATIF_DAYS": "0.25",
    "WHATIF_REPS": "2",
    "WHATIF_WARMUP_HOURS": "2",
    "WHATIF_DENSITIES": "14,20",
    "WHATIF_BUDGET": "4",
    "WHATIF_WORKERS": "1",
}


def test_stored_without_outputs() -> None:
    text = NOTEBOOK.read_text(encoding="utf-8")
    assert '"output_type"' not in text
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is None and not c.outputs for c in code)
    assert "WHATIF_DAYS" in code[0].source and "WHATIF_REPS" in code[0].source


def test_runs_top_to_bottom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    for key, value in {**SMALL, "WHATIF_OUT": str(tmp_path / "out")}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    )
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/png" in o.get("data", {})
    ]
    assert len(images) >= 3  # density, shifts by hour, the plan chart
    for folder in ("density", "shifts"):
        assert (tmp_path / "out" / folder / "summary.csv").is_file()
        assert (tmp_path / "out" / folder / "plots" / "double_ten.png").is_file()
    assert (tmp_path / "out" / "optimize" / "plan.csv").is_file()
    # executing must not have written outputs back into the stored notebook
    assert '"output_type"' not in NOTEBOOK.read_text(encoding="utf-8")
