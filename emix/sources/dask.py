"""Data on a Dask cluster: :class:`DaskSource`, and :func:`is_dask_collection`.

Dask and distributed are imported only when a :class:`DaskSource` is made or
used, never when this module is imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..exceptions import InputTypeError, InvalidInputError
from .base import _SourceBase
from .contract import ChunkFn
from .dask_workers import WorkerRunners, apply_block, worker_task


def is_dask_collection(obj: Any) -> bool:
    """Whether ``obj`` is a Dask array, dataframe or series (checked without importing Dask).

    ``fit`` wraps such data in a :class:`DaskSource`.

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from emix.sources import is_dask_collection
    >>> is_dask_collection(da.zeros((4, 2))), is_dask_collection(np.zeros((4, 2)))
    (True, False)
    """
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(obj, "__dask_graph__")


def _current_client():
    """The active ``distributed.Client``, or ``None`` (Dask's local scheduler is then used)."""
    try:
        from distributed import get_client
    except ImportError:  # pragma: no cover - distributed is part of the dask extra
        return None
    try:
        return get_client()
    except ValueError:
        return None


class DaskSource(_SourceBase):
    """A Dask array or dataframe: every pass is a distributed map over its row blocks.

    The data are persisted once (on the cluster when a ``distributed.Client``
    is active, else in this process) and never come back whole: in a pass,
    each block computes ``fn(X_block, w_block, row_offset)`` (for EM: the
    family's statistics and log-likelihood) where it lives, and the small
    results are summed on the client in block order. The function, with the
    current parameters, goes to each worker holding blocks once per pass
    (see :meth:`map_chunks`).

    Parameters
    ----------
    data : dask.array.Array of shape (n_samples, n_features) or dask.dataframe.DataFrame
        Numeric data; a dataframe's columns are the features (NaN, and
        nulls, are missing values).
    weights : dask array of shape (n_samples,), dask Series, or str, optional
        Sample weights; with a dataframe, a str names its weights column
        (which is then not a feature).
    persist : bool, default=True
        Persist the data once now (recommended: otherwise every pass
        recomputes the whole graph).

    Notes
    -----
    Blocks are re-chunked to hold every column. :meth:`chunks` brings blocks
    to the client one at a time (memory: one block); the initialisers use it
    (k-means passes, random draws in row order), while the EM passes and the
    initial M-step use :meth:`map_chunks`.

    Examples
    --------
    Without a ``distributed.Client`` the blocks are computed in this process:

    >>> import dask.array as da
    >>> import emix
    >>> X = emix.datasets.load_faithful()
    >>> source = emix.DaskSource(da.from_array(X, chunks=(100, 2)))
    >>> source
    DaskSource(shape=(272, 2), blocks=3)
    >>> gm = emix.GaussianMixture(3, covariance_type="tied", random_state=0).fit(source)
    >>> round(gm.log_likelihood_, 4)            # the in-memory fit's
    -1126.3159
    """

    name = "dask data"

    def __init__(self, data: Any, weights: Any = None, *, persist: bool = True) -> None:
        import dask
        import dask.array as da

        columns = None
        if hasattr(data, "columns") and hasattr(data, "to_dask_array"):  # dask dataframe
            if isinstance(weights, str):
                if weights not in data.columns:
                    raise InvalidInputError(
                        f"weights column {weights!r} not found; columns are: "
                        f"{', '.join(map(str, data.columns))}"
                    )
                w_series = data[weights]
                data = data.drop(columns=[weights])
                weights = w_series
            kinds = [
                (c, t) for c, t in zip(data.columns, data.dtypes) if getattr(t, "kind", "O") not in "biuf"
            ]
            if kinds:
                col, typ = kinds[0]
                raise InputTypeError(f"column {col!r} has non-numeric dtype {typ}; encode or drop it")
            columns = tuple(str(c) for c in data.columns)
            X = data.to_dask_array(lengths=True)
            if X.dtype.kind != "f":
                X = X.astype(np.float64)
        elif isinstance(data, da.Array):
            X = data
        else:
            raise InputTypeError(f"DaskSource needs a dask array or dataframe, got {type(data).__name__}")
        if X.ndim != 2:
            raise InvalidInputError(
                f"the dask data have {X.ndim} dimensions; expected 2 (n_samples, n_features)"
            )
        if X.dtype.kind not in "biuf":
            raise InputTypeError(f"the dask data have dtype {X.dtype}; emix needs real numbers")
        if X.dtype.kind != "f":
            X = X.astype(np.float64)
        if any(np.isnan(c) for c in X.chunks[0]):
            X = X.compute_chunk_sizes()
        X = X.rechunk({1: -1})
        w = None
        if weights is not None:
            if hasattr(weights, "to_dask_array"):
                weights = weights.to_dask_array(lengths=True)
            w = da.asarray(weights)
            if w.dtype.kind not in "biuf":
                raise InputTypeError(f"sample weights must be numeric, got dtype {w.dtype}")
            if w.ndim != 1 or w.shape[0] != X.shape[0]:
                raise InvalidInputError(f"sample weights have shape {w.shape}; expected ({X.shape[0]},)")
            w = w.astype(X.dtype).rechunk((X.chunks[0],))
        if persist:
            X, w = dask.persist(X, w) if w is not None else (X.persist(), None)
        self.X = X
        self.weights = w
        self.columns = columns
        self._x_blocks = list(X.to_delayed().ravel())
        self._w_blocks = [None] * len(self._x_blocks) if w is None else list(w.to_delayed().ravel())
        self._offsets = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int).tolist()
        self._first: np.ndarray | None = None
        self._placed: tuple | None = None  # (client id, workers, their blocks): see _placement
        self._runners = WorkerRunners()  # a resident runner per worker: see _map_on_workers

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.X.dtype)

    @property
    def n_blocks(self) -> int:
        return len(self._x_blocks)

    def _prefix(self) -> str:
        return self.name

    def map_chunks(self, fn: ChunkFn, pool=None) -> Iterator[Any]:
        """``fn(X_block, w_block, row_offset)`` where the blocks live, values in block order.

        With a ``distributed`` client (the one ``distributed.get_client()``
        finds: the user's), each worker holding blocks gets **one call** per
        pass, carrying ``fn`` (with the current parameters) and running it
        over the blocks it holds, in order: a call to a resident runner made
        on the first pass (a ``distributed`` actor, reached without the
        scheduler), or, when that cannot serve, one task per worker. The
        per-block values come back and are summed by the caller in block
        order, so the result is the in-memory one for the same chunks. A
        worker lost during a pass is replaced by the scheduler: the pass is
        made again by tasks, its blocks recomputed from their graph.
        Without a client, Dask's local scheduler runs the blocks on threads of
        this process.

        Parameters
        ----------
        fn : callable
            ``fn(X_block, w_block, row_offset)``, picklable (closures are, by
            cloudpickle); its values should be small.
        pool : object, optional
            Ignored: the cluster is the parallelism.

        Returns
        -------
        iterator
            The values of ``fn``, in block order.
        """
        client = _current_client()
        if client is not None:
            values = self._map_on_workers(client, fn)
            if values is not None:
                return iter(values)
        return iter(self._map_graph(fn, client))

    def _map_on_workers(self, client: Any, fn: ChunkFn) -> list | None:
        """The pass where the blocks live (:mod:`.dask_workers`): by each worker's resident runner,
        else by one task per worker; ``None`` when the blocks are not held by the cluster."""
        held = {
            f.key: f for f in client.futures_of([self.X] if self.weights is None else [self.X, self.weights])
        }
        keys = [b.key for b in self._x_blocks]
        if not all(k in held for k in keys):
            return None  # persisted elsewhere (no client at the time): the graph path sends them
        where, order = self._placement(client, held, keys)
        wkeys = [None if b is None else b.key for b in self._w_blocks]
        if all(held[k].status == "finished" for k in keys):
            values = self._runners.map(client, fn, where, order, keys, wkeys, self._offsets)
            if values is not None:
                return values
        # one task per worker; all of a task's blocks are on that worker, so the scheduler runs it there
        futures = client.map(
            worker_task,
            [fn] * len(order),
            [[held[keys[i]] for i in idx] for idx in order],
            [[None if wkeys[i] is None else held[wkeys[i]] for i in idx] for idx in order],
            [[self._offsets[i] for i in idx] for idx in order],
            pure=False,
        )
        values: list = [None] * len(keys)
        for holder, idx, (ran, got) in zip(where, order, client.gather(futures), strict=True):
            if ran != holder:
                self._placed = None  # blocks moved (a worker lost, a rebalance): ask again next pass
            for i, v in zip(idx, got, strict=True):
                values[i] = v
        return values

    def _placement(self, client: Any, held: dict, keys: list) -> tuple[list, list[list[int]]]:
        """The workers holding the blocks, and each one's blocks in order (asked once, then kept).

        Asking the scheduler costs a round trip per pass; the answer is kept
        until a task runs on another worker than the one that held its blocks.
        """
        placed = self._placed
        if placed is not None and placed[0] == id(client):
            return placed[1], placed[2]
        who = client.who_has([held[k] for k in keys])
        groups: dict[Any, list[int]] = {}
        for i, k in enumerate(keys):
            holders = tuple(who.get(k) or ())
            groups.setdefault(holders[0] if holders else None, []).append(i)
        where, order = list(groups), list(groups.values())
        self._placed = (id(client), where, order)
        return where, order

    def _map_graph(self, fn: ChunkFn, client: Any) -> tuple:
        """One delayed task per block (the local scheduler, or data not yet on the cluster)."""
        import dask

        ref = fn
        if client is not None:
            [ref] = client.scatter([fn], broadcast=True, hash=False)
        try:
            tasks = [
                dask.delayed(apply_block, pure=False)(ref, xb, wb, off)
                for xb, wb, off in zip(self._x_blocks, self._w_blocks, self._offsets)
            ]
            return dask.compute(*tasks)
        finally:
            if client is not None:
                ref.release()

    def chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """The blocks, brought to this process one at a time (in row order)."""
        import dask

        for xb, wb in zip(self._x_blocks, self._w_blocks):
            if wb is None:
                (X,) = dask.compute(xb)
                yield np.asarray(X), None
            else:
                X, w = dask.compute(xb, wb)
                yield np.asarray(X), np.asarray(w)

    def first_chunk(self) -> np.ndarray:
        """The first block, shape (m, n_features) (kept after the first call)."""
        if self._first is None:
            import dask

            (X,) = dask.compute(self._x_blocks[0])
            self._first = np.asarray(X)
        return self._first

    def __repr__(self) -> str:
        return f"DaskSource(shape={self.X.shape}, blocks={self.n_blocks})"
