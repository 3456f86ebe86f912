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


def test_every_cell_has_an_id_and_reads_without_warnings() -> None:
    # issue 20: nbformat warned "missing cell id" on opening the notebook
    import json
    import warnings

    raw = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    ids = [c.get("id") for c in raw["cells"]]
    assert all(ids) and len(set(ids)) == len(ids)
    nbformat = pytest.importorskip("nbformat")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nbformat.validate(nbformat.reads(NOTEBOOK.read_text(encoding="utf-8"), as_version=4))


def test_an_extra_brings_what_opens_and_runs_it() -> None:
    # issue 20: the README invited planners to the notebook, but no extra installed jupyter
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = {r.split(">")[0].split("=")[0] for r in project["optional-dependencies"]["notebook"]}
    assert {"notebook", "ipykernel", "nbclient"} <= extra
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (
        'pip install -e ".[notebook]"' in readme
        and "jupyter notebook notebooks/what_if.ipynb" in readme
    )


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
