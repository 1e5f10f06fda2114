"""Reading a model file: the archive, the metadata, the estimator, its arrays, then their content."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import EmixError
from .archive import (
    MAX_RATIO,
    META_NAME,
    RATIO_FLOOR_BYTES,
    check_entry,
    fail,
    open_archive,
    read_array,
    read_meta,
)
from .contents import (
    check_factors,
    check_scalars,
    check_values,
    expected_shapes,
    member_of,
    probe,
    weight_beside,
)
from .write import ESTIMATORS, FORMAT_NAME, FORMAT_VERSION


def load(path: str | os.PathLike, *, return_extra: bool = False):
    """Read a model written by ``save``.

    Parameters
    ----------
    path : str or path-like
    return_extra : bool, default=False
        Also return the file's ``extra`` metadata (``{}`` when it has none).

    Returns
    -------
    estimator
        A fitted estimator of the class named in the file.
    extra : dict, only if ``return_extra``

    Raises
    ------
    ModelFileError
        Missing, truncated, corrupt, tampered, crafted or wrong-version files:
        the message names the file, the member and the problem (see
        ``emix.io.contents`` and the guide page on model files for what is
        checked).

    Examples
    --------
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> emix.GaussianMixture(2, random_state=0).fit(X).save("faithful.emix")
    >>> gm = emix.load("faithful.emix")
    >>> type(gm).__name__, gm.n_components, gm.means_.round(2).tolist()
    ('GaussianMixture', 2, [[4.29, 79.97], [2.04, 54.48]])
    >>> emix.load("faithful.emix", return_extra=True)[1]
    {}
    """
    path = Path(path)
    with open_archive(path) as zf:
        meta = read_meta(zf, path)
        cls, extra = _check_meta(meta, path)
        limit = MAX_RATIO * path.stat().st_size + RATIO_FLOOR_BYTES
        init = {
            key: read_array(zf, key, entry, path, limit=limit)
            for key, entry in meta["arrays"].items()
            if isinstance(key, str) and key.startswith("init/")
        }
        est = _construct(cls, meta, init, path)
        fitted, members = _read_fitted(zf, est, meta, path, limit)
    _read_feature_names(est, meta, path)
    _restore(est, meta["scalars"], fitted, members, path)
    _read_diagnostics(est, meta, path)
    return (est, extra) if return_extra else est


def _check_meta(meta: dict[str, Any], path: Path) -> tuple[type, dict[str, Any]]:
    """The estimator class the metadata names and its ``extra``, after checking format and version."""
    if meta.get("format") != FORMAT_NAME:
        raise fail(path, META_NAME, f"not an emix model file (format is {meta.get('format')!r})")
    version = meta.get("version")
    if version != FORMAT_VERSION:
        raise fail(
            path,
            META_NAME,
            f"model file format version {version!r} is not supported; this emix reads "
            f"version {FORMAT_VERSION}. Refit the model or use the emix that wrote it "
            f"({meta.get('emix_version', 'unknown')})",
        )
    name = meta.get("estimator")
    cls = ESTIMATORS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise fail(path, META_NAME, f"unknown estimator {name!r}; known: {sorted(ESTIMATORS)}")
    for field in ("params", "scalars", "arrays"):
        if not isinstance(meta.get(field), dict):
            raise fail(path, META_NAME, f"metadata field {field!r} is missing or not an object")
    extra = meta.get("extra", {})
    if not isinstance(extra, dict):
        raise fail(path, META_NAME, "metadata field 'extra' is not an object")
    return cls, extra


def _construct(cls: type, meta: dict[str, Any], init: dict[str, np.ndarray], path: Path) -> Any:
    """The unfitted estimator from the stored constructor arguments, checked."""
    params = dict(meta["params"])
    for key, value in params.items():  # a list of names is a tuple of them (as the constructors take it)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            params[key] = tuple(value)
    params.update({key[5:]: arr for key, arr in init.items()})
    unknown = set(params) - set(cls._param_names())
    if unknown:
        raise fail(path, META_NAME, f"unknown constructor parameter(s) {sorted(unknown)} for {cls.__name__}")
    try:
        est = cls(**params)
        est._validate_params()
    except (EmixError, TypeError, ValueError) as exc:
        raise fail(
            path, META_NAME, f"invalid parameters: {exc} (the file was altered: refit the model)"
        ) from None
    return est


def _read_fitted(
    zf: zipfile.ZipFile, est: Any, meta: dict[str, Any], path: Path, limit: int
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The fitted arrays, each checked against the settings before it is read, and their member names."""
    entries, scalars = meta["arrays"], meta["scalars"]
    optional = set(est._optional_saved())  # values that files of earlier emix versions lack
    missing = [a for a in est._saved_arrays() if a not in entries and a not in optional] + [
        s for s in est._saved_scalars() if s not in scalars
    ]
    if missing:
        raise fail(path, META_NAME, f"missing fitted value(s) {missing}")
    check_scalars(scalars, path, META_NAME)
    k, d = int(est.n_components), int(scalars["n_features_in_"])
    expected = expected_shapes(est._base_family(), k, d)
    arrays, members = {}, {}
    for key in est._saved_arrays():
        if key not in entries:
            continue
        member, _, shape = check_entry(key, entries[key], path)
        want = expected.get(key)
        if want is not None and shape != want:
            raise fail(
                path,
                member,
                f"array {key!r} declares shape {list(shape)}; n_components={k} and n_features_in_={d} "
                f"need {list(want)}: the file was altered, refit the model",
            )
        if key in ("history_", "accelerated_") and len(shape) != 1:
            raise fail(path, member, f"array {key!r} declares shape {list(shape)}; it is one-dimensional")
        arr = read_array(zf, key, entries[key], path, limit=limit)
        check_values(key, arr, member, path, weight_beside(est._base_family(), scalars))
        arrays[key], members[key] = arr, member
    return arrays, members


def _restore(
    est: Any, scalars: dict[str, Any], arrays: dict[str, np.ndarray], members: dict[str, str], path: Path
) -> None:
    """Set the fitted values on ``est``, check the precision factors, let the estimator check the rest,
    and probe the result."""
    k, d = int(est.n_components), int(scalars["n_features_in_"])
    check_factors(est._base_family(), arrays, members, path, k, d)
    for attr in est._saved_arrays():
        if attr in arrays:
            setattr(est, attr, arrays[attr])
    for attr in est._saved_scalars():
        setattr(est, attr, scalars[attr])
    try:
        est._restore_fitted()
    except (EmixError, ValueError, TypeError, ArithmeticError) as exc:
        problem = (
            f"inconsistent model: {str(exc).rstrip('.')}; the file was altered or damaged: refit the model"
        )
        raise fail(path, member_of(str(exc), members), problem) from None
    probe(est, path)


def _read_diagnostics(est: Any, meta: dict[str, Any], path: Path) -> None:
    """Set ``diagnostics_`` from the metadata (a file of an earlier emix has none: the estimator says so)."""
    try:
        est._restore_diagnostics(meta.get("diagnostics_"))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise fail(path, META_NAME, "metadata field 'diagnostics_' is malformed: refit the model") from None


def _read_feature_names(est: Any, meta: dict[str, Any], path: Path) -> None:
    """Set ``feature_names_in_`` from the metadata (absent for models fitted without names)."""
    names = meta.get("feature_names_in_")
    if names is None:
        return
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise fail(path, META_NAME, "metadata field 'feature_names_in_' is not a list of strings")
    est.feature_names_in_ = np.asarray(names, dtype=object)
