"""The diag/spherical fused kernel alone, one thread, CPU time: with and without the statistics.

Usage::

    PYTHONPATH=. python benchmarks/bench_diag_kernel.py

``diag_fused_shifted`` on random data (200k x 16, K=8 and 100k x 64, K=16; float64 and float32),
best of 5 calls each, ``moments=True`` (densities, log-sum-exp and statistics: an EM pass) and
``moments=False`` (the final pass: densities and log-sum-exp only).
"""

from __future__ import annotations

import time

import numpy as np


def main() -> None:
    from emix._kernels.numba_axis import diag_fused_shifted

    for n, d, k in ((200_000, 16, 8), (100_000, 64, 16)):
        for dt in (np.float64, np.float32):
            rng = np.random.default_rng(0)
            X = rng.normal(size=(n, d)).astype(dt)
            g = np.zeros(d, dt)
            a = (rng.normal(size=(k, d)) * 0.1).astype(dt)
            b = (-0.5 * rng.uniform(0.5, 2, size=(k, d))).astype(dt)
            const, w = rng.normal(size=k), np.empty(0)
            best = {}
            for moments in (True, False):
                times = []
                for _ in range(6):  # the first call may compile
                    nk, t1, t2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, d))
                    t = time.process_time()
                    diag_fused_shifted(X, w, g, a, b, const, nk, t1, t2, moments)
                    times.append(time.process_time() - t)
                best[moments] = min(times[1:])
            print(
                f"{n}x{d} K={k} {np.dtype(dt).name}: pass {best[True] * 1e3:.2f} ms,"
                f" without statistics {best[False] * 1e3:.2f} ms"
            )


if __name__ == "__main__":
    main()
