"""The benchmark's clock: wall-clock by default, CPU time of the process with ``--cpu-time``.

On a loaded machine the wall-clock time of a fit measures the other jobs as much as the fit.
The CPU time the process spent (``time.process_time``, all its threads) is far less affected;
with ``--threads 1`` (BLAS, numba and emix's pool on one thread each) it is the work of one
thread, and the ratio of the two libraries' CPU times is a work ratio. It says nothing about
how either library uses several cores, nor about time spent waiting on memory shared with
other jobs (which still counts as CPU time and still varies with the load).
"""

from __future__ import annotations

import time

_STATE = {"now": time.perf_counter, "name": "wall-clock"}


def now() -> float:
    """Seconds on the chosen clock (only differences mean anything)."""
    return _STATE["now"]()


def use_cpu_time(flag: bool = True) -> None:
    """Time with the process's CPU time (``True``) or wall-clock (``False``, the default)."""
    _STATE["now"] = time.process_time if flag else time.perf_counter
    _STATE["name"] = "CPU time" if flag else "wall-clock"


def best_of(fn, reps: int, clock=time.perf_counter) -> float:
    """The least of ``reps`` timings of ``fn()`` on ``clock`` (wall-clock unless given), seconds."""
    best = float("inf")
    for _ in range(reps):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return best


def name() -> str:
    """``"CPU time"`` or ``"wall-clock"``."""
    return _STATE["name"]


#: --threads: BLAS (both libraries), numba and emix's n_jobs held to this many threads; None: their own
THREADS: list = [None]
