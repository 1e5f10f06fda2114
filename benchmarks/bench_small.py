"""Issue 15: the cost of one EM iteration on small data, one thread, CPU time.

Usage::

    PYTHONPATH=. python benchmarks/bench_small.py 2000 2 3 full,diag

For each covariance type, fits from the benchmark's same start (``emix_bench.cases``),
``tol=0``, no acceleration, ``n_jobs=1``, BLAS on one thread: per iteration ``(fit(45) -
fit(5)) / 40`` in the CPU time of the process, best of 5 each, with scikit-learn's
``reg_covar=1e-6`` (the Python driver) and with ``reg_covar=0`` (the compiled EM loop).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def main(argv: list[str]) -> None:
    from emix_bench.cases import make_data, start_params
    from threadpoolctl import threadpool_limits

    from emix import GaussianMixture

    warnings.simplefilter("ignore")
    threadpool_limits(1)
    n, d, k = int(argv[0]), int(argv[1]), int(argv[2])
    X, centres = make_data(n, d, k, np.float64)
    for cov in argv[3].split(","):
        init = start_params(X, centres, k, cov)
        for reg in (1e-6, 0.0):

            def fit(it, cov=cov, init=init, reg=reg):
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
                t = time.process_time()
                gm.fit(X)
                return time.process_time() - t

            fit(2)
            short = min(fit(5) for _ in range(5))
            long = min(fit(45) for _ in range(5))
            print(f"{n}x{d} K={k} {cov} reg_covar={reg}: per iteration {(long - short) / 40 * 1e6:.1f} us")


if __name__ == "__main__":
    main(sys.argv[1:])
