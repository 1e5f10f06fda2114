"""Streaming EM from a Parquet file: peak memory whatever N, rows per second, and the cost of streaming.

Usage::

    PYTHONPATH=. python benchmarks/bench_stream.py                  # 50M x 8 (3.2 GB in /tmp) and 5M x 8
    PYTHONPATH=. python benchmarks/bench_stream.py --rows 5000000   # a smaller large file
    PYTHONPATH=. python benchmarks/bench_stream.py --skip-large     # only the streaming-vs-memory part

What is measured:

* **peak memory**: a ``GaussianMixture(K, covariance_type="full")`` (``--components``, 16) is fitted
  to a Parquet file of ``--rows`` x 8 float64 rows (written once, in row
  groups of 1M rows, to ``--dir``, and deleted afterwards) by
  ``fit(ParquetSource(path))`` in a fresh process: a fixed start (the
  ``*_init`` arrays of a fit on a subsample, so no initialisation passes),
  ``tol=0``, ``accelerate=False``, ``--iters`` iterations. The process's peak
  resident memory (``VmHWM``) is read at the end; the same is done for a file
  a tenth the size, to show that it does not grow with N (``--no-read-ahead``:
  the same fits without the read-ahead thread).
* **rows per second**: rows of one pass over the time of one iteration (a pass
  and an M-step), the median over the iterations (the time between
  consecutive ``progress`` reports of ``fit``).
* **streaming against memory**: on ``--small-rows`` x 8 rows (one or more
  sizes), the same iteration from the array in memory, from the Parquet file,
  and from the file without the read-ahead thread (each chunk read when it is
  asked for, as before), alternating, ``--repeats`` times; wall time and the
  CPU time of all the process's threads (``/proc/self/task/*/schedstat``), so
  that the work streaming adds can be told from waiting for a core.

Free disk space is checked first (``shutil.disk_usage``); without room for the
file the large part is skipped, and the script says so. The machine's cores
and load average are printed with the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

D = 8
#: components (``--components``): 16 as in the other benchmarks' 1M x 8 case
K = 16
GROUP = 1_000_000


def centres() -> np.ndarray:
    return np.random.default_rng(7).normal(scale=5.0, size=(K, D))


def write_parquet(path: Path, rows: int, seed: int = 0) -> float:
    """Write ``rows`` x 8 float64 rows in row groups of 1M; return the seconds it took."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    c = centres()
    names = [f"x{j}" for j in range(D)]
    start = time.perf_counter()
    with pq.ParquetWriter(path, pa.schema([(n, pa.float64()) for n in names])) as writer:
        for first in range(0, rows, GROUP):
            m = min(GROUP, rows - first)
            X = c[rng.integers(0, K, m)] + rng.normal(size=(m, D))
            writer.write_table(pa.table({n: X[:, j] for j, n in enumerate(names)}), row_group_size=GROUP)
    return time.perf_counter() - start


def start_params() -> dict:
    """``*_init`` arguments from a short fit on a sample of the same mixture."""
    import emix

    rng = np.random.default_rng(3)
    X = centres()[rng.integers(0, K, 50_000)] + rng.normal(size=(50_000, D))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = emix.GaussianMixture(K, random_state=0, max_iter=5).fit(X)
    return {"weights_init": m.weights_, "means_init": m.means_, "precisions_init": m.precisions_}


def cpu_seconds() -> float:
    """CPU time so far of this process, all its threads (``/proc/self/task/*/schedstat``, ns)."""
    total = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):  # a thread that ended meanwhile
            pass
    return total * 1e-9


def iteration_times(X, iters: int, cpu: bool = False):
    """Seconds of each iteration after the first, and the final log-likelihood (and, with ``cpu``,
    the CPU seconds of each, all threads of this process)."""
    import emix

    stamps: list[tuple[float, float]] = []
    model = emix.GaussianMixture(K, tol=0, max_iter=iters, accelerate=False, **start_params())
    clock = cpu_seconds if cpu else lambda: 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, progress=lambda p: stamps.append((time.perf_counter(), clock())))
    wall, used = np.diff(np.asarray(stamps), axis=0).T
    if cpu:
        return list(wall), list(used), float(model.log_likelihood_)
    return list(wall), float(model.log_likelihood_)


@contextlib.contextmanager
def without_read_ahead():
    """File sources read each chunk when it is asked for, as before the read-ahead thread."""
    from emix.sources import files

    saved = files.read_ahead
    files.read_ahead = lambda items: items
    try:
        yield
    finally:
        files.read_ahead = saved


def peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return -1


def child(path: str, iters: int, read_ahead: bool = True) -> None:
    """In a fresh process: the streamed fit, then one JSON line with its numbers."""
    import emix

    source = emix.ParquetSource(path)
    start = time.perf_counter()
    with contextlib.nullcontext() if read_ahead else without_read_ahead():
        times, ll = iteration_times(source, iters)
    total = time.perf_counter() - start
    rows = source.n_samples
    med = statistics.median(times)
    out = {
        "rows": rows,
        "iteration_s": med,
        "rows_per_s": rows / med,
        "fit_s": total,
        "peak_rss": peak_rss_bytes(),
    }
    print(json.dumps(out | {"log_likelihood": ll}))


def measure_large(directory: Path, rows: int, iters: int, read_ahead: bool = True) -> dict | None:
    """Write the file, fit it in a child process, delete it; ``None`` when there is no room."""
    need = int(rows * D * 8 * 1.1) + (1 << 30)
    free = shutil.disk_usage(directory).free
    if free < need:
        print(
            f"{rows} rows: skipped, {free / 2**30:.1f} GiB free in {directory}, {need / 2**30:.1f} GiB needed"
        )
        return None
    path = Path(tempfile.mkdtemp(dir=directory)) / f"stream_{rows}.parquet"
    try:
        seconds = write_parquet(path, rows)
        size = path.stat().st_size
        print(f"{rows} rows: wrote {size / 1e9:.2f} GB in {seconds:.0f} s ({free / 2**30:.0f} GiB were free)")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONWARNINGS="ignore")
        res = subprocess.run(
            [sys.executable, __file__, "--child", str(path), "--iters", str(iters), "--components", str(K)]
            + ([] if read_ahead else ["--no-read-ahead"]),
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        got = json.loads(res.stdout.strip().splitlines()[-1])
        got["file_bytes"] = size
        print(
            f"  streamed: {got['iteration_s']:.2f} s per iteration, {got['rows_per_s'] / 1e6:.1f}M rows/s, "
            f"peak RSS {got['peak_rss'] / 2**20:.0f} MiB, whole fit {got['fit_s']:.0f} s"
        )
        return got
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def measure_small(directory: Path, rows: int, iters: int, repeats: int) -> dict:
    """The same iteration from memory, streamed from Parquet, and streamed without read-ahead, alternating."""
    import emix

    path = Path(tempfile.mkdtemp(dir=directory)) / "small.parquet"
    variants = ("memory", "stream", "stream, no read-ahead")
    times: dict[str, list[float]] = {v: [] for v in variants}
    cpus: dict[str, list[float]] = {v: [] for v in variants}
    loads = [os.getloadavg()[0]]
    try:
        write_parquet(path, rows, seed=1)
        X = _read_all(path)
        for _ in range(repeats):
            for name in variants:
                data = X if name == "memory" else emix.ParquetSource(path)
                with without_read_ahead() if name.endswith("no read-ahead") else contextlib.nullcontext():
                    wall, used, _ = iteration_times(data, iters, cpu=True)
                times[name] += wall
                cpus[name] += used
            loads.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    print(
        f"{rows} rows, {repeats} repeats x {iters - 1} iterations; per iteration, wall and CPU (all threads):"
    )
    for name in variants:
        print(
            f"  {name:22s} {med[name] * 1e3:7.0f} ms (ratio {med[name] / med['memory']:.2f})   "
            f"CPU {cpu[name] * 1e3:7.0f} ms (ratio {cpu[name] / cpu['memory']:.2f})"
        )
    print(
        "  load average (1 min) at the start and after each repeat: " + ", ".join(f"{v:.2f}" for v in loads)
    )
    return {"wall": med, "cpu": cpu, "ratio": med["stream"] / med["memory"]}


def _read_all(path: Path) -> np.ndarray:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return np.column_stack([table.column(i).to_numpy() for i in range(table.num_columns)])


def main(argv: list[str] | None = None) -> None:
    global K
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--small-rows", type=int, nargs="+", default=[2_000_000])
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--components", type=int, default=K)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument(
        "--no-read-ahead", action="store_true", help="the large fits without the read-ahead thread"
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    K = args.components
    if args.child:
        child(args.child, args.iters, not args.no_read_ahead)
        return
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start; K={K}")
    if not args.skip_large:
        for rows in (args.rows // 10, args.rows):
            measure_large(args.dir, rows, args.iters, not args.no_read_ahead)
    for rows in args.small_rows:
        measure_small(args.dir, rows, max(args.iters, 5), args.repeats)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
