"""Issue 15: the diagonal and spherical kernels, their loops against their BLAS path.

Usage::

    PYTHONPATH=. taskset -c 1 python benchmarks/bench_axis_kernels.py [--quick] [--reps 11]

One call of each kernel over 100k rows (all K log-densities, the normalisation and the
statistics: one E-step and its sums), on one thread (BLAS held to one thread), the best of
``--reps`` calls, the four variants alternating: ``diag_loops`` against the BLAS path
(``numba_axis_blas.axis_blas``, which ``diag_fused_shifted`` takes from
``AXIS_BLAS_MIN_FEATURES`` features on), and ``sph_loops`` against the spherical BLAS
path. The ratio is the loops' time over the BLAS path's. The last column is the larger
relative difference of the two paths' statistics (they sum in other orders).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from emix._kernels import numba_axis, numba_axis_blas

CASES = ((2, 3), (8, 16), (16, 3), (16, 8), (16, 16), (32, 16), (64, 16))
QUICK = ((16, 3), (32, 4))


def _problem(n, d, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    p = rng.uniform(0.5, 2.0, size=(k, d))
    mu = rng.normal(size=(k, d))
    const = (
        np.log(np.full(k, 1 / k))
        + 0.5 * np.log(p).sum(1)
        - 0.5 * (p * mu * mu).sum(1)
        - 0.5 * d * np.log(2 * np.pi)
    )
    return X, np.empty(0), np.zeros(d, dtype), (p * mu).astype(dtype), (-0.5 * p).astype(dtype), const


def _call(fn, args, sq):
    X, w, g, a, b, const = args
    k, d = a.shape
    nk, t1, t2 = np.zeros(k), np.zeros((k, d)), np.zeros((k, sq))
    fn(X, w, g, a, b, const, nk, t1, t2, True)
    return t1, t2


def _variants(args):
    b1 = np.ascontiguousarray(args[4][:, :1])
    wide = args[:4] + (b1, args[5])
    d = args[0].shape[1]
    return {
        "diag loops": (numba_axis.diag_loops, args, d),
        "diag BLAS": (numba_axis_blas.axis_blas, args, d),
        "sph loops": (numba_axis.sph_loops, args, d),
        "sph BLAS": (numba_axis_blas.axis_blas, wide, 1),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two small cases")
    ap.add_argument("--reps", type=int, default=11, help="calls per variant (the best is kept)")
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args(argv)
    print(
        f"threshold AXIS_BLAS_MIN_FEATURES = {numba_axis_blas.AXIS_BLAS_MIN_FEATURES}; {args.rows} rows, one thread"
    )
    print("| D | K | dtype | diag loops | diag BLAS | ratio | sph loops | sph BLAS | ratio | rel. diff |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with threadpool_limits(1):
        for d, k in QUICK if args.quick else CASES:
            for dtype in (np.float64, np.float32):
                problem = _problem(args.rows, d, k, dtype)
                variants = _variants(problem)
                out = {name: _call(*v) for name, v in variants.items()}  # compiles outside the timing
                best = dict.fromkeys(variants, np.inf)
                for _ in range(args.reps):
                    for name, (fn, a, sq) in variants.items():
                        t = time.perf_counter()
                        _call(fn, a, sq)
                        best[name] = min(best[name], time.perf_counter() - t)
                ref, got = out["diag loops"][0], out["diag BLAS"][0]
                rel = float(np.abs(got - ref).max() / np.abs(ref).max())
                ms = {name: f"{t * 1e3:.1f} ms" for name, t in best.items()}
                print(
                    f"| {d} | {k} | {np.dtype(dtype).name} | {ms['diag loops']} | {ms['diag BLAS']} | "
                    f"{best['diag loops'] / best['diag BLAS']:.2f}x | {ms['sph loops']} | {ms['sph BLAS']} | "
                    f"{best['sph loops'] / best['sph BLAS']:.2f}x | {rel:.1e} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
