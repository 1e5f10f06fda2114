"""One EM iteration on a Dask cluster against the same iteration on in-process threads.

Usage::

    PYTHONPATH=. python benchmarks/bench_dask.py                 # 1M x 8, K=16, full: about a minute
    PYTHONPATH=. python benchmarks/bench_dask.py --rows 200000   # smaller
    PYTHONPATH=. python benchmarks/bench_dask.py --processes     # workers in their own processes

What is measured: ``GaussianMixture(16, covariance_type="full")`` from one
fixed start (``weights_init``, ``means_init``, ``precisions_init`` from a
k-means fit on a subsample), ``tol=0``, ``accelerate=False``, ``--iters``
iterations; the time of one iteration is the time between two consecutive
``progress`` reports of ``fit`` (one pass over the data and one M-step), the
median over the iterations and ``--repeats`` alternating repeats.

* **threads**: the in-memory array, emix's own thread pool (``n_jobs=None``:
  all cores);
* **dask**: the same rows as a Dask array of ``--blocks`` row blocks, persisted
  on a ``distributed.LocalCluster`` of ``--workers`` workers of one thread
  each (``processes=False`` by default: workers are threads of this process;
  ``--processes`` gives each its own process), through the default client, as
  a user's ``Client()`` would be; a pass is one call per worker to its
  resident runner, over the blocks it holds (``DaskSource.map_chunks``);
* **dask, a task per worker**: the same, each pass one task per worker
  through the scheduler, as in the previous round (before the resident
  runners of :mod:`emix.sources.dask_workers`);
* **dask, a task per block**: the same, with the pass made as in the first
  round (one task per block, the function scattered first).

Beside the wall time, the CPU time of one iteration: of this process (client,
scheduler, and thread workers) and of the worker processes (``--processes``),
read from ``/proc`` at every ``progress`` report, so that the work a variant
costs can be told from the time it waits for a core on a busy machine.

Both fits end with the same log-likelihood to rounding (printed). The machine
is described (cores, load average before and after) so that the numbers can
be read in their context.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np


def make_data(n: int, d: int, k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(k, d))
    z = rng.integers(0, k, n)
    return centres[z] + rng.normal(size=(n, d))


def start_params(X: np.ndarray, k: int) -> dict:
    """``*_init`` arguments from a short fit on a subsample (the same start for every run)."""
    import emix

    sub = X[np.random.default_rng(1).choice(len(X), 20_000, replace=False)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = emix.GaussianMixture(k, random_state=0, max_iter=3).fit(sub)
    return {"weights_init": m.weights_, "means_init": m.means_, "precisions_init": m.precisions_}


def cpu_seconds(pids: list[int]) -> float:
    """CPU time so far of the processes ``pids``, all their threads (``/proc/PID/task/*/schedstat``, ns)."""
    total = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):  # a thread that ended meanwhile
                pass
    return total * 1e-9


def per_iteration(X, k: int, iters: int, init: dict, pids: list[int] | None = None):
    """Wall and CPU seconds between consecutive iterations, and the final log-likelihood.

    CPU is that of this process and of the worker processes ``pids`` (the
    scheduler runs in this process), read at each ``progress`` report.
    """
    import emix

    pids = [os.getpid(), *(pids or [])]
    stamps: list[tuple[float, float]] = []
    model = emix.GaussianMixture(k, tol=0, max_iter=iters, accelerate=False, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, progress=lambda p: stamps.append((time.perf_counter(), cpu_seconds(pids))))
    wall, cpu = np.diff(np.asarray(stamps), axis=0).T
    return list(wall), list(cpu), float(model.log_likelihood_)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=8)
    ap.add_argument("--components", type=int, default=16)
    ap.add_argument("--iters", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--blocks", type=int, default=0, help="row blocks of the Dask array (default: 4 per worker)"
    )
    ap.add_argument("--processes", action="store_true")
    args = ap.parse_args(argv)

    import dask.array as da
    import distributed

    X = make_data(args.rows, args.features, args.components)
    k = args.components
    init = start_params(X, k)
    blocks = args.blocks or 4 * args.workers
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=args.processes, dashboard_address=None
        )
    names = ("threads", "dask", "task per worker", "per block")
    times: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    lls = {}
    loads = [os.getloadavg()[0]]
    try:
        for _ in range(args.repeats):
            t, c, lls["threads"] = per_iteration(X, k, args.iters, init)
            times["threads"] += t[1:]  # the first interval carries the warm-up
            cpus["threads"] += c[1:]
            with distributed.Client(cluster) as client:
                pids = list(client.run(os.getpid).values()) if args.processes else []
                dX = client.persist(da.from_array(X, chunks=(-(-args.rows // blocks), args.features)))
                distributed.wait(dX)
                for name, variant in (
                    ("dask", contextlib.nullcontext()),
                    ("task per worker", task_per_worker()),
                    ("per block", per_block_tasks()),
                ):
                    with variant:
                        t, c, lls[name] = per_iteration(dX, k, args.iters, init, pids)
                    times[name] += t[1:]
                    cpus[name] += c[1:]
            loads.append(os.getloadavg()[0])
    finally:
        cluster.close()
    med = {name: statistics.median(v) for name, v in times.items()}
    cpu = {name: statistics.median(v) for name, v in cpus.items()}
    where = "processes" if args.processes else "threads of this process"
    print(f"{args.rows} x {args.features}, K={k} full, {args.iters} iterations x {args.repeats} repeats")
    print(
        f"dask: {args.workers} workers ({where}), {blocks} blocks; per iteration, wall and CPU of all processes:"
    )
    for name in names:
        print(
            f"  {name:20s} {med[name] * 1e3:8.1f} ms (ratio {med[name] / med['threads']:.2f})   "
            f"CPU {cpu[name] * 1e3:8.1f} ms (ratio {cpu[name] / cpu['threads']:.2f})"
        )
    print("log-likelihood: " + ", ".join(f"{name} {ll:.12g}" for name, ll in lls.items()))
    print("load average (1 min) at the start and after each repeat: " + ", ".join(f"{v:.2f}" for v in loads))


@contextlib.contextmanager
def placement_every_pass():
    """Ask the scheduler where the blocks live on every pass (as before the placement was kept)."""
    from emix.sources.dask import DaskSource

    saved = DaskSource._placement

    def fresh(self, client, held, keys):
        self._placed = None
        return saved(self, client, held, keys)

    DaskSource._placement = fresh
    try:
        yield
    finally:
        DaskSource._placement = saved


@contextlib.contextmanager
def task_per_worker():
    """Make Dask passes as the previous round did: one task per worker, no resident runner."""
    from emix.sources.dask_workers import WorkerRunners

    saved = WorkerRunners.map
    WorkerRunners.map = lambda self, *args: None
    try:
        yield
    finally:
        WorkerRunners.map = saved


@contextlib.contextmanager
def per_block_tasks():
    """Make Dask passes the way they were made before: a task per block, the function scattered."""
    from emix.sources.dask import DaskSource

    saved = DaskSource._map_on_workers
    DaskSource._map_on_workers = lambda self, client, fn: None
    try:
        yield
    finally:
        DaskSource._map_on_workers = saved


if __name__ == "__main__":
    main()
