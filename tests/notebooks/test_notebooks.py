"""The notebooks: stored without outputs, narrative only, and executed headless (nbclient) on a reduced demo.

The reduced demo (``small_demo_run`` in ``tests/conftest.py``) is run once per session; each notebook reads
``CLIMMIG_NOTEBOOK_CONFIG`` (that config, so every pipeline stage it calls is reused) and
``CLIMMIG_NOTEBOOK_FAST=1`` (smaller sensitivity problems). Any cell error fails the test.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXPECTED = ["01_quickstart", "02_sensitivity", "03_interventions", "04_bring_your_own_data"]
# what notebook code may import: climmig, its dependencies and the standard library
ALLOWED = {"climmig", "numpy", "pandas", "xarray", "matplotlib", "yaml", "rioxarray", "scipy", "dask"}


def _code(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_the_four_notebooks_exist() -> None:
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_clean_and_defines_no_library_code(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name} is stored with outputs"
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 5, "notebooks tell a story"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "CLIMMIG_NOTEBOOK_CONFIG" in params[0].source
    for src in _code(path):
        tree = ast.parse(src)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda), \
                f"{path.name} defines {type(node).__name__}: put library code in climmig"
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for n in names:
                    top = n.split(".")[0]
                    assert top in ALLOWED or top in sys.stdlib_module_names, f"{path.name} imports {n}"


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, small_demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                           ) -> None:
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("CLIMMIG_NOTEBOOK_CONFIG", str(small_demo_run))
    monkeypatch.setenv("CLIMMIG_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("CLIMMIG_NOTEBOOK_WORKDIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError (with the cell and its traceback) if any cell fails
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
