"""Writing a model file: the metadata and one ``.npy`` member per array, zipped, written atomically."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from typing import Any

import numpy as np

from .._files import atomic_write_bytes
from ..exceptions import ModelFileError
from .archive import META_NAME

FORMAT_NAME = "emix-model"
FORMAT_VERSION = 1

#: Estimators a model file may name. Families added later register here.
ESTIMATORS: dict[str, type] = {}


def register_estimator(cls: type) -> type:
    """Allow ``cls`` to be stored in and restored from model files.

    Parameters
    ----------
    cls : type
        An emix estimator class; model files name it by ``cls.__name__``.

    Returns
    -------
    type
        ``cls`` itself, so that this can be used as a decorator.

    Examples
    --------
    A subclass of an emix estimator is saved only once registered:

    >>> import emix
    >>> @emix.register_estimator
    ... class LabelledMixture(emix.GaussianMixture):
    ...     names = ("short", "long")
    >>> X = emix.datasets.load_faithful()
    >>> LabelledMixture(2, random_state=0).fit(X).save("labelled.emix")
    >>> back = emix.load("labelled.emix")
    >>> type(back).__name__, back.names
    ('LabelledMixture', ('short', 'long'))
    """
    ESTIMATORS[cls.__name__] = cls
    return cls


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    arr = np.asarray(arr)
    if not arr.flags.c_contiguous:  # (ascontiguousarray would turn a 0-d array into shape (1,))
        arr = np.ascontiguousarray(arr)
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _json_param(value: Any) -> tuple[bool, Any]:
    """``(True, value)`` if ``value`` is a plain JSON value, else ``(False, None)``."""
    if value is None or isinstance(value, (bool, str)):
        return True, value
    if isinstance(value, (int, np.integer)):
        return True, int(value)
    if isinstance(value, (float, np.floating)):
        return (True, float(value)) if np.isfinite(value) else (False, None)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, str) for v in value):
        return True, list(value)  # names, e.g. init_params=('kmeans', 'trimmed-kmeans'); read back as a tuple
    return False, None


def save_model(estimator: Any, path: str | os.PathLike, *, extra: dict[str, Any] | None = None) -> None:
    """Write a fitted estimator to ``path`` atomically (format: :mod:`emix.io`).

    Parameters
    ----------
    estimator : a fitted, registered emix estimator
    path : str or path-like
    extra : dict, optional
        JSON-serialisable application metadata stored as ``extra`` in
        ``emix.json`` and returned by ``load(path, return_extra=True)``.

    Raises
    ------
    ModelFileError
        An unregistered estimator, an array that is not numeric, ``extra``
        that is not plain JSON.
    NotFittedError
        The estimator is not fitted.
    OutputFileError
        The destination cannot be written (a folder, a missing or read-only
        folder, a full disk); the file is written to a temporary name and
        renamed, so a failed write leaves the old file or none.

    Examples
    --------
    ``estimator.save(path)`` calls this:

    >>> import emix
    >>> from emix.io import save_model
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(X)
    >>> save_model(gm, "faithful.emix", extra={"data": "faithful"})
    >>> back, extra = emix.load("faithful.emix", return_extra=True)
    >>> extra
    {'data': 'faithful'}
    >>> bool((back.predict(X) == gm.predict(X)).all())
    True
    """
    from .._version import __version__

    name = type(estimator).__name__
    if ESTIMATORS.get(name) is not type(estimator):
        raise ModelFileError(f"{name} cannot be saved: it is not a registered emix estimator")
    estimator._check_fitted()
    params: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for key, value in estimator.get_params(deep=False).items():
        ok, jv = _json_param(value)
        if ok:
            params[key] = jv
        elif callable(getattr(value, "spec", None)):  # a family object: store its JSON spec
            params[key] = json.dumps(value.spec(), sort_keys=True)
        elif isinstance(value, (np.ndarray, list, tuple)):
            arrays[f"init/{key}"] = np.asarray(value, dtype=np.float64)
        else:  # e.g. a RandomState object: not portable, store None
            params[key] = None
    for attr in estimator._saved_arrays():
        arrays[attr] = np.asarray(getattr(estimator, attr))
    scalars = {attr: _json_param(getattr(estimator, attr))[1] for attr in estimator._saved_scalars()}
    feature_names = getattr(estimator, "feature_names_in_", None)
    entries = {}
    blobs = {}
    for key, arr in arrays.items():
        if arr.dtype.kind not in "biuf":
            raise ModelFileError(f"array {key!r} has dtype {arr.dtype}; only numbers can be saved")
        fname = key.replace("/", "__") + ".npy"
        blob = _npy_bytes(arr)
        blobs[fname] = blob
        entries[key] = {
            "file": fname,
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
            "sha256": hashlib.sha256(blob).hexdigest(),
        }
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "emix_version": __version__,
        "estimator": name,
        "params": params,
        "scalars": scalars,
        "arrays": entries,
    }
    if feature_names is not None:
        meta["feature_names_in_"] = [str(name) for name in feature_names]
    diagnostics = getattr(estimator, "diagnostics_", None)
    if diagnostics is not None:  # files of earlier versions lack it: read as an empty record
        meta["diagnostics_"] = diagnostics.to_json()
    if extra is not None:
        if not isinstance(extra, dict):
            raise ModelFileError(f"extra must be a dict, got {type(extra).__name__}")
        try:
            json.dumps(extra, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"extra is not plain JSON: {exc}") from None
        meta["extra"] = extra
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(META_NAME, json.dumps(meta, indent=1, sort_keys=True))
        for fname, blob in blobs.items():
            zf.writestr(fname, blob)
    atomic_write_bytes(path, buf.getvalue())
