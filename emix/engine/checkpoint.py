"""Checkpoints of an EM run: the driver's state at an iteration boundary, and the file that holds it.

A checkpoint file is a ZIP archive, like the model file (``docs/model-file.md``)
and never a pickle:

``checkpoint.json``
    UTF-8 JSON: ``{"format": "emix-checkpoint", "version": 1, ...}`` with the
    caller's metadata (what the fit was, how far it got) and an ``arrays``
    table ``{name: {"file", "dtype", "shape", "sha256"}}``.
one ``.npy`` file per array
    Written and read with ``allow_pickle=False``.

Files are written atomically (:func:`emix._files.atomic_write_bytes`): a
process killed at any moment leaves the previous checkpoint or the new one.

The driver (:func:`emix.engine.run_em`) calls a hook's ``save(run)`` at every
iteration boundary: before the pass at the current point, when nothing of
that pass is known yet. :func:`capture_run` turns the run into JSON and
arrays (its point, the SQUAREM iterates and step cap, the convergence
monitor's history), :func:`restore_run` puts them back, so that a run resumed
from a checkpoint makes exactly the passes the interrupted one would have
made: the same parameters, bit for bit, for the same chunking. Parameters are
stored as the family's named arrays (``to_arrays``) and read back with
``from_arrays``, which keeps them as stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_write_bytes
from ..exceptions import ModelFileError
from .results import EMResult, MixtureParams

FORMAT_NAME = "emix-checkpoint"
FORMAT_VERSION = 1
META_NAME = "checkpoint.json"
_MAX_META_BYTES = 16 * 1024 * 1024


# -- the file ----------------------------------------------------------------------------------------


def write_checkpoint(path: str | os.PathLike, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` (JSON values) and ``arrays`` (numbers) to ``path`` atomically."""
    from .._version import __version__

    entries, blobs = {}, {}
    for i, (name, arr) in enumerate(arrays.items()):
        arr = np.ascontiguousarray(arr)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"checkpoint array {name!r} has dtype {arr.dtype}; only numbers are stored")
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr, allow_pickle=False)
        blob = buf.getvalue()
        fname = f"a{i}.npy"
        blobs[fname] = blob
        entries[name] = {
            "file": fname,
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
            "sha256": hashlib.sha256(blob).hexdigest(),
        }
    doc = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "emix_version": __version__,
        **meta,
        "arrays": entries,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(META_NAME, json.dumps(doc, allow_nan=False, sort_keys=True))
        for fname, blob in blobs.items():
            zf.writestr(fname, blob)
    atomic_write_bytes(path, buf.getvalue())


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and arrays of a checkpoint file, every array checked against its checksum.

    Raises
    ------
    ModelFileError
        The file is not a checkpoint, is of another version, or is corrupt.
    """
    path = Path(path)

    def fail(problem: str) -> ModelFileError:
        return ModelFileError(f"{path}: {problem}; delete it to start the fit afresh")

    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError) as exc:
        raise fail(f"not an emix checkpoint ({exc})") from None
    with zf:
        try:
            size = zf.getinfo(META_NAME).file_size
            text = zf.read(META_NAME).decode("utf-8") if size <= _MAX_META_BYTES else None
            meta = None if text is None else json.loads(text)
        except KeyError:
            raise fail(f"not an emix checkpoint (no {META_NAME} inside)") from None
        except (ValueError, zipfile.BadZipFile, OSError) as exc:
            raise fail(f"its metadata cannot be read ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise fail("not an emix checkpoint")
        if meta.get("version") != FORMAT_VERSION:
            raise fail(f"checkpoint version {meta.get('version')!r}; this emix reads {FORMAT_VERSION}")
        arrays = {name: _read_array(zf, name, entry, fail) for name, entry in meta.get("arrays", {}).items()}
    return meta, arrays


def _read_array(zf: zipfile.ZipFile, name: str, entry: Any, fail: Callable[[str], Exception]) -> np.ndarray:
    try:
        blob = zf.read(str(entry["file"]))
        digest = hashlib.sha256(blob).hexdigest()
        arr = np.lib.format.read_array(io.BytesIO(blob), allow_pickle=False)
    except (KeyError, TypeError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise fail(f"array {name!r} cannot be read ({exc})") from None
    if digest != entry.get("sha256"):
        raise fail(f"array {name!r} does not match its checksum")
    if arr.dtype.str != entry.get("dtype") or list(arr.shape) != list(entry.get("shape", ())):
        raise fail(f"array {name!r} is not the dtype and shape its entry says")
    return arr


# -- parameters and results as named arrays --------------------------------------------------------


def put_params(arrays: dict[str, np.ndarray], prefix: str, family: Any, params: MixtureParams) -> None:
    """Store ``params`` in ``arrays`` as ``prefix/weights`` and ``prefix/<name>`` of ``family.to_arrays``."""
    arrays[f"{prefix}/weights"] = np.asarray(params.weights)
    for name, arr in family.to_arrays(params.components).items():
        arrays[f"{prefix}/{name}"] = np.asarray(arr)


def get_params(arrays: dict[str, np.ndarray], prefix: str, family: Any, n_features: int) -> MixtureParams:
    """The :class:`MixtureParams` :func:`put_params` stored under ``prefix``."""
    weights = arrays[f"{prefix}/weights"]
    start = len(prefix) + 1
    named = {key[start:]: arr for key, arr in arrays.items() if key.startswith(prefix + "/")}
    named.pop("weights")
    split = getattr(family, "split_weights", None)  # a family with extra weights (a noise component)
    k = len(weights) if split is None else len(split(np.asarray(weights))[0])
    return MixtureParams(weights=weights, components=family.from_arrays(named, k, n_features))


def put_result(
    meta: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str, family, result: EMResult
) -> None:
    """Store an :class:`EMResult` (its parameters as arrays, the rest in ``meta[prefix]``)."""
    put_params(arrays, prefix, family, result.params)
    meta[prefix] = {
        "history": list(result.history),
        "n_iter": int(result.n_iter),
        "converged": bool(result.converged),
        "accelerated": [bool(a) for a in result.accelerated],
    }


def get_result(meta: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str, family, n_features: int):
    """The :class:`EMResult` :func:`put_result` stored, or ``None`` when there is none."""
    info = meta.get(prefix)
    if info is None:
        return None
    return EMResult(
        params=get_params(arrays, prefix, family, n_features),
        history=tuple(float(h) for h in info["history"]),
        n_iter=int(info["n_iter"]),
        converged=bool(info["converged"]),
        accelerated=tuple(bool(a) for a in info["accelerated"]),
    )


# -- sufficient statistics as named arrays (online EM's running statistics) ----------------------------


def put_stats(arrays: dict[str, np.ndarray], prefix: str, stats: Any) -> dict[str, Any]:
    """Store a :class:`~emix.families.base.Stats` value's arrays under ``prefix/<field>``.

    Returns
    -------
    dict
        JSON values describing it: its class (module and name) and each
        field (an array's key, a number, ``None``, nested statistics or a
        tuple of these), for :func:`get_stats`.
    """
    fields = {
        f.name: _put_field(arrays, f"{prefix}/{f.name}", getattr(stats, f.name))
        for f in dataclasses.fields(stats)
    }
    kind = type(stats)
    return {"class": f"{kind.__module__}:{kind.__qualname__}", "fields": fields}


def _put_field(arrays: dict[str, np.ndarray], key: str, value: Any) -> Any:
    from ..families.base import Stats

    if value is None:
        return None
    if isinstance(value, Stats):
        return {"stats": put_stats(arrays, key, value)}
    if isinstance(value, tuple):
        return {"tuple": [_put_field(arrays, f"{key}/{i}", v) for i, v in enumerate(value)]}
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"array": key}
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return {"value": value.item() if isinstance(value, np.generic) else value}
    raise TypeError(
        f"statistics field {key!r} holds a {type(value).__name__}; only arrays and numbers are stored"
    )


def get_stats(arrays: dict[str, np.ndarray], desc: dict[str, Any]) -> Any:
    """The statistics :func:`put_stats` stored, arrays as stored (bit for bit).

    The class is looked up among the modules already imported (the
    estimator's family imports its own): nothing is imported from a
    checkpoint, and only subclasses of :class:`~emix.families.base.Stats`
    are built.

    Raises
    ------
    ValueError
        The class is not a statistics class of an imported module, or a
        field's array is missing.
    """
    from ..families.base import Stats

    module, _, name = str(desc.get("class", "")).partition(":")
    kind: Any = sys.modules.get(module)
    for part in name.split("."):
        kind = getattr(kind, part, None)
    if not (isinstance(kind, type) and issubclass(kind, Stats)):
        raise ValueError(
            f"statistics of class {desc.get('class')!r}, not a statistics class of emix's families"
        )
    return kind(**{k: _get_field(arrays, v) for k, v in desc["fields"].items()})


def _get_field(arrays: dict[str, np.ndarray], desc: Any) -> Any:
    if desc is None:
        return None
    if "stats" in desc:
        return get_stats(arrays, desc["stats"])
    if "tuple" in desc:
        return tuple(_get_field(arrays, d) for d in desc["tuple"])
    if "array" in desc:
        if desc["array"] not in arrays:
            raise ValueError(f"statistics array {desc['array']!r} is missing")
        return arrays[desc["array"]]
    return desc["value"]


# -- the driver's state --------------------------------------------------------------------------------

#: The driver's (:class:`emix.engine.driver._Run`) scalar state at an iteration boundary.
_RUN_SCALARS = ("plain", "extrapolated", "repaired", "passes", "step_max", "accelerating")


def _plain_value(value: Any) -> bool:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return True
    return isinstance(value, list) and all(isinstance(v, (bool, int, float)) for v in value)


def capture_run(run: Any, family: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The state of a driver run at an iteration boundary, as JSON values and named arrays.

    Parameters
    ----------
    run : emix.engine.driver._Run
        With no pass made at its current point (``run.res is None``).
    family : family
        Whose ``to_arrays`` names the component arrays.

    Returns
    -------
    meta : dict
        ``{"scalars": ..., "monitor": ..., "n_seq": int, "known": index or None}``.
    arrays : dict of str to ndarray
        ``params/...``, ``origin/...`` (where the run started), ``seq<i>/...`` and ``known``
        (the SQUAREM vector).
    """
    arrays: dict[str, np.ndarray] = {}
    put_params(arrays, "params", family, run.params)
    put_params(arrays, "origin", family, run.origin)
    for i, p in enumerate(run.seq):
        put_params(arrays, f"seq{i}", family, p)
    known = None
    if run.known is not None:
        for i, p in enumerate(run.seq):
            if p is run.known[0]:
                known = i
                arrays["known"] = np.asarray(run.known[1])
    monitor = {k: v for k, v in vars(run.monitor).items() if _plain_value(v)}
    meta = {
        "scalars": {name: getattr(run, name) for name in _RUN_SCALARS},
        "monitor": monitor,
        "n_seq": len(run.seq),
        "known": known,
    }
    return meta, arrays


def restore_run(run: Any, meta: dict[str, Any], arrays: dict[str, np.ndarray], family: Any) -> None:
    """Put the state :func:`capture_run` took back into ``run`` (in place)."""
    d = int(run.source.n_features)
    for name in _RUN_SCALARS:  # a state saved before "accelerating" was kept: the run's own
        setattr(run, name, meta["scalars"].get(name, getattr(run, name)))
    run.params = get_params(arrays, "params", family, d)
    if "origin/weights" in arrays:  # a state saved before the origin was kept: the run's own
        run.origin = get_params(arrays, "origin", family, d)
    run.seq = [get_params(arrays, f"seq{i}", family, d) for i in range(int(meta["n_seq"]))]
    known = meta.get("known")
    run.known = None if known is None else (run.seq[int(known)], arrays["known"])
    run.res = None
    for name, value in meta["monitor"].items():
        setattr(run.monitor, name, list(value) if isinstance(value, list) else value)
