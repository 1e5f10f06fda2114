"""Issue 15: the whole cost of a small fit, and its fixed part, from scikit-learn's start.

Usage::

    PYTHONPATH=. taskset -c 1 python benchmarks/bench_fit_cost.py

For Old Faithful and iris (K=3, tied and full), both libraries from scikit-learn's
``fit(max_iter=1, random_state=0)``: emix's ``fit`` with its defaults (but ``max_iter=100_000``, as in the time to the optimum) and with
``max_iter=0`` (validation, the start, the final pass, the fitted attributes and the
diagnostics: everything but the iterations), ``n_jobs=1``, BLAS and numba on one thread;
best of 300 fits each, wall clock (pin the process to one core, ``taskset``, for stable
numbers). Run it with ``PYTHONPATH`` on another checkout to compare two versions.
"""

from __future__ import annotations

import os
import warnings

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from emix_bench.clock import best_of  # noqa: E402
from sklearn.mixture import GaussianMixture as SkGM  # noqa: E402

import emix  # noqa: E402
from emix.datasets import load_faithful, load_iris  # noqa: E402

REPS = 300


def _best(fn, reps=REPS):
    return best_of(fn, reps)


def main() -> None:
    warnings.simplefilter("ignore")
    print(f"emix from {os.path.dirname(emix.__file__)}")
    print("| data | cov | passes | fit | fit(max_iter=0) | per pass |")
    print("|---|---|---|---|---|---|")
    for name, X in (("Old Faithful", load_faithful()), ("iris", load_iris())):
        X = np.asarray(X, dtype=np.float64)
        for cov in ("tied", "full"):
            seed = SkGM(3, covariance_type=cov, max_iter=1, random_state=0).fit(X)
            init = {
                "weights_init": seed.weights_,
                "means_init": seed.means_,
                "precisions_init": seed.precisions_,
            }

            def fit(max_iter=100_000, cov=cov, init=init, X=X):
                return emix.GaussianMixture(3, covariance_type=cov, max_iter=max_iter, n_jobs=1, **init).fit(
                    X
                )

            passes = fit().n_iter_
            whole, fixed = _best(fit), _best(lambda fit=fit: fit(0))
            per = (whole - fixed) / passes
            print(
                f"| {name} | {cov} | {passes} | {whole * 1e6:.0f} us | {fixed * 1e6:.0f} us | {per * 1e6:.1f} us |"
            )


if __name__ == "__main__":
    main()
