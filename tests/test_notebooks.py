"""The notebooks of docs/notebooks/, executed with nbclient so that they never go stale.

Each runs in a fresh kernel that imports this checkout of emix (not an installed
copy), in a temporary folder, with a time limit; a failing cell fails the test.
The stored notebooks keep no outputs, so that they stay small and diff well.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))

#: seconds a cell may take; each notebook runs in a few seconds
CELL_TIMEOUT = 120


def test_the_five_notebooks_are_there():
    names = [p.stem for p in NOTEBOOKS]
    assert names == [
        "01-lecture-example",
        "02-kmeans-then-em-faithful",
        "03-bernoulli-digits",
        "04-elbo-and-kl",
        "05-choosing-k-and-covariance",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"
    assert path.stat().st_size < 20_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    # the kernel inherits the environment: make it import this checkout
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    )
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "every notebook draws something"


def test_every_notebook_is_a_page_of_the_site():
    """docs/index.md lists each notebook in a toctree, and conf.py executes them at build time."""
    index = (ROOT / "docs" / "index.md").read_text()
    listed = [line.strip() for line in index.splitlines() if line.strip().startswith("notebooks/")]
    assert listed == [f"notebooks/{p.stem}" for p in NOTEBOOKS]
    conf = (ROOT / "docs" / "conf.py").read_text()
    assert '"myst_nb"' in conf and 'nb_execution_mode = "force"' in conf
    assert "nb_execution_raise_on_error = True" in conf
