"""``checkpoint=PATH`` with ``partial_fit``: an online fit that saves its state as it goes, and resumes.

With an estimator's ``checkpoint`` set, every ``partial_fit`` batch is
followed by a write of the online state to that file (atomically, at most
every :data:`SAVE_SECONDS`, and always after the first batch): the
parameters, the running statistics (per unit of weight, with their anchor),
the batches and weight seen, the per-batch history, and a 16-byte hash of
every batch blended in (its rows and weights, as checked).

When the file exists and the estimator has no online run in memory, the
first ``partial_fit`` restores that state, and the batches that follow are
taken as a replay of the ones the checkpoint saw: each is checked against
its hash and skipped (no E-step), until the first batch the checkpoint did
not see, from which the fit goes on. So a script, or ``emix fit --online``,
killed at any moment and run again gives the parameters of an
uninterrupted run, bit for bit. A replayed batch that differs from the one
seen raises :class:`~emix.exceptions.CheckpointMismatchError` naming it, as
do settings that differ (the constructor arguments, ``online_step``
included) and a model fitted from other parameters.

The file has the layout of a batch fit's checkpoint (:mod:`emix.engine.checkpoint`)
with ``"kind": "online"``; ``fit`` refuses it, and ``partial_fit`` refuses a
batch fit's.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import (
    OnlineState,
    get_params,
    get_stats,
    put_params,
    put_stats,
    read_checkpoint,
    write_checkpoint,
)
from ..exceptions import CheckpointMismatchError, ModelFileError
from .checkpoints import differences, settings_fingerprint

#: The least time between two writes of an online checkpoint (the first batch is always written).
SAVE_SECONDS = 1.0
KIND = "online"


def batch_digest(batch: Any) -> np.ndarray:
    """16 bytes hashing a checked batch (a source): its rows and weights, however it is chunked."""
    rows, weights = hashlib.blake2b(digest_size=16), hashlib.blake2b(digest_size=16)
    rows.update(f"{np.dtype(batch.dtype).str}{batch.n_features}".encode())
    weighted = False
    for X, w in batch.chunks():
        rows.update(np.ascontiguousarray(X).data)
        if w is not None:
            weighted = True
            weights.update(np.ascontiguousarray(w, dtype=np.float64).data)
    rows.update(weights.digest() if weighted else b"unweighted")
    return np.frombuffer(rows.digest(), dtype=np.uint8)


def start_digest(estimator: Any) -> str | None:
    """A hash of the fitted parameters an online run starts from (``None``: not fitted, a new start)."""
    if not hasattr(estimator, "weights_"):
        return None
    params = estimator._fitted_params()
    arrays = {"weights": params.weights}
    put_params(arrays, "p", estimator._make_family(), params)
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}{a.dtype.str}{a.shape}".encode())
        h.update(a.data)
    return h.hexdigest()


class OnlineCheckpoint:
    """The checkpoint file of one online run (see the module docstring).

    Parameters
    ----------
    path : path-like
    estimator : MixtureEstimator
        Its settings are fingerprinted when the run starts.
    online_step : float
        Its ``online_step`` (which changes an online fit, though not a batch one).
    """

    def __init__(self, path: Any, estimator: Any, online_step: float) -> None:
        self.path = Path(path)
        self.family = estimator._make_family()
        self.settings = settings_fingerprint(estimator) | {"online_step": online_step}
        self.start = start_digest(estimator)
        self.digests: list[np.ndarray] = []
        self.replay = 0  # batches of a resumed run checked so far (skipped)
        self.saved_at = -math.inf
        self._last = (math.nan, math.nan)  # the last batch's log-likelihood and weight
        self.saved = 0  # batches in the file

    def _fail(self, problem: str) -> CheckpointMismatchError:
        return CheckpointMismatchError(
            f"{self.path}: {problem}. Delete it or choose another checkpoint path to start afresh"
        )

    # -- resuming ---------------------------------------------------------------------------------------
    def load(self) -> dict[str, Any] | None:
        """The saved state (``None`` when there is no file), checked against this run's settings.

        Returns
        -------
        dict or None
            ``state`` (OnlineState), ``spec``, ``n_components``, ``n_features``,
            ``init_used``, ``feature_names``, ``history`` and the last batch's
            ``loglik`` and ``weight``.
        """
        if not self.path.exists():
            return None
        meta, arrays = read_checkpoint(self.path)
        if meta.get("kind") != KIND:
            raise self._fail("this checkpoint is of a batch fit (fit), not of an online one (partial_fit)")
        diff = differences(meta.get("settings", {}), self.settings)
        if meta.get("start") != self.start:
            diff.append("the fitted parameters it started from")
        if diff:
            raise self._fail(
                "this checkpoint is of another online fit; its settings differ (" + "; ".join(diff) + ")"
            )
        try:
            return self._restore(meta, arrays)
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelFileError(f"{self.path}: the online state cannot be read ({exc}); delete it") from None

    def _restore(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """The state of :meth:`load` from the file's metadata and arrays."""
        d = int(meta["n_features"])
        params = get_params(arrays, "params", self.family, d)
        stats = get_stats(arrays, meta["stats"])
        n = int(meta["n_batches"])
        digests = list(arrays["digests"])
        if len(digests) != n or arrays["history"].shape != (n,):
            raise ValueError(
                f"{n} batches, but {len(digests)} hashes and {arrays['history'].shape[0]} entries"
            )
        self.digests, self.saved = digests, n
        self._last = (float(meta["loglik"]), float(meta["weight"]))
        state = OnlineState(params=params, stats=stats, n_batches=n, weight_seen=float(meta["weight_seen"]))
        names = meta["feature_names"]
        return {
            "state": state,
            "spec": meta["spec"],
            "n_components": int(meta["n_components"]),
            "n_features": d,
            "init_used": meta["init_used"],
            "feature_names": None if names is None else np.asarray(names, dtype=object),
            "history": arrays["history"],
            "loglik": self._last[0],
            "weight": self._last[1],
        }

    def replaying(self) -> bool:
        """Whether the next batch is one the checkpoint has already seen."""
        return self.replay < len(self.digests)

    def skip(self, batch: Any) -> None:
        """Check a replayed batch against the hash of the one seen at its place, and count it.

        Raises
        ------
        CheckpointMismatchError
            The batch differs from the one the checkpoint saw there.
        """
        i = self.replay
        if not np.array_equal(batch_digest(batch), self.digests[i]):
            raise self._fail(
                f"batch {i + 1} of this online fit differs from the batch {i + 1} the checkpoint saw "
                f"(it has seen {len(self.digests)} batches); pass the batches in the order they came"
            )
        self.replay += 1

    # -- saving ------------------------------------------------------------------------------------------
    def record(self, run: Any, batch: Any, loglik: float) -> None:
        """Remember ``batch``'s hash, and write the state if :data:`SAVE_SECONDS` have passed."""
        self.digests.append(batch_digest(batch))
        self.replay = len(self.digests)
        self._last = (float(loglik), float(batch.total_weight))
        if time.monotonic() - self.saved_at >= SAVE_SECONDS:
            self.save(run)

    def save(self, run: Any) -> None:
        """Write the state of ``run`` (after its last recorded batch) to the file, atomically."""
        state = run.state
        if state is None or len(self.digests) != state.n_batches or self.saved == state.n_batches:
            return  # nothing new since the last write
        arrays: dict[str, np.ndarray] = {}
        put_params(arrays, "params", self.family, state.params)
        stats = put_stats(arrays, "stats", state.stats)
        arrays["history"] = np.asarray(run.history[: state.n_batches])
        arrays["digests"] = np.stack(self.digests)
        names = run.feature_names
        meta = {
            "kind": KIND,
            "settings": self.settings,
            "start": self.start,
            "spec": run.spec,
            "n_components": int(run.n_components),
            "n_features": int(run.n_features),
            "init_used": run.init_used,
            "feature_names": None if names is None else [str(n) for n in names],
            "n_batches": int(state.n_batches),
            "weight_seen": float(state.weight_seen),
            "loglik": self._last[0],
            "weight": self._last[1],
            "stats": stats,
        }
        json.dumps(meta, allow_nan=False)  # fails here, not half-way through the write
        write_checkpoint(self.path, meta, arrays)
        self.saved_at, self.saved = time.monotonic(), state.n_batches


class _Seen:
    """What ``set_fitted`` reads of the last batch of a restored run: its weight and width."""

    def __init__(self, total_weight: float, n_features: int) -> None:
        self.total_weight, self.n_features = total_weight, n_features


def restored_batch(saved: dict[str, Any]) -> _Seen:
    """A stand-in for the last batch a restored run saw (see :class:`_Seen`)."""
    return _Seen(saved["weight"], saved["n_features"])
