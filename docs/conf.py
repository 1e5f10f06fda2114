"""Sphinx configuration: the API reference from the docstrings, the Markdown pages as the guide.

Built by ``make docs`` (``sphinx-build -W --keep-going``: every warning is an error). Why
Sphinx, numpydoc and myst-parser: see ``docs/api/index.rst``.
"""

import os
import sys

# document the checkout these pages live in, whatever emix the environment has installed
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)
os.environ.setdefault("MPLBACKEND", "Agg")

import emix  # noqa: E402

project = "emix"
author = "the emix developers"
copyright = "the emix developers, BSD-3-Clause"
release = emix.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",  # the Markdown pages (myst-parser inside) and the notebooks, executed
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "scripts", "Thumbs.db", ".DS_Store"]
templates_path = []

# every cross-reference must resolve: a stale name in a docstring fails the build
nitpicky = True
nitpick_ignore_regex = [
    # plain-text types in numpydoc's Parameters / Returns are not cross-referenced
    (r"py:.*", r"(numpy|np|matplotlib|pandas|pd|dask|pyarrow|scipy|sklearn)\..*"),
]

# -- autodoc and numpydoc ----------------------------------------------------------------
autodoc_typehints = "none"  # the types are in the numpydoc sections, as in scikit-learn
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = True
autosummary_generate = False  # the group pages hold the full entries themselves
numpydoc_show_class_members = False  # the pages list the members with autodoc
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# -- myst (the Markdown pages) -----------------------------------------------------------
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# -- the notebooks (docs/notebooks/) -------------------------------------------------------
# They are stored without outputs (tests/test_notebooks.py keeps them so) and executed at
# every build, in a kernel that imports this checkout; a failing cell fails the build.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
nb_execution_mode = "force"
nb_execution_timeout = 180
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# -- HTML ----------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"emix {release}"
html_static_path = []
html_theme_options = {
    "description": "Mixture models fitted by EM",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
