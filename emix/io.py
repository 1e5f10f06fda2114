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
array's checksum, dtype and shape, and then the model's own consistency
(shapes agree, weights sum to one, covariances positive definite). Any
failure raises :class:`~emix.exceptions.ModelFileError` naming the problem.
Nothing in the file is executed: the estimator class is looked up by name in
a fixed registry, and only numbers are read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_write_bytes
from .exceptions import EmixError, ModelFileError

FORMAT_NAME = "emix-model"
FORMAT_VERSION = 1
META_NAME = "emix.json"
_MAX_META_BYTES = 16 * 1024 * 1024

#: Estimators a model file may name. Families added later register here.
ESTIMATORS: dict[str, type] = {}


def register_estimator(cls: type) -> type:
    """Allow ``cls`` to be stored in and restored from model files.

    :func:`load` builds only the classes registered here, looked up by the
    class name the file gives; emix registers its own estimators when it is
    imported.

    Parameters
    ----------
    cls : type
        An estimator class (a subclass of an emix estimator).

    Returns
    -------
    cls : type
        The class itself, so that this can decorate a class statement.

    Examples
    --------
    >>> import emix
    >>> @emix.register_estimator
    ... class SeededMixture(emix.GaussianMixture):
    ...     pass
    >>> SeededMixture(2, random_state=0).fit(emix.datasets.load_faithful()).save("seeded.emix")
    >>> type(emix.load("seeded.emix")).__name__
    'SeededMixture'
    """
    ESTIMATORS[cls.__name__] = cls
    return cls


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
    return buf.getvalue()


def _json_param(value: Any) -> tuple[bool, Any]:
    """``(True, value)`` if ``value`` is a plain JSON value, else ``(False, None)``."""
    if value is None or isinstance(value, (bool, str)):
        return True, value
    if isinstance(value, (int, np.integer)):
        return True, int(value)
    if isinstance(value, (float, np.floating)):
        return (True, float(value)) if np.isfinite(value) else (False, None)
    return False, None


def save_model(estimator: Any, path: str | os.PathLike, *, extra: dict[str, Any] | None = None) -> None:
    """Write a fitted estimator to ``path`` atomically (format: module docstring).

    ``estimator.save(path)`` is ``save_model(estimator, path)``; this
    function also stores application metadata beside the model.

    Parameters
    ----------
    estimator : estimator
        A fitted emix estimator of a registered class (see
        :func:`~emix.register_estimator`).
    path : str or path-like
        The file to write; an existing file is replaced only once the new one
        is complete.
    extra : dict, optional
        JSON-serialisable application metadata stored as ``extra`` in
        ``emix.json`` and returned by ``load(path, return_extra=True)``.

    Raises
    ------
    ModelFileError
        The class is not registered, or ``extra`` is not plain JSON.
    NotFittedError
        The estimator is not fitted.

    Examples
    --------
    >>> import emix
    >>> from emix.io import save_model
    >>> gm = emix.GaussianMixture(2, random_state=0).fit(emix.datasets.load_faithful())
    >>> save_model(gm, "faithful.emix", extra={"columns": ["eruptions", "waiting"]})
    >>> model, extra = emix.load("faithful.emix", return_extra=True)
    >>> extra
    {'columns': ['eruptions', 'waiting']}
    """
    from ._version import __version__

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


def _fail(path: Any, problem: str) -> ModelFileError:
    return ModelFileError(f"{path}: {problem}")


def load(path: str | os.PathLike, *, return_extra: bool = False):
    """Read a model written by ``save``.

    Nothing in the file is executed: the estimator class is looked up by
    name among the registered ones, and only numbers and JSON are read.

    Parameters
    ----------
    path : str or path-like
        A file written by an estimator's ``save`` or :func:`~emix.io.save_model`.
    return_extra : bool, default=False
        Also return the file's ``extra`` metadata (``{}`` when it has none).

    Returns
    -------
    estimator : estimator
        A fitted estimator of the class named in the file, equal to the one
        saved (its constructor arguments and fitted attributes).
    extra : dict
        Only if ``return_extra``.

    Raises
    ------
    ModelFileError
        Missing, truncated, corrupt, tampered or wrong-version files, with the
        problem named.

    Examples
    --------
    >>> import numpy as np
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> gm = emix.GaussianMixture(3, covariance_type="tied", random_state=0).fit(X)
    >>> gm.save("faithful.emix")
    >>> same = emix.load("faithful.emix")
    >>> same
    GaussianMixture(covariance_type='tied', n_components=3, random_state=0)
    >>> np.array_equal(same.means_, gm.means_), np.array_equal(same.predict(X), gm.predict(X))
    (True, True)
    """
    path = Path(path)
    if not path.exists():
        raise _fail(path, "no such file")
    if path.is_dir():
        raise _fail(path, "is a directory, not a model file")
    try:
        zf = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile:
        raise _fail(path, "not an emix model file (not a ZIP archive, or truncated)") from None
    except OSError as exc:
        raise _fail(path, f"cannot be read: {exc.strerror or exc}") from None
    with zf:
        try:
            info = zf.getinfo(META_NAME)
        except KeyError:
            raise _fail(path, f"not an emix model file (no {META_NAME} inside)") from None
        if info.file_size > _MAX_META_BYTES:
            raise _fail(path, f"{META_NAME} is implausibly large ({info.file_size} bytes)")
        try:
            meta = json.loads(_read_member(zf, META_NAME, path).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _fail(path, f"metadata is not valid JSON ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise _fail(
                path,
                f"not an emix model file (format is {meta.get('format') if isinstance(meta, dict) else None!r})",
            )
        version = meta.get("version")
        if version != FORMAT_VERSION:
            raise _fail(
                path,
                f"model file format version {version!r} is not supported; this emix reads "
                f"version {FORMAT_VERSION}. Refit the model or use the emix that wrote it "
                f"({meta.get('emix_version', 'unknown')})",
            )
        cls = ESTIMATORS.get(meta.get("estimator"))
        if cls is None:
            raise _fail(path, f"unknown estimator {meta.get('estimator')!r}; known: {sorted(ESTIMATORS)}")
        for field in ("params", "scalars", "arrays"):
            if not isinstance(meta.get(field), dict):
                raise _fail(path, f"metadata field {field!r} is missing or not an object")
        extra = meta.get("extra", {})
        if not isinstance(extra, dict):
            raise _fail(path, "metadata field 'extra' is not an object")
        arrays = {key: _read_array(zf, key, entry, path) for key, entry in meta["arrays"].items()}
    params = dict(meta["params"])
    for key, arr in arrays.items():
        if key.startswith("init/"):
            params[key[5:]] = arr
    unknown = set(params) - set(cls._param_names())
    if unknown:
        raise _fail(path, f"unknown constructor parameter(s) {sorted(unknown)} for {cls.__name__}")
    est = cls(**params)
    try:
        est._validate_params()
    except EmixError as exc:
        raise _fail(path, f"invalid parameters: {exc}") from None
    _set_saved(est, arrays, meta, path)
    try:
        est._restore_fitted()
    except (EmixError, ValueError, TypeError) as exc:
        raise _fail(path, f"inconsistent model: {exc}") from None
    return (est, extra) if return_extra else est


def _set_saved(est: Any, arrays: dict[str, np.ndarray], meta: dict, path: Path) -> None:
    """Set the fitted values a file holds; those of earlier formats may lack are left unset."""
    optional = set(est._optional_saved())
    missing = [a for a in est._saved_arrays() if a not in arrays and a not in optional] + [
        s for s in est._saved_scalars() if s not in meta["scalars"]
    ]
    if missing:
        raise _fail(path, f"missing fitted value(s) {missing}")
    for attr in est._saved_arrays():
        if attr in arrays:
            setattr(est, attr, arrays[attr])
    for attr in est._saved_scalars():
        setattr(est, attr, meta["scalars"][attr])
    _read_feature_names(est, meta, path)


def _read_feature_names(est: Any, meta: dict, path: Path) -> None:
    """Set ``feature_names_in_`` from the metadata (absent for models fitted without names)."""
    names = meta.get("feature_names_in_")
    if names is None:
        return
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _fail(path, "metadata field 'feature_names_in_' is not a list of strings")
    est.feature_names_in_ = np.asarray(names, dtype=object)


def _read_member(zf: zipfile.ZipFile, name: str, path: Path) -> bytes:
    try:
        return zf.read(name)
    except KeyError:
        raise _fail(path, f"member {name!r} is missing") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _fail(path, f"member {name!r} is corrupt ({exc})") from None
    except Exception as exc:  # zlib.error and friends
        raise _fail(path, f"member {name!r} is corrupt ({type(exc).__name__}: {exc})") from None


def _read_array(zf: zipfile.ZipFile, key: str, entry: Any, path: Path) -> np.ndarray:
    if not isinstance(entry, dict) or not all(k in entry for k in ("file", "dtype", "shape", "sha256")):
        raise _fail(path, f"array entry {key!r} is malformed")
    blob = _read_member(zf, str(entry["file"]), path)
    if hashlib.sha256(blob).hexdigest() != entry["sha256"]:
        raise _fail(path, f"array {key!r} does not match its checksum (file corrupt or tampered)")
    try:
        arr = np.lib.format.read_array(io.BytesIO(blob), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _fail(path, f"array {key!r} cannot be read ({exc})") from None
    if arr.dtype.kind not in "biuf" or arr.dtype.str != entry["dtype"]:
        raise _fail(path, f"array {key!r} has dtype {arr.dtype.str}, metadata says {entry['dtype']!r}")
    if list(arr.shape) != list(entry["shape"]):
        raise _fail(path, f"array {key!r} has shape {list(arr.shape)}, metadata says {entry['shape']}")
    return arr
