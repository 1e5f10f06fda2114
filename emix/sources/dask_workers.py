"""What a :class:`~emix.sources.DaskSource` pass runs on the workers, and how it gets there.

A pass sends one function (the E-step with the current parameters) to every
worker holding blocks and brings back one value per block. Two ways, the
first tried first:

* **a resident runner** (:class:`BlockRunner`, a ``distributed`` actor made
  once per fit on every worker that holds blocks): the client calls it
  directly, without the scheduler, and it reads the blocks from the worker's
  memory. A call costs a message to the worker and one back (measured: 6 ms
  per pass on a 2-process ``LocalCluster``, against 19 ms for a task);
* **one task per worker** (:func:`worker_task`), scheduled next to its blocks:
  the path when a runner cannot serve the pass (a worker lost or replaced,
  blocks moved, a cluster that refuses actors), since the scheduler then
  recomputes lost blocks and reruns the task elsewhere.

Either way the values are the same to the bit: the same function on the same
blocks, in block order.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from .contract import ChunkFn

_CONTROLLER: list = []


def apply_block(fn: ChunkFn, X: np.ndarray, w: np.ndarray | None, offset: int) -> Any:
    """Run on a worker: ``fn`` on one block (the block is already a NumPy array there)."""
    return fn(np.asarray(X), None if w is None else np.asarray(w), offset)


def _apply_blocks(fn: ChunkFn, blocks: list, weights: list, offsets: list) -> list:
    """``fn`` on each of the blocks, in order, with BLAS and numba as narrow as the worker's threads."""
    try:
        from distributed import Scheduler, Worker, get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # pragma: no cover - always run by a worker
        worker = None
    if worker is None or Scheduler._instances or len(Worker._instances) > 1:
        # threads of a process with other work: the limits are process-wide, the fit's pool sets them
        return [apply_block(fn, X, w, off) for X, w, off in zip(blocks, weights, offsets)]
    with _thread_limits(int(getattr(worker.state, "nthreads", 1) or 1)):
        return [apply_block(fn, X, w, off) for X, w, off in zip(blocks, weights, offsets)]


def worker_task(fn: ChunkFn, blocks: list, weights: list, offsets: list) -> tuple[str | None, list]:
    """A task run on a worker: ``fn`` over the blocks it was given; and where it ran.

    A worker process of ``nthreads`` threads runs it with BLAS (and numba's
    parallel regions) held to ``nthreads`` threads, so that two worker
    processes on two cores do not each start a pool as wide as the machine
    (:func:`_thread_limits`). The worker's address lets the caller see that
    its record of where the blocks live still holds.
    """
    try:
        from distributed import get_worker

        address = get_worker().address
    except (ImportError, ValueError):  # pragma: no cover - always run by a worker
        address = None
    return address, _apply_blocks(fn, blocks, weights, offsets)


@contextlib.contextmanager
def _thread_limits(n: int) -> Iterator[None]:
    """BLAS and numba at most ``n`` threads in this worker process while the blocks run.

    Nothing is changed when they are already that narrow (a Dask nanny starts
    workers with ``OMP_NUM_THREADS=1`` and the like). Not used in a worker
    that shares its process with a scheduler or other workers
    (``processes=False``): the limits are process-wide, and the fit's own
    thread pool sets them there.
    """
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency of emix
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    controller = _CONTROLLER[0]
    wide = controller is not None and any(lib.num_threads > n for lib in controller.lib_controllers)
    numba, parallel = sys.modules.get("numba"), sys.modules.get("numba.np.ufunc.parallel")
    # numba's pool is asked only once started (by a parallel kernel): asking would start it
    started = parallel is not None and getattr(parallel, "_is_initialized", False)
    numba_threads = numba.get_num_threads() if numba is not None and started else 0
    if numba_threads > n:
        numba.set_num_threads(n)
    try:
        if wide:
            with controller.limit(limits=n):
                yield
        else:
            yield
    finally:
        if numba_threads > n:
            numba.set_num_threads(numba_threads)


class BlockRunner:
    """Lives on a worker (a ``distributed`` actor): runs a pass over blocks held in its memory."""

    def run(self, fn: ChunkFn, keys: list, wkeys: list, offsets: list) -> tuple[str, Any]:
        """``("ok", values)``, ``("moved", None)`` when a block is not here, ``("error", exc)`` from ``fn``.

        ``fn``'s own exception comes back as a value, so that the caller can
        tell it (raised to the user) from a failure to reach the worker (the
        pass then goes by tasks).
        """
        from distributed import get_worker

        data = get_worker().data
        if not all(k in data for k in keys) or not all(k is None or k in data for k in wkeys):
            return "moved", None
        blocks = [data[k] for k in keys]
        weights = [None if k is None else data[k] for k in wkeys]
        try:
            return "ok", _apply_blocks(fn, blocks, weights, offsets)
        except Exception as exc:  # noqa: BLE001 - handed back whole, raised on the client
            return "error", exc


class WorkerRunners:
    """The client's side: a :class:`BlockRunner` per worker holding blocks, for one client.

    Made on the first pass, kept while the blocks stay where they are; any
    failure to reach a runner drops them all (the caller then makes the pass
    by tasks and asks where the blocks live again).
    """

    def __init__(self) -> None:
        self._key: tuple | None = None  # (id(client), the workers)
        self._actors: dict = {}
        self._futures: list = []
        self._refused = False  # the cluster could not make an actor: tasks serve from then on

    def drop(self) -> None:
        """Forget the runners (their actors end when the futures are released)."""
        self._key, self._actors, self._futures = None, {}, []

    def _ensure(self, client: Any, where: list) -> bool:
        key = (id(client), tuple(where))
        if self._refused:
            return False
        if self._key == key:
            return all(f.status == "finished" for f in self._futures)
        self.drop()
        alive = client.scheduler_info().get("workers", {})
        if any(w is None or w not in alive for w in where):
            return False  # a worker not (or no longer) known: tasks find where the blocks are
        try:
            futures = [
                client.submit(BlockRunner, actor=True, workers=[w], allow_other_workers=False, pure=False)
                for w in where
            ]
            actors = [f.result() for f in futures]
        except Exception:  # noqa: BLE001 - a cluster that cannot make actors: tasks serve
            self._refused = True
            return False
        self._key, self._futures, self._actors = key, futures, dict(zip(where, actors, strict=True))
        return True

    def map(
        self, client: Any, fn: ChunkFn, where: list, order: list, keys: list, wkeys: list, offsets: list
    ) -> list | None:
        """The pass's values in block order, or ``None`` when the runners cannot make it.

        ``where[j]`` holds the blocks ``order[j]``. An exception of ``fn`` is
        raised here, as a task would raise it.
        """
        if not self._ensure(client, where):
            return None
        try:
            calls = [
                self._actors[w].run(
                    fn, [keys[i] for i in idx], [wkeys[i] for i in idx], [offsets[i] for i in idx]
                )
                for w, idx in zip(where, order, strict=True)
            ]
            answers = [c.result() for c in calls]
        except Exception:  # noqa: BLE001 - a worker lost or unreachable: the pass goes by tasks
            self.drop()
            return None
        values: list = [None] * len(keys)
        for idx, (status, got) in zip(order, answers, strict=True):
            if status == "error":
                raise got
            if status != "ok":
                self.drop()
                return None
            for i, v in zip(idx, got, strict=True):
                values[i] = v
        return values
