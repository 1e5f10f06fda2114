"""Issue 15: the cost of one EM iteration on small data, one thread, CPU time.

Usage::

    PYTHONPATH=. python benchmarks/bench_small.py 2000 2 3 full,diag
    PYTHONPATH=. python benchmarks/bench_small.py faithful 2 full,tied     # a bundled data set, K=2

For each covariance type, fits from the benchmark's same start (``emix_bench.cases``; a
bundled data set: perturbed k-means-like centres from ``emix_bench.cases.start_params`` on
the rows' quantiles), ``tol=0``, no acceleration, ``n_jobs=1``, BLAS and numba on one thread:
per iteration ``(fit(405) - fit(5)) / 400`` in the CPU time of the process, best of 5 each, for

* ``python``: the defaults' steps (``reg_covar=1e-6``) in the Python driver (the compiled
  loop switched off, as before issue 15);
* ``compiled``: the same fit in the compiled EM loop (``reg_covar=1e-6``);
* ``compiled, reg 0``: ``reg_covar=0`` (the exact M-step's loop, mclust's checks);
* ``arithmetic``: the compiled loop's E-step kernel (the pass's arithmetic: densities,
  log-sum-exp, statistics), called 2000 times in one compiled loop, best of 5.

The machine is shared with other work: CPU time on one thread is the fairer measure.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def _data(argv):
    from emix_bench.cases import make_data

    import emix

    if argv[0].isdigit():
        n, d, k = int(argv[0]), int(argv[1]), int(argv[2])
        X, centres = make_data(n, d, k, np.float64)
        return f"{n}x{d}", X, centres, k, argv[3]
    X = np.asarray(getattr(emix.datasets, f"load_{argv[0]}")(), dtype=np.float64)
    k = int(argv[1])
    centres = np.quantile(X, (np.arange(k) + 0.5) / k, axis=0)
    return f"{argv[0]} {X.shape[0]}x{X.shape[1]}", X, centres, k, argv[2]


def _arithmetic(X, gm) -> float:
    """Seconds per E-step of the compiled loop at ``gm``'s parameters: its kernel called 2000
    times inside one compiled loop (no Python between the calls), best of 5."""
    import numba as nb

    from emix import _kernels

    k, d = gm.means_.shape
    means, weights = np.ascontiguousarray(gm.means_), np.ascontiguousarray(gm.weights_)
    w = _kernels.weights_arg(None)
    nk, s1 = np.zeros(k), np.zeros((k, d))
    if gm.covariance_type in ("full", "tied"):
        e_step = _kernels.em_full_kernels()._e_step
        U = np.ascontiguousarray(np.broadcast_to(gm.precisions_cholesky_, (k, d, d)))
        args = (X, w, weights, means, U, nk, s1, np.zeros((k, d, d)))
    else:
        e_step = _kernels.em_kernels()._e_step
        pc = gm.precisions_cholesky_
        var = np.ascontiguousarray(np.broadcast_to((1.0 / pc**2).reshape(k, -1), (k, d)))
        args = (X, w, weights, means, var, nk, s1, np.zeros((k, d)), np.empty(k))

    @nb.njit
    def repeat(r, args):
        total = 0.0
        for _ in range(r):
            total += e_step(*args)
        return total

    repeat(1, args)
    best = np.inf
    for _ in range(5):
        t = time.process_time()
        repeat(2000, args)
        best = min(best, (time.process_time() - t) / 2000)
    return best


def main(argv: list[str]) -> None:
    from emix_bench.cases import start_params
    from threadpoolctl import threadpool_limits

    from emix import GaussianMixture
    from emix.engine import driver

    try:
        import numba

        numba.set_num_threads(1)
    except ImportError:  # pragma: no cover - numba is in the bench extra
        pass
    warnings.simplefilter("ignore")
    threadpool_limits(1)
    label, X, centres, k, covs = _data(argv)
    compiled_run = driver._compiled_run
    for cov in covs.split(","):
        init = start_params(X, centres, k, cov)
        for name, reg, compiled in (
            ("python", 1e-6, False),
            ("compiled", 1e-6, True),
            ("compiled, reg 0", 0.0, True),
        ):

            def fit(it, cov=cov, init=init, reg=reg, compiled=compiled):
                gm = GaussianMixture(
                    k,
                    covariance_type=cov,
                    tol=0,
                    max_iter=it,
                    accelerate=False,
                    n_jobs=1,
                    reg_covar=reg,
                    **init,
                )
                driver._compiled_run = compiled_run if compiled else (lambda *a, **kw: None)
                try:
                    t = time.process_time()
                    gm.fit(X)
                    return time.process_time() - t, gm
                finally:
                    driver._compiled_run = compiled_run

            fit(2)
            short = min(fit(5)[0] for _ in range(5))
            long = min(fit(405)[0] for _ in range(5))
            print(f"{label} K={k} {cov} {name}: per iteration {(long - short) / 400 * 1e6:.1f} us")
        gm = fit(45)[1]
        print(f"{label} K={k} {cov} arithmetic: one E-step kernel call {_arithmetic(X, gm) * 1e6:.1f} us")


if __name__ == "__main__":
    main(sys.argv[1:])
