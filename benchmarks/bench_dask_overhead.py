"""What a Dask pass costs besides the work: an empty pass, and the CPU an idle cluster uses.

Usage::

    PYTHONPATH=. python benchmarks/bench_dask_overhead.py              # 2 worker processes
    PYTHONPATH=. python benchmarks/bench_dask_overhead.py --threads    # workers as threads of this process
    PYTHONPATH=. python benchmarks/bench_dask_overhead.py --quiet      # the cluster's timers less often

What is measured, on a ``distributed.LocalCluster`` of ``--workers`` workers of
one thread each, 1M x 8 rows persisted in 8 blocks:

* **an empty pass**: ``DaskSource.map_chunks`` of a function that returns at
  once, ``--repeats`` times, as the EM passes make it (a call to each
  worker's resident runner), as the previous round made it (one task per
  worker, where the blocks live kept from the first pass), and as the round
  before (a task per worker, the scheduler asked where the blocks live on
  every pass); median and minimum wall time;
* **an idle cluster**: the CPU time (``/proc/PID/task/*/schedstat``) used in 5
  seconds of doing nothing by this process (client, scheduler and nannies)
  and by the worker processes: heartbeats, the event loops' ticks, the
  memory and system monitors. It is spent whatever a pass does, so a pass
  that takes longer (on a busy machine) pays more of it. ``--quiet`` makes the
  cluster with its timers less frequent (:data:`QUIET`), to show how much of
  it they are.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dask import cpu_seconds, placement_every_pass, task_per_worker  # noqa: E402

#: Dask settings for ``--quiet``: the event loops' tick and the monitors less often than by default.
QUIET = {
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def empty(X, w, offset):
    return offset


@contextlib.contextmanager
def _both(a, b):
    with a(), b():
        yield


def main(argv: list[str] | None = None) -> None:
    import dask
    import dask.array as da
    import distributed

    from emix.sources import DaskSource

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", action="store_true", help="workers as threads of this process")
    ap.add_argument("--quiet", action="store_true", help="the cluster's timers less often (QUIET)")
    args = ap.parse_args(argv)
    if args.quiet:
        dask.config.set(QUIET)
    X = np.random.default_rng(0).normal(size=(1_000_000, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=not args.threads,
            dashboard_address=None,
        )
    print(
        f"machine: {os.cpu_count()} cores; {args.workers} workers, {'threads' if args.threads else 'processes'}"
    )
    try:
        with distributed.Client(cluster) as client:
            dX = client.persist(da.from_array(X, chunks=(125_000, 8)))
            distributed.wait(dX)
            source = DaskSource(dX)
            for _ in range(args.rounds):
                out = []
                for name, variant in (
                    ("runners", contextlib.nullcontext),
                    ("task per worker", task_per_worker),
                    (
                        "task per worker, who_has every pass",
                        lambda: _both(task_per_worker, placement_every_pass),
                    ),
                ):
                    times = []
                    with variant():
                        for _ in range(args.repeats):
                            start = time.perf_counter()
                            list(source.map_chunks(empty))
                            times.append(time.perf_counter() - start)
                    out.append(f"{name} {statistics.median(times) * 1e3:.1f} ms (min {min(times) * 1e3:.1f})")
                print(f"load {os.getloadavg()[0]:.2f}: empty pass: " + "; ".join(out))
            workers = [] if args.threads else list(client.run(os.getpid).values())
            time.sleep(2)
            before = cpu_seconds([os.getpid()]), cpu_seconds(workers)
            time.sleep(5)
            after = cpu_seconds([os.getpid()]), cpu_seconds(workers)
            here, there = ((b - a) / 5 * 1e3 for a, b in zip(before, after, strict=True))
            print(
                f"load {os.getloadavg()[0]:.2f}: idle cluster, CPU ms per second: this process {here:.1f}, "
                f"the worker processes {there:.1f}"
            )
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
