"""Issue 15: one fused pass of the diag and full kernels, CPU time, one thread, to compare versions.

Usage::

    PYTHONPATH=. taskset -c 1 python benchmarks/bench_pass_cpu.py [--rows 100000] [--reps 30]
    PYTHONPATH=/path/to/other/checkout taskset -c 1 python benchmarks/bench_pass_cpu.py

``diag_fused_shifted`` and ``full_fused_all`` (E-step, normalisation and statistics) on
random float64 data, BLAS held to one thread, the best of ``--reps`` calls in the process's
CPU time (``time.process_time``: on this project's shared 2-core machine wall-clock times of
one version moved by 1.5x between runs, CPU time far less). Run it alternately on two
checkouts to compare them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from emix_bench.clock import best_of
from threadpoolctl import threadpool_limits

CASES = ((2, 3), (8, 16), (16, 8))


def _best(fn, reps):
    fn()  # compiled outside the timing
    return best_of(fn, reps, time.process_time)


def main(argv=None) -> None:
    from emix._kernels.numba_axis import diag_fused_shifted
    from emix._kernels.numba_prepared import full_fused_all

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    n, w, out = args.rows, np.empty(0), []
    with threadpool_limits(1):
        for d, k in CASES:
            X = rng.normal(size=(n, d))
            mu, p = rng.normal(size=(k, d)), rng.uniform(0.5, 2.0, size=(k, d))
            lw = np.log(np.full(k, 1 / k))
            const = lw + 0.5 * np.log(p).sum(1) - 0.5 * (p * mu * mu).sum(1)
            U = np.tile(np.eye(d), (k, 1, 1))

            zd = (np.zeros(k), np.zeros((k, d)), np.zeros((k, d)))
            zf = (np.zeros(k), np.zeros((k, d)), np.zeros((k, d, d)))
            diag_args = (X, w, np.zeros(d), p * mu, -0.5 * p, const, *zd, True)
            full_args = (X, w, lw, mu, U, mu, *zf, True)
            t_diag = _best(lambda a=diag_args: diag_fused_shifted(*a), args.reps)
            t_full = _best(lambda a=full_args: full_fused_all(*a), args.reps)
            out.append(f"{n // 1000}k x {d}, K={k}: diag {t_diag * 1e3:.2f} ms, full {t_full * 1e3:.2f} ms")
    print(" | ".join(out))


if __name__ == "__main__":
    main()
