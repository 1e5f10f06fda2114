"""``checkpoint=PATH``: a fit that saves its state as it goes, and resumes from it.

With an estimator's ``checkpoint`` set, ``fit`` writes the state of the fit
to that file atomically at every iteration boundary (and after every
restart): the current parameters and what the EM driver needs to go on
exactly as it would have (:mod:`emix.engine.checkpoint`), the restart index,
the best restart so far, the random generator's state, and fingerprints of
the data and of the settings. When the file exists, ``fit`` checks both
fingerprints and resumes from it; a process killed at any moment and started
again ends with the parameters an uninterrupted fit gives, bit for bit when
the data come in the same chunks. A finished fit's checkpoint holds its
result, so running it again returns at once.

What the fingerprints hold
--------------------------
data
    ``n_samples``, ``n_features``, ``dtype``, the total weight, and: for file
    sources the files' fingerprints (size and footer or edge hash, not the
    modification time, so a copied file still matches) and their columns;
    for in-memory arrays a hash of the rows (all of them up to
    :data:`HASH_ALL_BYTES`, else the first and last chunk and the column
    sums) and of the sample weights and labels; for other sources a hash of
    the first chunk.
settings
    Every constructor argument except those that do not change the result
    (:data:`NOT_SETTINGS`: ``verbose``, ``verbose_interval``, ``n_jobs``,
    ``online_step``, ``checkpoint``, ``strict``). Arrays are hashed; a family object is
    described by its spec.

A checkpoint whose fingerprints differ raises
:class:`~emix.exceptions.CheckpointMismatchError` naming what differs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import (
    EMResult,
    MixtureParams,
    capture_run,
    get_params,
    get_result,
    put_result,
    read_checkpoint,
    restore_run,
)
from ..engine import write_checkpoint as _write
from ..exceptions import CheckpointMismatchError, InvalidParameterError
from ..sources import ArraySource

#: Constructor arguments that do not change a fit's result, left out of the settings fingerprint.
NOT_SETTINGS = frozenset({"verbose", "verbose_interval", "n_jobs", "online_step", "checkpoint", "strict"})
#: In-memory data up to this size are hashed whole for the data fingerprint.
HASH_ALL_BYTES = 1 << 30


def _digest(*arrays: Any) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data)
    return h.hexdigest()


def data_fingerprint(source: Any, labels: np.ndarray | None = None) -> dict[str, Any]:
    """What the checkpoint records of the training data (see the module docstring).

    Parameters
    ----------
    source : a source
        The training rows (an :class:`~emix.sources.ArraySource` for in-memory data).
    labels : ndarray of int of shape (n_samples,), optional

    Returns
    -------
    dict of JSON values
    """
    fp: dict[str, Any] = {
        "n_samples": int(source.n_samples),
        "n_features": int(source.n_features),
        "dtype": np.dtype(source.dtype).str,
        "total_weight": float(source.total_weight),
        "labels": None if labels is None else _digest(labels),
    }
    files = list(getattr(source, "sources", None) or ([source] if hasattr(source, "fingerprint") else []))
    if files:
        fp["files"] = [{"size": s.fingerprint.size, "digest": s.fingerprint.digest} for s in files]
        fp["columns"] = list(getattr(source, "columns", None) or ())
        fp["weights"] = (
            getattr(source, "weights", None) if isinstance(getattr(source, "weights", None), str) else None
        )
    elif isinstance(source, ArraySource):
        X = source.X
        if X.nbytes <= HASH_ALL_BYTES:
            fp["rows"] = _digest(X)
        else:
            m = source.chunk_size
            fp["rows"] = _digest(X[:m], X[-m:], np.nansum(X, axis=0))
        fp["sample_weight"] = None if source.sample_weight is None else _digest(source.sample_weight)
    else:
        fp["first_chunk"] = _digest(source.first_chunk())
    return fp


def _describe(value: Any) -> Any:
    """A setting as a JSON value: itself, a hash for arrays, the spec of a family object."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if callable(getattr(value, "spec", None)):
        return {"spec": json.dumps(value.spec(), sort_keys=True, default=str)}
    if isinstance(value, dict):
        return {str(k): _describe(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (np.ndarray, list, tuple)):
        try:
            return {"array": _digest(np.asarray(value, dtype=np.float64))}
        except (TypeError, ValueError):
            return {"value": repr(value)}
    return {"type": type(value).__name__}  # e.g. a Generator: its state is in the checkpoint


def settings_fingerprint(estimator: Any) -> dict[str, Any]:
    """The estimator's class and the constructor arguments that change its fit, as JSON values."""
    params = estimator.get_params(deep=False)
    out = {"estimator": type(estimator).__name__}
    out.update({k: _describe(v) for k, v in sorted(params.items()) if k not in NOT_SETTINGS})
    return out


def differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """``"key: saved -> now"`` for each key whose values differ."""
    keys = sorted(set(saved) | set(now))
    return [
        f"{k}: {_short(saved.get(k))} -> {_short(now.get(k))}" for k in keys if saved.get(k) != now.get(k)
    ]


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable_state(state: Any) -> Any:
    """A bit generator's state as JSON values (arrays, as in MT19937's, tagged)."""
    if isinstance(state, dict):
        return {k: _jsonable_state(v) for k, v in state.items()}
    if isinstance(state, np.ndarray):
        return {"__ndarray__": state.tolist(), "dtype": state.dtype.str}
    if isinstance(state, np.integer):
        return int(state)
    return state


def _state_from_json(state: Any) -> Any:
    if isinstance(state, dict):
        if "__ndarray__" in state:
            return np.asarray(state["__ndarray__"], dtype=state["dtype"])
        return {k: _state_from_json(v) for k, v in state.items()}
    return state


class FitSession(contextlib.AbstractContextManager):
    """The checkpoint of one ``fit`` call: what to resume, and the writes (see the module docstring).

    With ``path=None`` it does nothing: the restarts run ``range(n_init)``
    and the best is kept as ``fit`` always kept it.

    Parameters
    ----------
    path : path-like or None
    estimator : MixtureEstimator
        Its configured family names the arrays; its settings are fingerprinted.
    source : a source
        The training rows.
    labels : ndarray of int or None
    rng : numpy.random.Generator
        The fit's generator: restored in place on resume, recorded on every write.
    n_init : int
    """

    def __init__(self, path, estimator, source, labels, rng, n_init: int) -> None:
        self.path = None if path is None else Path(path)
        self.family = estimator._make_family()
        self.n_features = int(source.n_features)
        self.rng, self.n_init = rng, int(n_init)
        self.best: EMResult | None = None
        self.first = 0  # the first restart still to run
        self.start: MixtureParams | None = None  # the resumed restart's point
        self._run: tuple[dict, dict] | None = None  # its driver state
        self.finished = False
        if self.path is None:
            return
        self.fingerprints = {
            "data": data_fingerprint(source, labels),
            "settings": settings_fingerprint(estimator),
        }
        if self.path.exists():
            self._load()

    # -- resuming ------------------------------------------------------------------------------------
    def _load(self) -> None:
        meta, arrays = read_checkpoint(self.path)
        if meta.get("kind") == "online":
            raise CheckpointMismatchError(
                f"{self.path}: this checkpoint is of an online fit (partial_fit), not of fit. "
                "Delete it or choose another checkpoint path to start afresh"
            )
        found = []
        for part in ("data", "settings"):
            diff = differences(meta.get(part, {}), self.fingerprints[part])
            if diff:
                found.append(f"its {part} differ (" + "; ".join(diff) + ")")
        if found:
            raise CheckpointMismatchError(
                f"{self.path}: this checkpoint is of another fit; "
                + "; ".join(found)
                + ". Delete it or choose another checkpoint path to start afresh, "
                "or fit the data and settings it was written for"
            )
        self.rng.bit_generator.state = _state_from_json(meta["rng"])
        self.best = get_result(meta, arrays, "best", self.family, self.n_features)
        self.first = int(meta["restart"])
        self.finished = bool(meta["finished"])
        if meta.get("run") is not None:
            run_arrays = {k[4:]: v for k, v in arrays.items() if k.startswith("run/")}
            self._run = (meta["run"], run_arrays)
            self.start = get_params(run_arrays, "params", self.family, self.n_features)

    def attempts(self) -> range:
        """The restarts still to run (none when the checkpoint holds a finished fit)."""
        return range(self.n_init, self.n_init) if self.finished else range(self.first, self.n_init)

    def resumes(self, attempt: int) -> bool:
        """Whether ``attempt`` goes on from the checkpoint (then ``self.start`` is its point)."""
        return self._run is not None and attempt == self.first

    def hook(self, attempt: int) -> _RunHook | None:
        """The driver's hook for ``attempt`` (``None`` without a path)."""
        return None if self.path is None else _RunHook(self, attempt)

    # -- saving ----------------------------------------------------------------------------------------
    def write(self, restart: int, run: tuple[dict, dict] | None = None, finished: bool = False) -> None:
        """Save the state now: the restart in progress (with its driver state) or the next one."""
        if self.path is None:
            return
        meta: dict[str, Any] = {
            **self.fingerprints,
            "restart": int(restart),
            "n_init": self.n_init,
            "rng": _jsonable_state(self.rng.bit_generator.state),
            "finished": bool(finished),
            "run": None if run is None else run[0],
            "best": None,
        }
        arrays: dict[str, np.ndarray] = {}
        if self.best is not None:
            put_result(meta, arrays, "best", self.family, self.best)
        if run is not None:
            arrays.update({f"run/{k}": v for k, v in run[1].items()})
        _write(self.path, meta, arrays)

    def keep(self, attempt: int, result: EMResult, best: EMResult | None) -> EMResult:
        """The better of ``result`` and ``best`` (the earlier one on a tie, as ``fit`` always kept), saved."""
        if best is None or result.log_likelihood > best.log_likelihood:
            best = result
        self.best = best
        self.write(attempt + 1)
        return best

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None and self.path is not None and not self.finished:
            self.write(self.n_init, finished=True)
            self.finished = True


class _RunHook:
    """What :func:`emix.engine.run_em` calls: ``restore`` once, ``save`` at every iteration boundary."""

    def __init__(self, session: FitSession, attempt: int) -> None:
        self.session, self.attempt = session, attempt

    def restore(self, run: Any) -> None:
        session = self.session
        if session.resumes(self.attempt):
            meta, arrays = session._run
            restore_run(run, meta, arrays, session.family)
            session._run = None

    def resumes_accelerated(self) -> bool:
        """Whether the state to resume was saved by an accelerated run (small data's SQUAREM
        run after a discarded plain attempt: the resumed fit skips the plain attempt)."""
        session = self.session
        if not session.resumes(self.attempt) or session._run is None:
            return False
        return bool(session._run[0]["scalars"].get("accelerating", False))

    def resumed_origin(self) -> MixtureParams | None:
        """Where the run to resume started (``None`` when none is resumed), so that small data's
        SQUAREM run after a resumed, discarded plain attempt starts where that attempt did."""
        session = self.session
        if not session.resumes(self.attempt) or session._run is None:
            return None
        arrays = session._run[1]
        if "origin/weights" not in arrays:
            return None
        return get_params(arrays, "origin", session.family, session.n_features)

    def save(self, run: Any) -> None:
        self.session.write(self.attempt, capture_run(run, self.session.family))


def open_session(
    estimator: Any, source: Any, labels: Any, rng: np.random.Generator, n_init: int
) -> FitSession:
    """The :class:`FitSession` of ``estimator.checkpoint`` (a no-op one when it is ``None``).

    Raises
    ------
    InvalidParameterError
        ``checkpoint`` is not a path, or names a folder.
    CheckpointMismatchError
        The file is a checkpoint of another fit.
    ModelFileError
        The file is not a checkpoint, or is corrupt.
    """
    path = getattr(estimator, "checkpoint", None)
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise InvalidParameterError(f"checkpoint must be a file path or None, got {path!r}")
        if Path(path).is_dir():
            raise InvalidParameterError(f"checkpoint {str(path)!r} is a folder; give a file path")
    return FitSession(path, estimator, source, labels, rng, n_init)
