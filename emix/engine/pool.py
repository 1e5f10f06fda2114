"""Rows split across a thread pool, BLAS held to one thread per worker.

EM's passes are sums over chunks; :class:`ChunkPool` maps a function over the
chunks of a source on a few threads and returns the results *in chunk order*,
so that the sum (taken by the caller, in order) does not depend on the number
of threads. NumPy and BLAS release the GIL in the heavy operations; while a
pool with more than one worker is open, BLAS is limited to one thread (via
``threadpoolctl``) so that workers do not oversubscribe the cores.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def available_cpus() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def resolve_n_jobs(n_jobs: int | None) -> int:
    """``None`` or ``-1``: all available cores; a positive int: that many threads."""
    if n_jobs is None or n_jobs == -1:
        return available_cpus()
    n_jobs = int(n_jobs)
    if n_jobs < -1 or n_jobs == 0:
        from ..exceptions import InvalidParameterError

        raise InvalidParameterError(f"n_jobs must be a positive int, -1 or None, got {n_jobs}")
    return n_jobs


class ChunkPool(contextlib.AbstractContextManager):
    """Ordered, bounded parallel map over chunks.

    Parameters
    ----------
    n_jobs : int or None
        Number of worker threads (``None``: all cores). With one worker,
        :meth:`map` runs inline and BLAS keeps its own threading.

    Use as a context manager; :meth:`map` may be called many times inside.
    The threads start only when a map has more than one chunk, so small data
    sets pay no thread hops.
    """

    def __init__(self, n_jobs: int | None = None) -> None:
        self.n_jobs = resolve_n_jobs(n_jobs)
        self._executor: ThreadPoolExecutor | None = None
        self._limits = None

    def __enter__(self) -> ChunkPool:
        if self.n_jobs > 1:
            # BLAS's own threads only get in the way of ours (and cost milliseconds to wake
            # on the small matrices of the M-step): one BLAS thread while the pool is open
            controller = _controller()
            self._limits = None if controller is None else controller.limit(limits=1)
        return self

    def _start(self) -> None:
        """Start the threads on the first map with more than one chunk (or take idle ones)."""
        self._executor = _idle_executor(self.n_jobs)

    def __exit__(self, *exc: Any) -> None:
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits = None
        if self._executor is not None:
            if exc and exc[0] is not None:  # a map may have been left with work in flight
                self._executor.shutdown(wait=True)
            else:
                _retire_executor(self.n_jobs, self._executor)
            self._executor = None

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """``fn`` over ``items``, results in input order, at most ``2 * n_jobs`` in flight."""
        if self.n_jobs == 1:
            yield from map(fn, items)
            return
        window = 2 * self.n_jobs
        pending: collections.deque = collections.deque()
        it = iter(items)
        first = next(it, _END)
        if first is _END:
            return
        second = next(it, _END)
        if second is _END:  # one chunk: no thread hop
            yield fn(first)
            return
        if self._executor is None:
            self._start()
        pending.append(self._executor.submit(fn, first))
        pending.append(self._executor.submit(fn, second))
        for item in it:
            if len(pending) >= window:
                yield pending.popleft().result()
            pending.append(self._executor.submit(fn, item))
        while pending:
            yield pending.popleft().result()


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Hold BLAS (and the LAPACK built on it) to one thread while the block runs.

    For many tiny fits (a model-selection grid) a threaded BLAS only wakes its
    threads: on a busy machine one 6 x 6 triangular solve then waits for
    milliseconds instead of taking microseconds.
    """
    controller = _controller()
    if controller is None:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with controller.limit(limits=1):
        yield


_END = object()
_CONTROLLER: list = []

# Idle thread pools, at most one per number of threads, kept between fits: starting threads
# costs a few milliseconds per fit on a busy machine. A pool is taken by one ChunkPool at a
# time (never shared, so a fit inside a worker thread cannot wait on its own pool), and the
# stash is dropped in a forked child, whose copies of the threads do not run.
_IDLE: dict[int, ThreadPoolExecutor] = {}
_IDLE_PID = [os.getpid()]
_IDLE_LOCK = threading.Lock()


def _idle_executor(n_jobs: int) -> ThreadPoolExecutor:
    """An idle pool of ``n_jobs`` threads from the stash, or a new one."""
    with _IDLE_LOCK:
        if _IDLE_PID[0] != os.getpid():
            _IDLE.clear()
            _IDLE_PID[0] = os.getpid()
        found = _IDLE.pop(n_jobs, None)
    return found or ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="emix")


def _retire_executor(n_jobs: int, executor: ThreadPoolExecutor) -> None:
    """Keep ``executor`` (its work done) for the next fit, or shut it down if one is kept."""
    with _IDLE_LOCK:
        keep = _IDLE_PID[0] == os.getpid() and n_jobs not in _IDLE
        if keep:
            _IDLE[n_jobs] = executor
    if not keep:
        executor.shutdown(wait=True)


def _controller():
    """One cached ``threadpoolctl.ThreadpoolController`` (finding the BLAS libraries costs ms)."""
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]
