"""The model file format: versioned, documented, pickle-free.

A model file is a ZIP archive holding

``emix.json``
    UTF-8 JSON metadata::

        {"format": "emix-model", "version": 1, "emix_version": "...",
         "estimator": "GaussianMixture",
         "params": {constructor arguments that are JSON values},
         "scalars": {"converged_": true, "n_iter_": 12, ...},
         "arrays": {"means_": {"file": "means_.npy", "dtype": "float64",
                               "shape": [3, 2], "sha256": "..."}, ...},
         "feature_names_in_": ["height", "weight"],
         "extra": {...}}

    ``feature_names_in_`` is present when the model was fitted on a data
    frame with string column names: the list of those names (files without
    it load as models fitted without names).

    ``extra`` is optional: a JSON object an application stores beside the
    model (the ``emix`` command keeps its column names and the feature
    scaling of ``--standardize`` there). emix itself never interprets it.

one ``.npy`` file per array
    Fitted arrays (``weights_``, ``lower_bounds_``, ``means_``...; files
    written before ``lower_bounds_`` existed lack it, and it is derived from
    ``history_``) and array-valued constructor
    arguments (``init/means_init``...), written and read with
    ``allow_pickle=False``.

Reading checks the archive's CRCs, the format name and version, every
array's checksum, dtype and shape, the sizes every member declares against
the bytes the file holds (before anything of that size is allocated), and
then what the numbers say (finite, weights summing to one, precision factors
triangular with a positive diagonal and inverting the covariances, shapes
agreeing with the settings, finite densities). Any failure raises
:class:`~emix.exceptions.ModelFileError` naming the file, the member and the
problem. Nothing in the file is executed: the estimator class is looked up by
name in a fixed registry, and only numbers are read.

Modules: ``write`` (saving, the estimator registry), ``read`` (loading),
``archive`` (reading members without trusting their declared sizes),
``contents`` (what the numbers must say).
"""

from __future__ import annotations

from .archive import META_NAME
from .read import load
from .write import ESTIMATORS, FORMAT_NAME, FORMAT_VERSION, register_estimator, save_model

__all__ = [
    "ESTIMATORS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "META_NAME",
    "load",
    "register_estimator",
    "save_model",
]
